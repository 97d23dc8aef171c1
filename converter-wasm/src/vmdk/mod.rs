//! VMDK: VMware's virtual disk formats (VMware "Virtual Disk Format 5.0", open-vmdk
//! `vmware_vmdk.h`, qemu `block/vmdk.c` for variants), opened into the guest map.
//!
//! A VMDK is recognised by content: `KDMV` (hosted sparse or stream-optimized, see
//! [`header`], [`sparse`], [`stream`]), `COWD` (ESX redo log, [`cowd`]), the seSparse magic
//! ([`sesparse`]) or a text [`descriptor`] that lists extents (FLAT/VMFS byte ranges of other
//! files, ZERO, SPARSE/VMFSSPARSE/SESPARSE files) and possibly a snapshot parent. Extents are
//! laid out one after another ([`Concat`]); a snapshot delta sits on its parent ([`Overlay`]),
//! recursively up to [`MAX_CHAIN_DEPTH`] layers. COWD and seSparse share one grain-table walk
//! and every variant one table cache (`tables.rs`); offsets and sizes convert through
//! [`crate::units`].
//!
//! Every referenced name (extent, parent) passes `check_reference` before `FileSet::open`; a
//! file that is not provided makes [`open`] fail with `MissingFile` naming it and the
//! descriptor that refers to it, while [`inspect`] lists it with `present: false`.

pub mod cowd;
pub mod descriptor;
pub mod header;
pub mod marker;
pub mod sesparse;
pub mod sparse;
pub mod stream;
mod tables;

use crate::error::{Error, ErrorCode, ErrorKind, Referent, Result};
use crate::image::{Concat, Disk, DiskInfo, ExtentInfo, FileUse, Mapper, Overlay, Run, RunKind};
use crate::notice::{Notice, WarnCode};
use crate::source::{base_name, check_reference, read_vec, FileSet, Source, SourceRef};
use crate::units::Sectors;
use descriptor::{Descriptor, ExtentLine, ExtentType, MAX_DESCRIPTOR_BYTES};
use header::MAX_CAPACITY_BYTES;

/// Deepest snapshot chain we follow (layers below the top). VMware supports at most 32
/// snapshots in a chain (VMware KB 1025279); twice that leaves room for linked clones while
/// stopping runaway chains.
pub const MAX_CHAIN_DEPTH: usize = 64;

/// Bytes looked at to recognise a file.
const SNIFF_BYTES: u64 = 4096;
/// Guest bytes mapped per step when measuring COWD/seSparse allocation at open.
const MEASURE_STEP: u64 = 64 << 20;

/// Open a VMDK (sparse, stream-optimized, COWD, seSparse or text descriptor, with its
/// extents and snapshot parents) for reading. Missing files are a `MissingFile` error.
pub fn open(src: SourceRef, files: &dyn FileSet) -> Result<Disk> {
    let (info, map) = build(src.clone(), files, Mode::Open)?;
    let map = map.ok_or_else(|| Error::new(ErrorKind::InvalidArgument, src.name(), None, "disk map incomplete"))?;
    Ok(Disk { info, map, check: None })
}

/// Describe a VMDK without failing on missing extents or parents (they are listed with
/// `present: false`) or on extent kinds we cannot read (listed as warnings).
pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<DiskInfo> {
    build(src, files, Mode::Inspect).map(|(info, _)| info)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Open,
    Inspect,
}

/// What one layer (one file of a snapshot chain) is.
struct Layer {
    subformat: String,
    size: u64,
    extents: Vec<ExtentInfo>,
    cid: Option<u32>,
    /// The file is a text descriptor (else a binary sparse/delta file).
    is_descriptor: bool,
    /// `None` when something it needs is missing (inspect only).
    map: Option<Box<dyn Mapper>>,
}

/// Collects what the layers of one disk need and say.
struct Builder<'a> {
    files: &'a dyn FileSet,
    mode: Mode,
    used: Vec<FileUse>,
    warnings: Vec<Notice>,
    parents: Vec<String>,
    allocated: u64,
    /// Files of the layers being opened, top first: loop detection.
    chain: Vec<String>,
}

