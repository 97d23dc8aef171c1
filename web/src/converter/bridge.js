// The one way the page's threads talk to each other, in the Squoosh manner: the page to its
// converter workers, a converter to its decode workers and its writer, the writer to its
// hasher. The caller holds a `Bridge` to a worker and calls methods on it; the worker `serve`s
// them one at a time, in order (a serial queue: writes and hashes must not overtake each
// other). Aborting a call's signal terminates the worker, the only reliable way to stop wasm in
// the middle of its work. Big buffers are transferred, never copied: mark them with `transfer`.
//
// Messages: caller → worker `{id, method, args}` (`id` 0: no answer wanted); worker → caller
// `{id, value}` | `{id, error}` | `{id, progress}` for a call, `{event, value}` for anything
// else (a failed `notify` is the event `failed`). What the values are is the two ends'
// business: the bridge never looks inside them (batches, for one, are the core's format).
import { asCoreError, coreError } from '../error.js';

const TRANSFERS = new WeakMap();

/**
 * Mark `value` so that posting it (a call's arguments, an answer, a progress value, an event)
 * transfers `buffers` instead of copying them; `buffersOf(value)` by default. Returns `value`.
 */
export function transfer(value, buffers = buffersOf(value)) {
  TRANSFERS.set(value, buffers);
  return value;
}

/** A port whose other end is closed: what is transferred to it is dropped (see `release`). */
let dropPort = null;

/**
 * Free `buf` (an ArrayBuffer) now rather than at some later garbage collection, which V8 puts
 * off while a worker is busy (a busy hasher let 1.1 GB of dead blocks pile up): transfer it
 * into a message to a closed port, which drops it (as the core's BlobSource does with its reads).
 */
export function release(buf) {
  if (!dropPort) {
    const c = new MessageChannel();
    c.port2.close();
    dropPort = c.port1;
  }
  dropPort.postMessage(buf, [buf]);
}

/**
 * The buffers behind `value`: an ArrayBuffer, a typed array's buffer, or those of an object's
 * own fields (one level: the shape of a batch or a batch result), each once.
 */
export function buffersOf(value) {
  const out = new Set();
  const add = (v) => {
    if (v instanceof ArrayBuffer) out.add(v);
    else if (ArrayBuffer.isView(v)) out.add(v.buffer);
  };
  add(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    for (const v of Object.values(value)) add(v);
  }
  return [...out];
}

function transfersOf(value) {
  return (value && typeof value === 'object' && TRANSFERS.get(value)) || [];
}

/** The caller's end: one worker, its calls in flight and its event listeners. */
export class Bridge {
  /**
   * @param {URL} url the worker's module
   * @param {{name: string, what: string}} o `name` shows in the browser's tools; `what`
   *   names the worker in the error when it stops ("the writer failed: …")
   */
  constructor(url, { name, what }) {
    this.worker = new Worker(url, { type: 'module', name });
    this.what = what;
    this.nextId = 1;
    /** id → {resolve, reject, onProgress} */
    this.pending = new Map();
    /** event → listener */
    this.listeners = new Map();
    /** Set once the worker stopped (crashed or terminated): every later call fails with it. */
    this.stopped = null;
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.stop(coreError('io', `${what} failed: ${e.message || 'unknown error'}`, { code: 'worker_stopped' }), true);
    };
  }

  /**
   * Call `method` with `args` (mark buffers with `transfer`); resolves to the worker's answer.
   * `onProgress(value)` receives what the worker reports meanwhile; aborting `signal`
   * terminates the worker and rejects with the signal's reason.
   */
  call(method, args, { signal, onProgress } = {}) {
    if (this.stopped) return Promise.reject(this.stopped);
    if (signal && signal.aborted) {
      this.terminate(signal.reason);
      return Promise.reject(signal.reason);
    }
    const id = this.nextId++;
    const onAbort = () => this.terminate(signal.reason);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, method, args }, transfersOf(args));
    }).finally(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
    });
  }

  /** Call `method` without waiting for an answer; if it fails, the worker sends `failed`. */
  notify(method, args) {
    if (!this.stopped) this.worker.postMessage({ id: 0, method, args }, transfersOf(args));
  }

  /** Listen to the worker's event `event` (one listener each); `failed` also when it crashes. */
  on(event, listener) {
    this.listeners.set(event, listener);
    return this;
  }

  /** Stop the worker at once; calls in flight reject with `reason`. */
  terminate(reason = coreError('cancelled', `${this.what} was stopped`)) {
    this.stop(reason, false);
  }

  stop(error, crashed) {
    if (this.stopped) return;
    this.stopped = error;
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (crashed) this.emit('failed', error);
  }

  emit(event, value) {
    const listener = this.listeners.get(event);
    if (listener) listener(value);
  }

  receive(m) {
    if (m.event) {
      this.emit(m.event, m.value);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if ('progress' in m) {
      if (p.onProgress) p.onProgress(m.progress);
      return;
    }
    this.pending.delete(m.id);
    if ('error' in m) p.reject(m.error);
    else p.resolve(m.value);
  }
}

/** Worker side: post the event `event` to the caller (mark buffers in `value` with `transfer`). */
export function emit(event, value) {
  self.postMessage({ event, value }, transfersOf(value));
}

/**
 * Worker side: answer calls with `handlers` (`{method(args, {progress}) → answer}`), one at a
 * time, in the order they came. `progress(value)` reports to the call's `onProgress`. What a
 * handler throws becomes a core error through `toError(thrown, args)` (default: `asCoreError`).
 */
export function serve(handlers, { toError = (e) => asCoreError(e) } = {}) {
  let queue = Promise.resolve();
  self.onmessage = (e) => {
    const { id, method, args } = e.data;
    const progress = (value) => self.postMessage({ id, progress: value }, transfersOf(value));
    queue = queue
      .then(() => {
        if (!handlers[method]) throw coreError('invalid_argument', `no such worker method: ${method}`);
        return handlers[method](args, { progress });
      })
      .then((value) => {
        if (id) self.postMessage({ id, value }, transfersOf(value));
      }, (err) => {
        const error = toError(err, args);
        if (id) self.postMessage({ id, error });
        else emit('failed', error);
      });
  };
}
