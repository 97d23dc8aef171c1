//! What a volume holds, and the file systems we read as [`Files`]: ext2/3/4 through
//! `ext4-view`, XFS (v4 and v5, log replayed in memory) through `lamxfs` (both read-only,
//! `no_std`, forbid `unsafe`, fuzzed upstream), NTFS through `ntfs` (read-only, case-insensitive
//! names through the volume's own upcase table), FAT (the EFI system partition) through
//! `fatfs`, given a device that refuses writes. Other contents (swap, LUKS, an LVM PV, btrfs)
//! are recognised by their magic so the report can name them.

use super::{Entry, EntryKind, Files};
use crate::error::{Error, Result};
use crate::source::{Source, SourceRef};
use std::cell::RefCell;

/// What a volume holds, by its magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    Ext,
    Xfs,
    Ntfs,
    Fat,
    Btrfs,
    Swap,
    Luks,
    LvmPv,
    Unknown,
}

impl Content {
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Ext => "ext4",
            Content::Xfs => "xfs",
            Content::Ntfs => "ntfs",
            Content::Fat => "vfat",
            Content::Btrfs => "btrfs",
            Content::Swap => "swap",
            Content::Luks => "luks",
            Content::LvmPv => "lvm2_pv",
            Content::Unknown => "unknown",
        }
    }
}

/// The content, label and UUID (as `blkid` prints them) of a volume.
pub struct Probe {
    pub content: Content,
    pub label: Option<String>,
    pub uuid: Option<String>,
}

fn at<const N: usize>(src: &dyn Source, offset: u64) -> Result<Option<[u8; N]>> {
    let mut b = [0u8; N];
    if offset.saturating_add(N as u64) > src.len() {
        return Ok(None);
    }
    src.read_exact_at(offset, &mut b)?;
    Ok(Some(b))
}

fn text(b: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(b).trim_end_matches(['\0', ' ']).to_string();
    (!s.is_empty()).then_some(s)
}

