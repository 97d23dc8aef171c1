//! Guest inspection: read the guest's own disks read-only (partition tables, LVM, file systems)
//! and say whether it will boot on OpenStack, from what it really contains (issue 11).
//!
//! Layers, each one way (lower never imports higher):
//! - block: `partition` (MBR with logical partitions, GPT), `lvm2` (PV label, text metadata,
//!   linear LVs) — byte ranges of the guest disk, as [`crate::Source`]s;
//! - file systems: `fs` opens a volume (ext2/3/4, XFS, NTFS, FAT) as [`Files`];
//! - `mounts`: the root file system plus what its `/etc/fstab` mounts, as one [`Files`];
//! - what the files say: `linux` (os-release, kernels, GRUB/BLS default, risks), `initramfs`
//!   (cpio archives, their compressions, the modules inside), `windows`;
//! - `boot`: the bus the default kernel can boot from, with its evidence and the fix.
//!
//! Everything reads through [`Files`], so the readers of what files say are tested with
//! in-memory trees ([`MemFiles`]) and never see a disk.

use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// A read-only view of a guest file tree. Paths are absolute, `/`-separated, already
/// normalised (no `.`/`..`); symbolic links are followed inside the tree (not outside it).
pub trait Files {
    /// The whole file at `path`, or `None` when it does not exist (or is not a regular file).
    /// A file longer than `cap` bytes is an error of kind `TooLarge` naming it: callers pick
    /// the cap per file (256 MiB for an initramfs, 1 MiB for a config file).
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>>;
    /// The entries of the directory at `path` (without `.` and `..`), or `None` when it does
    /// not exist or is not a directory.
    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>>;
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    /// Bytes for a regular file, 0 otherwise.
    pub size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// An in-memory tree for tests and for small archives: path → contents; directories are
/// implied by the paths under them.
#[derive(Default, Clone)]
pub struct MemFiles {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MemFiles {
    pub fn new<P: Into<String>, C: Into<Vec<u8>>>(files: impl IntoIterator<Item = (P, C)>) -> Self {
        MemFiles { files: files.into_iter().map(|(p, c)| (p.into(), c.into())).collect() }
    }
}

impl Files for MemFiles {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        match self.files.get(path) {
            Some(data) if data.len() as u64 > cap => Err(crate::Error::over_limit(
                path,
                None,
                data.len() as u64,
                cap,
                format!("file is {} bytes, more than the {cap} read for it", data.len()),
            )),
            Some(data) => Ok(Some(data.clone())),
            None => Ok(None),
        }
    }

    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        let prefix = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
        let mut out: BTreeMap<String, Entry> = BTreeMap::new();
        for (p, data) in &self.files {
            let Some(rest) = p.strip_prefix(&prefix) else { continue };
            let (name, kind, size) = match rest.split_once('/') {
                Some((dir, _)) => (dir, EntryKind::Dir, 0),
                None => (rest, EntryKind::File, data.len() as u64),
            };
            out.entry(name.to_string()).or_insert(Entry { name: name.to_string(), kind, size });
        }
        Ok(if out.is_empty() { None } else { Some(out.into_values().collect()) })
    }
}

pub mod boot;
pub mod cpio;
pub mod grub;
pub mod initramfs;
pub mod linux;
pub mod report;
pub mod risks;
pub mod root;
pub use report::{Boot, Driver, Found, Guest, Kernel, Os, Risk, RiskCode, Volume, Windows};
