//! Read-ahead for sources where every read has a high fixed cost (the browser's
//! `FileReaderSync` over a `Blob`: one call per read, each allocating a buffer). Sequential
//! reads (the converter walking a stream-optimized VMDK: a 12-byte marker, then a grain, then
//! the next marker) are served from aligned blocks of [`READ_AHEAD`] bytes read whole; scattered
//! metadata reads and reads larger than a block go straight to the source.
//!
//! A shell that can read asynchronously (the page: `Blob.arrayBuffer()`) can also fetch the
//! next blocks ahead of the reads: [`ReadAhead::prefetch`] says which blocks to fetch,
//! [`ReadAhead::supply`] takes them in, and [`ReadAhead::awaiting`] says when the next reads
//! would reach a block still on its way (the shell then waits for it instead of reading it a
//! second time, synchronously). Measured in the page, reading the 977 MiB bench VMDK in a
//! worker: 2.2–2.5 s with `FileReaderSync` block by block, 1.2–1.3 s with four blocks in
//! flight, and about 0.7 CPU s less; and the converter thread is free meanwhile.

use super::{check_range, Source};
use crate::error::Result;
use std::cell::{Cell, RefCell};

/// Sequential reads are served from aligned blocks of this size: one read of the source per
/// block instead of one per grain and marker.
pub const READ_AHEAD: usize = 4 << 20;

/// Blocks kept per source (a read can straddle two).
pub const CACHED_BLOCKS: usize = 2;

/// Blocks fetched ahead of the reads, at most, per source (fetching or fetched, not yet read).
pub const PREFETCH_BLOCKS: u64 = 4;

/// Largest gap after the previous read that still counts as sequential (stream-optimized
/// VMDKs interleave small markers and grain tables with the grains).
const SEQUENTIAL_GAP: u64 = 256 << 10;

/// A read shorter than this starts reading blocks only when the read before it was sequential
/// too. Planning a stream-optimized disk reads one 12-byte grain marker per grain table, and
/// two of them a little apart each loaded a whole block: in the page a synchronous 4 MiB read
/// costs 24-30 ms (`FileReaderSync`, `bench/file-reads.mjs`), a 12-byte one 1.5 ms, and
/// planning the bench disk loaded ten blocks for such pairs (`bench/page-reads.mjs`).
const SMALL_READ: usize = 4096;

/// A source read through a cache of at most [`CACHED_BLOCKS`] blocks of [`READ_AHEAD`] bytes,
/// plus at most [`PREFETCH_BLOCKS`] blocks fetched ahead.
pub struct ReadAhead<S> {
    inner: S,
    /// Cached blocks `(block index, bytes)`, most recent last.
    blocks: RefCell<Vec<(u64, Vec<u8>)>>,
    /// End of the previous read, to recognise sequential access.
    last_end: Cell<u64>,
    /// Whether the previous read was served from blocks: only then is fetching ahead worth it.
    streaming: Cell<bool>,
    /// Whether the previous read came within [`SEQUENTIAL_GAP`] after the one before it.
    sequential: Cell<bool>,
    /// Blocks supplied ahead of the reads, not read yet.
    ahead: RefCell<Vec<(u64, Vec<u8>)>>,
    /// Blocks [`prefetch`](Self::prefetch) asked for and not supplied yet.
    pending: RefCell<Vec<u64>>,
    /// Buffers of blocks dropped from the cache, for the next supplied block.
    spare: RefCell<Vec<Vec<u8>>>,
}

