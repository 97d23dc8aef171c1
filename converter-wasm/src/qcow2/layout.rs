//! Plans a whole QCOW2 file from the allocation map and emits its metadata cluster by cluster
//! (a pull-style state machine, so the browser can ask for the next piece of output and the
//! native side can stream it; nothing proportional to the file is buffered).

use super::header::Header;
use super::*;
use crate::error::{Error, Result};
use crate::plan::{AllocMap, OutputFormat};
use crate::units::{mem_len, Sectors};

/// Most clusters an output's allocation map may track. The map holds one bit per guest
/// cluster, so this bounds it at 128 MiB, which wasm32 can still allocate. At the default
/// 64 KiB clusters, and so for every raw output, that is 64 TiB: more than the largest disk
/// VMware creates (62 TB on VMFS 6) and seSparse's 64 TiB maximum. Smaller QCOW2 clusters
/// cover proportionally less.
pub const MAX_MAP_CLUSTERS: u64 = 1 << 30;

/// The largest virtual size QCOW2 addresses with `2^cluster_bits`-byte clusters (9..=21): each
/// of the at most [`MAX_L1_BYTES`] / 8 L1 entries covers an L2 table of `c / 8` clusters, and
/// qemu refuses images longer than `i64::MAX` (`BDRV_MAX_LENGTH`).
pub fn max_virtual_size(cluster_bits: u32) -> u64 {
    let per_l1_entry = 1u64 << (2 * cluster_bits - 3);
    (MAX_L1_BYTES / 8).saturating_mul(per_l1_entry).min(i64::MAX as u64)
}

/// Refuse, before anything is sized from it, a disk `file` of `virtual_size` bytes that the
/// output cannot hold: QCOW2 must address it with `2^cluster_bits`-byte clusters
/// ([`max_virtual_size`]), and every output's allocation map (one bit per cluster; raw plans
/// in 64 KiB clusters) must stay within [`MAX_MAP_CLUSTERS`]. Pure arithmetic, so the same
/// test runs natively and in wasm32, where a bigger map could not even be indexed.
pub fn check_output_size(file: &str, virtual_size: u64, format: OutputFormat, cluster_bits: u32) -> Result<()> {
    if !(MIN_CLUSTER_BITS..=MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return Err(Error::invalid(format!("cluster size 2^{cluster_bits} outside 512 B .. 2 MiB")));
    }
    let c = 1u64 << cluster_bits;
    let max = max_virtual_size(cluster_bits);
    if format != OutputFormat::Raw && virtual_size > max {
        return Err(Error::too_large(
            file,
            None,
            format!(
                "virtual size of {virtual_size} bytes is more than QCOW2 with {c}-byte clusters can address \
                 (at most {max} bytes: qemu opens L1 tables of up to {MAX_L1_BYTES} bytes)"
            ),
        ));
    }
    let clusters = virtual_size.div_ceil(c);
    if clusters > MAX_MAP_CLUSTERS {
        let hint = if format == OutputFormat::Raw { "" } else { "; larger QCOW2 clusters cover more" };
        return Err(Error::too_large(
            file,
            None,
            format!(
                "virtual size of {virtual_size} bytes is {clusters} clusters of {c} bytes; a conversion tracks \
                 at most {MAX_MAP_CLUSTERS} clusters in memory ({} bytes of disk at this cluster size){hint}",
                MAX_MAP_CLUSTERS * c
            ),
        ));
    }
    Ok(())
}

/// Stored lengths of the allocated clusters of a compressed image, in guest order. A length
/// equal to the cluster size means the cluster is stored uncompressed (deflate did not help),
/// as qemu does.
#[derive(Clone, Debug, Default)]
pub struct Compressed {
    pub lens: Vec<u32>,
}

/// Places stored clusters one after another in the data area: compressed ones byte-packed
/// (they may straddle host clusters, as qemu's do), uncompressed ones cluster-aligned.
#[derive(Clone, Debug)]
pub struct Packer {
    cluster_size: u64,
    /// Next free byte, relative to the data area.
    pub cursor: u64,
}

impl Packer {
    pub fn new(cluster_size: u64) -> Self {
        Packer { cluster_size, cursor: 0 }
    }
    /// Where a stored cluster of `len` bytes goes (relative to the data area), and the padding
    /// to write before it.
    pub fn place(&mut self, len: u32) -> (u64, u64) {
        let start =
            if len as u64 >= self.cluster_size { self.cursor.next_multiple_of(self.cluster_size) } else { self.cursor };
        let pad = start - self.cursor;
        self.cursor = start + len as u64;
        (start, pad)
    }
}

