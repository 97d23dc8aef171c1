// A decode worker: runs the core's pure decode step (inflate, zero check, digest hashes,
// deflate for compressed QCOW2) on the batches the pool posts, one batch at a time, in order.
import init, { decode_batch } from './pkg/stackferry.js';

/** SHA-256 of the 64 KiB digest blocks with WebCrypto (native code, SHA extensions where the
 * CPU has them: about 4x the speed of the wasm build) instead of in wasm. */
const HASH_WITH_WEBCRYPTO = !!(self.crypto && crypto.subtle);
const BLOCK = 65536;
const HASH_OUTSIDE = 2;

/**
 * Fill in the hashes `decode_batch` left to us. A job's packed block list is a sequence of
 * entries: 0 (zero block), 1 + 32-byte hash (hashed in wasm), or 2 (ours to hash: becomes
 * 1 + SHA-256 of the block).
 */
async function hashBlocks(r) {
  const src = r.blocks;
  let todo = 0;
  for (let i = 0; i < src.length;) {
    if (src[i] === HASH_OUTSIDE) todo++;
    i += src[i] === 1 ? 33 : 1;
  }
  if (!todo) return;
  const out = new Uint8Array(src.length + todo * 32);
  const lens = new Uint32Array(r.block_lens.length);
  const pending = [];
  let inAt = 0;
  let outAt = 0;
  let dataAt = 0;
  for (let j = 0; j < r.block_lens.length; j++) {
    const end = inAt + r.block_lens[j];
    const start = outAt;
    for (let k = 0; inAt < end; k++) {
      const f = src[inAt];
      if (f === HASH_OUTSIDE) {
        const a = dataAt + k * BLOCK;
        const block = r.data.subarray(a, Math.min(a + BLOCK, dataAt + r.data_lens[j]));
        const at = outAt + 1;
        out[outAt] = 1;
        pending.push(crypto.subtle.digest('SHA-256', block).then((h) => out.set(new Uint8Array(h), at)));
        outAt += 33;
        inAt += 1;
      } else {
        const n = f === 1 ? 33 : 1;
        out.set(src.subarray(inAt, inAt + n), outAt);
        outAt += n;
        inAt += n;
      }
    }
    lens[j] = outAt - start;
    dataAt += r.data_lens[j];
  }
  await Promise.all(pending);
  r.blocks = out;
  r.block_lens = lens;
}

let ready = null;
/** Data buffers the converter handed back, reused for the next results. */
const spares = [];
let memory = null;

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'init') {
    ready = init({ module_or_path: m.module }).then((exports) => { memory = exports.memory; });
    return;
  }
  if (m.type === 'spare') {
    if (spares.length < 4) spares.push(m.buffer);
    return;
  }
  if (m.type !== 'decode') return;
  try {
    await ready;
    const b = m.batch;
    const result = decode_batch(b.specs, b.input, b.lens, HASH_WITH_WEBCRYPTO, spares.pop());
    if (HASH_WITH_WEBCRYPTO) await hashBlocks(result);
    const transfer = ['seqs', 'data', 'data_lens', 'blocks', 'block_lens', 'stored', 'stored_lens', 'stored_counts'].map((k) => result[k].buffer);
    // The input buffer goes back too, for the converter's next batch.
    transfer.push(b.input.buffer);
    self.postMessage({ id: m.id, result, spare: b.input.buffer, memory: memory ? memory.buffer.byteLength : 0 }, transfer);
  } catch (err) {
    const error = err && typeof err === 'object' && 'kind' in err
      ? err
      : { kind: 'invalid_argument', file: '', offset: null, message: String(err && err.message || err) };
    self.postMessage({ id: m.id, error });
  }
};
