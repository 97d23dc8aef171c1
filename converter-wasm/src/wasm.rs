//! The browser shell: wasm-bindgen bindings over the core, type conversion only.
//!
//! - [`BlobSource`]: a [`Source`] over a `Blob`/`File`, read in slices with `FileReaderSync`
//!   (dedicated workers only), never whole, through the core's [`ReadAhead`].
//! - [`inspect`]: [`input::inspect_all`] over the given files ([`NamedFiles`]), as a plain JS
//!   value.
//! - [`migration`]: the whole-VM plan ([`crate::migration`]), plain object in, plain object out.
//! - [`Converter`]: one disk's conversion as the core's [`Driver`] runs it, driven by
//!   `web/src/converter-worker.js`: `next_batch` gives a packed [`BatchIn`] to post to a decode
//!   worker, `push_batch` takes its packed [`BatchOut`] back, `emit` writes what is ready and
//!   says what to do next ("done", "wait", "feed" or "digests"). [`decode_batch`] is the pure decode step
//!   the decode workers run (`web/src/decode-worker.js`). The JavaScript only carries the
//!   packed buffers; it never looks inside them.
//!
//! Memory: this side holds the plan (one bit per output cluster), at most
//! [`crate::source::CACHED_BLOCKS`] blocks of [`crate::source::READ_AHEAD`] bytes per source, an
//! output buffer of [`OUT_BUF`] bytes, and the jobs the driver lets out (the `max_in_flight`
//! the page passes; see web/src/converter-worker.js). Every buffer `FileReaderSync` returns is
//! freed as soon as it is copied (see `BlobSource::release`), so long synchronous reads leave
//! no garbage behind.
//!
//! Errors cross to JavaScript as plain objects `{kind, code, file, offset, message, args}` (the core's
//! [`Error`]), never as exceptions with only a string.

use crate::convert;
use crate::decode::{BatchIn, BatchOut};
use crate::driver::{Driver, Next};
use crate::error::{Error, Result};
use crate::image::DiskInfo;
use crate::input;
use crate::output::Holes;
use crate::plan::{self, Options};
use crate::source::{check_range, NamedFiles, ReadAhead, Source, SourceRef};
use js_sys::{Array, Function, Reflect, Uint8Array};
use serde::Serialize;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, FileReaderSync};

/// Smallest buffer [`js_bytes`] allocates: a batch's input or output fits, so recycled buffers
/// fit the next batch too.
const RECYCLE_MIN: u32 = 2 << 20;

/// Pieces of a packed batch shorter than this are gathered before crossing to JavaScript.
const SMALL_PIECES: usize = 4096;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// A [`Source`] over a browser `Blob` (a `File` the user picked or dropped), read with
/// `FileReaderSync`. (Asynchronous reads with `Blob.arrayBuffer()` were tried: the browser
/// reads no faster that way, and a block still pending when needed had to be read twice.)
pub struct BlobSource {
    name: String,
    blob: Blob,
    len: u64,
    reader: FileReaderSync,
    /// A port whose other end is closed: what is posted to it is dropped (see `release`).
    drop_port: web_sys::MessagePort,
}

