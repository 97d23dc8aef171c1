//! An OVF package opened: the descriptor with its manifest (`.mf`, checked while the disks
//! are read) and certificate, and each disk's file looked up among the given files — checked
//! by name first ([`check_reference`]; URLs refused), joined from its chunks
//! (`ovf:chunkSize`), inflated when `ovf:compression="gzip"`, and opened by the VMDK reader.

use super::descriptor::{read, Descriptor};
use crate::error::{Args, Error, ErrorKind, Referent, Result};
use crate::gzip::GzipSource;
use crate::image::{DiskInfo, FileUse};
use crate::input::types::{InputKind, Inspection, Opened};
use crate::manifest::{Manifest, Verifier};
use crate::notice::{Notice, WarnCode};
use crate::source::{base_name, check_reference, ConcatSource, FileSet, SafeName, SourceRef};
use crate::vm::DiskSummary;
use std::cell::RefCell;
use std::collections::HashMap;

/// Most chunk files of one chunked disk file (`ovf:chunkSize`, files `x.000000000`, ...):
/// DSP0243 numbers chunks with 9 digits; ovftool's smallest chunk size makes far fewer.
pub const MAX_CHUNKS: u64 = 1_000_000;

/// A disk file after lookup: ready to read, missing, or not stored at all.
enum DiskFile {
    Ready(Ready),
    /// Names that were not provided.
    Missing(Vec<String>),
    /// No file (a blank disk created at deployment).
    None,
}

/// A disk ready to open: the source the VMDK reader reads (inflated when compressed) and
/// the stored size of its file.
struct Ready {
    src: SourceRef,
    stored_len: u64,
}

/// The package's files as the VMDK reader sees them too: files the manifest lists come back
/// wrapped for hashing (once per file, however often they are opened), so extents a
/// descriptor disk refers to are checked as well as the files the OVF names.
struct Checked<'f> {
    files: &'f dyn FileSet,
    manifest: Option<Manifest>,
    verifier: RefCell<Option<Verifier>>,
    /// Manifest entries used (file names as listed).
    used: RefCell<Vec<String>>,
    /// Warnings about files opened that the manifest does not list.
    unlisted: RefCell<Vec<Notice>>,
    /// Wrapped sources by underlying source name.
    opened: RefCell<Vec<(String, SourceRef)>>,
    /// The disk (index into `Opened::disks`) whose files are being looked up.
    disk: std::cell::Cell<Option<usize>>,
}

impl Checked<'_> {
    /// Tell the verifier that the disk being opened reads `wrapped`.
    fn note_use(&self, wrapped: &SourceRef) {
        if let (Some(d), Some(v)) = (self.disk.get(), self.verifier.borrow_mut().as_mut()) {
            v.note_use(wrapped, d);
        }
    }
}

impl FileSet for Checked<'_> {
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>> {
        let Some(src) = self.files.open(referrer, name)? else { return Ok(None) };
        let Some(m) = &self.manifest else { return Ok(Some(src)) };
        if let Some((_, w)) = self.opened.borrow().iter().find(|(n, _)| n == src.name()) {
            self.note_use(w);
            return Ok(Some(w.clone()));
        }
        let wrapped = match m.find(name) {
            Some(e) => {
                self.used.borrow_mut().push(e.name.clone());
                match self.verifier.borrow_mut().as_mut() {
                    Some(v) => v.wrap(src.clone(), e),
                    None => src.clone(),
                }
            }
            None => {
                self.unlisted.borrow_mut().push(
                    Notice::new(
                        WarnCode::NotListed,
                        name,
                        format!("not listed in manifest {}; its digest is not checked", m.name),
                    )
                    .named(&m.name),
                );
                src.clone()
            }
        };
        self.opened.borrow_mut().push((src.name().to_string(), wrapped.clone()));
        self.note_use(&wrapped);
        Ok(Some(wrapped))
    }
}

/// The descriptor with its manifest, while its files are being looked up.
struct Package<'f> {
    name: String,
    desc: Descriptor,
    /// Offset of each File element by href, for messages.
    file_offsets: HashMap<String, u64>,
    files: Checked<'f>,
    warnings: Vec<Notice>,
}

