//! OVA: a tar archive (ustar/pax/GNU) holding an OVF, its disks and a manifest. Members are
//! read in place by offset, never extracted.

use crate::error::{Error, Result};
use crate::input::{Inspection, Opened};
use crate::source::SourceRef;

pub fn open(src: SourceRef) -> Result<Opened> {
    Err(Error::unsupported(src.name(), None, "OVA reading is not implemented yet"))
}

pub fn inspect(src: SourceRef) -> Result<Inspection> {
    Err(Error::unsupported(src.name(), None, "OVA reading is not implemented yet"))
}