impl BlobSource {
    /// `blob` under `name` (the name errors and references use), read through [`ReadAhead`].
    /// Needs `FileReaderSync`, that is, a dedicated worker.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, blob: Blob) -> Result<Arc<ReadAhead<BlobSource>>> {
        let name = name.into();
        let reader = FileReaderSync::new().map_err(|e| Error::io(&name, None, js_text(&e)))?;
        let size = blob.size();
        if !(0.0..=9_007_199_254_740_991.0).contains(&size) {
            return Err(Error::io(&name, None, format!("unusable blob size {size}")));
        }
        let len = size as u64;
        let channel = web_sys::MessageChannel::new().map_err(|e| Error::io(&name, None, js_text(&e)))?;
        channel.port2().close();
        // Sources are single-threaded by design (see `Source`); wasm has one thread anyway.
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Arc::new(ReadAhead::new(BlobSource { name, blob, len, reader, drop_port: channel.port1() })))
    }

    /// Free a read buffer now rather than at some later garbage collection: transfer it into
    /// a message to a closed port, which drops it. Planning reads every data cluster of a disk
    /// in one synchronous call, during which the worker never yields and V8 collects little:
    /// without this, planning a disk with 4 GiB of data left 1.5 GiB of dead read buffers
    /// (measured). (`ArrayBuffer.prototype.transfer(0)` does not free the memory.)
    fn release(&self, ab: &js_sys::ArrayBuffer) {
        let _ = self.drop_port.post_message_with_transferable(ab, &Array::of1(ab));
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
        let end = offset + buf.len() as u64;
        let io = |e: JsValue| Error::io(&self.name, Some(offset), js_text(&e));
        let slice = self.blob.slice_with_f64_and_f64(offset as f64, end as f64).map_err(io)?;
        let ab = self.reader.read_as_array_buffer(&slice).map_err(io)?;
        let arr = Uint8Array::new(&ab);
        let got = arr.length() as usize;
        if got == buf.len() {
            arr.copy_to(buf);
        }
        self.release(&ab);
        if got != buf.len() {
            return Err(Error::truncated(
                &self.name,
                offset,
                end,
                offset + got as u64,
                format!("read {got} bytes where {} were expected (was the file changed or moved?)", buf.len()),
            ));
        }
        Ok(())
    }
}

/// Turn the JS file list into sources. Each element is a `File` (named by its
/// `webkitRelativePath` when it has one, else its name) or `{name, blob}`.
fn sources(files: &Array) -> std::result::Result<Vec<SourceRef>, JsValue> {
    Ok(blob_sources(files)?.into_iter().map(|s| s as SourceRef).collect())
}

