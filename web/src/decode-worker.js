// A decode worker: runs the core's pure decode step (inflate, zero check, digest block hashes,
// deflate for compressed QCOW2) on the batches the pool posts, one batch at a time, in order.
import init, { decode_batch } from './pkg/stackferry.js';

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
    // A packed batch in, packed results out: the core's format, opaque here.
    const result = decode_batch(m.batch, spares.pop());
    // The batch's buffer goes back too, for the converter's next batch.
    const spare = m.batch.buffer;
    self.postMessage({ id: m.id, result, spare, memory: memory ? memory.buffer.byteLength : 0 }, [result.buffer, spare]);
  } catch (err) {
    const error = err && typeof err === 'object' && 'kind' in err
      ? err
      : { kind: 'invalid_argument', file: '', offset: null, message: String(err && err.message || err) };
    self.postMessage({ id: m.id, error });
  }
};
