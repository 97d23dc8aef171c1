//! The native shell's inputs: files on disk read with positional reads (`pread`), and a file
//! set that resolves referenced names beside the referring file. This is the only place the
//! crate touches `std::fs`; the browser has its own equivalents over `Blob`s.

use crate::error::{Error, Result};
use crate::source::{check_range, FileSet, Source, SourceRef};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file on disk.
pub struct FileSource {
    name: String,
    file: File,
    len: u64,
}

impl FileSource {
    /// Open `path`; errors carry its display name.
    pub fn open(path: &Path) -> Result<SourceRef> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(&name, None, e))?;
        let len = file.metadata().map_err(|e| Error::io(&name, None, e))?.len();
        Ok(Arc::new(FileSource { name, file, len }))
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        self.file.read_exact_at(buf, offset).map_err(|e| Error::io(&self.name, Some(offset), e))
    }
}

/// Resolves a referenced name relative to the directory of the file that refers to it, the
/// way VMware resolves extent and parent names. Names were already checked for `..` and
/// absolute paths, so they cannot leave that directory.
#[derive(Default)]
pub struct DirFiles {
    /// Files the user named explicitly, preferred over directory look-ups.
    pub given: Vec<SourceRef>,
}

impl FileSet for DirFiles {
    fn open(&self, referrer: &str, name: &str) -> Result<Option<SourceRef>> {
        let dir = Path::new(referrer).parent().map(Path::to_path_buf).unwrap_or_default();
        let want: PathBuf = dir.join(name.replace('\\', "/"));
        if let Some(s) = self.given.iter().find(|s| Path::new(s.name()) == want) {
            return Ok(Some(s.clone()));
        }
        if want.is_file() {
            return FileSource::open(&want).map(Some);
        }
        Ok(None)
    }
}
