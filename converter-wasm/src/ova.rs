//! OVA: a tar archive (DSP0243 §5.3: ustar; pax extended headers and GNU long names occur in
//! practice) holding an OVF descriptor (the first member), its manifest and certificate, and
//! the disk files. Members are read **in place**: the `tar` crate walks the headers over a
//! [`SourceReader`] with `entries_with_seek` (member data is seeked over, never read), and
//! each regular member becomes a [`SliceSource`] of the archive at its
//! `raw_file_position()`. Nothing is extracted or copied.
//!
//! Hostile archives: every member name must pass [`check_reference`] (`../x`, `/etc/x` →
//! `UnsafeName` naming the OVA and the member's header offset); duplicate names are refused
//! (which copy a tool would use is ambiguous, and the manifest could be checked against one
//! and the other converted); at most [`MAX_MEMBERS`] members, and the bytes read as headers
//! (512-byte header blocks plus pax and GNU long-name bodies, which the tar crate holds in
//! memory) are capped at [`MAX_HEADER_BLOCKS`] blocks, which bounds both memory and the
//! number of headers. Sparse, link and device members are ignored (with a note).

use crate::error::{Error, ErrorCode, ErrorKind, Referent, Result};
use crate::input::types::{InputKind, Inspection, Opened};
use crate::notice::{Notice, WarnCode};
use crate::source::{check_reference, FileSet, SafeName, SliceSource, SourceReader, SourceRef};
use std::io::{self, Read, Seek, SeekFrom};

/// Most members (files, directories, links) an OVA may have. An OVA holds a descriptor, a
/// manifest, a certificate and its disks (chunked disks: one member per chunk).
pub const MAX_MEMBERS: usize = 10_000;

/// Most 512-byte blocks read as tar metadata: header blocks, pax extended headers, GNU long
/// names. 16384 blocks (8 MiB) is far more than [`MAX_MEMBERS`] members with long names need.
pub const MAX_HEADER_BLOCKS: u64 = 16_384;

/// tar block size.
const BLOCK: u64 = 512;

/// One regular member.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    /// Name as stored (pax `path` or GNU long name when present), leading `./` removed.
    pub name: String,
    /// Offset of the member's (last) header block in the archive.
    pub header_offset: u64,
    /// Offset of the member's data in the archive.
    pub offset: u64,
    pub size: u64,
}

/// The member list of an OVA, with the archive it lives in.
pub struct Archive {
    pub src: SourceRef,
    pub members: Vec<Member>,
    pub warnings: Vec<Notice>,
}

/// `Read + Seek` that counts the bytes actually *read* (headers and extension bodies; data is
/// only seeked over) and fails past a budget.
struct Budget {
    inner: SourceReader,
    read: u64,
    limit: u64,
}

impl Read for Budget {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.read);
        if room == 0 && !buf.is_empty() {
            return Err(io::Error::other(BudgetExceeded));
        }
        let n = buf.len().min(room as usize);
        let got = self.inner.read(&mut buf[..n])?;
        self.read += got as u64;
        Ok(got)
    }
}

impl Seek for Budget {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[derive(Debug)]
struct BudgetExceeded;
impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {MAX_HEADER_BLOCKS} blocks of tar headers")
    }
}
impl std::error::Error for BudgetExceeded {}

/// Turn a tar-crate error into ours, naming the archive and where the walk was.
fn tar_error(name: &str, at: u64, e: io::Error) -> Error {
    if let Some(inner) = e.get_ref() {
        if inner.is::<BudgetExceeded>() {
            return Error::too_large(
                name,
                Some(at),
                format!("tar headers exceed {MAX_HEADER_BLOCKS} blocks of 512 bytes; refusing to read more"),
            );
        }
        if let Some(ours) = inner.downcast_ref::<Error>() {
            return ours.clone();
        }
    }
    Error::corrupt(name, at, format!("not a readable tar archive: {e}"))
}

