// A/B of two builds of the page (two copies of web/dist, e.g. one with a constant changed) on
// one input, runs interleaved (A B, then B A, …) so both see the same machine load: the wall
// time from Convert to done and the CPU seconds of the browser, each conversion as
// `npm run bench:page` times it (web/bench.mjs `pageRun`, BENCH_FORMAT as there). For "did this
// change make the page faster?"; the comparison with qemu-img is `npm run bench:page`.
//
// usage: node bench/page-ab.mjs DIST_A DIST_B INPUT [RUNS=3]
// Prints each run, then the medians.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../web/serve.mjs';
import { pageRun } from '../web/bench.mjs';

const [A, B, input, runs = '3'] = process.argv.slice(2);
if (!A || !B || !input) {
  console.error('usage: node bench/page-ab.mjs DIST_A DIST_B INPUT [RUNS]');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'page-ab-'));
const servers = {};
for (const [k, dist] of [['A', A], ['B', B]]) servers[k] = await serve(path.resolve(dist));
const base = (k) => `http://127.0.0.1:${servers[k].address().port}/`;
const results = { A: [], B: [] };
try {
  await pageRun(base('A'), input, tmp, null); // warm-up: the page cache holds the input from here on
  for (let i = 0; i < Number(runs); i++) {
    for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) {
      const r = await pageRun(base(k), input, tmp, null);
      results[k].push(r);
      console.log(k, r.wall.toFixed(2), 's', r.cpu.toFixed(1), 'CPU s', r.shaS == null ? '' : `(then the SHA-512 on request ${r.shaS.toFixed(2)} s)`);
    }
  }
} finally {
  for (const s of Object.values(servers)) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  console.log(`${k} median: ${median(results[k].map((r) => r.wall)).toFixed(2)} s, CPU ${median(results[k].map((r) => r.cpu)).toFixed(1)} s`);
}
