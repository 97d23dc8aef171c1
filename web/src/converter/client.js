// The page's end of the converter: the only way the page reaches the wasm core. Each call
// gets its own converter worker (converter-worker.js; `FileReaderSync` only exists in
// workers), which ends with the call: an inspection's memory goes back at once, and a
// conversion's decode and writer workers end with it. Aborting the signal terminates it.
// Checking a kept output's SHA-512 (hashFile) has its own hasher worker likewise.
import { Bridge, transfer } from './bridge.js';
import { Buffers, readInto } from './read.js';

const WORKER = new URL('../converter-worker.js', import.meta.url);

async function once(method, args, options) {
  const bridge = new Bridge(WORKER, { name: 'converter', what: 'the converter' });
  try {
    return await bridge.call(method, args, options);
  } finally {
    bridge.terminate();
  }
}

/**
 * What `files` (`[{name, blob}]`) hold: the core's inspection (`{inputs, unused}`: per input
 * its kind, disks, VM, suggestion, missing files or error). Rejects with a core error.
 */
export function inspect(files, { signal } = {}) {
  return once('inspect', { files }, { signal });
}

/**
 * The whole VM's migration plan (the core's `migration`): `input` is `{disks: [{index, name,
 * capacity, upload_bytes, role, target, volume_type, volume_gib}], boot, flavor, limits,
 * stores}` (limits and stores as `GET /api/limits` and `GET /api/stores` answer); resolves to
 * `{disks, boot, suggested_boot, suggested_format, checks, unknown, fits, problems}`. Rejects
 * with a core error (`invalid_argument` for a malformed input).
 */
export function migration(input, { signal } = {}) {
  return once('migration', { input }, { signal });
}

/**
 * The directory `path` (absolute, `/`-separated) of the guest on input `top` of `files` (as
 * for `inspect`): `{entries: [{name, kind: 'file'|'dir'|'symlink'|'other', size}]}`. Rejects
 * with a core error (code `no_guest_files` when this converter cannot read guest files).
 */
export function guestList(files, top, path, { signal } = {}) {
  return once('guestList', { files, top, path }, { signal });
}

/**
 * The file `path` of the guest on input `top` of `files`: a Uint8Array of at most `cap` bytes
 * (its start, for a longer file). Rejects with a core error, as `guestList`.
 */
export function guestRead(files, top, path, cap, { signal } = {}) {
  return once('guestRead', { files, top, path, cap }, { signal });
}

/**
 * Convert one disk: `job` is `{files, top, disk, options: {format}, target, workers}` (target:
 * see save.js). `onProgress` gets `{type: 'phase'|'planned'|'progress', …}` as the worker goes;
 * resolves to `{report, elapsed_ms, plan_ms, upload, wasm_bytes}`, rejects with a core error
 * (or the signal's reason once aborted).
 */
export function convert(job, { signal, onProgress } = {}) {
  return once('convert', job, { signal, onProgress });
}

const HASHER = new URL('../hash-worker.js', import.meta.url);
const WASM = new URL('../pkg/stackferry_bg.wasm', import.meta.url);
/** Bytes of a file read and hashed at a time (one piece is read while the last is hashed). */
const HASH_PIECE = 8 << 20;

/**
 * The SHA-512 (hex) of `file` (a Blob: a disk-backed OPFS File), by the hasher the writer uses
 * (hash-worker.js, wasm), read piece by piece: memory stays at two pieces whatever the size.
 * `onProgress(done, total)` after each piece; aborting `signal` stops it.
 */
export async function hashFile(file, { signal, onProgress } = {}) {
  const bridge = new Bridge(HASHER, { name: 'hasher', what: 'the hasher' });
  try {
    // The worker compiles the wasm itself: the page's own CSP allows no compiling here.
    await bridge.call('open', { module: WASM.href }, { signal });
    // Two pieces, each back from the hasher before it is read into again (read.js).
    const pieces = new Buffers(HASH_PIECE, 2);
    const read = (at) => (at < file.size ? readInto(file.slice(at, Math.min(file.size, at + HASH_PIECE)), pieces.take(HASH_PIECE)) : null);
    let next = read(0);
    for (let at = 0; at < file.size; at += HASH_PIECE) {
      const piece = await next;
      next = read(at + HASH_PIECE);
      const { buf } = await bridge.call('update', transfer({ buf: piece.buffer, len: piece.length, at }, [piece.buffer]), { signal });
      pieces.give(buf);
      if (onProgress) onProgress(at + piece.length, file.size);
    }
    return await bridge.call('finish', { len: file.size }, { signal });
  } finally {
    bridge.terminate();
  }
}
