// The page's end of the converter: the only way the page reaches the wasm core. Each call
// gets its own converter worker (converter-worker.js; `FileReaderSync` only exists in
// workers), which ends with the call: an inspection's memory goes back at once, and a
// conversion's decode and writer workers end with it. Aborting the signal terminates it.
import { Bridge } from './bridge.js';

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
