//! The MBR partition table (with extended partitions and their chain of EBRs), read-only.
//!
//! Written here rather than taken from `mbrman`: that crate reads through `Read + Seek`, pulls
//! in bincode and serde for a 512-byte sector, and follows the EBR chain without a bound on its
//! length; what inspection needs is forty lines over a [`Source`].

use crate::bytes::le32;
use crate::error::{Error, Result};
use crate::source::Source;

pub const SECTOR: u64 = 512;
/// Logical partitions followed at most: Linux's own limit is far below this.
const MAX_LOGICAL: usize = 128;

/// One partition, numbered as Linux numbers them (primary 1–4, logical from 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub number: u32,
    pub kind: u8,
    pub bootable: bool,
    /// Byte offset and length on the disk.
    pub offset: u64,
    pub len: u64,
}

/// The table: the disk signature (PARTUUID is `<signature>-<number>` in hex) and partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub signature: u32,
    pub entries: Vec<Entry>,
    /// Entries skipped, each with why (past the end of the disk, an EBR loop).
    pub problems: Vec<String>,
}

/// True for a type byte that marks a GPT's protective MBR.
pub fn is_protective(kind: u8) -> bool {
    kind == 0xee
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// One slot of a partition sector: type, bootable, first sector, sectors.
type Slot = (u8, bool, u64, u64);

/// The four entries of the sector at `lba`, or None when it has no 0x55AA signature.
fn slots(src: &dyn Source, lba: u64) -> Result<Option<[Slot; 4]>> {
    let mut s = [0u8; SECTOR as usize];
    src.read_exact_at(lba * SECTOR, &mut s)?;
    if s[510] != 0x55 || s[511] != 0xaa {
        return Ok(None);
    }
    Ok(Some(std::array::from_fn(|i| {
        let e = &s[446 + 16 * i..462 + 16 * i];
        (e[4], e[0] == 0x80, u64::from(le32(e, 8)), u64::from(le32(e, 12)))
    })))
}

/// The MBR of `src`, or None when sector 0 carries no MBR signature.
pub fn read(src: &dyn Source) -> Result<Option<Table>> {
    if src.len() < SECTOR {
        return Ok(None);
    }
    let Some(primary) = slots(src, 0)? else { return Ok(None) };
    let mut head = [0u8; 4];
    src.read_exact_at(440, &mut head)?;
    let mut table = Table { signature: u32::from_le_bytes(head), entries: Vec::new(), problems: Vec::new() };
    let disk_sectors = src.len() / SECTOR;
    let push = |t: &mut Table, number: u32, kind: u8, bootable: bool, start: u64, sectors: u64| {
        if start == 0 || sectors == 0 || start.saturating_add(sectors) > disk_sectors {
            t.problems.push(format!(
                "{}: partition {number} (sectors {start}+{sectors}) does not fit the {disk_sectors}-sector disk",
                src.name()
            ));
            return;
        }
        t.entries.push(Entry { number, kind, bootable, offset: start * SECTOR, len: sectors * SECTOR });
    };
    let mut extended = None;
    for (i, &(kind, bootable, start, sectors)) in primary.iter().enumerate() {
        if kind == 0 {
            continue;
        }
        if is_extended(kind) {
            extended.get_or_insert((start, sectors));
        } else {
            push(&mut table, i as u32 + 1, kind, bootable, start, sectors);
        }
    }
    let Some((ext_start, ext_sectors)) = extended else { return Ok(Some(table)) };
    // The chain: each EBR holds one logical partition (relative to the EBR) and a link to the
    // next EBR (relative to the extended partition). Links must move forward inside it.
    let mut rel = 0u64;
    for n in 0..MAX_LOGICAL {
        let ebr = ext_start + rel;
        if rel >= ext_sectors || ebr >= disk_sectors {
            table.problems.push(format!("{}: EBR at sector {ebr} is outside the extended partition", src.name()));
            break;
        }
        let Some(e) = slots(src, ebr)? else {
            if n > 0 {
                table.problems.push(format!("{}: EBR at sector {ebr} has no signature", src.name()));
            }
            break;
        };
        let (kind, bootable, start, sectors) = e[0];
        if kind != 0 {
            push(&mut table, 5 + n as u32, kind, bootable, ebr + start, sectors);
        }
        let next = e[1].2;
        if !is_extended(e[1].0) || next == 0 {
            return Ok(Some(table));
        }
        if next <= rel {
            return Err(Error::corrupt(
                src.name(),
                ebr * SECTOR + 446 + 16,
                format!("EBR link goes back (sector {next} of the extended partition after {rel})"),
            ));
        }
        rel = next;
    }
    table.problems.push(format!("{}: more than {MAX_LOGICAL} logical partitions; the rest were not read", src.name()));
    Ok(Some(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    fn entry(s: &mut [u8], at: usize, slot: usize, kind: u8, start: u32, sectors: u32) {
        let e = &mut s[at + 446 + 16 * slot..at + 462 + 16 * slot];
        e[4] = kind;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&sectors.to_le_bytes());
        s[at + 510] = 0x55;
        s[at + 511] = 0xaa;
    }

    #[test]
    fn primaries_and_a_logical_chain_numbered_as_linux_does() {
        let mut d = vec![0u8; 4096 * 512];
        entry(&mut d, 0, 0, 0x83, 2048, 100);
        entry(&mut d, 0, 1, 0x05, 3000, 1000);
        // EBR 1 at 3000: logical at +10; next EBR at extended+100.
        entry(&mut d, 3000 * 512, 0, 0x83, 10, 50);
        entry(&mut d, 3000 * 512, 1, 0x05, 100, 60);
        entry(&mut d, 3100 * 512, 0, 0x82, 10, 40);
        let t = read(MemSource::new("d", d).as_ref()).unwrap().unwrap();
        let got: Vec<(u32, u64)> = t.entries.iter().map(|e| (e.number, e.offset / 512)).collect();
        assert_eq!(got, [(1, 2048), (5, 3010), (6, 3110)]);
    }

    #[test]
    fn hostile_tables_are_reported_not_followed() {
        // A partition past the end is skipped with a problem.
        let mut d = vec![0u8; 64 * 512];
        entry(&mut d, 0, 0, 0x83, 10, 1_000_000);
        let t = read(MemSource::new("d", d).as_ref()).unwrap().unwrap();
        assert!(t.entries.is_empty() && t.problems[0].contains("does not fit"), "{t:?}");
        // An EBR that links back to itself is an error naming the file and the offset.
        let mut d = vec![0u8; 64 * 512];
        entry(&mut d, 0, 0, 0x05, 8, 50);
        entry(&mut d, 8 * 512, 0, 0x83, 1, 2);
        entry(&mut d, 8 * 512, 1, 0x05, 4, 2);
        entry(&mut d, 12 * 512, 1, 0x05, 4, 2);
        let e = read(MemSource::new("loop.img", d).as_ref()).unwrap_err();
        assert!(e.to_string().contains("loop.img") && e.to_string().contains("goes back"), "{e}");
        // No signature: no table.
        assert!(read(MemSource::new("z", vec![0u8; 1024]).as_ref()).unwrap().is_none());
    }
}
