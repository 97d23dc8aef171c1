//! OVF manifests (`.mf`, DSP0243 §5.1): one line per file, `ALG(name)= hexdigest`, with ALG
//! SHA1, SHA256 or SHA512 (ovftool writes `SHA256(vm.ovf)= 3f...`; we also accept other
//! spacing, lower-case algorithm names and CRLF line ends). Parsed by hand: the format is one
//! line shape.
//!
//! Digests are verified **while the files are read** for conversion, never by a separate pass
//! when it can be avoided: each listed file is wrapped in a [`HashingSource`] that keeps a
//! running hash of the prefix `[0, watermark)` read so far. A read that starts at or before the
//! watermark (or at most [`GAP_LIMIT`] after it, in which case the wrapper reads the gap
//! itself) extends the hash over its new bytes; a read far ahead (the footer of a
//! stream-optimized VMDK, read first) leaves the hash alone, and reads behind the watermark
//! were already hashed. [`DiskCheck::finish`] hashes whatever was never reached (reading it)
//! and compares every digest. So a stream-optimized VMDK read footer-first then front to back
//! is hashed in that front-to-back pass, with no second read.
//!
//! A shell with threads to spare can take the hashing off the thread that reads for the
//! conversion ([`DiskCheck::elsewhere`], [`DiskCheck::hash_elsewhere`]): its own [`Prefix`]
//! hashes the file from the blocks the reading thread passes on (reading what it was not given
//! itself), and [`DiskCheck::provide`] hands the digest back before the last output bytes; the
//! comparison stays here. The page does this: SHA-256 in Wasm is about 240 MiB/s, a third of
//! its converter thread's time for an OVA.

use crate::error::{Args, Error, ErrorKind, Result};
use crate::notice::{Notice, WarnCode};
use crate::source::{base_name, read_vec, Source, SourceRef};
use serde::Serialize;
use sha1::Digest;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// Largest manifest we read: a line is under 200 bytes, so this holds thousands of files.
pub const MAX_MANIFEST_SIZE: u64 = 1 << 20;

/// A read starting at most this far past the watermark makes the wrapper read and hash the
/// gap itself (cheaper than re-reading it in `finish`); farther reads leave the hash alone.
pub const GAP_LIMIT: u64 = 1 << 20;

/// Bytes hashed per read when the wrapper reads on its own (gaps, `finish`).
const HASH_CHUNK: usize = 1 << 20;

/// The digest algorithms manifests use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Some(Algorithm::Sha1),
            "SHA256" => Some(Algorithm::Sha256),
            "SHA512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
    /// The name as manifests spell it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
    fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

/// A running hash of one of the algorithms.
enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn new(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
    fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(b),
            Hasher::Sha256(h) => h.update(b),
            Hasher::Sha512(h) => h.update(b),
        }
    }
    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Digest of `data` in one go (the OVF itself, tests).
pub fn digest(a: Algorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(a);
    h.update(data);
    h.finish()
}

/// One manifest line.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub algorithm: Algorithm,
    /// The file name as listed (relative to the manifest).
    pub name: String,
    #[serde(serialize_with = "hex_ser")]
    pub digest: Vec<u8>,
    /// 1-based line number, for messages.
    pub line: usize,
}

fn hex_ser<S: serde::Serializer>(d: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(d))
}

/// A parsed manifest.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The manifest's own name (for messages).
    pub name: String,
    pub entries: Vec<Entry>,
    /// Lines skipped (unknown algorithm).
    pub warnings: Vec<Notice>,
}

impl Manifest {
    /// Read and parse the manifest `src`.
    pub fn read(src: &dyn Source) -> Result<Manifest> {
        if src.len() > MAX_MANIFEST_SIZE {
            return Err(Error::over_limit(
                src.name(),
                None,
                src.len(),
                MAX_MANIFEST_SIZE,
                format!("manifest is {} bytes; the limit is {MAX_MANIFEST_SIZE}", src.len()),
            ));
        }
        let data = read_vec(src, 0, src.len())?;
        Self::parse(src.name(), &data)
    }

