//! Reading a guest's root file system for inspection: one damaged or oversized file is a
//! problem to report and the inspection goes on; only a tree that cannot be read at all (an I/O
//! error, a cancel) stops it.

use super::{Entry, EntryKind, Files};
use crate::error::{Error, ErrorKind, Result};
use std::cell::RefCell;

/// Most bytes read from a configuration file (fstab, grub.cfg, a network config).
pub const MAX_CONFIG: u64 = 1 << 20;

/// A root tree and the problems met while reading it.
pub struct Root<'a> {
    pub files: &'a dyn Files,
    problems: RefCell<Vec<String>>,
}

impl<'a> Root<'a> {
    pub fn new(files: &'a dyn Files) -> Self {
        Root { files, problems: RefCell::new(Vec::new()) }
    }

    /// The problems met, in order.
    pub fn into_problems(self) -> Vec<String> {
        self.problems.into_inner()
    }

    /// The file at `path` of at most `cap` bytes; `None` when absent or unreadable (then a
    /// problem says why).
    pub fn bytes(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        self.keep(self.files.read(path, cap)).map(Option::flatten)
    }

    /// A configuration file as text (bytes that are not UTF-8 replaced).
    pub fn text(&self, path: &str) -> Result<Option<String>> {
        Ok(self.bytes(path, MAX_CONFIG)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The entries of a directory, empty when it is absent or unreadable.
    pub fn list(&self, path: &str) -> Result<Vec<Entry>> {
        Ok(self.keep(self.files.list(path))?.flatten().unwrap_or_default())
    }

    /// The regular files of a directory whose names satisfy `want`, as full paths, sorted.
    pub fn files_in(&self, dir: &str, want: impl Fn(&str) -> bool) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .list(dir)?
            .into_iter()
            .filter(|e| e.kind != EntryKind::Dir && want(&e.name))
            .map(|e| format!("{}/{}", dir.trim_end_matches('/'), e.name))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Whether `path` names anything (looked up in its parent's listing).
    pub fn exists(&self, path: &str) -> Result<bool> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let dir = if dir.is_empty() { "/" } else { dir };
        Ok(self.list(dir)?.iter().any(|e| e.name == name))
    }

    /// `r`'s value, or `None` with the error kept as a problem; I/O errors and cancels pass.
    fn keep<T>(&self, r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if fatal(&e) => Err(e),
            Err(e) => {
                self.problems.borrow_mut().push(e.to_string());
                Ok(None)
            }
        }
    }
}

/// The lines of `text` that are not blank or `#` comments, with their 1-based numbers,
/// trimmed.
pub fn config_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Errors that stop an inspection (the tree cannot be read, the caller cancelled); any other
/// is about one file and is reported.
pub fn fatal(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::Io | ErrorKind::Cancelled)
}
