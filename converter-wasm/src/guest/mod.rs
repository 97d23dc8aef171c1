//! Guest inspection: read the guest's own disks read-only (partition tables, LVM, file systems)
//! and say whether it will boot on OpenStack, from what it really contains (issue 11).
//!
//! Layers, each one way (lower never imports higher):
//! - block: `partition` (MBR with logical partitions, GPT), `lvm2` (PV label, text metadata,
//!   linear LVs) — byte ranges of the guest disk, as [`crate::Source`]s;
//! - file systems: `fs` opens a volume (ext2/3/4, XFS, NTFS, FAT) as [`Files`];
//! - `mounts`: the root file system plus what its `/etc/fstab` mounts, as one [`Files`];
//! - what the files say: `root` (bounded reads, a damaged file becomes a problem), `linux`
//!   (os-release, kernels and their drivers), `grub` (GRUB/BLS default and command lines),
//!   `risks` (fstab, network configuration, tools, cloud-init), `initramfs` over `cpio` (the
//!   archives, their compressions, the modules inside), `windows` (hives and drivers);
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
pub mod disk;
pub mod fs;
pub mod gpt;
pub mod grub;
pub mod initramfs;
pub mod linux;
pub mod lvm2;
pub mod mbr;
pub mod mounts;
pub mod path;
pub mod report;
pub mod risks;
pub mod root;
pub mod volumes;
pub mod windows;
pub use report::{
    Boot, Driver, Evidence, Found, Guest, Kernel, Os, Reason, ReasonCode, Risk, RiskCode, Volume, Windows,
};

/// A VM's guest opened for reading: every volume found and, when one holds a Linux root, the
/// file tree as the guest mounts it.
pub struct Opened {
    pub volumes: Vec<Volume>,
    pub problems: Vec<String>,
    pub tree: Option<mounts::Tree>,
}

/// Open the guest on `disks` (the VM's disks in order), read-only. Never fails: what cannot
/// be read is listed in `problems`.
pub fn open(disks: Vec<crate::Disk>) -> Opened {
    open_sources(&guest_disks(disks))
}

/// The guest bytes of each disk.
fn guest_disks(disks: Vec<crate::Disk>) -> Vec<crate::SourceRef> {
    // Sources are single-threaded by design (see `Source`).
    #[allow(clippy::arc_with_non_send_sync)]
    disks
        .into_iter()
        .map(|d| std::sync::Arc::new(disk::GuestDisk::new(d.info.name.clone(), d.map)) as crate::SourceRef)
        .collect()
}

/// [`open`] over guest bytes already at hand (raw images in tests).
pub fn open_sources(disks: &[crate::SourceRef]) -> Opened {
    let mut problems = Vec::new();
    let mut found = volumes::scan(disks, &mut problems);
    let tree = mounts::assemble(&mut found, &mut problems);
    Opened { volumes: found.into_iter().map(|f| f.info).collect(), problems, tree }
}

/// Inspect the guest on a VM's `disks`: its volumes, and what its root file system says.
pub fn inspect(disks: Vec<crate::Disk>) -> Guest {
    inspect_sources(&guest_disks(disks))
}

/// [`inspect`] over guest bytes already at hand (raw images in tests).
pub fn inspect_sources(disks: &[crate::SourceRef]) -> Guest {
    let opened = open_sources(disks);
    let mut g = match &opened.tree {
        Some(t) if windows::is_windows(t).unwrap_or(false) => windows::inspect_windows(t),
        Some(t) => match boot::inspect_linux(t) {
            Ok(g) => g.unwrap_or_default(),
            Err(e) => Guest { problems: vec![e.to_string()], ..Default::default() },
        },
        None => Guest::default(),
    };
    g.volumes = opened.volumes;
    g.problems.splice(0..0, opened.problems);
    g
}