    /// Parse manifest text. Malformed lines are errors (file, offset of the line, what is
    /// wrong); lines of an algorithm we do not know are skipped with a warning.
    pub fn parse(name: &str, data: &[u8]) -> Result<Manifest> {
        let mut m = Manifest { name: name.to_string(), entries: Vec::new(), warnings: Vec::new() };
        let mut seen = std::collections::HashSet::new();
        let mut off = 0u64;
        for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
            let line_off = off;
            off += raw.len() as u64 + 1;
            let text = std::str::from_utf8(raw)
                .map_err(|e| Error::corrupt(name, line_off + e.valid_up_to() as u64, "manifest line is not UTF-8"))?;
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                Error::corrupt(name, line_off, format!("manifest line {}: {why}: '{}'", i + 1, text.escape_debug()))
            };
            let open = text.find('(').ok_or_else(|| bad("expected ALG(file)= digest"))?;
            let eq = text.rfind('=').ok_or_else(|| bad("expected ALG(file)= digest"))?;
            let inner = text[..eq].trim_end();
            if eq < open || !inner.ends_with(')') {
                return Err(bad("expected ALG(file)= digest"));
            }
            let alg_name = text[..open].trim();
            let file = &inner[open + 1..inner.len() - 1];
            let hexd = text[eq + 1..].trim();
            if file.is_empty() {
                return Err(bad("empty file name"));
            }
            let Some(algorithm) = Algorithm::from_name(alg_name) else {
                m.warnings.push(
                    Notice::new(
                        WarnCode::AlgorithmNotSupported,
                        name,
                        format!(
                            "line {}: digest algorithm '{}' is not supported; '{file}' is not checked",
                            i + 1,
                            alg_name.escape_debug()
                        ),
                    )
                    .with_args(Args {
                        algorithm: Some(alg_name.escape_debug().to_string()),
                        line: Some(i as u64 + 1),
                        name: Some(file.to_string()),
                        ..Args::default()
                    }),
                );
                continue;
            };
            let digest = hex::decode(hexd).map_err(|_| bad("digest is not hexadecimal"))?;
            if digest.len() != algorithm.digest_len() {
                return Err(bad(&format!(
                    "{} digest must be {} hex digits",
                    algorithm.name(),
                    2 * algorithm.digest_len()
                )));
            }
            if !seen.insert(file.to_string()) {
                return Err(bad(&format!("'{file}' is listed twice")));
            }
            m.entries.push(Entry { algorithm, name: file.to_string(), digest, line: i + 1 });
        }
        Ok(m)
    }

    /// The entry for `file` (exact name, then by base name).
    pub fn find(&self, file: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name == file)
            .or_else(|| self.entries.iter().find(|e| base_name(&e.name) == base_name(file)))
    }

    /// Check bytes already in memory (the OVF descriptor) against `entry`.
    pub fn check_bytes(&self, file: &str, entry: &Entry, data: &[u8]) -> Result<()> {
        compare(file, &self.name, entry, &digest(entry.algorithm, data))
    }
}

fn compare(file: &str, manifest: &str, entry: &Entry, got: &[u8]) -> Result<()> {
    if got == entry.digest.as_slice() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Checksum,
        file,
        None,
        format!(
            "{} digest {} does not match {} listed for '{}' in manifest {manifest} (line {})",
            entry.algorithm.name(),
            hex::encode(got),
            hex::encode(&entry.digest),
            entry.name,
            entry.line
        ),
    )
    .with_args(Args { name: Some(manifest.to_string()), ..Args::default() }))
}

/// Hash progress of one file.
struct HashState {
    /// `None` once finalized.
    hasher: Option<Hasher>,
    /// Bytes `[0, watermark)` are in the hash.
    watermark: u64,
    /// The finished digest.
    result: Option<Vec<u8>>,
}

/// The running hash of a file's prefix `[0, watermark)`, extended front to back from bytes in
/// hand and, for the gaps between them, from the file itself.
pub struct Prefix {
    inner: SourceRef,
    state: RefCell<HashState>,
}

impl Prefix {
    pub fn new(inner: SourceRef, algorithm: Algorithm) -> Self {
        let state = HashState { hasher: Some(Hasher::new(algorithm)), watermark: 0, result: None };
        Prefix { inner, state: RefCell::new(state) }
    }

    /// Extend the hash over `bytes`, read at `offset`: what lies between the hash's end and
    /// `offset` is read from the file first; bytes hashed already are skipped.
    pub fn offer(&self, offset: u64, bytes: &[u8]) -> Result<()> {
        let end = offset.saturating_add(bytes.len() as u64).min(self.inner.len());
        let mut st = self.state.borrow_mut();
        if end > st.watermark {
            self.advance(&mut st, end, Some((offset, bytes)))?;
        }
        Ok(())
    }

