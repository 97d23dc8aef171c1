// The writer (a worker nested in the converter worker): writes the output, off the
// converter's thread, and (when asked: a Send needs it, a Convert does not) passes each piece
// on to its own nested hasher (hash-worker.js) for the SHA-512 (Glance's os_hash_value), so
// writing and hashing run side by side. Without it a conversion costs a quarter less CPU: the
// SHA-512 is the most expensive thing the page computes (see bench/RESULTS.md). Output arrives
// in order as (bytes, at) pieces; all-zero stretches were skipped, so the file is sized at the
// end (and the hasher hashes gaps as zeros). Targets: an Origin Private File System file
// through a synchronous access handle (only dedicated workers have those), or a file the user
// picked, through a FileSystemWritableFileStream. Each piece is acknowledged to the converter
// with its size and its buffer (for reuse) once written and hashed, which bounds the bytes in
// flight (see converter/sink.js). Calls come through the bridge, one at a time, in order.
//
// A third target, `{kind: 'upload', url}`, streams the output into the edge worker's
// `PUT /api/images/{id}/file` while converting: a ReadableStream request body (fetch with
// duplex 'half'; Chromium sends those only over HTTP/2 or HTTP/3) fed in order, gaps filled with
// zeros, with the length declared in X-Upload-Length (a streamed body cannot carry
// Content-Length). A write is acknowledged only once the stream has room again, so the bytes
// queued for the network stay under UPLOAD_HIGH_WATER on top of the converter's own bound.
import { Bridge, emit, serve, transfer } from './converter/bridge.js';
import { asCoreError, coreError } from './error.js';
import { isQuotaError, largestGrant, noSpace, writeInPieces } from './quota.js';
import { SIDECAR_SUFFIX } from './save.js';

let sync = null; // FileSystemSyncAccessHandle
let stream = null; // FileSystemWritableFileStream
let hasher = null; // the hash worker's bridge
let pos = 0; // output bytes written so far
let size = 0; // OPFS file size set so far
let up = null; // the streamed upload (target kind 'upload')
let opfs = null; // the OPFS target (`{name, meta}`): the sidecar written at the end; removed if it fails

/** Bytes queued in the upload stream before a write waits for the network to take them. */
const UPLOAD_HIGH_WATER = 8 << 20;
const ZEROS = 1 << 20;

/** Upload state: the stream feeding fetch's request body, and the fetch itself. */
function openUpload(target) {
  const u = { url: target.url, controller: null, enqueued: 0, wake: null, failed: null, response: null, fetchDone: null, lastReport: 0 };
  u.stream = new ReadableStream({
    start(c) { u.controller = c; },
    pull() {
      report(u);
      wakeUp(u);
    },
    cancel(reason) {
      u.failed = u.failed || coreError('upload', `the upload stopped: ${(reason && reason.message) || reason || 'cancelled'}`);
      wakeUp(u);
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: UPLOAD_HIGH_WATER }));
  return u;
}

function wakeUp(u) {
  if (u.wake) {
    const w = u.wake;
    u.wake = null;
    w();
  }
}

/** Bytes the network side has taken from the stream. */
function taken(u) {
  // A closed stream's desiredSize is 0: once the request is answered, all was taken.
  if (u.response) return u.enqueued;
  const queued = UPLOAD_HIGH_WATER - (u.controller.desiredSize ?? UPLOAD_HIGH_WATER);
  return Math.max(0, u.enqueued - queued);
}

function report(u, force) {
  const now = performance.now();
  if (!force && now - u.lastReport < 100) return;
  u.lastReport = now;
  emit('uploaded', taken(u));
}

