//! What the user handed us, recognised by content (not by file extension) and opened into
//! disks: a lone VMDK (sparse, stream-optimized, COWD, seSparse or a text descriptor), an OVF
//! descriptor with its files, an OVA archive, or a QCOW2 image (to read back what was made).

pub mod types;

use crate::error::{Error, ErrorKind, Result};
use crate::openstack::{suggest, OsChoice};
use crate::source::{FileSet, SafeName, SourceRef};
use serde::Serialize;
use std::cell::RefCell;
pub use types::{InputKind, Inspection, Opened, OsChoices};

/// Recognise an input by its first bytes: tar `ustar` magic at 257 → OVA; XML with an
/// `Envelope` → OVF; anything else is tried as VMDK (whose module knows its own magics).
pub fn detect(src: &dyn crate::Source) -> Result<InputKind> {
    let n = src.len().min(4096) as usize;
    let mut head = vec![0u8; n];
    src.read_exact_at(0, &mut head)?;
    if crate::qcow2::reader::is_qcow2(&head) {
        return Ok(InputKind::Qcow2);
    }
    if n >= 262 && &head[257..262] == b"ustar" {
        return Ok(InputKind::Ova);
    }
    let text = String::from_utf8_lossy(&head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<?xml") || t.starts_with('<') && text.contains("Envelope") {
        return Ok(InputKind::Ovf);
    }
    Ok(InputKind::Vmdk)
}

/// Open one top-level input for conversion. Missing referenced files are an error naming them.
pub fn open(src: SourceRef, files: &dyn FileSet) -> Result<Opened> {
    let mut opened = match detect(src.as_ref())? {
        InputKind::Ova => crate::ova::open(src)?,
        InputKind::Ovf => crate::ovf::open(src, files)?,
        InputKind::Vmdk => {
            let disk = crate::vmdk::open(src, files)?;
            Opened { kind: InputKind::Vmdk, vm: None, suggestion: None, disks: vec![disk], warnings: vec![] }
        }
        InputKind::Qcow2 => {
            let disk = crate::qcow2::reader::open(src)?;
            Opened { kind: InputKind::Qcow2, vm: None, suggestion: None, disks: vec![disk], warnings: vec![] }
        }
    };
    opened.suggestion = opened.vm.as_ref().map(suggest);
    Ok(opened)
}

/// Describe one top-level input without converting it.
pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<Inspection> {
    let mut inspection = match detect(src.as_ref())? {
        InputKind::Ova => crate::ova::inspect(src.clone())?,
        InputKind::Ovf => crate::ovf::inspect(src.clone(), files)?,
        kind @ (InputKind::Vmdk | InputKind::Qcow2) => {
            let info = if kind == InputKind::Vmdk {
                crate::vmdk::inspect(src.clone(), files)?
            } else {
                crate::qcow2::reader::open(src.clone())?.info
            };
            let missing = info.files.iter().filter(|f| !f.present).map(|f| f.name.clone()).collect();
            Inspection {
                kind,
                name: src.name().to_string(),
                vm: None,
                suggestion: None,
                warnings: info.warnings.clone(),
                os_choices: Some(OsChoices::for_disk(info.virtual_size)),
                disks: vec![info],
                missing,
                guest: None,
            }
        }
    };
    inspection.suggestion = inspection.vm.as_ref().map(suggest);
    if inspection.missing.is_empty() {
        // What is inside the guest: read-only, never a reason to fail the inspection.
        let guest = match open(src, files) {
            Ok(opened) => crate::guest::inspect(opened.disks),
            Err(e) => crate::guest::Guest { problems: vec![e.to_string()], ..Default::default() },
        };
        let family = guest.os.as_ref().map(|o| o.family.as_str());
        // A lone disk whose OS the guest tells: suggest for it as if the user had chosen it, and
        // no longer ask.
        if let (None, Some(fam @ ("linux" | "windows"))) = (&inspection.suggestion, family) {
            let choice = if fam == "linux" { OsChoice::Linux } else { OsChoice::Windows };
            let size = inspection.disks.first().map_or(0, |d| d.virtual_size);
            inspection.suggestion = Some(crate::openstack::suggest_for_disk(choice, size));
            inspection.os_choices = None;
        }
        if let Some(s) = inspection.suggestion.as_mut() {
            crate::openstack::apply_guest(s, &guest);
        }
        inspection.guest = Some(guest);
    }
    Ok(inspection)
}

/// The guest's file tree on the disks of input `src`, mounted as its `/etc/fstab` says
/// (`stackferry ls`/`cat`, the page's file browser); an error says what was found instead.
pub fn guest_tree(src: SourceRef, files: &dyn FileSet) -> Result<crate::guest::mounts::Tree> {
    let name = src.name().to_string();
    let guest = crate::guest::open(open(src, files)?.disks);
    guest.tree.ok_or_else(|| {
        let vols: Vec<String> = guest.volumes.iter().map(|v| format!("{} ({})", v.name, v.content)).collect();
        let mut why = format!("no Linux root file system found; volumes: {}", vols.join(", "));
        for p in &guest.problems {
            why.push_str(&format!("; {p}"));
        }
        Error::unsupported(&name, None, why)
    })
}

