//! The QCOW2 version 3 header (qcow2.rst, "Header"), the only fields we write.

/// Header fields as the spec orders them; everything we do not use is written as zero.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// Number of bits used for addressing an offset within a cluster (`1 << cluster_bits` is
    /// the cluster size).
    pub cluster_bits: u32,
    /// Virtual disk size in bytes.
    pub size: u64,
    /// Number of entries in the active L1 table.
    pub l1_size: u32,
    /// Offset into the image file at which the active L1 table starts (cluster aligned).
    pub l1_table_offset: u64,
    /// Offset into the image file at which the refcount table starts (cluster aligned).
    pub refcount_table_offset: u64,
    /// Number of clusters that the refcount table occupies.
    pub refcount_table_clusters: u32,
}

/// `QFI\xfb`
pub const MAGIC: u32 = 0x5146_49fb;
/// refcount_order 4: 16-bit refcounts, qemu's default.
pub const REFCOUNT_ORDER: u32 = 4;
/// Length of the version 3 header including the compression type byte and its padding.
pub const HEADER_LENGTH: u32 = 112;

impl Header {
    /// Serialise into the start of `cluster` (the rest stays as given, normally zero),
    /// followed by the header-extension end marker.
    pub fn write(&self, cluster: &mut [u8]) {
        let mut put = |off: usize, bytes: &[u8]| cluster[off..off + bytes.len()].copy_from_slice(bytes);
        put(0, &MAGIC.to_be_bytes());
        put(4, &3u32.to_be_bytes()); // version
        put(8, &0u64.to_be_bytes()); // backing_file_offset: none
        put(16, &0u32.to_be_bytes()); // backing_file_size
        put(20, &self.cluster_bits.to_be_bytes());
        put(24, &self.size.to_be_bytes());
        put(32, &0u32.to_be_bytes()); // crypt_method: none
        put(36, &self.l1_size.to_be_bytes());
        put(40, &self.l1_table_offset.to_be_bytes());
        put(48, &self.refcount_table_offset.to_be_bytes());
        put(56, &self.refcount_table_clusters.to_be_bytes());
        put(60, &0u32.to_be_bytes()); // nb_snapshots
        put(64, &0u64.to_be_bytes()); // snapshots_offset
        put(72, &0u64.to_be_bytes()); // incompatible_features: none (no dirty bit, no data file)
        put(80, &0u64.to_be_bytes()); // compatible_features: none (no lazy refcounts)
        put(88, &0u64.to_be_bytes()); // autoclear_features: none
        put(96, &REFCOUNT_ORDER.to_be_bytes());
        put(100, &HEADER_LENGTH.to_be_bytes());
        put(104, &[0u8; 8]); // compression_type 0 (deflate) + padding to a multiple of 8
        put(HEADER_LENGTH as usize, &[0u8; 8]); // header extension type 0: end, length 0
    }
}
