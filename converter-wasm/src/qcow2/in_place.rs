//! Compressed QCOW2 into a file, deflating each cluster once (the native CLI).
//!
//! The stream form (`convert.rs`) deflates every cluster twice: once to learn the stored
//! lengths, so the tables and the file length are known before the first byte (the page's
//! uploads need that), and once to write. A file can be written in any order instead: the
//! data area is written while the clusters are measured ([`Converter::emit_data_first`]), at
//! the offset it would have if no cluster compressed; once the lengths are known it moves
//! down to where the layout puts it (the refcount blocks for a smaller file may be fewer) and
//! the tables are written in front. The file is byte for byte the stream's.

use crate::convert::{Converter, Progress, Report};
use crate::error::{Error, Result};
use crate::native::convert_parallel;
use crate::output::Output;
use crate::qcow2::writer::write_metadata;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The data area moves down in pieces of this size.
const MOVE_CHUNK: u64 = 4 << 20;

/// Convert `conv` (a compressed QCOW2 conversion not yet started) into `file` (open for
/// reading and writing: the data area is moved within it), named `name` in errors, on
/// `threads` decoder threads, like [`crate::native::convert_parallel`]. The report's SHA-512
/// stays empty: the file is not written front to back.
pub fn convert_compressed(
    mut conv: Converter,
    threads: usize,
    file: &File,
    name: &str,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<Report> {
    let most = conv.emit_data_first()?.ok_or_else(|| Error::invalid("not a compressed QCOW2 conversion"))?;
    let end = AtomicU64::new(most);
    let sink = |parts: &[&[u8]], offset: u64| -> Result<()> {
        let mut at = most + offset;
        for b in parts {
            file.write_all_at(b, at).map_err(|e| Error::write(name, Some(at), e))?;
            at += b.len() as u64;
        }
        end.fetch_max(at, Ordering::Relaxed);
        Ok(())
    };
    let (report, conv) = convert_parallel(conv, threads, false, &sink, progress, cancel)?;
    let plan = conv.plan();
    let layout = plan.layout.as_ref().ok_or_else(|| Error::invalid("compressed layout not planned"))?;
    let data_len = end.into_inner() - most;
    move_down(file, name, most, layout.data_offset, data_len)?;
    // Zeros after the data to the planned length: the last cluster's rest, and nothing of
    // the data area's old place.
    let set_len = |len: u64| file.set_len(len).map_err(|e| Error::write(name, Some(len), e));
    set_len(layout.data_offset + data_len)?;
    set_len(layout.file_len)?;
    let mut at = 0u64;
    let mut meta = |b: &[u8]| -> Result<()> {
        file.write_all_at(b, at).map_err(|e| Error::write(name, Some(at), e))?;
        at += b.len() as u64;
        Ok(())
    };
    let mut out = Output::new(None, None);
    out.sha = None;
    write_metadata(&mut out.writer(&mut meta), layout, &plan.alloc, plan.compressed.as_ref())?;
    if at != layout.data_offset {
        return Err(Error::invalid(format!("wrote {at} bytes of tables but planned {}", layout.data_offset)));
    }
    Ok(report)
}

/// Move `len` bytes at `from` down to `to` (`to <= from`; the ranges may overlap).
fn move_down(file: &File, name: &str, from: u64, to: u64, len: u64) -> Result<()> {
    if from == to || len == 0 {
        return Ok(());
    }
    let mut buf = vec![0u8; MOVE_CHUNK.min(len) as usize];
    let mut done = 0u64;
    while done < len {
        let n = MOVE_CHUNK.min(len - done) as usize;
        file.read_exact_at(&mut buf[..n], from + done).map_err(|e| Error::io(name, Some(from + done), e))?;
        // Ascending: what this overwrites was read already.
        file.write_all_at(&buf[..n], to + done).map_err(|e| Error::write(name, Some(to + done), e))?;
        done += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::convert_serial;
    use crate::image::{Disk, DiskInfo};
    use crate::plan::{plan, Options, OutputFormat};
    use crate::qcow2::{Compressed, Layout};
    use crate::source::MemSource;
    use crate::vmdk::FlatExtent;

    /// Text and noise clusters by turns, some clusters zero: compressed, stored whole, holes.
    fn data(size: usize) -> Vec<u8> {
        let mut x = 7u32;
        (0..size)
            .map(|i| match i / 1500 % 3 {
                0 => b"stackferry one pass "[i % 20],
                1 => {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                }
                _ => 0,
            })
            .collect()
    }

    fn disk(raw: &[u8]) -> Disk {
        let src = MemSource::new("d.raw", raw.to_vec());
        Disk {
            info: DiskInfo::default(),
            map: Box::new(FlatExtent { src, offset: 0, size: raw.len() as u64 }),
            check: None,
        }
    }

    /// One pass into a file gives the two-pass stream's bytes and report, whether the data
    /// area stays where it was written (a few clusters) or moves down (512-byte clusters: a
    /// refcount block covers 256 clusters, and the image needs fewer than if nothing
    /// compressed).
    #[test]
    fn one_pass_file_is_the_two_pass_stream() {
        for (size, cluster_size, moves) in [(300_000, 65536, false), (400_000, 512, true)] {
            let raw = data(size);
            let options = Options { format: OutputFormat::Qcow2Compressed, cluster_size, ..Options::default() };
            let p = plan(&disk(&raw), &options, &|| false).unwrap();
            let mut want = Vec::new();
            let two = convert_serial(disk(&raw), p.clone(), &mut |b: &[u8]| -> Result<()> {
                want.extend_from_slice(b);
                Ok(())
            })
            .unwrap();

            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out.qcow2");
            let file =
                std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
            // Bytes already in the file (an old output) are overwritten or cut off.
            file.write_all_at(&[0xee; 4096], want.len() as u64 - 100).unwrap();
            let conv = Converter::new(disk(&raw), p.clone());
            let one = convert_compressed(conv, 2, &file, "out.qcow2", &mut |_| {}, &AtomicBool::new(false)).unwrap();
            drop(file);
            let got = std::fs::read(&path).unwrap();
            assert_eq!(got.len(), want.len(), "{cluster_size}");
            assert!(got == want, "{cluster_size}: one pass differs from two");
            assert_eq!((one.output_len, &one.content_digest), (two.output_len, &two.content_digest));
            assert!(one.sha512.is_empty());
            // Whether the data area moved: the refcount blocks of the image (the entries of its
            // refcount table) against those of the image if nothing compressed.
            let be = |at: usize, n: usize| got[at..at + n].iter().fold(0u64, |v, b| v << 8 | *b as u64);
            let (rt, rt_clusters) = (be(48, 8) as usize, be(56, 4) as usize);
            let rb_count = (0..rt_clusters * cluster_size as usize / 8).filter(|i| be(rt + 8 * i, 8) != 0).count();
            let whole = Compressed { lens: vec![cluster_size; p.alloc.count() as usize] };
            let most = Layout::new(p.virtual_size, p.cluster_bits, &p.alloc, Some(&whole)).unwrap();
            assert_eq!(rb_count as u64 != most.rb_count, moves, "{cluster_size}: {rb_count} refcount blocks");
        }
    }
}
