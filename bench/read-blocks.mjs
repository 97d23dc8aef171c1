// What reading a dropped file block by block costs, in headless Chromium, the way the
// converter's fetch-ahead reads it (4 MiB blocks, 4 in flight, each copied once into one
// fixed buffer as the core's `supply` does): `ab` — `Blob.arrayBuffer()` of each block (a new
// buffer each time, released after use); `byob` — each block's `Blob.stream()` read with a
// BYOB reader into reused buffers (web/src/converter/read.js, what the page does); `stream` —
// the whole file as one stream, BYOB, for comparison. Wall time of the read and the CPU the
// whole machine used meanwhile (/proc/stat: the browser's I/O threads count), per round, the
// strategies interleaved after one warm-up round. A measurement for bench/RESULTS.md, not a test.
//
// usage: node bench/read-blocks.mjs FILE [ROUNDS=3] [STRATEGIES=ab,byob,stream]
import { withFilePage } from './file-page.mjs';
import { machineCpu } from '../web/bench.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const file = path.resolve(process.argv[2] || '');
if (!process.argv[2] || !fs.existsSync(file)) {
  console.error('usage: node bench/read-blocks.mjs FILE [ROUNDS] [STRATEGIES]');
  process.exit(2);
}
const rounds = Number(process.argv[3] || 3);
const strategies = (process.argv[4] || 'ab,byob,stream').split(',');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-blocks-'));
fs.mkdirSync(path.join(dir, 'converter'));
// The page's own reader, and what it imports.
const src = new URL('../web/src/', import.meta.url);
for (const f of ['converter/read.js', 'converter/bridge.js', 'error.js']) fs.copyFileSync(new URL(f, src), path.join(dir, f));
fs.writeFileSync(path.join(dir, 'index.html'), '<input type=file id=f><script src="page.js"></script>');
fs.writeFileSync(path.join(dir, 'page.js'), `let w;
document.getElementById('f').onchange = (e) => {
  w = new Worker('worker.js', { type: 'module' });
  w.onmessage = (m) => { document.title = 'r ' + JSON.stringify(m.data); };
  w.postMessage({ file: e.target.files[0] });
};
window.run = (strategy) => { document.title = 'busy'; w.postMessage({ strategy }); };`);
fs.writeFileSync(path.join(dir, 'worker.js'), `import { Buffers, readInto } from './converter/read.js';
import { release } from './converter/bridge.js';
const B = 4 << 20;
const core = new Uint8Array(B);
let f;
/** Read the file in blocks, 4 in flight, each block's bytes (a view) copied into core. */
async function blocks(read, done) {
  const inflight = [];
  const use = async () => { const v = await inflight.shift(); core.set(v); done(v); };
  for (let o = 0; o < f.size; o += B) {
    inflight.push(read(o, Math.min(B, f.size - o)));
    if (inflight.length >= 4) await use();
  }
  while (inflight.length) await use();
}
const strategies = {
  ab: () => blocks(async (o, n) => new Uint8Array(await f.slice(o, o + n).arrayBuffer()), (v) => release(v.buffer)),
  byob: () => {
    const bufs = new Buffers(B, 4);
    return blocks((o, n) => readInto(f.slice(o, o + n), bufs.take(n)), (v) => bufs.give(v.buffer));
  },
  async stream() {
    const reader = f.stream().getReader({ mode: 'byob' });
    let buf = new ArrayBuffer(B);
    let total = 0;
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buf));
      if (done) break;
      buf = value.buffer;
      core.set(value);
      total += value.length;
    }
    if (total !== f.size) throw new Error('short read');
  },
};
onmessage = async (e) => {
  if (e.data.file) { f = e.data.file; postMessage('ready'); return; }
  const t0 = performance.now();
  await strategies[e.data.strategy]();
  postMessage({ ms: performance.now() - t0 });
};`);
await withFilePage(dir, file, async (page) => {
  await page.waitForFunction(() => document.title.startsWith('r '));
  const got = {};
  for (let r = 0; r <= rounds; r++) {
    for (const s of strategies) {
      await new Promise((ok) => setTimeout(ok, 2000));
      const c0 = machineCpu();
      await page.evaluate((s) => window.run(s), s);
      await page.waitForFunction(() => document.title.startsWith('r '), null, { timeout: 300e3 });
      const c1 = machineCpu();
      const { ms } = JSON.parse((await page.title()).slice(2));
      if (r > 0) (got[s] ||= []).push(`${(ms / 1000).toFixed(2)} s, ${(c1.busy - c0.busy).toFixed(2)} CPU s`);
    }
  }
  console.log(`${path.basename(file)}, ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB, ${rounds} rounds\n\n| strategy | rounds (wall, machine CPU) |\n|---|---|`);
  for (const s of strategies) console.log(`| ${s} | ${got[s].join('; ')} |`);
});
