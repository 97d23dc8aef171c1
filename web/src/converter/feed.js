// The blocks of the input the converter fetched, passed on to the hashers that check files
// inside it against a manifest (a disk inside an OVA): in file order, and none skipped. A
// hasher handed a later block first reads the gap itself, synchronously (the core's
// `Prefix::offer`), then drops the earlier block when it comes: reads finish out of order, and
// a hasher that fell behind used to be skipped and read everything after itself. Both cost
// a second read of the file: in V8's profile of a page conversion of the bench OVA (session
// 19, BENCH_PROF) 35 % of the hasher's time was those reads. So a block waits here while a
// read before it in its file is still on its way, or while a hasher that wants it holds
// `queue` blocks not yet hashed; then the converter hands out no new work (`behind`) until
// that hasher catches up.

/**
 * @param hashers `[{file, offset, length, call(at, buf, len)}]`: each hashes `length` bytes of
 *   input `file` from `offset`; `call` posts a block (`buf` transferred, `len` bytes read at
 *   `at`) and resolves to the buffer, back for reuse, once hashed.
 * @param o.queue blocks a hasher may hold not yet hashed
 * @param o.give(buf) takes a buffer no hasher needs (any longer)
 * @param o.pending(file, offset) whether a read of `file` before `offset` is on its way
 * @param o.wake() called when a hasher is done with a block
 */
export class HasherFeed {
  constructor(hashers, { queue, give, pending, wake }) {
    this.hashers = hashers.map((h) => ({ ...h, queued: 0, failed: false }));
    this.queue = queue;
    this.give = give;
    this.pending = pending;
    this.wake = wake;
    /** Fetched blocks waiting their turn, `{file, offset, data}`, `data` a view at 0 of its buffer. */
    this.held = [];
  }

  /** Whether a hasher is `queue` blocks behind: hand out no new work until it catches up. */
  get behind() {
    return this.hashers.some((h) => !h.failed && h.queued >= this.queue);
  }

  /** A fetched block of input `file` read at `offset` (`data`: a view at the start of its buffer). */
  add(file, offset, data) {
    if (!this.wanting(file, offset, data.length).length) {
      this.give(data.buffer);
      return;
    }
    this.held.push({ file, offset, data });
    this.flush();
  }

  /**
   * Pass on every held block whose turn it is (call it when a read ends, whatever its result);
   * `force`: all of them, now (the digests are wanted: nothing more will be read).
   */
  flush(force = false) {
    this.held.sort((a, b) => a.offset - b.offset);
    const stopped = new Set();
    this.held = this.held.filter((b) => {
      const want = this.wanting(b.file, b.offset, b.data.length);
      const wait = stopped.has(b.file)
        || (!force && (this.pending(b.file, b.offset) || want.some((h) => h.queued >= this.queue)));
      if (wait) {
        stopped.add(b.file);
        return true;
      }
      this.offer(want, b);
      return false;
    });
  }

  /** The conversion is over: what is held goes back. */
  drop() {
    for (const b of this.held) this.give(b.data.buffer);
    this.held = [];
  }

  wanting(file, offset, len) {
    return this.hashers.filter((h) => !h.failed && h.file === file && offset + len > h.offset && offset < h.offset + h.length);
  }

  offer(want, { offset, data }) {
    if (!want.length) {
      this.give(data.buffer);
      return;
    }
    want.forEach((h, i) => {
      // The last one gets the block itself, the others copies.
      const buf = i === want.length - 1 ? data.buffer : data.slice().buffer;
      h.queued++;
      h.call(offset, buf, data.length).then((back) => {
        h.queued--;
        this.give(back);
      }, () => {
        // Its digest call reports why; nothing more goes to it, and it holds nothing back.
        h.queued--;
        h.failed = true;
      }).then(() => {
        this.flush();
        this.wake();
      });
    });
  }
}
