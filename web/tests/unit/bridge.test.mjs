// The worker bridge (web/src/converter/bridge.js) under node: both ends in one process, with
// a stand-in Worker that posts through structuredClone (which, like the browser, detaches
// transferred buffers). Calls and answers, the serial queue, progress, errors in the core's
// shape, events, abort and a crashed worker. The real workers run in the page tests.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import { Bridge, buffersOf, emit, serve, transfer } from '../../src/converter/bridge.js';

/** What each stand-in worker runs when started: `url` → function (its `self` is set). */
const SCRIPTS = new Map();
const tick = () => new Promise((r) => setTimeout(r, 0));

class FakeWorker {
  constructor(url) {
    this.terminated = false;
    this.onmessage = null;
    this.onerror = null;
    const scope = {
      onmessage: null,
      postMessage: (data, transferList = []) => {
        const clone = structuredClone(data, { transfer: transferList });
        setTimeout(() => { if (!this.terminated && this.onmessage) this.onmessage({ data: clone }); }, 0);
      },
    };
    this.scope = scope;
    // One stand-in worker at a time: the bridge's worker end uses the global `self`.
    globalThis.self = scope;
    SCRIPTS.get(String(url))();
  }

  postMessage(data, transferList = []) {
    const clone = structuredClone(data, { transfer: transferList });
    setTimeout(() => { if (!this.terminated) this.scope.onmessage({ data: clone }); }, 0);
  }

  terminate() {
    this.terminated = true;
  }

  /** The worker throws outside any handler (the browser's `error` event). */
  crash(message) {
    this.onerror({ message, preventDefault() {} });
  }
}
globalThis.Worker = FakeWorker;

let n = 0;
/** A bridge to a stand-in worker serving `handlers` (with `options` for `serve`). */
function start(handlers, options) {
  const url = `test:worker-${++n}`;
  SCRIPTS.set(url, () => serve(handlers, options));
  return new Bridge(url, { name: 'test', what: 'the test worker' });
}

test('a call resolves to the answer; marked buffers move, they are not copied', async () => {
  let seen = null;
  const b = start({
    sum({ bytes }) {
      seen = bytes;
      const out = new Uint8Array([bytes.reduce((a, x) => a + x, 0)]);
      return transfer({ out, back: bytes.buffer });
    },
  });
  const bytes = new Uint8Array([1, 2, 3]);
  const answer = await b.call('sum', transfer({ bytes }));
  assert.equal(bytes.byteLength, 0, 'the caller\'s buffer went to the worker');
  assert.equal(seen.byteLength, 0, 'and came back with the answer');
  assert.deepEqual([...answer.out], [6]);
  assert.equal(answer.back.byteLength, 3);
  const kept = new Uint8Array([1]);
  await b.call('sum', { bytes: kept });
  assert.equal(kept.byteLength, 1, 'unmarked arguments are copied');
});

test('buffersOf: the buffers behind a value, one level deep, each once', () => {
  const buf = new ArrayBuffer(8);
  const a = new Uint8Array(buf, 0, 4);
  const b = new Uint32Array(buf, 4, 1);
  const c = new Float64Array(2);
  assert.deepEqual(buffersOf(a), [buf]);
  assert.deepEqual(buffersOf(buf), [buf]);
  assert.deepEqual(buffersOf({ a, b, c, text: 'x', n: 1, nested: { d: new Uint8Array(1) } }), [buf, c.buffer]);
  assert.deepEqual(buffersOf('x'), []);
  assert.deepEqual(buffersOf(null), []);
});

test('calls are answered one at a time, in the order they came', async () => {
  const order = [];
  const b = start({
    async slow() { order.push('slow start'); await new Promise((r) => setTimeout(r, 30)); order.push('slow end'); return 1; },
    fast() { order.push('fast'); return 2; },
  });
  const [x, y] = await Promise.all([b.call('slow'), b.call('fast')]);
  assert.deepEqual([x, y], [1, 2]);
  assert.deepEqual(order, ['slow start', 'slow end', 'fast']);
});

