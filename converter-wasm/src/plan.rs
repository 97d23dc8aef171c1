//! Planning: from the guest map to the allocation map and the complete output layout, before
//! the first data byte is written. This is what makes the output a single front-to-back
//! stream of known length (upload while converting, no temporary copy).
//!
//! Zero detection at plan time, cheapest first: unallocated and zeroed grains are holes
//! without reading anything; uncompressed data (flat extents, hosted sparse grains) is read
//! and checked (I/O only); compressed grains are inflated and checked only when small
//! (`probe_compressed_max`), since writers already skip zero grains and a zero 64 KiB grain
//! deflates to about 100 bytes while data rarely comes under 512.

use crate::decode::inflate_run;
use crate::digest::is_zero;
use crate::error::{Error, Result};
use crate::image::{Disk, Run, RunKind};
use crate::qcow2::{self, Compressed, Layout};
use crate::source::Source;
use serde::{Deserialize, Serialize};

/// One bit per output cluster: allocated (holds data) or a hole.
#[derive(Clone, Debug, Default)]
pub struct AllocMap {
    words: Vec<u64>,
    len: u64,
    count: u64,
}

impl AllocMap {
    pub fn new(len: u64) -> Self {
        AllocMap { words: vec![0; len.div_ceil(64) as usize], len, count: 0 }
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Number of set bits.
    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn get(&self, i: u64) -> bool {
        i < self.len && self.words[(i / 64) as usize] >> (i % 64) & 1 == 1
    }
    pub fn set(&mut self, i: u64) {
        if i < self.len && !self.get(i) {
            self.words[(i / 64) as usize] |= 1 << (i % 64);
            self.count += 1;
        }
    }
    /// Any bit set in `[a, b)`?
    pub fn any_in(&self, a: u64, b: u64) -> bool {
        let mut i = a;
        while i < b {
            if i % 64 == 0 && i + 64 <= b {
                if self.words[(i / 64) as usize] != 0 {
                    return true;
                }
                i += 64;
            } else {
                if self.get(i) {
                    return true;
                }
                i += 1;
            }
        }
        false
    }
}

/// Output image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    Qcow2,
    /// QCOW2 with deflate-compressed clusters, like `qemu-img convert -c`.
    Qcow2Compressed,
    Raw,
}

impl OutputFormat {
    /// Glance `disk_format` of the result.
    pub fn disk_format(self) -> &'static str {
        match self {
            OutputFormat::Raw => "raw",
            _ => "qcow2",
        }
    }
}

/// Conversion options.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Options {
    pub format: OutputFormat,
    /// QCOW2 cluster size (power of two, 512 B .. 2 MiB). Ignored for raw.
    pub cluster_size: u32,
    /// Read uncompressed data at plan time and leave all-zero clusters unallocated.
    pub zero_scan_data: bool,
    /// Inflate compressed grains up to this many compressed bytes at plan time to find zeros.
    pub probe_compressed_max: u32,
    /// Deflate level for compressed QCOW2 (1..9, zlib's levels, as qemu's). The default, 5, is
    /// the fastest of the levels measured in [`crate::qcow2::compress`] whose output stayed
    /// within +1 % of `qemu-img convert -c`'s (zlib level 6) on every corpus: +0.4 % at most.
    pub compression_level: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: OutputFormat::Qcow2,
            cluster_size: qcow2::DEFAULT_CLUSTER_SIZE,
            zero_scan_data: true,
            probe_compressed_max: 512,
            compression_level: 5,
        }
    }
}

impl Options {
    /// Options from a JSON object giving any subset of the fields (the page's form), the rest
    /// default; `null` gives the defaults. Unknown fields are refused, so a misspelt option is
    /// never silently ignored.
    pub fn from_partial(given: &serde_json::Value) -> Result<Options> {
        let mut all = serde_json::to_value(Options::default()).map_err(|e| Error::invalid(e.to_string()))?;
        let fields = all.as_object_mut().expect("Options is an object");
        match given {
            serde_json::Value::Null => {}
            serde_json::Value::Object(g) => {
                for (k, v) in g {
                    if !fields.contains_key(k) {
                        return Err(Error::invalid(format!("unknown option '{k}'")));
                    }
                    fields.insert(k.clone(), v.clone());
                }
            }
            _ => return Err(Error::invalid("options must be an object")),
        }
        serde_json::from_value(all).map_err(|e| Error::invalid(format!("options: {e}")))
    }
}

/// The output, fully planned.
#[derive(Clone, Debug)]
pub struct Plan {
    pub options: Options,
    pub virtual_size: u64,
    /// log2 of the allocation granularity: the QCOW2 cluster size (64 KiB for raw).
    pub cluster_bits: u32,
    /// Clusters that hold data.
    pub alloc: AllocMap,
    /// QCOW2 layout; for compressed output only once the stored lengths are measured.
    pub layout: Option<Layout>,
    pub compressed: Option<Compressed>,
}

