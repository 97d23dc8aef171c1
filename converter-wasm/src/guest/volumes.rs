//! Every volume of a VM's disks: each disk's partitions (MBR or GPT; the whole disk when it
//! has neither), then the logical volumes of the LVM2 physical volumes among them (a VG may
//! span several disks of the VM), each probed for what it holds.

use super::fs::{probe, Content};
use super::report::Volume;
use super::{gpt, lvm2, mbr};
use crate::error::Result;
use crate::source::{SliceSource, SourceRef};

/// A volume, with what mounting it needs.
pub struct Found {
    pub info: Volume,
    pub src: SourceRef,
    pub content: Content,
    /// 0-based disk index and partition number, for `/dev/sdXN` names.
    pub disk: usize,
    pub number: Option<u32>,
    /// PARTUUID (GPT unique GUID, or MBR `<signature>-<number>`).
    pub partuuid: Option<String>,
    /// `vg`, `lv` for a logical volume.
    pub lv: Option<(String, String)>,
}

/// A partition: number, byte offset, length, PARTUUID.
type Part = (u32, u64, u64, String);

/// The partitions of one disk; None when it has no partition table.
fn partitions(disk: &SourceRef, problems: &mut Vec<String>) -> Result<Option<Vec<Part>>> {
    let Some(table) = mbr::read(disk.as_ref())? else { return Ok(None) };
    if table.entries.iter().any(|e| mbr::is_protective(e.kind)) {
        let entries = gpt::read(disk.as_ref(), problems)?;
        return Ok(Some(entries.into_iter().map(|e| (e.number, e.offset, e.len, e.unique_guid)).collect()));
    }
    problems.extend(table.problems);
    if table.entries.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        table
            .entries
            .iter()
            .map(|e| (e.number, e.offset, e.len, format!("{:08x}-{:02x}", table.signature, e.number)))
            .collect(),
    ))
}

fn found(name: String, src: SourceRef, disk: usize, number: Option<u32>, offset: u64) -> Result<Found> {
    let p = probe(src.as_ref())?;
    Ok(Found {
        info: Volume {
            name,
            offset,
            size: src.len(),
            content: p.content.as_str().into(),
            label: p.label,
            uuid: p.uuid,
            mount: None,
        },
        src,
        content: p.content,
        disk,
        number,
        partuuid: None,
        lv: None,
    })
}

/// All volumes of `disks` (in order), LVs after the partitions. What cannot be read is named
/// in `problems`, and the rest is still returned.
pub fn scan(disks: &[SourceRef], problems: &mut Vec<String>) -> Vec<Found> {
    let mut out = Vec::new();
    let many = disks.len() > 1;
    for (d, disk) in disks.iter().enumerate() {
        let prefix = if many { format!("disk {} ", d + 1) } else { String::new() };
        let parts = match partitions(disk, problems) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let result = match parts {
            None => found(format!("{prefix}whole disk"), disk.clone(), d, None, 0).map(|f| vec![f]),
            Some(parts) => parts
                .into_iter()
                .map(|(n, offset, len, partuuid)| {
                    let src = SliceSource::new(format!("{} partition {n}", disk.name()), disk.clone(), offset, len)?;
                    let mut f = found(format!("{prefix}partition {n}"), src, d, Some(n), offset)?;
                    f.partuuid = Some(partuuid);
                    Ok(f)
                })
                .collect(),
        };
        match result {
            Ok(v) => out.extend(v),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mut pvs = Vec::new();
    for f in out.iter().filter(|f| f.content == Content::LvmPv) {
        match lvm2::read_pv(f.src.clone()) {
            Ok(Some(pv)) => pvs.push(pv),
            Ok(None) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
    for lv in lvm2::logical_volumes(&pvs, problems) {
        match found(format!("{}/{}", lv.vg, lv.name), lv.src, 0, None, 0) {
            Ok(mut f) => {
                f.lv = Some((lv.vg, lv.name));
                out.push(f);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    out
}
