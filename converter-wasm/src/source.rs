//! Random-access inputs. The core never opens files itself: a native file, a browser `Blob`, a
//! member of an OVA (a byte range of the .ova) or a gzip member all come in as a [`Source`],
//! and the caller decides which names resolve to which sources through a [`FileSet`]
//! ("implicit open gate": parsing a descriptor never opens anything by itself).

use crate::error::{Error, ErrorKind, Result};
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

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shared handle to a source.
pub type SourceRef = Arc<dyn Source>;

/// Largest single metadata read we allow (a grain table, a descriptor, an OVF). Bounds memory
/// against hostile size fields; data is read cluster by cluster and never comes near it.
pub const MAX_METADATA_READ: u64 = 64 << 20;

/// Read `len` bytes at `offset` into a new buffer, refusing absurd lengths before allocating.
pub fn read_vec(src: &dyn Source, offset: u64, len: u64) -> Result<Vec<u8>> {
    if len > MAX_METADATA_READ {
        return Err(Error::too_large(
            src.name(),
            Some(offset),
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

/// Resolves names that one input refers to (descriptor extents, snapshot parents, OVF file
/// references) to sources. Implemented by the native CLI (files beside the referrer), the
/// browser (the dropped files) and OVA reading (the archive's members).
pub trait FileSet {
    /// The source for `name` as referred to by the file `referrer`, or `None` when it was not
    /// provided. `name` has already passed [`check_reference`].
    fn open(&self, referrer: &str, name: &str) -> Result<Option<SourceRef>>;
}

/// A file set with nothing in it: lone sparse VMDKs need no other file.
pub struct NoFiles;

impl FileSet for NoFiles {
    fn open(&self, _referrer: &str, _name: &str) -> Result<Option<SourceRef>> {
        Ok(None)
    }
}

/// A file set of named in-memory or pre-opened sources, matched by exact name (then by base
/// name). Used by tests and by the browser shell.
#[derive(Default, Clone)]
pub struct NamedFiles {
    pub files: Vec<SourceRef>,
}

impl NamedFiles {
    pub fn new(files: Vec<SourceRef>) -> Self {
        NamedFiles { files }
    }
}

impl FileSet for NamedFiles {
    fn open(&self, _referrer: &str, name: &str) -> Result<Option<SourceRef>> {
        let base = base_name(name);
        Ok(self
            .files
            .iter()
            .find(|f| f.name() == name)
            .or_else(|| self.files.iter().find(|f| base_name(f.name()) == base))
            .cloned())
    }
}

/// The last path component of `name` (either separator).
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Refuse a referenced file name that could reach outside the files the user gave us: empty,
/// absolute (`/x`, `\x`, `C:`), any `..` component, NUL or other control characters. `referrer`
/// and `offset` locate the reference for the error message.
pub fn check_reference(referrer: &str, offset: Option<u64>, name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorKind::UnsafeName,
            referrer,
            offset,
            format!("refusing file name '{}': {why}", name.escape_debug()),
        ))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.chars().any(|c| c.is_control()) {
        return bad("contains control characters");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return bad("absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return bad("drive-letter path");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return bad("'..' component");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn references_that_escape_are_refused() {
        for n in ["../x.vmdk", "a/../../b", "/etc/passwd", "\\\\srv\\x", "C:\\x.vmdk", "", "a\0b"] {
            let e = check_reference("d.vmdk", Some(3), n).unwrap_err();
            assert_eq!(e.kind, ErrorKind::UnsafeName, "{n}");
            assert!(e.to_string().starts_with("d.vmdk: offset 3"), "{e}");
        }
        check_reference("d.vmdk", None, "disk-s001.vmdk").unwrap();
        check_reference("d.vmdk", None, "sub/disk-flat.vmdk").unwrap();
    }
}
