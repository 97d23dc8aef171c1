//! An in-memory guest map of zlib grains, as stream-optimized VMDKs store them (all-zero grains
//! left unallocated): exercises the Deflate paths of the planner and decoder without a VMDK.
//! Shared by the native writer tests and the wasm binding tests, so it uses no process or file.
#![allow(dead_code)]

use stackferry::image::{push_run, Mapper, Run, RunKind};
use stackferry::source::{MemSource, SourceRef};
use std::io::Write;

pub struct Grains {
    pub src: SourceRef,
    /// (offset, compressed length) per grain; None for holes.
    pub table: Vec<Option<(u64, u32)>>,
    pub grain: u64,
    pub size: u64,
}

/// The compressed grains of `data` back to back, and the table locating each one.
pub fn grains_blob(data: &[u8], grain: usize) -> (Vec<u8>, Vec<Option<(u64, u32)>>) {
    let mut out = Vec::new();
    let mut table = Vec::new();
    for g in data.chunks(grain) {
        if g.iter().all(|&b| b == 0) {
            table.push(None);
            continue;
        }
        let mut full = g.to_vec();
        full.resize(grain, 0);
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&full).unwrap();
        let c = e.finish().unwrap();
        table.push(Some((out.len() as u64, c.len() as u32)));
        out.extend_from_slice(&c);
    }
    (out, table)
}

impl Grains {
    pub fn new(data: &[u8], grain: usize) -> Self {
        let (blob, table) = grains_blob(data, grain);
        Grains { src: MemSource::new("grains.bin", blob), table, grain: grain as u64, size: data.len() as u64 }
    }
}

impl Mapper for Grains {
    fn size(&self) -> u64 {
        self.size
    }
    fn map(&self, offset: u64, len: u64, out: &mut Vec<Run>) -> stackferry::Result<()> {
        let mut pos = offset;
        while pos < offset + len {
            let g = pos / self.grain;
            let n = ((g + 1) * self.grain).min(offset + len) - pos;
            let kind = match self.table[g as usize] {
                None => RunKind::Unallocated,
                Some((o, c)) => RunKind::Deflate {
                    src: self.src.clone(),
                    offset: o,
                    clen: c,
                    grain_len: self.grain as u32,
                    skip: (pos - g * self.grain) as u32,
                    marker: None,
                },
            };
            push_run(out, Run { len: n, kind });
            pos += n;
        }
        Ok(())
    }
}