/// Pick inputs apart when the user gives several files at once (an .ovf with its .vmdk and
/// .mf, or a descriptor with its extents, or several lone disks): the tops are the files no
/// other given file refers to. Returns indexes into `inputs`.
pub fn top_level(inputs: &[SourceRef], files: &dyn FileSet) -> Result<Vec<usize>> {
    let mut referenced = std::collections::HashSet::new();
    for src in inputs {
        if let Ok(ins) = inspect(src.clone(), files) {
            for d in &ins.disks {
                for f in &d.files {
                    if f.name != src.name() {
                        referenced.insert(crate::source::base_name(&f.name).to_string());
                    }
                }
            }
        }
    }
    let tops: Vec<usize> = (0..inputs.len())
        .filter(|&i| !referenced.contains(crate::source::base_name(inputs[i].name())))
        .filter(|&i| !inputs[i].name().to_ascii_lowercase().ends_with(".mf"))
        .collect();
    if tops.is_empty() {
        return Err(Error::new(ErrorKind::InvalidArgument, "", None, "no top-level disk, OVF or OVA among the inputs"));
    }
    Ok(tops)
}

/// One top-level input among the given files, for [`inspect_all`].
#[derive(Serialize)]
pub struct InputFiles {
    /// Index of the top-level file among the given ones.
    pub top: usize,
    pub name: String,
    /// Indexes of the given files this input uses (itself first).
    pub uses: Vec<usize>,
    /// What the input is, or why it could not be read (one bad input does not fail the rest).
    pub inspection: Option<Inspection>,
    pub error: Option<Error>,
}

/// What a set of given files holds: [`inspect_all`].
#[derive(Serialize)]
pub struct Inspected {
    pub inputs: Vec<InputFiles>,
    /// Indexes of the given files no input uses.
    pub unused: Vec<usize>,
}

/// Inspect every top-level input among `files` (the page's dropped files, resolved through
/// `set`), saying which of the files each one uses and which files none does, so the page can
/// show what belongs to what. A bad input gives an `error` entry, not a failure of the whole.
pub fn inspect_all(files: &[SourceRef], set: &dyn FileSet) -> Result<Inspected> {
    let mut used = vec![false; files.len()];
    let mut inputs = Vec::new();
    for top in top_level(files, set)? {
        let src = files[top].clone();
        let rec = Recording { set, files, used: RefCell::new(vec![top]) };
        let (inspection, error) = match inspect(src.clone(), &rec) {
            Ok(ins) => (Some(ins), None),
            Err(e) => (None, Some(e)),
        };
        let uses = rec.used.into_inner();
        for &i in &uses {
            used[i] = true;
        }
        inputs.push(InputFiles { top, name: src.name().to_string(), uses, inspection, error });
    }
    let unused = (0..files.len()).filter(|&i| !used[i]).collect();
    Ok(Inspected { inputs, unused })
}

/// A file set that notes which of the given files were looked up (extents, parents, OVF
/// references, the manifest beside an OVF).
struct Recording<'a> {
    set: &'a dyn FileSet,
    files: &'a [SourceRef],
    used: RefCell<Vec<usize>>,
}

impl FileSet for Recording<'_> {
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>> {
        let found = self.set.open(referrer, name)?;
        if let Some(src) = &found {
            let at = std::sync::Arc::as_ptr(src) as *const u8;
            let i = self.files.iter().position(|f| std::sync::Arc::as_ptr(f) as *const u8 == at);
            let mut used = self.used.borrow_mut();
            if let Some(i) = i.filter(|i| !used.contains(i)) {
                used.push(i);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MemSource, NamedFiles};

    const DESC: &str =
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\
                        RW 8 FLAT \"d-flat.vmdk\" 0\n";

    #[test]
    fn inspect_all_says_which_files_each_input_uses() {
        let files: Vec<SourceRef> = vec![
            MemSource::new("a/d.vmdk", DESC.as_bytes().to_vec()),
            MemSource::new("notes.txt", b"not a disk at all".to_vec()),
            MemSource::new("a/d-flat.vmdk", vec![0; 4096]),
            MemSource::new("b/d.vmdk", DESC.as_bytes().to_vec()),
            MemSource::new("b/d-flat.vmdk", vec![0; 4096]),
        ];
        let all = inspect_all(&files, &NamedFiles::new(files.clone())).unwrap();
        let tops: Vec<_> = all.inputs.iter().map(|i| (i.top, i.uses.clone(), i.error.is_some())).collect();
        // Each descriptor uses its own folder's extent; the text file is an input of its own
        // that fails alone.
        assert_eq!(tops, vec![(0, vec![0, 2], false), (1, vec![1], true), (3, vec![3, 4], false)]);
        assert_eq!(all.inputs[1].error.as_ref().unwrap().file, "notes.txt");
        assert!(all.unused.is_empty());
        // A descriptor alone: its extent is missing (listed, not an error).
        let all = inspect_all(&files[..1], &NamedFiles::new(files[..1].to_vec())).unwrap();
        assert_eq!(all.inputs[0].inspection.as_ref().unwrap().missing, vec!["d-flat.vmdk"]);
        // A file nothing refers to and that is no input: a manifest on its own.
        let files = vec![files[0].clone(), files[2].clone(), MemSource::new("x.mf", b"SHA1(q)= 00".to_vec())];
        let all = inspect_all(&files, &NamedFiles::new(files.clone())).unwrap();
        assert_eq!((all.inputs.len(), all.unused.clone()), (1, vec![2]));
    }
}
