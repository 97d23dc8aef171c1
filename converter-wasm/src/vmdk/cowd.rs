//! COWD: ESX "vmfsSparse" redo-log extents (snapshot deltas on VMFS).

use crate::error::{Error, Result};
use crate::image::Mapper;
use crate::source::SourceRef;

/// Open a COWD extent as a layer: unallocated grains come back as `RunKind::Unallocated`.
pub fn open_extent(src: SourceRef) -> Result<Box<dyn Mapper>> {
    Err(Error::unsupported(src.name(), Some(0), "COWD (vmfsSparse) extents are not implemented yet"))
}
