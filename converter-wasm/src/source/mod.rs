//! Random-access inputs. The core never opens files itself: a native file, a browser `Blob`, a
//! member of an OVA (a byte range of the .ova) or a gzip member all come in as a [`Source`],
//! and the caller decides which names resolve to which sources through a [`FileSet`]
//! ("implicit open gate": parsing a descriptor never opens anything by itself), asked only for
//! names that passed [`check_reference`] ([`SafeName`]).

mod names;
mod read_ahead;

pub use names::{base_name, check_reference, FileSet, NamedFiles, NoFiles, SafeName};
pub use read_ahead::{ReadAhead, CACHED_BLOCKS, PREFETCH_BLOCKS, READ_AHEAD};

use crate::error::{Error, Result};
use std::io;
use std::sync::Arc;

/// A read-only, random-access byte source of known length.
///
/// `&self` reads so one source can be shared by several extents and layers; sources that keep
/// state (a gzip cursor) use interior mutability. Sources are used from one thread (the I/O side
/// of the pipeline), so they need not be `Send`.
pub trait Source {
    /// The name errors use: the user's file name, or the member name inside an OVA.
    fn name(&self) -> &str;
    /// Length in bytes.
    fn len(&self) -> u64;
    /// Fill all of `buf` from `offset`. Reading past the end is an error of kind `Truncated`
    /// naming this source and the offset.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;

    /// Read `len` bytes at `offset` onto the end of `out` (on an error `out` may have grown by
    /// bytes that mean nothing). A file reads straight into the vector's spare room; the rest
    /// zero it first (for a conversion's input, the zeroing was 6 % of the CLI's CPU).
    fn append_at(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<()> {
        let at = out.len();
        out.resize(at + len, 0);
        self.read_exact_at(offset, &mut out[at..])
    }

    /// The source this one is a byte range of, and where the range starts in it (an OVA member
    /// in its archive): for a shell that reads the same bytes on its own (the page hashes a
    /// disk for its manifest in a worker of its own).
    fn within(&self) -> Option<(SourceRef, u64)> {
        None
    }

    /// This source as one any thread may read, if it is one (natively: a file, read with
    /// `pread`): the CLI's decoder threads then read their jobs' input themselves. `None` for
    /// the rest, read through themselves on one thread (an OVA member, whose reads are hashed
    /// in order for its manifest; the page's blobs).
    fn shared(&self) -> Option<SharedRef> {
        None
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shared handle to a source.
pub type SourceRef = Arc<dyn Source>;

/// Handle to a source any thread may read ([`Source::shared`]).
pub type SharedRef = Arc<dyn Source + Send + Sync>;

/// Largest single metadata read we allow (a grain table, a descriptor, an OVF). Bounds memory
/// against hostile size fields; data is read cluster by cluster and never comes near it.
pub const MAX_METADATA_READ: u64 = 64 << 20;

/// Read `len` bytes at `offset` into a new buffer, refusing absurd lengths before allocating.
pub fn read_vec(src: &dyn Source, offset: u64, len: u64) -> Result<Vec<u8>> {
    if len > MAX_METADATA_READ {
        return Err(Error::over_limit(
            src.name(),
            Some(offset),
            len,
            MAX_METADATA_READ,
            format!("refusing to read {len} bytes of metadata (limit {MAX_METADATA_READ})"),
        ));
    }
    check_range(src, offset, len)?;
    let mut buf = vec![0u8; len as usize];
    src.read_exact_at(offset, &mut buf)?;
    Ok(buf)
}

/// Error unless `[offset, offset+len)` lies inside the source.
pub fn check_range(src: &dyn Source, offset: u64, len: u64) -> Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= src.len() => Ok(()),
        _ => Err(Error::truncated(
            src.name(),
            offset,
            offset.saturating_add(len),
            src.len(),
            format!("needs {len} bytes but the file is only {} bytes long", src.len()),
        )),
    }
}

/// An in-memory source: tests, small files, and decoded members.
pub struct MemSource {
    name: String,
    data: Vec<u8>,
}

impl MemSource {
    /// The shared handle, which is what every caller wants.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> SourceRef {
        Arc::new(MemSource { name: name.into(), data })
    }
}

impl Source for MemSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        let o = offset as usize;
        buf.copy_from_slice(&self.data[o..o + buf.len()]);
        Ok(())
    }
}

/// A byte range of another source under its own name: an OVA member read in place.
pub struct SliceSource {
    name: String,
    inner: SourceRef,
    start: u64,
    len: u64,
}

