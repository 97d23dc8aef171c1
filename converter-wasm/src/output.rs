//! The output stream as the assembler writes it: where it is, the SHA-512 of what was written,
//! and the check that must pass before its last byte. The per-format writers (`raw`,
//! `qcow2::writer`) write through a [`Writer`]; the assembler (`convert`) owns the [`Output`].

use crate::error::Result;
use crate::manifest::DiskCheck;
use bytes::Bytes;
use sha2::{Digest, Sha512};

/// Zeros written from here, a piece at a time.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// Where the assembler's bytes go, in order. Any `FnMut(&[u8]) -> Result<()>` is one: it sees
/// every piece borrowed, to copy. Decoded data also comes shared ([`Sink::shared`]), so a
/// sink that can hold on to it (the native writer, which hands it to the disk as it is) need
/// not copy it: on the CLI that copy was 5 % of the CPU samples, on the one thread that
/// assembles.
pub trait Sink {
    fn write(&mut self, bytes: &[u8]) -> Result<()>;

    /// Decoded data, the sink's to keep (a reference, not a copy); by default copied as any
    /// other piece.
    fn shared(&mut self, bytes: &Bytes) -> Result<()> {
        self.write(bytes)
    }
}

impl<F: FnMut(&[u8]) -> Result<()> + ?Sized> Sink for F {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self(bytes)
    }
}

/// What the assembler keeps about its output between calls.
pub struct Output {
    /// Bytes written so far.
    pub pos: u64,
    /// Planned total length, once known: the check runs before the write that reaches it.
    pub len: Option<u64>,
    /// SHA-512 of the bytes written, unless the caller hashes the output itself.
    pub sha: Option<Sha512>,
    /// Run just before the last bytes are written (the disk's manifest check): if it fails,
    /// the output stays incomplete, so an upload in progress is never finished.
    pub before_last: Option<DiskCheck>,
}

impl Output {
    pub fn new(len: Option<u64>, before_last: Option<DiskCheck>) -> Self {
        Output { pos: 0, len, sha: Some(Sha512::new()), before_last }
    }

    /// A writer passing bytes on to `sink` (the shell's: a file, an upload, a worker).
    pub fn writer<'a>(&'a mut self, sink: &'a mut dyn Sink) -> Writer<'a> {
        Writer { out: self, sink }
    }
}

/// The output during one call of the assembler.
pub struct Writer<'a> {
    out: &'a mut Output,
    sink: &'a mut dyn Sink,
}

impl Writer<'_> {
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.pass(bytes, |sink| sink.write(bytes))
    }

    /// Decoded data, passed on shared (see [`Sink::shared`]).
    pub fn write_shared(&mut self, bytes: &Bytes) -> Result<()> {
        self.pass(bytes, |sink| sink.shared(bytes))
    }

    /// Check, hash and count `bytes`, which `send` hands to the sink.
    fn pass(&mut self, bytes: &[u8], send: impl FnOnce(&mut dyn Sink) -> Result<()>) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let out = &mut *self.out;
        if Some(out.pos + bytes.len() as u64) == out.len {
            if let Some(check) = out.before_last.take() {
                check.finish()?;
            }
        }
        if let Some(sha) = out.sha.as_mut() {
            sha.update(bytes);
        }
        send(&mut *self.sink)?;
        out.pos += bytes.len() as u64;
        Ok(())
    }

    pub fn zeros(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let k = n.min(ZEROS.len() as u64) as usize;
            self.write(&ZEROS[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn pos(&self) -> u64 {
        self.out.pos
    }
}

/// Output passed on piece by piece at known offsets, with all-zero pieces of at least
/// [`HOLE_MIN`] bytes left out as holes: for sinks that write at an offset (the page's output
/// file and upload). The sink sets the final length, so holes read back as zeros. Pieces are
/// not gathered here: the page's sink copies each out of Wasm memory anyway and gathers them
/// there into large writes (web/src/converter/sink.js); gathering here too was one more copy
/// of every output byte.
#[derive(Default)]
pub struct Holes {
    /// Output offset of the next piece.
    at: u64,
}

/// All-zero pieces at least this long become holes.
pub const HOLE_MIN: usize = 4096;

impl Holes {
    /// Take the next output bytes: `write(bytes, offset)` unless they are a hole.
    pub fn push(&mut self, b: &[u8], write: &mut dyn FnMut(&[u8], u64) -> Result<()>) -> Result<()> {
        if !(b.len() >= HOLE_MIN && crate::digest::is_zero(b)) {
            write(b, self.at)?;
        }
        self.at += b.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::manifest::{Manifest, Verifier};
    use crate::source::MemSource;

    #[test]
    fn the_check_runs_before_the_last_bytes() {
        let m = Manifest::parse("p.mf", format!("SHA256(d.vmdk)= {}\n", "00".repeat(32)).as_bytes()).unwrap();
        let mut v = Verifier::new(&m);
        let src = v.wrap(MemSource::new("d.vmdk", vec![1; 10]), m.find("d.vmdk").unwrap());
        v.note_use(&src, 0);
        let mut out = Output::new(Some(100_000), v.disk_checks(1).pop());
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| {
            got.extend_from_slice(b);
            Ok(())
        };
        let mut w = out.writer(&mut sink);
        w.write(b"head").unwrap();
        w.zeros(99_000).unwrap();
        let e = w.zeros(996).unwrap_err();
        assert_eq!((e.kind, e.file.as_str()), (ErrorKind::Checksum, "d.vmdk"));
        assert_eq!(w.pos(), 99_004);
        assert_eq!(got.len(), 99_004, "the last bytes are not written");
    }
    #[test]
    fn zero_runs_become_holes() {
        let mut h = Holes::default();
        let mut writes = Vec::new();
        let mut write = |b: &[u8], at: u64| {
            writes.push((at, b.len(), b[0]));
            Ok(())
        };
        for piece in [vec![1u8; 3000], vec![0; 5000], vec![0; 100], vec![3; 6000]] {
            h.push(&piece, &mut write).unwrap();
        }
        // The long zero run is a hole; the short one (under HOLE_MIN) is written.
        assert_eq!(writes, vec![(0, 3000, 1), (8000, 100, 0), (8100, 6000, 3)]);
    }
}
