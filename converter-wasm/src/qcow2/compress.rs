//! Compressed QCOW2 clusters as qemu stores them (`qemu-img convert -c`): raw deflate with a
//! 4 KiB window ([`DEFLATE_WINDOW_BITS`]); a cluster deflate does not shrink is stored whole.
//!
//! Deflate is zlib-rs (a port of zlib-ng) through its C API, `libz-rs-sys`, because only that
//! API has `deflateTune`, and the levels need it. zlib-ng's levels are not zlib's: below 9 they
//! hash 4 bytes and never find 3-byte matches, so its level 6 made the bench disk's clusters
//! 1.1 % larger than qemu's (zlib level 6). Only its level 9 hashes 3 bytes (a rolling hash),
//! and at its full search it was the conversion's whole cost. So every level here is zlib's:
//! zlib-rs's level-9 matcher with the search limits of zlib's table (`configuration_table` in
//! zlib's deflate.c), set by `deflateTune`; levels 1-3 (zlib's fast matcher) are zlib-rs's own.
//!
//! Level 5, the default, is zlib's level 5 searching as far into a match as level 6 (nice
//! length 128, not 32): as fast, and closer to qemu in size. Measured (every 4th or 8th
//! non-zero 64 KiB cluster, one thread, against qemu's zlib level 6 on the same clusters):
//!
//! | corpus | level 9 | level 6 | level 5 (this) | zlib's level 5 | time, 5 / 9 |
//! |---|---|---|---|---|---|
//! | bench disk (binaries, text, 15 % random) | -0.16 % | +0.01 % | +0.19 % | +0.25 % | 0.73 |
//! | /usr/lib + /usr/bin | -0.34 % | +0.00 % | +0.38 % | +0.46 % | 0.62 |
//! | source and text files | -0.33 % | +0.06 % | +0.36 % | +0.67 % | 0.66 |

use super::DEFLATE_WINDOW_BITS;
use libz_rs_sys::{
    deflate, deflateEnd, deflateInit2_, deflateReset, deflateTune, z_stream, zlibVersion, Z_DEFAULT_STRATEGY,
    Z_DEFLATED, Z_FINISH, Z_OK, Z_STREAM_END,
};
use std::cell::RefCell;
use std::mem::MaybeUninit;

/// zlib memory level, as qemu's `qcow2_compress` asks (`deflateInit2(.., -12, 9, ..)`): it sizes
/// the symbol buffer, so a 64 KiB cluster is one deflate block as in qemu's output.
const MEM_LEVEL: i32 = 9;

/// zlib's search limits per level (good_length, max_lazy, nice_length, max_chain), from its
/// `configuration_table` but for level 5's nice length (see the module doc); none for levels
/// 1-3 (zlib's fast matcher), which are zlib-rs's own.
const ZLIB_LEVELS: [Option<(i32, i32, i32, i32)>; 10] = [
    None,
    None,
    None,
    None,
    Some((4, 4, 16, 16)),
    Some((8, 16, 128, 32)),
    Some((8, 16, 128, 128)),
    Some((8, 32, 128, 256)),
    Some((32, 128, 258, 1024)),
    Some((32, 258, 258, 4096)),
];

/// One deflate stream, reused for every cluster a thread compresses: a stream's tables are
/// about 400 KiB, too much to allocate and zero per 64 KiB cluster.
struct Deflater {
    /// Boxed: zlib's API (libz-rs-sys keeps its contract) does not let a live stream move.
    stream: Box<z_stream>,
    level: u32,
}

impl Deflater {
    fn new(level: u32) -> Deflater {
        let mut stream = Box::new(z_stream::default());
        // The tuned levels start from zlib-rs's level 9, its only 3-byte matcher.
        let zlib_level = if ZLIB_LEVELS[level as usize].is_some() { 9 } else { level as i32 };
        // SAFETY: `stream` is a default (zeroed, allocator set) z_stream, as deflateInit2_ wants.
        let r = unsafe {
            deflateInit2_(
                &mut *stream,
                zlib_level,
                Z_DEFLATED,
                -i32::from(DEFLATE_WINDOW_BITS),
                MEM_LEVEL,
                Z_DEFAULT_STRATEGY,
                zlibVersion(),
                std::mem::size_of::<z_stream>() as i32,
            )
        };
        assert_eq!(r, Z_OK, "deflateInit2_ refused constant parameters");
        Deflater { stream, level }
    }

    /// Raw deflate of `input` into `out` (not read, so it may be uninitialised); the stream's
    /// length, or None when it does not fit.
    fn compress(&mut self, input: &[u8], out: &mut [MaybeUninit<u8>]) -> Option<usize> {
        let s = &mut *self.stream;
        // SAFETY: the stream was initialised by `new` and is ended only by `drop`; `next_in` and
        // `next_out` point into live slices for exactly `avail_in`/`avail_out` bytes, and are
        // cleared before the slices' borrows end.
        unsafe {
            assert_eq!(deflateReset(s), Z_OK);
            // deflateReset sets level 9's limits again.
            if let Some((good, lazy, nice, chain)) = ZLIB_LEVELS[self.level as usize] {
                assert_eq!(deflateTune(s, good, lazy, nice, chain), Z_OK);
            }
            s.next_in = input.as_ptr();
            s.avail_in = input.len() as u32;
            s.next_out = out.as_mut_ptr().cast();
            s.avail_out = out.len() as u32;
            let r = deflate(s, Z_FINISH);
            let n = out.len() - s.avail_out as usize;
            s.next_in = std::ptr::null();
            s.avail_in = 0;
            s.next_out = std::ptr::null_mut();
            s.avail_out = 0;
            (r == Z_STREAM_END).then_some(n)
        }
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        // SAFETY: initialised by `new`, ended once.
        unsafe { deflateEnd(&mut *self.stream) };
    }
}

