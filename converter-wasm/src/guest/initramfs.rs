//! An initramfs as the kernel unpacks it (`init/initramfs.c`, `unpack_to_rootfs`): a sequence
//! of segments separated by zero padding, each an uncompressed cpio archive (dracut puts the
//! early microcode one first) or a compressed stream recognised by its magic
//! (`lib/decompress.c`), whose output is one or more cpio archives. We keep what inspection
//! needs: the compressions in order, the kernel modules present and `modules.builtin`.
//!
//! Decompressed data is walked as it comes and never held ([`cpio::Archive`] reads from a
//! `BufRead`), so memory stays at the decoders' windows. Decoders (pure Rust, for wasm32):
//! gzip by flate2, zstd by ruzstd, xz and lzma by lzma-rust2, lz4 legacy blocks by lz4_flex.
//! bzip2 and lzo are recognised and reported as unsupported.
//!
//! Damage never loses what was read before it: [`read`] returns what it found with the
//! error in [`Initramfs::problem`].

use super::cpio::{self, Archive, Header};
use super::EntryKind;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

/// Largest initramfs read: a distribution's is 20–100 MiB (dracut without `hostonly`, with
/// firmware); issue 11 states this cap.
pub const MAX_INPUT: u64 = 256 << 20;
/// Most bytes decompressed from one initramfs: several times the largest real one (an
/// unpacked initramfs is a few hundred MiB at most); more is a decompression bomb.
pub const MAX_UNPACKED: u64 = 1 << 30;
/// Most modules recorded: a whole distribution kernel has about 6,000.
pub const MAX_MODULES: usize = 100_000;
/// Largest `modules.builtin` read (a few hundred KiB in practice).
pub const MAX_BUILTIN: usize = 4 << 20;
/// Memory the xz and lzma decoders may use, in KiB: `xz -9` needs 64 MiB of dictionary.
const MAX_DICT_KIB: u32 = 128 << 10;
/// Largest zstd window accepted: `zstd --long=31` (2 GiB) is refused, 128 MiB (`--long=27`)
/// is the largest the kernel's decompressor accepts for an initramfs.
const MAX_ZSTD_WINDOW: u64 = 128 << 20;
/// lz4 legacy format: each block inflates to at most 8 MiB (`lz4 -l`, the kernel's
/// `LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE`).
const LZ4_LEGACY_BLOCK: usize = 8 << 20;
/// Read buffer between a decoder and the cpio walker.
const BUF: usize = 64 << 10;

/// What the initramfs holds, as far as it could be read.
#[derive(Clone, Debug, Default)]
pub struct Initramfs {
    /// One per segment, in order: "none", "gzip", "zstd", "xz", "lzma", "lz4".
    pub layers: Vec<String>,
    /// Module name (underscores, see [`module_name`]) → its path in the archive.
    pub modules: BTreeMap<String, String>,
    /// `modules.builtin` carried in the initramfs: its path and the module names it lists
    /// with their 1-based lines.
    pub builtin: Option<(String, BTreeMap<String, u32>)>,
    /// Why reading stopped before the end, if it did.
    pub problem: Option<Error>,
}

/// The compressions the kernel recognises (`lib/decompress.c`), by magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    Cpio,
    Gzip,
    Zstd,
    Xz,
    Lzma,
    Lz4Legacy,
    Bzip2,
    Lzo,
}

