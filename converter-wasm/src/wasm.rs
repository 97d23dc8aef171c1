//! The browser shell: thin wasm-bindgen bindings over the core, no format logic.
//!
//! - [`BlobSource`]: a [`Source`] over a `Blob`/`File`, read in slices with `FileReaderSync`
//!   (dedicated workers only), never whole. Sequential reads (the converter walking a stream-
//!   optimized VMDK) are served from aligned blocks of [`READ_AHEAD`] bytes; scattered
//!   metadata reads go straight to the blob.
//! - [`inspect`]: works out which of the given files are top-level inputs, what each holds and
//!   which referenced files are missing, as a plain JS value.
//! - [`Converter`]: the core's pull-style assembler for one disk (`next_job` / `push` / `emit`,
//!   and their batched forms `next_batch` / `push_batch`), driven by
//!   `web/src/converter-worker.js`; [`decode_job`] / [`decode_batch`] are the pure decode step
//!   the pool of decode workers runs (`web/src/decode-worker.js`).
//!
//! Memory: this side holds the plan (one bit per output cluster), at most [`CACHED_BLOCKS`]
//! blocks of [`READ_AHEAD`] bytes per source, an output buffer of [`OUT_BUF`] bytes, and
//! whatever jobs the JavaScript driver keeps in flight (it bounds them; see
//! web/src/converter-worker.js). Every buffer `FileReaderSync` returns is freed as soon as it
//! is copied (see `BlobSource::release`), so long synchronous reads leave no garbage behind.
//!
//! Errors cross to JavaScript as plain objects `{kind, file, offset, message}` (the core's
//! [`Error`]), never as exceptions with only a string.

use crate::convert::{self, Emit};
use crate::decode::{self, Decoded, JobSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::image::DiskInfo;
use crate::input;
use crate::plan::{self, Options};
use crate::source::{base_name, check_range, FileSet, Source, SourceRef};
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, FileReaderSync};

/// Sequential reads are served from aligned blocks of this size, read whole (one blob read per
/// block instead of one per 64 KiB grain and 12-byte marker). At most [`CACHED_BLOCKS`] are
/// kept per source.
pub const READ_AHEAD: usize = 4 << 20;

/// Blocks kept per source (a read can straddle two).
pub const CACHED_BLOCKS: usize = 2;

/// Largest gap after the previous read that still counts as sequential (stream-optimized
/// VMDKs interleave small markers and grain tables with the grains).
const SEQUENTIAL_GAP: u64 = 256 << 10;

/// Output is handed to the JavaScript sink in chunks of up to this many bytes (and held here
/// until that much is ready, or the conversion is done).
pub const OUT_BUF: usize = 4 << 20;

/// All-zero output pieces at least this long are skipped (left as holes) instead of written:
/// the sink sets the final length, so they read back as zeros.
const HOLE_MIN: usize = 4096;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// A [`Source`] over a browser `Blob` (a `File` the user picked or dropped).
///
/// Scattered reads (headers, grain tables) go straight to the blob with `FileReaderSync`;
/// sequential reads go through [`READ_AHEAD`]-byte aligned blocks. (Asynchronous read-ahead
/// with `Blob.arrayBuffer()` was tried: the browser reads no faster that way, and a block still
/// pending when needed had to be read twice.)
pub struct BlobSource {
    name: String,
    blob: Blob,
    len: u64,
    reader: FileReaderSync,
    /// Cached blocks `(block index, bytes)`, most recent last.
    blocks: RefCell<Vec<(u64, Vec<u8>)>>,
    /// End of the previous read, to recognise sequential access.
    last_end: Cell<u64>,
    /// A port whose other end is closed: what is posted to it is dropped (see `release`).
    drop_port: web_sys::MessagePort,
}

