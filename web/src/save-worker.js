// The writer (a worker nested in the converter worker): writes the output, off the
// converter's thread, and passes each piece on to its own nested hasher (hash-worker.js) for
// the SHA-512 (Glance's os_hash_value), so writing and hashing run side by side. Output arrives
// in order as (bytes, at) pieces; all-zero stretches were skipped, so the file is sized at the
// end (and the hasher hashes gaps as zeros). Targets: an Origin Private File System file
// through a synchronous access handle (only dedicated workers have those), or a file the user
// picked, through a FileSystemWritableFileStream. Each piece is acknowledged to the converter
// with its size and its buffer (for reuse) once written and hashed, which bounds the bytes in
// flight (see save.js). Messages are handled one at a time, in order.
//
// A third target, `{kind: 'upload', url}`, streams the output into the edge worker's
// `PUT /api/images/{id}/file` while converting: a ReadableStream request body (fetch with
// duplex 'half'; Chromium sends those only over HTTP/2 or HTTP/3) fed in order, gaps filled with
// zeros, with the length declared in X-Upload-Length (a streamed body cannot carry
// Content-Length). A write is acknowledged only once the stream has room again, so the bytes
// queued for the network stay under UPLOAD_HIGH_WATER on top of the converter's own bound.
let sync = null; // FileSystemSyncAccessHandle
let stream = null; // FileSystemWritableFileStream
let hasher = null; // the hash worker
let hashCalls = null; // its pending calls by id
let pos = 0; // output bytes written so far
let size = 0; // OPFS file size set so far
let up = null; // the streamed upload (target kind 'upload')

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
      u.failed = u.failed || { kind: 'upload', file: '', offset: null, message: `the upload stopped: ${(reason && reason.message) || reason || 'cancelled'}` };
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
  self.postMessage({ uploaded: taken(u) });
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
      u.failed = u.failed || {
        kind: 'upload', file: '', offset: null, upload: body,
        message: body && body.error ? `${body.error}: ${body.detail || ''}${body.upstream_status ? ` (OpenStack answered HTTP ${body.upstream_status})` : ''}` : `the upload was answered HTTP ${r.status}`,
      };
    }
  }, (e) => {
    // Chromium refuses a streamed body over HTTP/1.1 with a TypeError before sending anything.
    u.failed = u.failed || { kind: 'stream_failed', file: '', offset: null, message: `the streamed upload failed: ${(e && e.message) || e}`, sent: taken(u) };
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
  if (u.response) throw { kind: 'upload', file: '', offset: null, message: `the server answered (HTTP ${u.response.status}) before the upload was complete` };
  report(u);
}

async function enqueueZeros(u, n) {
  while (n > 0) {
    const k = Math.min(n, ZEROS);
    await enqueue(u, new Uint8Array(k));
    n -= k;
  }
}

