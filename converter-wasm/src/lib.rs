//! stackferry's converter core: VMware disks (VMDK in all its hosted and ESXi variants, OVF
//! packages, OVA archives) to images OpenStack boots (QCOW2, compressed QCOW2, raw).
//!
//! The core is I/O-agnostic: inputs are random-access [`source::Source`]s, output goes to a
//! byte sink (`FnMut(&[u8])`). Work is split in three so it can be spread over threads or Web
//! Workers:
//! - **open/plan** ([`input`], [`plan`]): read metadata only, build the guest map
//!   ([`image::Mapper`]), find the holes and lay the whole output out, so its total length is
//!   known before the first data byte;
//! - **decode** ([`decode`]): a pure function from a job (one unit of output, max(cluster,
//!   64 KiB)) and its source bytes to its guest bytes, digest block hashes and, for compressed
//!   QCOW2, stored clusters; no I/O, so it runs on any thread or worker;
//! - **assemble** ([`convert`]): hands out the jobs (mapping and reading their sources) and
//!   writes metadata and decoded units in order through the format's writer ([`raw`],
//!   [`qcow2::writer`]).
//!
//! Memory is bounded independently of the disk size except for one bit per output cluster of
//! allocation map (4 MiB per 2 TiB at 64 KiB clusters) plus, for compressed QCOW2 only, six
//! bytes per allocated cluster: its measured stored length (4 bytes) and the refcount of the
//! host cluster it is packed into (2 bytes; there are no more host clusters than allocated
//! ones). See README.md for the stated bound.

pub mod bytes;
pub mod cache;
pub mod convert;
pub mod decode;
pub mod digest;
pub mod driver;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod guest;
pub mod gzip;
pub mod image;
pub mod input;
#[cfg(feature = "native")]
pub mod libdeflate;
pub mod manifest;
pub mod migration;
#[cfg(feature = "native")]
pub mod native;
pub mod notice;
pub mod openstack;
pub mod output;
pub mod ova;
pub mod ovf;
pub mod plan;
pub mod qcow2;
pub mod raw;
pub mod source;
pub mod units;
pub mod vm;
pub mod vmdk;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Args, Error, ErrorCode, ErrorKind, Referent, Result};
pub use image::{Disk, DiskInfo, Mapper, Run, RunKind};
pub use notice::{Notice, NoticeCode, WarnCode};
pub use source::{FileSet, Source, SourceRef};

/// Data for the unit tests.
#[cfg(test)]
pub(crate) mod testdata {
    /// `len` bytes of deterministic noise (xorshift32 from `seed`, not 0): deflate cannot shrink it.
    pub fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }
}