impl BlobSource {
    /// Wrap `blob` under `name` (the name errors and references use). Needs `FileReaderSync`,
    /// that is, a dedicated worker.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, blob: Blob) -> Result<SourceRef> {
        let name = name.into();
        let reader = FileReaderSync::new().map_err(|e| Error::io(&name, None, js_text(&e)))?;
        let size = blob.size();
        if !(0.0..=9_007_199_254_740_991.0).contains(&size) {
            return Err(Error::io(&name, None, format!("unusable blob size {size}")));
        }
        let len = size as u64;
        // Sources are single-threaded by design (see `Source`); wasm has one thread anyway.
        let channel = web_sys::MessageChannel::new().map_err(|e| Error::io(&name, None, js_text(&e)))?;
        channel.port2().close();
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Arc::new(BlobSource {
            name,
            blob,
            len,
            reader,
            blocks: RefCell::new(Vec::new()),
            last_end: Cell::new(u64::MAX),
            drop_port: channel.port1(),
        }))
    }

    /// Read `[offset, offset + buf.len())` straight from the blob.
    fn read_blob(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset + buf.len() as u64;
        let slice = self
            .blob
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|e| Error::io(&self.name, Some(offset), js_text(&e)))?;
        let ab =
            self.reader.read_as_array_buffer(&slice).map_err(|e| Error::io(&self.name, Some(offset), js_text(&e)))?;
        let r = Self::copy_exact(&self.name, offset, &ab, buf);
        self.release(&ab);
        r
    }

    /// Free a read buffer now rather than at some later garbage collection: transfer it into
    /// a message to a closed port, which drops it. Planning reads every data cluster of a disk
    /// in one synchronous call, during which the worker never yields and V8 collects little:
    /// without this, planning a disk with 4 GiB of data left 1.5 GiB of dead read buffers
    /// (measured). (`ArrayBuffer.prototype.transfer(0)` does not free the memory.)
    fn release(&self, ab: &js_sys::ArrayBuffer) {
        let _ = self.drop_port.post_message_with_transferable(ab, &Array::of1(ab));
    }

    fn copy_exact(name: &str, offset: u64, ab: &js_sys::ArrayBuffer, buf: &mut [u8]) -> Result<()> {
        let arr = Uint8Array::new(ab);
        if arr.length() as usize != buf.len() {
            return Err(Error::truncated(
                name,
                offset,
                format!(
                    "read {} bytes where {} were expected (was the file changed or moved?)",
                    arr.length(),
                    buf.len()
                ),
            ));
        }
        arr.copy_to(buf);
        Ok(())
    }

    /// Bytes of block `b` (index into `blocks`), loading it when needed.
    fn block(&self, blocks: &mut Vec<(u64, Vec<u8>)>, b: u64) -> Result<usize> {
        if let Some(i) = blocks.iter().position(|(k, _)| *k == b) {
            return Ok(i);
        }
        let start = b * READ_AHEAD as u64;
        let n = (self.len - start).min(READ_AHEAD as u64) as usize;
        let mut data = if blocks.len() >= CACHED_BLOCKS { blocks.remove(0).1 } else { Vec::new() };
        data.resize(n, 0);
        self.read_blob(start, &mut data)?;
        blocks.push((b, data));
        Ok(blocks.len() - 1)
    }
}

impl Source for BlobSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_range(self, offset, buf.len() as u64)?;
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset + buf.len() as u64;
        let prev_end = self.last_end.replace(end);
        let w = READ_AHEAD as u64;
        let (b0, b1) = (offset / w, (end - 1) / w);
        let mut blocks = self.blocks.borrow_mut();
        let cached = |b: u64| blocks.iter().any(|(k, _)| *k == b);
        let sequential = offset >= prev_end && offset - prev_end <= SEQUENTIAL_GAP;
        if b1 > b0 + 1 || !(sequential || cached(b0) && cached(b1)) {
            // Large or scattered: straight from the blob.
            return self.read_blob(offset, buf);
        }
        let mut at = 0usize;
        for b in b0..=b1 {
            let i = self.block(&mut blocks, b)?;
            let (_, data) = &blocks[i];
            let from = (offset + at as u64).saturating_sub(b * w) as usize;
            let n = (buf.len() - at).min(data.len() - from);
            buf[at..at + n].copy_from_slice(&data[from..from + n]);
            at += n;
        }
        debug_assert_eq!(at, buf.len());
        Ok(())
    }
}

/// The user's files: names as given (a folder's files by their relative path). A referenced
/// name resolves beside the referring file first (as VMware resolves extents), then by exact
/// name, then by base name, so two VMs dropped together with the same file names stay apart.
pub struct BrowserFiles {
    pub files: Vec<SourceRef>,
}

impl BrowserFiles {
    fn index_of(&self, referrer: &str, name: &str) -> Option<usize> {
        let name = name.replace('\\', "/");
        let dir = match referrer.rfind('/') {
            Some(i) => &referrer[..=i],
            None => "",
        };
        let beside = format!("{dir}{name}");
        let by = |want: &str| self.files.iter().position(|f| f.name() == want);
        by(&beside).or_else(|| by(&name)).or_else(|| {
            let base = base_name(&name);
            let same_dir = self.files.iter().position(|f| base_name(f.name()) == base && f.name().starts_with(dir));
            same_dir.or_else(|| self.files.iter().position(|f| base_name(f.name()) == base))
        })
    }
}

