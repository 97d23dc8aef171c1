//! Compressed QCOW2 clusters as qemu stores them (`qemu-img convert -c`): raw deflate with a
//! 4 KiB window ([`DEFLATE_WINDOW_BITS`]); a cluster deflate does not shrink is stored whole.

use super::DEFLATE_WINDOW_BITS;
use flate2::{Compress, Compression, FlushCompress, Status};

/// The stored bytes of one cluster: raw deflate when that is shorter than `cluster_size`,
/// else the cluster itself (`cluster_size` bytes). `chunk` may be short (the image's last
/// cluster): the rest of the cluster is zeros.
pub fn deflate_cluster(chunk: &[u8], cluster_size: usize, level: u32) -> Vec<u8> {
    let mut full;
    let input = if chunk.len() < cluster_size {
        full = chunk.to_vec();
        full.resize(cluster_size, 0);
        &full[..]
    } else {
        chunk
    };
    let mut z = Compress::new_with_window_bits(Compression::new(level.clamp(1, 9)), false, DEFLATE_WINDOW_BITS);
    let mut out = Vec::with_capacity(cluster_size);
    match z.compress_vec(input, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if out.len() < cluster_size => out,
        _ => {
            full = input.to_vec();
            full
        }
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
        let mut x = 1u32;
        let noise: Vec<u8> = (0..c)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert_eq!(deflate_cluster(&noise, c, 9), noise);
    }
}
