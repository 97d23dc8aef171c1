//! cpio archives in the SVR4 "newc" (`070701`) and "crc" (`070702`) formats, the ones the Linux
//! kernel unpacks as an initramfs (`Documentation/driver-api/early-userspace/buffer-format.rst`).
//!
//! Read from a [`BufRead`] so a decompressed initramfs is walked as it inflates, without holding
//! it: an entry's data is read only when the caller asks for it ([`Archive::data`], capped),
//! otherwise skipped. Written by hand: the `cpio_reader` crate needs the whole archive in one
//! slice (a decompressed initramfs would have to be held), and its iterator ends silently on a
//! truncated or damaged entry or a name that is not UTF-8, so damage looks like the end of the
//! archive; the `cpio` crate reads from a `Read` but its errors carry no offset, it requires
//! UTF-8 names, and it does not skip the zero padding between dracut's concatenated archives.
//! The format is 110 bytes of ASCII hex fields, a name, and data, each padded to 4 bytes.

use crate::error::{Error, Result};
use crate::guest::EntryKind;
use std::io::{BufRead, ErrorKind as IoKind};

/// "newc": ASCII hex fields, no checksum. Defined by the format.
pub const MAGIC_NEWC: &[u8; 6] = b"070701";
/// "crc": as newc, with `c_check` the sum of the data bytes.
pub const MAGIC_CRC: &[u8; 6] = b"070702";
/// The fixed header: the 6-byte magic and 13 fields of 8 hex digits.
pub const HEADER_LEN: usize = 110;
/// Longest name accepted, terminating NUL included: the kernel's `PATH_MAX`, which it refuses
/// to go beyond when unpacking (`init/initramfs.c`).
pub const MAX_NAME: u32 = 4096;
/// The name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";

/// One entry's header (the fields inspection uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `c_name` without its NUL, as written (often without a leading `/`, e.g.
    /// `usr/lib/modules/…/virtio_blk.ko.xz`); bytes that are not UTF-8 are replaced.
    pub name: String,
    /// `c_mode`: file type and permission bits, as in `st_mode`.
    pub mode: u32,
    /// `c_filesize`: bytes of data after the name.
    pub size: u32,
    /// `c_check`: for "crc" archives, the sum of the data bytes modulo 2^32; 0 otherwise.
    pub check: u32,
    /// Offset of the header in the stream the archive was read from.
    pub offset: u64,
}

impl Header {
    /// The file type, from the `S_IFMT` bits of the mode.
    pub fn kind(&self) -> EntryKind {
        match self.mode & 0o170_000 {
            0o100_000 => EntryKind::File,
            0o040_000 => EntryKind::Dir,
            0o120_000 => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }
}

/// One archive read from `r`, entry by entry, up to and including its trailer.
pub struct Archive<'a, R: BufRead> {
    r: &'a mut R,
    /// The file named in errors (the initramfs, with the compression layer in the message).
    file: &'a str,
    /// Offset in the stream of the next byte `r` gives.
    pos: u64,
    /// The current entry, while its data has not been read or skipped.
    current: Option<(Header, bool)>,
    done: bool,
}

impl<'a, R: BufRead> Archive<'a, R> {
    /// An archive whose first header starts at `r`'s next byte, which is at `offset` in the
    /// stream (for error offsets).
    pub fn new(r: &'a mut R, file: &'a str, offset: u64) -> Self {
        Archive { r, file, pos: offset, current: None, done: false }
    }

    /// Offset in the stream of the next unread byte: after the trailer once [`Archive::next_entry`]
    /// returned `None`.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next entry's header, skipping the data of the current one; `None` after the trailer.
    pub fn next_entry(&mut self) -> Result<Option<Header>> {
        if self.done {
            return Ok(None);
        }
        if let Some((h, crc)) = self.current.take() {
            self.take(&h, crc, false)?;
        }
        let offset = self.pos;
        let mut raw = [0u8; HEADER_LEN];
        self.read_exact(&mut raw, offset, "the cpio header")?;
        let crc = match &raw[..6] {
            m if m == MAGIC_NEWC => false,
            m if m == MAGIC_CRC => true,
            b"070707" => {
                return Err(Error::unsupported(
                    self.file,
                    Some(offset),
                    "old portable cpio (odc) archive: the kernel reads only newc",
                ))
            }
            _ => return Err(Error::corrupt(self.file, offset, "no cpio magic (070701 or 070702)")),
        };
        let field = |i: usize| -> Result<u32> {
            let at = 6 + 8 * i;
            std::str::from_utf8(&raw[at..at + 8])
                .ok()
                .and_then(|s| u32::from_str_radix(s, 16).ok())
                .ok_or_else(|| Error::corrupt(self.file, offset + at as u64, "cpio header field is not 8 hex digits"))
        };
        let (mode, size, namesize, check) = (field(1)?, field(6)?, field(11)?, field(12)?);
        if namesize == 0 || namesize > MAX_NAME {
            return Err(Error::corrupt(
                self.file,
                offset + 94,
                format!("cpio name size {namesize} is outside 1..={MAX_NAME}"),
            ));
        }
        // Header and name together are padded to a multiple of 4.
        let name_len = padded(HEADER_LEN as u64 + namesize as u64) - HEADER_LEN as u64;
        let mut name = vec![0u8; name_len as usize];
        self.read_exact(&mut name, offset, "the cpio entry name")?;
        let name = &name[..namesize as usize];
        if name.last() != Some(&0) {
            return Err(Error::corrupt(self.file, offset + HEADER_LEN as u64, "cpio entry name is not NUL-terminated"));
        }
        let name = String::from_utf8_lossy(&name[..name.len() - 1]).into_owned();
        if name == TRAILER {
            self.done = true;
            return Ok(None);
        }
        let h = Header { name, mode, size, check, offset };
        self.current = Some((h.clone(), crc));
        Ok(Some(h))
    }

