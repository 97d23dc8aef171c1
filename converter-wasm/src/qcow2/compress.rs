//! Compressed QCOW2 clusters as qemu stores them (`qemu-img convert -c`): raw deflate with a
//! 4 KiB window ([`DEFLATE_WINDOW_BITS`]); a cluster deflate does not shrink is stored whole.
//!
//! Deflate is zlib-rs (a port of zlib-ng), called directly rather than through flate2 so the
//! memory level can be qemu's. Its levels are not zlib's: at level 6 (`deflate_medium`, and
//! 4-byte hashes that never find 3-byte matches) it made the bench disk's clusters 1.1 % larger
//! than qemu's zlib level 6; only level 9 (3-byte rolling hash) comes out smaller (-0.2 %).
//! The level is the conversion's option (`plan::Options::compression_level`).

use super::DEFLATE_WINDOW_BITS;
use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Method, Status, Strategy};

/// zlib memory level, as qemu's `qcow2_compress` asks (`deflateInit2(.., -12, 9, ..)`): it sizes
/// the symbol buffer, so a 64 KiB cluster is one deflate block as in qemu's output.
const MEM_LEVEL: i32 = 9;

/// The stored bytes of one cluster: raw deflate when that is shorter than `cluster_size`,
/// else the cluster itself (`cluster_size` bytes). `chunk` may be short (the image's last
/// cluster): the rest of the cluster is zeros. `level` is zlib-rs's (1..=9).
pub fn deflate_cluster(chunk: &[u8], cluster_size: usize, level: u32) -> Vec<u8> {
    let mut full;
    let input = if chunk.len() < cluster_size {
        full = chunk.to_vec();
        full.resize(cluster_size, 0);
        &full[..]
    } else {
        chunk
    };
    let mut z = Deflate::new_with_config(DeflateConfig {
        level: level.clamp(1, 9) as i32,
        method: Method::Deflated,
        window_bits: -i32::from(DEFLATE_WINDOW_BITS),
        mem_level: MEM_LEVEL,
        strategy: Strategy::Default,
    });
    // Room for one byte less than a cluster: a stream that does not fit is not worth storing.
    let mut out = vec![0u8; cluster_size - 1];
    match z.compress(input, &mut out, DeflateFlush::Finish) {
        Ok(Status::StreamEnd) => {
            out.truncate(z.total_out() as usize);
            out
        }
        _ => input.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(stored: &[u8], n: usize) -> Vec<u8> {
        let mut z = Decompress::new_with_window_bits(false, DEFLATE_WINDOW_BITS);
        let mut out = Vec::with_capacity(n);
        z.decompress_vec(stored, &mut out, FlushDecompress::Finish).unwrap();
        out
    }

    #[test]
    fn clusters_deflate_or_stay_whole() {
        let c = 4096;
        let text: Vec<u8> = b"stackferry ".iter().cycle().take(c).copied().collect();
        let stored = deflate_cluster(&text, c, 6);
        assert!(stored.len() < c);
        assert_eq!(inflate(&stored, c), text);
        // The last cluster of an image may be short: zeros complete it.
        let stored = deflate_cluster(&text[..100], c, 6);
        let mut want = text[..100].to_vec();
        want.resize(c, 0);
        assert_eq!(inflate(&stored, c), want);
        // Incompressible: stored as is.
        let noise = crate::testdata::noise(c, 1);
        assert_eq!(deflate_cluster(&noise, c, 9), noise);
    }
}
