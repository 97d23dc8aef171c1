//! One error type for the whole core: every error names the file, the byte offset where the
//! problem was found (when there is one) and what was wrong, because a user holding a 40 GB
//! export needs to know *which* file is bad and *where*, not just "invalid data".

use serde::{Deserialize, Serialize};
use std::fmt;

/// A closed set of stable snake_case message codes (errors, warnings, suggestion reasons)
/// the page looks up in its catalogues (`web/src/i18n/{en,ko}.js`, keys `<prefix>.<code>`):
/// the enum, its `ALL` list, `as_str`, and per code the [`Args`] fields it can carry (the
/// placeholders its catalogue sentences may use besides `{file}` and `{offset}`). Serialised
/// as the code string.
#[macro_export]
macro_rules! message_codes {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal [$($p:ident),*],)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v,)*
        }
        impl $name {
            /// Every code, for catalogue checks.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The code as the page sees it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }
            /// The [`Args`](crate::error::Args) fields this code can carry.
            pub fn params(self) -> &'static [&'static str] {
                match self { $($name::$v => &[$(stringify!($p)),*],)* }
            }
        }
    };
}

message_codes! {
    /// What the page tells the user: by default the [`ErrorKind`] itself, refined where a
    /// plainer sentence fits (`not_a_disk` for a file that is no VMDK, OVF or OVA at all).
    pub enum ErrorCode {
        Io = "io" [],
        Truncated = "truncated" [needed, size],
        Corrupt = "corrupt" [],
        Unsupported = "unsupported" [],
        /// Neither a VMDK (no sparse magic, no text descriptor) nor an OVF nor an OVA.
        NotADisk = "not_a_disk" [],
        MissingFile = "missing_file" [name, what],
        /// An OVA without any `.ovf` member.
        NoDescriptor = "no_descriptor" [],
        UnsafeName = "unsafe_name" [name],
        TooLarge = "too_large" [limit, size],
        Checksum = "checksum" [name],
        InvalidArgument = "invalid_argument" [],
        Cancelled = "cancelled" [],
    }
}

impl ErrorCode {
    /// The default code of a kind.
    pub fn of(kind: ErrorKind) -> ErrorCode {
        match kind {
            ErrorKind::Io => ErrorCode::Io,
            ErrorKind::Truncated => ErrorCode::Truncated,
            ErrorKind::Corrupt => ErrorCode::Corrupt,
            ErrorKind::Unsupported => ErrorCode::Unsupported,
            ErrorKind::MissingFile => ErrorCode::MissingFile,
            ErrorKind::UnsafeName => ErrorCode::UnsafeName,
            ErrorKind::TooLarge => ErrorCode::TooLarge,
            ErrorKind::Checksum => ErrorCode::Checksum,
            ErrorKind::InvalidArgument => ErrorCode::InvalidArgument,
            ErrorKind::Cancelled => ErrorCode::Cancelled,
        }
    }
}

/// What refers to a missing or unsafe file (`Args::what`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Referent {
    Extent,
    Parent,
    DiskFile,
    Descriptor,
    Manifest,
}

impl Referent {
    /// The English words the CLI's messages use.
    pub fn label(self) -> &'static str {
        match self {
            Referent::Extent => "extent",
            Referent::Parent => "parent",
            Referent::DiskFile => "disk file",
            Referent::Descriptor => "OVF descriptor",
            Referent::Manifest => "manifest",
        }
    }
}

/// The named parameters of an error, warning or suggestion reason (`args`), for the page's
/// sentences. Only the fields a message has are serialised (no nulls). Byte counts are raw
/// numbers under the names `size`, `needed` and `limit` (the page formats args of these names
/// with `bytes()`); `declared` is a byte count too (formatted as a plain number with "bytes");
/// every other number is a count or an id, shown grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Args {
    /// Bytes the file must at least have (truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needed: Option<u64>,
    /// The file's length in bytes (or a disk's size, by the code's sentence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// A byte limit that was exceeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// A byte count a descriptor states (OVF `ovf:size`, `ovf:capacity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<u64>,
    /// A file (or manifest entry) the message is about besides `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What refers to `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<Referent>,
    /// An OVF disk id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<String>,
    /// A number of things (the page's plural entries pick by `count`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// A line number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Units or algorithm names as written in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// A VMware or VirtualBox OS type id, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    /// A CIM OsType number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// An OS description, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A storage controller, by its product name ("LSI Logic SAS", "IDE").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// A NIC model ("vmxnet3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nic: Option<String>,
    /// An OS by its proper name ("Linux", "Windows").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// MiB of memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ram_mib: Option<u64>,
    /// GiB of disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_gib: Option<u64>,
    /// Why guest inspection decided what it did: a `guest::ReasonCode` (the page puts it in
    /// words from `guest.reason.<code>` with these same args, which are names and paths only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A Linux kernel version ("5.14.0-362.el9_3.x86_64").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// An initramfs by its file name ("initramfs-5.14.0-362.el9_3.x86_64.img").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initramfs: Option<String>,
    /// A driver that is missing, and one that is there ("virtio_blk", "ahci").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver names, comma-separated ("vmw_pvscsi, vmxnet3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drivers: Option<String>,
}

