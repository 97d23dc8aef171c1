// A decode worker: runs the core's pure `decode_job` (inflate, zero check, digest hashes,
// deflate for compressed QCOW2) on the batches the pool posts, one batch at a time, in order.
import init, { decode_job } from './pkg/stackferry.js';

let ready = null;
let memory = null;

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'init') {
    ready = init({ module_or_path: m.module }).then((exports) => { memory = exports.memory; });
    return;
  }
  if (m.type !== 'decode') return;
  try {
    await ready;
    const results = [];
    const transfer = [];
    for (const job of m.jobs) {
      const r = decode_job(job.spec, job.input);
      results.push(r);
      if (r.data) transfer.push(r.data.buffer);
      if (r.blocks) transfer.push(r.blocks.buffer);
      if (r.stored) for (const s of r.stored) transfer.push(s.buffer);
    }
    self.postMessage({ id: m.id, results, memory: memory ? memory.buffer.byteLength : 0 }, transfer);
  } catch (err) {
    const error = err && typeof err === 'object' && 'kind' in err
      ? err
      : { kind: 'invalid_argument', file: '', offset: null, message: String(err && err.message || err) };
    self.postMessage({ id: m.id, error });
  }
};
