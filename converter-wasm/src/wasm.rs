//! The browser shell: thin wasm-bindgen bindings over the core, no format logic.
//!
//! - [`BlobSource`]: a [`Source`] over a `Blob`/`File`, read in slices with `FileReaderSync`
//!   (dedicated workers only), never whole. Sequential reads (the converter walking a stream-
//!   optimized VMDK) are served from one read-ahead window of [`READ_AHEAD`] bytes; scattered
//!   metadata reads go straight to the blob.
//! - [`inspect`]: works out which of the given files are top-level inputs, what each holds and
//!   which referenced files are missing, as a plain JS value.
//! - [`Converter`]: the core's pull-style assembler for one disk (`next_job` / `push` / `emit`),
//!   driven by `web/src/converter-worker.js`; [`decode_job`] is the pure decode step the pool of
//!   decode workers runs (`web/src/decode-worker.js`).
//!
//! Memory: this side holds the plan (one bit per output cluster), at most one read-ahead window
//! per source, an output buffer of [`OUT_BUF`] bytes, and whatever jobs the JavaScript driver
//! keeps in flight (it bounds them; see web/src/converter-worker.js).
//!
//! Errors cross to JavaScript as plain objects `{kind, file, offset, message}` (the core's
//! [`Error`]), never as exceptions with only a string.

use crate::convert::{self, Decoded, Emit, JobSpec};
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

/// Size of the read-ahead window used for sequential reads: big enough that a stream of
/// 64 KiB grains costs one blob read per window, small enough not to matter for memory.
pub const READ_AHEAD: usize = 8 << 20;

/// Largest gap after the previous read that still counts as sequential (stream-optimized
/// VMDKs interleave small markers and grain tables with the grains).
const SEQUENTIAL_GAP: u64 = 256 << 10;

/// Output is handed to the JavaScript sink in chunks of up to this many bytes.
pub const OUT_BUF: usize = 4 << 20;

/// All-zero output pieces at least this long are skipped (left as holes) instead of written:
/// the sink sets the final length, so they read back as zeros.
const HOLE_MIN: usize = 4096;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// A [`Source`] over a browser `Blob` (a `File` the user picked or dropped).
pub struct BlobSource {
    name: String,
    blob: Blob,
    len: u64,
    reader: FileReaderSync,
    /// Read-ahead window: `(start, bytes)`.
    window: RefCell<(u64, Vec<u8>)>,
    /// End of the previous read, to recognise sequential access.
    last_end: Cell<u64>,
}

impl BlobSource {
    /// Wrap `blob` under `name` (the name errors and references use). Needs `FileReaderSync`,
    /// that is, a dedicated worker.
    pub fn new(name: impl Into<String>, blob: Blob) -> Result<SourceRef> {
        let name = name.into();
        let reader = FileReaderSync::new().map_err(|e| Error::io(&name, None, js_text(&e)))?;
        let size = blob.size();
        if !(size >= 0.0 && size <= 9_007_199_254_740_991.0) {
            return Err(Error::io(&name, None, format!("unusable blob size {size}")));
        }
        let len = size as u64;
        Ok(Arc::new(BlobSource { name, blob, len, reader, window: RefCell::new((0, Vec::new())), last_end: Cell::new(u64::MAX) }))
    }

