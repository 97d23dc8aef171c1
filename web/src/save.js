// Where the output goes, without ever holding it in memory:
// - "picker": the File System Access API (showSaveFilePicker, or showDirectoryPicker for
//   several disks) where the browser has it: the converter worker streams into the user's file
//   with a FileSystemWritableFileStream;
// - "opfs": the Origin Private File System, written from the converter worker with a
//   synchronous access handle, then offered as a download (a File backed by disk, not memory);
// - "upload": streamed into the edge worker's PUT /api/images/{id}/file while converting
//   (save-worker.js; only where the browser can stream a request body: HTTP/2 or HTTP/3).
// The main thread picks the target here (pickers need the click's user activation) and keeps
// the OPFS files tidy; the converter worker opens the sink (converter/sink.js). Output arrives
// as (bytes, at): all-zero stretches are skipped and the file is sized at the end, so raw
// images of sparse disks stay sparse where the file system can.
import { hashFile } from './converter/client.js';

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

/**
 * Beside each finished OPFS output, the writer (save-worker.js) writes a small JSON sidecar,
 * `<output>` + SIDECAR_SUFFIX: what the page needs to offer the file again after a reload and
 * to send it to OpenStack then (`{label, format, virtualSize, imageName, shape, props, sha512,
 * output_len, finished}`, see ui/convert.js; `sha512` only once computed: a Send computes it
 * while converting, a Convert on request). Written last, it also marks the output complete:
 * an output without one is what an interrupted conversion left.
 */
export const SIDECAR_SUFFIX = '.meta.json';

/** The sidecar's file name for OPFS output `name`. */
export function sidecarName(name) {
  return name + SIDECAR_SUFFIX;
}

/** A unique OPFS file name for one output. */
export function opfsName(name) {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
  return `${OPFS_PREFIX}${stamp}-${Math.random().toString(36).slice(2, 8)}-${name}`;
}

/** The output's own name (as offered for download) in OPFS name `name` (see opfsName). */
export function storedLabel(name) {
  const m = /^stackferry-\d{14}-[a-z0-9]+-(.+)$/.exec(name);
  return m ? m[1] : name.slice(OPFS_PREFIX.length);
}

/** Main thread: the finished OPFS file, as a disk-backed File for a download link. */
export async function opfsFile(name) {
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle(name);
  return fh.getFile();
}

/** The sidecar of OPFS output `name`, or null (none, unreadable). */
export async function opfsSidecar(name) {
  try {
    return JSON.parse(await (await opfsFile(sidecarName(name))).text());
  } catch {
    return null;
  }
}

/**
 * Add `extra` to the sidecar of OPFS output `name` (the SHA-512 computed later, see
 * ui/results.js). Resolves to whether it was written: a sidecar that cannot be rewritten only
 * means the SHA-512 is computed again when needed.
 */
export async function opfsSidecarUpdate(name, extra) {
  const meta = await opfsSidecar(name);
  if (!meta) return false;
  try {
    const root = await navigator.storage.getDirectory();
    const w = await (await root.getFileHandle(sidecarName(name))).createWritable();
    await w.write(JSON.stringify({ ...meta, ...extra }));
    await w.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The SHA-512 of OPFS output `name` (converter/client.js hashFile, `opts` as there), kept in its
 * sidecar so that it is computed once.
 */
export async function opfsHash(name, opts) {
  const sha512 = await hashFile(await opfsFile(name), opts);
  await opfsSidecarUpdate(name, { sha512 });
  return sha512;
}

/** Our files in OPFS: `[[name, FileSystemFileHandle]]` (none where there is no OPFS). */
async function ours() {
  if (!opfsAvailable()) return [];
  const out = [];
  try {
    const root = await navigator.storage.getDirectory();
    for await (const [name, h] of root.entries()) if (name.startsWith(OPFS_PREFIX) && h.kind === 'file') out.push([name, h]);
  } catch {
    // No OPFS here (private mode).
  }
  return out;
}

/**
 * The finished outputs kept in browser storage, newest first: `[{name (in OPFS), label, size,
 * date (ms), meta}]`. Outputs still being written (no sidecar yet) are left out.
 */
export async function opfsList() {
  const entries = await ours();
  const names = new Set(entries.map(([n]) => n));
  const out = [];
  for (const [name, h] of entries) {
    if (name.endsWith(SIDECAR_SUFFIX) || !names.has(sidecarName(name))) continue;
    try {
      const f = await h.getFile();
      const meta = await opfsSidecar(name);
      out.push({ name, label: (meta && meta.label) || storedLabel(name), size: f.size, date: (meta && meta.finished) || f.lastModified, meta });
    } catch {
      // Removed meanwhile.
    }
  }
  return out.sort((a, b) => b.date - a.date);
}

/** How much storage the page uses and may use: `{usage, quota}` in bytes, or null. */
export async function storageEstimate() {
  try {
    const e = await navigator.storage.estimate();
    return e && e.quota != null ? { usage: e.usage || 0, quota: e.quota } : null;
  } catch {
    return null;
  }
}

/**
 * Remove an OPFS output and its sidecar. A worker that was just terminated may still hold its
 * lock for a moment, so retry briefly.
 */
export async function opfsRemove(name) {
  const root = await navigator.storage.getDirectory();
  const one = async (n) => {
    for (let i = 0; i < 20; i++) {
      try {
        await root.removeEntry(n);
        return true;
      } catch (e) {
        if (e && e.name === 'NotFoundError') return true;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return false;
  };
  const ok = await one(name);
  return (await one(sidecarName(name))) && ok;
}

let cleanup = null;

/**
 * Once per page load: remove what interrupted conversions left in OPFS (outputs without a
 * sidecar, sidecars without an output). Finished outputs stay until the user removes them
 * (ui/stored.js lists them). A file another tab is still writing is locked: it is left alone.
 * Resolves to the number of leftovers removed.
 */
export function opfsCleanup() {
  if (!cleanup) {
    cleanup = (async () => {
      const entries = await ours();
      const names = new Set(entries.map(([n]) => n));
      const root = entries.length ? await navigator.storage.getDirectory() : null;
      let removed = 0;
      for (const [name] of entries) {
        const partial = name.endsWith(SIDECAR_SUFFIX) ? !names.has(name.slice(0, -SIDECAR_SUFFIX.length)) : !names.has(sidecarName(name));
        if (!partial) continue;
        try {
          await root.removeEntry(name);
          if (!name.endsWith(SIDECAR_SUFFIX)) removed++;
        } catch {
          // In use by another tab (still converting): leave it.
        }
      }
      return removed;
    })();
  }
  return cleanup;
}