impl SliceSource {
    /// The shared handle, which is what every caller wants.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, inner: SourceRef, start: u64, len: u64) -> Result<SourceRef> {
        check_range(inner.as_ref(), start, len)?;
        // Sources are single-threaded by design (see `Source`).
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Arc::new(SliceSource { name: name.into(), inner, start, len }))
    }
}

impl Source for SliceSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn within(&self) -> Option<(SourceRef, u64)> {
        Some((self.inner.clone(), self.start))
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        self.inner.read_exact_at(self.start + offset, buf).map_err(|mut e| {
            // Report the member and its offset, not the container's.
            if e.file == self.inner.name() {
                e.file = self.name.clone();
                e.offset = e.offset.map(|o| o.saturating_sub(self.start));
            }
            e
        })
    }
}

/// For parts laid end to end from 0 (`(start, part)`, sorted, `part_len` long each): call
/// `f(part, offset in the part, length)` for every part covering `[offset, offset + len)`, in
/// order. A position no part covers is the error `beyond(position)`. The walk both
/// concatenations share: a descriptor disk's extents (`image::Concat`) and a chunked file's
/// chunks ([`ConcatSource`]).
pub fn each_part<T>(
    parts: &[(u64, T)],
    part_len: impl Fn(&T) -> u64,
    (offset, len): (u64, u64),
    beyond: impl FnOnce(u64) -> Error,
    mut f: impl FnMut(&T, u64, u64) -> Result<()>,
) -> Result<()> {
    let end = offset + len;
    let mut pos = offset;
    // First part whose range contains `pos`.
    let mut i = parts.partition_point(|(start, _)| *start <= pos).saturating_sub(1);
    while pos < end {
        let Some((start, part)) = parts.get(i) else { return Err(beyond(pos)) };
        let part_end = start + part_len(part);
        if pos >= part_end {
            i += 1;
            continue;
        }
        let n = end.min(part_end) - pos;
        f(part, pos - start, n)?;
        pos += n;
        i += 1;
    }
    Ok(())
}

/// Sources one after another under one name: the chunks of a chunked OVF file.
pub struct ConcatSource {
    name: String,
    /// `(start offset, part)`, in order.
    parts: Vec<(u64, SourceRef)>,
    len: u64,
}

impl ConcatSource {
    /// `parts` joined, read as `name`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, parts: Vec<SourceRef>) -> SourceRef {
        let mut len = 0;
        let parts = parts
            .into_iter()
            .map(|p| {
                let start = len;
                len += p.len();
                (start, p)
            })
            .collect();
        // Sources are single-threaded by design (see `Source`).
        #[allow(clippy::arc_with_non_send_sync)]
        Arc::new(ConcatSource { name: name.into(), parts, len })
    }
}

impl Source for ConcatSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        let mut done = 0usize;
        each_part(
            &self.parts,
            |p| p.len(),
            (offset, buf.len() as u64),
            |pos| Error::truncated(&self.name, pos, pos + 1, self.len, "past the last part"),
            |part, at, n| {
                let n = n as usize;
                part.read_exact_at(at, &mut buf[done..done + n])?;
                done += n;
                Ok(())
            },
        )
    }
}

/// `Read + Seek` over a source, for crates that want a stream (tar headers).
pub struct SourceReader {
    src: SourceRef,
    pos: u64,
}

impl SourceReader {
    pub fn new(src: SourceRef) -> Self {
        SourceReader { src, pos: 0 }
    }
}

impl io::Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.src.len().saturating_sub(self.pos)).min(buf.len() as u64) as usize;
        self.src.read_exact_at(self.pos, &mut buf[..n]).map_err(io::Error::other)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for SourceReader {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let new = match pos {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.src.len().checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn slice_reads_in_place_and_names_member() {
        let outer = MemSource::new("a.ova", (0u8..=255).collect());
        let s = SliceSource::new("disk.vmdk", outer, 10, 20).unwrap();
        let mut b = [0u8; 4];
        s.read_exact_at(16, &mut b).unwrap();
        assert_eq!(b, [26, 27, 28, 29]);
        let e = s.read_exact_at(18, &mut b).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        assert_eq!(e.file, "disk.vmdk");
    }

    #[test]
    fn concatenated_sources_read_across_parts() {
        let parts = vec![MemSource::new("x.000", vec![1, 2, 3]), MemSource::new("x.001", vec![4, 5])];
        let c = ConcatSource::new("x", parts);
        assert_eq!((c.name(), c.len()), ("x", 5));
        let mut b = [0u8; 4];
        c.read_exact_at(1, &mut b).unwrap();
        assert_eq!(b, [2, 3, 4, 5]);
        let e = c.read_exact_at(2, &mut b).unwrap_err();
        assert_eq!((e.kind, e.file.as_str()), (ErrorKind::Truncated, "x"));
    }
}