    /// The current entry's data, when it is at most `cap` bytes (an error of kind `TooLarge`
    /// otherwise); each entry's data can be read once.
    pub fn data(&mut self, cap: usize) -> Result<Vec<u8>> {
        let Some((h, crc)) = self.current.take() else {
            return Err(Error::invalid("cpio: no current entry to read"));
        };
        if h.size as u64 > cap as u64 {
            let (size, limit) = (h.size as u64, cap as u64);
            let msg = format!("'{}' is {size} bytes, more than the {limit} read for it", h.name);
            let e = Error::over_limit(self.file, Some(h.offset), size, limit, msg);
            // Left to be skipped by `next_entry`, so the archive can go on.
            self.current = Some((h, crc));
            return Err(e);
        }
        self.take(&h, crc, true)
    }

    /// Reads past the entry's data and padding, keeping the data when asked. A "crc" entry's
    /// sum is checked even when its data is skipped, so damage is reported where it is.
    fn take(&mut self, h: &Header, crc: bool, keep: bool) -> Result<Vec<u8>> {
        // The data is known to be in the stream only as it is read: grow as it comes, so a
        // header claiming 4 GiB over a short stream costs no more than the stream.
        let mut data = Vec::new();
        let mut sum = 0u32;
        let mut left = h.size as u64;
        while left > 0 {
            let buf = self.fill(h.offset, "the cpio entry data")?;
            let n = buf.len().min(left as usize);
            if crc {
                sum = buf[..n].iter().fold(sum, |s, &b| s.wrapping_add(b as u32));
            }
            if keep {
                data.extend_from_slice(&buf[..n]);
            }
            self.consume(n);
            left -= n as u64;
        }
        self.skip(padded(h.size as u64) - h.size as u64, h)?;
        if crc && h.kind() == EntryKind::File && sum != h.check {
            let msg = format!("'{}': data sum {sum:#x} is not the header's check {:#x}", h.name, h.check);
            return Err(Error::corrupt(self.file, h.offset, msg));
        }
        Ok(data)
    }

    fn skip(&mut self, mut n: u64, h: &Header) -> Result<()> {
        while n > 0 {
            let got = self.fill(h.offset, "the cpio entry data")?.len().min(n as usize);
            self.consume(got);
            n -= got as u64;
        }
        Ok(())
    }

    /// The stream's next bytes (never empty: the end of the stream is an error here).
    fn fill(&mut self, at: u64, what: &str) -> Result<&[u8]> {
        let pos = self.pos;
        match self.r.fill_buf() {
            Ok([]) => Err(Error::truncated(self.file, at, pos + 1, pos, format!("the stream ends in {what}"))),
            Ok(buf) => Ok(buf),
            Err(e) => Err(stream_error(self.file, pos, e)),
        }
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.pos += n as u64;
    }

    fn read_exact(&mut self, out: &mut [u8], at: u64, what: &str) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            let buf = self.fill(at, what)?;
            let n = buf.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&buf[..n]);
            self.consume(n);
            done += n;
        }
        Ok(())
    }
}

/// `n` rounded up to a multiple of 4, the format's alignment.
fn padded(n: u64) -> u64 {
    n.div_ceil(4) * 4
}

