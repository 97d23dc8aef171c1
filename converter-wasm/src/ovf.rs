//! OVF descriptors (DMTF DSP0243; VMware and VirtualBox dialects): the VM's hardware.

use crate::error::{Error, Result};
use crate::input::{Inspection, Opened};
use crate::source::{FileSet, SourceRef};
use serde::Serialize;

/// The VM an OVF describes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VmSummary {
    pub name: String,
}

pub fn open(src: SourceRef, files: &dyn FileSet) -> Result<Opened> {
    let _ = files;
    Err(Error::unsupported(src.name(), None, "OVF reading is not implemented yet"))
}

pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<Inspection> {
    let _ = files;
    Err(Error::unsupported(src.name(), None, "OVF reading is not implemented yet"))
}
