//! Reading a QCOW2 image (qcow2.rst) as a disk: so `stackferry ls`/`cat`/`inspect` (and
//! `convert`) take back what we wrote, or an image downloaded from Glance, and check the guest
//! in it without booting anything. The two-level map only: L1 → L2 → data clusters, zero
//! clusters (version 3's flag) and unallocated ones. Refused with a clear error: a backing
//! file, encryption, an external data file, an unknown incompatible feature, and (for now)
//! compressed clusters — a `qemu-img convert -c` or `stackferry convert -c` output — named
//! with the guest offset that needs one.

use super::{FLAG_COMPRESSED, MAX_CLUSTER_BITS, MAX_HOST_OFFSET, MAX_L1_BYTES, MAX_REFTABLE_BYTES, MIN_CLUSTER_BITS};
use crate::bytes::{be32, be64};
use crate::cache::Lru;
use crate::error::{Error, Result};
use crate::image::{push_run, Disk, DiskInfo, FileUse, Mapper, Run, RunKind};
use crate::source::{read_vec, SourceRef};
use std::cell::RefCell;
use std::rc::Rc;

/// Host offset bits of an L1 or standard L2 entry.
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
/// Version 3: the cluster reads as zeros.
const FLAG_ZERO: u64 = 1;
/// L2 tables kept: 32 of them map 32 × 8192 × 64 KiB = 16 GiB at the default cluster size.
const L2_CACHE: usize = 32;
/// Largest virtual size accepted (the spec's own limit for 64 KiB clusters is far above).
const MAX_SIZE: u64 = 1 << 55;

/// True when `head` starts with the QCOW2 magic.
pub fn is_qcow2(head: &[u8]) -> bool {
    head.len() >= 4 && head[..4] == super::probe::MAGIC
}

struct Map {
    src: SourceRef,
    cluster_bits: u32,
    size: u64,
    l1: Vec<u64>,
    l2: RefCell<Lru<usize, Rc<Vec<u64>>>>,
}

/// Open `src` as a QCOW2 disk.
pub fn open(src: SourceRef) -> Result<Disk> {
    let name = src.name().to_string();
    let h = read_vec(src.as_ref(), 0, 104.min(src.len()))?;
    if h.len() < 72 || !is_qcow2(&h) {
        return Err(Error::not_a_disk(&name, Some(0), "no QCOW2 header"));
    }
    let bad = |at: u64, what: String| Err(Error::unsupported(&name, Some(at), what));
    let corrupt = |at: u64, what: String| Err(Error::corrupt(&name, at, what));
    let version = be32(&h, 4);
    if !(2..=3).contains(&version) {
        return bad(4, format!("QCOW2 version {version} (2 and 3 are read)"));
    }
    if be64(&h, 8) != 0 {
        return bad(
            8,
            "the QCOW2 image has a backing file: convert it with qemu-img to a standalone image first".into(),
        );
    }
    let cluster_bits = be32(&h, 20);
    if !(MIN_CLUSTER_BITS..=MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return corrupt(20, format!("QCOW2 cluster_bits {cluster_bits}"));
    }
    let size = be64(&h, 24);
    if size > MAX_SIZE {
        return Err(Error::over_limit(&name, Some(24), size, MAX_SIZE, format!("QCOW2 virtual size {size}")));
    }
    if be32(&h, 32) != 0 {
        return bad(32, "the QCOW2 image is encrypted".into());
    }
    // Fields reading does not use, checked as qemu checks them: an image qemu refuses to open
    // is refused here too, never converted into something qemu would not have made.
    let cluster = 1u64 << cluster_bits;
    let (reftable_at, reftable_clusters) = (be64(&h, 48), u64::from(be32(&h, 56)));
    if reftable_at % cluster != 0 {
        return corrupt(48, format!("QCOW2 refcount table offset {reftable_at:#x} is not cluster-aligned"));
    }
    if reftable_clusters * cluster > MAX_REFTABLE_BYTES {
        return corrupt(
            56,
            format!("QCOW2 refcount table of {reftable_clusters} clusters (at most {MAX_REFTABLE_BYTES} bytes)"),
        );
    }
    if version == 3 && h.len() >= 104 {
        let refcount_order = be32(&h, 96);
        if refcount_order > 6 {
            return corrupt(96, format!("QCOW2 refcount_order {refcount_order} (at most 6: 64-bit refcounts)"));
        }
        let header_length = u64::from(be32(&h, 100));
        if !(104..=cluster).contains(&header_length) {
            return corrupt(
                100,
                format!("QCOW2 header_length {header_length} (104 up to the cluster size, {cluster})"),
            );
        }
        let incompat = be64(&h, 72);
        // Bit 0 (dirty) only means refcounts may be stale, which reading does not use.
        if incompat & !1 != 0 {
            return bad(
                72,
                format!("QCOW2 incompatible features {incompat:#x} (external data file, compression type, ...)"),
            );
        }
    }
    let l1_size = u64::from(be32(&h, 36));
    let l1_at = be64(&h, 40);
    let l2_entries_bits = cluster_bits - 3;
    let covered = 1u64 << (cluster_bits + l2_entries_bits);
    if l1_size < size.div_ceil(covered) || l1_size * 8 > MAX_L1_BYTES {
        return corrupt(36, format!("QCOW2 L1 table of {l1_size} entries for a {size}-byte disk"));
    }
    if l1_at % cluster != 0 {
        return corrupt(40, format!("QCOW2 L1 table offset {l1_at:#x} is not cluster-aligned"));
    }
    let l1: Vec<u64> = read_vec(src.as_ref(), l1_at, l1_size * 8)?.chunks_exact(8).map(|c| be64(c, 0)).collect();
    let info = DiskInfo {
        name: name.clone(),
        format: "qcow2".into(),
        subformat: format!("v{version}"),
        virtual_size: size,
        allocated_bytes: src.len(),
        files: vec![FileUse { name: name.clone(), role: "disk".into(), size: Some(src.len()), present: true }],
        ..Default::default()
    };
    let map = Map { src, cluster_bits, size, l1, l2: RefCell::new(Lru::new(L2_CACHE)) };
    Ok(Disk { info, map: Box::new(map), check: None })
}

