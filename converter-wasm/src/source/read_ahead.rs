//! Read-ahead for sources where every read has a high fixed cost (the browser's
//! `FileReaderSync` over a `Blob`: one call per read, each allocating a buffer). Sequential
//! reads (the converter walking a stream-optimized VMDK: a 12-byte marker, then a grain, then
//! the next marker) are served from aligned blocks of [`READ_AHEAD`] bytes read whole; scattered
//! metadata reads and reads larger than a block go straight to the source.

use super::{check_range, Source};
use crate::error::Result;
use std::cell::{Cell, RefCell};

/// Sequential reads are served from aligned blocks of this size: one read of the source per
/// block instead of one per grain and marker.
pub const READ_AHEAD: usize = 4 << 20;

/// Blocks kept per source (a read can straddle two).
pub const CACHED_BLOCKS: usize = 2;

/// Largest gap after the previous read that still counts as sequential (stream-optimized
/// VMDKs interleave small markers and grain tables with the grains).
const SEQUENTIAL_GAP: u64 = 256 << 10;

/// A source read through a cache of at most [`CACHED_BLOCKS`] blocks of [`READ_AHEAD`] bytes.
pub struct ReadAhead<S> {
    inner: S,
    /// Cached blocks `(block index, bytes)`, most recent last.
    blocks: RefCell<Vec<(u64, Vec<u8>)>>,
    /// End of the previous read, to recognise sequential access.
    last_end: Cell<u64>,
}

impl<S: Source> ReadAhead<S> {
    pub fn new(inner: S) -> Self {
        ReadAhead { inner, blocks: RefCell::new(Vec::new()), last_end: Cell::new(u64::MAX) }
    }

    /// Index into `blocks` of block `b`, loading it (in place of the oldest) when needed.
    fn block(&self, blocks: &mut Vec<(u64, Vec<u8>)>, b: u64) -> Result<usize> {
        if let Some(i) = blocks.iter().position(|(k, _)| *k == b) {
            return Ok(i);
        }
        let start = b * READ_AHEAD as u64;
        let n = (self.inner.len() - start).min(READ_AHEAD as u64) as usize;
        let mut data = if blocks.len() >= CACHED_BLOCKS { blocks.remove(0).1 } else { Vec::new() };
        data.resize(n, 0);
        self.inner.read_exact_at(start, &mut data)?;
        blocks.push((b, data));
        Ok(blocks.len() - 1)
    }
}

impl<S: Source> Source for ReadAhead<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset + buf.len() as u64;
        let prev_end = self.last_end.replace(end);
        let w = READ_AHEAD as u64;
        let (b0, b1) = (offset / w, (end - 1) / w);
        let mut blocks = self.blocks.borrow_mut();
        let cached = |b: u64| blocks.iter().any(|(k, _)| *k == b);
        let sequential = offset >= prev_end && offset - prev_end <= SEQUENTIAL_GAP;
        if b1 > b0 + 1 || !(sequential || cached(b0) && cached(b1)) {
            // Large or scattered: straight from the source.
            return self.inner.read_exact_at(offset, buf);
        }
        let mut at = 0usize;
        for b in b0..=b1 {
            let i = self.block(&mut blocks, b)?;
            let (_, data) = &blocks[i];
            let from = (offset + at as u64).saturating_sub(b * w) as usize;
            let n = (buf.len() - at).min(data.len() - from);
            buf[at..at + n].copy_from_slice(&data[from..from + n]);
            at += n;
        }
        debug_assert_eq!(at, buf.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::source::{MemSource, SourceRef};

    /// Counts the reads that reach it.
    struct Counting(SourceRef, Cell<u32>);
    impl Source for Counting {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
            self.1.set(self.1.get() + 1);
            self.0.read_exact_at(offset, buf)
        }
    }

    #[test]
    fn sequential_reads_come_from_blocks_and_scattered_ones_from_the_source() {
        let n = 3 * READ_AHEAD + 12345;
        let data: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
        let ra = ReadAhead::new(Counting(MemSource::new("d.vmdk", data.clone()), Cell::new(0)));
        let reads = || ra.inner.1.get();
        // A stream-optimized walk: marker, grain, small gap, across block edges to the end.
        let mut pos = 0u64;
        let mut count = 0;
        while pos + 70_000 < n as u64 {
            for len in [12usize, 65_000] {
                let mut b = vec![0u8; len];
                ra.read_exact_at(pos, &mut b).unwrap();
                assert!(b == data[pos as usize..pos as usize + len], "at {pos}");
                pos += len as u64;
                count += 1;
            }
            pos += 500;
        }
        assert!(count > 300);
        assert!(reads() <= 5, "{} source reads for {count} sequential ones", reads());
        // Far away and not cached: straight to the source, byte for byte.
        let before = reads();
        let mut b = vec![0u8; 100];
        ra.read_exact_at(10, &mut b).unwrap();
        assert_eq!(b, data[10..110]);
        assert_eq!(reads(), before + 1);
        // Larger than two blocks: straight too.
        let mut big = vec![0u8; 2 * READ_AHEAD + 1];
        ra.read_exact_at(5, &mut big).unwrap();
        assert!(big == data[5..5 + big.len()]);
        // The last byte, and nothing past it.
        let mut one = [0u8; 1];
        ra.read_exact_at(n as u64 - 1, &mut one).unwrap();
        assert_eq!(one[0], data[n - 1]);
        let e = ra.read_exact_at(n as u64 - 1, &mut [0u8; 2]).unwrap_err();
        assert_eq!((e.kind, e.file.as_str(), e.offset), (ErrorKind::Truncated, "d.vmdk", Some(n as u64 - 1)));
    }
}
