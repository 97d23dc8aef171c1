//! What the user handed us, recognised by content (not by file extension) and opened into
//! disks: a lone VMDK (sparse, stream-optimized, COWD, seSparse or a text descriptor), an OVF
//! descriptor with its files, or an OVA archive.

pub mod types;

use crate::error::{Error, ErrorKind, Result};
use crate::openstack::suggest;
use crate::source::{FileSet, SourceRef};
pub use types::{InputKind, Inspection, Opened};

/// Recognise an input by its first bytes: tar `ustar` magic at 257 → OVA; XML with an
/// `Envelope` → OVF; anything else is tried as VMDK (whose module knows its own magics).
pub fn detect(src: &dyn crate::Source) -> Result<InputKind> {
    let n = src.len().min(4096) as usize;
    let mut head = vec![0u8; n];
    src.read_exact_at(0, &mut head)?;
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
    };
    opened.suggestion = opened.vm.as_ref().map(suggest);
    Ok(opened)
}

/// Describe one top-level input without converting it.
pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<Inspection> {
    let mut inspection = match detect(src.as_ref())? {
        InputKind::Ova => crate::ova::inspect(src)?,
        InputKind::Ovf => crate::ovf::inspect(src, files)?,
        InputKind::Vmdk => {
            let info = crate::vmdk::inspect(src.clone(), files)?;
            let missing = info.files.iter().filter(|f| !f.present).map(|f| f.name.clone()).collect();
            Inspection {
                kind: InputKind::Vmdk,
                name: src.name().to_string(),
                vm: None,
                suggestion: None,
                warnings: info.warnings.clone(),
                disks: vec![info],
                missing,
            }
        }
    };
    inspection.suggestion = inspection.vm.as_ref().map(suggest);
    Ok(inspection)
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