    /// The digest of the whole file (reading what was never offered).
    pub fn digest(&self) -> Result<Vec<u8>> {
        let mut st = self.state.borrow_mut();
        self.advance(&mut st, self.inner.len(), None)?;
        if st.result.is_none() {
            // Zero-length file: nothing was ever hashed.
            if let Some(h) = st.hasher.take() {
                st.result = Some(h.finish());
            }
        }
        Ok(st.result.clone().unwrap_or_default())
    }

    /// Hash `[watermark, end)` into the running hash, reading from `inner` except for the
    /// part `[buf_off, buf_off + buf.len())` already in hand.
    fn advance(&self, st: &mut HashState, end: u64, have: Option<(u64, &[u8])>) -> Result<()> {
        let mut scratch = Vec::new();
        while st.watermark < end {
            let Some(h) = st.hasher.as_mut() else { return Ok(()) };
            match have {
                Some((o, b)) if st.watermark >= o && st.watermark < o + b.len() as u64 => {
                    let s = (st.watermark - o) as usize;
                    let e = ((end - o) as usize).min(b.len());
                    h.update(&b[s..e]);
                    st.watermark = o + e as u64;
                }
                _ => {
                    let lim = have.map_or(end, |(o, _)| if o > st.watermark { o.min(end) } else { end });
                    let n = (lim - st.watermark).min(HASH_CHUNK as u64) as usize;
                    scratch.resize(n, 0);
                    self.inner.read_exact_at(st.watermark, &mut scratch)?;
                    h.update(&scratch);
                    st.watermark += n as u64;
                }
            }
        }
        if st.watermark >= self.inner.len() {
            if let Some(h) = st.hasher.take() {
                st.result = Some(h.finish());
            }
        }
        Ok(())
    }
}

/// A source that hashes the bytes read through it, front to back, for its manifest entry.
pub struct HashingSource {
    prefix: Prefix,
    entry: Entry,
    /// Hashed elsewhere ([`DiskCheck::hash_elsewhere`]): the digest comes from
    /// [`DiskCheck::provide`], reads hash nothing here.
    elsewhere: Cell<bool>,
    /// The digest provided, when hashed elsewhere.
    provided: RefCell<Option<Vec<u8>>>,
}

impl HashingSource {
    fn inner(&self) -> &SourceRef {
        &self.prefix.inner
    }

    /// Hash what was not read yet (or take the digest provided) and compare.
    fn finish(&self, manifest: &str) -> Result<()> {
        let got = if self.elsewhere.get() {
            self.provided.borrow().clone().ok_or_else(|| {
                Error::invalid(format!("the digest of {} was to be computed elsewhere and was not", self.name()))
            })?
        } else {
            self.prefix.digest()?
        };
        compare(self.name(), manifest, &self.entry, &got)
    }
}

impl Source for HashingSource {
    fn name(&self) -> &str {
        self.inner().name()
    }
    fn len(&self) -> u64 {
        self.inner().len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.inner().read_exact_at(offset, buf)?;
        if self.elsewhere.get() {
            return Ok(());
        }
        let p = &self.prefix;
        let mut st = p.state.borrow_mut();
        let end = offset + buf.len() as u64;
        if st.hasher.is_some() && end > st.watermark && offset <= st.watermark.saturating_add(GAP_LIMIT) {
            p.advance(&mut st, end, Some((offset, buf)))?;
        }
        Ok(())
    }
}

/// A file of a disk's manifest check that a shell may hash elsewhere: the byte range
/// `[offset, offset + len)` of `root`, the outermost source it lies in (the `.ova` of a member).
pub struct Elsewhere {
    /// For [`DiskCheck::hash_elsewhere`] and [`DiskCheck::provide`].
    pub id: usize,
    /// The file's name (a member's name inside its OVA).
    pub name: String,
    pub algorithm: Algorithm,
    pub root: SourceRef,
    pub offset: u64,
    pub len: u64,
}

/// The manifest check of one package while it is opened: the files wrapped for hashing, and
/// those checked already. Once its disks are open, [`disk_checks`](Self::disk_checks) hands out
/// each disk's share, which travels with the disk to its conversion.
pub struct Verifier {
    manifest: String,
    tracked: Vec<Arc<HashingSource>>,
    /// For each tracked file, the disks (indices into `Opened::disks`) that read it.
    users: Vec<Vec<usize>>,
    checked: Vec<String>,
}

