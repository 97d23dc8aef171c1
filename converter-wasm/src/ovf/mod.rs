//! OVF packages (DMTF DSP0243 1.x and 2.0; VMware ovftool/ESXi/vCenter and VirtualBox
//! dialects): [`descriptor`] parses the `.ovf` into the VM and the files it references;
//! [`package`] opens the package around it: manifest, certificate, and each disk's file
//! (checked by name, chunks joined, gzip inflated) through the VMDK reader. An OVA (`ova`) is
//! the same package inside a tar archive.

pub mod descriptor;
pub mod package;

pub use descriptor::{parse, read, unit_bytes, Descriptor, FileRef, MAX_ELEMENTS, MAX_OVF_NODES, MAX_OVF_SIZE};
pub use package::{inspect, open, MAX_CHUNKS};
