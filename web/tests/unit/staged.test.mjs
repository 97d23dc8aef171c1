// Staged uploads (web/src/openstack/staged.js) under node: the path an image takes, the part
// scheduler (parts in flight, order, retries and which errors are retried, pause and resume,
// cancel), the part table kept in storage and what a reload resumes, and the end (active and
// the hash equal). The client (openstack/api.js) talks to an in-process stand-in for the
// worker's staged routes through its `fetch`; the real worker and cloud are in
// web/tests/openstack-staged.mjs.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ApiError, createApi } from '../../src/openstack/api.js';
import {
  ATTEMPTS, BACKOFF_BASE_MS, BACKOFF_CAP_MS, MAX_PARTS, PARALLEL, POLL_MS, PartScheduler, STORE_PREFIX, StagedError, StagedUpload,
  backoff, bytesDone, discard, importDeadline, importOutcome, loadRecords, missingParts, newRecord, partRange, recordKey, retryable,
  saveRecord, sizeBound, uploadPath, validRecord,
} from '../../src/openstack/staged.js';

const BASE = 'http://127.0.0.1:8787/api/';
const ID = '0b5a1c3e-7d4f-4a8b-9c2d-1e6f3a5b7c9d';
const MIB = 1048576;

/** A Storage (localStorage's interface) in memory. */
function memoryStorage() {
  const m = new Map();
  return {
    get length() { return m.size; },
    key: (i) => [...m.keys()][i] ?? null,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    map: m,
  };
}

/** `n` bytes of deterministic content and their SHA-512. */
function image(n, seed = 1) {
  const bytes = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return { blob: new Blob([bytes]), sha512: crypto.createHash('sha512').update(bytes).digest('hex'), bytes };
}

/**
 * The worker's staged routes as the contract of issue 10 words them, in process: a part
 * plan, parts kept by number, completion once, the import's state, DELETE. `fault(n, try)`
 * may answer a part's try with `{status, body}` (or throw: a lost connection); `delay()`
 * holds each part's answer so that several are in flight. Records every request.
 */
function fakeWorker({ partSize = 5 * MIB, fault = () => null, delay = () => Promise.resolve(), polls = 2, hashOf = null } = {}) {
  const st = { calls: [], puts: [], tries: new Map(), inFlight: 0, maxInFlight: 0, staged: null, completed: 0, deleted: 0, polls: 0, parts: new Map() };
  const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = async (url, init = {}) => {
    const u = new URL(url);
    const path = u.pathname.slice('/api/'.length);
    st.calls.push({ method: init.method, path, headers: init.headers });
    if (init.signal && init.signal.aborted) throw new DOMException('aborted', 'AbortError');
    let m;
    if (init.method === 'POST' && (m = /^images\/([^/]+)\/staged$/.exec(path))) {
      const { size, sha512 } = JSON.parse(init.body);
      st.staged = { id: m[1], size, sha512, token: `tok-${m[1]}` };
      return json(201, { upload: st.staged.token, part_size: partSize, parts: Math.ceil(size / partSize) });
    }
    if (init.method === 'PUT' && (m = /^images\/([^/]+)\/staged\/(\d+)$/.exec(path))) {
      const n = Number(m[2]);
      assert.equal(init.headers['X-Upload-Token'], st.staged.token, 'the token goes with each part');
      assert.equal(init.headers['X-Stackferry'], '1', 'the CSRF header goes with each part');
      const tr = (st.tries.get(n) || 0) + 1;
      st.tries.set(n, tr);
      st.puts.push(n);
      st.inFlight++;
      st.maxInFlight = Math.max(st.maxInFlight, st.inFlight);
      try {
        await delay(n, init.signal);
        if (init.signal && init.signal.aborted) throw new DOMException('aborted', 'AbortError');
        const f = fault(n, tr);
        if (f instanceof Error) throw f;
        if (f) return json(f.status, f.body || { error: `http_${f.status}`, detail: 'injected' });
        const { start, end } = partRange(n, partSize, st.staged.size);
        assert.equal(init.body.size, end - start, `part ${n} is sent with its own length`);
        st.parts.set(n, new Uint8Array(await init.body.arrayBuffer()));
        return json(200, { part: n, etag: `etag-${n}-${tr}` });
      } finally {
        st.inFlight--;
      }
    }
    if (init.method === 'POST' && /^images\/[^/]+\/staged\/complete$/.test(path)) {
      const { parts } = JSON.parse(init.body);
      st.completed++;
      st.completeParts = parts;
      const all = [...st.parts.keys()].sort((a, b) => a - b);
      const h = crypto.createHash('sha512');
      for (const n of all) h.update(st.parts.get(n));
      st.hash = hashOf || h.digest('hex');
      return json(202, { state: 'importing' });
    }
    if (init.method === 'GET' && (m = /^images\/([^/]+)\/staged$/.exec(path))) {
      st.polls++;
      if (st.polls < polls) return json(200, { state: 'importing', reason: null, image: { id: m[1], status: 'importing' } });
      if (st.importFails) return json(200, { state: 'failed', reason: 'web-download failed', image: { id: m[1], status: 'queued' } });
      return json(200, { state: 'active', reason: null, image: { id: m[1], status: 'active', os_hash_algo: 'sha512', os_hash_value: st.hash } });
    }
    if (init.method === 'DELETE' && /^images\/[^/]+\/staged$/.test(path)) {
      st.deleted++;
      return json(200, { deleted: true });
    }
    return json(404, { error: 'not_found', detail: path });
  };
  return { st, api: createApi({ base: BASE, origin: 'http://127.0.0.1:8787/', fetch }) };
}