impl Verifier {
    pub fn new(manifest: &Manifest) -> Self {
        Verifier { manifest: manifest.name.clone(), tracked: Vec::new(), users: Vec::new(), checked: Vec::new() }
    }

    /// Record that disk `disk` reads the tracked file `wrapped` (a source [`wrap`](Self::wrap)
    /// returned); other sources are ignored.
    pub fn note_use(&mut self, wrapped: &SourceRef, disk: usize) {
        let at = Arc::as_ptr(wrapped) as *const u8;
        if let Some(i) = self.tracked.iter().position(|h| Arc::as_ptr(h) as *const u8 == at) {
            if !self.users[i].contains(&disk) {
                self.users[i].push(disk);
            }
        }
    }

    /// The manifest's name.
    pub fn manifest_name(&self) -> &str {
        &self.manifest
    }

    /// Wrap `src` so reading it hashes it for `entry`; read the returned source instead.
    pub fn wrap(&mut self, src: SourceRef, entry: &Entry) -> SourceRef {
        // Sources are single-threaded by design (see `Source`): the hash state is a RefCell.
        #[allow(clippy::arc_with_non_send_sync)]
        let h = Arc::new(HashingSource {
            prefix: Prefix::new(src, entry.algorithm),
            entry: entry.clone(),
            elsewhere: Cell::new(false),
            provided: RefCell::new(None),
        });
        self.tracked.push(h.clone());
        self.users.push(Vec::new());
        h
    }

    /// Record a file verified already (the OVF descriptor).
    pub fn add_checked(&mut self, name: &str) {
        self.checked.push(name.to_string());
    }

    /// The checks of disks `0..disks`, in order.
    pub fn disk_checks(self, disks: usize) -> Vec<DiskCheck> {
        let verifier = Rc::new(self);
        (0..disks).map(|disk| DiskCheck { verifier: verifier.clone(), disk }).collect()
    }
}

/// One disk's share of its package's manifest check: the files that disk reads (and the
/// descriptor, checked when the package was opened). The other disks' files are checked when
/// those disks are converted, so converting each disk of a package reads every file once.
#[derive(Clone)]
pub struct DiskCheck {
    verifier: Rc<Verifier>,
    /// Index of the disk in `Opened::disks`.
    disk: usize,
}

impl DiskCheck {
    /// Hash whatever of this disk's files was not read yet and compare every digest. Returns
    /// the names verified; the first mismatch is an error of kind `Checksum` naming the file
    /// and the manifest.
    pub fn finish(&self) -> Result<Vec<String>> {
        let mut names = self.verifier.checked.clone();
        for (_, h) in self.files() {
            h.finish(&self.verifier.manifest)?;
            names.push(h.name().to_string());
        }
        Ok(names)
    }

    /// The files this disk reads that are checked, numbered for [`hash_elsewhere`](Self::hash_elsewhere).
    fn files(&self) -> impl Iterator<Item = (usize, &Arc<HashingSource>)> {
        let v = &self.verifier;
        v.tracked.iter().enumerate().filter(move |(i, _)| v.users[*i].contains(&self.disk))
    }

    /// The files this disk reads that are checked and worth hashing elsewhere, and where their
    /// bytes are: those with less than half of them hashed here already (a hash elsewhere starts
    /// again from the first byte; planning a monolithicSparse disk reads, and so hashes, nearly
    /// all of it).
    pub fn elsewhere(&self) -> Vec<Elsewhere> {
        self.files()
            .filter(|(_, h)| {
                let st = h.prefix.state.borrow();
                st.result.is_none() && st.watermark < h.len() / 2
            })
            .map(|(id, h)| {
                let (mut root, mut offset) = (h.inner().clone(), 0);
                while let Some((outer, at)) = root.within() {
                    (root, offset) = (outer, offset + at);
                }
                Elsewhere { id, name: h.name().to_string(), algorithm: h.entry.algorithm, root, offset, len: h.len() }
            })
            .collect()
    }

    /// From now on file `id` (of [`elsewhere`](Self::elsewhere)) is hashed by the caller, who
    /// must [`provide`](Self::provide) its digest before the output's last bytes.
    pub fn hash_elsewhere(&self, id: usize) {
        if let Some((_, h)) = self.files().find(|(i, _)| *i == id) {
            h.elsewhere.set(true);
        }
    }