impl FileSet for BrowserFiles {
    fn open(&self, referrer: &str, name: &str) -> Result<Option<SourceRef>> {
        Ok(self.index_of(referrer, name).map(|i| self.files[i].clone()))
    }
}

/// Records which of the given files the core looked up (extents, parents, OVF references,
/// the manifest beside an OVF), so the page can show which files belong to which input.
struct Recording<'a> {
    files: &'a BrowserFiles,
    used: RefCell<Vec<usize>>,
}

impl FileSet for Recording<'_> {
    fn open(&self, referrer: &str, name: &str) -> Result<Option<SourceRef>> {
        let i = self.files.index_of(referrer, name);
        if let Some(i) = i {
            let mut used = self.used.borrow_mut();
            if !used.contains(&i) {
                used.push(i);
            }
        }
        Ok(i.map(|i| self.files.files[i].clone()))
    }
}

/// Turn the JS file list into sources. Each element is a `File` (named by its
/// `webkitRelativePath` when it has one, else its name) or `{name, blob}`.
fn sources(files: &Array) -> std::result::Result<Vec<SourceRef>, JsValue> {
    let mut out = Vec::with_capacity(files.length() as usize);
    for v in files.iter() {
        let (name, blob) = if let Some(f) = v.dyn_ref::<web_sys::File>() {
            let rel =
                Reflect::get(f, &"webkitRelativePath".into()).ok().and_then(|r| r.as_string()).unwrap_or_default();
            (if rel.is_empty() { f.name() } else { rel }, f.clone().unchecked_into::<Blob>())
        } else {
            let name = Reflect::get(&v, &"name".into())?
                .as_string()
                .ok_or_else(|| js_err(Error::invalid("file entry without a name")))?;
            let blob = Reflect::get(&v, &"blob".into())?
                .dyn_into::<Blob>()
                .map_err(|_| js_err(Error::invalid(format!("{name}: not a Blob"))))?;
            (name, blob)
        };
        out.push(BlobSource::new(name, blob).map_err(js_err)?);
    }
    Ok(out)
}

/// serde → JS with plain objects for maps and `null` for `None`.
fn to_js<T: Serialize + ?Sized>(v: &T) -> std::result::Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_err(Error::invalid(e.to_string())))
}

/// A core error as a JS object `{kind, file, offset, message}`.
pub fn js_err(e: Error) -> JsValue {
    to_js(&e).unwrap_or_else(|_| JsValue::from_str(&e.to_string()))
}

fn js_text(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    format!("{v:?}")
}

/// A JS error object (from a decode worker) back into a core error.
fn error_from_js(v: &JsValue) -> Error {
    let get = |k: &str| Reflect::get(v, &k.into()).ok();
    let kind = match get("kind").and_then(|k| k.as_string()).as_deref() {
        Some("io") => ErrorKind::Io,
        Some("truncated") => ErrorKind::Truncated,
        Some("corrupt") => ErrorKind::Corrupt,
        Some("unsupported") => ErrorKind::Unsupported,
        Some("missing_file") => ErrorKind::MissingFile,
        Some("unsafe_name") => ErrorKind::UnsafeName,
        Some("too_large") => ErrorKind::TooLarge,
        Some("checksum") => ErrorKind::Checksum,
        Some("cancelled") => ErrorKind::Cancelled,
        _ => ErrorKind::InvalidArgument,
    };
    let file = get("file").and_then(|f| f.as_string()).unwrap_or_default();
    let offset = get("offset").and_then(|o| o.as_f64()).filter(|o| *o >= 0.0).map(|o| o as u64);
    let message = get("message").and_then(|m| m.as_string()).unwrap_or_else(|| js_text(v));
    Error::new(kind, &file, offset, message)
}

#[derive(Serialize)]
struct InputOut {
    /// Index of the top-level file in the given list.
    top: usize,
    name: String,
    /// Indexes of the given files this input uses (itself included).
    uses: Vec<usize>,
    inspection: Option<input::Inspection>,
    error: Option<Error>,
}

#[derive(Serialize)]
struct InspectOut {
    inputs: Vec<InputOut>,
    /// Indexes of given files that no input uses.
    unused: Vec<usize>,
}

