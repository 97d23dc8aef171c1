//! LVM2 physical volumes and their linear logical volumes, read-only (lvm2's
//! `lib/format_text/layout.h` and `doc/lvm2-metadata` describe the on-disk label and the text
//! metadata): the label in one of the first four sectors, the PV header with its metadata
//! areas, the newest metadata text in the first area's ring buffer, and from it each LV's
//! segments as byte ranges of its PVs.
//!
//! Hand-written: no crate reads LVM2 metadata; the label is three structs and the metadata a
//! small text format (`name = value`, `name { ... }`, `[ list ]`), parsed here with bounds on
//! depth, size and count. Only linear ("striped" with one stripe) segments map to bytes; thin
//! pools, RAID, mirrors and multi-stripe LVs are reported as not supported.

use crate::bytes::{le32, le64};
use crate::error::{Error, Result};
use crate::source::{read_vec, ConcatSource, SliceSource, Source, SourceRef};
use std::collections::BTreeMap;

const SECTOR: u64 = 512;
const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
/// Metadata text read at most (a VG with thousands of LVs stays far below).
const MAX_TEXT: u64 = 16 << 20;
/// Nesting and item bounds for the text parser.
const MAX_DEPTH: usize = 16;
const MAX_ITEMS: usize = 200_000;

/// A physical volume found on a disk or partition.
pub struct Pv {
    /// The PV UUID as the metadata writes it (with dashes).
    pub uuid: String,
    pub src: SourceRef,
    /// The VG metadata text this PV carries (None for a PV without a metadata area).
    pub metadata: Option<String>,
}

/// A logical volume as bytes.
pub struct Lv {
    pub vg: String,
    pub name: String,
    pub src: SourceRef,
}

/// Dashes as lvm prints UUIDs: 6-4-4-4-4-4-6.
fn dashed(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let mut out = String::new();
    let mut at = 0;
    for (i, n) in [6, 4, 4, 4, 4, 4, 6].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(s.get(at..at + n).unwrap_or(""));
        at += n;
    }
    out
}

/// The PV on `src`, or None when none of its first four sectors holds an LVM2 label.
pub fn read_pv(src: SourceRef) -> Result<Option<Pv>> {
    let name = src.name().to_string();
    if src.len() < 4 * SECTOR {
        return Ok(None);
    }
    let head = read_vec(src.as_ref(), 0, 4 * SECTOR)?;
    let Some(sector) = (0..4).find(|i| {
        let s = &head[*i * 512..];
        &s[..8] == b"LABELONE" && &s[24..32] == b"LVM2 001"
    }) else {
        return Ok(None);
    };
    let label = &head[sector * 512..(sector + 1) * 512];
    let at = le32(label, 20) as usize;
    if !(32..=512 - 48).contains(&at) {
        return Err(Error::corrupt(&name, sector as u64 * SECTOR + 20, format!("LVM2 PV header offset {at}")));
    }
    let pvh = &label[at..];
    let uuid = dashed(&pvh[..32]);
    // Data areas, a zero entry, then metadata areas, a zero entry: (offset, size) pairs.
    let pairs: Vec<(u64, u64)> = pvh[40..].chunks_exact(16).map(|c| (le64(c, 0), le64(c, 8))).collect();
    let mut lists = pairs.split(|&(o, _)| o == 0);
    let _data = lists.next();
    let mda = lists.next().and_then(|l| l.first().copied());
    let metadata = match mda {
        Some((offset, size)) => read_metadata(src.as_ref(), offset, size)?,
        None => None,
    };
    Ok(Some(Pv { uuid, src, metadata }))
}