    /// The digest of file `id`, hashed elsewhere (compared with the manifest's at the end).
    pub fn provide(&self, id: usize, digest: Vec<u8>) {
        if let Some((_, h)) = self.files().find(|(i, _)| *i == id) {
            *h.provided.borrow_mut() = Some(digest);
        }
    }

    /// Whether a file hashed elsewhere still lacks its digest.
    pub fn awaiting(&self) -> bool {
        self.files().any(|(_, h)| h.elsewhere.get() && h.provided.borrow().is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn parses_spacing_crlf_and_algorithms() {
        let text = "SHA256(vm.ovf)= 0000000000000000000000000000000000000000000000000000000000000001\r\n\
                    sha1 (disk 1 (a).vmdk) =AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\
                    \r\n\
                    SHA512(x)= {}\n\
                    MD5(y)= 00\n";
        let text = text.replace("{}", &"ab".repeat(64));
        let m = Manifest::parse("vm.mf", text.as_bytes()).unwrap();
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.entries[0].algorithm, Algorithm::Sha256);
        assert_eq!(m.entries[1].name, "disk 1 (a).vmdk");
        assert_eq!(m.entries[1].algorithm, Algorithm::Sha1);
        assert_eq!(m.entries[1].digest, vec![0xaa; 20]);
        assert_eq!(m.entries[2].algorithm, Algorithm::Sha512);
        assert_eq!(m.warnings.len(), 1);
        let e = Manifest::parse("vm.mf", b"SHA256(a)= 00\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt);
        let e = Manifest::parse("vm.mf", b"SHA1(a)= 0000000000000000000000000000000000000000\ngarbage\n").unwrap_err();
        assert_eq!(e.offset, Some(50), "{e}");
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// Counts the bytes read from it.
    struct Counting(SourceRef, std::cell::Cell<u64>);
    impl Source for Counting {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_exact_at(&self, o: u64, b: &mut [u8]) -> Result<()> {
            self.1.set(self.1.get() + b.len() as u64);
            self.0.read_exact_at(o, b)
        }
    }

    fn verify_with(pattern: &[(u64, usize)], n: usize, corrupt: bool) -> Result<Vec<String>> {
        verify_counting(pattern, n, corrupt).0
    }

    /// Read `pattern` through the wrapper, finish; returns the result and the bytes read from
    /// the underlying file.
    fn verify_counting(pattern: &[(u64, usize)], n: usize, corrupt: bool) -> (Result<Vec<String>>, u64) {
        let d = data(n);
        let mut listed = digest(Algorithm::Sha256, &d);
        if corrupt {
            listed[0] ^= 1;
        }
        let m = Manifest::parse("p.mf", format!("SHA256(d.vmdk)= {}\n", hex::encode(&listed)).as_bytes()).unwrap();
        let mut v = Verifier::new(&m);
        #[allow(clippy::arc_with_non_send_sync)]
        let counting = Arc::new(Counting(MemSource::new("d.vmdk", d.clone()), std::cell::Cell::new(0)));
        let src = v.wrap(counting.clone(), m.find("d.vmdk").unwrap());
        v.note_use(&src, 0);
        for &(o, l) in pattern {
            let mut b = vec![0u8; l];
            src.read_exact_at(o, &mut b).unwrap();
            assert_eq!(b, &d[o as usize..o as usize + l]);
        }
        let r = v.disk_checks(1)[0].finish();
        (r, counting.1.get())
    }

    #[test]
    fn stream_optimized_pattern_hashes_in_one_pass() {
        let n = 5 << 20;
        // Footer at the end, header, then front to back with small gaps and a repeat.
        let pat = [
            ((n - 1024) as u64, 1024),
            (0, 512),
            (512, 65536),
            (70000, 4096),
            (1000, 10),
            (80000, 4_000_000),
            (4_100_000, 100_000),
        ];
        let (r, read) = verify_counting(&pat, n, false);
        assert_eq!(r.unwrap(), vec!["d.vmdk".to_string()]);
        // The reads themselves plus the small gaps the wrapper filled and, in finish, the rest
        // after the last read (which holds the footer read first): no second pass.
        let asked: u64 = pat.iter().map(|p| p.1 as u64).sum();
        let gaps = (70000 - 66048) + (80000 - 74096) + (4_100_000 - 4_080_000) + (n as u64 - 4_200_000);
        assert_eq!(read, asked + gaps);
        let e = verify_with(&pat, n, true).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Checksum);
        assert!(e.message.contains("p.mf") && e.file == "d.vmdk", "{e}");
        // Nothing read at all, and only far reads: finish reads it all.
        verify_with(&[], n, false).unwrap();
        verify_with(&[(3 << 20, 10)], n, false).unwrap();
        // Empty file.
        verify_with(&[], 0, false).unwrap();
    }

    #[test]
    fn a_member_hashed_elsewhere_is_located_in_its_archive_and_its_digest_compared_here() {
        let member = data(3 << 20);
        let mut ova = vec![7u8; 1536];
        ova.extend_from_slice(&member);
        ova.extend_from_slice(&[0u8; 1024]);
        let archive = MemSource::new("vm.ova", ova.clone());
        let src = crate::source::SliceSource::new("disk.vmdk", archive.clone(), 1536, member.len() as u64).unwrap();
        let listed = digest(Algorithm::Sha256, &member);
        let m = Manifest::parse("vm.mf", format!("SHA256(disk.vmdk)= {}\n", hex::encode(&listed)).as_bytes()).unwrap();
        let check = |provided: Option<Vec<u8>>| {
            let mut v = Verifier::new(&m);
            let wrapped = v.wrap(src.clone(), m.find("disk.vmdk").unwrap());
            v.note_use(&wrapped, 0);
            let c = v.disk_checks(1).remove(0);
            let files = c.elsewhere();
            assert_eq!(files.len(), 1);
            let f = &files[0];
            assert_eq!(
                (f.name.as_str(), f.algorithm, f.offset, f.len),
                ("disk.vmdk", Algorithm::Sha256, 1536, 3 << 20)
            );
            assert_eq!(
                Arc::as_ptr(&f.root) as *const u8,
                Arc::as_ptr(&archive) as *const u8,
                "the archive, not the member"
            );
            assert!(!c.awaiting());
            c.hash_elsewhere(f.id);
            // Reads hash nothing now; the digest is awaited.
            let mut b = vec![0u8; 1 << 20];
            wrapped.read_exact_at(0, &mut b).unwrap();
            assert!(c.awaiting());
            if let Some(d) = provided {
                c.provide(f.id, d);
                assert!(!c.awaiting());
            }
            c.finish()
        };
        assert_eq!(check(Some(listed.clone())).unwrap(), vec!["disk.vmdk"]);
        let mut wrong = listed.clone();
        wrong[5] ^= 1;
        let e = check(Some(wrong)).unwrap_err();
        assert_eq!((e.kind, e.file.as_str()), (ErrorKind::Checksum, "disk.vmdk"));
        assert!(e.message.contains("vm.mf"), "{e}");
        let e = check(None).unwrap_err();
        assert!(e.message.contains("computed elsewhere"), "{e}");

        // More than half hashed here already (a monolithicSparse disk's planning reads it):
        // finished here, not offered to hash elsewhere.
        let mut v = Verifier::new(&m);
        let wrapped = v.wrap(src.clone(), m.find("disk.vmdk").unwrap());
        v.note_use(&wrapped, 0);
        let c = v.disk_checks(1).remove(0);
        let mut b = vec![0u8; 2 << 20];
        wrapped.read_exact_at(0, &mut b).unwrap();
        assert!(c.elsewhere().is_empty());
        assert_eq!(c.finish().unwrap(), vec!["disk.vmdk"]);

        // The other side: a prefix hash fed blocks of the archive out of order, with gaps and
        // overlaps, reads what it misses from the member and gets the same digest.
        #[allow(clippy::arc_with_non_send_sync)]
        let counting = Arc::new(Counting(src.clone(), std::cell::Cell::new(0)));
        let p = Prefix::new(counting.clone(), Algorithm::Sha256);
        for (o, l) in [(0u64, 1000usize), (500, 1000), (1 << 20, 1 << 20), (100, 50), (3 << 20, 0)] {
            p.offer(o, &member[o as usize..o as usize + l]).unwrap();
        }
        assert_eq!(p.digest().unwrap(), listed);
        assert_eq!(counting.1.get(), (1 << 20) - 1500 + (1 << 20), "only the gaps were read");
    }
}
