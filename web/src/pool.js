// A pool of decode workers, the way Squoosh runs its codecs: each worker runs the pure
// `decode_job` of the core on batches posted to it; every worker works through its own serial
// queue, and the pool gives each batch to the worker with the shortest queue. Terminating the
// pool (Cancel) stops every worker at once, whatever it is doing. Batch buffers travel back
// and forth (input buffers back to the converter, data buffers back to the decoders) instead
// of being allocated per batch, which keeps the garbage, and so the memory, down.

/** Buffers kept for reuse on each side. */
const SPARES = 4;

export class Pool {
  /**
   * @param {number} size number of workers (navigator.hardwareConcurrency)
   * @param {WebAssembly.Module} module the compiled converter, shared by every worker
   */
  constructor(size, module) {
    this.workers = [];
    this.nextId = 1;
    this.failed = null;
    /** Largest wasm memory a decode worker reported. */
    this.maxMemory = 0;
    /** Input buffers the workers handed back, for the next batches. */
    this.spareInputs = [];
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module', name: `decode-${i}` });
      const slot = { worker: w, queued: 0, pending: new Map() };
      w.onmessage = (e) => {
        const m = e.data;
        if (m.spare && this.spareInputs.length < SPARES) this.spareInputs.push(m.spare);
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        slot.queued--;
        if (m.memory > this.maxMemory) this.maxMemory = m.memory;
        if (m.error) p.reject(m.error);
        else p.resolve({ result: m.result, slot });
      };
      w.onerror = (e) => {
        e.preventDefault();
        const err = { kind: 'io', file: '', offset: null, message: `decode worker failed: ${e.message || 'unknown error'}` };
        this.failed = err;
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      };
      w.postMessage({ type: 'init', module });
      this.workers.push(slot);
    }
  }

  get size() {
    return this.workers.length;
  }

  /**
   * Decode a batch `{specs, input, lens}` (from `Converter.next_batch`); resolves to its
   * `decode_batch` result. The input buffer is transferred (the caller must not use it again).
   */
  run(batch) {
    if (this.failed) return Promise.reject(this.failed);
    let slot = this.workers[0];
    for (const s of this.workers) if (s.queued < slot.queued) slot = s;
    const id = this.nextId++;
    slot.queued++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: 'decode', id, batch }, [batch.buffer]);
    });
  }

  /** A spare input buffer for `Converter.next_batch`, if one came back. */
  takeSpareInput() {
    return this.spareInputs.pop();
  }

  /** Hand a result's data buffer back to the worker that made it, for its next result. */
  recycle(slot, buffer) {
    if (buffer && buffer.byteLength && this.workers.includes(slot)) slot.worker.postMessage({ type: 'spare', buffer }, [buffer]);
  }

  terminate() {
    for (const s of this.workers) s.worker.terminate();
    this.workers = [];
  }
}
