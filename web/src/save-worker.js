// The writer for "browser storage" output: owns the Origin Private File System file and its
// synchronous access handle (only dedicated workers have those), so writing to disk runs in
// parallel with converting. Each write is acknowledged with its size, which bounds the bytes
// in flight (see save.js).
let h = null;
let size = 0;

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'open') {
      const root = await navigator.storage.getDirectory();
      const fh = await root.getFileHandle(m.name, { create: true });
      h = await fh.createSyncAccessHandle();
      h.truncate(0);
      size = 0;
      self.postMessage({ id: m.id });
    } else if (m.type === 'reserve') {
      // Sizing the file first spares each write a quota check.
      if (m.len > size) {
        h.truncate(m.len);
        size = m.len;
      }
    } else if (m.type === 'write') {
      const n = h.write(new Uint8Array(m.buf, 0, m.len), { at: m.at });
      if (n !== m.len) throw new Error(`wrote ${n} of ${m.len} bytes at ${m.at} (is the disk full?)`);
      self.postMessage({ bytes: n, buf: m.buf }, [m.buf]);
    } else if (m.type === 'finish') {
      h.truncate(m.len);
      h.flush();
      h.close();
      h = null;
      self.postMessage({ id: m.id });
    }
  } catch (err) {
    const quota = err && err.name === 'QuotaExceededError';
    self.postMessage({
      id: m.id,
      bytes: m.type === 'write' ? m.len : 0,
      error: { kind: quota ? 'too_large' : 'io', file: '', offset: m.at ?? null, message: `${quota ? 'not enough browser storage: ' : 'writing the output failed: '}${err && err.message || err}` },
    });
  }
};
