// A decode worker: runs the core's pure decode step (inflate, zero check, digest block hashes,
// deflate for compressed QCOW2) on the batches the pool posts, one batch at a time, in order
// (converter/pool.js; the calls come through the bridge, whose queue puts `init` first).
import init, { decode_batch } from './pkg/stackferry.js';
import { serve, transfer } from './converter/bridge.js';
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
  decode(batch) {
    // A packed batch in, packed results out: the core's format, opaque here.
    const result = decode_batch(batch, spares.pop());
    // The batch's buffer goes back too, for the converter's next batch.
    const spare = batch.buffer;
    return transfer({ result, spare, memory: memory ? memory.buffer.byteLength : 0 }, [result.buffer, spare]);
  },
}, { toError: (e) => asCoreError(e, { kind: 'invalid_argument' }) });