fn uuid(b: &[u8]) -> String {
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Recognise a volume's content from its first 68 KiB.
pub fn probe(src: &dyn Source) -> Result<Probe> {
    let none = |content| Probe { content, label: None, uuid: None };
    let head: [u8; 4096] = match at(src, 0)? {
        Some(h) => h,
        None => return Ok(none(Content::Unknown)),
    };
    if &head[..4] == b"XFSB" {
        return Ok(Probe { content: Content::Xfs, label: text(&head[108..120]), uuid: Some(uuid(&head[32..48])) });
    }
    if &head[..6] == b"LUKS\xba\xbe" {
        return Ok(Probe { content: Content::Luks, label: None, uuid: text(&head[168..208]) });
    }
    if &head[3..11] == b"NTFS    " {
        let serial = u64::from_le_bytes(head[0x48..0x50].try_into().unwrap_or_default());
        return Ok(Probe { content: Content::Ntfs, label: None, uuid: Some(format!("{serial:016X}")) });
    }
    if head[510..512] == [0x55, 0xaa] && (&head[0x52..0x57] == b"FAT32" || &head[0x36..0x39] == b"FAT") {
        let id_at = if &head[0x52..0x57] == b"FAT32" { 0x43 } else { 0x27 };
        let id = &head[id_at..id_at + 4];
        return Ok(Probe {
            content: Content::Fat,
            label: None,
            uuid: Some(format!("{:02X}{:02X}-{:02X}{:02X}", id[3], id[2], id[1], id[0])),
        });
    }
    if (0..4).any(|s| &head[s * 512..s * 512 + 8] == b"LABELONE") {
        return Ok(none(Content::LvmPv));
    }
    if &head[4086..4096] == b"SWAPSPACE2" {
        return Ok(Probe {
            content: Content::Swap,
            label: text(&head[1052..1068]),
            uuid: Some(uuid(&head[1036..1052])),
        });
    }
    if let Some(sb) = at::<256>(src, 1024)? {
        if sb[56..58] == [0x53, 0xef] {
            return Ok(Probe { content: Content::Ext, label: text(&sb[120..136]), uuid: Some(uuid(&sb[104..120])) });
        }
    }
    if let Some(m) = at::<8>(src, 0x10040)? {
        if &m == b"_BHRfS_M" {
            return Ok(none(Content::Btrfs));
        }
    }
    Ok(none(Content::Unknown))
}

/// Open a volume's file system as [`Files`], for the contents we read.
pub fn open(src: SourceRef, content: Content) -> Result<Option<Box<dyn Files>>> {
    Ok(match content {
        Content::Ext => Some(Box::new(ExtFiles::open(src)?)),
        Content::Xfs => Some(Box::new(XfsFiles::open(src)?)),
        Content::Ntfs => Some(Box::new(NtfsFiles::open(src)?)),
        Content::Fat => Some(Box::new(FatFiles::open(src)?)),
        _ => None,
    })
}

/// Bytes through the shared source, for the crates' reader traits.
struct Reader(SourceRef);

fn fs_error(src: &dyn Source, path: &str, e: impl std::fmt::Debug) -> Error {
    Error::corrupt(src.name(), 0, format!("reading {path}: {e:?}"))
}

fn too_large(path: &str, size: u64, cap: u64) -> Error {
    Error::over_limit(path, None, size, cap, format!("file is {size} bytes, more than the {cap} read for it"))
}

struct ExtFiles {
    src: SourceRef,
    fs: ext4_view::Ext4,
}

impl ext4_view::Ext4Read for Reader {
    fn read(
        &mut self,
        start: u64,
        dst: &mut [u8],
    ) -> std::result::Result<(), Box<dyn core::error::Error + Send + Sync>> {
        self.0.read_exact_at(start, dst).map_err(|e| e.to_string().into())
    }
}

impl ExtFiles {
    fn open(src: SourceRef) -> Result<ExtFiles> {
        let fs = ext4_view::Ext4::load(Box::new(Reader(src.clone()))).map_err(|e| fs_error(src.as_ref(), "/", e))?;
        Ok(ExtFiles { src, fs })
    }
}

impl Files for ExtFiles {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        use ext4_view::Ext4Error as E;
        let meta = match self.fs.metadata(path) {
            Ok(m) => m,
            Err(E::NotFound | E::NotADirectory | E::MalformedPath) => return Ok(None),
            Err(e) => return Err(fs_error(self.src.as_ref(), path, e)),
        };
        if meta.is_dir() || meta.file_type() != ext4_view::FileType::Regular {
            return Ok(None);
        }
        if meta.len() > cap {
            return Err(too_large(path, meta.len(), cap));
        }
        self.fs.read(path).map(Some).map_err(|e| fs_error(self.src.as_ref(), path, e))
    }

    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        use ext4_view::{Ext4Error as E, FileType as T};
        let dir = match self.fs.read_dir(path) {
            Ok(d) => d,
            Err(E::NotFound | E::NotADirectory | E::MalformedPath) => return Ok(None),
            Err(e) => return Err(fs_error(self.src.as_ref(), path, e)),
        };
        let mut out = Vec::new();
        for e in dir {
            let e = e.map_err(|e| fs_error(self.src.as_ref(), path, e))?;
            let name = String::from_utf8_lossy(e.file_name().as_ref()).into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let (kind, size) = match e.metadata() {
                Ok(m) if m.is_dir() => (EntryKind::Dir, 0),
                Ok(m) if m.is_symlink() => (EntryKind::Symlink, 0),
                Ok(m) if m.file_type() == T::Regular => (EntryKind::File, m.len()),
                _ => (EntryKind::Other, 0),
            };
            out.push(Entry { name, kind, size });
        }
        Ok(Some(out))
    }
}

impl lamxfs::BlockRead for Reader {
    type Error = Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.0.read_exact_at(offset, buf)
    }
}

/// lamxfs takes `&mut self` and does not follow symbolic links (a boot loader's needs); both
/// are added here: a RefCell, and [`super::path::follow`] over its `read_link`.
struct XfsFiles {
    src: SourceRef,
    fs: RefCell<lamxfs::Xfs<Reader>>,
}

impl XfsFiles {
    fn open(src: SourceRef) -> Result<XfsFiles> {
        let fs = lamxfs::Xfs::open(Reader(src.clone()), src.len()).map_err(|e| fs_error(src.as_ref(), "/", e))?;
        Ok(XfsFiles { src, fs: RefCell::new(fs) })
    }

