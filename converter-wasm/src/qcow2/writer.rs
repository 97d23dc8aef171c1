//! QCOW2 output in file order: the metadata clusters ([`Layout`] and its `MetaWriter`), then
//! the allocated clusters in guest order: whole in a plain image, packed one after another at
//! their measured lengths in a compressed one.

use super::layout::{Compressed, Layout, Packer};
use crate::error::{Error, Result};
use crate::output::Writer;
use crate::plan::AllocMap;
use bytes::Bytes;

/// Everything before the data area: header, L1 table, refcount table and blocks, L2 tables.
pub fn write_metadata(
    w: &mut Writer,
    layout: &Layout,
    alloc: &AllocMap,
    compressed: Option<&Compressed>,
) -> Result<()> {
    let mut meta = layout.metadata();
    let mut buf = vec![0u8; layout.cluster_size() as usize];
    while meta.next_cluster(layout, alloc, compressed, &mut buf) {
        w.write(&buf)?;
    }
    Ok(())
}

/// A decoded unit of a plain image: its allocated clusters (`alloc`, one flag per cluster of
/// the unit), each a whole cluster (the image's last one padded with zeros).
pub fn write_clusters(w: &mut Writer, data: &Bytes, alloc: &[bool], cluster_size: u64) -> Result<()> {
    let c = cluster_size as usize;
    for (i, _) in alloc.iter().enumerate().filter(|(_, a)| **a) {
        let a = (i * c).min(data.len());
        let chunk = data.slice(a..(a + c).min(data.len()));
        w.write_shared(&chunk)?;
        w.zeros(cluster_size - chunk.len() as u64)?;
    }
    Ok(())
}

/// The data area of a compressed image, written one unit at a time.
pub struct Packed {
    packer: Packer,
    /// Allocated clusters written so far (index into the measured lengths).
    rank: usize,
}

impl Packed {
    pub fn new(cluster_size: u64) -> Self {
        Packed { packer: Packer::new(cluster_size), rank: 0 }
    }

    /// A decoded unit's stored clusters, each where the layout placed it: they must have the
    /// lengths measured in the first pass (`lens`), which the tables already point at.
    pub fn write(&mut self, w: &mut Writer, stored: &[Vec<u8>], lens: &[u32]) -> Result<()> {
        for s in stored {
            if lens.get(self.rank) != Some(&(s.len() as u32)) {
                return Err(Error::invalid("compressed cluster changed size between the measuring and writing passes"));
            }
            let (_, pad) = self.packer.place(s.len() as u32);
            w.zeros(pad)?;
            w.write(s)?;
            self.rank += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Output;

    #[test]
    fn plain_clusters_are_whole_and_compressed_ones_packed() {
        let mut out = Output::new(None, None);
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| {
            got.extend_from_slice(b);
            Ok(())
        };
        let mut w = out.writer(&mut sink);
        // The image's last unit: two clusters of 512, the second short and allocated.
        write_clusters(&mut w, &Bytes::from(vec![1u8; 700]), &[false, true], 512).unwrap();
        assert_eq!(w.pos(), 512);
        let mut p = Packed::new(512);
        p.write(&mut w, &[vec![2; 100], vec![3; 512]], &[100, 512, 7]).unwrap();
        // The whole cluster is aligned: 412 bytes of padding after the compressed one.
        assert_eq!(w.pos(), 512 + 100 + 412 + 512);
        let e = p.write(&mut w, &[vec![4; 8]], &[100, 512, 7]).unwrap_err();
        assert!(e.message.contains("changed size"), "{e}");
        let mut want = vec![1u8; 188];
        want.resize(512, 0);
        want.extend([2; 100]);
        want.resize(1024, 0);
        want.extend([3; 512]);
        assert_eq!(got, want);
    }
}
