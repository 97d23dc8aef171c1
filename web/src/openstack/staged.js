// Staged uploads (issue 10; the worker's routes are `/api/images/{id}/staged…`, see
// edge-worker/README.md): where the deployment caps one request body (Cloudflare: 100 MB on
// Free and Pro), the converted image goes to the worker in parts, several at once, each
// retried on its own; the worker stages them in R2 and has Glance import the whole. A reload
// or a closed tab loses nothing: the part table lives in localStorage and the converted file
// in the Origin Private File System, so the upload resumes with the parts still missing.
//
// The decisions live here, without DOM: which path an image takes, the part scheduler
// (parallelism, retries with back-off, pause and resume, bytes, rate and time left), the
// persisted table, and when the upload is done. node runs its tests against a stand-in
// `fetch` (web/tests/unit/staged.test.mjs); openstack/upload.js and openstack/unfinished.js
// render.

/** Parts in flight at once. The issue asks for 3–4: more gains little on one connection. */
export const PARALLEL = 4;
/** Tries per part (the first and its retries) before the upload stops as failed. */
export const ATTEMPTS = 6;
/** The first retry waits about this long (ms); each further one twice as long… */
export const BACKOFF_BASE_MS = 1000;
/** …but never longer than this (ms). */
export const BACKOFF_CAP_MS = 30000;
/** The most parts one upload has: R2's limit for a multipart upload (Cloudflare R2 docs). */
export const MAX_PARTS = 10000;
/** The part table of image `<id>` is kept under this prefix + id (the contract of issue 10). */
export const STORE_PREFIX = 'stackferry.staged.';
/** The import's state is asked this often (ms) once all parts are in (the contract: 1–2 s). */
export const POLL_MS = 1500;
/** Glance may take this long (ms) to import any image before the page stops waiting… */
const IMPORT_MIN_MS = 10 * 60 * 1000;
/** …plus the time to copy the image at this many bytes per ms (5 MB/s) from the staged object. */
const IMPORT_BYTES_PER_MS = 5000;
/** The rate is measured over this window (ms) of recent progress. */
const RATE_WINDOW_MS = 10000;
/** Version of the persisted table's shape. */
const RECORD_VERSION = 1;
/** The page writes QCOW2 with 64 KiB clusters (the commands it prints say so too). */
const QCOW2_CLUSTER = 65536;
/** A QCOW2 header, its L1 table and the first refcount structures fit in this (bytes). */
const QCOW2_FIXED_OVERHEAD = 4 * 1048576;

/**
 * The most bytes the converted image of a disk of `virtualSize` bytes can take in `format`:
 * raw is exactly the virtual size; QCOW2 adds its tables to at most every cluster of data
 * (an 8-byte L2 entry and a 2-byte refcount per 64 KiB cluster, well under 1/4096 of the
 * data). Known before converting, so that the path can be chosen first.
 */
export function sizeBound(format, virtualSize) {
  if (format === 'raw') return virtualSize;
  const data = Math.ceil(virtualSize / QCOW2_CLUSTER) * QCOW2_CLUSTER;
  return data + Math.ceil(data / 4096) + QCOW2_FIXED_OVERHEAD;
}

/**
 * Which way an image of `size` bytes goes, from the session's `upload` field (`{body_max,
 * staged}`; a worker without it, or `body_max` null: no known limit): `{path: 'direct'}` (one
 * request, as without a limit), `{path: 'staged', max}` or `{path: 'too_large', max}`, `max`
 * being the largest image this deployment takes (one body without staging; `MAX_PARTS`
 * bodies with it).
 */
export function uploadPath(upload, size) {
  const body = upload && Number.isFinite(upload.body_max) && upload.body_max > 0 ? upload.body_max : null;
  if (body == null || size <= body) return { path: 'direct', max: body, body };
  if (!upload.staged) return { path: 'too_large', max: body, body };
  const max = body * MAX_PARTS;
  return { path: size > max ? 'too_large' : 'staged', max, body };
}

/** Part `n` (1-based) of an image of `size` bytes in parts of `partSize`: `{start, end}` (end exclusive). */
export function partRange(n, partSize, size) {
  const start = (n - 1) * partSize;
  return { start, end: Math.min(size, start + partSize) };
}

