//! Warnings and information the readers collect while opening an input: not failures, but
//! things the user should know (no manifest, a size the OVF misstates, a redundant grain
//! directory that differs). Each is a [`Notice`] of the same shape as an error, so the page
//! renders it in the user's language (`warn.<code>`) and the CLI prints its English.

use crate::error::{Args, Error, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;

crate::message_codes! {
    /// What a notice says. `ManifestChecked` is information, not a warning (the page shows it
    /// as such: [`WarnCode::is_info`]).
    pub enum WarnCode {
        /// The package has no manifest: digests are not checked.
        NoManifest = "no_manifest" [name],
        /// The manifest's digests of the disks will be checked during conversion.
        ManifestChecked = "manifest_checked" [],
        /// A `.cert` is present; its signature is not verified.
        CertificateNotVerified = "certificate_not_verified" [],
        /// The descriptor itself is not in the manifest.
        DescriptorNotListed = "descriptor_not_listed" [name],
        /// A file read is not in the manifest.
        NotListed = "not_listed" [name],
        /// The manifest lists a file the conversion does not read.
        ManifestExtra = "manifest_extra" [name],
        /// A manifest line's digest algorithm is unknown.
        AlgorithmNotSupported = "algorithm_not_supported" [algorithm, line, name],
        /// The OVF's `ovf:size` differs from the file's length.
        SizeMismatch = "size_mismatch" [declared, size],
        /// The OVF's disk capacity differs from the VMDK's.
        CapacityMismatch = "capacity_mismatch" [disk, declared, size],
        /// Memory AllocationUnits not understood.
        UnitsNotUnderstood = "units_not_understood" [units],
        /// Memory item without AllocationUnits: MiB assumed.
        UnitsMissing = "units_missing" [],
        /// A disk capacity whose number or units are not understood.
        CapacityNotUnderstood = "capacity_not_understood" [disk],
        /// Several VirtualSystems: the summary shows the first.
        SeveralSystems = "several_systems" [count],
        /// Several VirtualHardwareSections: the first is used.
        SeveralHardwareSections = "several_hardware_sections" [count],
        /// A disk item's parent controller is not in the hardware section.
        ControllerNotFound = "controller_not_found" [disk],
        /// A disk without a file (created blank at deployment).
        BlankDisk = "blank_disk" [disk],
        /// An OVA member that is not a regular file.
        NotRegularFile = "not_regular_file" [name],
        /// The OVA's descriptor is not its first member.
        DescriptorNotFirst = "descriptor_not_first" [name],
        /// The VMDK was not closed cleanly.
        UncleanShutdown = "unclean_shutdown" [],
        /// The redundant grain directory cannot be read.
        RedundantUnreadable = "redundant_unreadable" [],
        /// The redundant grain directory differs from the primary one.
        RedundantDiffers = "redundant_differs" [],
        /// The embedded descriptor's size disagrees with the header.
        EmbeddedSizeMismatch = "embedded_size_mismatch" [],
        /// The embedded descriptor lists several extents.
        EmbeddedExtents = "embedded_extents" [count],
        /// A 0-sector extent line is ignored.
        EmptyExtent = "empty_extent" [],
        /// An extent is larger than the descriptor uses.
        ExtentLarger = "extent_larger" [name],
        /// A parent hint that is not a plain relative name: looked up by base name.
        ParentHintNotRelative = "parent_hint_not_relative" [name],
        /// The parent's CID is not the one the snapshot recorded.
        ParentChanged = "parent_changed" [name],
    }
}

impl WarnCode {
    /// Information rather than a warning.
    pub fn is_info(self) -> bool {
        self == WarnCode::ManifestChecked
    }
}

/// A notice's code: one of [`WarnCode`], or, for a problem that would be an error when
/// converting but only stops part of an inspection, the error's own code (the page has a
/// `warn.<code>` sentence for every [`ErrorCode`] too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NoticeCode {
    Warn(WarnCode),
    Error(ErrorCode),
}

impl NoticeCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCode::Warn(c) => c.as_str(),
            NoticeCode::Error(c) => c.as_str(),
        }
    }
}

/// One warning or piece of information: `{code, file, offset, message, args}` as the page
/// receives it. `Display` is the English line the CLI prints (`file: message`, with
/// `offset N (0xN): ` between for notices made from errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub code: NoticeCode,
    pub file: String,
    pub offset: Option<u64>,
    /// English text, without the file name.
    pub message: String,
    #[serde(default)]
    pub args: Args,
}

impl Notice {
    /// A notice about `file` (no offset: where one matters the message says it).
    pub fn new(code: WarnCode, file: &str, message: impl Into<String>) -> Self {
        Notice {
            code: NoticeCode::Warn(code),
            file: file.to_string(),
            offset: None,
            message: message.into(),
            args: Args::default(),
        }
    }
    /// The same notice with these parameters.
    pub fn with_args(mut self, args: Args) -> Self {
        self.args = args;
        self
    }
    /// The same notice with `name` set.
    pub fn named(self, name: &str) -> Self {
        self.with_args(Args { name: Some(name.to_string()), ..Args::default() })
    }
    /// The same notice with `disk` (an OVF disk id) set.
    pub fn disk(self, disk: &str) -> Self {
        self.with_args(Args { disk: Some(disk.to_string()), ..Args::default() })
    }
    /// The same notice with `count` set.
    pub fn count(self, count: usize) -> Self {
        self.with_args(Args { count: Some(count as u64), ..Args::default() })
    }
    pub fn is_info(&self) -> bool {
        matches!(self.code, NoticeCode::Warn(c) if c.is_info())
    }
}

/// An error that only stops part of an inspection, kept as a notice with its code and args.
impl From<Error> for Notice {
    fn from(e: Error) -> Self {
        Notice { code: NoticeCode::Error(e.code), file: e.file, offset: e.offset, message: e.message, args: *e.args }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::error::write_located(f, &self.file, self.offset, &self.message)
    }
}

/// The notices of an input or disk.
pub type Notices = Vec<Notice>;
