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