/// The newest metadata text in the area at `offset` (its header, then a ring buffer).
fn read_metadata(src: &dyn Source, offset: u64, size: u64) -> Result<Option<String>> {
    let name = src.name();
    let h = read_vec(src, offset, SECTOR)?;
    if &h[4..20] != MDA_MAGIC {
        return Err(Error::corrupt(name, offset + 4, "LVM2 metadata area header has no magic"));
    }
    let (loc, len) = (le64(&h, 40), le64(&h, 48));
    if len == 0 {
        return Ok(None);
    }
    if len > MAX_TEXT || len > size || loc >= size || loc < SECTOR {
        return Err(Error::corrupt(
            name,
            offset + 40,
            format!("LVM2 metadata at {loc} of {len} bytes does not fit its {size}-byte area"),
        ));
    }
    // The text may wrap from the end of the area to just after its header.
    let first = len.min(size - loc);
    let mut text = read_vec(src, offset + loc, first)?;
    if first < len {
        text.extend(read_vec(src, offset + SECTOR, len - first)?);
    }
    while text.last() == Some(&0) {
        text.pop();
    }
    Ok(Some(String::from_utf8_lossy(&text).into_owned()))
}

/// A value of the metadata text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Section(BTreeMap<String, Value>),
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Section(m) => m.get(key),
            _ => None,
        }
    }
    fn int(&self, key: &str) -> Option<u64> {
        match self.get(key) {
            Some(Value::Int(i)) => u64::try_from(*i).ok(),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn sections(&self, key: &str) -> Vec<(&String, &Value)> {
        match self.get(key) {
            Some(Value::Section(m)) => m.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses the text format into its top-level section. Errors name `file` and a byte offset
/// into the text.
pub fn parse(file: &str, text: &str) -> Result<Value> {
    let mut p = Parser { s: text.as_bytes(), at: 0, items: 0, file };
    let top = p.section(0, true)?;
    Ok(top)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    items: usize,
    file: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error::corrupt(self.file, self.at as u64, format!("LVM2 metadata text: {what}"))
    }

    fn skip(&mut self) {
        while let Some(&c) = self.s.get(self.at) {
            if c == b'#' {
                while self.s.get(self.at).is_some_and(|&c| c != b'\n') {
                    self.at += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.at += 1;
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> &str {
        let start = self.at;
        while self.s.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || b"._-+".contains(c)) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at]).unwrap_or("")
    }

    fn section(&mut self, depth: usize, top: bool) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(self.err("sections nested too deep"));
        }
        let mut map = BTreeMap::new();
        loop {
            self.skip();
            match self.s.get(self.at) {
                None if top => return Ok(Value::Section(map)),
                None => return Err(self.err("unterminated section")),
                Some(b'}') if !top => {
                    self.at += 1;
                    return Ok(Value::Section(map));
                }
                _ => {}
            }
            self.items += 1;
            if self.items > MAX_ITEMS {
                return Err(self.err("too many items"));
            }
            let key = self.word().to_string();
            if key.is_empty() {
                return Err(self.err("expected a name"));
            }
            self.skip();
            let value = match self.s.get(self.at) {
                Some(b'{') => {
                    self.at += 1;
                    self.section(depth + 1, false)?
                }
                Some(b'=') => {
                    self.at += 1;
                    self.skip();
                    self.value()?
                }
                _ => return Err(self.err("expected '=' or '{'")),
            };
            map.insert(key, value);
        }
    }

    fn value(&mut self) -> Result<Value> {
        match self.s.get(self.at) {
            Some(b'"') => {
                self.at += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.at) {
                        None => return Err(self.err("unterminated string")),
                        Some(b'"') => break,
                        Some(b'\\') if self.at + 1 < self.s.len() => {
                            out.push(self.s[self.at + 1]);
                            self.at += 2;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.at += 1;
                        }
                    }
                }
                self.at += 1;
                Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip();
                    match self.s.get(self.at) {
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::List(items));
                        }
                        Some(b',') => self.at += 1,
                        Some(b'"' | b'-' | b'0'..=b'9') => {
                            self.items += 1;
                            if self.items > MAX_ITEMS {
                                return Err(self.err("too many items"));
                            }
                            items.push(self.value()?);
                        }
                        _ => return Err(self.err("bad list")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                self.at += 1;
                while self.s.get(self.at).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                    self.at += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.at]).unwrap_or("");
                // Floats appear only in fields we do not read (none in practice): keep as text.
                Ok(t.parse().map(Value::Int).unwrap_or_else(|_| Value::Str(t.to_string())))
            }
            _ => Err(self.err("expected a value")),
        }
    }
}