    /// The inode's metadata at a path already free of links, None when absent.
    fn meta(&self, path: &str) -> Result<Option<(lamxfs::Inode, lamxfs::Metadata)>> {
        let mut fs = self.fs.borrow_mut();
        let ino = match fs.resolve(lamxfs::Path::new(path.as_bytes())) {
            Ok(i) => i,
            Err(lamxfs::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(fs_error(self.src.as_ref(), path, e)),
        };
        let m = fs.metadata(&ino).map_err(|e| fs_error(self.src.as_ref(), path, e))?;
        Ok(Some((ino, m)))
    }

    /// `path` with every symbolic link in it replaced by its target.
    fn real(&self, path: &str) -> Result<Option<String>> {
        super::path::follow(path, |p| match self.meta(p)? {
            Some((_, m)) if m.is_symlink() => {
                let t = self
                    .fs
                    .borrow_mut()
                    .read_link(lamxfs::Path::new(p.as_bytes()))
                    .map_err(|e| fs_error(self.src.as_ref(), p, e))?;
                Ok(super::path::Step::Link(String::from_utf8_lossy(&t).into_owned()))
            }
            Some(_) => Ok(super::path::Step::Real),
            None => Ok(super::path::Step::Missing),
        })
    }
}

impl Files for XfsFiles {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.real(path)? else { return Ok(None) };
        let Some((ino, m)) = self.meta(&path)? else { return Ok(None) };
        if !m.is_file() {
            return Ok(None);
        }
        if m.size() > cap {
            return Err(too_large(&path, m.size(), cap));
        }
        let mut buf = vec![0u8; m.size() as usize];
        let mut at = 0usize;
        let mut fs = self.fs.borrow_mut();
        while at < buf.len() {
            let n =
                fs.read_file_at(&ino, at as u64, &mut buf[at..]).map_err(|e| fs_error(self.src.as_ref(), &path, e))?;
            if n == 0 {
                return Err(fs_error(self.src.as_ref(), &path, format!("ends at {at} of {} bytes", buf.len())));
            }
            at += n;
        }
        Ok(Some(buf))
    }

    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        let Some(path) = self.real(path)? else { return Ok(None) };
        match self.meta(&path)? {
            Some((_, m)) if m.is_dir() => {}
            _ => return Ok(None),
        }
        let raw = self
            .fs
            .borrow_mut()
            .read_dir(lamxfs::Path::new(path.as_bytes()))
            .map_err(|e| fs_error(self.src.as_ref(), &path, e))?;
        let mut out = Vec::new();
        for e in raw {
            let name = String::from_utf8_lossy(&e.name).into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let kind = match e.kind {
                lamxfs::EntryKind::Directory => EntryKind::Dir,
                lamxfs::EntryKind::Symlink => EntryKind::Symlink,
                lamxfs::EntryKind::Regular => EntryKind::File,
                _ => EntryKind::Other,
            };
            let size = if kind == EntryKind::File {
                let child = if path == "/" { format!("/{name}") } else { format!("{path}/{name}") };
                self.meta(&child)?.map(|(_, m)| m.size()).unwrap_or(0)
            } else {
                0
            };
            out.push(Entry { name, kind, size });
        }
        Ok(Some(out))
    }
}

/// NTFS: each call walks from the root directory (the crate's file handles borrow the volume,
/// so none is kept between calls); names compare case-insensitively as Windows does.
struct NtfsFiles {
    src: SourceRef,
    ntfs: ntfs::Ntfs,
    io: RefCell<crate::source::SourceReader>,
}

impl NtfsFiles {
    fn open(src: SourceRef) -> Result<NtfsFiles> {
        let mut io = crate::source::SourceReader::new(src.clone());
        let mut ntfs = ntfs::Ntfs::new(&mut io).map_err(|e| fs_error(src.as_ref(), "/", e))?;
        ntfs.read_upcase_table(&mut io).map_err(|e| fs_error(src.as_ref(), "/", e))?;
        Ok(NtfsFiles { src, ntfs, io: RefCell::new(io) })
    }

    /// The file at `path`, None when some component is missing.
    fn walk(&self, path: &str) -> Result<Option<ntfs::NtfsFile<'_>>> {
        use ntfs::indexes::NtfsFileNameIndex;
        let io = &mut *self.io.borrow_mut();
        let err = |e: ntfs::NtfsError| fs_error(self.src.as_ref(), path, e);
        let mut file = self.ntfs.root_directory(io).map_err(err)?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !file.is_directory() {
                return Ok(None);
            }
            let index = file.directory_index(io).map_err(err)?;
            let mut finder = index.finder();
            let Some(entry) = NtfsFileNameIndex::find(&mut finder, &self.ntfs, io, part) else { return Ok(None) };
            file = entry.map_err(err)?.to_file(&self.ntfs, io).map_err(err)?;
        }
        Ok(Some(file))
    }
}

