// Where the output goes, without ever holding it in memory:
// - "picker": the File System Access API (showSaveFilePicker, or showDirectoryPicker for
//   several disks) where the browser has it: the converter worker streams into the user's file
//   with a FileSystemWritableFileStream;
// - "opfs": the Origin Private File System, written from the converter worker with a
//   synchronous access handle, then offered as a download (a File backed by disk, not memory);
// - "upload": streamed into the edge worker's PUT /api/images/{id}/file while converting
//   (save-worker.js; only where the browser can stream a request body: HTTP/2 or HTTP/3).
// The main thread picks the target (pickers need the click's user activation); the converter
// worker opens the sink. Output arrives as (bytes, at): all-zero stretches are skipped and the
// file is sized at the end, so raw images of sparse disks stay sparse where the file system can.

/** Name prefix of our files in the Origin Private File System. */
export const OPFS_PREFIX = 'stackferry-';

export function pickerAvailable() {
  return typeof self.showSaveFilePicker === 'function';
}

export function opfsAvailable() {
  return !!(self.navigator && navigator.storage && typeof navigator.storage.getDirectory === 'function');
}

/**
 * Main thread, inside the click handler: ask where to save. `names` are the output file names
 * (one per disk). Resolves to one target per name: `{kind: 'handle', handle}`. Throws
 * AbortError when the user cancels the dialog.
 */
export async function pickTargets(names) {
  if (names.length === 1) {
    const ext = names[0].split('.').pop();
    const handle = await self.showSaveFilePicker({
      suggestedName: names[0],
      types: [{ description: ext === 'raw' ? 'Raw disk image' : 'QCOW2 disk image', accept: { 'application/octet-stream': [`.${ext}`] } }],
    });
    return [{ kind: 'handle', handle, name: handle.name }];
  }
  const dir = await self.showDirectoryPicker({ mode: 'readwrite' });
  const out = [];
  for (const name of names) {
    const handle = await dir.getFileHandle(name, { create: true });
    out.push({ kind: 'handle', handle, name });
  }
  return out;
}

/** A unique OPFS file name for one output. */
export function opfsName(name) {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
  return `${OPFS_PREFIX}${stamp}-${Math.random().toString(36).slice(2, 8)}-${name}`;
}

/** Main thread: the finished OPFS file, as a disk-backed File for a download link. */
export async function opfsFile(name) {
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle(name);
  return fh.getFile();
}

/**
 * Remove an OPFS output. A worker that was just terminated may still hold its lock for a
 * moment, so retry briefly.
 */
export async function opfsRemove(name) {
  const root = await navigator.storage.getDirectory();
  for (let i = 0; i < 20; i++) {
    try {
      await root.removeEntry(name);
      return true;
    } catch (e) {
      if (e && e.name === 'NotFoundError') return true;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/** Remove our OPFS files older than `maxAgeMs` (left behind by closed tabs). */
export async function opfsCleanup(maxAgeMs = 12 * 3600 * 1000) {
  if (!opfsAvailable()) return;
  try {
    const root = await navigator.storage.getDirectory();
    for await (const [name, h] of root.entries()) {
      if (!name.startsWith(OPFS_PREFIX) || h.kind !== 'file') continue;
      try {
        const f = await h.getFile();
        if (Date.now() - f.lastModified > maxAgeMs) await root.removeEntry(name);
      } catch {
        // In use by another tab: leave it.
      }
    }
  } catch {
    // No OPFS here (private mode): nothing to clean.
  }
}

/** Output bytes a sink may hold queued before the converter waits for the file to catch up. */
export const SINK_HIGH_WATER = 16 << 20;

/**
 * Converter worker: open the sink for `target` (`{kind: 'opfs', name}` or `{kind: 'handle',
 * handle}`): a writer worker (save-worker.js) that writes the file and has its own hasher
 * worker (hash-worker.js) compute the output's SHA-512, given the compiled wasm `module`. `write(view, at)` is synchronous and copies the
 * bytes into a (recycled) buffer posted to the writer; `drain()` waits until at most
 * SINK_HIGH_WATER bytes are queued; `finish(len)` waits for everything, sizes the file to `len`
 * (holes were skipped), closes it and resolves to the SHA-512 (hex).
 */
export async function openSink(target, module) {
  let queued = 0;
  let uploaded = 0;
  let uploadAnswer = null;
  let failed = null;
  const waiters = [];
  const settle = () => {
    while (waiters.length && (failed || queued <= waiters[0].limit)) waiters.shift().resolve();
  };
  const until = (limit) => (failed || queued <= limit ? Promise.resolve() : new Promise((resolve) => waiters.push({ limit, resolve })));
  const check = () => { if (failed) throw failed; };

  const w = new Worker(new URL('./save-worker.js', import.meta.url), { type: 'module', name: 'writer' });
  let nextId = 1;
  const pending = new Map();
  // Buffers go to the writer and come back, so steady writing allocates nothing.
  const free = [];
  w.onmessage = (e) => {
    const m = e.data;
    if (m.error) failed = failed || m.error;
    if (m.bytes) queued -= m.bytes;
    if (m.uploaded != null) uploaded = m.uploaded;
    if (m.buf && free.length < 8) free.push(m.buf);
    const p = pending.get(m.id);
    if (p) { pending.delete(m.id); if (m.error) p.reject(m.error); else p.resolve(m); }
    settle();
  };
  w.onerror = (e) => {
    e.preventDefault();
    failed = failed || { kind: 'io', file: '', offset: null, message: `writer failed: ${e.message}` };
    for (const p of pending.values()) p.reject(failed);
    pending.clear();
    settle();
  };
  const call = (msg) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    w.postMessage({ ...msg, id });
  });
  try {
    await call({ type: 'open', target, module });
  } catch (e) {
    w.terminate();
    throw e;
  }
  return {
    reserve(len) { w.postMessage({ type: 'reserve', len }); },
    write(view, at) {
      check();
      let buf = free.pop();
      if (!buf || buf.byteLength < view.length) buf = new ArrayBuffer(Math.max(view.length, 4 << 20));
      new Uint8Array(buf, 0, view.length).set(view);
      queued += view.length;
      w.postMessage({ type: 'write', buf, len: view.length, at }, [buf]);
    },
    async drain() { await until(SINK_HIGH_WATER); check(); },
    /** Upload target: bytes the network has taken so far. */
    get uploaded() { return uploaded; },
    /** Upload target: the API's answer to the PUT once finished. */
    get uploadAnswer() { return uploadAnswer; },
    async finish(len) {
      await until(0);
      check();
      const { sha512, upload } = await call({ type: 'finish', len });
      uploadAnswer = upload || null;
      w.terminate();
      return sha512;
    },
    async abort() {
      // Let a picked file's stream discard what it holds; do not wait long for it.
      await Promise.race([call({ type: 'abort' }).catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
      w.terminate();
    },
  };
}
