//! A guest disk as the guest sees it: the decoded virtual disk of a [`Disk`](crate::Disk)'s map,
//! as a [`Source`], so partition tables, LVM and file systems read it like any other byte
//! source. File system readers make many small reads in the same few places (inode tables,
//! directory blocks); a compressed grain would be inflated again for each, so whole 64 KiB
//! blocks are kept in a small bounded cache.

use crate::cache::Lru;
use crate::decode::read_guest;
use crate::error::{Error, Result};
use crate::image::Mapper;
use crate::source::Source;
use std::cell::RefCell;
use std::rc::Rc;

/// Bytes per cached block: a streamOptimized grain (64 KiB), a QCOW2 cluster.
const BLOCK: u64 = 64 << 10;
/// Blocks kept: 4 MiB.
const CACHED: usize = 64;

pub struct GuestDisk {
    name: String,
    map: Box<dyn Mapper>,
    cache: RefCell<Lru<u64, Rc<Vec<u8>>>>,
}

impl GuestDisk {
    /// The guest view of `map`; `name` is what errors call it (the disk's file name).
    pub fn new(name: impl Into<String>, map: Box<dyn Mapper>) -> GuestDisk {
        GuestDisk { name: name.into(), map, cache: RefCell::new(Lru::new(CACHED)) }
    }

    fn block(&self, index: u64) -> Result<Rc<Vec<u8>>> {
        self.cache.borrow_mut().get(index, || {
            let start = index * BLOCK;
            let len = BLOCK.min(self.map.size() - start);
            let mut buf = vec![0u8; len as usize];
            read_guest(self.map.as_ref(), start, &mut buf)?;
            Ok(Rc::new(buf))
        })
    }
}

impl Source for GuestDisk {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.map.size()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64).filter(|&e| e <= self.len()).ok_or_else(|| {
            Error::truncated(
                &self.name,
                offset,
                offset.saturating_add(buf.len() as u64),
                self.len(),
                format!("guest read of {} bytes past the end of the {}-byte disk", buf.len(), self.len()),
            )
        })?;
        let mut pos = offset;
        while pos < end {
            let block = self.block(pos / BLOCK)?;
            let at = (pos % BLOCK) as usize;
            let n = (block.len() - at).min((end - pos) as usize);
            let dst = (pos - offset) as usize;
            buf[dst..dst + n].copy_from_slice(&block[at..at + n]);
            pos += n as u64;
        }
        Ok(())
    }
}
