// Reading a Blob (a dropped file, an OPFS output) into a buffer the caller keeps and reuses.
// `Blob.arrayBuffer()` returns a new buffer for every read; on a VM that hands freed memory
// back to its host (virtio-balloon free page reporting) each new 4 MiB buffer is memory the
// host must fault back in, and the thread that copies into it pays. Reading the blob's byte
// stream with a BYOB ("bring your own buffer") reader fills a buffer we already have instead:
// the bench VMDK (977 MiB) read in a worker, 4 MiB blocks, 4 in flight, 3 rounds: 3.34–3.97
// machine CPU s with `arrayBuffer()`, 2.57–3.11 s this way (`node bench/read-blocks.mjs`).
import { release } from './bridge.js';

/**
 * Read all of `blob` into `buf`, an ArrayBuffer of at least `blob.size` bytes. The reads
 * transfer `buf`: from then on use the returned view's `.buffer` (the same memory). Resolves to
 * a Uint8Array of `blob.size` bytes at the start of it; rejects when the blob cannot be read or
 * ends early (a file changed since it was dropped). A stream without BYOB reads (an older
 * browser) is read with `arrayBuffer()`: the view is then over a new buffer.
 */
export async function readInto(blob, buf) {
  const len = blob.size;
  if (buf.byteLength < len) throw new RangeError(`a ${buf.byteLength}-byte buffer cannot hold ${len} bytes`);
  let reader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {
    return new Uint8Array(await blob.arrayBuffer());
  }
  let filled = 0;
  while (filled < len) {
    const { value, done } = await reader.read(new Uint8Array(buf, filled, len - filled));
    // Done or not, the view is over our memory, now under a new ArrayBuffer.
    if (value) buf = value.buffer;
    if (done) break;
    filled += value.byteLength;
  }
  if (filled < len) throw new Error(`the file ended after ${filled} of ${len} bytes`);
  // All bytes are in: let go of the stream without waiting for it to say it is done.
  reader.cancel().catch(() => {});
  return new Uint8Array(buf, 0, len);
}

/**
 * Buffers of at least `size` bytes kept for reuse, at most `keep` of them; `take(len)` gives one
 * that holds `len` bytes (a new one when none is spare), `give(buf)` puts one back. A buffer
 * not kept is released at once (see bridge.js `release`), not left to garbage collection.
 */
export class Buffers {
  constructor(size, keep) {
    this.size = size;
    this.keep = keep;
    this.spare = [];
  }

  take(len) {
    const buf = this.spare.pop();
    if (buf && buf.byteLength >= len) return buf;
    if (buf) this.spare.push(buf);
    return new ArrayBuffer(Math.max(len, this.size));
  }

  give(buf) {
    if (this.spare.length < this.keep && buf.byteLength >= this.size) this.spare.push(buf);
    else release(buf);
  }
}