fn build(src: SourceRef, files: &dyn FileSet, mode: Mode) -> Result<(DiskInfo, Option<Box<dyn Mapper>>)> {
    let mut b = Builder {
        files,
        mode,
        used: Vec::new(),
        warnings: Vec::new(),
        parents: Vec::new(),
        allocated: 0,
        chain: Vec::new(),
    };
    let top = b.layer(src.clone(), 0)?;
    let role = if top.is_descriptor { "descriptor" } else { "disk" };
    b.used.retain(|f| f.name != src.name());
    b.used.insert(0, FileUse { name: src.name().to_string(), role: role.into(), size: Some(src.len()), present: true });
    let info = DiskInfo {
        name: src.name().to_string(),
        format: "vmdk".into(),
        subformat: top.subformat,
        virtual_size: top.size,
        allocated_bytes: b.allocated,
        extents: top.extents,
        files: b.used,
        parents: b.parents,
        warnings: b.warnings,
    };
    Ok((info, top.map))
}

/// What a file's first bytes say it is.
enum Kind {
    Sparse,
    Cowd,
    SeSparse,
    Descriptor,
    Unknown,
}

fn sniff(src: &dyn Source) -> Result<Kind> {
    let n = src.len().min(SNIFF_BYTES) as usize;
    let mut head = vec![0u8; n];
    src.read_exact_at(0, &mut head)?;
    if n >= 4 && head[..4] == *b"KDMV" {
        return Ok(Kind::Sparse);
    }
    if cowd::is_cowd(&head) {
        return Ok(Kind::Cowd);
    }
    if sesparse::is_sesparse(&head) {
        return Ok(Kind::SeSparse);
    }
    if descriptor::looks_like_descriptor(&head) {
        return Ok(Kind::Descriptor);
    }
    Ok(Kind::Unknown)
}

/// Guest bytes a delta layer backs itself (Data/Deflate/Zero runs), found by mapping it in
/// steps: COWD and seSparse readers expose no count of their own.
fn mapped_bytes(m: &dyn Mapper) -> Result<u64> {
    let mut total = 0u64;
    let mut pos = 0u64;
    let mut runs = Vec::new();
    while pos < m.size() {
        let n = MEASURE_STEP.min(m.size() - pos);
        runs.clear();
        m.map(pos, n, &mut runs)?;
        total += runs
            .iter()
            .filter(|r| matches!(r.kind, RunKind::Data { .. } | RunKind::Deflate { .. }))
            .map(|r| r.len)
            .sum::<u64>();
        pos += n;
    }
    Ok(total)
}

