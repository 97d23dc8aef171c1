// converter/read.js and converter/feed.js: reading a Blob into a buffer we keep, and the order
// and pace in which fetched blocks reach the manifest hashers (what they hash is the core's
// business, tested natively; the page tests convert real OVAs through them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffers, readInto } from '../../src/converter/read.js';
import { HasherFeed } from '../../src/converter/feed.js';

const MIB = 1 << 20;
const pattern = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

test('read: a slice of a Blob lands at the start of the buffer given, which is reused', async () => {
  const bytes = pattern(3 * MIB, 7);
  const blob = new Blob([bytes]);
  const buf = new ArrayBuffer(4 * MIB);
  const view = await readInto(blob.slice(MIB, 3 * MIB), buf);
  assert.equal(view.length, 2 * MIB);
  assert.equal(view.byteOffset, 0);
  assert.equal(view.buffer.byteLength, 4 * MIB);
  assert.equal(buf.byteLength, 0, 'the buffer given was transferred into the read');
  assert.deepEqual(view, bytes.subarray(MIB, 3 * MIB));
  // The same memory again, for another piece.
  const again = await readInto(blob.slice(0, 100), view.buffer);
  assert.deepEqual(again, bytes.subarray(0, 100));
});

test('read: a buffer too small is refused before reading', async () => {
  await assert.rejects(readInto(new Blob([pattern(100, 1)]), new ArrayBuffer(99)), RangeError);
});

test('read: a stream that ends early is an error, not a short block', async () => {
  // What a changed file looks like: fewer bytes than its size said.
  const short = {
    size: 1000,
    stream: () => new ReadableStream({
      type: 'bytes',
      pull(c) {
        c.enqueue(pattern(600, 2));
        c.close();
      },
    }),
  };
  await assert.rejects(readInto(short, new ArrayBuffer(1000)), /ended after 600 of 1000 bytes/);
});

test('read: a stream without BYOB reads is read whole instead', async () => {
  const blob = { size: 5, stream: () => new ReadableStream(), arrayBuffer: async () => pattern(5, 3).buffer };
  assert.deepEqual(await readInto(blob, new ArrayBuffer(8)), pattern(5, 3));
});

test('read: Buffers keeps at most `keep` buffers of at least `size` bytes', () => {
  const b = new Buffers(1024, 2);
  const one = b.take(1024);
  assert.equal(one.byteLength, 1024);
  assert.equal(b.take(4096).byteLength, 4096, 'a larger read gets a buffer of its own size');
  b.give(one);
  assert.equal(b.take(1000), one, 'a spare is reused');
  b.give(new ArrayBuffer(1024));
  b.give(new ArrayBuffer(1024));
  b.give(new ArrayBuffer(1024));
  assert.equal(b.spare.length, 2);
  b.give(new ArrayBuffer(10));
  assert.equal(b.spare.length, 2, 'a small buffer is not kept');
});

/** A hasher of `length` bytes of file 0 from `offset` that records what it is given. */
function recorder(offset, length) {
  const h = { file: 0, offset, length, got: [], answers: [] };
  h.call = (at, buf, len) => {
    h.got.push([at, len]);
    return new Promise((resolve, reject) => h.answers.push({ ok: () => resolve(buf), fail: () => reject(new Error('stopped')) }));
  };
  return h;
}

const block = (n) => new Uint8Array(new ArrayBuffer(n));
const tick = () => new Promise((r) => setTimeout(r, 0));

test('feed: a block that overtook a read before it waits for that read', () => {
  const h = recorder(0, 100);
  const inFlight = new Set([0]);
  const feed = new HasherFeed([h], { queue: 4, give: () => {}, pending: (f, o) => [...inFlight].some((x) => x < o), wake: () => {} });
  feed.add(0, 40, block(40));
  assert.deepEqual(h.got, [], 'the block at 40 waits for the read at 0');
  inFlight.delete(0);
  feed.add(0, 0, block(40));
  assert.deepEqual(h.got, [[0, 40], [40, 40]], 'then both go, in order');
});

test('feed: a hasher `queue` blocks behind gets no more, the converter waits, and it catches up in order', async () => {
  const h = recorder(0, 1000);
  const given = [];
  let woken = 0;
  const feed = new HasherFeed([h], { queue: 2, give: (b) => given.push(b), pending: () => false, wake: () => { woken++; } });
  for (const at of [0, 10, 20, 30]) feed.add(0, at, block(10));
  assert.deepEqual(h.got, [[0, 10], [10, 10]]);
  assert.equal(feed.behind, true);
  assert.equal(feed.held.length, 2, 'the others wait here, none skipped');
  h.answers[0].ok();
  await tick();
  assert.deepEqual(h.got.map(([at]) => at), [0, 10, 20], 'the next one goes once there is room');
  assert.equal(given.length, 1, 'the hashed buffer came back');
  assert.ok(woken >= 1);
  feed.flush(true);
  assert.deepEqual(h.got.map(([at]) => at), [0, 10, 20, 30], 'the digest step passes on the rest at once');
  assert.equal(feed.held.length, 0);
});

test('feed: blocks no hasher wants go straight back; a failed hasher gets nothing more', async () => {
  const h = recorder(100, 50);
  const given = [];
  const feed = new HasherFeed([h], { queue: 4, give: (b) => given.push(b), pending: () => false, wake: () => {} });
  feed.add(0, 0, block(100));
  feed.add(0, 200, block(100));
  assert.equal(given.length, 2);
  assert.deepEqual(h.got, []);
  feed.add(0, 100, block(10));
  h.answers[0].fail();
  await tick();
  assert.equal(feed.behind, false, 'a failed hasher does not hold the conversion up');
  feed.add(0, 110, block(10));
  assert.equal(h.got.length, 1);
  assert.equal(given.length, 3);
});

test('feed: a block across two hashers goes to both, the first one a copy', () => {
  const a = recorder(0, 50);
  const b = recorder(50, 50);
  const feed = new HasherFeed([a, b], { queue: 4, give: () => {}, pending: () => false, wake: () => {} });
  const data = block(100);
  feed.add(0, 0, data);
  assert.deepEqual(a.got, [[0, 100]]);
  assert.deepEqual(b.got, [[0, 100]]);
  feed.drop();
});