impl Archive {
    /// Walk the archive's headers.
    pub fn read(src: SourceRef) -> Result<Archive> {
        let name = src.name().to_string();
        let budget = Budget { inner: SourceReader::new(src.clone()), read: 0, limit: MAX_HEADER_BLOCKS * BLOCK };
        let mut ar = tar::Archive::new(budget);
        let mut members: Vec<Member> = Vec::new();
        let mut warnings = Vec::new();
        let mut at = 0u64;
        let mut names = std::collections::HashSet::new();
        let entries = ar.entries_with_seek().map_err(|e| tar_error(&name, 0, e))?;
        for (count, entry) in entries.enumerate() {
            let entry = entry.map_err(|e| tar_error(&name, at, e))?;
            if count >= MAX_MEMBERS {
                return Err(Error::too_large(
                    &name,
                    Some(entry.raw_header_position()),
                    format!("more than {MAX_MEMBERS} archive members"),
                ));
            }
            let hdr = entry.raw_header_position();
            let data = entry.raw_file_position();
            let size = entry.size();
            at = data.saturating_add(size);
            let raw = entry.path_bytes();
            let Ok(mut mname) = std::str::from_utf8(&raw).map(str::to_string) else {
                return Err(Error::new(ErrorKind::UnsafeName, &name, Some(hdr), "archive member name is not UTF-8"));
            };
            while let Some(rest) = mname.strip_prefix("./") {
                mname = rest.to_string();
            }
            let et = entry.header().entry_type();
            if et.is_pax_global_extensions() {
                // Archive-wide pax defaults (git archive writes one): nothing to read.
                continue;
            }
            if et.is_dir() {
                // A directory named "./" is harmless; others are checked like any name.
                if !mname.is_empty() {
                    check_reference(&name, Some(hdr), mname.trim_end_matches('/'))?;
                }
                continue;
            }
            check_reference(&name, Some(hdr), &mname)?;
            if !(et.is_file() || et.is_contiguous()) {
                warnings.push(
                    Notice::new(
                        WarnCode::NotRegularFile,
                        &name,
                        format!("member '{mname}' is not a regular file ({:?}); ignored", et),
                    )
                    .named(&mname),
                );
                continue;
            }
            if !names.insert(mname.clone()) {
                return Err(Error::corrupt(&name, hdr, format!("archive member '{mname}' appears twice")));
            }
            if data.checked_add(size).is_none_or(|end| end > src.len()) {
                return Err(Error::truncated(
                    &name,
                    hdr,
                    data.saturating_add(size),
                    src.len(),
                    format!(
                        "member '{mname}' of {size} bytes at offset {data} runs past the end of the archive ({} bytes)",
                        src.len()
                    ),
                ));
            }
            members.push(Member { name: mname, header_offset: hdr, offset: data, size });
        }
        Ok(Archive { src, members, warnings })
    }

    /// The member called `name` as a source (in place).
    pub fn member(&self, name: &str) -> Result<Option<SourceRef>> {
        match self.members.iter().find(|m| m.name == name) {
            Some(m) => SliceSource::new(m.name.clone(), self.src.clone(), m.offset, m.size).map(Some),
            None => Ok(None),
        }
    }

    /// The OVF descriptor: the first `.ovf` member (DSP0243 requires it to be the first
    /// member; one later in the archive is accepted with a warning).
    pub fn descriptor(&mut self) -> Result<SourceRef> {
        let Some(i) = self.members.iter().position(|m| m.name.to_ascii_lowercase().ends_with(".ovf")) else {
            return Err(Error::new(
                ErrorKind::MissingFile,
                self.src.name(),
                None,
                "the archive holds no .ovf descriptor",
            )
            .with_code(ErrorCode::NoDescriptor));
        };
        if i != 0 {
            let d = &self.members[i].name;
            self.warnings.push(
                Notice::new(
                    WarnCode::DescriptorNotFirst,
                    self.src.name(),
                    format!("the OVF descriptor '{d}' is not the first member (DSP0243 requires it first)"),
                )
                .named(d),
            );
        }
        let name = self.members[i].name.clone();
        self.member(&name)?.ok_or_else(|| Error::missing(self.src.name(), &name, Referent::Descriptor))
    }
}

/// Names inside the archive resolve relative to the referring member's directory.
impl FileSet for Archive {
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>> {
        let dir = referrer.rfind('/').map_or("", |i| &referrer[..=i]);
        let want = format!("{dir}{}", name.replace('\\', "/"));
        self.member(&want)
    }
}

/// Open an OVA for conversion: its OVF with disks read in place from the archive.
pub fn open(src: SourceRef) -> Result<Opened> {
    let mut ar = Archive::read(src)?;
    let ovf = ar.descriptor()?;
    let mut o = crate::ovf::open(ovf, &ar)?;
    o.kind = InputKind::Ova;
    o.warnings.splice(0..0, ar.warnings);
    Ok(o)
}

/// Describe an OVA without converting it: missing files are listed, not errors.
pub fn inspect(src: SourceRef) -> Result<Inspection> {
    let name = src.name().to_string();
    let mut ar = Archive::read(src)?;
    let ovf = ar.descriptor()?;
    let mut i = crate::ovf::inspect(ovf, &ar)?;
    i.kind = InputKind::Ova;
    i.name = name;
    i.warnings.splice(0..0, ar.warnings);
    Ok(i)
}