impl<S: Source> ReadAhead<S> {
    pub fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            blocks: RefCell::new(Vec::new()),
            last_end: Cell::new(u64::MAX),
            streaming: Cell::new(false),
            sequential: Cell::new(false),
            ahead: RefCell::new(Vec::new()),
            pending: RefCell::new(Vec::new()),
            spare: RefCell::new(Vec::new()),
        }
    }

    /// Length of block `b` (the last one is short).
    fn block_len(&self, b: u64) -> usize {
        (self.inner.len() - b * READ_AHEAD as u64).min(READ_AHEAD as u64) as usize
    }

    /// Index into `blocks` of block `b`: cached, taken from the blocks fetched ahead, or read
    /// now (in place of the oldest).
    fn block(&self, blocks: &mut Vec<(u64, Vec<u8>)>, b: u64) -> Result<usize> {
        if let Some(i) = blocks.iter().position(|(k, _)| *k == b) {
            return Ok(i);
        }
        let old = if blocks.len() >= CACHED_BLOCKS { Some(blocks.remove(0).1) } else { None };
        let mut ahead = self.ahead.borrow_mut();
        if let Some(i) = ahead.iter().position(|(k, _)| *k == b) {
            blocks.push(ahead.remove(i));
            self.spare.borrow_mut().extend(old);
        } else {
            // Not here yet: read it now, and drop it when it arrives.
            self.pending.borrow_mut().retain(|&k| k != b);
            let mut data = old.unwrap_or_default();
            data.resize(self.block_len(b), 0);
            self.inner.read_exact_at(b * READ_AHEAD as u64, &mut data)?;
            blocks.push((b, data));
        }
        Ok(blocks.len() - 1)
    }

    /// The block the next sequential read starts in, when reading is sequential.
    fn next_block(&self) -> Option<u64> {
        let end = self.last_end.get();
        (self.streaming.get() && end < self.inner.len()).then(|| end / READ_AHEAD as u64)
    }

    /// Whether block `b` is cached or was supplied.
    fn have(&self, b: u64) -> bool {
        self.blocks.borrow().iter().chain(self.ahead.borrow().iter()).any(|(k, _)| *k == b)
    }

    /// The blocks to fetch now, as `(offset, length)`: those of the next [`PREFETCH_BLOCKS`]
    /// after the read position that are neither here nor asked for. Each is then pending until
    /// [`supply`](Self::supply) or [`unpend`](Self::unpend). Blocks fetched ahead of a position
    /// the reads have left (a jump) are dropped here, so the blocks ahead never exceed
    /// [`PREFETCH_BLOCKS`].
    pub fn prefetch(&self) -> Vec<(u64, usize)> {
        let Some(first) = self.next_block() else { return Vec::new() };
        let window = first..first + PREFETCH_BLOCKS;
        self.ahead.borrow_mut().retain(|(k, _)| window.contains(k));
        self.pending.borrow_mut().retain(|k| window.contains(k));
        let last = (self.inner.len() - 1) / READ_AHEAD as u64;
        let mut out = Vec::new();
        for b in window.filter(|&b| b <= last) {
            if !self.have(b) && !self.pending.borrow().contains(&b) {
                self.pending.borrow_mut().push(b);
                out.push((b * READ_AHEAD as u64, self.block_len(b)));
            }
        }
        out
    }

    /// Take in a block [`prefetch`](Self::prefetch) asked for: `fill` copies its `len` bytes
    /// into the buffer given. Returns whether it was taken: a block no longer pending (read in
    /// the meantime, or left behind by a jump) or of the wrong length is dropped.
    pub fn supply(&self, offset: u64, len: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        let b = offset / READ_AHEAD as u64;
        let mut pending = self.pending.borrow_mut();
        let Some(i) = pending.iter().position(|&k| k == b) else { return false };
        pending.remove(i);
        if offset != b * READ_AHEAD as u64 || len != self.block_len(b) {
            return false;
        }
        let mut data = self.spare.borrow_mut().pop().unwrap_or_default();
        data.resize(len, 0);
        fill(&mut data);
        self.ahead.borrow_mut().push((b, data));
        true
    }

    /// Forget that the block at `offset` is coming (its fetch failed): a read of it reads it
    /// synchronously, and so reports the error with its file and offset.
    pub fn unpend(&self, offset: u64) {
        let b = offset / READ_AHEAD as u64;
        self.pending.borrow_mut().retain(|&k| k != b);
    }

    /// The offset of a pending block the next `margin` bytes of sequential reads would reach,
    /// if any: the shell waits for it before reading on.
    pub fn awaiting(&self, margin: u64) -> Option<u64> {
        let mut b = self.next_block()?;
        while self.have(b) {
            b += 1;
        }
        let at = b * READ_AHEAD as u64;
        (at < self.last_end.get() + margin && self.pending.borrow().contains(&b)).then_some(at)
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
        let sequential = offset >= prev_end && offset - prev_end <= SEQUENTIAL_GAP;
        let was_sequential = self.sequential.replace(sequential);
        let streams = sequential && (self.streaming.get() || was_sequential || buf.len() >= SMALL_READ);
        let through_blocks = b1 <= b0 + 1 && (streams || self.have(b0) && self.have(b1));
        self.streaming.set(through_blocks);
        if !through_blocks {
            // Large or scattered: straight from the source.
            return self.inner.read_exact_at(offset, buf);
        }
        let mut blocks = self.blocks.borrow_mut();
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

    /// `n` bytes of patterned data and a counting [`ReadAhead`] over them.
    fn counted(n: usize) -> (Vec<u8>, ReadAhead<Counting>) {
        let data: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
        (data.clone(), ReadAhead::new(Counting(MemSource::new("d.vmdk", data), Cell::new(0))))
    }

    /// Where the reads of [`streaming`] end.
    const STREAMING_END: u64 = 10 + SMALL_READ as u64;

    /// [`counted`], streaming from the start (two sequential reads: the first one, not yet
    /// sequential, goes to the source, the second, not small, reads block 0).
    fn streaming(n: usize) -> (Vec<u8>, ReadAhead<Counting>) {
        let (data, ra) = counted(n);
        ra.read_exact_at(0, &mut [0u8; 10]).unwrap();
        ra.read_exact_at(10, &mut vec![0u8; SMALL_READ]).unwrap();
        assert_eq!(ra.inner.1.get(), 2);
        (data, ra)
    }

    /// Supply every block `prefetch` asks for, from `data`.
    fn supply_all(ra: &ReadAhead<Counting>, data: &[u8]) -> usize {
        let asked = ra.prefetch();
        for &(off, len) in &asked {
            assert!(ra.supply(off, len, |b| b.copy_from_slice(&data[off as usize..off as usize + len])));
        }
        asked.len()
    }

    #[test]
    fn blocks_fetched_ahead_serve_a_sequential_walk_without_reading_the_source() {
        let n = 9 * READ_AHEAD + 777;
        let (data, ra) = counted(n);
        // Nothing to fetch before reading has started, or after a scattered read.
        assert!(ra.prefetch().is_empty());
        let mut pos = 0u64;
        let mut fetched = 0;
        while pos + 65_000 < n as u64 {
            let mut b = vec![0u8; 65_000];
            ra.read_exact_at(pos, &mut b).unwrap();
            assert!(b == data[pos as usize..pos as usize + b.len()], "at {pos}");
            pos += 65_000 + 12;
            fetched += supply_all(&ra, &data);
            assert!(ra.ahead.borrow().len() + ra.pending.borrow().len() <= PREFETCH_BLOCKS as usize);
        }
        // The first read (not yet sequential) and block 0 came from the source; the other nine
        // blocks were supplied, each once.
        assert_eq!(ra.inner.1.get(), 2);
        assert_eq!(fetched, 9);
        assert!(ra.prefetch().is_empty(), "nothing past the end");
    }

    #[test]
    fn a_block_not_there_in_time_is_awaited_or_read_once_and_the_late_copy_dropped() {
        let (data, ra) = streaming(4 * READ_AHEAD);
        let w = READ_AHEAD as u64;
        assert_eq!(ra.prefetch(), vec![(w, READ_AHEAD), (2 * w, READ_AHEAD), (3 * w, READ_AHEAD)]);
        assert!(ra.prefetch().is_empty(), "asked once");
        // Far from block 1 the reads need not wait; within the margin they do.
        assert_eq!(ra.awaiting(1 << 20), None);
        assert_eq!(ra.awaiting(w), Some(w));
        let mut big = vec![0u8; 60_000];
        let mut pos = STREAMING_END;
        while pos + 60_000 <= w {
            ra.read_exact_at(pos, &mut big).unwrap();
            pos += 60_000;
        }
        assert_eq!(ra.awaiting(1 << 20), Some(w));
        // Block 2 arrives, block 1 does not: the reads wait for block 1 still.
        assert!(ra.supply(2 * w, READ_AHEAD, |x| x.copy_from_slice(&data[2 * READ_AHEAD..3 * READ_AHEAD])));
        assert_eq!(ra.awaiting(1 << 20), Some(w));
        // Read on anyway: block 1 comes from the source, once; its late copy is not taken.
        let before = ra.inner.1.get();
        ra.read_exact_at(pos, &mut big).unwrap();
        assert!(big == data[pos as usize..pos as usize + big.len()]);
        assert_eq!(ra.inner.1.get(), before + 1);
        assert!(!ra.supply(w, READ_AHEAD, |_| panic!("a block read already is not copied again")));
        // Block 2 was supplied: reading into it reads nothing more.
        let mut b = vec![0u8; 5000];
        ra.read_exact_at(2 * w - 10, &mut b).unwrap();
        assert!(b == data[2 * READ_AHEAD - 10..2 * READ_AHEAD + 4990]);
        assert_eq!(ra.inner.1.get(), before + 1);
    }

    /// Planning reads single grain markers, now and then two a little apart: those come from
    /// the source, 12 bytes each, not by loading a block for the second; a walk of small reads
    /// (grains that compress well) still reads blocks from its third read on.
    #[test]
    fn small_reads_load_a_block_only_once_they_keep_coming() {
        let (data, ra) = counted(4 * READ_AHEAD);
        let mut marker = [0u8; 12];
        for at in [100_000u64, 180_000, 5_000_000, 5_100_000, 9_000_000] {
            ra.read_exact_at(at, &mut marker).unwrap();
            assert_eq!(marker, data[at as usize..at as usize + 12]);
        }
        assert_eq!(ra.inner.1.get(), 5, "one small read each");
        assert!(ra.blocks.borrow().is_empty() && ra.prefetch().is_empty());
        let mut pos = 12_000_000u64;
        for _ in 0..100 {
            let mut grain = [0u8; 300];
            ra.read_exact_at(pos, &mut grain).unwrap();
            assert!(grain == data[pos as usize..pos as usize + 300]);
            pos += 300 + 12;
        }
        assert_eq!(ra.inner.1.get(), 5 + 3, "two small reads, then block 2");
        assert_eq!(ra.prefetch(), vec![(3 * READ_AHEAD as u64, READ_AHEAD)]);
    }

    #[test]
    fn a_jump_drops_what_was_fetched_for_the_old_position_and_failures_are_read_again() {
        let (data, ra) = streaming(12 * READ_AHEAD);
        let w = READ_AHEAD as u64;
        let mut b = vec![0u8; SMALL_READ];
        assert_eq!(supply_all(&ra, &data), 3);
        // A fetch of the next block but one is still out when the reads jump far ahead.
        ra.read_exact_at(2 * w, &mut b).unwrap();
        assert_eq!(ra.prefetch(), vec![(4 * w, READ_AHEAD), (5 * w, READ_AHEAD)]);
        ra.read_exact_at(8 * w, &mut b).unwrap();
        ra.read_exact_at(8 * w + SMALL_READ as u64, &mut b).unwrap();
        let asked = ra.prefetch();
        assert_eq!(asked, vec![(9 * w, READ_AHEAD), (10 * w, READ_AHEAD), (11 * w, READ_AHEAD)]);
        assert!(ra.ahead.borrow().is_empty(), "blocks 1-3 were dropped");
        assert!(!ra.supply(4 * w, READ_AHEAD, |_| unreachable!()), "block 4 is no longer wanted");
        // A fetch that failed: the block is read from the source, which reports any error.
        ra.unpend(9 * w);
        assert_eq!(ra.awaiting(w), None);
        assert!(!ra.supply(9 * w, READ_AHEAD, |_| unreachable!()));
        // Wrong length: not taken (and read from the source when reached).
        assert!(!ra.supply(10 * w, 5, |_| unreachable!()));
        let before = ra.inner.1.get();
        let mut big = vec![0u8; 3 << 20];
        for at in [8 * w + 2000, 8 * w + 2000 + (3 << 20), 8 * w + 2000 + (6 << 20)] {
            ra.read_exact_at(at, &mut big).unwrap();
            assert!(big == data[at as usize..at as usize + big.len()]);
        }
        assert_eq!(ra.inner.1.get(), before + 2, "blocks 9 and 10 read from the source");
    }
}
