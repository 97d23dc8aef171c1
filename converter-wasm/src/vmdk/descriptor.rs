//! The VMDK text descriptor (VMware "Virtual Disk Format 5.0", "The Descriptor File"): a
//! standalone file for flat, split and ESXi disks, or embedded in a sparse file at
//! `descriptorOffset`. It names the disk type (`createType`), its extents in guest order, the
//! snapshot parent (`parentCID`, `parentFileNameHint`) and a disk database of `ddb.*` keys.
//!
//! Hand-written, line-based parsing (no crate does VMDK): `#` comments, CRLF or LF line ends,
//! `key = "value"` or `key=value`, extent lines
//! `RW|RDONLY|NOACCESS <sectors> <TYPE> ["file name" [offset]]`. Parsing never opens a file:
//! the caller checks each referenced name with `check_reference` and resolves it through its
//! `FileSet`.

use crate::error::{Error, Result};
use crate::units::Sectors;
use std::collections::BTreeMap;

/// Largest descriptor we read: qemu's `vmdk_read_desc` reads at most 1 MiB; real descriptors
/// are a few KiB (embedded ones reserve 10 KiB).
pub const MAX_DESCRIPTOR_BYTES: u64 = 1 << 20;
/// Most extents one descriptor may list: 62 TiB (VMFS's largest disk) in 2 GB split extents is
/// 31 744 extents.
pub const MAX_EXTENTS: usize = 65_536;
/// `parentCID` value meaning "no parent".
pub const NO_PARENT_CID: u32 = 0xffff_ffff;

/// Access mode of an extent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Rw,
    RdOnly,
    NoAccess,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Rw => "RW",
            Access::RdOnly => "RDONLY",
            Access::NoAccess => "NOACCESS",
        }
    }
}

/// Extent types a descriptor can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtentType {
    /// Raw guest bytes in a file, from a sector offset (hosted flat disks).
    Flat,
    /// A hosted sparse (`KDMV`) or old `COWD` sparse file.
    Sparse,
    /// No file: reads as zeros.
    Zero,
    /// Raw guest bytes in a VMFS file (ESXi thick/thin disks).
    Vmfs,
    /// ESXi redo log (`COWD`) delta.
    VmfsSparse,
    /// ESXi raw device mapping: the data lives on a LUN, not in a file.
    VmfsRdm,
    /// ESXi raw device (physical passthrough).
    VmfsRaw,
    /// ESXi space-efficient sparse delta.
    SeSparse,
    /// Anything else, kept as written.
    Other(String),
}

impl ExtentType {
    fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "FLAT" => ExtentType::Flat,
            "SPARSE" => ExtentType::Sparse,
            "ZERO" => ExtentType::Zero,
            "VMFS" => ExtentType::Vmfs,
            "VMFSSPARSE" => ExtentType::VmfsSparse,
            "VMFSRDM" => ExtentType::VmfsRdm,
            "VMFSRAW" => ExtentType::VmfsRaw,
            "SESPARSE" => ExtentType::SeSparse,
            _ => ExtentType::Other(s.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            ExtentType::Flat => "FLAT",
            ExtentType::Sparse => "SPARSE",
            ExtentType::Zero => "ZERO",
            ExtentType::Vmfs => "VMFS",
            ExtentType::VmfsSparse => "VMFSSPARSE",
            ExtentType::VmfsRdm => "VMFSRDM",
            ExtentType::VmfsRaw => "VMFSRAW",
            ExtentType::SeSparse => "SESPARSE",
            ExtentType::Other(s) => s,
        }
    }
}

/// One extent line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtentLine {
    /// RW / RDONLY / NOACCESS.
    pub access: Access,
    /// Size.
    pub sectors: Sectors,
    /// Extent type.
    pub kind: ExtentType,
    /// File name as written (ZERO extents have none).
    pub file: Option<String>,
    /// Where the data starts in the file (FLAT; 0 otherwise).
    pub offset: Sectors,
    /// Byte offset of the line in the descriptor file, for errors.
    pub at: u64,
}

/// A parsed descriptor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// `version=` (1 normally; 3 with changed-block tracking).
    pub version: Option<u32>,
    /// Content ID: changes on every write; children record it as their `parentCID`.
    pub cid: Option<u32>,
    /// The parent's CID at snapshot time, [`NO_PARENT_CID`] for a base disk.
    pub parent_cid: Option<u32>,
    /// monolithicSparse, monolithicFlat, twoGbMaxExtentSparse, streamOptimized, vmfs, ...
    pub create_type: Option<String>,
    /// The parent's file name (snapshot deltas).
    pub parent_file_name_hint: Option<String>,
    /// `encoding=` (UTF-8, windows-1252, ...).
    pub encoding: Option<String>,
    /// Extents in guest order.
    pub extents: Vec<ExtentLine>,
    /// Disk database: `ddb.` keys without the prefix (adapterType, geometry.cylinders,
    /// virtualHWVersion, uuid, ...).
    pub ddb: BTreeMap<String, String>,
    /// Byte offset of the `parentFileNameHint` line, for errors.
    pub parent_hint_at: u64,
}