thread_local! {
    static DEFLATER: RefCell<Option<Deflater>> = const { RefCell::new(None) };
}

/// The stored bytes of one cluster: raw deflate when that is shorter than `cluster_size`,
/// else the cluster itself (`cluster_size` bytes). `chunk` may be short (the image's last
/// cluster): the rest of the cluster is zeros. `level` is zlib's (1..=9).
pub fn deflate_cluster(chunk: &[u8], cluster_size: usize, level: u32) -> Vec<u8> {
    let mut full;
    let input = if chunk.len() < cluster_size {
        full = chunk.to_vec();
        full.resize(cluster_size, 0);
        &full[..]
    } else {
        chunk
    };
    let level = level.clamp(1, 9);
    // Room for one byte less than a cluster: a stream that does not fit is not worth storing.
    let mut out = Vec::with_capacity(cluster_size - 1);
    let n = DEFLATER.with_borrow_mut(|d| {
        if d.as_ref().is_none_or(|d| d.level != level) {
            *d = Some(Deflater::new(level));
        }
        d.as_mut().and_then(|d| d.compress(input, out.spare_capacity_mut()))
    });
    match n {
        Some(n) => {
            // SAFETY: deflate wrote the stream's `n` bytes at the start of the spare capacity.
            unsafe { out.set_len(n) };
            out
        }
        None => input.to_vec(),
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

    /// Text-like data with repeats both inside and beyond qemu's 4 KiB window.
    fn text(len: usize) -> Vec<u8> {
        let words = ["disk ", "grain ", "cluster ", "stackferry ", "migration ", "volume ", "\n"];
        let noise = crate::testdata::noise(len, 7);
        let mut out = Vec::with_capacity(len);
        let mut i = 0;
        while out.len() < len {
            if noise[i] % 5 == 0 && out.len() > 6000 {
                // A copy from 3,000-6,000 bytes back: half of them out of the window's reach.
                let back = 3000 + usize::from(noise[i + 1]) * 12;
                let from = out.len() - back;
                out.extend_from_within(from..from + 40);
            } else {
                out.extend_from_slice(words[usize::from(noise[i]) % words.len()].as_bytes());
            }
            i += 2;
        }
        out.truncate(len);
        out
    }

    #[test]
    fn every_level_inflates_with_qemus_window_and_searches_as_asked() {
        let c = 65536;
        let data = text(c);
        let sizes: Vec<usize> = (1..=9)
            .map(|level| {
                let stored = deflate_cluster(&data, c, level);
                assert!(stored.len() < c / 2, "level {level}: {} bytes", stored.len());
                assert_eq!(inflate(&stored, c), data, "level {level}");
                // The stream is reused: the same cluster again gives the same bytes, so the
                // level's search limits were set again after the reset.
                assert_eq!(deflate_cluster(&data, c, level), stored, "level {level} again");
                stored.len()
            })
            .collect();
        // zlib's table: a longer search never does worse here, and levels 4-9 differ.
        assert!(sizes[3] >= sizes[4] && sizes[4] >= sizes[5] && sizes[5] >= sizes[8], "{sizes:?}");
        assert!(sizes[3] > sizes[8], "{sizes:?}");
    }

    /// zlib-rs 0.6.8's deflateReset left its pending buffer's read offset where an unfinished
    /// stream (a cluster that did not shrink) had stopped: each stored cluster lost the stream
    /// room, until one panicked inside deflate (a qcow2_out test caught it; 0.6.9 fixed it).
    #[test]
    fn clusters_that_do_not_shrink_leave_the_reused_stream_whole() {
        for c in [4096, 65536] {
            let data = text(c);
            for seed in 1..=200 {
                assert_eq!(deflate_cluster(&crate::testdata::noise(c, seed), c, 5).len(), c);
            }
            assert_eq!(inflate(&deflate_cluster(&data, c, 5), c), data);
        }
    }

    /// The page deflates each cluster twice (a measuring pass, then the writing pass), and the
    /// writer refuses a cluster whose size changed: a reused stream must give the same bytes
    /// whatever it deflated before, as a new thread's new stream does.
    #[test]
    fn a_cluster_deflates_the_same_whatever_the_stream_did_before() {
        let c = 65536;
        let data = text(c);
        let fresh = std::thread::spawn(move || deflate_cluster(&text(c), c, 5)).join().unwrap();
        let reversed: Vec<u8> = data.iter().rev().copied().collect();
        for seed in 1..=20 {
            deflate_cluster(&crate::testdata::noise(c, seed), c, 5);
            deflate_cluster(&reversed, c, 5);
            deflate_cluster(&data[..c / 3], c, 5);
        }
        assert_eq!(deflate_cluster(&data, c, 5), fresh);
    }
}