test('progress reaches onProgress before the answer', async () => {
  const b = start({
    count({ to }, { progress }) {
      for (let i = 1; i <= to; i++) progress({ i });
      return 'done';
    },
  });
  const seen = [];
  assert.equal(await b.call('count', { to: 3 }, { onProgress: (p) => seen.push(p.i) }), 'done');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('what a handler throws comes back in the core\'s error shape', async () => {
  const b = start({
    plain() { throw new Error('disk full'); },
    core() { throw { kind: 'corrupt', file: 'a.vmdk', offset: 512, message: 'bad grain' }; },
  }, { toError: (e, args) => (e && e.kind ? e : { kind: 'io', file: '', offset: args.at, message: `writing failed: ${e.message}` }) });
  await assert.rejects(b.call('plain', { at: 7 }), { kind: 'io', file: '', offset: 7, message: 'writing failed: disk full' });
  await assert.rejects(b.call('core', {}), { kind: 'corrupt', file: 'a.vmdk', offset: 512, message: 'bad grain' });
  const d = start({ quota() { throw Object.assign(new Error('over quota'), { name: 'QuotaExceededError' }); } });
  await assert.rejects(d.call('quota', {}), { kind: 'too_large', code: 'no_space', args: {}, file: '', offset: null, message: 'not enough storage for the output: over quota' });
  await assert.rejects(d.call('nothing', {}), { kind: 'invalid_argument', code: 'invalid_argument', message: 'no such worker method: nothing' });
  // An older core's error (no code, no args) gets its kind as code.
  const e = start({ old() { throw { kind: 'truncated', file: 'a.vmdk', offset: 9, message: 'short' }; } });
  await assert.rejects(e.call('old', {}), { kind: 'truncated', code: 'truncated', args: {}, file: 'a.vmdk', offset: 9, message: 'short' });
});

test('notify: no answer; a failure is the event `failed`; events reach their listener', async () => {
  const got = [];
  const b = start({
    note({ x }) { emit('noted', transfer({ x, buf: new ArrayBuffer(2) })); },
    bad() { throw new Error('no'); },
  });
  b.on('noted', (v) => got.push(['noted', v.x, v.buf.byteLength])).on('failed', (e) => got.push(['failed', e.kind, e.message]));
  b.notify('note', { x: 1 });
  b.notify('bad', {});
  await b.call('note', { x: 2 });
  await tick();
  assert.deepEqual(got, [['noted', 1, 2], ['failed', 'io', 'no'], ['noted', 2, 2]]);
});

test('abort terminates the worker: the call rejects with the signal\'s reason, later calls too', async () => {
  const b = start({ forever() { return new Promise(() => {}); } });
  const abort = new AbortController();
  const call = b.call('forever', {}, { signal: abort.signal });
  await tick();
  abort.abort();
  await assert.rejects(call, (e) => e.name === 'AbortError');
  assert.ok(b.worker.terminated);
  await assert.rejects(b.call('forever'), (e) => e.name === 'AbortError');
  const c = start({ x() { return 1; } });
  await assert.rejects(c.call('x', {}, { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError');
  assert.ok(c.worker.terminated, 'an aborted signal stops the worker before it starts');
});

test('terminate and a crash reject the calls in flight; a crash is also the event `failed`', async () => {
  const b = start({ forever() { return new Promise(() => {}); } });
  const call = b.call('forever');
  b.terminate();
  await assert.rejects(call, { kind: 'cancelled', code: 'cancelled', message: 'the test worker was stopped' });
  const c = start({ forever() { return new Promise(() => {}); } });
  const failed = [];
  c.on('failed', (e) => failed.push(e));
  const pending = c.call('forever');
  await tick();
  c.worker.crash('out of memory');
  const crash = { kind: 'io', code: 'worker_stopped', args: {}, file: '', offset: null, message: 'the test worker failed: out of memory' };
  await assert.rejects(pending, crash);
  assert.deepEqual(failed, [crash]);
  assert.ok(c.worker.terminated);
  await assert.rejects(c.call('forever'), crash);
});