impl Plan {
    pub fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }
    /// Total output length, when known (compressed QCOW2: after the measuring pass).
    pub fn output_len(&self) -> Option<u64> {
        match self.options.format {
            OutputFormat::Raw => Some(self.virtual_size),
            _ => self.layout.as_ref().map(|l| l.file_len),
        }
    }
    /// Bytes of guest data to decode (allocated clusters).
    pub fn data_bytes(&self) -> u64 {
        (self.alloc.count() * self.cluster_size()).min(self.virtual_size)
    }
    /// Complete a compressed plan with the stored lengths of its allocated clusters.
    pub fn set_compressed(&mut self, comp: Compressed) -> Result<()> {
        self.layout = Some(Layout::new(self.virtual_size, self.cluster_bits, &self.alloc, Some(&comp))?);
        self.compressed = Some(comp);
        Ok(())
    }
}

/// A marked grain's `clen` is the space up to the next grain: its 12-byte marker, the zlib
/// stream and sector padding. Allowing for the marker, grains that fill one sector (up to
/// 500 compressed bytes) are probed, as with a probe limit of 512 on the stream alone.
const MARKED_GRAIN_OVERHEAD: u32 = 12;

/// How much guest space one planning step maps at once: bounds the run list.
const PLAN_WINDOW: u64 = 32 << 20;

/// How much of a data cluster the zero scan reads first. Data almost never starts with a
/// page of zeros, so most clusters are known to hold data after this one read and the scan
/// copies a sixteenth of a 64 KiB cluster instead of all of it (monolithicSparse's plan read
/// every byte of the disk before the conversion read it again); zero clusters are read whole.
const ZERO_PROBE: u64 = 4096;