impl Builder<'_> {
    /// Record a file this disk needs (once per name).
    fn add_file(&mut self, name: &str, role: &str, size: Option<u64>, present: bool) {
        if !self.used.iter().any(|f| f.name == name) {
            self.used.push(FileUse { name: name.to_string(), role: role.to_string(), size, present });
        }
    }

    /// A referenced file was not provided: an error when opening, a listed file when
    /// inspecting.
    fn lacking(&mut self, referrer: &str, name: &str, what: Referent) -> Result<()> {
        self.add_file(name, what.label(), None, false);
        match self.mode {
            Mode::Open => Err(Error::missing(referrer, name, what)),
            Mode::Inspect => Ok(()),
        }
    }

    /// Something we cannot read: an error when opening, a warning when inspecting.
    fn cannot_read(&mut self, e: Error) -> Result<()> {
        match self.mode {
            Mode::Open => Err(e),
            Mode::Inspect => {
                self.warnings.push(e.into());
                Ok(())
            }
        }
    }

    /// Open one file of a chain (the top, or a parent) into a layer, parents included.
    fn layer(&mut self, src: SourceRef, depth: usize) -> Result<Layer> {
        let name = src.name().to_string();
        if depth > MAX_CHAIN_DEPTH {
            return Err(Error::too_large(
                &name,
                None,
                format!("snapshot chain is deeper than {MAX_CHAIN_DEPTH} layers"),
            ));
        }
        self.chain.push(name.clone());
        let r = self.layer_inner(src, depth);
        self.chain.pop();
        r
    }

    fn layer_inner(&mut self, src: SourceRef, depth: usize) -> Result<Layer> {
        let name = src.name().to_string();
        if src.len() < 4 {
            return Err(Error::corrupt(&name, 0, format!("{} bytes is too small to be a VMDK", src.len()))
                .with_code(ErrorCode::NotADisk));
        }
        match sniff(src.as_ref())? {
            Kind::Sparse => self.sparse_layer(src, depth),
            Kind::Cowd => self.delta_layer(src, cowd::open_extent, "vmfsSparse", ExtentType::VmfsSparse),
            Kind::SeSparse => self.delta_layer(src, sesparse::open_extent, "seSparse", ExtentType::SeSparse),
            Kind::Descriptor => {
                if src.len() > MAX_DESCRIPTOR_BYTES {
                    return Err(Error::over_limit(
                        &name,
                        Some(0),
                        src.len(),
                        MAX_DESCRIPTOR_BYTES,
                        format!(
                            "looks like a text descriptor but is {} bytes long (limit {MAX_DESCRIPTOR_BYTES})",
                            src.len()
                        ),
                    ));
                }
                let text = read_vec(src.as_ref(), 0, src.len())?;
                let desc = descriptor::parse(&text, &name, 0)?;
                self.descriptor_layer(&name, desc, depth)
            }
            Kind::Unknown => Err(Error::not_a_disk(
                &name,
                Some(0),
                "not a VMDK: no 'KDMV' or 'COWD' sparse magic and no text descriptor",
            )),
        }
    }

    /// A lone COWD or seSparse file.
    fn delta_layer(
        &mut self,
        src: SourceRef,
        open: fn(SourceRef) -> Result<Box<dyn Mapper>>,
        subformat: &str,
        kind: ExtentType,
    ) -> Result<Layer> {
        let map = open(src.clone())?;
        self.allocated += mapped_bytes(map.as_ref())?;
        let size = map.size();
        let extents = vec![ExtentInfo {
            access: "RW".into(),
            size,
            kind: kind.as_str().into(),
            file: Some(src.name().into()),
            offset: 0,
        }];
        Ok(Layer { subformat: subformat.into(), size, extents, cid: None, is_descriptor: false, map: Some(map) })
    }

    /// A `KDMV` file: its own single extent, plus what its embedded descriptor says (type,
    /// CID, parent).
    fn sparse_layer(&mut self, src: SourceRef, depth: usize) -> Result<Layer> {
        let name = src.name().to_string();
        let h0 = sparse::read_header(src.as_ref())?;
        let opened = sparse::open(src.clone(), h0.clone(), sparse::GT_CACHE_ENTRIES_ONE_FILE)?;
        let desc = embedded_descriptor(src.as_ref(), &h0)?;
        if h0.capacity == 0 {
            if let Some(d) = desc.clone().filter(|d| !d.extents.is_empty()) {
                // A sparse header carrying only a descriptor (qemu reads these as descriptors).
                return self.descriptor_layer(&name, d, depth);
            }
        }
        self.warnings.extend(opened.warnings);
        self.allocated += opened.allocated;
        let h = opened.extent.header().clone();
        let size = opened.extent.size();
        let mut access = "RW".to_string();
        if let Some(d) = &desc {
            if let Some(e) = d.extents.first() {
                access = e.access.as_str().into();
                if d.extents.len() == 1 && e.sectors != Sectors(h.capacity) {
                    self.warnings.push(Notice::new(
                        WarnCode::EmbeddedSizeMismatch,
                        &name,
                        format!(
                        "the embedded descriptor declares {} sectors but the header's capacity is {}; using the header",
                        e.sectors.0, h.capacity),
                    ));
                }
            }
            if d.extents.len() > 1 {
                self.warnings.push(
                    Notice::new(
                        WarnCode::EmbeddedExtents,
                        &name,
                        format!(
                            "the embedded descriptor lists {} extents; only this file's own grains are read",
                            d.extents.len()
                        ),
                    )
                    .count(d.extents.len()),
                );
            }
        }
        let derived = if h.compressed() { "streamOptimized" } else { "monolithicSparse" };
        let subformat = desc.as_ref().and_then(|d| d.create_type.clone()).unwrap_or_else(|| derived.into());
        let extents = vec![ExtentInfo { access, size, kind: "SPARSE".into(), file: Some(name.clone()), offset: 0 }];
        let map: Box<dyn Mapper> = Box::new(opened.extent);
        let cid = desc.as_ref().and_then(|d| d.cid);
        let map = self.with_parent(&name, desc.as_ref(), Some(map), depth)?;
        Ok(Layer { subformat, size, extents, cid, is_descriptor: false, map })
    }

    /// A text descriptor: its extents one after another, then its parent.
    fn descriptor_layer(&mut self, name: &str, desc: Descriptor, depth: usize) -> Result<Layer> {
        if desc.extents.is_empty() {
            return Err(Error::corrupt(name, 0, "the descriptor lists no extents"));
        }
        let mut infos = Vec::new();
        let mut maps: Vec<(u64, Box<dyn Mapper>)> = Vec::new();
        let mut complete = true;
        let mut start = 0u64;
        for e in &desc.extents {
            let size = e.sectors.checked_bytes().filter(|&s| s <= MAX_CAPACITY_BYTES);
            let end = size.and_then(|s| start.checked_add(s)).filter(|&t| t <= MAX_CAPACITY_BYTES);
            let (Some(size), Some(end)) = (size, end) else {
                return Err(Error::too_large(
                    name,
                    Some(e.at),
                    format!("extents add up to more than {MAX_CAPACITY_BYTES} bytes"),
                ));
            };
            infos.push(ExtentInfo {
                access: e.access.as_str().into(),
                size,
                kind: e.kind.as_str().into(),
                file: e.file.clone(),
                offset: e.offset.bytes(),
            });
            if size == 0 {
                self.warnings.push(Notice::new(
                    WarnCode::EmptyExtent,
                    name,
                    format!("ignoring a 0-sector extent line at byte {}", e.at),
                ));
                continue;
            }
            match self.extent(name, e, size)? {
                Some(m) => maps.push((start, m)),
                None => complete = false,
            }
            start = end;
        }
        let map: Option<Box<dyn Mapper>> = if !complete {
            None
        } else if maps.len() == 1 {
            maps.pop().map(|(_, m)| m)
        } else {
            Some(Box::new(Concat { extents: maps, size: start }))
        };
        let subformat = desc.create_type.clone().unwrap_or_else(|| "custom".into());
        let map = self.with_parent(name, Some(&desc), map, depth)?;
        Ok(Layer { subformat, size: start, extents: infos, cid: desc.cid, is_descriptor: true, map })
    }

    /// Open one extent line of descriptor `desc_name` (`size` bytes). `None` when it could
    /// not be opened and we are only inspecting.
    fn extent(&mut self, desc_name: &str, e: &ExtentLine, size: u64) -> Result<Option<Box<dyn Mapper>>> {
        let at = Some(e.at);
        if e.access == descriptor::Access::NoAccess {
            self.cannot_read(Error::unsupported(
                desc_name,
                at,
                "extent is NOACCESS: VMware marks its data as unreadable",
            ))?;
            return Ok(None);
        }
        match &e.kind {
            ExtentType::Zero => return Ok(Some(Box::new(ZeroExtent { size }))),
            ExtentType::VmfsRdm | ExtentType::VmfsRaw => {
                self.cannot_read(Error::unsupported(desc_name, at, format!(
                    "{} extent: a raw device mapping keeps its data on a LUN, not in a file; export the disk from vSphere first",
                    e.kind.as_str())))?;
                return Ok(None);
            }
            ExtentType::Other(t) => {
                self.cannot_read(Error::unsupported(desc_name, at, format!("unknown extent type '{t}'")))?;
                return Ok(None);
            }
            _ => {}
        }
        let Some(fname) = e.file.as_deref() else {
            return Err(Error::corrupt(desc_name, e.at, "extent line has no file name"));
        };
        let safe = check_reference(desc_name, at, fname)?;
        let Some(f) = self.files.open(desc_name, &safe)? else {
            self.lacking(desc_name, fname, Referent::Extent)?;
            return Ok(None);
        };
        self.add_file(fname, "extent", Some(f.len()), true);
        match e.kind {
            ExtentType::Flat | ExtentType::Vmfs => {
                let end = e.offset.checked_bytes().and_then(|o| o.checked_add(size));
                let Some(end) = end.filter(|&end| end <= f.len()) else {
                    return Err(Error::truncated(f.name(), f.len(), e.offset.bytes().saturating_add(size), f.len(), format!(
                        "{desc_name} (extent line at byte {}) declares {size} bytes at offset {} of this file, but it is only {} bytes long",
                        e.at, e.offset.bytes(), f.len())));
                };
                self.allocated += size;
                Ok(Some(Box::new(FlatExtent { src: f, offset: end - size, size })))
            }
            _ => {
                // SPARSE, VMFSSPARSE, SESPARSE: dispatch on the file's magic.
                let m: Box<dyn Mapper> = match sniff(f.as_ref())? {
                    Kind::Sparse => {
                        let h = sparse::read_header(f.as_ref())?;
                        let o = sparse::open(f.clone(), h, sparse::GT_CACHE_ENTRIES)?;
                        self.warnings.extend(o.warnings);
                        self.allocated += o.allocated;
                        Box::new(o.extent)
                    }
                    Kind::Cowd => {
                        let m = cowd::open_extent(f.clone())?;
                        self.allocated += mapped_bytes(m.as_ref())?;
                        m
                    }
                    Kind::SeSparse => {
                        let m = sesparse::open_extent(f.clone())?;
                        self.allocated += mapped_bytes(m.as_ref())?;
                        m
                    }
                    _ => {
                        return Err(Error::corrupt(f.name(), 0, format!(
                            "{desc_name} lists this file as a {} extent but it has no sparse magic (KDMV, COWD or seSparse)", e.kind.as_str())))
                    }
                };
                let have = m.size();
                if have < size {
                    return Err(Error::corrupt(
                        desc_name,
                        e.at,
                        format!(
                            "extent '{fname}' is declared as {} sectors but its header says {} sectors",
                            e.sectors.0,
                            Sectors::floor(have).0
                        ),
                    ));
                }
                if have > size {
                    self.warnings.push(
                        Notice::new(
                            WarnCode::ExtentLarger,
                            desc_name,
                            format!(
                        "extent '{fname}' holds {} sectors but the descriptor uses only {}; reading the first {}",
                        Sectors::floor(have).0, e.sectors.0, e.sectors.0),
                        )
                        .named(fname),
                    );
                    return Ok(Some(Box::new(Limit { inner: m, size })));
                }
                Ok(Some(m))
            }
        }
    }

    /// Put `map` (the layer of file `name`) on its parent when `desc` names one.
    fn with_parent(
        &mut self,
        name: &str,
        desc: Option<&Descriptor>,
        map: Option<Box<dyn Mapper>>,
        depth: usize,
    ) -> Result<Option<Box<dyn Mapper>>> {
        let Some(d) = desc else { return Ok(map) };
        let Some(pcid) = d.parent() else { return Ok(map) };
        let Some(hint) = d.parent_file_name_hint.as_deref() else {
            return Err(Error::corrupt(
                name,
                0,
                format!(
                    "parentCID is {pcid:08x} (a snapshot delta) but there is no parentFileNameHint naming the parent"
                ),
            ));
        };
        let at = Some(d.parent_hint_at);
        let pname = match check_reference(name, at, hint) {
            Ok(safe) => safe,
            Err(e) => {
                // Absolute or `..` hints (linked clones, parents on other datastores): look for
                // the parent by its base name beside this file instead.
                let b = base_name(hint);
                let Ok(safe) = check_reference(name, at, b) else { return Err(e) };
                self.warnings.push(
                    Notice::new(
                        WarnCode::ParentHintNotRelative,
                        name,
                        format!("parent hint '{hint}' is not a plain relative name; looking for '{b}' instead"),
                    )
                    .named(b),
                );
                safe
            }
        };
        self.parents.push(pname.to_string());
        let Some(psrc) = self.files.open(name, &pname)? else {
            self.lacking(name, &pname, Referent::Parent)?;
            return Ok(None);
        };
        if self.chain.iter().any(|c| c == psrc.name()) {
            let mut path = self.chain.join(" -> ");
            path.push_str(" -> ");
            path.push_str(psrc.name());
            return Err(Error::corrupt(name, d.parent_hint_at, format!("snapshot chain loops: {path}")));
        }
        self.add_file(&pname, "parent", Some(psrc.len()), true);
        let parent = self.layer(psrc, depth + 1)?;
        if parent.cid != Some(pcid) {
            let got = parent.cid.map(|c| format!("{c:08x}")).unwrap_or_else(|| "none".into());
            self.warnings.push(Notice::new(WarnCode::ParentChanged, name, format!(
                "parentCID is {pcid:08x} but parent '{pname}' has CID {got}: the parent changed after this snapshot was taken, the disk may be inconsistent")).named(&pname));
        }
        Ok(match (map, parent.map) {
            (Some(top), Some(parent)) => Some(Box::new(Overlay { top, parent })),
            _ => None,
        })
    }
}

