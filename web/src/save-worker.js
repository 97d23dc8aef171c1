// The writer (a worker nested in the converter worker): writes the output and computes its
// SHA-512 (Glance's os_hash_value), off the converter's thread. Output arrives in order as
// (bytes, at) pieces; all-zero stretches were skipped, so gaps are hashed as zeros and the file
// is sized at the end. Targets: an Origin Private File System file through a synchronous access
// handle (only dedicated workers have those), or a file the user picked, through a
// FileSystemWritableFileStream. Each write is acknowledged with its size and its buffer (for
// reuse), which bounds the bytes in flight (see save.js). Messages are handled one at a time,
// in order.
import init, { Sha512Hasher } from './pkg/stackferry.js';

let sync = null; // FileSystemSyncAccessHandle
let stream = null; // FileSystemWritableFileStream
let hasher = null;
let pos = 0; // output bytes hashed so far
let size = 0; // OPFS file size set so far

async function handle(m) {
  if (m.type === 'open') {
    await init({ module_or_path: m.module });
    hasher = new Sha512Hasher();
    pos = 0;
    if (m.target.kind === 'opfs') {
      const root = await navigator.storage.getDirectory();
      const fh = await root.getFileHandle(m.target.name, { create: true });
      sync = await fh.createSyncAccessHandle();
      sync.truncate(0);
      size = 0;
    } else {
      stream = await m.target.handle.createWritable({ keepExistingData: false });
    }
    self.postMessage({ id: m.id });
  } else if (m.type === 'reserve') {
    // Sizing the file first spares each write a quota check.
    if (sync && m.len > size) {
      sync.truncate(m.len);
      size = m.len;
    }
  } else if (m.type === 'write') {
    const view = new Uint8Array(m.buf, 0, m.len);
    if (m.at < pos) throw new Error(`output out of order at ${m.at} (hashed up to ${pos})`);
    if (m.at > pos) hasher.update_zeros(m.at - pos);
    hasher.update(view);
    pos = m.at + m.len;
    if (sync) {
      const n = sync.write(view, { at: m.at });
      if (n !== m.len) throw new Error(`wrote ${n} of ${m.len} bytes at ${m.at} (is the disk full?)`);
    } else {
      await stream.write({ type: 'write', position: m.at, data: view });
    }
    self.postMessage({ bytes: m.len, buf: m.buf }, [m.buf]);
  } else if (m.type === 'finish') {
    if (m.len > pos) hasher.update_zeros(m.len - pos);
    const sha512 = hasher.finish();
    hasher = null;
    if (sync) {
      sync.truncate(m.len);
      sync.flush();
      sync.close();
      sync = null;
    } else {
      await stream.truncate(m.len);
      await stream.close();
      stream = null;
    }
    self.postMessage({ id: m.id, sha512 });
  } else if (m.type === 'abort') {
    if (sync) sync.close();
    if (stream) await stream.abort();
    sync = stream = null;
    self.postMessage({ id: m.id });
  }
}

let chain = Promise.resolve();
self.onmessage = (e) => {
  const m = e.data;
  chain = chain.then(() => handle(m)).catch((err) => {
    const quota = err && err.name === 'QuotaExceededError';
    self.postMessage({
      id: m.id,
      bytes: m.type === 'write' ? m.len : 0,
      error: {
        kind: quota ? 'too_large' : 'io', file: '', offset: m.at ?? null,
        message: `${quota ? 'not enough storage for the output: ' : 'writing the output failed: '}${(err && err.message) || err}`,
      },
    });
  });
};
