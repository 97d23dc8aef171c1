//! Raw output: the guest bytes in order, holes written as zeros (the shells' writers turn long
//! zero runs into sparse-file holes or skipped ranges).

use crate::error::Result;
use crate::output::Writer;
use bytes::Bytes;

/// A decoded unit: its guest bytes as they are.
pub fn write_unit(w: &mut Writer, data: &Bytes) -> Result<()> {
    w.write_shared(data)
}

/// A unit with no data: `len` zeros.
pub fn write_hole(w: &mut Writer, len: u64) -> Result<()> {
    w.zeros(len)
}