/// The embedded descriptor of a sparse file, if it has one.
fn embedded_descriptor(src: &dyn Source, h: &header::SparseExtentHeader) -> Result<Option<Descriptor>> {
    if h.descriptor_offset == 0 || h.descriptor_size == 0 {
        return Ok(None);
    }
    let name = src.name();
    let at = Sectors(h.descriptor_offset).try_bytes(name, header::field::DESCRIPTOR_OFFSET, "descriptorOffset")?;
    let len = Sectors(h.descriptor_size).try_bytes(name, header::field::DESCRIPTOR_SIZE, "descriptorSize")?;
    if len > MAX_DESCRIPTOR_BYTES {
        return Err(Error::over_limit(
            name,
            Some(header::field::DESCRIPTOR_SIZE),
            len,
            MAX_DESCRIPTOR_BYTES,
            format!("embedded descriptor of {len} bytes exceeds the {MAX_DESCRIPTOR_BYTES}-byte limit"),
        ));
    }
    let bytes = read_vec(src, at, len).map_err(|e| {
        Error::truncated(
            name,
            header::field::DESCRIPTOR_OFFSET,
            at.saturating_add(len),
            src.len(),
            format!("embedded descriptor ({len} bytes at byte {at}) is not inside the file: {}", e.message),
        )
    })?;
    descriptor::parse(&bytes, name, at).map(Some)
}

/// A FLAT or VMFS extent: guest bytes stored as-is from `offset` in `src`.
pub struct FlatExtent {
    pub src: SourceRef,
    pub offset: u64,
    pub size: u64,
}

impl Mapper for FlatExtent {
    fn size(&self) -> u64 {
        self.size
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        crate::image::push_run(
            out,
            Run { len, kind: RunKind::Data { src: self.src.clone(), offset: self.offset + offset } },
        );
        Ok(())
    }
}

/// A ZERO extent: no file, reads as zeros.
pub struct ZeroExtent {
    pub size: u64,
}

impl Mapper for ZeroExtent {
    fn size(&self) -> u64 {
        self.size
    }
    fn map(&self, _offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        crate::image::push_run(out, Run { len, kind: RunKind::Zero });
        Ok(())
    }
}

/// The first `size` bytes of a larger extent (a descriptor declaring less than the header).
struct Limit {
    inner: Box<dyn Mapper>,
    size: u64,
}

impl Mapper for Limit {
    fn size(&self) -> u64 {
        self.size
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        self.inner.map(offset, len, out)
    }
}