/// Are the `len` bytes at `offset` of `src` all zero? Reads the first [`ZERO_PROBE`] bytes,
/// and the rest only if those are zero.
fn is_zero_at(src: &dyn Source, offset: u64, len: u64, buf: &mut Vec<u8>) -> Result<bool> {
    let head = len.min(ZERO_PROBE);
    for (at, n) in [(offset, head), (offset + head, len - head)] {
        if n == 0 {
            break;
        }
        buf.resize(n as usize, 0);
        src.read_exact_at(at, buf)?;
        if !is_zero(buf) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Plan the conversion of `disk`: allocation map and, except for compressed QCOW2 (which
/// needs a measuring pass), the layout. `cancel` is polled between windows.
pub fn plan(disk: &Disk, options: &Options, cancel: &dyn Fn() -> bool) -> Result<Plan> {
    let format = options.format;
    let cluster_size = if format == OutputFormat::Raw { qcow2::DEFAULT_CLUSTER_SIZE } else { options.cluster_size };
    if !cluster_size.is_power_of_two() {
        return Err(Error::invalid(format!("cluster size {cluster_size} is not a power of two")));
    }
    let cluster_bits = cluster_size.trailing_zeros();
    if !(qcow2::MIN_CLUSTER_BITS..=qcow2::MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return Err(Error::invalid(format!("cluster size {cluster_size} outside 512 B .. 2 MiB")));
    }
    let c = cluster_size as u64;
    let size = disk.map.size();
    qcow2::layout::check_output_size(&disk.info.name, size, format, cluster_bits)?;
    let mut alloc = AllocMap::new(size.div_ceil(c));
    let window = PLAN_WINDOW.max(c);
    let mut runs: Vec<Run> = Vec::new();
    let mut buf = Vec::new();
    let mut grain = Vec::new();
    let mut probed: Option<(usize, u64, bool)> = None; // (source ptr, offset, all zero)
    let mut pos = 0u64;
    while pos < size {
        if cancel() {
            return Err(Error::cancelled());
        }
        let n = window.min(size - pos);
        runs.clear();
        disk.map.map(pos, n, &mut runs)?;
        let mut at = pos;
        for run in &runs {
            let (start, end) = (at, at + run.len);
            at = end;
            let (first, last) = (start / c, (end - 1) / c);
            match &run.kind {
                RunKind::Unallocated | RunKind::Zero => {}
                RunKind::Deflate { src, offset, clen, grain_len, marker, .. } => {
                    if alloc.get(first) && first == last {
                        continue;
                    }
                    let mut zero = false;
                    // A marked grain's `clen` also covers its marker and the sector padding.
                    let overhead = if marker.is_some() { MARKED_GRAIN_OVERHEAD } else { 0 };
                    if *clen <= options.probe_compressed_max.saturating_add(overhead) {
                        let key = (std::sync::Arc::as_ptr(src) as *const u8 as usize, *offset);
                        zero = match probed {
                            Some((p, o, z)) if (p, o) == key => z,
                            _ => {
                                let bytes = crate::source::read_vec(src.as_ref(), *offset, *clen as u64)?;
                                grain.resize(*grain_len as usize, 0);
                                // A short grain that still must supply its bytes is found when decoding.
                                let got = inflate_run(&bytes, *marker, src.name(), *offset, &mut grain, 0)?;
                                let z = is_zero(&grain[..got]);
                                probed = Some((key.0, key.1, z));
                                z
                            }
                        };
                    }
                    if !zero {
                        for k in first..=last {
                            alloc.set(k);
                        }
                    }
                }
                RunKind::Data { src, offset } => {
                    if !options.zero_scan_data {
                        for k in first..=last {
                            alloc.set(k);
                        }
                        continue;
                    }
                    // Check each cluster's share of the run.
                    let mut p = start;
                    while p < end {
                        let k = p / c;
                        let q = ((k + 1) * c).min(end);
                        if !alloc.get(k) && !is_zero_at(src.as_ref(), offset + (p - start), q - p, &mut buf)? {
                            alloc.set(k);
                        }
                        p = q;
                    }
                }
            }
        }
        if at != pos + n {
            return Err(Error::invalid(format!("guest map returned {} bytes for {n} at {pos}", at - pos)));
        }
        pos += n;
    }
    let layout = match format {
        OutputFormat::Qcow2 => Some(Layout::new(size, cluster_bits, &alloc, None)?),
        OutputFormat::Qcow2Compressed | OutputFormat::Raw => {
            if format != OutputFormat::Raw {
                // Check the size limits now rather than after the measuring pass.
                Layout::new(size, cluster_bits, &alloc, None)?;
            }
            None
        }
    };
    Ok(Plan { options: options.clone(), virtual_size: size, cluster_bits, alloc, layout, compressed: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{DiskInfo, Mapper};
    use crate::source::SourceRef;
    use serde_json::json;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// An image in memory that counts the bytes read from it.
    struct Counting(Vec<u8>, AtomicU64);
    impl Source for Counting {
        fn name(&self) -> &str {
            "d.raw"
        }
        fn len(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
            self.1.fetch_add(buf.len() as u64, Ordering::Relaxed);
            buf.copy_from_slice(&self.0[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
    }

    /// The whole disk is one uncompressed run of `src`, as a flat extent is.
    struct Flat(SourceRef);
    impl Mapper for Flat {
        fn size(&self) -> u64 {
            self.0.len()
        }
        fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> Result<()> {
            out.push(Run { len, kind: RunKind::Data { src: self.0.clone(), offset } });
            Ok(())
        }
    }

    /// The zero scan reads a data cluster's first page only, a zero cluster whole, and still
    /// finds data that starts after a page of zeros.
    #[test]
    fn zero_scan_reads_data_clusters_only_up_to_their_first_nonzero_page() {
        let c = 65536usize;
        let mut raw = vec![0u8; 4 * c];
        raw[..c].fill(7); // data from its first byte
        raw[3 * c - 1] = 1; // zeros, then one byte of data at its very end
        raw[3 * c + ZERO_PROBE as usize] = 1; // data just after the probe
        let counting = Arc::new(Counting(raw, AtomicU64::new(0)));
        let disk = Disk { info: DiskInfo::default(), map: Box::new(Flat(counting.clone())), check: None };
        let p = plan(&disk, &Options::default(), &|| false).unwrap();
        let alloc: Vec<bool> = (0..4).map(|k| p.alloc.get(k)).collect();
        assert_eq!(alloc, [true, false, true, true]);
        assert_eq!(counting.1.load(Ordering::Relaxed), ZERO_PROBE + 3 * c as u64);
    }

    #[test]
    fn options_from_a_subset_of_fields() {
        let o = Options::from_partial(&json!({"format": "qcow2-compressed", "compression_level": 9})).unwrap();
        assert_eq!((o.format, o.compression_level), (OutputFormat::Qcow2Compressed, 9));
        assert_eq!(o.cluster_size, Options::default().cluster_size);
        assert_eq!(Options::from_partial(&serde_json::Value::Null).unwrap().format, OutputFormat::Qcow2);
        let e = Options::from_partial(&json!({"colour": "blue"})).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (crate::ErrorKind::InvalidArgument, "unknown option 'colour'"));
        assert!(Options::from_partial(&json!({"format": "vhd"})).unwrap_err().message.starts_with("options:"));
        assert!(Options::from_partial(&json!([1])).is_err());
    }
}