/// The logical volumes of the VGs whose metadata the given PVs carry, mapped onto those PVs.
/// LVs that cannot be mapped (a PV missing, a segment type other than linear) are named in
/// `problems` with why.
pub fn logical_volumes(pvs: &[Pv], problems: &mut Vec<String>) -> Vec<Lv> {
    let mut out = Vec::new();
    let mut seen_vgs = Vec::new();
    for pv in pvs {
        let Some(text) = &pv.metadata else { continue };
        let top = match parse(pv.src.name(), text) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        for (vg_name, vg) in vg_sections(&top) {
            let id = vg.str("id").unwrap_or_default().to_string();
            if seen_vgs.contains(&id) {
                continue;
            }
            seen_vgs.push(id);
            out.extend(map_vg(vg_name, vg, pvs, problems));
        }
    }
    out
}

/// The top level's sections that are VGs (they have `physical_volumes`).
fn vg_sections(top: &Value) -> Vec<(&String, &Value)> {
    match top {
        Value::Section(m) => m.iter().filter(|(_, v)| v.get("physical_volumes").is_some()).collect(),
        _ => Vec::new(),
    }
}

fn map_vg(vg_name: &str, vg: &Value, pvs: &[Pv], problems: &mut Vec<String>) -> Vec<Lv> {
    let extent = vg.int("extent_size").unwrap_or(0).saturating_mul(SECTOR);
    let mut by_name: BTreeMap<&str, (SourceRef, u64)> = BTreeMap::new();
    for (pv_name, pv) in vg.sections("physical_volumes") {
        let id = pv.str("id").unwrap_or_default();
        if let Some(found) = pvs.iter().find(|p| p.uuid == id) {
            by_name.insert(pv_name, (found.src.clone(), pv.int("pe_start").unwrap_or(0).saturating_mul(SECTOR)));
        }
    }
    let mut out = Vec::new();
    for (lv_name, lv) in vg.sections("logical_volumes") {
        let visible = matches!(lv.get("status"), Some(Value::List(s)) if s.contains(&Value::Str("VISIBLE".into())));
        if !visible {
            continue;
        }
        match map_lv(vg_name, lv_name, lv, extent, &by_name) {
            Ok(src) => out.push(Lv { vg: vg_name.to_string(), name: lv_name.clone(), src }),
            Err(why) => problems.push(format!("LVM {vg_name}/{lv_name}: {why}")),
        }
    }
    out
}