/**
 * Whether a failed part is tried again: a lost connection, the server busy or failing (5xx),
 * too many requests (429) or a request timeout (408). Anything else the worker refused (a
 * 4xx: a wrong length, a token that expired, a session that ended) fails the same way again.
 * A stop (pause, cancel) is not a failure.
 */
export function retryable(e) {
  if (!e || typeof e.status !== 'number') return false;
  if (e.status === 0) return e.error === 'network';
  return e.status >= 500 || e.status === 429 || e.status === 408;
}

/**
 * How long (ms) to wait before retry number `retry` (1 for the first): exponential, capped,
 * and jittered within its upper half so that parts failing together do not retry together.
 */
export function backoff(retry, random = Math.random) {
  const ceil = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  return Math.round(ceil / 2 + (random() * ceil) / 2);
}

// ---------------------------------------------------------------------------------------------
// The persisted part table: one localStorage entry per upload, `stackferry.staged.<image id>`.

/** The localStorage key of image `imageId`'s part table. */
export function recordKey(imageId) {
  return STORE_PREFIX + imageId;
}

/**
 * A new part table for image `imageId` from the worker's answer to `POST …/staged` (`{upload,
 * part_size, parts}`): what a reload needs to go on (`opfs`: the converted file's name in
 * OPFS; `flavor`: the suggested shape, for the launch form once the image is in; `etags`: `{n: etag}` of the parts the worker has; `completed`: the parts were put
 * together and the import asked for, which must not be asked twice).
 */
export function newRecord({ imageId, name, label, size, sha512, opfs, flavor = null, answer, now = Date.now() }) {
  return {
    v: RECORD_VERSION, image_id: imageId, name, label, size, sha512, opfs, flavor,
    upload: answer.upload, part_size: answer.part_size, parts: answer.parts, etags: {}, completed: false, created: now,
  };
}

/** Whether `r` is a part table this page can resume (anything else in storage is ignored). */
export function validRecord(r) {
  return !!r && typeof r === 'object' && r.v === RECORD_VERSION && typeof r.image_id === 'string'
    && typeof r.upload === 'string' && typeof r.sha512 === 'string' && /^[0-9a-f]{128}$/.test(r.sha512)
    && Number.isSafeInteger(r.size) && r.size > 0 && Number.isSafeInteger(r.part_size) && r.part_size > 0
    && Number.isSafeInteger(r.parts) && r.parts >= 1 && r.parts <= MAX_PARTS && r.parts === Math.ceil(r.size / r.part_size)
    && !!r.etags && typeof r.etags === 'object';
}

export function saveRecord(storage, r) {
  storage.setItem(recordKey(r.image_id), JSON.stringify(r));
}

export function removeRecord(storage, imageId) {
  storage.removeItem(recordKey(imageId));
}

/** The unfinished uploads kept in `storage` (a Storage), oldest first. */
export function loadRecords(storage) {
  const out = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (!key || !key.startsWith(STORE_PREFIX)) continue;
    let r = null;
    try {
      r = JSON.parse(storage.getItem(key));
    } catch { /* not ours to read: left out */ }
    if (validRecord(r) && recordKey(r.image_id) === key) out.push(r);
  }
  return out.sort((a, b) => a.created - b.created);
}

/** The parts the worker does not have yet, in order (where a resumed upload starts). */
export function missingParts(r) {
  const out = [];
  for (let n = 1; n <= r.parts; n++) if (!r.etags[n]) out.push(n);
  return out;
}

/** The bytes of the parts the worker has. */
export function bytesDone(r) {
  let sum = 0;
  for (const n of Object.keys(r.etags)) {
    const { start, end } = partRange(Number(n), r.part_size, r.size);
    sum += end - start;
  }
  return sum;
}

/**
 * The import's outcome from the worker's `GET …/staged` answer: `{done: false}` while it goes
 * on; `{done: true, ok: true}` once the image is active and Glance's `os_hash_value` is the
 * page's SHA-512; `{done: true, ok: false, reason}` when the import failed (`failed`: its
 * reason) or the hashes differ (`mismatch`).
 */
