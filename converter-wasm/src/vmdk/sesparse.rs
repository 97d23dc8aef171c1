//! seSparse: ESXi's space-efficient sparse extents (snapshot deltas on VMFS 6).

use crate::error::{Error, Result};
use crate::image::Mapper;
use crate::source::SourceRef;

/// Open a seSparse extent as a layer: unallocated grains come back as `RunKind::Unallocated`.
pub fn open_extent(src: SourceRef) -> Result<Box<dyn Mapper>> {
    Err(Error::unsupported(src.name(), Some(0), "seSparse extents are not implemented yet"))
}