impl Segment {
    fn detect(b: &[u8]) -> Option<Segment> {
        Some(match b {
            [b'0', b'7', b'0', b'7', ..] => Segment::Cpio,
            [0x1f, 0x8b | 0x9e, ..] => Segment::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Segment::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Segment::Xz,
            [0x5d, 0, 0, ..] => Segment::Lzma,
            [0x02, 0x21, 0x4c, 0x18, ..] => Segment::Lz4Legacy,
            [b'B', b'Z', b'h', ..] => Segment::Bzip2,
            [0x89, b'L', b'Z', ..] => Segment::Lzo,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Segment::Cpio => "none",
            Segment::Gzip => "gzip",
            Segment::Zstd => "zstd",
            Segment::Xz => "xz",
            Segment::Lzma => "lzma",
            Segment::Lz4Legacy => "lz4",
            Segment::Bzip2 => "bzip2",
            Segment::Lzo => "lzo",
        }
    }
}

/// Reads the initramfs `data` (named `file` in errors). Never fails: damage, an unsupported
/// compression or a cap reached ends the reading with [`Initramfs::problem`] set.
pub fn read(file: &str, data: &[u8]) -> Initramfs {
    read_capped(file, data, MAX_UNPACKED)
}

/// [`read`], decompressing at most `max_unpacked` bytes.
fn read_capped(file: &str, data: &[u8], max_unpacked: u64) -> Initramfs {
    let mut out = Initramfs::default();
    if data.len() as u64 > MAX_INPUT {
        let (size, limit) = (data.len() as u64, MAX_INPUT);
        out.problem = Some(Error::over_limit(
            file,
            None,
            size,
            limit,
            format!("initramfs is {size} bytes, more than the {limit} read"),
        ));
        return out;
    }
    let mut budget = Budget { left: max_unpacked, limit: max_unpacked };
    let mut pos = 0;
    loop {
        pos += data[pos..].iter().take_while(|&&b| b == 0).count();
        if pos == data.len() {
            break;
        }
        let Some(kind) = Segment::detect(&data[pos..]) else {
            let magic: Vec<String> = data[pos..].iter().take(4).map(|b| format!("{b:02x}")).collect();
            let msg = format!("neither a cpio archive nor a known compression (bytes {})", magic.join(" "));
            out.problem = Some(Error::corrupt(file, pos as u64, msg));
            break;
        };
        out.layers.push(kind.name().to_string());
        match segment(file, &data[pos..], pos as u64, kind, &mut budget, &mut out) {
            Ok(used) => pos += used,
            Err(e) => {
                out.problem = Some(e);
                break;
            }
        }
    }
    out
}

/// Reads the segment of `kind` at the start of `rest` (at `offset` in the file); returns the
/// bytes of the file it took.
fn segment(
    file: &str,
    rest: &[u8],
    offset: u64,
    kind: Segment,
    budget: &mut Budget,
    out: &mut Initramfs,
) -> Result<usize> {
    let mut input = rest;
    let label = format!("{file} ({} stream at offset {offset})", kind.name());
    let bad = |e: io::Error| Error::corrupt(file, offset, format!("{} stream: {e}", kind.name()));
    match kind {
        Segment::Cpio => {
            // The file itself: offsets in errors are the file's.
            let mut a = Archive::new(&mut input, file, offset);
            while let Some(h) = a.next_entry()? {
                out.visit(&h, &mut a)?;
            }
        }
        Segment::Gzip => walk(&label, flate2::bufread::GzDecoder::new(&mut input), budget, out)?,
        Segment::Zstd => walk(&label, ZstdFrames { input: &mut input, frame: None }, budget, out)?,
        Segment::Xz => {
            let r = lzma_rust2::XzReader::new_mem_limit(&mut input, false, MAX_DICT_KIB);
            walk(&label, r, budget, out)?
        }
        Segment::Lzma => {
            let r = lzma_rust2::LzmaReader::new_mem_limit(&mut input, MAX_DICT_KIB, None).map_err(bad)?;
            walk(&label, r, budget, out)?
        }
        Segment::Lz4Legacy => walk(&label, Lz4Legacy { input: &mut input, block: Vec::new(), at: 0 }, budget, out)?,
        Segment::Bzip2 | Segment::Lzo => {
            return Err(Error::unsupported(file, Some(offset), format!("{} compression is not read", kind.name())))
        }
    }
    Ok(match kind {
        // lzma-rust2 reads ahead of an lzma stream's end (the format has no length when
        // written by `lzma` to a pipe): taken as the last segment, as `lzma` writes it.
        Segment::Lzma => rest.len(),
        _ => rest.len() - input.len(),
    })
}

/// Walks the cpio archives a decoder's output holds, with zero padding between them, to the
/// end of the stream (the decoder then has read all of its input it needs).
fn walk(label: &str, decoder: impl Read, budget: &mut Budget, out: &mut Initramfs) -> Result<()> {
    let mut r = BufReader::with_capacity(BUF, Capped { inner: decoder, left: budget, label });
    let mut pos = 0u64;
    loop {
        loop {
            let buf = r.fill_buf().map_err(|e| cpio::stream_error(label, pos, e))?;
            let zeros = buf.iter().take_while(|&&b| b == 0).count();
            let all = zeros == buf.len();
            r.consume(zeros);
            pos += zeros as u64;
            if !all || zeros == 0 {
                break;
            }
        }
        if r.fill_buf().map_err(|e| cpio::stream_error(label, pos, e))?.is_empty() {
            return Ok(());
        }
        let mut a = Archive::new(&mut r, label, pos);
        while let Some(h) = a.next_entry()? {
            out.visit(&h, &mut a)?;
        }
        pos = a.position();
    }
}

impl Initramfs {
    /// Records a module or reads `modules.builtin`.
    fn visit<R: BufRead>(&mut self, h: &Header, a: &mut Archive<R>) -> Result<()> {
        if h.kind() != EntryKind::File {
            return Ok(());
        }
        if let Some(name) = module_name(&h.name) {
            if self.modules.len() >= MAX_MODULES {
                let msg = format!("more than {MAX_MODULES} kernel modules");
                return Err(Error::too_large(&h.name, Some(h.offset), msg));
            }
            self.modules.entry(name).or_insert_with(|| h.name.clone());
        } else if h.name.rsplit('/').next() == Some("modules.builtin") {
            let text = a.data(MAX_BUILTIN)?;
            self.builtin = Some((h.name.clone(), builtin(&text)));
        }
        Ok(())
    }
}

/// The module a path names, with dashes as underscores (as `modprobe` compares them):
/// `virtio_blk` from `…/virtio_blk.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz`; `None` for other files.
pub fn module_name(path: &str) -> Option<String> {
    let base = path.rsplit('/').next()?;
    let stem = ["", ".xz", ".zst", ".gz"].iter().find_map(|c| base.strip_suffix(c)?.strip_suffix(".ko"))?;
    (!stem.is_empty()).then(|| stem.replace('-', "_"))
}

/// The modules a `modules.builtin` lists (one module path per line), with their 1-based lines.
pub fn builtin(text: &[u8]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for (i, line) in String::from_utf8_lossy(text).lines().enumerate() {
        if let Some(name) = module_name(line.trim()) {
            out.entry(name).or_insert(i as u32 + 1);
        }
    }
    out
}

/// A decoder's output, counted against the bytes left in the budget: past it, an error of kind
/// `TooLarge` (carried through `io::Error` to [`cpio::stream_error`]).
struct Capped<'b, R> {
    inner: R,
    left: &'b mut Budget,
    label: &'b str,
}