export function importOutcome(answer, sha512) {
  const state = answer && answer.state;
  if (state === 'failed') return { done: true, ok: false, reason: 'failed', detail: answer.reason || '' };
  if (state !== 'active') return { done: false };
  const img = answer.image || {};
  const match = img.os_hash_algo === 'sha512' && img.os_hash_value === sha512;
  return match ? { done: true, ok: true } : { done: true, ok: false, reason: 'mismatch', detail: img.os_hash_value || '' };
}

/**
 * How long (ms) the page waits for Glance's import of an image of `size` bytes before it says
 * so (the part table stays: Resume asks again).
 */
export function importDeadline(size) {
  return IMPORT_MIN_MS + Math.ceil(size / IMPORT_BYTES_PER_MS);
}

/** A staged upload that ended without the image: `code` names why (`staged.error.<code>`). */
export class StagedError extends Error {
  /** `params`: what its sentence names (sizes, as the page words them). */
  constructor(code, detail = '', params = {}) {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.error = code;
    this.code = code;
    this.detail = detail;
    this.params = params;
  }
}

// ---------------------------------------------------------------------------------------------
// The part scheduler.

/** A promise that resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal && signal.removeEventListener('abort', stop); resolve(); }, ms);
    function stop() { clearTimeout(timer); reject(signal.reason); }
    if (signal) signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Sends the parts of `record` the worker does not have through `send(n, {start, end}, signal)`
 * (resolves to the part's etag), at most `parallel` at once, lowest number first, each tried up
 * to `attempts` times with `backoff` between tries when the failure is `retryable`. Every part
 * sent is written into `record.etags` and `persist(record)` called at once, so a reload never
 * sends it again. `onChange()` runs on every change of what `view()` says.
 *
 * `start()` resolves once every part is in, or rejects with the error of a part that failed for
 * good (the others in flight are stopped first) or a `StagedError('cancelled')`; after a
 * failure `start()` goes on with the parts still missing. `pause()` starts no new part (those
 * in flight finish); `resume()` goes on.
 */
export class PartScheduler {
  constructor({ record, send, persist = () => {}, onChange = () => {}, parallel = PARALLEL, attempts = ATTEMPTS,
    wait = sleep, random = Math.random, now = () => Date.now() }) {
    Object.assign(this, { record, send, persist, onChange, parallel, attempts, wait, random, now });
    /** Per part: `{n, bytes, state: waiting|sending|retrying|done|failed, tries, error}`. */
    this.parts = [];
    /** How many parts are in each state (kept as they change: 10,000 parts are not counted per change). */
    this.counts = { waiting: 0, sending: 0, retrying: 0, done: 0, failed: 0 };
    for (let n = 1; n <= record.parts; n++) {
      const { start, end } = partRange(n, record.part_size, record.size);
      const p = { n, bytes: end - start, state: record.etags[n] ? 'done' : 'waiting', tries: 0, error: null };
      this.counts[p.state]++;
      this.parts.push(p);
    }
    /** No part before this index is waiting (parts start lowest first). */
    this.cursor = 0;
    /** idle, running, pausing, paused, done, failed, cancelled */
    this.state = 'idle';
    this.sent = bytesDone(record);
    this.inFlight = 0;
    this.samples = [];
    this.stopped = null;
    this.settle = null;
    this.abort = null;
  }

  start() {
    if (this.state === 'running' || this.state === 'pausing' || this.state === 'paused') return this.finished;
    for (const p of this.parts) {
      if (p.state !== 'failed') continue;
      this.set(p, 'waiting');
      Object.assign(p, { tries: 0, error: null });
    }
    this.cursor = 0;
    this.stopped = null;
    this.abort = new AbortController();
    this.state = 'running';
    this.samples = [];
    this.finished = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.pump();
    return this.finished;
  }

  pause() {
    if (this.state !== 'running') return;
    this.state = 'pausing';
    this.pump();
  }

  resume() {
    if (this.state !== 'pausing' && this.state !== 'paused') return;
    this.state = 'running';
    this.samples = [];
    this.pump();
  }

  /** Stop every part in flight; `start()` rejects with `StagedError('cancelled')`. */
  cancel() {
    if (!['running', 'pausing', 'paused'].includes(this.state)) return;
    this.stop(new StagedError('cancelled'));
  }