/// Where everything goes in the output file. All offsets are bytes, cluster aligned.
#[derive(Clone, Debug)]
pub struct Layout {
    pub cluster_bits: u32,
    pub virtual_size: u64,
    pub l1_size: u64,
    pub l1_offset: u64,
    pub rt_offset: u64,
    pub rt_clusters: u64,
    pub rb_offset: u64,
    pub rb_count: u64,
    pub l2_offset: u64,
    /// For each L1 index, the number of its L2 table among those emitted, if it has one.
    l2_of_l1: Vec<Option<u32>>,
    pub l2_count: u64,
    pub data_offset: u64,
    /// Clusters in the data area.
    pub data_clusters: u64,
    /// Refcounts of the data area's clusters (compressed images only; otherwise all 1).
    data_refcounts: Option<Vec<u16>>,
    pub file_len: u64,
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

impl Layout {
    /// Plan the file. `alloc` has one bit per guest cluster; `compressed` gives stored
    /// lengths for a compressed image.
    pub fn new(
        virtual_size: u64,
        cluster_bits: u32,
        alloc: &AllocMap,
        compressed: Option<&Compressed>,
    ) -> Result<Self> {
        check_output_size("", virtual_size, OutputFormat::Qcow2, cluster_bits)?;
        let c = 1u64 << cluster_bits;
        let l2_entries = c / 8;
        let guest_clusters = div_ceil(virtual_size, c);
        let l1_size = div_ceil(guest_clusters, l2_entries);
        if alloc.len() != guest_clusters {
            return Err(Error::invalid("allocation map does not match the virtual size"));
        }
        // Which L1 ranges hold data.
        let mut l2_of_l1 = vec![None; mem_len(l1_size, "", None, "L1 table entries")?];
        let mut l2_count = 0u64;
        for (i, slot) in l2_of_l1.iter_mut().enumerate() {
            let first = i as u64 * l2_entries;
            if alloc.any_in(first, (first + l2_entries).min(guest_clusters)) {
                *slot = Some(l2_count as u32);
                l2_count += 1;
            }
        }
        // Data area size and, for compressed images, per-cluster refcounts of it.
        let (data_clusters, data_refcounts) = match compressed {
            None => (alloc.count(), None),
            Some(comp) => {
                if comp.lens.len() as u64 != alloc.count() {
                    return Err(Error::invalid("compressed lengths do not match the allocation map"));
                }
                let mut p = Packer::new(c);
                let mut rc: Vec<u16> = Vec::new();
                for &len in &comp.lens {
                    let (start, _) = p.place(len);
                    let (first, last) = (start / c, (start + len as u64 - 1) / c);
                    if rc.len() as u64 <= last {
                        rc.resize(last as usize + 1, 0);
                    }
                    for k in first..=last {
                        rc[k as usize] =
                            rc[k as usize].checked_add(1).ok_or_else(|| Error::invalid("refcount overflow"))?;
                    }
                }
                (div_ceil(p.cursor, c), Some(rc))
            }
        };
        let l1_clusters = div_ceil(l1_size * 8, c).max(1);
        // Refcount blocks cover the whole file, including themselves: iterate to a fixpoint.
        let per_rb = c * 8 / 16;
        let fixed = 1 + l1_clusters + l2_count + data_clusters;
        let (mut rb_count, mut rt_clusters) = (1u64, 1u64);
        loop {
            let total = fixed + rt_clusters + rb_count;
            let need_rb = div_ceil(total, per_rb);
            let need_rt = div_ceil(need_rb * 8, c).max(1);
            if need_rb == rb_count && need_rt == rt_clusters {
                break;
            }
            rb_count = need_rb;
            rt_clusters = need_rt;
        }
        if rt_clusters * c > MAX_REFTABLE_BYTES {
            return Err(Error::too_large("", None, "output would need a refcount table larger than qemu accepts"));
        }
        let l1_offset = c;
        let rt_offset = l1_offset + l1_clusters * c;
        let rb_offset = rt_offset + rt_clusters * c;
        let l2_offset = rb_offset + rb_count * c;
        let data_offset = l2_offset + l2_count * c;
        let file_len = data_offset + data_clusters * c;
        if file_len >= MAX_HOST_OFFSET {
            return Err(Error::too_large("", None, "output file would exceed QCOW2's 2^56-byte host offset limit"));
        }
        Ok(Layout {
            cluster_bits,
            virtual_size,
            l1_size,
            l1_offset,
            rt_offset,
            rt_clusters,
            rb_offset,
            rb_count,
            l2_offset,
            l2_of_l1,
            l2_count,
            data_offset,
            data_clusters,
            data_refcounts,
            file_len,
        })
    }