impl Files for NtfsFiles {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        let Some(file) = self.walk(path)? else { return Ok(None) };
        if file.is_directory() {
            return Ok(None);
        }
        let io = &mut *self.io.borrow_mut();
        let err = |e: ntfs::NtfsError| fs_error(self.src.as_ref(), path, e);
        let Some(item) = file.data(io, "") else { return Ok(None) };
        let item = item.map_err(err)?;
        let attr = item.to_attribute().map_err(err)?;
        let mut value = attr.value(io).map_err(err)?;
        let len = value.len();
        if len > cap {
            return Err(too_large(path, len, cap));
        }
        let mut out = vec![0u8; len as usize];
        let mut at = 0;
        while at < out.len() {
            let n = ntfs::NtfsReadSeek::read(&mut value, io, &mut out[at..]).map_err(err)?;
            if n == 0 {
                return Err(fs_error(self.src.as_ref(), path, format!("ends at {at} of {len} bytes")));
            }
            at += n;
        }
        Ok(Some(out))
    }

    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        let Some(dir) = self.walk(path)? else { return Ok(None) };
        if !dir.is_directory() {
            return Ok(None);
        }
        let io = &mut *self.io.borrow_mut();
        let err = |e: ntfs::NtfsError| fs_error(self.src.as_ref(), path, e);
        let index = dir.directory_index(io).map_err(err)?;
        let mut entries = index.entries();
        let mut out: Vec<Entry> = Vec::new();
        while let Some(e) = entries.next(io) {
            let e = e.map_err(err)?;
            let Some(key) = e.key() else { continue };
            let name = key.map_err(err)?;
            // Every long name also has an 8.3 DOS alias: list each file once.
            if name.namespace() == ntfs::structured_values::NtfsFileNamespace::Dos {
                continue;
            }
            let text = name.name().to_string_lossy();
            if out.iter().any(|o| o.name == text) {
                continue;
            }
            let (kind, size) =
                if name.is_directory() { (EntryKind::Dir, 0) } else { (EntryKind::File, name.data_size()) };
            out.push(Entry { name: text, kind, size });
        }
        Ok(Some(out))
    }
}

/// `fatfs` wants a read-write device; this one refuses every write, so mounting and reading
/// can never change the guest (fatfs writes only when allocating or on a dirty unmount).
struct NoWrite(crate::source::SourceReader);

impl std::io::Read for NoWrite {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl std::io::Seek for NoWrite {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}
impl std::io::Write for NoWrite {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("guest volumes are read-only"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct FatFiles {
    src: SourceRef,
    fs: fatfs::FileSystem<NoWrite>,
}

impl FatFiles {
    fn open(src: SourceRef) -> Result<FatFiles> {
        let dev = NoWrite(crate::source::SourceReader::new(src.clone()));
        let fs = fatfs::FileSystem::new(dev, fatfs::FsOptions::new()).map_err(|e| fs_error(src.as_ref(), "/", e))?;
        Ok(FatFiles { src, fs })
    }

    fn dir(&self, path: &str) -> Option<fatfs::Dir<'_, NoWrite>> {
        let p = path.trim_matches('/');
        if p.is_empty() {
            Some(self.fs.root_dir())
        } else {
            self.fs.root_dir().open_dir(p).ok()
        }
    }
}

impl Files for FatFiles {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(d) = self.dir(dir) else { return Ok(None) };
        let Some(entry) =
            d.iter().filter_map(|e| e.ok()).find(|e| e.is_file() && e.file_name().eq_ignore_ascii_case(name))
        else {
            return Ok(None);
        };
        if entry.len() > cap {
            return Err(too_large(path, entry.len(), cap));
        }
        let mut out = Vec::new();
        entry.to_file().take(cap).read_to_end(&mut out).map_err(|e| fs_error(self.src.as_ref(), path, e))?;
        Ok(Some(out))
    }

    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        let Some(d) = self.dir(path) else { return Ok(None) };
        let mut out = Vec::new();
        for e in d.iter() {
            let e = e.map_err(|e| fs_error(self.src.as_ref(), path, e))?;
            let name = e.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let (kind, size) = if e.is_dir() { (EntryKind::Dir, 0) } else { (EntryKind::File, e.len()) };
            out.push(Entry { name, kind, size });
        }
        Ok(Some(out))
    }
}