/// [`sources`], typed: the converter fetches their blocks ahead ([`Converter::prefetch`]).
fn blob_sources(files: &Array) -> std::result::Result<Vec<Arc<ReadAhead<BlobSource>>>, JsValue> {
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

/// A core error as a JS object `{kind, code, file, offset, message, args}`.
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

/// The `len` bytes `parts` gives, in a JS `Uint8Array`: in `spare` (an `ArrayBuffer` handed
/// back for reuse) when it is large enough, else in a new buffer with room to spare (at least
/// [`RECYCLE_MIN`]), so buffers can go back and forth between workers instead of becoming
/// garbage each time.
fn js_bytes(len: usize, spare: Option<js_sys::ArrayBuffer>, parts: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Uint8Array {
    let n = len as u32;
    let buf = match spare {
        Some(b) if b.byte_length() >= n => b,
        _ => js_sys::ArrayBuffer::new(n.max(RECYCLE_MIN)),
    };
    let view = Uint8Array::new_with_byte_offset_and_length(&buf, 0, n);
    // Small pieces (headers) are gathered here; large ones (data) copied straight across, so
    // every data byte is copied once, with few calls into JavaScript.
    let mut small: Vec<u8> = Vec::with_capacity(SMALL_PIECES);
    let mut at = 0u32;
    let flush = |small: &mut Vec<u8>, at: &mut u32| {
        if !small.is_empty() {
            view.subarray(*at, *at + small.len() as u32).copy_from(small);
            *at += small.len() as u32;
            small.clear();
        }
    };
    parts(&mut |b: &[u8]| {
        if b.len() >= SMALL_PIECES {
            flush(&mut small, &mut at);
            view.subarray(at, at + b.len() as u32).copy_from(b);
            at += b.len() as u32;
        } else {
            if small.len() + b.len() > SMALL_PIECES {
                flush(&mut small, &mut at);
            }
            small.extend_from_slice(b);
        }
    });
    flush(&mut small, &mut at);
    debug_assert_eq!(at as usize, len);
    view
}

/// Inspect the given files: `{inputs: [{top, name, uses, inspection | error}], unused}`
/// ([`input::Inspected`]). A bad file gives an `error` entry for its input, not a failure of
/// the whole call.
#[wasm_bindgen]
pub fn inspect(files: Array) -> std::result::Result<JsValue, JsValue> {
    let srcs = sources(&files)?;
    to_js(&input::inspect_all(&srcs, &NamedFiles::new(srcs.clone())).map_err(js_err)?)
}

/// The whole-VM plan: `input` as [`crate::migration::Input`] (the page's disks and choices,
/// `GET /api/limits`, `GET /api/stores`), the plan as [`crate::migration::Output`]. A malformed
/// input is an `invalid_argument` error.
#[wasm_bindgen]
pub fn migration(input: JsValue) -> std::result::Result<JsValue, JsValue> {
    let input: crate::migration::Input =
        serde_wasm_bindgen::from_value(input).map_err(|e| js_err(Error::invalid(format!("migration input: {e}"))))?;
    to_js(&crate::migration::migration(&input))
}

/// The guest tree of input `top` of `files` (as [`inspect`] numbered them).
fn guest_tree(files: &Array, top: usize) -> std::result::Result<crate::guest::mounts::Tree, JsValue> {
    let srcs = sources(files)?;
    let src = srcs.get(top).cloned().ok_or_else(|| js_err(Error::invalid(format!("no file number {top}"))))?;
    input::guest_tree(src, &NamedFiles::new(srcs)).map_err(js_err)
}

fn no_such(path: &str, what: &str) -> JsValue {
    js_err(Error::new(crate::error::ErrorKind::MissingFile, path, None, format!("no {what} {path} in the guest")))
}

/// The entries of directory `path` in the guest on input `top`'s disks: `{entries: [{name,
/// kind, size}]}` ([`crate::guest::Entry`]).
#[wasm_bindgen(js_name = guestList)]
pub fn guest_list(files: Array, top: usize, path: &str) -> std::result::Result<JsValue, JsValue> {
    use crate::guest::Files;
    let mut entries = guest_tree(&files, top)?.list(path).map_err(js_err)?.ok_or_else(|| no_such(path, "directory"))?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    #[derive(Serialize)]
    struct Listing {
        entries: Vec<crate::guest::Entry>,
    }
    to_js(&Listing { entries })
}

/// File `path` of the guest on input `top`'s disks; a file longer than `cap` bytes is an
/// error with code `too_large`.
#[wasm_bindgen(js_name = guestRead)]
pub fn guest_read(files: Array, top: usize, path: &str, cap: f64) -> std::result::Result<Uint8Array, JsValue> {
    use crate::guest::Files;
    let cap = if cap.is_finite() && cap >= 0.0 { cap as u64 } else { 0 };
    let data = guest_tree(&files, top)?.read(path, cap).map_err(js_err)?.ok_or_else(|| no_such(path, "file"))?;
    Ok(Uint8Array::from(data.as_slice()))
}

/// One disk's conversion, driven from JavaScript.
#[wasm_bindgen]
pub struct Converter {
    driver: Driver,
    info: DiskInfo,
    /// Where the output is, and which of it are holes.
    out: Holes,
    /// The input files, in the order of the `files` given, for fetching ahead.
    inputs: Vec<Arc<ReadAhead<BlobSource>>>,
}

impl Converter {
    /// Wrap a core converter for an already opened and planned disk (tests, other shells).
    pub fn from_core(conv: convert::Converter, info: DiskInfo, max_in_flight: u32) -> Self {
        Converter { driver: Driver::new(conv, max_in_flight as u64), info, out: Holes::default(), inputs: Vec::new() }
    }

    fn input(&self, file: usize) -> std::result::Result<&ReadAhead<BlobSource>, JsValue> {
        self.inputs.get(file).map(|s| &**s).ok_or_else(|| js_err(Error::invalid(format!("no file number {file}"))))
    }
}

#[wasm_bindgen]
impl Converter {
    /// Open input `top` (an index into `files`, as [`inspect`] gave it), pick its disk number
    /// `disk` (0-based) and plan the output with `options` (`{format: "qcow2" |
    /// "qcow2-compressed" | "raw", cluster_size, ...}`, any subset). At most `max_in_flight`
    /// jobs are handed out and not yet written.
    #[wasm_bindgen(constructor)]
    pub fn new(
        files: Array,
        top: usize,
        disk: usize,
        options: JsValue,
        max_in_flight: u32,
    ) -> std::result::Result<Converter, JsValue> {
        let inputs = blob_sources(&files)?;
        let srcs: Vec<SourceRef> = inputs.iter().map(|s| s.clone() as SourceRef).collect();
        let src = srcs.get(top).cloned().ok_or_else(|| js_err(Error::invalid(format!("no file number {top}"))))?;
        let given: serde_json::Value = if options.is_undefined() {
            serde_json::Value::Null
        } else {
            serde_wasm_bindgen::from_value(options).map_err(|e| js_err(Error::invalid(format!("options: {e}"))))?
        };
        let options = Options::from_partial(&given).map_err(js_err)?;
        let opened = input::open(src, &NamedFiles::new(srcs)).map_err(js_err)?;
        let n = opened.disks.len();
        let d = opened
            .disks
            .into_iter()
            .nth(disk)
            .ok_or_else(|| js_err(Error::invalid(format!("disk {} asked for, the input has {n}", disk + 1))))?;
        let plan = plan::plan(&d, &options, &|| false).map_err(js_err)?;
        let info = d.info.clone();
        let mut conv = Converter::from_core(convert::Converter::new(d, plan), info, max_in_flight);
        conv.inputs = inputs;
        Ok(conv)
    }

    /// The blocks of the input files to fetch now ([`ReadAhead::prefetch`]): `[{file, offset,
    /// length}]`, `file` an index into the `files` given. Hand each to [`supply`](Self::supply)
    /// when read, or to [`unpend`](Self::unpend) when its read failed.
    pub fn prefetch(&self) -> std::result::Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Fetch {
            file: usize,
            offset: u64,
            length: usize,
        }
        let mut out = Vec::new();
        for (file, s) in self.inputs.iter().enumerate() {
            out.extend(s.prefetch().into_iter().map(|(offset, length)| Fetch { file, offset, length }));
        }
        to_js(&out)
    }

    /// A block [`prefetch`](Self::prefetch) asked for, read (all of `data`, a view: the
    /// caller reads into buffers it reuses): copied in (or dropped, when no longer wanted). The
    /// buffer stays the caller's (to pass on to an [`InputHasher`], then to reuse).
    pub fn supply(&self, file: usize, offset: f64, data: &Uint8Array) -> std::result::Result<(), JsValue> {
        let input = self.input(file)?;
        input.supply(offset as u64, data.length() as usize, |buf| data.copy_to(buf));
        Ok(())
    }

    /// The read of a block [`prefetch`](Self::prefetch) asked for failed: it is read again
    /// when needed, synchronously, which reports the error.
    pub fn unpend(&self, file: usize, offset: f64) -> std::result::Result<(), JsValue> {
        self.input(file)?.unpend(offset as u64);
        Ok(())
    }

    /// Hash the checked files that lie in the input files in the caller's own worker
    /// ([`crate::manifest::DiskCheck::hash_elsewhere`]): `[{id, name, algorithm, file, offset,
    /// length}]`, each the byte range of input `file` to hash ([`InputHasher`]) and give back
    /// with [`provide_digest`](Self::provide_digest) when [`emit`](Self::emit) says "digests".
    pub fn hash_inputs_elsewhere(&self) -> std::result::Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Hashed {
            id: usize,
            name: String,
            algorithm: &'static str,
            file: usize,
            offset: u64,
            length: u64,
        }
        let Some(check) = self.driver.converter().check() else { return to_js(&Vec::<Hashed>::new()) };
        let mut out = Vec::new();
        for f in check.elsewhere() {
            let at = Arc::as_ptr(&f.root) as *const u8;
            if let Some(file) = self.inputs.iter().position(|s| Arc::as_ptr(s) as *const u8 == at) {
                check.hash_elsewhere(f.id);
                let (name, algorithm) = (f.name, f.algorithm.name());
                out.push(Hashed { id: f.id, name, algorithm, file, offset: f.offset, length: f.len });
            }
        }
        to_js(&out)
    }

    /// The digest (hex) of file `id` of [`hash_inputs_elsewhere`](Self::hash_inputs_elsewhere).
    pub fn provide_digest(&self, id: usize, hex_digest: &str) -> std::result::Result<(), JsValue> {
        let digest = hex::decode(hex_digest).map_err(|e| js_err(Error::invalid(format!("digest: {e}"))))?;
        if let Some(check) = self.driver.converter().check() {
            check.provide(id, digest);
        }
        Ok(())
    }

    /// `{file, offset}` of a block on its way that the next `margin` bytes of reads would
    /// need: wait for it before asking for the next batch. `undefined` when there is none.
    pub fn awaiting(&self, margin: f64) -> std::result::Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Awaited {
            file: usize,
            offset: u64,
        }
        for (file, s) in self.inputs.iter().enumerate() {
            if let Some(offset) = s.awaiting(margin as u64) {
                return to_js(&Awaited { file, offset });
            }
        }
        Ok(JsValue::UNDEFINED)
    }

    /// Leave the SHA-512 of the output to the caller (the page's writer worker hashes what it
    /// writes, off this thread); `report().sha512` is then empty. Call before the first emit.
    pub fn hash_output_externally(&mut self) {
        self.driver.hash_output_externally();
    }

    /// The disk being converted (`DiskInfo`).
    pub fn info(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.info)
    }

    /// Up to `max_jobs` jobs (stopping once their input reaches `max_bytes`) as one packed
    /// batch for [`decode_batch`], or `undefined` when none may be handed out now. `spare`: an
    /// `ArrayBuffer` to put it in (one a decode worker handed back), or `undefined`; the
    /// result is then a view of its first bytes.
    pub fn next_batch(
        &mut self,
        max_jobs: u32,
        max_bytes: u32,
        spare: Option<js_sys::ArrayBuffer>,
    ) -> std::result::Result<Option<Uint8Array>, JsValue> {
        let batch = self.driver.next_batch(max_jobs as usize, max_bytes as usize).map_err(js_err)?;
        Ok(batch.map(|b| {
            let header = b.header();
            js_bytes(b.encoded_len(&header), spare, |part| b.encode_parts(&header, part))
        }))
    }

    /// Hand back what [`decode_batch`] returned for a batch (batches in any order).
    pub fn push_batch(&mut self, result: Vec<u8>) -> std::result::Result<(), JsValue> {
        // Owned: the decoded data stays in this one copy until it is written.
        self.driver.push(BatchOut::decode(result.into()).map_err(js_err)?);
        Ok(())
    }

    /// Write all ready output through `sink(bytes, at)`: `bytes` is a `Uint8Array` view that is
    /// valid only during the call (copy it to keep it), `at` its output offset; pieces are
    /// small (a cluster, a metadata table), for the sink to gather into large writes. All-zero
    /// stretches are not passed on (holes): once done, the caller must set the output's length
    /// to `output_len()`. Returns what to do next: "done" (the whole output is written),
    /// "wait" (for a batch to come back) or "feed" (hand out more batches). A conversion that
    /// can no longer finish is an error, as is a failed job (the first in output order).
    pub fn emit(&mut self, sink: &Function) -> std::result::Result<String, JsValue> {
        let Converter { driver, out, .. } = self;
        // What the sink throws is the caller's own error (the writer's `no_space`, a failed
        // upload): it goes back unchanged, not wrapped as one of ours.
        let mut thrown = None;
        let mut write = |b: &[u8], at: u64| -> Result<()> {
            // SAFETY: the view is only used during the synchronous call; no allocation happens
            // in between that could move wasm memory.
            let view = unsafe { Uint8Array::view(b) };
            sink.call2(&JsValue::NULL, &view, &JsValue::from_f64(at as f64)).map(|_| ()).map_err(|e| {
                thrown = Some(e);
                Error::invalid(format!("the output sink failed at {at}"))
            })
        };
        let next = driver.emit(&mut |b: &[u8]| out.push(b, &mut write));
        let next = next.map_err(|e| thrown.take().unwrap_or_else(|| js_err(e)))?;
        Ok(match next {
            Next::Done => "done",
            Next::Wait => "wait",
            Next::Feed => "feed",
            Next::Digests => "digests",
        }
        .into())
    }

    /// `{phase, guest_done, guest_total, bytes_out, output_len}`.
    pub fn progress(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.driver.converter().progress())
    }

    /// Output length in bytes, `undefined` until known (compressed QCOW2 measures first).
    pub fn output_len(&self) -> Option<f64> {
        self.driver.converter().output_len().map(|n| n as f64)
    }

    /// `{format, virtual_size, output_len, data_bytes, content_digest, sha512}` once done.
    pub fn report(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.driver.report().map_err(js_err)?)
    }
}

