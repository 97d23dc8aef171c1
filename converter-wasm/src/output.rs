//! The output stream as the assembler writes it: where it is, the SHA-512 of what was written,
//! and the check that must pass before its last byte. The per-format writers (`raw`,
//! `qcow2::writer`) write through a [`Writer`]; the assembler (`convert`) owns the [`Output`].

use crate::error::Result;
use crate::manifest::DiskCheck;
use sha2::{Digest, Sha512};

/// Zeros written from here, a piece at a time.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// What the assembler keeps about its output between calls.
pub struct Output {
    /// Bytes written so far.
    pub pos: u64,
    /// Planned total length, once known: the check runs before the write that reaches it.
    pub len: Option<u64>,
    /// SHA-512 of the bytes written, unless the caller hashes the output itself.
    pub sha: Option<Sha512>,
    /// Run just before the last bytes are written (the disk's manifest check): if it fails,
    /// the output stays incomplete, so an upload in progress is never finished.
    pub before_last: Option<DiskCheck>,
}

impl Output {
    pub fn new(len: Option<u64>, before_last: Option<DiskCheck>) -> Self {
        Output { pos: 0, len, sha: Some(Sha512::new()), before_last }
    }

    /// A writer passing bytes on to `sink` (the shell's: a file, an upload, a worker).
    pub fn writer<'a>(&'a mut self, sink: &'a mut dyn FnMut(&[u8]) -> Result<()>) -> Writer<'a> {
        Writer { out: self, sink }
    }
}

/// The output during one call of the assembler.
pub struct Writer<'a> {
    out: &'a mut Output,
    sink: &'a mut dyn FnMut(&[u8]) -> Result<()>,
}

impl Writer<'_> {
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let out = &mut *self.out;
        if Some(out.pos + bytes.len() as u64) == out.len {
            if let Some(check) = out.before_last.take() {
                check.finish()?;
            }
        }
        if let Some(sha) = out.sha.as_mut() {
            sha.update(bytes);
        }
        (self.sink)(bytes)?;
        out.pos += bytes.len() as u64;
        Ok(())
    }

    pub fn zeros(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let k = n.min(ZEROS.len() as u64) as usize;
            self.write(&ZEROS[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn pos(&self) -> u64 {
        self.out.pos
    }
}

/// Output gathered into writes of about `cap` bytes at known offsets, with all-zero pieces of
/// at least [`HOLE_MIN`] bytes left out as holes: for sinks that write at an offset and are
/// much faster with few large writes (the page's output file and upload). The sink sets the
/// final length, so holes read back as zeros.
pub struct Chunker {
    buf: Vec<u8>,
    /// Output offset of `buf`'s first byte.
    at: u64,
    cap: usize,
}

/// All-zero pieces at least this long become holes.
pub const HOLE_MIN: usize = 4096;

impl Chunker {
    pub fn new(cap: usize) -> Self {
        Chunker { buf: Vec::new(), at: 0, cap }
    }

    /// Take the next output bytes, passing full chunks to `write(bytes, offset)`.
    pub fn push(&mut self, b: &[u8], write: &mut dyn FnMut(&[u8], u64) -> Result<()>) -> Result<()> {
        if b.len() >= HOLE_MIN && crate::digest::is_zero(b) {
            self.flush(write)?;
            self.at += b.len() as u64;
            return Ok(());
        }
        if self.buf.len() + b.len() > self.cap {
            self.flush(write)?;
        }
        if self.buf.capacity() < self.cap {
            self.buf.reserve_exact(self.cap - self.buf.len());
        }
        self.buf.extend_from_slice(b);
        if self.buf.len() >= self.cap {
            self.flush(write)?;
        }
        Ok(())
    }

    /// Pass on what is gathered (at the end of the output).
    pub fn flush(&mut self, write: &mut dyn FnMut(&[u8], u64) -> Result<()>) -> Result<()> {
        if !self.buf.is_empty() {
            write(&self.buf, self.at)?;
            self.at += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::manifest::{Manifest, Verifier};
    use crate::source::MemSource;

    #[test]
    fn the_check_runs_before_the_last_bytes() {
        let m = Manifest::parse("p.mf", format!("SHA256(d.vmdk)= {}\n", "00".repeat(32)).as_bytes()).unwrap();
        let mut v = Verifier::new(&m);
        let src = v.wrap(MemSource::new("d.vmdk", vec![1; 10]), m.find("d.vmdk").unwrap());
        v.note_use(&src, 0);
        let mut out = Output::new(Some(100_000), v.disk_checks(1).pop());
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| {
            got.extend_from_slice(b);
            Ok(())
        };
        let mut w = out.writer(&mut sink);
        w.write(b"head").unwrap();
        w.zeros(99_000).unwrap();
        let e = w.zeros(996).unwrap_err();
        assert_eq!((e.kind, e.file.as_str()), (ErrorKind::Checksum, "d.vmdk"));
        assert_eq!(w.pos(), 99_004);
        assert_eq!(got.len(), 99_004, "the last bytes are not written");
    }
    #[test]
    fn chunks_are_large_and_zero_runs_holes() {
        let mut c = Chunker::new(10_000);
        let mut writes = Vec::new();
        let mut write = |b: &[u8], at: u64| {
            writes.push((at, b.len(), b[0]));
            Ok(())
        };
        for piece in [vec![1u8; 3000], vec![2; 3000], vec![0; 5000], vec![3; 6000], vec![4; 6000], vec![0; 100]] {
            c.push(&piece, &mut write).unwrap();
        }
        c.push(&[5; 25_000], &mut write).unwrap();
        c.flush(&mut write).unwrap();
        // 1s and 2s gathered; the zero run a hole; 3s alone (4s would overflow); 4s with the short
        // zero piece (too short for a hole) until the large piece; the large piece on its own.
        assert_eq!(writes, vec![(0, 6000, 1), (11_000, 6000, 3), (17_000, 6100, 4), (23_100, 25_000, 5)]);
    }
}
