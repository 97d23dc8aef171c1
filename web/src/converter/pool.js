// The decode workers of one conversion (decode-worker.js), each a bridge: a worker runs the
// core's pure decode step (`decode_batch`) on the batches posted to it, one at a time, and the
// pool gives each batch to the worker with the shortest queue. Terminating the pool (Cancel,
// the end of the conversion) stops every worker at once, whatever it is doing. Batch buffers
// travel back and forth (input buffers back to the converter, data buffers back to the
// decoders) instead of being allocated per batch, which keeps the garbage, and so the memory,
// down. Batches and results are the core's: the pool only moves them.
import { Bridge, transfer } from './bridge.js';

/** Buffers kept for reuse on each side. */
const SPARES = 4;
const WORKER = new URL('../decode-worker.js', import.meta.url);

/**
 * Decode workers for a conversion: into a file, one more than the cores (measured on 2 cores,
 * bench/page-ab.mjs, 5 runs each, with BATCH_JOBS 32: 11.04 s with 2, 10.35 s with 3; while one
 * waits for its next batch or for its result to be taken, another has work). `streaming` (the
 * output goes out over the network as it is made): one per core, as the network sets the pace
 * and the browser encrypts and sends on the same cores (the web bench's upload case, 3 runs
 * each: 37.6 s with 3, 34.1 s with 2).
 */
export function defaultWorkers(streaming = false) {
  const cores = navigator.hardwareConcurrency || 2;
  return streaming ? cores : cores + 1;
}

export class Pool {
  /**
   * @param {number} size number of workers (defaultWorkers())
   * @param {WebAssembly.Module} module the compiled converter, shared by every worker
   */
  constructor(size, module) {
    this.slots = [];
    this.failed = null;
    /** Largest wasm memory a decode worker reported. */
    this.maxMemory = 0;
    /** Input buffers the workers handed back, for the next batches. */
    this.spareInputs = [];
    for (let i = 0; i < Math.max(1, size); i++) {
      const bridge = new Bridge(WORKER, { name: `decode-${i}`, what: 'decode worker' });
      bridge.on('failed', (e) => { this.failed = this.failed || e; });
      bridge.notify('init', { module });
      this.slots.push({ bridge, queued: 0 });
    }
  }

  get size() {
    return this.slots.length;
  }

  /**
   * Decode a batch (from `Converter.next_batch`); resolves to `{result, slot}` with its
   * `decode_batch` result. The batch's buffers are transferred (the caller must not use them
   * again).
   */
  async run(batch) {
    if (this.failed) throw this.failed;
    let slot = this.slots[0];
    for (const s of this.slots) if (s.queued < slot.queued) slot = s;
    slot.queued++;
    try {
      const { result, spare, memory } = await slot.bridge.call('decode', transfer(batch));
      if (spare && this.spareInputs.length < SPARES) this.spareInputs.push(spare);
      if (memory > this.maxMemory) this.maxMemory = memory;
      return { result, slot };
    } finally {
      slot.queued--;
    }
  }

  /** A spare input buffer for `Converter.next_batch`, if one came back. */
  takeSpareInput() {
    return this.spareInputs.pop();
  }

  /** Hand a result's data buffer back to the worker that made it, for its next result. */
  recycle(slot, buffer) {
    if (buffer && buffer.byteLength && this.slots.includes(slot)) slot.bridge.notify('spare', transfer(buffer));
  }

  terminate() {
    for (const s of this.slots) s.bridge.terminate();
    this.slots = [];
  }
}