/// What may still be decompressed from one initramfs, of `limit`.
struct Budget {
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let b = &mut *self.left;
        if n as u64 > b.left {
            let msg = format!("decompresses to more than {} bytes: a decompression bomb?", b.limit);
            return Err(io::Error::other(Error::over_limit(self.label, None, b.limit + 1, b.limit, msg)));
        }
        b.left -= n as u64;
        Ok(n)
    }
}

/// Consecutive zstd frames, as the kernel's `unzstd` reads them, as one stream, each frame's
/// content checksum (when it has one) checked. Each frame's decoder reads a copy of the input
/// slice; when it ends, the slice it leaves is the rest.
struct ZstdFrames<'a, 'i> {
    input: &'a mut &'i [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'i [u8], ruzstd::decoding::FrameDecoder>>,
}

impl Read for ZstdFrames<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(f) = &mut self.frame {
                let n = f.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                if let Some(f) = self.frame.take() {
                    let (rest, dec) = f.into_parts();
                    // ruzstd computes the frame's content checksum but leaves the check to us.
                    if let (Some(want), Some(got)) = (dec.get_checksum_from_data(), dec.get_calculated_checksum()) {
                        if want != got {
                            let msg = format!("zstd frame checksum {got:#010x} is not the stored {want:#010x}");
                            return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
                        }
                    }
                    *self.input = rest;
                }
            }
            if !self.input.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                return Ok(0);
            }
            let d = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(*self.input, MAX_ZSTD_WINDOW);
            self.frame = Some(d.map_err(io::Error::other)?);
        }
    }
}