impl Args {
    /// The names of the fields that are set, in declaration order (for tests and checks).
    pub fn names(&self) -> Vec<String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

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

/// An error with its location. `Display` renders `file: offset N (0xN): message` (the CLI's
/// English). It crosses to JavaScript as the object `{kind, code, file, offset, message,
/// args}` and between workers inside a packed batch result (`decode::BatchOut`); the page
/// shows the sentence `error.<code>` filled from `args`, `file` and `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable key of the page's sentence; [`ErrorCode::of`] the kind unless refined.
    pub code: ErrorCode,
    /// The file the problem is in (as the user named it, or the member name inside an OVA).
    pub file: String,
    /// Byte offset within `file` where the problem was found, if it has one.
    pub offset: Option<u64>,
    /// English technical text (what the CLI prints).
    pub message: String,
    /// Boxed: most errors have none, and `Result<T, Error>` stays small.
    #[serde(default)]
    pub args: Box<Args>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_located(f, &self.file, self.offset, &self.message)
    }
}

/// `file: offset N (0xN): message`, the one line the CLI prints for an error or a notice.
pub(crate) fn write_located(f: &mut fmt::Formatter<'_>, file: &str, offset: Option<u64>, message: &str) -> fmt::Result {
    if !file.is_empty() {
        write!(f, "{file}: ")?;
    }
    if let Some(off) = offset {
        write!(f, "offset {off} (0x{off:x}): ")?;
    }
    f.write_str(message)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: ErrorCode::of(kind),
            file: file.to_string(),
            offset,
            message: message.into(),
            args: Box::default(),
        }
    }
    /// The same error with a refined code.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }
    /// The same error with these parameters.
    pub fn with_args(mut self, args: Args) -> Self {
        self.args = Box::new(args);
        self
    }
    pub fn corrupt(file: &str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, file, Some(offset), message)
    }
    /// `file` (`size` bytes long) would have to be at least `needed` bytes long.
    pub fn truncated(file: &str, offset: u64, needed: u64, size: u64, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, file, Some(offset), message).with_args(Args {
            needed: Some(needed),
            size: Some(size),
            ..Args::default()
        })
    }
    pub fn unsupported(file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, file, offset, message)
    }
    /// Not a disk, descriptor or archive at all.
    pub fn not_a_disk(file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, file, offset, message).with_code(ErrorCode::NotADisk)
    }
    /// `referrer` refers to the `what` called `name`, which was not given.
    pub fn missing(referrer: &str, name: &str, what: Referent) -> Self {
        Self::new(ErrorKind::MissingFile, referrer, None, format!("{} '{name}' was not provided", what.label()))
            .with_args(Args { name: Some(name.to_string()), what: Some(what), ..Args::default() })
    }
    pub fn too_large(file: &str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, file, offset, message)
    }
    /// Too large, with the byte limit and the size that exceeds it.
    pub fn over_limit(file: &str, offset: Option<u64>, size: u64, limit: u64, message: impl Into<String>) -> Self {
        Self::too_large(file, offset, message).with_args(Args {
            size: Some(size),
            limit: Some(limit),
            ..Args::default()
        })
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, "", None, message)
    }
    pub fn io(file: &str, offset: Option<u64>, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Io, file, offset, format!("read failed: {err}"))
    }
    /// Writing an output failed (a full disk, a lost mount): the same kind as a failed read.
    pub fn write(file: &str, offset: Option<u64>, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Io, file, offset, format!("write failed: {err}"))
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "", None, "cancelled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_with_code_and_args_without_nulls() {
        let e = Error::truncated("t.vmdk", 0, 65536, 5000, "needs 65536 bytes but the file is only 5000 bytes long");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "truncated", "code": "truncated", "file": "t.vmdk", "offset": 0,
                "message": "needs 65536 bytes but the file is only 5000 bytes long",
                "args": {"needed": 65536, "size": 5000}})
        );
        let back: Error = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        // Display (the CLI's English) is unchanged by code and args.
        assert_eq!(e.to_string(), "t.vmdk: offset 0 (0x0): needs 65536 bytes but the file is only 5000 bytes long");
        let m = Error::missing("a.vmdk", "a-flat.vmdk", Referent::Extent);
        assert_eq!(m.to_string(), "a.vmdk: extent 'a-flat.vmdk' was not provided");
        assert_eq!(
            serde_json::to_value(&m.args).unwrap(),
            serde_json::json!({"name": "a-flat.vmdk", "what": "extent"})
        );
        assert_eq!(serde_json::to_value(Error::invalid("x").args).unwrap(), serde_json::json!({}));
        // Every kind's default code is the kind's own name.
        for k in [ErrorKind::Io, ErrorKind::MissingFile, ErrorKind::InvalidArgument, ErrorKind::Cancelled] {
            assert_eq!(serde_json::to_value(ErrorCode::of(k)).unwrap(), serde_json::to_value(k).unwrap());
        }
    }

    #[test]
    fn codes_are_unique_snake_case_and_list_known_params() {
        let known = Args {
            needed: Some(1),
            size: Some(1),
            limit: Some(1),
            declared: Some(1),
            name: Some("n".into()),
            what: Some(Referent::Extent),
            disk: Some("d".into()),
            count: Some(1),
            line: Some(1),
            units: Some("u".into()),
            algorithm: Some("a".into()),
            os_type: Some("o".into()),
            id: Some(1),
            description: Some("d".into()),
            controller: Some("c".into()),
            nic: Some("n".into()),
            os: Some("o".into()),
            ram_mib: Some(1),
            disk_gib: Some(1),
            reason: Some("r".into()),
            kernel: Some("k".into()),
            initramfs: Some("i".into()),
            missing: Some("m".into()),
            driver: Some("d".into()),
            drivers: Some("d".into()),
        }
        .names();
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c:?}");
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c:?}");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            for p in c.params() {
                assert!(known.iter().any(|k| k == p), "{c:?}: {p}");
            }
        }
    }
}