impl Map {
    fn table(&self, i: usize) -> Result<Option<Rc<Vec<u64>>>> {
        let at = self.l1[i] & OFFSET_MASK;
        if at == 0 {
            return Ok(None);
        }
        let len = 1u64 << self.cluster_bits;
        self.l2
            .borrow_mut()
            .get(i, || {
                let t = read_vec(self.src.as_ref(), at, len)?;
                Ok(Rc::new(t.chunks_exact(8).map(|c| be64(c, 0)).collect()))
            })
            .map(Some)
    }
}

impl Mapper for Map {
    fn size(&self) -> u64 {
        self.size
    }

    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
        let cluster = 1u64 << self.cluster_bits;
        let per_l2 = cluster / 8;
        let mut pos = offset;
        let end = offset + len;
        while pos < end {
            let c = pos >> self.cluster_bits;
            let within = pos & (cluster - 1);
            let n = (cluster - within).min(end - pos);
            let kind = match self.table((c / per_l2) as usize)? {
                None => RunKind::Unallocated,
                Some(t) => {
                    let e = t[(c % per_l2) as usize];
                    let host = e & OFFSET_MASK;
                    if e & FLAG_COMPRESSED != 0 {
                        return Err(Error::unsupported(
                            self.src.name(),
                            None,
                            format!("guest offset {pos} is in a compressed QCOW2 cluster, which is not read yet"),
                        ));
                    } else if e & FLAG_ZERO != 0 {
                        RunKind::Zero
                    } else if host == 0 {
                        RunKind::Unallocated
                    } else if host & (cluster - 1) != 0 || host >= MAX_HOST_OFFSET {
                        return Err(Error::corrupt(
                            self.src.name(),
                            host,
                            format!("QCOW2 L2 entry for guest offset {pos} points at an unaligned cluster"),
                        ));
                    } else {
                        RunKind::Data { src: self.src.clone(), offset: host + within }
                    }
                }
            };
            push_run(out, Run { len: n, kind });
            pos += n;
        }
        Ok(())
    }
}