/** Waits the scheduler asks for are recorded, not slept. */
function noWait(log = []) {
  return (ms, signal) => {
    log.push(ms);
    return signal && signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
  };
}

/** A delay that resolves on a later turn, so that parts overlap. */
const tick = () => new Promise((r) => setTimeout(r, 1));

// ---------------------------------------------------------------------------------------------

test('staged: the path from the session\'s upload field and the image size', () => {
  const free = 100000000;
  const path = (up, size) => { const w = uploadPath(up, size); return [w.path, w.max, w.body]; };
  assert.deepEqual(path(undefined, 5e9), ['direct', null, null], 'a worker without the field: as today');
  assert.deepEqual(path({ body_max: null, staged: false }, 5e9), ['direct', null, null], 'no limit known (self-hosted)');
  assert.deepEqual(path({ body_max: 0, staged: true }, 5e9), ['direct', null, null], '0: no limit known');
  assert.deepEqual(path({ body_max: free, staged: true }, free), ['direct', free, free], 'up to the limit: one request');
  assert.deepEqual(path({ body_max: free, staged: true }, free + 1), ['staged', free * MAX_PARTS, free]);
  assert.deepEqual(path({ body_max: free, staged: false }, free + 1), ['too_large', free, free], 'no staging: the largest is one body');
  assert.deepEqual(path({ body_max: free, staged: true }, free * MAX_PARTS + 1), ['too_large', free * MAX_PARTS, free],
    'R2\'s 10,000 parts of at most one body each: the largest staged image');
});

test('staged: the size bound known before converting covers what the converter writes', () => {
  assert.equal(sizeBound('raw', 40 * MIB), 40 * MIB);
  for (const v of [1, 65536, 40 * MIB + 1, 2 ** 40]) {
    const b = sizeBound('qcow2', v);
    // Every cluster of data, an L2 entry (8 B) and a refcount (2 B) per cluster, the header.
    const clusters = Math.ceil(v / 65536);
    assert.ok(b >= clusters * 65536 + clusters * 10 + 3 * 65536, `qcow2 ${v}: ${b}`);
    assert.ok(b < v * 1.01 + 5 * MIB, `qcow2 ${v}: not far above the data (${b})`);
  }
  assert.equal(sizeBound('qcow2-compressed', 40 * MIB), sizeBound('qcow2', 40 * MIB));
});