/// The lz4 legacy format (`lz4 -l`, the kernel's `unlz4`): the magic, then blocks of a
/// little-endian compressed size and an lz4 block inflating to at most 8 MiB. It has no end
/// mark: it ends with the input, at another magic (skipped), or at a zero size (the padding
/// before the next segment).
struct Lz4Legacy<'a, 'i> {
    input: &'a mut &'i [u8],
    block: Vec<u8>,
    /// Bytes of `block` already returned.
    at: usize,
}

impl Read for Lz4Legacy<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            let Some(size) = self.input.get(..4) else {
                return Ok(0);
            };
            let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
            if size == 0x184c_2102 {
                *self.input = &self.input[4..];
                continue;
            }
            if size == 0 {
                return Ok(0);
            }
            // LZ4_compressBound of a full block: the largest a block can take.
            let bound = LZ4_LEGACY_BLOCK + LZ4_LEGACY_BLOCK / 255 + 16;
            let size = size as usize;
            if size > bound {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("lz4 block of {size} bytes, more than {bound}"),
                ));
            }
            let Some(data) = self.input.get(4..4 + size) else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            self.block.resize(LZ4_LEGACY_BLOCK, 0);
            let n = lz4_flex::block::decompress_into(data, &mut self.block)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.block.truncate(n);
            self.at = 0;
            *self.input = &self.input[4 + size..];
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::guest::cpio::tests::{archive, entry};
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// `data` through a Debian compressor (`zstd`, `xz`, ...), or None (and why) when the
    /// command is missing.
    pub(crate) fn tool(args: &[&str], data: &[u8]) -> Option<Vec<u8>> {
        let child = Command::new(args[0]).args(&args[1..]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
        let Ok(mut child) = child else {
            eprintln!("skipped: `{}` is not installed", args[0]);
            return None;
        };
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "{args:?}");
        Some(out.stdout)
    }

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The compressions under test: the layer name and the compressor, as dracut runs them.
    /// A compressor under test; None when its command is missing.
    type Compress = Box<dyn Fn(&[u8]) -> Option<Vec<u8>>>;

    fn compressors() -> Vec<(&'static str, Compress)> {
        vec![
            ("gzip", Box::new(|d| Some(gzip(d)))),
            ("zstd", Box::new(|d| tool(&["zstd", "-q", "-c", "-3"], d))),
            ("xz", Box::new(|d| tool(&["xz", "--check=crc32", "-c"], d))),
            ("lzma", Box::new(|d| tool(&["lzma", "-c"], d))),
            ("lz4", Box::new(|d| tool(&["lz4", "-l", "-q", "-c"], d))),
        ]
    }

    /// dracut's layout: an uncompressed early cpio, zero padding to 512, the compressed main
    /// archive; here also a last uncompressed archive after it, which is found only when the
    /// decoder stopped exactly at its stream's end.
    fn dracut_like(compress: &dyn Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        let mut img = archive(&[("kernel/x86/microcode/GenuineIntel.bin", b"ucode")]);
        img.resize(512, 0);
        let builtin = b"kernel/drivers/ata/libata.ko\nkernel/drivers/block/virtio_blk.ko\n";
        let main = archive(&[
            ("usr/lib/modules/5.14.0/kernel/drivers/scsi/vmw_pvscsi.ko.xz", b"m"),
            ("usr/lib/modules/5.14.0/kernel/drivers/net/vmxnet3/vmxnet3.ko.zst", b"m"),
            ("usr/lib/modules/5.14.0/kernel/drivers/ata/ata_piix.ko", b"m"),
            ("usr/lib/modules/5.14.0/kernel/drivers/virtio/virtio-pci.ko.gz", b"m"),
            ("usr/lib/modules/5.14.0/modules.builtin", builtin),
            ("usr/lib/modules/5.14.0/modules.dep", b"x"),
        ]);
        img.extend(compress(&main)?);
        img.extend([0; 4]);
        img.extend(archive(&[("lib/modules/5.14.0/extra/ahci.ko", b"m")]));
        Some(img)
    }

    #[test]
    fn reads_every_compression_in_dracut_layout() {
        for (name, compress) in compressors() {
            let Some(img) = dracut_like(&*compress) else { continue };
            let got = read("initramfs-5.14.0.img", &img);
            assert!(got.problem.is_none(), "{name}: {:?}", got.problem);
            // Each decoder stops at its stream's end, so the archive after it is found; an
            // lzma stream is read to the end of the file.
            let (layers, first) =
                if name == "lzma" { (&["none", name][..], 1) } else { (&["none", name, "none"][..], 0) };
            assert_eq!(got.layers, layers, "{name}");
            let mods: Vec<&str> = got.modules.keys().map(String::as_str).collect();
            assert_eq!(mods, ["ahci", "ata_piix", "virtio_pci", "vmw_pvscsi", "vmxnet3"][first..], "{name}");
            assert_eq!(got.modules["virtio_pci"], "usr/lib/modules/5.14.0/kernel/drivers/virtio/virtio-pci.ko.gz");
            let (path, b) = got.builtin.as_ref().unwrap();
            assert_eq!(path, "usr/lib/modules/5.14.0/modules.builtin");
            assert_eq!(b.get("virtio_blk"), Some(&2), "{name}");
        }
    }

    #[test]
    fn reads_what_real_cpio_and_compressors_write() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("usr/lib/modules/6.1.0-13-amd64/kernel/drivers/block");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("virtio_blk.ko"), vec![7u8; 5000]).unwrap();
        std::fs::write(m.join("nbd.ko.xz"), b"x").unwrap();
        std::os::unix::fs::symlink("usr/lib", dir.path().join("lib")).unwrap();
        let cpio = |format: &str| -> Option<Vec<u8>> {
            let script = format!("find . | LC_ALL=C sort | cpio -o -H {format} --quiet");
            let out = Command::new("sh").arg("-c").arg(script).current_dir(dir.path()).output().ok()?;
            if !out.status.success() || out.stdout.is_empty() {
                eprintln!("skipped: `cpio -H {format}` did not run");
                return None;
            }
            Some(out.stdout)
        };
        let (Some(newc), Some(crc)) = (cpio("newc"), cpio("crc")) else { return };
        let cases = [
            (&["zstd", "-q", "-c", "-19"][..], &newc),
            (&["xz", "--check=crc32", "-c"], &newc),
            (&["gzip", "-c"], &newc),
            (&["lz4", "-l", "-q", "-c"], &newc),
            (&["xz", "--check=crc32", "-c"], &crc),
        ];
        for (args, plain) in cases {
            let Some(z) = tool(args, plain) else { continue };
            let got = read("initrd.img-6.1.0-13-amd64", &z);
            assert!(got.problem.is_none(), "{args:?}: {:?}", got.problem);
            assert_eq!(got.layers, [args[0]]);
            assert_eq!(got.modules.keys().collect::<Vec<_>>(), ["nbd", "virtio_blk"], "{args:?}");
        }
        // The "crc" archive uncompressed, with one data byte changed: its sum is checked.
        let mut bad = crc.clone();
        let at = bad.windows(2).position(|w| w == [7, 7]).unwrap();
        bad[at] = 8;
        assert_eq!(read("i.img", &crc).modules.len(), 2);
        assert_eq!(read("i.img", &bad).problem.map(|e| e.kind), Some(ErrorKind::Corrupt));
    }

    #[test]
    fn damage_keeps_what_was_read_before_it() {
        let Some(img) = dracut_like(&|d| tool(&["zstd", "-q", "-c"], d)) else { return };
        let early = 512;
        // Truncated in the compressed stream: the early archive's layer and the problem stay.
        let got = read("i.img", &img[..early + 40]);
        assert_eq!(got.layers, ["none", "zstd"]);
        let p = got.problem.unwrap();
        assert!(matches!(p.kind, ErrorKind::Truncated | ErrorKind::Corrupt), "{p}");
        // Garbage after the first archive: reported at its offset.
        let mut junk = archive(&[("usr/lib/modules/6/virtio_net.ko", b"m")]);
        let at = junk.len() as u64;
        junk.extend_from_slice(b"garbage!");
        let got = read("i.img", &junk);
        assert_eq!(got.modules.keys().collect::<Vec<_>>(), ["virtio_net"]);
        assert_eq!(got.problem.as_ref().map(|e| (e.kind, e.offset)), Some((ErrorKind::Corrupt, Some(at))));
        // Garbage inside a compressed stream, after its archive.
        let mut inner = archive(&[("virtio_scsi.ko", b"m")]);
        inner.extend_from_slice(&[b'j'; 200]);
        let got = read("i.img", &gzip(&inner));
        assert_eq!(got.modules.keys().collect::<Vec<_>>(), ["virtio_scsi"]);
        assert_eq!(got.problem.map(|e| e.kind), Some(ErrorKind::Corrupt));
        // bzip2 is recognised, not read.
        let got = read("i.img", b"BZh91AY&SY");
        assert_eq!(
            (got.layers, got.problem.map(|e| e.kind)),
            (vec!["bzip2".to_string()], Some(ErrorKind::Unsupported))
        );
    }

    #[test]
    fn hostile_sizes_hit_caps_not_memory() {
        // A cpio entry claiming 4 GiB inside a gzip stream: truncated where the stream ends.
        let mut e = entry("big.ko", 0o100_644, b"");
        e[54..62].copy_from_slice(b"ffffffff");
        let got = read("i.img", &gzip(&e));
        assert_eq!(got.problem.map(|e| e.kind), Some(ErrorKind::Truncated));
        // Bombs: 8 MiB of zeros against a 1 MiB cap, in every compression.
        let zeros = vec![0u8; 8 << 20];
        for (name, compress) in compressors() {
            let Some(z) = compress(&zeros) else { continue };
            let got = read_capped("i.img", &z, 1 << 20);
            let p = got.problem.unwrap_or_else(|| panic!("{name}: no problem"));
            assert_eq!((p.kind, p.args.limit), (ErrorKind::TooLarge, Some(1 << 20)), "{name}: {p}");
        }
        // Input over the cap: refused before reading (the zeroed pages are never touched).
        let huge = vec![0u8; MAX_INPUT as usize + 1];
        assert_eq!(read("i.img", &huge).problem.map(|e| e.kind), Some(ErrorKind::TooLarge));
    }

    #[test]
    fn damaged_bytes_never_panic() {
        // Byte flips across every compression's stream (a cheap stand-in for fuzzing): each
        // read ends, and what it reports is either whole or says it stopped (checksums: gzip
        // CRC-32, zstd content checksum, xz CRC-32; lzma's range coder end).
        for (name, compress) in compressors() {
            let Some(img) = dracut_like(&*compress) else { continue };
            let mut x = 0x2545_f491u32;
            for _ in 0..300 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let mut bad = img.clone();
                let at = 512 + x as usize % (img.len() - 512);
                bad[at] ^= 1 << (x >> 29);
                let got = read("i.img", &bad);
                assert!(!got.layers.is_empty(), "{name} at {at}");
                // lz4 legacy has no checksum: a flip may change a name unnoticed.
                let whole = got.modules.len() + got.builtin.iter().len() >= 5;
                assert!(got.problem.is_some() || whole || name == "lz4", "{name} at {at}");
            }
        }
    }

    #[test]
    fn many_tiny_entries_are_bounded() {
        let start = std::time::Instant::now();
        let names: Vec<String> = (0..=MAX_MODULES).map(|i| format!("m{i}.ko")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let got = read("i.img", &gzip(&archive(&files)));
        assert_eq!(got.modules.len(), MAX_MODULES);
        assert_eq!(got.problem.map(|e| e.kind), Some(ErrorKind::TooLarge));
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    #[test]
    fn module_names_are_normalised() {
        for (path, name) in [
            ("a/virtio_blk.ko", Some("virtio_blk")),
            ("virtio-net.ko.xz", Some("virtio_net")),
            ("kernel/drivers/scsi/vmw_pvscsi.ko.zst", Some("vmw_pvscsi")),
            ("x/ahci.ko.gz", Some("ahci")),
            ("x/ahci.ko.bz2", None),
            ("x/.ko", None),
            ("modules.dep", None),
        ] {
            assert_eq!(module_name(path).as_deref(), name, "{path}");
        }
        let b = builtin(b"kernel/fs/ext4/ext4.ko\n\nkernel/drivers/virtio/virtio_pci.ko\n");
        assert_eq!(b.into_iter().collect::<Vec<_>>(), [("ext4".to_string(), 1), ("virtio_pci".to_string(), 3)]);
    }
}
