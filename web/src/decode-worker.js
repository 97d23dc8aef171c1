// A decode worker: runs the core's pure decode step (inflate, zero check, digest block hashes,
// deflate for compressed QCOW2) on the batches the pool posts, one batch at a time, in order
// (converter/pool.js; the calls come through the bridge, whose queue puts `init` first).
import init, { decode_batch } from './pkg/stackferry.js';
import { buffersOf, serve, transfer } from './converter/bridge.js';
import { asCoreError } from './error.js';

/** Data buffers the converter handed back, reused for the next results. */
const spares = [];
let memory = null;

serve({
  async init({ module }) {
    memory = (await init({ module_or_path: module })).memory;
  },
  spare(buffer) {
    if (spares.length < 4) spares.push(buffer);
  },
  decode(b) {
    const result = decode_batch(b.specs, b.input, b.lens, spares.pop());
    // The input buffer goes back too, for the converter's next batch.
    const answer = { result, spare: b.input.buffer, memory: memory ? memory.buffer.byteLength : 0 };
    return transfer(answer, [...new Set([...buffersOf(result), b.input.buffer])]);
  },
}, { toError: (e) => asCoreError(e, { kind: 'invalid_argument' }) });