/// The manifest's name for descriptor `ovf`: same base name, `.mf` (DSP0243 §5.1).
fn sibling(ovf: &str, ext: &str) -> String {
    let b = base_name(ovf);
    let stem = match b.rfind('.') {
        Some(i) if b[i..].eq_ignore_ascii_case(".ovf") => &b[..i],
        _ => b,
    };
    format!("{stem}.{ext}")
}

impl<'f> Package<'f> {
    /// Parse `src`, find and parse its manifest, check the descriptor's own digest (an error
    /// when `strict`, else a warning).
    fn load(src: &SourceRef, files: &'f dyn FileSet, strict: bool) -> Result<Package<'f>> {
        let name = src.name().to_string();
        let (desc, bytes) = read(src.as_ref())?;
        let checked = Checked {
            files,
            manifest: None,
            verifier: RefCell::new(None),
            used: RefCell::default(),
            unlisted: RefCell::default(),
            opened: RefCell::default(),
            disk: Default::default(),
        };
        let file_offsets = desc.files.iter().rev().map(|f| (f.href.clone(), f.offset)).collect();
        let mut p = Package { name: name.clone(), warnings: desc.warnings.clone(), desc, file_offsets, files: checked };
        let mf_name = sibling(&name, "mf");
        match files.open(&name, &check_reference(&name, None, &mf_name)?)? {
            Some(mf) => {
                let m = Manifest::read(mf.as_ref())?;
                p.warnings.extend(m.warnings.iter().cloned());
                let mut v = Verifier::new(&m);
                match m.find(base_name(&name)) {
                    Some(e) => {
                        p.files.used.borrow_mut().push(e.name.clone());
                        match m.check_bytes(&name, e, &bytes) {
                            Ok(()) => v.add_checked(&name),
                            Err(e) if !strict => p.warnings.push(e.into()),
                            Err(e) => return Err(e),
                        }
                    }
                    None => p.warnings.push(
                        Notice::new(
                            WarnCode::DescriptorNotListed,
                            &name,
                            format!("not listed in manifest {mf_name}; the descriptor is not checked"),
                        )
                        .named(&mf_name),
                    ),
                }
                p.files.manifest = Some(m);
                p.files.verifier = RefCell::new(Some(v));
            }
            None => p.warnings.push(
                Notice::new(
                    WarnCode::NoManifest,
                    &name,
                    format!("no manifest ({mf_name}) was provided; file digests are not checked"),
                )
                .named(&mf_name),
            ),
        }
        let cert = sibling(&name, "cert");
        if files.open(&name, &check_reference(&name, None, &cert)?)?.is_some() {
            p.warnings.push(Notice::new(
                WarnCode::CertificateNotVerified,
                &cert,
                "certificate present but signatures are not verified",
            ));
        }
        Ok(p)
    }

    /// Look `name` (relative to the descriptor) up; wrapped for the manifest check.
    fn open_file(&self, name: &SafeName) -> Result<Option<SourceRef>> {
        self.files.open(&self.name, name)
    }

    /// Look up disk `i`'s file: check the name, join chunks, verify, inflate gzip.
    fn disk_file(&mut self, i: usize) -> Result<DiskFile> {
        let d = self.desc.vm.disks[i].clone();
        let Some(href) = d.file_name.clone() else { return Ok(DiskFile::None) };
        let off = self.file_offsets.get(&href).copied();
        let safe = check_reference(&self.name, off, &href)?;
        if href.contains("://") || href.to_ascii_lowercase().starts_with("file:") {
            return Err(Error::new(
                ErrorKind::UnsafeName,
                &self.name,
                off,
                format!("file reference '{href}' is a URL; only files of the package are read"),
            )
            .with_args(Args { name: Some(href.clone()), ..Args::default() }));
        }
        let stored: SourceRef = match d.chunk_size {
            None => match self.open_file(&safe)? {
                Some(s) => s,
                None => return Ok(DiskFile::Missing(vec![href])),
            },
            Some(chunk) => {
                let mut parts: Vec<SourceRef> = Vec::new();
                let mut pos = 0u64;
                for k in 0..MAX_CHUNKS {
                    let cname = format!("{href}.{k:09}");
                    let Some(s) = self.open_file(&check_reference(&self.name, off, &cname)?)? else {
                        if k == 0 {
                            return Ok(DiskFile::Missing(vec![cname]));
                        }
                        break;
                    };
                    if let Some(prev) = parts.last() {
                        if prev.len() != chunk {
                            return Err(Error::corrupt(
                                prev.name(),
                                prev.len(),
                                format!(
                                    "chunk is {} bytes but ovf:chunkSize is {chunk} and another chunk follows",
                                    prev.len()
                                ),
                            ));
                        }
                    }
                    if s.len() > chunk || s.is_empty() {
                        return Err(Error::corrupt(
                            s.name(),
                            0,
                            format!("chunk is {} bytes; ovf:chunkSize is {chunk}", s.len()),
                        ));
                    }
                    pos += s.len();
                    parts.push(s);
                    if d.file_size.is_some_and(|sz| pos >= sz) {
                        break;
                    }
                }
                if d.file_size.is_some_and(|sz| pos < sz) {
                    let next = format!("{href}.{:09}", parts.len());
                    return Ok(DiskFile::Missing(vec![next]));
                }
                ConcatSource::new(href.clone(), parts)
            }
        };
        if let Some(sz) = d.file_size {
            if sz != stored.len() {
                self.warnings.push(
                    Notice::new(
                        WarnCode::SizeMismatch,
                        &href,
                        format!("the OVF says {sz} bytes, the file has {}", stored.len()),
                    )
                    .with_args(Args {
                        declared: Some(sz),
                        size: Some(stored.len()),
                        ..Args::default()
                    }),
                );
            }
        }
        let stored_len = stored.len();
        let src = match d.compression.as_deref() {
            None => stored,
            Some(c) if c.eq_ignore_ascii_case("gzip") => GzipSource::open(stored, format!("{href} (inflated)"))?,
            Some(c) => {
                return Err(Error::unsupported(
                    &self.name,
                    off,
                    format!("file '{href}': ovf:compression '{c}' (only gzip is defined)"),
                ))
            }
        };
        Ok(DiskFile::Ready(Ready { src, stored_len }))
    }

    /// Warnings for files not in the manifest and manifest entries never used; the
    /// verifier, to finish once the disks are read.
    fn finish(&mut self) -> Option<Verifier> {
        let mut seen = Vec::new();
        for w in self.files.unlisted.take() {
            if !seen.contains(&w) {
                seen.push(w);
            }
        }
        self.warnings.extend(seen);
        if let Some(m) = &self.files.manifest {
            let used = self.files.used.borrow();
            for e in &m.entries {
                if !used.contains(&e.name) {
                    self.warnings.push(
                        Notice::new(
                            WarnCode::ManifestExtra,
                            &m.name,
                            format!("also lists '{}', which is not needed for conversion; not checked", e.name),
                        )
                        .named(&e.name),
                    );
                }
            }
        }
        self.files.verifier.take()
    }
}

/// Disk info built from the descriptor alone (when the disk file is missing or unreadable).
fn info_from_ovf(d: &DiskSummary, present: bool) -> DiskInfo {
    let name = d.file_name.clone().unwrap_or_else(|| d.disk_id.clone());
    DiskInfo {
        name: name.clone(),
        format: "vmdk".into(),
        subformat: d.format.as_deref().and_then(|f| f.rsplit_once('#')).map(|(_, s)| s.to_string()).unwrap_or_default(),
        virtual_size: d.capacity_bytes.unwrap_or(0),
        allocated_bytes: d.populated_size.unwrap_or(0),
        files: d
            .file_name
            .iter()
            .map(|f| FileUse { name: f.clone(), role: "disk".into(), size: d.file_size, present })
            .collect(),
        ..Default::default()
    }
}

/// Make sure `info` names the OVF's file reference (callers use it to tell which given files
/// the descriptor refers to).
fn add_href(info: &mut DiskInfo, d: &DiskSummary, size: u64) {
    if let Some(href) = &d.file_name {
        if !info.files.iter().any(|f| base_name(&f.name) == base_name(href)) {
            info.files.push(FileUse { name: href.clone(), role: "disk".into(), size: Some(size), present: true });
        }
    }
}

fn capacity_warning(name: &str, d: &DiskSummary, virtual_size: u64) -> Option<Notice> {
    match d.capacity_bytes {
        Some(c) if c != virtual_size => Some(
            Notice::new(
                WarnCode::CapacityMismatch,
                name,
                format!("disk '{}' has capacity {c} bytes in the OVF but {virtual_size} bytes in its VMDK", d.disk_id),
            )
            .with_args(Args {
                disk: Some(d.disk_id.clone()),
                declared: Some(c),
                size: Some(virtual_size),
                ..Args::default()
            }),
        ),
        _ => None,
    }
}

/// Open an OVF package for conversion: every disk with a file is opened (missing files are an
/// error naming them); manifest digests are checked as the disks are read, each disk's files by
/// the check it carries (`Disk::check`), which its conversion runs before its last byte.
pub fn open(src: SourceRef, files: &dyn FileSet) -> Result<Opened> {
    let mut p = Package::load(&src, files, true)?;
    let mut disks = Vec::new();
    for i in 0..p.desc.vm.disks.len() {
        let d = p.desc.vm.disks[i].clone();
        if let Some(parent) = &d.parent_ref {
            return Err(Error::unsupported(
                &p.name,
                None,
                format!("disk '{}' is a delta over disk '{parent}' (ovf:parentRef); not supported", d.disk_id),
            ));
        }
        // Files looked up from here on are this disk's (for its `DiskCheck`).
        p.files.disk.set(Some(disks.len()));
        match p.disk_file(i)? {
            DiskFile::Ready(r) => {
                let mut disk = crate::vmdk::open(r.src, &p.files)?;
                add_href(&mut disk.info, &d, r.stored_len);
                p.warnings.extend(capacity_warning(&p.name, &d, disk.info.virtual_size));
                disks.push(disk);
            }
            DiskFile::Missing(names) => {
                return Err(Error::missing(&p.name, &names.join(", "), Referent::DiskFile));
            }
            DiskFile::None => p.warnings.push(
                Notice::new(
                    WarnCode::BlankDisk,
                    &p.name,
                    format!(
                        "disk '{}' has no file (a blank disk created at deployment); nothing to convert",
                        d.disk_id
                    ),
                )
                .disk(&d.disk_id),
            ),
        }
    }
    p.files.disk.set(None);
    if let Some(v) = p.finish() {
        let checks = v.disk_checks(disks.len());
        for (disk, check) in disks.iter_mut().zip(checks) {
            disk.check = Some(check);
        }
    }
    Ok(Opened { kind: InputKind::Ovf, vm: Some(p.desc.vm), suggestion: None, disks, warnings: p.warnings })
}

/// Describe an OVF package: the VM, its disks (read from the VMDKs when present, from the
/// descriptor otherwise), missing files listed rather than failing.
pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<Inspection> {
    let mut p = Package::load(&src, files, false)?;
    let mut disks = Vec::new();
    let mut missing = Vec::new();
    for i in 0..p.desc.vm.disks.len() {
        let d = p.desc.vm.disks[i].clone();
        match p.disk_file(i) {
            Ok(DiskFile::Ready(r)) => match crate::vmdk::inspect(r.src, &p.files) {
                Ok(mut info) => {
                    add_href(&mut info, &d, r.stored_len);
                    missing.extend(info.files.iter().filter(|f| !f.present).map(|f| f.name.clone()));
                    p.warnings.extend(capacity_warning(&p.name, &d, info.virtual_size));
                    disks.push(info);
                }
                Err(e) => {
                    p.warnings.push(e.into());
                    disks.push(info_from_ovf(&d, true));
                }
            },
            Ok(DiskFile::Missing(names)) => {
                missing.extend(names);
                disks.push(info_from_ovf(&d, false));
            }
            Ok(DiskFile::None) => {}
            Err(e) if e.kind == ErrorKind::UnsafeName => return Err(e),
            Err(e) => {
                p.warnings.push(e.into());
                disks.push(info_from_ovf(&d, true));
            }
        }
    }
    if p.files.manifest.is_some() {
        p.warnings.push(Notice::new(
            WarnCode::ManifestChecked,
            &p.name,
            "manifest digests of the disks are checked during conversion",
        ));
    }
    p.finish();
    Ok(Inspection {
        kind: InputKind::Ovf,
        name: p.name.clone(),
        vm: Some(p.desc.vm),
        suggestion: None,
        disks,
        missing,
        warnings: p.warnings,
        os_choices: None,
        guest: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_certificate_are_named_after_the_descriptor() {
        assert_eq!(sibling("dir/vm.OVF", "mf"), "vm.mf");
        assert_eq!(sibling("vm", "mf"), "vm.mf");
        assert_eq!(sibling("a/b.c.ovf", "cert"), "b.c.cert");
    }
}
