//! Which names open which files: the [`FileSet`]s, and the check every referenced name passes
//! first ([`check_reference`], the only maker of a [`SafeName`]).

use super::SourceRef;
use crate::error::{Args, Error, ErrorKind, Result};
use std::fmt;
use std::ops::Deref;

/// Resolves names that one input refers to (descriptor extents, snapshot parents, OVF file
/// references) to sources. Implemented by the native CLI (files beside the referrer), the
/// browser (the dropped files, [`NamedFiles`]) and OVA reading (the archive's members).
pub trait FileSet {
    /// The source for `name` as referred to by the file `referrer`, or `None` when it was not
    /// provided.
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>>;
}

/// A referenced file name that passed [`check_reference`]: relative, no `..` component, no
/// control characters, no component that a command would read as an option. Only
/// `check_reference` makes one, so no [`FileSet`] is ever handed an unchecked name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeName(String);

impl SafeName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SafeName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Refuse a referenced file name that could reach outside the files the user gave us, or turn
/// into something else where it becomes a file and a command argument (`tar -xf x.ova NAME`,
/// `qemu-img convert NAME`): empty, absolute (`/x`, `\x`, `C:`), any `..` component, NUL or
/// other control characters, any component beginning with `-`. `referrer` and `offset` locate
/// the reference for the error message.
pub fn check_reference(referrer: &str, offset: Option<u64>, name: &str) -> Result<SafeName> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorKind::UnsafeName,
            referrer,
            offset,
            format!("refusing file name '{}': {why}", name.escape_debug()),
        )
        .with_args(Args { name: Some(name.escape_debug().to_string()), ..Args::default() }))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.chars().any(|c| c.is_control()) {
        return bad("contains control characters");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return bad("absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return bad("drive-letter path");
    }
    let mut components = name.split(['/', '\\']);
    if components.clone().any(|c| c == "..") {
        return bad("'..' component");
    }
    if components.any(|c| c.starts_with('-')) {
        return bad("begins with '-', which a command reading it would take for an option");
    }
    Ok(SafeName(name.to_string()))
}

/// The last path component of `name` (either separator).
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// A file set with nothing in it: lone sparse VMDKs need no other file.
pub struct NoFiles;

impl FileSet for NoFiles {
    fn open(&self, _referrer: &str, _name: &SafeName) -> Result<Option<SourceRef>> {
        Ok(None)
    }
}

/// The files the user gave, by the names they were given under (a folder's files by their
/// relative path): the page's dropped files, and tests. A referenced name resolves beside the
/// referring file first (as VMware resolves extents), then by exact name, then by base name in
/// the referrer's folder, then by base name anywhere, so two VMs dropped together with the same
/// file names stay apart.
#[derive(Default, Clone)]
pub struct NamedFiles {
    pub files: Vec<SourceRef>,
}

impl NamedFiles {
    pub fn new(files: Vec<SourceRef>) -> Self {
        NamedFiles { files }
    }

    /// Index of the file `name` resolves to, as referred to by `referrer`.
    pub fn index_of(&self, referrer: &str, name: &str) -> Option<usize> {
        let name = name.replace('\\', "/");
        let dir = referrer.rfind('/').map_or("", |i| &referrer[..=i]);
        let by = |want: &str| self.files.iter().position(|f| f.name() == want);
        by(&format!("{dir}{name}")).or_else(|| by(&name)).or_else(|| {
            let base = base_name(&name);
            let same_dir = self.files.iter().position(|f| base_name(f.name()) == base && f.name().starts_with(dir));
            same_dir.or_else(|| self.files.iter().position(|f| base_name(f.name()) == base))
        })
    }
}

impl FileSet for NamedFiles {
    fn open(&self, referrer: &str, name: &SafeName) -> Result<Option<SourceRef>> {
        Ok(self.index_of(referrer, name).map(|i| self.files[i].clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn references_that_escape_are_refused() {
        for n in ["../x.vmdk", "a/../../b", "/etc/passwd", "\\\\srv\\x", "C:\\x.vmdk", "", "a\0b"] {
            let e = check_reference("d.vmdk", Some(3), n).unwrap_err();
            assert_eq!(e.kind, ErrorKind::UnsafeName, "{n}");
            assert!(e.to_string().starts_with("d.vmdk: offset 3"), "{e}");
        }
        assert_eq!(check_reference("d.vmdk", None, "disk-s001.vmdk").unwrap().as_str(), "disk-s001.vmdk");
        check_reference("d.vmdk", None, "sub/disk-flat.vmdk").unwrap();
    }

    #[test]
    fn names_a_command_would_take_for_options_are_refused() {
        for n in ["--to-command=sh${IFS}-c${IFS}x", "-rf", "-", "./-x.vmdk", "sub/--checkpoint-action=exec=x"] {
            let e = check_reference("vm.ovf", Some(120), n).unwrap_err();
            assert_eq!(e.kind, ErrorKind::UnsafeName, "{n}");
            assert!(e.to_string().starts_with("vm.ovf: offset 120"), "{e}");
            assert!(e.message.contains("begins with '-'"), "{e}");
        }
        check_reference("vm.ovf", None, "disk-1.vmdk").unwrap();
        check_reference("vm.ovf", None, "a-/b-.vmdk").unwrap();
    }

    #[test]
    fn named_files_resolve_beside_the_referrer_first() {
        let names = ["a/vm.ovf", "a/disk.vmdk", "b/vm.ovf", "b/disk.vmdk", "c/x/flat.vmdk", "top.vmdk"];
        let set = NamedFiles::new(names.iter().map(|n| MemSource::new(*n, vec![])).collect());
        let at = |referrer: &str, name: &str| set.index_of(referrer, name).map(|i| names[i]);
        // Beside the referrer: two VMs with the same file names stay apart.
        assert_eq!(at("a/vm.ovf", "disk.vmdk"), Some("a/disk.vmdk"));
        assert_eq!(at("b/vm.ovf", "disk.vmdk"), Some("b/disk.vmdk"));
        // Backslashes as separators; then the exact name.
        assert_eq!(at("c/desc.vmdk", "x\\flat.vmdk"), Some("c/x/flat.vmdk"));
        assert_eq!(at("other.vmdk", "top.vmdk"), Some("top.vmdk"));
        // Then the base name in the referrer's folder, then anywhere.
        assert_eq!(at("b/vm.ovf", "elsewhere/disk.vmdk"), Some("b/disk.vmdk"));
        assert_eq!(at("z/vm.ovf", "q/flat.vmdk"), Some("c/x/flat.vmdk"));
        assert_eq!(at("a/vm.ovf", "none.vmdk"), None);
        let safe = check_reference("b/vm.ovf", None, "disk.vmdk").unwrap();
        assert_eq!(set.open("b/vm.ovf", &safe).unwrap().unwrap().name(), "b/disk.vmdk");
    }
}
