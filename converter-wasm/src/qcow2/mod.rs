//! QCOW2 output (qemu `docs/interop/qcow2.rst`), written as one front-to-back stream whose
//! length is known before the first byte.
//!
//! Hand-written because no crate writes QCOW2 as a stream: existing writers (qemu, imago)
//! allocate as they go and seek back to update tables. Here the whole file is planned from the
//! allocation map first, so every table can be emitted before the data it describes:
//!
//! ```text
//! cluster 0            header (version 3, refcount_order 4, no extensions but the end mark)
//! L1 table             one entry per 2^(2*cluster_bits-3) guest bytes
//! refcount table       → refcount blocks
//! refcount blocks      16-bit refcounts for every cluster of the file
//! L2 tables            only for L1 ranges holding data
//! data                 allocated clusters in guest order (compressed: packed byte-wise)
//! ```
//!
//! The output has no backing file, no external data file, no snapshots, no encryption and no
//! feature bits, which is what Glance's format inspector requires.

pub mod compress;
pub mod header;
#[cfg(feature = "native")]
pub mod in_place;
pub mod layout;
pub mod probe;
pub mod reader;
pub mod writer;

pub use layout::{Compressed, Layout};

/// Smallest cluster size. Defined by the specification (cluster_bits >= 9).
pub const MIN_CLUSTER_BITS: u32 = 9;
/// Largest cluster size, 2 MiB. This is qemu's limit, so we apply it too.
pub const MAX_CLUSTER_BITS: u32 = 21;
/// Default cluster size, 64 KiB, as `qemu-img create` uses.
pub const DEFAULT_CLUSTER_SIZE: u32 = 64 * 1024;
/// Largest L1 table qemu opens (QCOW_MAX_L1_SIZE, 32 MiB): bounds the virtual size.
pub const MAX_L1_BYTES: u64 = 32 << 20;
/// Largest refcount table qemu opens (QCOW_MAX_REFTABLE_SIZE, 8 MiB).
pub const MAX_REFTABLE_BYTES: u64 = 8 << 20;
/// Host offsets in L1/L2 entries are bits 9..55: files must stay below 2^56 bytes.
pub const MAX_HOST_OFFSET: u64 = 1 << 56;
/// L1/L2 entry flag: refcount is exactly one (spec: "COPIED").
pub const FLAG_COPIED: u64 = 1 << 63;
/// L2 entry flag: the cluster is compressed.
pub const FLAG_COMPRESSED: u64 = 1 << 62;
/// Window of the raw deflate streams in compressed clusters: qemu inflates with 12 bits, so
/// data must not refer further back than 4 KiB.
pub const DEFLATE_WINDOW_BITS: u8 = 12;