/// Inspect the given files: `{inputs: [{top, name, uses, inspection | error}], unused}`.
/// A bad file gives an `error` entry for its input, not a failure of the whole call.
#[wasm_bindgen]
pub fn inspect(files: Array) -> std::result::Result<JsValue, JsValue> {
    let srcs = sources(&files)?;
    let set = BrowserFiles { files: srcs.clone() };
    let tops = input::top_level(&srcs, &set).map_err(js_err)?;
    let mut used = vec![false; srcs.len()];
    let mut inputs = Vec::new();
    for t in tops {
        let src = srcs[t].clone();
        let rec = Recording { files: &set, used: RefCell::new(vec![t]) };
        let (inspection, error) = match input::inspect(src.clone(), &rec) {
            Ok(ins) => (Some(ins), None),
            Err(e) => (None, Some(e)),
        };
        let uses = rec.used.into_inner();
        for &i in &uses {
            used[i] = true;
        }
        inputs.push(InputOut { top: t, name: src.name().to_string(), uses, inspection, error });
    }
    let unused = (0..srcs.len()).filter(|&i| !used[i]).collect();
    to_js(&InspectOut { inputs, unused })
}

/// Conversion options from JS: any subset of [`Options`]' fields, the rest default.
fn options_from_js(v: &JsValue) -> Result<Options> {
    let mut base = serde_json::to_value(Options::default()).map_err(|e| Error::invalid(e.to_string()))?;
    if !v.is_undefined() && !v.is_null() {
        let given: serde_json::Value =
            serde_wasm_bindgen::from_value(v.clone()).map_err(|e| Error::invalid(format!("options: {e}")))?;
        let (Some(b), Some(g)) = (base.as_object_mut(), given.as_object()) else {
            return Err(Error::invalid("options must be an object"));
        };
        for (k, val) in g {
            if !b.contains_key(k) {
                return Err(Error::invalid(format!("unknown option '{k}'")));
            }
            b.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(base).map_err(|e| Error::invalid(format!("options: {e}")))
}

/// One disk's conversion, driven from JavaScript.
#[wasm_bindgen]
pub struct Converter {
    inner: convert::Converter,
    info: DiskInfo,
    /// Output bytes not yet handed to the sink, and the output offset they start at.
    out: Vec<u8>,
    out_at: u64,
}

impl Converter {
    /// Wrap a core converter for an already opened and planned disk (tests, other shells).
    pub fn from_core(inner: convert::Converter, info: DiskInfo) -> Self {
        Converter { inner, info, out: Vec::new(), out_at: 0 }
    }

    /// Flush buffered output to the sink.
    fn flush(out: &mut Vec<u8>, out_at: &mut u64, sink: &Function) -> Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        // SAFETY: the view is only used during the synchronous call; no allocation happens
        // in between that could move wasm memory.
        let view = unsafe { Uint8Array::view(out) };
        sink.call2(&JsValue::NULL, &view, &JsValue::from_f64(*out_at as f64))
            .map_err(|e| Error::io("output", Some(*out_at), js_text(&e)))?;
        *out_at += out.len() as u64;
        out.clear();
        Ok(())
    }
}

#[wasm_bindgen]
impl Converter {
    /// Open input `top` (an index into `files`, as [`inspect`] gave it), pick its disk number
    /// `disk` (0-based) and plan the output with `options` (`{format: "qcow2" |
    /// "qcow2-compressed" | "raw", cluster_size, ...}`, any subset).
    #[wasm_bindgen(constructor)]
    pub fn new(files: Array, top: usize, disk: usize, options: JsValue) -> std::result::Result<Converter, JsValue> {
        let srcs = sources(&files)?;
        let src = srcs.get(top).cloned().ok_or_else(|| js_err(Error::invalid(format!("no file number {top}"))))?;
        let options = options_from_js(&options).map_err(js_err)?;
        let set = BrowserFiles { files: srcs };
        let opened = input::open(src, &set).map_err(js_err)?;
        let n = opened.disks.len();
        let d = opened
            .disks
            .into_iter()
            .nth(disk)
            .ok_or_else(|| js_err(Error::invalid(format!("disk {} asked for, the input has {n}", disk + 1))))?;
        let plan = plan::plan(&d, &options, &|| false).map_err(js_err)?;
        let info = d.info.clone();
        Ok(Converter::from_core(convert::Converter::new(d, plan), info))
    }

    /// Leave the SHA-512 of the output to the caller (the page's writer worker hashes what it
    /// writes, off this thread); `report().sha512` is then empty. Call before the first emit.
    pub fn hash_output_externally(&mut self) {
        self.inner.hash_output_externally();
    }

    /// The disk being converted (`DiskInfo`).
    pub fn info(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.info)
    }

    /// The next job as `{spec, input}` (`spec` the core's `JobSpec` as JSON text, `input` a
    /// `Uint8Array` to transfer to a decode worker), or `undefined` when none is available in
    /// this pass.
    pub fn next_job(&mut self) -> std::result::Result<JsValue, JsValue> {
        match self.inner.next_job().map_err(js_err)? {
            None => Ok(JsValue::UNDEFINED),
            Some((spec, input)) => {
                let o = Object::new();
                // JSON text: one string crosses into JS instead of an object built field by
                // field, which is several times cheaper per job.
                let text = serde_json::to_string(&spec).map_err(|e| js_err(Error::invalid(e.to_string())))?;
                Reflect::set(&o, &"spec".into(), &JsValue::from_str(&text))?;
                Reflect::set(&o, &"input".into(), &Uint8Array::from(&input[..]))?;
                Ok(o.into())
            }
        }
    }

    /// Up to `max_jobs` jobs (stopping once their input reaches `max_bytes`) as one batch:
    /// `{specs, input, lens}` with `specs` the `JobSpec`s as a JSON array, `input` their inputs
    /// back to back in one `Uint8Array` and `lens` each input's length; `undefined` when no job
    /// is available in this pass. One buffer and one message per batch instead of per job.
    ///
    /// `spare`: an `ArrayBuffer` to put the input in (one a decode worker handed back), or
    /// `undefined`; `input` is then a view of its first bytes.
    pub fn next_batch(
        &mut self,
        max_jobs: u32,
        max_bytes: u32,
        spare: Option<js_sys::ArrayBuffer>,
    ) -> std::result::Result<JsValue, JsValue> {
        let mut specs = Vec::new();
        let mut input = Vec::new();
        let mut lens = Vec::new();
        while specs.len() < max_jobs.max(1) as usize && input.len() < max_bytes as usize {
            let Some((spec, inp)) = self.inner.next_job().map_err(js_err)? else { break };
            lens.push(inp.len() as u32);
            if input.is_empty() {
                input = inp;
            } else {
                input.extend_from_slice(&inp);
            }
            specs.push(spec);
        }
        if specs.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let text = serde_json::to_string(&specs).map_err(|e| js_err(Error::invalid(e.to_string())))?;
        let o = Object::new();
        Reflect::set(&o, &"specs".into(), &JsValue::from_str(&text))?;
        Reflect::set(&o, &"input".into(), &js_bytes(&input, spare))?;
        Reflect::set(&o, &"lens".into(), &js_sys::Uint32Array::from(&lens[..]))?;
        Ok(o.into())
    }

    /// Hand back a batch result from [`decode_batch`].
    pub fn push_batch(&mut self, result: JsValue) -> std::result::Result<(), JsValue> {
        let bad = |what: &str| js_err(Error::invalid(format!("decode batch result: {what}")));
        let get = |k: &str| Reflect::get(&result, &k.into());
        let seqs: js_sys::Float64Array = get("seqs")?.dyn_into().map_err(|_| bad("seqs"))?;
        let data: Uint8Array = get("data")?.dyn_into().map_err(|_| bad("data"))?;
        let data_lens: js_sys::Uint32Array = get("data_lens")?.dyn_into().map_err(|_| bad("data_lens"))?;
        let blocks: Uint8Array = get("blocks")?.dyn_into().map_err(|_| bad("blocks"))?;
        let block_lens: js_sys::Uint32Array = get("block_lens")?.dyn_into().map_err(|_| bad("block_lens"))?;
        let stored: Uint8Array = get("stored")?.dyn_into().map_err(|_| bad("stored"))?;
        let stored_lens: js_sys::Uint32Array = get("stored_lens")?.dyn_into().map_err(|_| bad("stored_lens"))?;
        let stored_counts: js_sys::Uint32Array = get("stored_counts")?.dyn_into().map_err(|_| bad("stored_counts"))?;
        let errors: Array = get("errors")?.dyn_into().map_err(|_| bad("errors"))?;
        let n = seqs.length() as usize;
        let (seqs, data_lens, block_lens, stored_lens, stored_counts) =
            (seqs.to_vec(), data_lens.to_vec(), block_lens.to_vec(), stored_lens.to_vec(), stored_counts.to_vec());
        if data_lens.len() != n || block_lens.len() != n || stored_counts.len() != n {
            return Err(bad("lengths"));
        }
        let mut failed: Vec<Option<Error>> = (0..n).map(|_| None).collect();
        for e in errors.iter() {
            let i = Reflect::get(&e, &"index".into())?.as_f64().ok_or_else(|| bad("error index"))? as usize;
            let err = error_from_js(&Reflect::get(&e, &"error".into())?);
            *failed.get_mut(i).ok_or_else(|| bad("error index"))? = Some(err);
        }
        let (mut d_at, mut b_at, mut s_at, mut s_item) = (0u32, 0u32, 0u32, 0usize);
        let slice = |arr: &Uint8Array, at: u32, len: u32| -> std::result::Result<Vec<u8>, JsValue> {
            let end = at.checked_add(len).filter(|&e| e <= arr.length()).ok_or_else(|| bad("buffer too short"))?;
            Ok(arr.subarray(at, end).to_vec())
        };
        for i in 0..n {
            let seq = seqs[i] as u64;
            let mut st = Vec::with_capacity(stored_counts[i] as usize);
            for _ in 0..stored_counts[i] {
                let l = *stored_lens.get(s_item).ok_or_else(|| bad("stored_lens"))?;
                st.push(slice(&stored, s_at, l)?);
                s_at += l;
                s_item += 1;
            }
            let d = slice(&data, d_at, data_lens[i])?;
            d_at += data_lens[i];
            let b = slice(&blocks, b_at, block_lens[i])?;
            b_at += block_lens[i];
            match failed[i].take() {
                Some(err) => self.inner.push(seq, Err(err)),
                None => {
                    let blocks = unpack_blocks(&b).ok_or_else(|| bad("blocks"))?;
                    self.inner.push(seq, Ok(Decoded { data: d, blocks, stored: st }));
                }
            }
        }
        Ok(())
    }

    /// Hand back a decode result `{seq, data, blocks, stored}` or `{seq, error}`.
    pub fn push(&mut self, result: JsValue) -> std::result::Result<(), JsValue> {
        let seq = Reflect::get(&result, &"seq".into())?
            .as_f64()
            .ok_or_else(|| js_err(Error::invalid("result without seq")))? as u64;
        let error = Reflect::get(&result, &"error".into())?;
        if !error.is_undefined() && !error.is_null() {
            self.inner.push(seq, Err(error_from_js(&error)));
            return Ok(());
        }
        let d = decoded_from_js(seq, &result)?;
        self.inner.push(seq, Ok(d));
        Ok(())
    }

    /// Write all ready output through `sink(bytes, at)`: `bytes` is a `Uint8Array` view that is
    /// valid only during the call (copy it to keep it), `at` its output offset. All-zero
    /// stretches are not passed on (holes): once done, the caller must set the output's length
    /// to `output_len()`. Returns true once the whole output has been written.
    pub fn emit(&mut self, sink: &Function) -> std::result::Result<bool, JsValue> {
        let Converter { inner, out, out_at, .. } = self;
        if out.capacity() < OUT_BUF {
            out.reserve_exact(OUT_BUF - out.len());
        }
        let r = inner.emit(&mut |b: &[u8]| {
            // Zero stretches become holes: the sink sizes the file at the end.
            if b.len() >= HOLE_MIN && crate::digest::is_zero(b) {
                Converter::flush(out, out_at, sink)?;
                *out_at += b.len() as u64;
                return Ok(());
            }
            if out.len() + b.len() > OUT_BUF {
                Converter::flush(out, out_at, sink)?;
            }
            if b.len() >= OUT_BUF {
                out.extend_from_slice(b);
                return Converter::flush(out, out_at, sink);
            }
            out.extend_from_slice(b);
            Ok(())
        });
        // Output is kept until the buffer is full or the conversion is done: sinks are much
        // faster with few large writes than with one per emit.
        let r = r.and_then(|e| if e == Emit::Done { Converter::flush(out, out_at, sink).map(|_| e) } else { Ok(e) });
        match r {
            Ok(Emit::Done) => Ok(true),
            Ok(Emit::Blocked) => Ok(false),
            Err(e) => Err(js_err(e)),
        }
    }

    /// Jobs handed out whose output has not been written yet.
    pub fn in_flight(&self) -> f64 {
        self.inner.in_flight() as f64
    }

    /// True when `next_job` may give more jobs (compressed QCOW2's second pass started).
    pub fn next_job_pending(&self) -> bool {
        self.inner.next_job_pending()
    }

    /// `{phase, guest_done, guest_total, bytes_out, output_len}`.
    pub fn progress(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.inner.progress())
    }

    /// Output length in bytes, `undefined` until known (compressed QCOW2 measures first).
    pub fn output_len(&self) -> Option<f64> {
        self.inner.output_len().map(|n| n as f64)
    }

    /// `{format, virtual_size, output_len, data_bytes, content_digest, sha512}` once done.
    pub fn report(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.inner.report().map_err(js_err)?)
    }
}

