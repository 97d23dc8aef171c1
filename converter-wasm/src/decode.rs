//! Decoding: source bytes of a run → guest bytes. Pure functions of their inputs (no I/O), so
//! the pipeline can run them on other threads or in other Web Workers.

use crate::error::{Error, Result};
use crate::image::{Mapper, Run, RunKind};
use crate::vmdk::marker;
use flate2::{Decompress, FlushDecompress, Status};

/// Inflate one zlib-wrapped grain into `out` (exactly the grain's size). A grain that would
/// inflate past `out.len()` is corrupt (or a deflate bomb) and stops at once; one that ends
/// early is zero-filled only if that is allowed by `allow_short`. `file`/`offset` name the
/// grain for errors. Returns the inflated length.
fn inflate_grain(compressed: &[u8], out: &mut [u8], file: &str, offset: u64) -> Result<usize> {
    let mut z = Decompress::new(true);
    let status = z
        .decompress(compressed, out, FlushDecompress::Finish)
        .map_err(|e| Error::corrupt(file, offset, format!("compressed grain does not inflate: {e}")))?;
    let produced = z.total_out() as usize;
    match status {
        Status::StreamEnd => Ok(produced),
        _ if produced == out.len() => {
            // Output full but the stream has not ended: more data would follow.
            let mut probe = [0u8; 1];
            let more = z.decompress(&compressed[z.total_in() as usize..], &mut probe, FlushDecompress::Finish);
            match more {
                Ok(Status::StreamEnd) if z.total_out() as usize == produced => Ok(produced),
                _ => Err(Error::corrupt(
                    file,
                    offset,
                    format!("compressed grain inflates past its size of {} bytes", out.len()),
                )),
            }
        }
        _ => Err(Error::corrupt(
            file,
            offset,
            format!("compressed grain is truncated after {} of {} bytes", z.total_in(), compressed.len()),
        )),
    }
}

/// Inflate the grain of a `Deflate` run (see [`RunKind::Deflate`]) into `grain`, which is
/// exactly the grain's size: `bytes` are the run's `clen` bytes read at `offset` of `file`,
/// starting with the grain marker to check when there is one (`marker: Some(lba)`). At least
/// `need` bytes must come out (those the run's guest range reads). Returns the inflated length.
pub fn inflate_run(
    bytes: &[u8],
    marker: Option<u64>,
    file: &str,
    offset: u64,
    grain: &mut [u8],
    need: usize,
) -> Result<usize> {
    let stream = match marker {
        None => bytes,
        Some(lba) => marker::grain_stream(bytes, lba, file, offset)?,
    };
    let got = inflate_grain(stream, grain, file, offset)?;
    if got < need {
        return Err(Error::corrupt(
            file,
            offset,
            format!("compressed grain inflates to {got} bytes but {need} are needed"),
        ));
    }
    Ok(got)
}

/// Read guest bytes `[offset, offset + buf.len())` through a map: the simple, single-threaded
/// reference reader (used by `inspect`-style checks and tests; the converter uses the
/// pipeline in `convert`).
pub fn read_guest(map: &dyn Mapper, offset: u64, buf: &mut [u8]) -> Result<()> {
    let mut runs: Vec<Run> = Vec::new();
    map.map(offset, buf.len() as u64, &mut runs)?;
    let mut pos = 0usize;
    let mut grain = Vec::new();
    for run in runs {
        let n = run.len as usize;
        let dst = &mut buf[pos..pos + n];
        match run.kind {
            RunKind::Unallocated | RunKind::Zero => dst.fill(0),
            RunKind::Data { src, offset } => src.read_exact_at(offset, dst)?,
            RunKind::Deflate { src, offset, clen, grain_len, skip, marker } => {
                let bytes = crate::source::read_vec(src.as_ref(), offset, clen as u64)?;
                grain.resize(grain_len as usize, 0);
                let (s, e) = (skip as usize, skip as usize + n);
                inflate_run(&bytes, marker, src.name(), offset, &mut grain, e)?;
                dst.copy_from_slice(&grain[s..e]);
            }
        }
        pos += n;
    }
    if pos != buf.len() {
        return Err(Error::invalid(format!("map returned {pos} bytes for a {}-byte read at {offset}", buf.len())));
    }
    Ok(())
}