test('staged: which failures are retried (network, 5xx, 429, 408) and which not (4xx, a stop)', () => {
  for (const [e, want] of [
    [new ApiError(0, { error: 'network' }), true], [new ApiError(500, {}), true], [new ApiError(502, {}), true],
    [new ApiError(503, {}), true], [new ApiError(429, {}), true], [new ApiError(408, {}), true],
    [new ApiError(400, { error: 'bad_request' }), false], [new ApiError(403, { error: 'forbidden' }), false],
    [new ApiError(401, { error: 'session_expired' }), false], [new ApiError(413, { error: 'too_large' }), false],
    [new ApiError(0, { error: 'aborted' }), false], [new Error('boom'), false], [null, false],
  ]) assert.equal(retryable(e), want, `${e && (e.status ?? e.message)}`);
});

test('staged: back-off doubles from the base, is capped, jittered within its upper half', () => {
  assert.equal(backoff(1, () => 1), BACKOFF_BASE_MS);
  assert.equal(backoff(1, () => 0), BACKOFF_BASE_MS / 2);
  assert.equal(backoff(3, () => 1), BACKOFF_BASE_MS * 4);
  assert.equal(backoff(40, () => 1), BACKOFF_CAP_MS);
  assert.equal(backoff(40, () => 0), BACKOFF_CAP_MS / 2);
  for (let k = 1; k < 10; k++) assert.ok(backoff(k + 1, () => 1) >= backoff(k, () => 1));
});

test('staged: a multi-part upload sends every part once, at most PARALLEL at once, lowest first; completes once; active with the hash', async () => {
  const img = image(23 * MIB + 12345);
  const storage = memoryStorage();
  const { st, api } = fakeWorker({ delay: tick });
  const up = await StagedUpload.begin({ api, storage, file: img.blob, imageId: ID, name: 'web01', label: 'web01.qcow2', sha512: img.sha512, opfs: 'stackferry-x-web01.qcow2', wait: noWait() });
  assert.equal(up.record.parts, 5);
  assert.ok(storage.getItem(recordKey(ID)), 'the part table is kept before any part goes');
  const seen = [];
  up.onChange = () => seen.push(up.view());
  const done = await up.run();
  assert.equal(done.status, 'active');
  assert.deepEqual([...st.puts].sort((a, b) => a - b), [1, 2, 3, 4, 5], 'each part once');
  assert.deepEqual(st.puts.slice(0, PARALLEL), [1, 2, 3, 4], 'the first parts start first');
  assert.ok(st.maxInFlight <= PARALLEL && st.maxInFlight >= 3, `parts in flight: at most ${PARALLEL}, and several (${st.maxInFlight})`);
  assert.equal(st.completed, 1, 'completed once');
  assert.deepEqual(st.completeParts, [1, 2, 3, 4, 5].map((n) => ({ part: n, etag: `etag-${n}-1` })), 'every etag, in order');
  assert.equal(st.hash, img.sha512, 'the parts put together are the image');
  assert.equal(storage.getItem(recordKey(ID)), null, 'the part table goes once the image is active');
  const last = up.view();
  assert.equal(last.phase, 'done');
  assert.equal(last.sent, img.blob.size);
  assert.deepEqual(last.counts, { waiting: 0, sending: 0, retrying: 0, done: 5, failed: 0 });
  assert.ok(seen.some((v) => v.counts.sending >= 2), 'parts are shown sending side by side');
  const sentSeen = seen.map((v) => v.sent);
  for (let i = 1; i < sentSeen.length; i++) assert.ok(sentSeen[i] >= sentSeen[i - 1], 'bytes sent never go back');
  assert.deepEqual([...new Set(seen.map((v) => v.phase))], ['sending', 'completing', 'importing', 'done']);
});

