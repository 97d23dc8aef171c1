//! The GUID partition table (UEFI spec, chapter 5), read-only: the primary header and entry
//! array, checked by their CRC32s, and the backup at the disk's last sector when the primary
//! is damaged.
//!
//! Written here rather than taken from `gptman`: it sizes its entry vector from the header's
//! entry count before any check (a hostile header asks for 4 billion entries) and needs
//! `Read + Seek`; the format is a header and an array.

use crate::bytes::{le32, le64};
use crate::error::{Error, Result};
use crate::source::{read_vec, Source};

const SECTOR: u64 = 512;
/// Entry array bound: 128 entries of 128 bytes is what every tool writes; allow 32×.
const MAX_ARRAY: u64 = 512 << 10;

pub const ESP: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
pub const LINUX_LVM: &str = "e6d6d379-f507-44c2-a23c-238f2a3df928";
pub const BIOS_BOOT: &str = "21686148-6449-6e6f-744e-656564454649";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based index in the array (Linux's partition number).
    pub number: u32,
    pub type_guid: String,
    /// PARTUUID.
    pub unique_guid: String,
    pub name: String,
    pub offset: u64,
    pub len: u64,
}

/// A GUID in its textual (mixed-endian) form.
pub fn guid(b: &[u8]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{}",
        le32(b, 0),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        b[8],
        b[9],
        hex::encode(&b[10..16])
    )
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// The table at header sector `lba`, or why it is not valid.
fn at(src: &dyn Source, lba: u64) -> Result<std::result::Result<Vec<Entry>, String>> {
    let name = src.name();
    let mut h = [0u8; SECTOR as usize];
    src.read_exact_at(lba * SECTOR, &mut h)?;
    if &h[..8] != b"EFI PART" {
        return Ok(Err(format!("no GPT header at sector {lba}")));
    }
    let size = le32(&h, 12) as usize;
    if !(92..=SECTOR as usize).contains(&size) {
        return Ok(Err(format!("GPT header at sector {lba} declares size {size}")));
    }
    let mut copy = h[..size].to_vec();
    copy[16..20].fill(0);
    if crc32(&copy) != le32(&h, 16) {
        return Ok(Err(format!("GPT header at sector {lba} fails its CRC32")));
    }
    let (array_lba, count, entry_size) = (le64(&h, 72), u64::from(le32(&h, 80)), u64::from(le32(&h, 84)));
    if entry_size < 128 || !entry_size.is_power_of_two() || count.saturating_mul(entry_size) > MAX_ARRAY {
        return Err(Error::unsupported(
            name,
            Some(lba * SECTOR + 80),
            format!("GPT entry array of {count} entries of {entry_size} bytes (at most {MAX_ARRAY} bytes read)"),
        ));
    }
    let array_at = array_lba
        .checked_mul(SECTOR)
        .ok_or_else(|| Error::corrupt(name, lba * SECTOR + 72, "GPT entry array LBA overflows"))?;
    let array = read_vec(src, array_at, count * entry_size)?;
    if crc32(&array) != le32(&h, 88) {
        return Ok(Err(format!("GPT entry array at sector {array_lba} fails its CRC32")));
    }
    let disk_sectors = src.len() / SECTOR;
    let mut out = Vec::new();
    for (i, e) in array.chunks_exact(entry_size as usize).enumerate() {
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        if first > last || last >= disk_sectors {
            return Err(Error::corrupt(
                name,
                array_at + i as u64 * entry_size + 32,
                format!("GPT partition {} spans sectors {first}..={last} of a {disk_sectors}-sector disk", i + 1),
            ));
        }
        let units: Vec<u16> = e[56..128].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let name = String::from_utf16_lossy(&units).trim_end_matches('\0').to_string();
        out.push(Entry {
            number: i as u32 + 1,
            type_guid: guid(&e[..16]),
            unique_guid: guid(&e[16..32]),
            name,
            offset: first * SECTOR,
            len: (last - first + 1) * SECTOR,
        });
    }
    Ok(Ok(out))
}

/// The partitions of a disk whose MBR is protective: the primary table, else the backup.
/// `problems` gets a line when the primary was damaged and the backup served.
pub fn read(src: &dyn Source, problems: &mut Vec<String>) -> Result<Vec<Entry>> {
    if src.len() < 3 * SECTOR {
        return Err(Error::truncated(src.name(), 0, 3 * SECTOR, src.len(), "too short for a GPT"));
    }
    match at(src, 1)? {
        Ok(entries) => Ok(entries),
        Err(primary) => match at(src, src.len() / SECTOR - 1)? {
            Ok(entries) => {
                problems.push(format!("{}: {primary}; the backup GPT was used", src.name()));
                Ok(entries)
            }
            Err(backup) => Err(Error::corrupt(src.name(), SECTOR, format!("{primary}; {backup}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    /// A disk of `sectors` with a GPT holding one partition; `count` entries declared.
    fn disk(sectors: u64, count: u32) -> Vec<u8> {
        let mut d = vec![0u8; sectors as usize * 512];
        let mut array = vec![0u8; 128 * 128];
        array[..16].copy_from_slice(&[
            0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
        ]);
        array[16] = 7;
        array[32..40].copy_from_slice(&34u64.to_le_bytes());
        array[40..48].copy_from_slice(&(sectors - 34).to_le_bytes());
        d[1024..1024 + array.len()].copy_from_slice(&array);
        let h = &mut d[512..1024];
        h[..8].copy_from_slice(b"EFI PART");
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[72..80].copy_from_slice(&2u64.to_le_bytes());
        h[80..84].copy_from_slice(&count.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        let ac = crc32(&array[..(count.min(128) * 128) as usize]);
        h[88..92].copy_from_slice(&ac.to_le_bytes());
        let hc = crc32(&h[..92]);
        h[16..20].copy_from_slice(&hc.to_le_bytes());
        d
    }

    #[test]
    fn reads_a_valid_table_and_falls_back_to_the_backup() {
        let d = disk(200, 128);
        let mut problems = Vec::new();
        let e = read(MemSource::new("g", d.clone()).as_ref(), &mut problems).unwrap();
        assert_eq!((e.len(), e[0].number, e[0].offset), (1, 1, 34 * 512));
        assert_eq!(e[0].type_guid, "0fc63daf-8483-4772-8e79-3d69d8477de4");
        // Primary damaged, no backup: a clear error naming the file.
        let mut bad = d;
        bad[600] ^= 1;
        let err = read(MemSource::new("g.img", bad).as_ref(), &mut problems).unwrap_err();
        assert!(err.to_string().contains("g.img") && err.to_string().contains("CRC32"), "{err}");
    }

    #[test]
    fn a_hostile_entry_count_is_refused_before_reading() {
        let d = disk(200, u32::MAX);
        let err = read(MemSource::new("g", d).as_ref(), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("entry array"), "{err}");
    }
}