/// An error from the stream under the archive (a decompressor's), with the offset reached.
/// A decompressor reports a cap it hit as the [`Error`] it was given (see
/// `initramfs::Capped`); anything else is damage in the compressed data.
pub fn stream_error(file: &str, pos: u64, e: std::io::Error) -> Error {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        return inner.clone();
    }
    match e.kind() {
        IoKind::UnexpectedEof => Error::truncated(file, pos, pos + 1, pos, "the compressed stream ends early"),
        _ => Error::corrupt(file, pos, format!("damaged compressed data: {e}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// One newc entry (header, name, data, each padded), for tests of every layer above.
    pub(crate) fn entry(name: &str, mode: u32, data: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "070701{:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            1,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        )
        .into_bytes();
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(padded(out.len() as u64) as usize, 0);
        out.extend_from_slice(data);
        out.resize(padded(out.len() as u64) as usize, 0);
        out
    }

    /// A whole newc archive of regular files, with its trailer.
    pub(crate) fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out: Vec<u8> = files.iter().flat_map(|(n, d)| entry(n, 0o100_644, d)).collect();
        out.extend(entry(TRAILER, 0, b""));
        out
    }

    fn names(data: &[u8]) -> Result<Vec<(String, EntryKind, Vec<u8>)>> {
        let mut r = data;
        let mut a = Archive::new(&mut r, "t.img", 0);
        let mut out = Vec::new();
        while let Some(h) = a.next_entry()? {
            let d = a.data(1 << 20)?;
            out.push((h.name.clone(), h.kind(), d));
        }
        Ok(out)
    }

    #[test]
    fn reads_entries_kinds_and_data_to_the_trailer() {
        let mut data = entry("usr", 0o040_755, b"");
        data.extend(entry("usr/lib/a.ko", 0o100_644, b"abcde"));
        data.extend(entry("lib", 0o120_777, b"usr/lib"));
        data.extend(entry(TRAILER, 0, b""));
        let end = data.len() as u64;
        data.extend_from_slice(b"after");
        let got = names(&data).unwrap();
        assert_eq!(
            got,
            vec![
                ("usr".into(), EntryKind::Dir, vec![]),
                ("usr/lib/a.ko".into(), EntryKind::File, b"abcde".to_vec()),
                ("lib".into(), EntryKind::Symlink, b"usr/lib".to_vec()),
            ]
        );
        let mut r = &data[..];
        let mut a = Archive::new(&mut r, "t.img", 0);
        while a.next_entry().unwrap().is_some() {}
        assert_eq!(a.position(), end);
        assert_eq!(r, b"after");
    }

    #[test]
    fn crc_format_checks_the_data_sum() {
        let mut e = entry("f", 0o100_644, b"\x01\x02\x03");
        e[..6].copy_from_slice(MAGIC_CRC);
        e[102..110].copy_from_slice(b"00000006");
        let mut good = e.clone();
        good.extend(entry(TRAILER, 0, b""));
        assert_eq!(names(&good).unwrap()[0].2, b"\x01\x02\x03");
        e[102..110].copy_from_slice(b"00000007");
        e.extend(entry(TRAILER, 0, b""));
        let err = names(&e).unwrap_err();
        assert_eq!((err.kind, err.offset), (ErrorKind::Corrupt, Some(0)), "{err}");
        // Skipped data is checked too.
        let mut r = &e[..];
        let mut a = Archive::new(&mut r, "t.img", 0);
        a.next_entry().unwrap();
        assert_eq!(a.next_entry().unwrap_err().kind, ErrorKind::Corrupt);
    }

    #[test]
    fn hostile_headers_are_errors_with_offsets() {
        let ok = entry("a", 0o100_644, b"x");
        // Truncated in the header, in the name and in the data.
        for cut in [50, 111, 112, 113] {
            let err = names(&ok[..cut]).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Truncated, "cut {cut}: {err}");
        }
        // A file claiming 4 GiB - 1 in a short archive: truncated, not an allocation.
        let mut big = entry("big", 0o100_644, b"");
        big[54..62].copy_from_slice(b"ffffffff");
        let mut r = &big[..];
        let mut a = Archive::new(&mut r, "t.img", 0);
        a.next_entry().unwrap();
        assert_eq!(a.data(usize::MAX).unwrap_err().kind, ErrorKind::Truncated);
        assert_eq!(names(&big).unwrap_err().kind, ErrorKind::TooLarge);
        // Name size 0, too long, not hex; no magic; odc.
        let mut bad = ok.clone();
        bad[94..102].copy_from_slice(b"00000000");
        assert_eq!(names(&bad).unwrap_err().offset, Some(94));
        bad[94..102].copy_from_slice(b"00100000");
        assert_eq!(names(&bad).unwrap_err().kind, ErrorKind::Corrupt);
        bad[94..102].copy_from_slice(b"0000000g");
        assert_eq!(names(&bad).unwrap_err().offset, Some(94));
        let mut second = entry("a", 0o100_644, b"");
        let at = second.len() as u64;
        second.extend_from_slice(&[b'x'; 200]);
        assert_eq!(names(&second).unwrap_err().offset, Some(at));
        let mut odc = ok.clone();
        odc[..6].copy_from_slice(b"070707");
        assert_eq!(names(&odc).unwrap_err().kind, ErrorKind::Unsupported);
        // A name without its NUL.
        let mut nonul = ok;
        nonul[111] = b'b';
        assert_eq!(names(&nonul).unwrap_err().offset, Some(110));
    }
}
