//! The CLI's fast inflater for zlib grains (stream-optimized VMDKs): libdeflate, in C, through
//! `libdeflate-sys`. Every grain of the bench disk (37,039 of them, 2.3 GiB out), inflated in a
//! loop on this machine: libdeflate 900–935 MiB/s, zlib-rs (what the page and every error use)
//! 440–530 MiB/s, fdeflate (pure Rust) 610–690 MiB/s; in V8's Wasm zlib-rs and fdeflate are
//! alike (455–526 MiB/s). In a conversion (two decoder threads on this 2-vCPU VM; `bash
//! bench/ab.sh`, 7 runs each) streamOptimized → QCOW2 went from 2.88 to 2.53 s, CPU 5.2 to 4.2 s.
//! The page cannot take it: C for wasm32 needs clang and a freestanding build, which these
//! machines lack.
//!
//! Only a success is taken from it. A grain it refuses (corrupt, truncated, longer than its
//! size) is inflated again by zlib-rs (in decode.rs), whose verdict and message are the
//! ones both shells give: libdeflate says only "bad data", and a valid stream inflates to the
//! same bytes in any correct inflater.

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_result_LIBDEFLATE_SUCCESS, libdeflate_zlib_decompress_ex,
};
use std::mem::MaybeUninit;

/// One decompressor per thread: its tables are scratch space, kept between grains.
struct Decompressor(*mut libdeflate_decompressor);

impl Drop for Decompressor {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: allocated by libdeflate_alloc_decompressor, freed once, here.
            unsafe { libdeflate_free_decompressor(self.0) }
        }
    }
}

thread_local! {
    // SAFETY: a plain allocation; null when memory is short (every call then declines).
    static DECOMPRESSOR: Decompressor = Decompressor(unsafe { libdeflate_alloc_decompressor() });
}

/// Inflate the zlib stream at the start of `input` into `out`: the length inflated (its first
/// bytes are then initialised), or `None` when libdeflate declines (not a valid stream, or one
/// longer than `out`). Bytes after the stream are ignored, as zlib does.
pub fn zlib_inflate(input: &[u8], out: &mut [MaybeUninit<u8>]) -> Option<usize> {
    DECOMPRESSOR.with(|d| {
        if d.0.is_null() {
            return None;
        }
        let (mut used, mut got) = (0usize, 0usize);
        // SAFETY: the decompressor is this thread's; libdeflate reads `input.len()` bytes of
        // `input` and writes at most `out.len()` bytes into `out` (raw pointers: no reference to
        // uninitialised memory is made); `got` is how many it wrote, from the start.
        let r = unsafe {
            libdeflate_zlib_decompress_ex(
                d.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut got,
            )
        };
        (r == libdeflate_result_LIBDEFLATE_SUCCESS && got <= out.len()).then_some(got)
    })
}