  stop(error) {
    if (this.stopped) return;
    this.stopped = error;
    this.abort.abort(error);
    this.pump();
  }

  set(p, state) {
    this.counts[p.state]--;
    this.counts[state]++;
    p.state = state;
  }

  /** Start parts while there is room, or settle once nothing is left in flight. */
  pump() {
    if (this.stopped) {
      if (this.inFlight === 0) {
        this.state = this.stopped.code === 'cancelled' ? 'cancelled' : 'failed';
        this.onChange();
        this.settle.reject(this.stopped);
      } else this.onChange();
      return;
    }
    if (this.state === 'running') {
      for (; this.cursor < this.parts.length && this.inFlight < this.parallel; this.cursor++) {
        const p = this.parts[this.cursor];
        if (p.state === 'waiting') this.launch(p);
      }
      if (this.inFlight === 0 && this.counts.done === this.parts.length) {
        this.state = 'done';
        this.onChange();
        this.settle.resolve(this.record.etags);
        return;
      }
    } else if (this.state === 'pausing' && this.inFlight === 0) this.state = 'paused';
    this.onChange();
  }

  async launch(p) {
    this.inFlight++;
    const signal = this.abort.signal;
    const range = partRange(p.n, this.record.part_size, this.record.size);
    for (;;) {
      this.set(p, 'sending');
      p.tries++;
      this.onChange();
      try {
        const etag = await this.send(p.n, range, signal);
        if (typeof etag !== 'string' || !etag) throw new StagedError('bad_answer', `no etag for part ${p.n}`);
        this.record.etags[p.n] = etag;
        this.persist(this.record);
        this.set(p, 'done');
        p.error = null;
        this.sent += p.bytes;
        this.sample();
        break;
      } catch (e) {
        p.error = e;
        if (signal.aborted) {
          this.set(p, 'waiting');
          break;
        }
        if (!retryable(e) || p.tries >= this.attempts) {
          this.set(p, 'failed');
          this.stop(e);
          break;
        }
        this.set(p, 'retrying');
        this.onChange();
        try {
          await this.wait(backoff(p.tries, this.random), signal);
        } catch {
          this.set(p, 'waiting');
          break;
        }
      }
    }
    this.inFlight--;
    this.pump();
  }

  sample() {
    const t = this.now();
    this.samples.push({ t, sent: this.sent });
    while (this.samples.length > 2 && t - this.samples[0].t > RATE_WINDOW_MS) this.samples.shift();
  }

  /**
   * What to show: `{state, sent, total, rate (bytes/s, or null), left (s, or null), counts:
   * {waiting, sending, retrying, done, failed}, parts}`.
   */
  view() {
    const counts = { ...this.counts };
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const secs = first && last ? (last.t - first.t) / 1000 : 0;
    const rate = this.state === 'running' && secs > 0 ? (last.sent - first.sent) / secs : null;
    const total = this.record.size;
    return { state: this.state, sent: this.sent, total, rate, left: rate ? (total - this.sent) / rate : null, counts, parts: this.parts };
  }
}

// ---------------------------------------------------------------------------------------------
// One staged upload, end to end.

/**
 * A staged upload of the converted `file` (a Blob: a disk-backed OPFS File in the page) into
 * image `record.image_id`, through `api` (openstack/api.js: createStaged, putPart,
 * completeStaged, stagedStatus, deleteStaged), its part table kept in `storage`. `begin()`
 * makes a new one; a part table from storage resumes with `new StagedUpload({record, …})`.
 * `run()` sends the missing parts, has the worker put them together and import them (once:
 * `record.completed`), waits for the import (at most `importDeadline`) and resolves to the
 * image (active, hash equal); it rejects with the error that stopped it. The part table is
 * removed once the import is over either way; it stays while it can still be resumed (parts
 * not sent, the import not over yet).
 */