fn decoded_from_js(seq: u64, v: &JsValue) -> std::result::Result<Decoded, JsValue> {
    let bad = |what: &str| js_err(Error::invalid(format!("decode result {seq}: {what}")));
    let data = Reflect::get(v, &"data".into())?;
    let data = if data.is_undefined() || data.is_null() {
        Vec::new()
    } else {
        data.dyn_into::<Uint8Array>().map_err(|_| bad("data"))?.to_vec()
    };
    let blocks_raw = Reflect::get(v, &"blocks".into())?;
    let blocks = if blocks_raw.is_undefined() || blocks_raw.is_null() {
        Vec::new()
    } else {
        let raw = blocks_raw.dyn_into::<Uint8Array>().map_err(|_| bad("blocks"))?.to_vec();
        unpack_blocks(&raw).ok_or_else(|| bad("blocks"))?
    };
    let stored_raw = Reflect::get(v, &"stored".into())?;
    let mut stored = Vec::new();
    if !stored_raw.is_undefined() && !stored_raw.is_null() {
        let arr = stored_raw.dyn_into::<Array>().map_err(|_| bad("stored"))?;
        for s in arr.iter() {
            stored.push(s.dyn_into::<Uint8Array>().map_err(|_| bad("stored"))?.to_vec());
        }
    }
    Ok(Decoded { data, blocks, stored })
}