impl Descriptor {
    /// The parent CID when this disk is a snapshot delta (parentCID set and not ffffffff).
    pub fn parent(&self) -> Option<u32> {
        self.parent_cid.filter(|&c| c != NO_PARENT_CID)
    }
    /// Total declared size (checked).
    pub fn total_sectors(&self) -> Option<Sectors> {
        self.extents.iter().try_fold(0u64, |a, e| a.checked_add(e.sectors.0)).map(Sectors)
    }
}

/// Strip one pair of surrounding double quotes.
fn unquote(v: &str) -> &str {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn parse_hex_cid(v: &str) -> Option<u32> {
    u32::from_str_radix(unquote(v).trim(), 16).ok()
}

/// Text of a descriptor: up to the first NUL (embedded descriptors are NUL-padded), as UTF-8,
/// or as Latin-1 when it is not valid UTF-8 (old `encoding="windows-1252"` descriptors).
pub fn decode_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let b = &bytes[..end];
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

/// Does this look like a text descriptor (rather than a binary file)? Checks the first bytes
/// for NULs and non-text control characters, and for a `version=`/`createType` line or the
/// `# Disk DescriptorFile` banner.
pub fn looks_like_descriptor(head: &[u8]) -> bool {
    let n = head.iter().position(|&b| b == 0).unwrap_or(head.len());
    if n == 0 || head[..n].iter().any(|&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')) {
        return false;
    }
    let t = String::from_utf8_lossy(&head[..n]);
    let t = t.trim_start_matches('\u{feff}');
    t.lines().any(|l| {
        let l = l.trim();
        l.eq_ignore_ascii_case("# Disk DescriptorFile")
            || l.starts_with("version=")
            || l.to_ascii_lowercase().starts_with("createtype")
    })
}

/// Parse a descriptor. `file` names it for errors and `base` is where `bytes` start in that
/// file (the embedded descriptor's offset), so errors point at the offending line.
pub fn parse(bytes: &[u8], file: &str, base: u64) -> Result<Descriptor> {
    if bytes.len() as u64 > MAX_DESCRIPTOR_BYTES {
        return Err(Error::too_large(
            file,
            Some(base),
            format!("descriptor of {} bytes exceeds the {MAX_DESCRIPTOR_BYTES}-byte limit", bytes.len()),
        ));
    }
    let text = decode_text(bytes);
    let mut d = Descriptor::default();
    // Byte offsets are approximate for Latin-1 fallback text (still the right line).
    let mut line_start = 0u64;
    for raw in text.split('\n') {
        let at = base + line_start;
        line_start += raw.len() as u64 + 1;
        let line = raw.trim_end_matches('\r').trim();
        let line = line.trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        let access = match first {
            "RW" => Some(Access::Rw),
            "RDONLY" => Some(Access::RdOnly),
            "NOACCESS" => Some(Access::NoAccess),
            _ => None,
        };
        if let Some(access) = access {
            if d.extents.len() >= MAX_EXTENTS {
                return Err(Error::too_large(file, Some(at), format!("more than {MAX_EXTENTS} extent lines")));
            }
            d.extents.push(parse_extent(line, access, file, at)?);
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            // Unknown free text: VMware ignores it too.
            continue;
        };
        let key = k.trim();
        let val = unquote(v);
        let bad = |what: &str| Error::corrupt(file, at, format!("{what}: '{}'", line.escape_debug()));
        match key.to_ascii_lowercase().as_str() {
            "version" => d.version = Some(val.trim().parse().map_err(|_| bad("bad version line"))?),
            "cid" => d.cid = Some(parse_hex_cid(v).ok_or_else(|| bad("bad CID (expected 8 hex digits)"))?),
            "parentcid" => {
                d.parent_cid = Some(parse_hex_cid(v).ok_or_else(|| bad("bad parentCID (expected 8 hex digits)"))?)
            }
            "createtype" => d.create_type = Some(val.to_string()),
            "parentfilenamehint" => {
                d.parent_file_name_hint = Some(val.to_string());
                d.parent_hint_at = at;
            }
            "encoding" => d.encoding = Some(val.to_string()),
            k if k.starts_with("ddb.") => {
                d.ddb.insert(key[4..].to_string(), val.to_string());
            }
            _ => {}
        }
    }
    Ok(d)
}

/// `ACCESS SECTORS TYPE ["file" [OFFSET]]`; the file name may contain spaces inside quotes.
fn parse_extent(line: &str, access: Access, file: &str, at: u64) -> Result<ExtentLine> {
    let bad = |what: &str| Error::corrupt(file, at, format!("invalid extent line ({what}): '{}'", line.escape_debug()));
    let rest = line[access.as_str().len()..].trim_start();
    let (sectors, rest) = rest.split_once(char::is_whitespace).ok_or_else(|| bad("no extent type"))?;
    let sectors = Sectors(sectors.parse().map_err(|_| bad("size is not a number of sectors"))?);
    let rest = rest.trim_start();
    let (kind, rest) = match rest.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim()),
        None => (rest, ""),
    };
    let kind = ExtentType::parse(kind);
    let (name, rest) = if let Some(q) = rest.strip_prefix('"') {
        let end = q.find('"').ok_or_else(|| bad("unterminated quoted file name"))?;
        (Some(q[..end].to_string()), q[end + 1..].trim())
    } else if rest.is_empty() {
        (None, "")
    } else {
        // Unquoted names (some third-party writers): one token.
        match rest.split_once(char::is_whitespace) {
            Some((n, r)) => (Some(n.to_string()), r.trim()),
            None => (Some(rest.to_string()), ""),
        }
    };
    let mut offset = Sectors(0);
    if !rest.is_empty() {
        // Only raw extents start at an offset in their file; a sparse one has its own header
        // at 0 (qemu's `vmdk_parse_extents` refuses an offset there too).
        if matches!(kind, ExtentType::Sparse | ExtentType::VmfsSparse | ExtentType::SeSparse) {
            return Err(bad("an offset is allowed on flat extents only"));
        }
        let tok = rest.split_whitespace().next().unwrap_or("");
        offset = Sectors(tok.parse().map_err(|_| bad("offset is not a number of sectors"))?);
    }
    if kind != ExtentType::Zero && name.is_none() {
        return Err(bad("no file name"));
    }
    Ok(ExtentLine { access, sectors, kind, file: name, offset, at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn parses_keys_extents_and_ddb() {
        let text =
            b"# Disk DescriptorFile\r\nversion=1\r\nencoding=\"UTF-8\"\r\nCID=0172e8a4\r\nparentCID=ffffffff\r\n\
createType=\"twoGbMaxExtentFlat\"\r\n\r\n# Extent description\r\nRW 4096 FLAT \"my disk-f001.vmdk\" 0\r\n\
RDONLY 100 FLAT \"b.vmdk\" 2048\r\nRW 8 ZERO\r\nNOACCESS 16 SPARSE plain.vmdk\r\n\
# The Disk Data Base\r\n#DDB\r\nddb.adapterType = \"lsilogic\"\r\nddb.geometry.cylinders = \"2\"\r\n\0\0\0";
        let d = parse(text, "d.vmdk", 512).unwrap();
        assert_eq!(d.version, Some(1));
        assert_eq!(d.cid, Some(0x0172e8a4));
        assert_eq!(d.parent(), None);
        assert_eq!(d.create_type.as_deref(), Some("twoGbMaxExtentFlat"));
        assert_eq!(d.encoding.as_deref(), Some("UTF-8"));
        assert_eq!(d.extents.len(), 4);
        assert_eq!(d.extents[0].file.as_deref(), Some("my disk-f001.vmdk"));
        assert_eq!(d.extents[1].access, Access::RdOnly);
        assert_eq!(d.extents[1].offset, Sectors(2048));
        assert_eq!(d.extents[2].kind, ExtentType::Zero);
        assert_eq!(d.extents[2].file, None);
        assert_eq!(d.extents[3].file.as_deref(), Some("plain.vmdk"));
        assert_eq!(d.extents[3].access, Access::NoAccess);
        assert_eq!(d.total_sectors(), Some(Sectors(4096 + 100 + 8 + 16)));
        assert_eq!(d.ddb.get("adapterType").map(String::as_str), Some("lsilogic"));
        assert_eq!(d.ddb.get("geometry.cylinders").map(String::as_str), Some("2"));
        // The first extent line starts after the 8 lines before it.
        let pos = text.windows(7).position(|w| w == b"RW 4096").unwrap() as u64;
        assert_eq!(d.extents[0].at, 512 + pos);
    }

    #[test]
    fn parent_and_bad_lines() {
        let d = parse(b"CID=8f67ca74\nparentCID=0172e8a4\nparentFileNameHint=\"base.vmdk\"\n", "c.vmdk", 0).unwrap();
        assert_eq!(d.parent(), Some(0x0172e8a4));
        assert_eq!(d.parent_file_name_hint.as_deref(), Some("base.vmdk"));
        assert_eq!(d.parent_hint_at, 32);
        for bad in [
            &b"RW x FLAT \"a\" 0\n"[..],
            b"RW 5 FLAT \"a\" zz\n",
            b"RW 5 FLAT \"a\n",
            b"RW 5 FLAT\n",
            b"CID=xyz\n",
            b"RW\n",
        ] {
            let e = parse(bad, "c.vmdk", 7).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
            assert_eq!(e.offset, Some(7));
        }
        let big = vec![b'#'; MAX_DESCRIPTOR_BYTES as usize + 1];
        assert_eq!(parse(&big, "c.vmdk", 0).unwrap_err().kind, ErrorKind::TooLarge);
    }

    #[test]
    fn detection() {
        assert!(looks_like_descriptor(b"# Disk DescriptorFile\nversion=1\n"));
        assert!(looks_like_descriptor(b"\n\nversion=1\r\nCID=1\r\n"));
        assert!(!looks_like_descriptor(b"\xfa\xb8\x00\x10binary"));
        assert!(!looks_like_descriptor(b"hello world\n"));
        assert!(!looks_like_descriptor(b""));
    }
}