/** Start the request once the length is known. */
function startUpload(u, len) {
  const headers = { 'Content-Type': 'application/octet-stream', 'X-Stackferry': '1', 'X-Upload-Length': String(len) };
  let p;
  try {
    p = fetch(u.url, { method: 'PUT', body: u.stream, duplex: 'half', headers, credentials: 'same-origin' });
  } catch (e) {
    p = Promise.reject(e);
  }
  u.fetchDone = p.then(async (r) => {
    let body = null;
    try { body = await r.json(); } catch { /* not JSON */ }
    u.response = { status: r.status, body };
    if (!r.ok) {
      u.failed = u.failed || coreError('upload', body && body.error
        ? `${body.error}: ${body.detail || ''}${body.upstream_status ? ` (OpenStack answered HTTP ${body.upstream_status})` : ''}`
        : `the upload was answered HTTP ${r.status}`, { upload: body });
    }
  }, (e) => {
    // Chromium refuses a streamed body over HTTP/1.1 with a TypeError before sending anything.
    u.failed = u.failed || coreError('stream_failed', `the streamed upload failed: ${(e && e.message) || e}`, { sent: taken(u) });
  }).finally(() => wakeUp(u));
}

async function enqueue(u, chunk) {
  if (u.failed) throw u.failed;
  u.controller.enqueue(chunk);
  u.enqueued += chunk.length;
  while (u.controller.desiredSize <= 0 && !u.failed && !u.response) {
    await new Promise((r) => { u.wake = r; });
  }
  if (u.failed) throw u.failed;
  if (u.response) throw coreError('upload', `the server answered (HTTP ${u.response.status}) before the upload was complete`);
  report(u);
}

async function enqueueZeros(u, n) {
  while (n > 0) {
    const k = Math.min(n, ZEROS);
    await enqueue(u, new Uint8Array(k));
    n -= k;
  }
}

serve({
  /** `hash`: whether to compute the output's SHA-512 (`finish` resolves to `{sha512: null}` without). */
  async open({ target, module, hash = true }) {
    if (hash) await openHasher(module);
    else closeHasher();
    pos = 0;
    if (target.kind === 'upload') {
      up = openUpload(target);
    } else if (target.kind === 'opfs') {
      opfs = target;
      const root = await navigator.storage.getDirectory();
      const fh = await root.getFileHandle(target.name, { create: true });
      sync = await fh.createSyncAccessHandle();
      // Only a file with something in it is emptied: on ext4, emptying a file makes closing it
      // write all of it to disk (the "replace via truncate" heuristic), 1 s for the bench disk.
      if (sync.getSize() > 0) sync.truncate(0);
      size = 0;
    } else {
      stream = await target.handle.createWritable({ keepExistingData: false });
    }
  },

  /**
   * The output will be `len` bytes: starts the upload (its length known), sizes an OPFS file.
   * Sizing the file first asks the browser for the whole quota at once, as it enforces it
   * (see quota.js), so a page short of storage learns it before converting; the writes then
   * need no quota check.
   */
  reserve({ len }) {
    if (up) {
      if (!up.fetchDone) startUpload(up, len);
      return;
    }
    if (sync && len > size) {
      if (!grow(len)) throw noSpace(len, largestGrant(grow, len));
      size = len;
    }
  },

  /** A piece of output; acknowledged with the event `written` once written and hashed. */
  async write({ buf, len, at }) {
    const view = new Uint8Array(buf, 0, len);
    if (at < pos) throw new Error(`output out of order at ${at} (written up to ${pos})`);
    if (up) {
      if (!up.fetchDone) throw new Error('output before its length is known');
      if (at > pos) await enqueueZeros(up, at - pos);
      // A copy: the buffer goes back to the converter for reuse.
      await enqueue(up, new Uint8Array(view));
    }
    pos = at + len;
    if (up) {
      // streamed: nothing to store
    } else if (sync) {
      writeInPieces((piece, offset) => sync.write(piece, { at: offset }), view, at, Math.max(size, pos));
    } else {
      await stream.write({ type: 'write', position: at, data: view });
    }
    if (!hasher) {
      emit('written', transfer({ bytes: len, buf }, [buf]));
      return;
    }
    // Not awaited: the hasher hashes this piece while the next one is written.
    hasher.call('update', transfer({ buf, len, at }, [buf])).then(
      ({ hashed, buf: back }) => emit('written', transfer({ bytes: hashed, buf: back }, [back])),
      (error) => emit('failed', error));
  },

  /** The output is `len` bytes: resolves to `{sha512, upload?}` (upload: the API's answer). */
  async finish({ len }) {
    // The hasher takes calls in order: this comes after every update.
    const sha512 = hasher ? await hasher.call('finish', { len }) : null;
    closeHasher();
    if (up) {
      if (!up.fetchDone) startUpload(up, len);
      if (len > pos) await enqueueZeros(up, len - pos);
      if (!up.failed) up.controller.close();
      await up.fetchDone;
      report(up, true);
      const u = up;
      up = null;
      if (u.failed) throw u.failed;
      return { sha512, upload: u.response.body };
    }
    if (sync) {
      // Not flushed to disk (the kernel writes it back in its own time): `qemu-img convert`
      // does not flush by default either, nor does the CLI or a browser download; it cost 1.0 s
      // of a 10 s conversion of the bench disk (2.3 GiB). The sidecar, written next, is tiny.
      sync.truncate(len);
      sync.close();
      sync = null;
      await writeSidecar(opfs, sha512 ? { sha512, output_len: len } : { output_len: len });
      opfs = null;
    } else {
      await stream.truncate(len);
      await stream.close();
      stream = null;
    }
    return { sha512 };
  },

  /** Stop: a picked file's stream discards what it holds, an unfinished OPFS output is removed. */
  async abort() {
    closeHasher();
    if (sync) sync.close();
    if (stream) await stream.abort();
    if (up) {
      try { up.controller.error(new Error('conversion stopped')); } catch { /* closed already */ }
      up = null;
    }
    sync = stream = null;
    if (opfs) await removeOpfs(opfs.name);
    opfs = null;
  },
}, { toError: (e, args) => asCoreError(e, { context: 'writing the output failed: ', offset: (args && args.at) ?? null }) });

