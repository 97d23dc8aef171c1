// The converter worker's end of the output: a writer worker (save-worker.js) that writes the
// file (or streams the upload) and, when asked, has its own hasher worker (hash-worker.js)
// compute the output's SHA-512, reached through the bridge. The core hands over small pieces
// (a cluster each) as views of its memory; they are copied once, gathered into a recycled buffer of
// BUFFER bytes that travels converter → writer → hasher → back; the bytes queued in that loop
// are what bounds the output side's memory.
import { Bridge, transfer } from './bridge.js';
import { Buffers } from './read.js';

/** Output bytes a sink may hold queued before the converter waits for the file to catch up. */
export const SINK_HIGH_WATER = 16 << 20;
/** Buffers kept for reuse. */
const SPARES = 8;
/** Size of a new buffer, and of the writes gathered in it (bigger pieces get their own). */
const BUFFER = 4 << 20;
/** How long `abort` lets the writer discard a picked file's stream. */
const ABORT_WAIT_MS = 500;

/**
 * Open the sink for `target` (`{kind: 'opfs', name}`, `{kind: 'handle', handle}` or `{kind:
 * 'upload', url}`; see save.js), given the compiled wasm `module`; `hash`: whether the writer
 * computes the output's SHA-512 (otherwise `finish` resolves to null). `write(view, at)` is
 * synchronous and copies the bytes into a (recycled) buffer, posted to the writer once full; `drain()`
 * waits until at most SINK_HIGH_WATER bytes are queued; `finish(len)` waits for everything,
 * sizes the file to `len` (holes were skipped), closes it and resolves to the SHA-512 (hex), or
 * null without `hash`.
 */
export async function openSink(target, module, { hash = true } = {}) {
  let queued = 0;
  let uploaded = 0;
  let uploadAnswer = null;
  let failed = null;
  const waiters = [];
  const settle = () => {
    while (waiters.length && (failed || queued <= waiters[0].limit)) waiters.shift().resolve();
  };
  const until = (limit) => (failed || queued <= limit ? Promise.resolve() : new Promise((resolve) => waiters.push({ limit, resolve })));
  const check = () => { if (failed) throw failed; };

  // Buffers go to the writer and come back, so steady writing allocates nothing.
  const free = new Buffers(BUFFER, SPARES);
  // The buffer being filled: `len` bytes gathered for output offset `at`.
  let cur = null;
  const post = () => {
    if (!cur) return;
    writer.notify('write', transfer({ buf: cur.buf, len: cur.len, at: cur.at }, [cur.buf]));
    cur = null;
  };
  const writer = new Bridge(new URL('../save-worker.js', import.meta.url), { name: 'writer', what: 'the writer' })
    .on('written', ({ bytes, buf }) => {
      queued -= bytes;
      free.give(buf);
      settle();
    })
    .on('uploaded', (n) => { uploaded = n; })
    .on('failed', (e) => {
      failed = failed || e;
      settle();
    });
  try {
    await writer.call('open', { target, module, hash });
  } catch (e) {
    writer.terminate();
    throw e;
  }
  return {
    /** The output will be `len` bytes: rejects with `no_space` when the browser will not store them. */
    async reserve(len) { await writer.call('reserve', { len }); },
    /** Copy `view` (output offset `at`) into the buffer being filled; posted once full. */
    write(view, at) {
      check();
      // A hole before this piece, or no room: what is gathered goes first.
      if (cur && (cur.at + cur.len !== at || cur.len + view.length > cur.buf.byteLength)) post();
      if (!cur) {
        cur = { buf: free.take(view.length), len: 0, at };
      }
      new Uint8Array(cur.buf, cur.len, view.length).set(view);
      cur.len += view.length;
      queued += view.length;
      if (cur.len >= BUFFER) post();
    },
    async drain() { await until(SINK_HIGH_WATER); check(); },
    /** Upload target: bytes the network has taken so far. */
    get uploaded() { return uploaded; },
    /** Upload target: the API's answer to the PUT once finished. */
    get uploadAnswer() { return uploadAnswer; },
    async finish(len) {
      post();
      await until(0);
      check();
      const { sha512, upload } = await writer.call('finish', { len });
      uploadAnswer = upload || null;
      writer.terminate();
      return sha512;
    },
    async abort() {
      // Let a picked file's stream discard what it holds; do not wait long for it.
      await Promise.race([writer.call('abort').catch(() => {}), new Promise((r) => setTimeout(r, ABORT_WAIT_MS))]);
      writer.terminate();
    },
  };
}
