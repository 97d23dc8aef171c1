//! VMDK: VMware's virtual disk formats (VMware "Virtual Disk Format 5.0", open-vmdk
//! `vmware_vmdk.h`, qemu `block/vmdk.c` for variants).

pub mod cowd;
pub mod sesparse;

use crate::error::{Error, Result};
use crate::image::{Disk, DiskInfo};
use crate::source::{FileSet, SourceRef};

/// Open a VMDK (sparse, stream-optimized, COWD, seSparse or text descriptor) for reading.
pub fn open(src: SourceRef, files: &dyn FileSet) -> Result<Disk> {
    let _ = files;
    Err(Error::unsupported(src.name(), None, "VMDK reading is not implemented yet"))
}

/// Describe a VMDK without failing on missing extents or parents (they are listed).
pub fn inspect(src: SourceRef, files: &dyn FileSet) -> Result<DiskInfo> {
    open(src, files).map(|d| d.info)
}
