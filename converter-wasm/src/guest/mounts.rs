//! The guest's file tree as the guest mounts it: the root file system (the one holding
//! `/etc/fstab` or `/etc/os-release`), and each volume its `/etc/fstab` names (by UUID, LABEL,
//! PARTUUID, `/dev/mapper`, `/dev/VG/LV` or `/dev/sdXN`) at its mount point.

use super::fs::open;
use super::lvm2::mapper_name;
use super::path::normalise;
use super::root::config_lines;
use super::volumes::Found;
use super::{Entry, Files};
use crate::error::Result;

/// Bytes of `/etc/fstab` read at most.
const FSTAB_CAP: u64 = 1 << 20;

/// One `/etc/fstab` line that mounts something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FstabEntry {
    /// 1-based line number.
    pub line: u32,
    pub text: String,
    pub spec: String,
    pub mount: String,
    pub fstype: String,
}

/// The entries of an fstab (comments and blank lines skipped; fields split on whitespace).
pub fn fstab(text: &str) -> Vec<FstabEntry> {
    config_lines(text)
        .filter_map(|(line, t)| {
            let f: Vec<&str> = t.split_whitespace().collect();
            (f.len() >= 3).then(|| FstabEntry {
                line,
                text: t.to_string(),
                spec: f[0].to_string(),
                mount: f[1].to_string(),
                fstype: f[2].to_string(),
            })
        })
        .collect()
}

/// The volume an fstab `spec` names.
pub fn resolve(spec: &str, vols: &[Found]) -> Option<usize> {
    let eq = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let key = |p: &str| spec.strip_prefix(p);
    let by = |f: &dyn Fn(&Found) -> bool| vols.iter().position(f);
    if let Some(u) = key("UUID=").or(key("/dev/disk/by-uuid/")) {
        return by(&|v| eq(&v.info.uuid, u.trim_matches('"')));
    }
    if let Some(l) = key("LABEL=").or(key("/dev/disk/by-label/")) {
        return by(&|v| eq(&v.info.label, l.trim_matches('"')));
    }
    if let Some(p) = key("PARTUUID=").or(key("/dev/disk/by-partuuid/")) {
        return by(&|v| eq(&v.partuuid, p.trim_matches('"')));
    }
    if let Some(m) = key("/dev/mapper/") {
        return by(&|v| v.lv.as_ref().is_some_and(|(vg, lv)| mapper_name(vg, lv) == m));
    }
    let dev = key("/dev/")?;
    for bus in ["xvd", "sd", "vd", "hd"] {
        if let Some(rest) = dev.strip_prefix(bus) {
            let mut chars = rest.chars();
            let (Some(l @ 'a'..='z'), n) = (chars.next(), chars.as_str()) else { return None };
            let disk = (l as u8 - b'a') as usize;
            let number = if n.is_empty() { None } else { Some(n.parse::<u32>().ok()?) };
            return by(&|v| v.disk == disk && v.number == number && v.lv.is_none());
        }
    }
    let (vg, lv) = dev.split_once('/')?;
    by(&|v| v.lv.as_ref().is_some_and(|(a, b)| a == vg && b == lv))
}

/// File systems at their mount points; the longest mount point that holds a path serves it.
pub struct Tree {
    mounts: Vec<(String, Box<dyn Files>)>,
}

impl Tree {
    fn serve(&self, path: &str) -> Option<(&dyn Files, String)> {
        let path = normalise(path);
        self.mounts.iter().find_map(|(m, f)| {
            let rest = if m == "/" { Some(path.as_str()) } else { path.strip_prefix(m.as_str()) };
            match rest {
                Some("") => Some((f.as_ref(), "/".to_string())),
                Some(r) if r.starts_with('/') => Some((f.as_ref(), r.to_string())),
                _ => None,
            }
        })
    }

    /// The mount points, longest first.
    pub fn mount_points(&self) -> Vec<&str> {
        self.mounts.iter().map(|(m, _)| m.as_str()).collect()
    }
}

impl Files for Tree {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        match self.serve(path) {
            Some((f, p)) => f.read(&p, cap),
            None => Ok(None),
        }
    }
    fn list(&self, path: &str) -> Result<Option<Vec<Entry>>> {
        match self.serve(path) {
            Some((f, p)) => f.list(&p),
            None => Ok(None),
        }
    }
}

/// Whether a file system looks like a Linux root or a Windows system volume.
fn is_root(f: &dyn Files) -> Result<bool> {
    Ok(f.list("/etc")?.is_some_and(|e| e.iter().any(|e| e.name == "fstab" || e.name == "os-release"))
        || super::windows::is_windows(f)?)
}