/// Decode a packed batch from [`Converter::next_batch`] (pure; runs in a decode worker) into
/// its packed results for [`Converter::push_batch`]. A job that fails travels as its error, for
/// the assembler to report in output order. `spare`: an `ArrayBuffer` for the result (one the
/// converter handed back), or `undefined`; the result is then a view of its first bytes.
#[wasm_bindgen]
pub fn decode_batch(batch: &[u8], spare: Option<js_sys::ArrayBuffer>) -> std::result::Result<Uint8Array, JsValue> {
    let results = BatchIn::decode(batch).map_err(js_err)?.run();
    Ok(js_bytes(results.encoded_len(), spare, |part| {
        results.encode_parts(part);
    }))
}

/// The digest of a byte range of a `Blob` (a disk inside an OVA) for the manifest check, in a
/// worker of its own ([`Converter::hash_inputs_elsewhere`]): fed the blocks the converter read
/// (`offer`), it reads the rest itself with `FileReaderSync`.
#[wasm_bindgen]
pub struct InputHasher {
    prefix: crate::manifest::Prefix,
    /// Where the range starts in the blob.
    offset: u64,
}

#[wasm_bindgen]
impl InputHasher {
    /// Hash `length` bytes of `blob` from `offset` with `algorithm` ("SHA256", "SHA1",
    /// "SHA512"); `name`: the file's name, for errors.
    #[wasm_bindgen(constructor)]
    pub fn new(
        blob: Blob,
        name: &str,
        offset: f64,
        length: f64,
        algorithm: &str,
    ) -> std::result::Result<InputHasher, JsValue> {
        let a = crate::manifest::Algorithm::from_name(algorithm)
            .ok_or_else(|| js_err(Error::invalid(format!("digest algorithm {algorithm}"))))?;
        let file: SourceRef = BlobSource::new(name, blob).map_err(js_err)?;
        let range = crate::source::SliceSource::new(name, file, offset as u64, length as u64).map_err(js_err)?;
        Ok(InputHasher { prefix: crate::manifest::Prefix::new(range, a), offset: offset as u64 })
    }

    /// Bytes of the blob read at `at` (a block the converter fetched): what lies in the range
    /// goes into the hash.
    pub fn offer(&self, at: f64, bytes: &[u8]) -> std::result::Result<(), JsValue> {
        let at = at as u64;
        if at + bytes.len() as u64 <= self.offset {
            return Ok(());
        }
        let skip = self.offset.saturating_sub(at) as usize;
        self.prefix.offer(at + skip as u64 - self.offset, &bytes[skip..]).map_err(js_err)
    }

    /// The hex digest of the whole range (reading what was not offered).
    pub fn digest(&self) -> std::result::Result<String, JsValue> {
        Ok(hex::encode(self.prefix.digest().map_err(js_err)?))
    }
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
