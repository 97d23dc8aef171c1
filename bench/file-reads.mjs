// What one synchronous read of a dropped file costs a worker in headless Chromium
// (`FileReaderSync.readAsArrayBuffer` of a `Blob.slice`, what the core's page source does when a
// block was not fetched ahead), by size, at random offsets; and the same sizes read with
// `Blob.arrayBuffer()` one at a time (what the converter's fetch-ahead uses). A measurement for
// bench/RESULTS.md, not a test.
//
// usage: node bench/file-reads.mjs FILE   (any large file: the bench's VMDK)
import { withFilePage } from './file-page.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const file = path.resolve(process.argv[2] || '');
if (!process.argv[2] || !fs.existsSync(file)) {
  console.error('usage: node bench/file-reads.mjs FILE');
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-reads-'));
const SIZES = [12, 2048, 65536, 4 << 20];
fs.writeFileSync(path.join(dir, 'index.html'), '<input type=file id=f><script src="page.js"></script>');
fs.writeFileSync(path.join(dir, 'page.js'), `document.getElementById('f').onchange = (e) => {
  const w = new Worker('worker.js');
  w.onmessage = (m) => { document.title = 'done ' + JSON.stringify(m.data); };
  w.postMessage(e.target.files[0]);
};`);
fs.writeFileSync(path.join(dir, 'worker.js'), `onmessage = async (e) => {
  const f = e.data;
  const r = new FileReaderSync();
  const at = (size) => Math.floor(Math.random() * (f.size - size));
  const out = {};
  for (const size of ${JSON.stringify(SIZES)}) {
    const n = size >= 1 << 20 ? 20 : 200;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) { const o = at(size); r.readAsArrayBuffer(f.slice(o, o + size)); }
    const sync = (performance.now() - t0) / n;
    t0 = performance.now();
    for (let i = 0; i < n; i++) { const o = at(size); await f.slice(o, o + size).arrayBuffer(); }
    out[size] = { sync_ms: +sync.toFixed(3), async_ms: +((performance.now() - t0) / n).toFixed(3) };
  }
  postMessage(out);
};`);
await withFilePage(dir, file, async (page) => {
  await page.waitForFunction(() => document.title.startsWith('done'), null, { timeout: 300e3 });
  const got = JSON.parse((await page.title()).slice(5));
  console.log('| read size | FileReaderSync ms per read | Blob.arrayBuffer ms per read (one at a time) |\n|---|---|---|');
  for (const s of SIZES) console.log(`| ${s} B | ${got[s].sync_ms} | ${got[s].async_ms} |`);
});