/** Whether the browser lets the OPFS output grow to `len` bytes (QuotaExceededError: no). */
function grow(len) {
  try {
    sync.truncate(len);
    return true;
  } catch (e) {
    if (isQuotaError(e)) return false;
    throw e;
  }
}

/**
 * Remove OPFS output `name` and its sidecar (the page removes them too, see ui/convert.js; this
 * covers a failure it does not see, e.g. the sidecar failing to write).
 */
async function removeOpfs(name) {
  const root = await navigator.storage.getDirectory();
  for (const n of [name, `${name}${SIDECAR_SUFFIX}`]) {
    try {
      await root.removeEntry(n);
    } catch {
      // Not there (no sidecar yet), or the page removed it first.
    }
  }
}

/**
 * Beside a finished OPFS output, its sidecar (see save.js): the page's `meta` for it plus the
 * length and SHA-512 (when computed). Written last, so that its presence says the output is complete.
 */
async function writeSidecar(target, extra) {
  if (!target) return;
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle(`${target.name}${SIDECAR_SUFFIX}`, { create: true });
  const h = await fh.createSyncAccessHandle();
  try {
    const bytes = new TextEncoder().encode(JSON.stringify({ ...(target.meta || {}), ...extra, finished: Date.now() }));
    h.truncate(0);
    h.write(bytes, { at: 0 });
    h.flush();
  } finally {
    h.close();
  }
}

/** Start the hash worker (nested in this one), given the compiled wasm `module`. */
async function openHasher(module) {
  closeHasher();
  hasher = new Bridge(new URL('./hash-worker.js', import.meta.url), { name: 'hasher', what: 'the hasher' });
  await hasher.call('open', { module });
}

function closeHasher() {
  if (hasher) hasher.terminate();
  hasher = null;
}