export class StagedUpload {
  constructor({ api, storage, file, record, onChange = () => {}, pollMs = POLL_MS, wait = sleep,
    now = () => Date.now(), random = Math.random, ...scheduler }) {
    Object.assign(this, { api, storage, file, record, onChange, pollMs, wait, now, random });
    /** sending, completing, importing, done, failed, cancelled */
    this.phase = record.completed ? 'importing' : 'sending';
    this.cancelled = new AbortController();
    this.parts = new PartScheduler({
      record, wait, now, random, ...scheduler,
      onChange: () => this.onChange(),
      persist: (r) => saveRecord(storage, r),
      send: async (n, { start, end }, signal) => {
        const answer = await api.putPart(record.image_id, n, record.upload, file.slice(start, end), signal);
        if (!answer || answer.part !== n) throw new StagedError('bad_answer', `the worker answered part ${answer && answer.part} for part ${n}`);
        return answer.etag;
      },
    });
  }

  /** Create the staged upload of `file` for image `imageId` on the worker; its table saved. */
  static async begin({ api, storage, file, imageId, name, label, sha512, opfs, flavor, ...rest }) {
    const answer = await api.createStaged(imageId, { size: file.size, sha512 });
    const record = newRecord({ imageId, name, label, size: file.size, sha512, opfs, flavor, answer });
    if (!validRecord(record)) throw new StagedError('bad_answer', `the worker's plan does not fit ${file.size} bytes: ${JSON.stringify(answer)}`);
    saveRecord(storage, record);
    return new StagedUpload({ api, storage, file, record, ...rest });
  }

  async run() {
    const r = this.record;
    try {
      if (!r.completed) {
        this.setPhase('sending');
        await this.parts.start();
        this.setPhase('completing');
        const parts = Object.keys(r.etags).map(Number).sort((a, b) => a - b).map((n) => ({ part: n, etag: r.etags[n] }));
        await this.api.completeStaged(r.image_id, r.upload, parts);
        r.completed = true;
        saveRecord(this.storage, r);
      }
      this.setPhase('importing');
      const until = this.now() + importDeadline(r.size);
      let misses = 0;
      for (;;) {
        let answer;
        try {
          answer = await this.api.stagedStatus(r.image_id, r.upload);
          misses = 0;
        } catch (e) {
          // A lost connection or a busy server while waiting: ask again, as a part would be sent again.
          if (!retryable(e) || ++misses >= ATTEMPTS) throw e;
          await this.wait(backoff(misses, this.random), this.cancelled.signal);
          continue;
        }
        const out = importOutcome(answer, r.sha512);
        if (out.done) {
          removeRecord(this.storage, r.image_id);
          // A failed import leaves the image queued: delete it (the worker has deleted the object).
          if (out.reason === 'failed') await discard(this.api, this.storage, r).catch(() => {});
          if (!out.ok) throw new StagedError(out.reason, out.detail);
          this.setPhase('done');
          return answer.image;
        }
        if (this.now() > until) throw new StagedError('import_timeout', `Glance has not finished importing after ${Math.round(importDeadline(r.size) / 60000)} min`);
        await this.wait(this.pollMs, this.cancelled.signal);
      }
    } catch (e) {
      if (this.cancelled.signal.aborted) throw this.cancelled.signal.reason;
      this.setPhase('failed');
      throw e;
    }
  }

  pause() {
    this.parts.pause();
  }

  resume() {
    this.parts.resume();
  }

  /**
   * Stop, and leave nothing behind: the worker aborts the staged object and deletes the image;
   * the part table goes. Resolves once the worker said so (rejects with its error, the table
   * then kept so that Discard can be tried again).
   */
  async cancel() {
    const error = new StagedError('cancelled');
    this.cancelled.abort(error);
    this.parts.cancel();
    this.setPhase('cancelled');
    await discard(this.api, this.storage, this.record);
  }

  setPhase(p) {
    // Once cancelled, what was under way (a completion, a poll) says nothing more.
    if (this.phase === 'cancelled') return;
    this.phase = p;
    this.onChange();
  }

  /** The scheduler's view and the phase. */
  view() {
    return { ...this.parts.view(), phase: this.phase };
  }
}

/** Delete an unfinished upload (its staged object and its image) and its part table. */
export async function discard(api, storage, record) {
  try {
    await api.deleteStaged(record.image_id, record.upload);
  } catch (e) {
    // Already gone (deleted elsewhere, or cleaned up as abandoned): nothing is left.
    if (e.status !== 404) throw e;
  }
  removeRecord(storage, record.image_id);
}
