// A/B of two builds of the page (two copies of web/dist, e.g. one with a constant changed) on
// one input, runs interleaved (A B, then B A, …) so both see the same machine load: the wall
// time from Convert to done and the CPU seconds of every browser process. For "did this change
// make the page faster?"; the comparison with qemu-img is `npm run bench:page` (web/bench.mjs).
//
// usage: node bench/page-ab.mjs DIST_A DIST_B INPUT [RUNS=3] [FORMAT=qcow2]
// Prints each run, then the medians. Each run has its own browser profile (OPFS starts empty).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../web/serve.mjs';
import { browserProcesses } from '../web/tests/procs.mjs';

const [A, B, input, runs = '3', format = 'qcow2'] = process.argv.slice(2);
if (!A || !B || !input) {
  console.error('usage: node bench/page-ab.mjs DIST_A DIST_B INPUT [RUNS] [FORMAT]');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const cpu = (udd) => browserProcesses(udd).reduce((s, p) => s + (Number(p.stat[11]) + Number(p.stat[12])) / TICK, 0);

/** One conversion with the page in `dist`: [wall s, browser CPU s]. */
async function run(dist) {
  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'page-ab-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(base);
    await page.waitForSelector('body[data-ready=true]');
    await page.locator('[data-testid=file-input]').setInputFiles([input]);
    await page.waitForFunction(() => Number(document.body.dataset.inspected || 0) > 0);
    await page.locator('[data-testid=format-select]').selectOption(format);
    const c0 = cpu(udd);
    const t0 = Date.now();
    await page.locator('[data-testid=convert-button]').click();
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state),
      null, { timeout: 3600e3, polling: 100 });
    const state = await page.locator('[data-testid=progress]').getAttribute('data-state');
    if (state !== 'done') throw new Error(`${dist}: the conversion ended ${state}`);
    return [(Date.now() - t0) / 1000, cpu(udd) - c0];
  } finally {
    await ctx.close();
    server.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
}

const results = { A: [], B: [] };
await run(A); // warm-up: the page cache holds the input from here on
for (let i = 0; i < Number(runs); i++) {
  for (const [k, dist] of i % 2 ? [['B', B], ['A', A]] : [['A', A], ['B', B]]) {
    const r = await run(dist);
    results[k].push(r);
    console.log(k, r[0].toFixed(2), 's', r[1].toFixed(1), 'CPU s');
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  console.log(`${k} median: ${median(results[k].map((r) => r[0])).toFixed(2)} s, CPU ${median(results[k].map((r) => r[1])).toFixed(1)} s`);
}
