//! What opening or inspecting an input gives back. A leaf of `input`: the readers of each kind
//! (`ova`, `ovf`, `vmdk`) build these, and `input` dispatches to them.

use crate::image::{Disk, DiskInfo};
use crate::notice::Notice;
use crate::openstack::Suggestion;
use crate::vm::VmSummary;
use serde::Serialize;

/// The kinds of top-level input we recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Ova,
    Ovf,
    Vmdk,
    /// A QCOW2 image (ours, or one downloaded from Glance): read back to check it.
    Qcow2,
}

/// Opened input: the disks to convert, and for OVF/OVA the VM it describes.
pub struct Opened {
    pub kind: InputKind,
    /// The VM described by the OVF, if any.
    pub vm: Option<VmSummary>,
    /// Suggested Glance properties and flavor for that VM.
    pub suggestion: Option<Suggestion>,
    /// Disks in the order the OVF lists them (one for a lone VMDK), each with the manifest
    /// check of the files it reads when the package has a manifest.
    pub disks: Vec<Disk>,
    pub warnings: Vec<Notice>,
}

/// What `inspect` shows: never fails on missing files, lists them instead.
#[derive(Serialize)]
pub struct Inspection {
    pub kind: InputKind,
    pub name: String,
    pub vm: Option<VmSummary>,
    pub suggestion: Option<Suggestion>,
    pub disks: Vec<DiskInfo>,
    /// Files referenced but not provided, by name.
    pub missing: Vec<String>,
    pub warnings: Vec<Notice>,
    /// A lone disk says nothing about its OS: the suggestions for each answer to "which OS
    /// does it hold?", for the page to ask and apply. None for an OVF or OVA.
    pub os_choices: Option<OsChoices>,
    /// What the guest's own disks say (OS, kernels, boot drivers, risks); None when files
    /// are missing.
    pub guest: Option<crate::guest::Guest>,
}

/// The suggestions for a lone disk holding Linux, Windows or another OS
/// ([`crate::openstack::suggest_for_disk`]).
#[derive(Serialize)]
pub struct OsChoices {
    pub linux: Suggestion,
    pub windows: Suggestion,
    pub other: Suggestion,
}

impl OsChoices {
    /// The three for a disk of `virtual_size` bytes.
    pub fn for_disk(virtual_size: u64) -> OsChoices {
        use crate::openstack::{suggest_for_disk, OsChoice};
        OsChoices {
            linux: suggest_for_disk(OsChoice::Linux, virtual_size),
            windows: suggest_for_disk(OsChoice::Windows, virtual_size),
            other: suggest_for_disk(OsChoice::Other, virtual_size),
        }
    }
}
