// A/B of two builds of the page (two copies of web/dist, e.g. one with a constant changed) on
// one input, runs interleaved (A B, then B A, …) so both see the same machine load: the wall
// time from Convert to done and the CPU seconds of the browser, each conversion as
// `npm run bench:page` times it (web/bench.mjs `pageRun`, BENCH_FORMAT as there). With
// --upload, each run is the bench's upload case instead: a Send streamed into Glance while
// converting, each build served by its own edge worker behind its own HTTP/2 front (OpenStack
// started unless it runs, and stopped again). For "did this change make the page faster?";
// the comparison with qemu-img is `npm run bench:page`.
//
// usage: node bench/page-ab.mjs [--upload] DIST_A DIST_B INPUT [RUNS=3]
// Prints each run, then the medians.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../web/serve.mjs';
import { cleanUp, pageRun, uploadSetUp } from '../web/bench.mjs';

const args = process.argv.slice(2);
const upload = args[0] === '--upload';
const [A, B, input, runs = '3'] = upload ? args.slice(1) : args;
if (!A || !B || !input) {
  console.error('usage: node bench/page-ab.mjs [--upload] DIST_A DIST_B INPUT [RUNS]');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'page-ab-'));
const servers = [];
const run = {};
const results = { A: [], B: [] };
try {
  for (const [k, dist] of [['A', A], ['B', B]]) {
    if (upload) {
      const send = await uploadSetUp(tmp, path.resolve(dist));
      run[k] = () => send(input);
    } else {
      const s = await serve(path.resolve(dist));
      servers.push(s);
      run[k] = () => pageRun(`http://127.0.0.1:${s.address().port}/`, input, tmp, null);
    }
  }
  await run.A(); // warm-up: the page cache holds the input from here on
  for (let i = 0; i < Number(runs); i++) {
    for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) {
      const r = await run[k]();
      results[k].push(r);
      const extra = r.bytes ? `, ${(r.bytes / 1e6 / r.wall).toFixed(0)} MB/s` : r.shaS == null ? '' : ` (then the SHA-512 on request ${r.shaS.toFixed(2)} s)`;
      console.log(k, r.wall.toFixed(2), 's', r.cpu.toFixed(1), `CPU s${extra}`);
    }
  }
} finally {
  for (const s of servers) s.close();
  await cleanUp();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  console.log(`${k} median: ${median(results[k].map((r) => r.wall)).toFixed(2)} s, CPU ${median(results[k].map((r) => r.cpu)).toFixed(1)} s`);
}
