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
}