/// `bytes` in a JS `Uint8Array`: in `spare` (an `ArrayBuffer` handed back for reuse) when it
/// is large enough, else in a new buffer with room to spare (at least [`RECYCLE_MIN`]), so
/// buffers can go back and forth between workers instead of becoming garbage each time.
fn js_bytes(bytes: &[u8], spare: Option<js_sys::ArrayBuffer>) -> Uint8Array {
    let n = bytes.len() as u32;
    let buf = match spare {
        Some(b) if b.byte_length() >= n => b,
        _ => js_sys::ArrayBuffer::new(n.max(RECYCLE_MIN)),
    };
    let view = Uint8Array::new_with_byte_offset_and_length(&buf, 0, n);
    view.copy_from(bytes);
    view
}

/// Smallest buffer [`js_bytes`] allocates: a batch's input or output fits, so recycled buffers
/// fit the next batch too.
const RECYCLE_MIN: u32 = 2 << 20;

/// Digest block hashes as bytes: per block a flag byte (0 = all-zero block, 1 = hash
/// follows) and, for 1, its 32-byte SHA-256.
fn pack_blocks(blocks: &[Option<[u8; 32]>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blocks.len() * 33);
    for b in blocks {
        match b {
            None => out.push(0),
            Some(h) => {
                out.push(1);
                out.extend_from_slice(h);
            }
        }
    }
    out
}