async function handle(m) {
  if (m.type === 'open') {
    await openHasher(m.module);
    pos = 0;
    if (m.target.kind === 'upload') {
      up = openUpload(m.target);
    } else if (m.target.kind === 'opfs') {
      const root = await navigator.storage.getDirectory();
      const fh = await root.getFileHandle(m.target.name, { create: true });
      sync = await fh.createSyncAccessHandle();
      sync.truncate(0);
      size = 0;
    } else {
      stream = await m.target.handle.createWritable({ keepExistingData: false });
    }
    self.postMessage({ id: m.id });
  } else if (m.type === 'reserve') {
    if (up) {
      if (!up.fetchDone) startUpload(up, m.len);
      return;
    }
    // Sizing the file first spares each write a quota check.
    if (sync && m.len > size) {
      sync.truncate(m.len);
      size = m.len;
    }
  } else if (m.type === 'write') {
    const view = new Uint8Array(m.buf, 0, m.len);
    if (m.at < pos) throw new Error(`output out of order at ${m.at} (written up to ${pos})`);
    if (up) {
      if (!up.fetchDone) throw new Error('output before its length is known');
      if (m.at > pos) await enqueueZeros(up, m.at - pos);
      // A copy: the buffer goes back to the converter for reuse.
      await enqueue(up, new Uint8Array(view));
    }
    pos = m.at + m.len;
    if (up) {
      // streamed: nothing to store
    } else if (sync) {
      const n = sync.write(view, { at: m.at });
      if (n !== m.len) throw new Error(`wrote ${n} of ${m.len} bytes at ${m.at} (is the disk full?)`);
    } else {
      await stream.write({ type: 'write', position: m.at, data: view });
    }
    // Acknowledged to the converter by the hasher's answer (see openHasher).
    hasher.postMessage({ type: 'update', buf: m.buf, len: m.len, at: m.at }, [m.buf]);
  } else if (m.type === 'finish') {
    // The hasher takes messages in order: this comes after every update.
    const { sha512 } = await hashCall({ type: 'finish', len: m.len });
    closeHasher();
    if (up) {
      if (!up.fetchDone) startUpload(up, m.len);
      if (m.len > pos) await enqueueZeros(up, m.len - pos);
      if (!up.failed) up.controller.close();
      await up.fetchDone;
      report(up, true);
      const u = up;
      up = null;
      if (u.failed) throw u.failed;
      self.postMessage({ id: m.id, sha512, upload: u.response.body });
      return;
    }
    if (sync) {
      sync.truncate(m.len);
      sync.flush();
      sync.close();
      sync = null;
    } else {
      await stream.truncate(m.len);
      await stream.close();
      stream = null;
    }
    self.postMessage({ id: m.id, sha512 });
  } else if (m.type === 'abort') {
    closeHasher();
    if (sync) sync.close();
    if (stream) await stream.abort();
    if (up) {
      try { up.controller.error(new Error('conversion stopped')); } catch { /* closed already */ }
      up = null;
    }
    sync = stream = null;
    self.postMessage({ id: m.id });
  }
}

/** Start the hash worker; its acknowledgements of hashed pieces go on to the converter. */
async function openHasher(module) {
  closeHasher();
  hasher = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module', name: 'hasher' });
  hashCalls = new Map();
  hasher.onmessage = (e) => {
    const r = e.data;
    if (r.buf) {
      self.postMessage({ bytes: r.hashed, buf: r.buf }, [r.buf]);
    } else if (r.error && !hashCalls.has(r.id)) {
      self.postMessage({ bytes: r.hashed, error: r.error });
    }
    const p = hashCalls.get(r.id);
    if (p) { hashCalls.delete(r.id); if (r.error) p.reject(r.error); else p.resolve(r); }
  };
  hasher.onerror = (e) => {
    e.preventDefault();
    const error = { kind: 'io', file: '', offset: null, message: `the hasher failed: ${e.message}` };
    self.postMessage({ error });
    for (const p of hashCalls.values()) p.reject(error);
    hashCalls.clear();
  };
  await hashCall({ type: 'open', module });
}

let hashId = 1;
function hashCall(msg) {
  return new Promise((resolve, reject) => {
    const id = hashId++;
    hashCalls.set(id, { resolve, reject });
    hasher.postMessage({ ...msg, id });
  });
}

function closeHasher() {
  if (hasher) hasher.terminate();
  hasher = null;
}

let chain = Promise.resolve();
self.onmessage = (e) => {
  const m = e.data;
  chain = chain.then(() => handle(m)).catch((err) => {
    const quota = err && err.name === 'QuotaExceededError';
    self.postMessage({
      id: m.id,
      bytes: m.type === 'write' ? m.len : 0,
      error: err && typeof err === 'object' && 'kind' in err ? err : {
        kind: quota ? 'too_large' : 'io', file: '', offset: m.at ?? null,
        message: `${quota ? 'not enough storage for the output: ' : 'writing the output failed: '}${(err && err.message) || err}`,
      },
    });
  });
};