    /// Read `[offset, offset + buf.len())` straight from the blob.
    fn read_blob(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset + buf.len() as u64;
        let slice = self
            .blob
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|e| Error::io(&self.name, Some(offset), js_text(&e)))?;
        let ab = self.reader.read_as_array_buffer(&slice).map_err(|e| Error::io(&self.name, Some(offset), js_text(&e)))?;
        let arr = Uint8Array::new(&ab);
        if arr.length() as usize != buf.len() {
            return Err(Error::truncated(
                &self.name,
                offset,
                format!("read {} bytes where {} were expected (was the file changed or moved?)", arr.length(), buf.len()),
            ));
        }
        arr.copy_to(buf);
        Ok(())
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
        let mut w = self.window.borrow_mut();
        let (ws, ref mut wdata) = *w;
        if offset >= ws && end <= ws + wdata.len() as u64 {
            let a = (offset - ws) as usize;
            buf.copy_from_slice(&wdata[a..a + buf.len()]);
            return Ok(());
        }
        let sequential = offset >= prev_end && offset - prev_end <= SEQUENTIAL_GAP;
        if !sequential || buf.len() >= READ_AHEAD {
            return self.read_blob(offset, buf);
        }
        let n = (self.len - offset).min(READ_AHEAD as u64) as usize;
        let mut data = std::mem::take(&mut w.1);
        data.resize(n, 0);
        let r = self.read_blob(offset, &mut data);
        if let Err(e) = r {
            data.clear();
            *w = (0, data);
            return Err(e);
        }
        buf.copy_from_slice(&data[..buf.len()]);
        *w = (offset, data);
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
            let rel = Reflect::get(f, &"webkitRelativePath".into()).ok().and_then(|r| r.as_string()).unwrap_or_default();
            (if rel.is_empty() { f.name() } else { rel }, f.clone().unchecked_into::<Blob>())
        } else {
            let name = Reflect::get(&v, &"name".into())?.as_string().ok_or_else(|| js_err(Error::invalid("file entry without a name")))?;
            let blob = Reflect::get(&v, &"blob".into())?.dyn_into::<Blob>().map_err(|_| js_err(Error::invalid(format!("{name}: not a Blob"))))?;
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
        let given: serde_json::Value = serde_wasm_bindgen::from_value(v.clone()).map_err(|e| Error::invalid(format!("options: {e}")))?;
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
        sink.call2(&JsValue::NULL, &view, &JsValue::from_f64(*out_at as f64)).map_err(|e| Error::io("output", Some(*out_at), js_text(&e)))?;
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
        let mut inner = convert::Converter::new(d, plan);
        if let Some(v) = opened.verifier {
            inner.set_before_last(Box::new(move || v.finish().map(|_| ())));
        }
        Ok(Converter::from_core(inner, info))
    }

    /// The disk being converted (`DiskInfo`).
    pub fn info(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.info)
    }

    /// The next job as `{spec, input}` (`input` a `Uint8Array` to transfer to a decode worker),
    /// or `undefined` when none is available in this pass.
    pub fn next_job(&mut self) -> std::result::Result<JsValue, JsValue> {
        match self.inner.next_job().map_err(js_err)? {
            None => Ok(JsValue::UNDEFINED),
            Some((spec, input)) => {
                let o = Object::new();
                Reflect::set(&o, &"spec".into(), &to_js(&spec)?)?;
                Reflect::set(&o, &"input".into(), &Uint8Array::from(&input[..]))?;
                Ok(o.into())
            }
        }
    }

    /// Hand back a decode result `{seq, data, blocks, stored}` or `{seq, error}`.
    pub fn push(&mut self, result: JsValue) -> std::result::Result<(), JsValue> {
        let seq = Reflect::get(&result, &"seq".into())?.as_f64().ok_or_else(|| js_err(Error::invalid("result without seq")))? as u64;
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
        let r = r.and_then(|e| Converter::flush(out, out_at, sink).map(|_| e));
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
    let data = if data.is_undefined() || data.is_null() { Vec::new() } else { data.dyn_into::<Uint8Array>().map_err(|_| bad("data"))?.to_vec() };
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
    Ok(Decoded { seq, data, blocks, stored })
}

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

/// Decode one job (pure; runs in a decode worker): `{seq, data, blocks, stored}` where `data`
/// is the unit's bytes (a `Uint8Array`, empty when the job does not want them), `blocks` the
/// packed digest hashes and `stored` the compressed clusters (array of `Uint8Array`). A decode
/// error is returned as `{seq, error}` so the assembler reports it in order.
#[wasm_bindgen]
pub fn decode_job(spec: JsValue, input: Uint8Array) -> std::result::Result<JsValue, JsValue> {
    let spec: JobSpec = serde_wasm_bindgen::from_value(spec).map_err(|e| js_err(Error::invalid(format!("job spec: {e}"))))?;
    let o = Object::new();
    Reflect::set(&o, &"seq".into(), &JsValue::from_f64(spec.seq as f64))?;
    match convert::decode(&spec, input.to_vec()) {
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

/// The crate version, for the page footer and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