fn unpack_blocks(mut raw: &[u8]) -> Option<Vec<Option<[u8; 32]>>> {
    let mut out = Vec::new();
    while let Some((&flag, rest)) = raw.split_first() {
        match flag {
            0 => {
                out.push(None);
                raw = rest;
            }
            1 => {
                let h: [u8; 32] = rest.get(..32)?.try_into().ok()?;
                out.push(Some(h));
                raw = &rest[32..];
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Decode one job (pure; runs in a decode worker). `spec` is the `JobSpec` as JSON text (as
/// [`Converter::next_job`] gives it) or as an object. Returns `{seq, data, blocks, stored}` where `data`
/// is the unit's bytes (a `Uint8Array`, empty when the job does not want them), `blocks` the
/// packed digest hashes and `stored` the compressed clusters (array of `Uint8Array`). A decode
/// error is returned as `{seq, error}` so the assembler reports it in order.
#[wasm_bindgen]
pub fn decode_job(spec: JsValue, input: Uint8Array) -> std::result::Result<JsValue, JsValue> {
    let spec: JobSpec = match spec.as_string() {
        Some(text) => serde_json::from_str(&text).map_err(|e| js_err(Error::invalid(format!("job spec: {e}"))))?,
        None => serde_wasm_bindgen::from_value(spec).map_err(|e| js_err(Error::invalid(format!("job spec: {e}"))))?,
    };
    let o = Object::new();
    Reflect::set(&o, &"seq".into(), &JsValue::from_f64(spec.seq as f64))?;
    match decode::decode(&spec, input.to_vec().into()) {
        Ok(d) => {
            Reflect::set(&o, &"data".into(), &Uint8Array::from(&d.data[..]))?;
            Reflect::set(&o, &"blocks".into(), &Uint8Array::from(&pack_blocks(&d.blocks)[..]))?;
            let stored = Array::new();
            for s in &d.stored {
                stored.push(&Uint8Array::from(&s[..]));
            }
            Reflect::set(&o, &"stored".into(), &stored)?;
        }
        Err(e) => {
            Reflect::set(&o, &"error".into(), &js_err(e))?;
        }
    }
    Ok(o.into())
}

/// Decode a batch from [`Converter::next_batch`] (pure; runs in a decode worker). Returns
/// `{seqs, data, data_lens, blocks, block_lens, stored, stored_lens, stored_counts, errors}`:
/// per job its seq, decoded bytes, packed digest hashes and compressed clusters, back to back
/// in one buffer each, with their lengths; `errors` lists `{index, error}` for jobs that failed
/// (the assembler reports the first in output order). `spare`: an `ArrayBuffer` for `data` (one
/// the converter handed back), or `undefined`; `data` is then a view of its first bytes.
#[wasm_bindgen]
pub fn decode_batch(
    specs: &str,
    input: Uint8Array,
    lens: js_sys::Uint32Array,
    spare: Option<js_sys::ArrayBuffer>,
) -> std::result::Result<JsValue, JsValue> {
    let specs: Vec<JobSpec> =
        serde_json::from_str(specs).map_err(|e| js_err(Error::invalid(format!("job specs: {e}"))))?;
    let lens = lens.to_vec();
    if lens.len() != specs.len() {
        return Err(js_err(Error::invalid("job specs and input lengths differ")));
    }
    let (mut seqs, mut data, mut data_lens, mut blocks, mut block_lens) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut stored, mut stored_lens, mut stored_counts) = (Vec::new(), Vec::new(), Vec::new());
    let errors = Array::new();
    let mut at = 0u32;
    for (i, (spec, len)) in specs.iter().zip(lens).enumerate() {
        let end = at
            .checked_add(len)
            .filter(|&e| e <= input.length())
            .ok_or_else(|| js_err(Error::invalid("batch input too short")))?;
        let inp = input.subarray(at, end).to_vec();
        at = end;
        seqs.push(spec.seq as f64);
        match decode::decode(spec, inp.into()) {
            Ok(d) => {
                data_lens.push(d.data.len() as u32);
                data.extend_from_slice(&d.data);
                let packed = pack_blocks(&d.blocks);
                block_lens.push(packed.len() as u32);
                blocks.extend_from_slice(&packed);
                stored_counts.push(d.stored.len() as u32);
                for st in &d.stored {
                    stored_lens.push(st.len() as u32);
                    stored.extend_from_slice(st);
                }
            }
            Err(e) => {
                data_lens.push(0);
                block_lens.push(0);
                stored_counts.push(0);
                let o = Object::new();
                Reflect::set(&o, &"index".into(), &JsValue::from_f64(i as f64))?;
                Reflect::set(&o, &"error".into(), &js_err(e))?;
                errors.push(&o);
            }
        }
    }
    let o = Object::new();
    Reflect::set(&o, &"seqs".into(), &js_sys::Float64Array::from(&seqs[..]))?;
    Reflect::set(&o, &"data".into(), &js_bytes(&data, spare))?;
    Reflect::set(&o, &"data_lens".into(), &js_sys::Uint32Array::from(&data_lens[..]))?;
    Reflect::set(&o, &"blocks".into(), &Uint8Array::from(&blocks[..]))?;
    Reflect::set(&o, &"block_lens".into(), &js_sys::Uint32Array::from(&block_lens[..]))?;
    Reflect::set(&o, &"stored".into(), &Uint8Array::from(&stored[..]))?;
    Reflect::set(&o, &"stored_lens".into(), &js_sys::Uint32Array::from(&stored_lens[..]))?;
    Reflect::set(&o, &"stored_counts".into(), &js_sys::Uint32Array::from(&stored_counts[..]))?;
    Reflect::set(&o, &"errors".into(), &errors)?;
    Ok(o.into())
}

/// SHA-512 of a byte stream fed in pieces, zero runs included without materialising them:
/// the output digest (Glance `os_hash_value`) computed by the page's writer worker.
#[wasm_bindgen]
pub struct Sha512Hasher {
    h: sha2::Sha512,
}

#[wasm_bindgen]
impl Sha512Hasher {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Sha512Hasher {
        use sha2::Digest;
        Sha512Hasher { h: sha2::Sha512::new() }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.h.update(bytes);
    }

    /// Hash `n` zero bytes (a hole the writer skipped).
    pub fn update_zeros(&mut self, n: f64) {
        use sha2::Digest;
        static Z: [u8; 64 * 1024] = [0; 64 * 1024];
        let mut n = n.max(0.0) as u64;
        while n > 0 {
            let k = n.min(Z.len() as u64) as usize;
            self.h.update(&Z[..k]);
            n -= k as u64;
        }
    }

    /// The hex digest (consumes the hasher).
    pub fn finish(self) -> String {
        use sha2::Digest;
        hex::encode(self.h.finalize())
    }
}

/// The crate version, for the page footer and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
