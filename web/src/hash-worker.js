// The hasher (a worker nested in the writer): the SHA-512 of the output (Glance's
// os_hash_value), in its own thread because on its own it costs as much as writing the file
// (about 450 MiB/s in wasm): one thread doing both was the slowest step of a conversion.
// Output arrives from the writer in order as (bytes, at) pieces, all-zero stretches skipped
// (hashed here as zeros); each buffer goes back to the writer once hashed, which is what
// bounds the bytes in flight (see save.js).
import init, { Sha512Hasher } from './pkg/stackferry.js';

let hasher = null;
let pos = 0; // output bytes hashed so far

async function handle(m) {
  if (m.type === 'open') {
    await init({ module_or_path: m.module });
    hasher = new Sha512Hasher();
    pos = 0;
    self.postMessage({ id: m.id });
  } else if (m.type === 'update') {
    if (m.at < pos) throw new Error(`output out of order at ${m.at} (hashed up to ${pos})`);
    if (m.at > pos) hasher.update_zeros(m.at - pos);
    hasher.update(new Uint8Array(m.buf, 0, m.len));
    pos = m.at + m.len;
    self.postMessage({ hashed: m.len, buf: m.buf }, [m.buf]);
  } else if (m.type === 'finish') {
    if (m.len > pos) hasher.update_zeros(m.len - pos);
    const sha512 = hasher.finish();
    hasher = null;
    self.postMessage({ id: m.id, sha512 });
  }
}

let chain = Promise.resolve();
self.onmessage = (e) => {
  const m = e.data;
  chain = chain.then(() => handle(m)).catch((err) => {
    self.postMessage({ id: m.id, hashed: m.len || 0, error: { kind: 'invalid_argument', file: '', offset: m.at ?? null, message: `hashing the output failed: ${(err && err.message) || err}` } });
  });
};