    pub fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    /// Refcount of host cluster `k`.
    fn refcount(&self, k: u64) -> u16 {
        let data_start = self.data_offset >> self.cluster_bits;
        if k < data_start {
            1
        } else if k < data_start + self.data_clusters {
            match &self.data_refcounts {
                None => 1,
                Some(rc) => rc.get((k - data_start) as usize).copied().unwrap_or(0),
            }
        } else {
            0
        }
    }

    /// Emit the metadata (everything before the data area), one cluster per call.
    pub fn metadata(&self) -> MetaWriter {
        MetaWriter { next: 0, rank: 0, packer: Packer::new(self.cluster_size()), l1_cursor: 0 }
    }
}

/// Produces the metadata clusters in file order. Holds only its position, so it can live
/// beside the layout it reads.
#[derive(Clone, Debug)]
pub struct MetaWriter {
    /// Next cluster index to produce.
    next: u64,
    /// Allocated guest clusters already given a host offset (L2 emission).
    rank: u64,
    packer: Packer,
    /// L1 index of the last L2 table emitted.
    l1_cursor: usize,
}

impl MetaWriter {
    /// Fill `out` (one cluster, zeroed by this call) with the next metadata cluster; false when
    /// the metadata is complete and the data area starts.
    pub fn next_cluster(
        &mut self,
        l: &Layout,
        alloc: &AllocMap,
        compressed: Option<&Compressed>,
        out: &mut [u8],
    ) -> bool {
        let c = l.cluster_size();
        let k = self.next;
        let off = k * c;
        if off >= l.data_offset {
            return false;
        }
        out.fill(0);
        if k == 0 {
            Header {
                cluster_bits: l.cluster_bits,
                size: l.virtual_size,
                l1_size: l.l1_size as u32,
                l1_table_offset: l.l1_offset,
                refcount_table_offset: l.rt_offset,
                refcount_table_clusters: l.rt_clusters as u32,
            }
            .write(out);
        } else if off < l.rt_offset {
            // L1 table.
            let first = (off - l.l1_offset) / 8;
            for (j, e) in out.chunks_exact_mut(8).enumerate() {
                let i = first + j as u64;
                if i >= l.l1_size {
                    break;
                }
                if let Some(t) = l.l2_of_l1[i as usize] {
                    e.copy_from_slice(&((l.l2_offset + t as u64 * c) | FLAG_COPIED).to_be_bytes());
                }
            }
        } else if off < l.rb_offset {
            // Refcount table.
            let first = (off - l.rt_offset) / 8;
            for (j, e) in out.chunks_exact_mut(8).enumerate() {
                let i = first + j as u64;
                if i < l.rb_count {
                    e.copy_from_slice(&(l.rb_offset + i * c).to_be_bytes());
                }
            }
        } else if off < l.l2_offset {
            // Refcount blocks.
            let first = (off - l.rb_offset) / c * (c / 2);
            for (j, e) in out.chunks_exact_mut(2).enumerate() {
                e.copy_from_slice(&l.refcount(first + j as u64).to_be_bytes());
            }
        } else {
            // L2 table number t: find its L1 index.
            let t = (off - l.l2_offset) / c;
            let l2_entries = c / 8;
            while l.l2_of_l1.get(self.l1_cursor).is_some_and(|x| *x != Some(t as u32)) {
                self.l1_cursor += 1;
            }
            let l1_index = self.l1_cursor as u64;
            let first = l1_index * l2_entries;
            let end = (first + l2_entries).min(alloc.len());
            let x = 62 - (l.cluster_bits - 8);
            for g in first..end {
                if !alloc.get(g) {
                    continue;
                }
                let entry = match compressed {
                    None => (l.data_offset + self.rank * c) | FLAG_COPIED,
                    Some(comp) => {
                        let len = comp.lens[self.rank as usize];
                        let (rel, _) = self.packer.place(len);
                        let host = l.data_offset + rel;
                        if len as u64 >= c {
                            host | FLAG_COPIED
                        } else {
                            // Sectors the stored bytes reach into beyond the first.
                            let sectors = Sectors::floor(host + len as u64 - 1).0 - Sectors::floor(host).0;
                            FLAG_COMPRESSED | (sectors << x) | host
                        }
                    }
                };
                self.rank += 1;
                let j = ((g - first) * 8) as usize;
                out[j..j + 8].copy_from_slice(&entry.to_be_bytes());
            }
        }
        self.next += 1;
        true
    }
}