fn map_lv(
    vg: &str,
    lv: &str,
    v: &Value,
    extent: u64,
    pvs: &BTreeMap<&str, (SourceRef, u64)>,
) -> std::result::Result<SourceRef, String> {
    if extent == 0 {
        return Err("the VG has no extent size".into());
    }
    let count = v.int("segment_count").unwrap_or(0);
    let mut segs = Vec::new();
    for i in 1..=count.min(10_000) {
        let seg = v.get(&format!("segment{i}")).ok_or(format!("segment{i} is missing"))?;
        let kind = seg.str("type").unwrap_or("");
        let stripes = match seg.get("stripes") {
            Some(Value::List(s)) => s.clone(),
            _ => Vec::new(),
        };
        if kind != "striped" || seg.int("stripe_count") != Some(1) || stripes.len() != 2 {
            return Err(format!("segment type {kind:?} is not supported (only linear volumes are read)"));
        }
        let (Value::Str(pv), Value::Int(first)) = (&stripes[0], &stripes[1]) else {
            return Err(format!("segment{i} has a malformed stripe list"));
        };
        let (src, pe_start) =
            pvs.get(pv.as_str()).ok_or(format!("its physical volume {pv} is not on the disks given"))?;
        let (start, n) = (seg.int("start_extent").unwrap_or(u64::MAX), seg.int("extent_count").unwrap_or(0));
        let at = u64::try_from(*first)
            .ok()
            .and_then(|f| f.checked_mul(extent))
            .and_then(|o| o.checked_add(*pe_start))
            .ok_or("segment offset overflows")?;
        let len = n.checked_mul(extent).ok_or("segment length overflows")?;
        let part = SliceSource::new(format!("{vg}/{lv}"), src.clone(), at, len).map_err(|e| e.to_string())?;
        segs.push((start, n, part));
    }
    segs.sort_by_key(|s| s.0);
    let mut next = 0;
    for (start, n, _) in &segs {
        if *start != next {
            return Err(format!("segments leave a gap at extent {next}"));
        }
        next += n;
    }
    if segs.is_empty() {
        return Err("no segments".into());
    }
    let parts: Vec<SourceRef> = segs.into_iter().map(|s| s.2).collect();
    Ok(if parts.len() == 1 {
        parts.into_iter().next().unwrap()
    } else {
        ConcatSource::new(format!("{vg}/{lv}"), parts)
    })
}

/// `/dev/mapper` name of an LV: dashes inside names are doubled.
pub fn mapper_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"rl {
id = "abc"
seqno = 3
format = "lvm2" # informational
status = ["RESIZEABLE", "READ", "WRITE"]
extent_size = 8192
physical_volumes {
pv0 {
id = "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG"
pe_start = 2048
pe_count = 10
}
}
logical_volumes {
root {
status = ["READ", "WRITE", "VISIBLE"]
segment_count = 2
segment1 {
start_extent = 0
extent_count = 2
type = "striped"
stripe_count = 1
stripes = [
"pv0", 3
]
}
segment2 {
start_extent = 2
extent_count = 1
type = "striped"
stripe_count = 1
stripes = ["pv0", 0]
}
}
pool {
status = ["READ", "WRITE", "VISIBLE"]
segment_count = 1
segment1 { start_extent = 0 extent_count = 1 type = "thin-pool" }
}
}
}
contents = "Text Format Volume Group"
version = 1
"#;

    #[test]
    fn parses_and_maps_linear_segments_in_order() {
        let disk: Vec<u8> = (0..(16u64 * 4) << 20).map(|i| (i / (4 << 20)) as u8).collect();
        let src = crate::source::MemSource::new("d", disk);
        let pv = Pv { uuid: "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG".into(), src, metadata: Some(TEXT.into()) };
        let mut problems = Vec::new();
        let lvs = logical_volumes(std::slice::from_ref(&pv), &mut problems);
        assert_eq!(lvs.len(), 1, "{problems:?}");
        assert_eq!(lvs[0].name, "root");
        // 3 extents of 4 MiB: PV extents 3, 4 then 0, each after the 1 MiB pe_start.
        assert_eq!(lvs[0].src.len(), 12 << 20);
        let mut b = [0u8; 1];
        for (lv_at, disk_at) in [(0u64, (1u64 << 20) + (12 << 20)), (8 << 20, 1 << 20)] {
            lvs[0].src.read_exact_at(lv_at, &mut b).unwrap();
            assert_eq!(u64::from(b[0]), disk_at / (4 << 20));
        }
        assert!(problems.iter().any(|p| p.contains("pool") && p.contains("thin-pool")), "{problems:?}");
    }

    #[test]
    fn hostile_text_is_an_error_not_a_crash() {
        for text in ["a {", "a = \"x", "a = [1, ", &"a { ".repeat(100), "= 3", "a = @"] {
            assert!(parse("t", text).is_err(), "{text:?}");
        }
        assert_eq!(mapper_name("my-vg", "lv"), "my--vg-lv");
    }
}