/// Mount the guest: pick the root among `vols` (Linux, or Windows' system volume) and mount
/// what its fstab names, setting each mounted volume's `mount`. None when no volume holds a
/// root; what could not be opened goes to `problems`.
pub fn assemble(vols: &mut [Found], problems: &mut Vec<String>) -> Option<Tree> {
    let mut opened: Vec<Option<Box<dyn Files>>> = Vec::new();
    for v in vols.iter() {
        opened.push(match open(v.src.clone(), v.content) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{}: {e}", v.info.name));
                None
            }
        });
    }
    let mut root = None;
    for (i, f) in opened.iter().enumerate() {
        if let Some(f) = f {
            match is_root(f.as_ref()) {
                Ok(true) => {
                    root = Some(i);
                    break;
                }
                Ok(false) => {}
                Err(e) => problems.push(format!("{}: {e}", vols[i].info.name)),
            }
        }
    }
    let root = root?;
    let fstab_text = opened[root].as_ref()?.read("/etc/fstab", FSTAB_CAP).unwrap_or_else(|e| {
        problems.push(e.to_string());
        None
    });
    let crypttab: Vec<(String, String)> = opened[root]
        .as_ref()?
        .read("/etc/crypttab", FSTAB_CAP)
        .ok()
        .flatten()
        .map(|t| {
            config_lines(&String::from_utf8_lossy(&t))
                .filter_map(|(_, l)| {
                    let mut f = l.split_whitespace();
                    Some((f.next()?.to_string(), f.next()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut mounts: Vec<(String, usize)> = vec![("/".into(), root)];
    // Windows' system volume is its C: (the tree still serves it at /).
    let windows = opened[root].as_deref().is_some_and(|f| super::windows::is_windows(f).unwrap_or(false));
    vols[root].info.mount = Some(if windows { "C:" } else { "/" }.into());
    for e in fstab(&String::from_utf8_lossy(fstab_text.as_deref().unwrap_or_default())) {
        if e.mount == "/" || !e.mount.starts_with('/') {
            if e.fstype == "swap" {
                if let Some(i) = resolve(&e.spec, vols) {
                    vols[i].info.mount = Some("[swap]".into());
                }
            }
            continue;
        }
        // An encrypted volume (`/dev/mapper/NAME` opened by /etc/crypttab): it cannot be
        // read, but the report says where it is mounted.
        let crypt = e.spec.strip_prefix("/dev/mapper/").and_then(|n| crypttab.iter().find(|(m, _)| m == n));
        if let Some(i) = crypt.and_then(|(_, dev)| resolve(dev, vols)) {
            vols[i].info.mount = Some(normalise(&e.mount));
            problems.push(format!(
                "{} is encrypted ({}): its files cannot be read",
                vols[i].info.name, vols[i].info.content
            ));
            continue;
        }
        match resolve(&e.spec, vols) {
            Some(i) if opened[i].is_some() && !mounts.iter().any(|(_, j)| *j == i) => {
                vols[i].info.mount = Some(normalise(&e.mount));
                mounts.push((normalise(&e.mount), i));
            }
            Some(_) => {}
            None if matches!(e.fstype.as_str(), "xfs" | "ext4" | "ext3" | "ext2" | "vfat") => problems.push(format!(
                "/etc/fstab line {}: {} ({}) names no volume that could be read",
                e.line, e.spec, e.mount
            )),
            None => {}
        }
    }
    // A separate /boot the fstab does not name (or names in a way we cannot match): the file
    // system whose top holds vmlinuz-*, when the root's /boot holds none.
    let has_kernel = |f: &dyn Files, dir: &str| {
        f.list(dir).ok().flatten().is_some_and(|e| e.iter().any(|e| e.name.starts_with("vmlinuz-")))
    };
    if !mounts.iter().any(|(m, _)| m == "/boot") && !has_kernel(opened[root].as_deref()?, "/boot") {
        if let Some(i) = (0..vols.len()).find(|&i| {
            i != root
                && !mounts.iter().any(|(_, j)| *j == i)
                && opened[i].as_deref().is_some_and(|f| has_kernel(f, "/"))
        }) {
            vols[i].info.mount = Some("/boot".into());
            problems
                .push(format!("{} holds kernels but /etc/fstab does not name it: read as /boot", vols[i].info.name));
            mounts.push(("/boot".into(), i));
        }
    }
    mounts.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
    let mounts = mounts.into_iter().filter_map(|(m, i)| opened[i].take().map(|f| (m, f))).collect();
    Some(Tree { mounts })
}