test('staged: a part that fails twice (503, then a lost connection) is retried after growing waits and the upload succeeds', async () => {
  const img = image(12 * MIB);
  const storage = memoryStorage();
  const waits = [];
  const { st, api } = fakeWorker({
    fault: (n, tr) => (n === 2 && tr === 1 ? { status: 503 } : n === 2 && tr === 2 ? new TypeError('Failed to fetch') : null),
  });
  const up = await StagedUpload.begin({ api, storage, file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait(waits), random: () => 1 });
  await up.run();
  assert.equal(st.tries.get(2), 3, 'part 2 tried three times');
  assert.equal(st.tries.get(1), 1);
  assert.equal(st.tries.get(3), 1);
  const partWaits = waits.filter((w) => w !== 1500);
  assert.deepEqual(partWaits, [BACKOFF_BASE_MS, BACKOFF_BASE_MS * 2], 'back-off before each retry');
  assert.equal(st.hash, img.sha512);
  assert.equal(up.parts.parts[1].tries, 3);
});

test('staged: a 4xx is not retried: the upload stops, the others stop, the part table stays for a resume; resume sends only what is missing', async () => {
  const img = image(30 * MIB);
  const storage = memoryStorage();
  let refuse = true;
  const { st, api } = fakeWorker({
    delay: tick,
    fault: (n) => (n === 3 && refuse ? { status: 403, body: { error: 'staged_token_expired', detail: 'too old' } } : null),
  });
  const up = await StagedUpload.begin({ api, storage, file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  const e = await up.run().then(() => null, (x) => x);
  assert.ok(e instanceof ApiError && e.status === 403 && e.error === 'staged_token_expired', `stopped by the 403: ${e}`);
  assert.equal(st.tries.get(3), 1, 'a 4xx is not tried again');
  assert.equal(up.view().phase, 'failed');
  assert.equal(up.view().state, 'failed');
  assert.equal(st.completed, 0, 'nothing completed');
  const kept = JSON.parse(storage.getItem(recordKey(ID)));
  const had = Object.keys(kept.etags).map(Number);
  assert.ok(!had.includes(3), 'the refused part is not recorded');
  assert.ok(had.length < 6, `not every part was sent after the failure: ${had}`);
  // Resume in the same page: only the parts still missing go.
  refuse = false;
  const before = st.puts.length;
  await up.run();
  const again = st.puts.slice(before).sort((a, b) => a - b);
  assert.deepEqual(again, missingParts({ ...kept, etags: Object.fromEntries(had.map((n) => [n, 'x'])) }), 'only the missing parts');
  assert.equal(st.completed, 1);
  assert.equal(st.hash, img.sha512);
});

test('staged: a part failing every try stops the upload after ATTEMPTS tries (429 and 5xx)', async () => {
  const img = image(6 * MIB);
  const { st, api } = fakeWorker({ fault: (n, tr) => (n === 2 ? { status: tr % 2 ? 429 : 502 } : null) });
  const waits = [];
  const up = await StagedUpload.begin({ api, storage: memoryStorage(), file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait(waits), random: () => 1 });
  const e = await up.run().then(() => null, (x) => x);
  assert.ok(e instanceof ApiError && e.status === 502, `the last error: ${e}`);
  assert.equal(st.tries.get(2), ATTEMPTS);
  assert.equal(waits.length, ATTEMPTS - 1, 'a wait between tries, none after the last');
  assert.ok(waits.every((w, i) => i === 0 || w >= waits[i - 1]), `waits grow: ${waits}`);
  assert.equal(st.completed, 0);
});

test('staged: after a reload the table resumes: the parts the worker has are not sent again, the result is whole', async () => {
  const img = image(26 * MIB + 7);
  const storage = memoryStorage();
  // The first page: parts 1, 2 and 4 go through, then the tab is closed (the scheduler stopped mid-way).
  const first = fakeWorker();
  const up = await StagedUpload.begin({ api: first.api, storage, file: img.blob, imageId: ID, name: 'web01', label: 'web01.qcow2', sha512: img.sha512, opfs: 'stackferry-a-web01.qcow2', wait: noWait() });
  up.parts.parallel = 1;
  up.parts.send = async (n, range, signal) => {
    if (n === 3) throw new ApiError(0, { error: 'network' });
    const a = await first.api.putPart(ID, n, up.record.upload, img.blob.slice(range.start, range.end), signal);
    return a.etag;
  };
  up.parts.attempts = 1;
  await up.run().catch(() => {});
  const saved = JSON.parse(storage.getItem(recordKey(ID)));
  assert.deepEqual(Object.keys(saved.etags).map(Number), [1, 2], 'the table has the parts sent');
  // A hand-made gap: part 4 also arrived (parts complete out of order when several are in flight).
  saved.etags[4] = 'etag-4-1';
  storage.setItem(recordKey(ID), JSON.stringify(saved));

  // The reloaded page: the table is listed, and resumed against the same worker state.
  const records = loadRecords(storage);
  assert.equal(records.length, 1);
  const r = records[0];
  assert.deepEqual({ name: r.name, size: r.size, parts: r.parts, done: Object.keys(r.etags).length }, { name: 'web01', size: img.blob.size, parts: 6, done: 3 });
  assert.deepEqual(missingParts(r), [3, 5, 6]);
  assert.equal(bytesDone(r), 3 * 5 * MIB);
  const second = fakeWorker();
  second.st.staged = first.st.staged;
  second.st.parts = first.st.parts;
  first.st.parts.set(4, img.bytes.slice(15 * MIB, 20 * MIB));
  const resumed = new StagedUpload({ api: second.api, storage, file: img.blob, record: r, wait: noWait() });
  assert.equal(resumed.view().sent, 3 * 5 * MIB, 'the bytes already sent count from the start');
  await resumed.run();
  assert.deepEqual([...second.st.puts].sort((a, b) => a - b), [3, 5, 6], 'no part sent twice');
  assert.equal(second.st.completed, 1);
  assert.equal(second.st.hash, img.sha512);
  assert.equal(storage.getItem(recordKey(ID)), null);
});

test('staged: a table whose parts were completed before the reload only waits for the import (complete is not asked twice)', async () => {
  const img = image(6 * MIB);
  const storage = memoryStorage();
  const { st, api } = fakeWorker();
  st.staged = { id: ID, size: img.blob.size, token: `tok-${ID}` };
  st.hash = img.sha512;
  const r = newRecord({ imageId: ID, name: 'w', label: 'w', size: img.blob.size, sha512: img.sha512, opfs: 'o', answer: { upload: `tok-${ID}`, part_size: 5 * MIB, parts: 2 } });
  Object.assign(r, { etags: { 1: 'a', 2: 'b' }, completed: true });
  saveRecord(storage, r);
  const up = new StagedUpload({ api, storage, file: img.blob, record: loadRecords(storage)[0], wait: noWait() });
  await up.run();
  assert.equal(st.puts.length, 0);
  assert.equal(st.completed, 0);
  assert.ok(st.polls >= 2);
});

test('staged: pause starts no new part (those in flight finish); resume goes on', async () => {
  const img = image(40 * MIB);
  let release = null;
  const gate = () => new Promise((r) => { release = r; });
  let held = gate();
  const { st, api } = fakeWorker({ delay: () => held });
  const up = await StagedUpload.begin({ api, storage: memoryStorage(), file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  const running = up.run();
  await tick();
  assert.deepEqual(st.puts, [1, 2, 3, 4]);
  up.pause();
  assert.equal(up.view().state, 'pausing');
  const r1 = release;
  held = gate();
  r1();
  await tick();
  await tick();
  assert.equal(up.view().state, 'paused', 'paused once the parts in flight are in');
  assert.deepEqual(st.puts, [1, 2, 3, 4], 'no new part while paused');
  assert.equal(up.view().counts.done, 4);
  assert.equal(up.view().rate, null, 'no rate while paused');
  held = Promise.resolve();
  up.resume();
  await running;
  assert.deepEqual(st.puts, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(st.hash, img.sha512);
});

test('staged: cancel stops the parts in flight, deletes the upload and its image, and the table', async () => {
  const img = image(20 * MIB);
  const storage = memoryStorage();
  const { st, api } = fakeWorker({ delay: (n, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))) });
  const up = await StagedUpload.begin({ api, storage, file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  const running = up.run().then(() => null, (e) => e);
  await tick();
  assert.equal(st.inFlight, 4);
  await up.cancel();
  const e = await running;
  assert.ok(e instanceof StagedError && e.code === 'cancelled', `run ends cancelled: ${e}`);
  assert.equal(st.inFlight, 0, 'nothing left in flight');
  assert.equal(st.deleted, 1, 'DELETE …/staged asked');
  assert.equal(st.calls.find((c) => c.method === 'DELETE').headers['X-Upload-Token'], `tok-${ID}`);
  assert.equal(st.completed, 0);
  assert.equal(storage.getItem(recordKey(ID)), null);
  assert.equal(up.view().state, 'cancelled');
});

test('staged: the end: active with another hash is a mismatch; a failed import is said and its image deleted', async () => {
  const sha = 'a'.repeat(128);
  assert.deepEqual(importOutcome({ state: 'importing' }, sha), { done: false });
  assert.deepEqual(importOutcome({ state: 'uploading' }, sha), { done: false });
  assert.deepEqual(importOutcome({ state: 'active', image: { os_hash_algo: 'sha512', os_hash_value: sha } }, sha), { done: true, ok: true });
  assert.equal(importOutcome({ state: 'active', image: { os_hash_algo: 'sha512', os_hash_value: 'b'.repeat(128) } }, sha).reason, 'mismatch');
  assert.equal(importOutcome({ state: 'active', image: { os_hash_algo: 'md5', os_hash_value: sha } }, sha).reason, 'mismatch');
  assert.deepEqual(importOutcome({ state: 'failed', reason: 'no route' }, sha), { done: true, ok: false, reason: 'failed', detail: 'no route' });

  const img = image(6 * MIB);
  const mismatch = fakeWorker({ hashOf: 'c'.repeat(128) });
  const up = await StagedUpload.begin({ api: mismatch.api, storage: memoryStorage(), file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  const e = await up.run().then(() => null, (x) => x);
  assert.ok(e instanceof StagedError && e.code === 'mismatch', `${e}`);

  const failing = fakeWorker();
  failing.st.importFails = true;
  const storage = memoryStorage();
  const up2 = await StagedUpload.begin({ api: failing.api, storage, file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  const e2 = await up2.run().then(() => null, (x) => x);
  assert.ok(e2 instanceof StagedError && e2.code === 'failed' && e2.detail === 'web-download failed', `${e2}`);
  assert.equal(failing.st.deleted, 1, 'the queued image of a failed import is deleted');
  assert.equal(storage.map.size, 0);
});

test('staged: the part table: only valid tables under our prefix are listed, oldest first; discard deletes and forgets', async () => {
  const storage = memoryStorage();
  const sha = 'f'.repeat(128);
  const mk = (id, created) => newRecord({ imageId: id, name: id, label: id, size: 11 * MIB, sha512: sha, opfs: 'o', answer: { upload: 't', part_size: 5 * MIB, parts: 3 }, now: created });
  saveRecord(storage, mk('b', 2000));
  saveRecord(storage, mk('a', 1000));
  storage.setItem(`${STORE_PREFIX}junk`, '{not json');
  storage.setItem(`${STORE_PREFIX}c`, JSON.stringify({ ...mk('c', 3), parts: 2 }));
  storage.setItem(`${STORE_PREFIX}d`, JSON.stringify(mk('e', 4)));
  storage.setItem('stackferry.lang', 'ko');
  assert.deepEqual(loadRecords(storage).map((r) => r.image_id), ['a', 'b']);
  assert.ok(!validRecord({ ...mk('x', 1), sha512: 'nothex' }));
  assert.ok(!validRecord({ ...mk('x', 1), parts: MAX_PARTS + 1 }));
  assert.ok(validRecord(mk('x', 1)));
  const calls = [];
  const api = {
    deleteStaged: async (id, token) => {
      calls.push([id, token]);
      if (id === 'b') throw new ApiError(404, { error: 'not_found' });
    },
  };
  await discard(api, storage, loadRecords(storage)[0]);
  await discard(api, storage, loadRecords(storage)[0]);
  assert.deepEqual(calls, [['a', 't'], ['b', 't']]);
  assert.deepEqual(loadRecords(storage), [], 'an image already gone is forgotten too');
  const refusing = { deleteStaged: async () => { throw new ApiError(503, {}); } };
  saveRecord(storage, mk('z', 5));
  await assert.rejects(discard(refusing, storage, loadRecords(storage)[0]));
  assert.equal(loadRecords(storage).length, 1, 'kept when the worker could not delete it (Discard can be tried again)');
});

test('staged: the scheduler counts bytes, rate and time left from the parts in', async () => {
  let clock = 0;
  const record = newRecord({ imageId: ID, name: 'w', label: 'w', size: 15 * MIB, sha512: 'f'.repeat(128), opfs: 'o', answer: { upload: 't', part_size: 5 * MIB, parts: 3 } });
  const answers = [];
  const s = new PartScheduler({ record, parallel: 1, now: () => clock, send: () => new Promise((r) => answers.push(r)) });
  const done = s.start();
  assert.deepEqual([s.view().sent, s.view().rate, s.view().left], [0, null, null], 'no rate before a part is in');
  clock = 1000;
  answers.shift()('e1');
  await tick();
  assert.equal(s.view().rate, null, 'one part in is no rate yet');
  clock = 3000;
  answers.shift()('e2');
  await tick();
  const v = s.view();
  assert.equal(v.sent, 10 * MIB);
  assert.equal(v.rate, 5 * MIB / 2, '5 MiB in the 2 s between the two parts');
  assert.equal(v.left, 2, 'the last 5 MiB at that rate');
  assert.deepEqual(v.counts, { waiting: 0, sending: 1, retrying: 0, done: 2, failed: 0 });
  assert.deepEqual(v.parts.map((p) => p.state), ['done', 'done', 'sending']);
  answers.shift()('e3');
  await done;
  assert.deepEqual([s.view().state, s.view().rate], ['done', null]);
  assert.deepEqual(record.etags, { 1: 'e1', 2: 'e2', 3: 'e3' });
});

test('staged: waiting for the import: a lost connection is asked again; an import that never ends stops at its deadline, the table kept', async () => {
  const img = image(6 * MIB);
  const flaky = fakeWorker({ polls: 3 });
  let failed = 0;
  const answer = flaky.api.stagedStatus;
  flaky.api.stagedStatus = async (...a) => {
    if (failed++ < 2) throw new ApiError(0, { error: 'network' });
    return answer(...a);
  };
  const up = await StagedUpload.begin({ api: flaky.api, storage: memoryStorage(), file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait: noWait() });
  assert.equal((await up.run()).status, 'active', 'two lost polls, then the answer');

  let clock = 0;
  const stuck = fakeWorker({ polls: Infinity });
  const storage = memoryStorage();
  const waits = [];
  const wait = (ms, signal) => { clock += ms; return noWait(waits)(ms, signal); };
  const up2 = await StagedUpload.begin({ api: stuck.api, storage, file: img.blob, imageId: ID, name: 'w', label: 'w', sha512: img.sha512, opfs: 'o', wait, now: () => clock });
  const e = await up2.run().then(() => null, (x) => x);
  assert.ok(e instanceof StagedError && e.code === 'import_timeout', `${e}`);
  assert.ok(clock > importDeadline(img.blob.size) && clock <= importDeadline(img.blob.size) + 2 * POLL_MS, `stopped at the deadline: ${clock}`);
  assert.ok(importDeadline(500e9) > importDeadline(1e9), 'a larger image may take longer');
  const kept = loadRecords(storage);
  assert.equal(kept.length, 1, 'the table stays: Resume asks again');
  assert.equal(kept[0].completed, true, 'and does not complete twice');
  assert.equal(stuck.st.completed, 1);
});
