//! The guest-visible disk as a map, independent of the format it came from.
//!
//! Every input format (hosted sparse, stream-optimized, flat/VMFS extents, COWD and seSparse
//! deltas, snapshot chains of those) is opened into a [`Mapper`]: it answers "what backs guest
//! bytes `[offset, offset+len)`" with [`Run`]s, without reading any data. Planning works on the
//! map alone; decoding turns the bytes a run points at into guest bytes; that split is what lets
//! decoding run on other threads or Web Workers.

use crate::error::{Error, Result};
use crate::manifest::DiskCheck;
use crate::source::{each_part, SourceRef};
use serde::Serialize;

/// Where the bytes of one guest range come from.
#[derive(Clone)]
pub enum RunKind {
    /// Not allocated in this layer: the parent's bytes, or zeros when there is no parent.
    Unallocated,
    /// Explicitly zero (a zeroed-grain entry, a ZERO extent). Hides any parent.
    Zero,
    /// Uncompressed bytes starting at `offset` in `src`.
    Data { src: SourceRef, offset: u64 },
    /// One zlib-compressed grain (RFC 1950 stream, as stream-optimized VMDKs store them):
    /// `clen` compressed bytes at `offset` in `src` inflate to `grain_len` bytes, and this run
    /// starts `skip` bytes into the inflated grain.
    ///
    /// With `marker: Some(lba)` the bytes at `offset` start with a stream-optimized grain
    /// marker that must name `lba`, its `size` says how long the zlib stream after it is, and
    /// `clen` only bounds marker + stream (the grain cannot reach past the next grain or grain
    /// table). Mapping then needs no read per grain: the marker is checked where the grain is
    /// decoded (`decode::inflate_run`, with `vmdk::marker`), which saves a pass over the file.
    Deflate { src: SourceRef, offset: u64, clen: u32, grain_len: u32, skip: u32, marker: Option<u64> },
}

impl std::fmt::Debug for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunKind::Unallocated => f.write_str("Unallocated"),
            RunKind::Zero => f.write_str("Zero"),
            RunKind::Data { src, offset } => write!(f, "Data({}@{offset})", src.name()),
            RunKind::Deflate { src, offset, clen, grain_len, skip, marker } => {
                write!(
                    f,
                    "Deflate({}@{offset}, clen {clen}, grain {grain_len}, skip {skip}, marker {marker:?})",
                    src.name()
                )
            }
        }
    }
}

/// A contiguous guest range of `len` bytes backed the same way.
#[derive(Clone, Debug)]
pub struct Run {
    pub len: u64,
    pub kind: RunKind,
}

/// Maps guest offsets to backing bytes. Implemented by each format module.
pub trait Mapper {
    /// Guest-visible size in bytes.
    fn size(&self) -> u64;
    /// Append runs covering exactly `[offset, offset + len)` to `out`, in guest order; their
    /// lengths sum to `len`. Callers keep the range inside `size()`; implementations may
    /// read metadata (grain tables) lazily and cache a bounded amount of it.
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()>;
}

/// A delta layer on top of its parent (snapshot chains): unallocated ranges of `top` read
/// from `parent`. A chain is nested overlays; the bottom has no parent and its unallocated
/// ranges read as zeros.
pub struct Overlay {
    pub top: Box<dyn Mapper>,
    pub parent: Box<dyn Mapper>,
}

impl Mapper for Overlay {
    fn size(&self) -> u64 {
        self.top.size()
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        let mut top = Vec::new();
        self.top.map(offset, len, &mut top)?;
        let mut pos = offset;
        for run in top {
            match run.kind {
                RunKind::Unallocated if pos < self.parent.size() => {
                    // A child larger than its parent reads zeros past the parent's end.
                    let from_parent = run.len.min(self.parent.size() - pos);
                    self.parent.map(pos, from_parent, out)?;
                    if from_parent < run.len {
                        push_run(out, Run { len: run.len - from_parent, kind: RunKind::Zero });
                    }
                }
                _ => push_run(out, run.clone()),
            }
            pos += run.len;
        }
        Ok(())
    }
}

/// Disks made of several extents one after another (descriptor files): each extent covers
/// `[start, start + mapper.size())` of the guest.
pub struct Concat {
    /// `(guest start, extent)`, sorted, contiguous from 0.
    pub extents: Vec<(u64, Box<dyn Mapper>)>,
    pub size: u64,
}

impl Mapper for Concat {
    fn size(&self) -> u64 {
        self.size
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        each_part(
            &self.extents,
            |e| e.size(),
            (offset, len),
            |pos| Error::invalid(format!("guest offset {pos} is beyond the last extent")),
            |ext, at, n| ext.map(at, n, out),
        )
    }
}

/// Append a run, merging it into the previous one when both are zero-like of the same kind,
/// so maps of sparse disks stay short.
pub fn push_run(out: &mut Vec<Run>, run: Run) {
    if run.len == 0 {
        return;
    }
    if let Some(last) = out.last_mut() {
        match (&last.kind, &run.kind) {
            (RunKind::Zero, RunKind::Zero) | (RunKind::Unallocated, RunKind::Unallocated) => {
                last.len += run.len;
                return;
            }
            (RunKind::Data { src: a, offset: ao }, RunKind::Data { src: b, offset: bo })
                if std::sync::Arc::ptr_eq(a, b) && ao + last.len == *bo =>
            {
                last.len += run.len;
                return;
            }
            _ => {}
        }
    }
    out.push(run);
}

/// One file an input needs, for `inspect` and for naming what is missing before work starts.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileUse {
    /// The name as referenced (extent name, parent hint, OVF href).
    pub name: String,
    /// What it is: "descriptor", "extent", "parent", "ovf", "manifest", "disk".
    pub role: String,
    /// Its size when provided.
    pub size: Option<u64>,
    pub present: bool,
}

/// One extent of a VMDK as its descriptor (or header) declares it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ExtentInfo {
    /// RW / RDONLY / NOACCESS
    pub access: String,
    /// Size in bytes.
    pub size: u64,
    /// FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE, ...
    pub kind: String,
    pub file: Option<String>,
    /// Byte offset of the extent's data in its file (FLAT/VMFS).
    pub offset: u64,
}

/// What `inspect` reports about one disk.
#[derive(Clone, Debug, Serialize, Default)]
pub struct DiskInfo {
    /// The name the disk is known by (top file name).
    pub name: String,
    /// "vmdk"
    pub format: String,
    /// monolithicSparse, streamOptimized, monolithicFlat, vmfs, vmfsSparse, seSparse, ...
    pub subformat: String,
    /// Guest-visible size in bytes.
    pub virtual_size: u64,
    /// Bytes of allocated grains/extents as the metadata says (an upper bound of the data).
    pub allocated_bytes: u64,
    pub extents: Vec<ExtentInfo>,
    /// Every file this disk needs, with `present` false for the missing ones.
    pub files: Vec<FileUse>,
    /// Parent chain, nearest first (snapshot deltas).
    pub parents: Vec<String>,
    /// Non-fatal oddities worth telling the user (e.g. "redundant grain directory differs").
    pub warnings: Vec<crate::notice::Notice>,
}

/// An opened disk: what it is, how to read it, and what must hold before its conversion ends.
pub struct Disk {
    pub info: DiskInfo,
    pub map: Box<dyn Mapper>,
    /// The manifest check of the files this disk reads (packages with a manifest): the
    /// conversion runs it before its last output byte, so a mismatch leaves the output
    /// unfinished (and an upload in progress is never completed).
    pub check: Option<DiskCheck>,
}
