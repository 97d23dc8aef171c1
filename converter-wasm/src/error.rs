//! One error type for the whole core: every error names the file, the byte offset where the
//! problem was found (when there is one) and what was wrong, because a user holding a 40 GB
//! export needs to know *which* file is bad and *where*, not just "invalid data".

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, coarsely: lets callers (CLI exit codes, the page, tests) react without
/// matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The underlying read failed (I/O error, Blob read error).
    Io,
    /// A structure or data run extends past the end of the file.
    Truncated,
    /// A structure holds values that contradict the format (bad magic, lying header, table
    /// pointing outside the file, grain inflating past its size).
    Corrupt,
    /// A valid file in a variant we do not handle.
    Unsupported,
    /// A file the input refers to (extent, parent, OVF file reference) was not provided.
    MissingFile,
    /// A referenced name that could escape the given files: `../`, absolute, drive letters.
    UnsafeName,
    /// A size beyond what the output format or our stated memory bound allows.
    TooLarge,
    /// A manifest digest did not match the bytes read.
    Checksum,
    /// The caller asked for something that does not fit the input (bad option, no such disk).
    InvalidArgument,
    /// The caller cancelled the work.
    Cancelled,
}

/// An error with its location. `Display` renders `file: offset N (0xN): message`. It crosses
/// to JavaScript as the object `{kind, file, offset, message}` and between workers inside a
/// packed batch result (`decode::BatchOut`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    /// The file the problem is in (as the user named it, or the member name inside an OVA).
    pub file: String,
    /// Byte offset within `file` where the problem was found, if it has one.
    pub offset: Option<u64>,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}: ", self.file)?;
        }
        if let Some(off) = self.offset {
            write!(f, "offset {off} (0x{off:x}): ")?;
        }
        f.write_str(&self.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Error { kind, file: file.to_string(), offset, message: message.into() }
    }
    pub fn corrupt(file: &str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, file, Some(offset), message)
    }
    pub fn truncated(file: &str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, file, Some(offset), message)
    }
    pub fn unsupported(file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, file, offset, message)
    }
    pub fn missing(referrer: &str, name: &str, what: &str) -> Self {
        Self::new(ErrorKind::MissingFile, referrer, None, format!("{what} '{name}' was not provided"))
    }
    pub fn too_large(file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, file, offset, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, "", None, message)
    }
    pub fn io(file: &str, offset: Option<u64>, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Io, file, offset, format!("read failed: {err}"))
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "", None, "cancelled")
    }
}
