//! stackferry's converter core: VMware disks (VMDK in all its hosted and ESXi variants, OVF
//! packages, OVA archives) to images OpenStack boots (QCOW2, compressed QCOW2, raw).
//!
//! The core is I/O-agnostic: inputs are random-access [`source::Source`]s, output is any
//! `std::io::Write`. Work is split in three so it can be spread over threads or Web Workers:
//! - **open/plan** ([`input`], [`plan`]): read metadata only, build the guest map
//!   ([`image::Mapper`]) and the complete output layout, whose total length is known before
//!   the first data byte;
//! - **decode** ([`decode`]): a pure function from the source bytes of one output cluster to
//!   its guest bytes (inflate, zero check, digest, optional deflate);
//! - **assemble** ([`convert`]): emits metadata and decoded clusters in order to the sink.
//!
//! Memory is bounded independently of the disk size except for one bit per output cluster of
//! allocation map (4 MiB per 2 TiB at 64 KiB clusters) plus, for compressed QCOW2 only, four
//! bytes per allocated cluster of measured lengths. See README.md for the stated bound.

pub mod convert;
pub mod decode;
pub mod digest;
pub mod error;
pub mod gzip;
pub mod image;
pub mod input;
pub mod manifest;
#[cfg(feature = "native")]
pub mod native;
pub mod openstack;
pub mod ova;
pub mod ovf;
pub mod plan;
pub mod qcow2;
pub mod source;
pub mod vm;
pub mod vmdk;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, ErrorKind, Result};
pub use image::{Disk, DiskInfo, Mapper, Run, RunKind};
pub use source::{FileSet, Source, SourceRef};
