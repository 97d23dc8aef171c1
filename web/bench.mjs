// Benchmark (a script, not a test): the same multi-GB stream-optimized VMDK converted to QCOW2
// by the page in headless Chromium and by native `qemu-img convert -t unsafe` of the bare
// VMDK, in the same run, interleaved; per case, prints wall and CPU times, their spreads and
// ratios, and the renderers' memory; then one summary table. The numbers depend on the machine
// and its load (printed too).
//
// usage: npm run bench:page [-- VMDK]   (or node web/bench.mjs [VMDK])
//   VMDK              a streamOptimized VMDK; default: the lead's bench disk in bench/out/ if
//                     present, else one generated into bench/out/ (BENCH_WEB_VIRTUAL_MIB,
//                     default 4096, with BENCH_WEB_DATA_MIB, default 1024, of data)
//   BENCH_PAGE_CASES=vmdk,ova,upload   which cases, in this order:
//     vmdk    the VMDK dropped on the page (File in, OPFS out)
//     ova     the VMDK as an ESXi-style OVA (OVF, SHA-256 manifest, VMDK; tests/e2e/ova.py),
//             built once into bench/out/ and dropped whole; qemu-img still converts the VMDK
//     upload  Send to Glance while converting (the direct path: the page streams its output
//             into PUT /api/images/{id}/file over HTTP/2) through the edge worker under workerd
//             and a local HTTP/2 TLS front, against tests/openstack (started here if it is not
//             running, and stopped again; STACK_DIR as tests/openstack); timed from Send to the
//             image active with the page's SHA-512 matching Glance's
//   BENCH_RUNS=3      timed runs of each (after one warm-up)
//   BENCH_VERIFY=1    vmdk, ova: take the page's first download and `qemu-img compare` it
//   BENCH_FORMAT=qcow2  or raw / qcow2-compressed (vmdk, ova; qemu-img gets -O raw / -c to match)
//   BENCH_THREADS=1   also print the CPU time of each browser thread during each conversion
//   BENCH_SHA512=0    vmdk, ova: do not time the SHA-512 computed on request after each
//                     conversion (a Convert leaves it to the result's Compute; a Send computes
//                     it while converting, as the upload case does)
//   BENCH_QEMU_INPUT  what qemu-img converts, when VMDK is an .ova (give its VMDK member)
//   BENCH_PROF=DIR    vmdk, ova: Chromium runs V8's sampling profiler (--js-flags=--prof), one
//                     log per isolate (the page and each of its workers) in DIR; summarise
//                     with `python3 bench/v8-ticks.py DIR` (self time per function, per worker)
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';
import { browserProcesses, rendererRssKiB } from './tests/procs.mjs';
import { adminToken } from '../tests/lib/edge-worker.mjs';
import { h2Proxy } from '../tests/lib/h2-proxy.mjs';
import { osFlow, startWorker } from '../tests/lib/os-flow.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(ROOT, 'bench/out');
const RUNS = Number(process.env.BENCH_RUNS || 3);
const VERIFY = process.env.BENCH_VERIFY !== '0';
const FORMAT = process.env.BENCH_FORMAT || 'qcow2';
const THREADS = process.env.BENCH_THREADS === '1';
const SHA512 = process.env.BENCH_SHA512 !== '0';
const CASES = (process.env.BENCH_PAGE_CASES || 'vmdk,ova,upload').split(',').map((c) => c.trim()).filter(Boolean);
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STACK_ENV = { ...process.env, STACK_DIR: process.env.STACK_DIR || path.join(ROOT, '.stack') };
/** The issue's targets (issue 16): page wall / qemu-img wall, and renderer memory growth. */
const TARGET = { vmdk: 1.0, ova: 1.0, upload: 1.1 };
const MEMORY_TARGET_MIB = 256;
/** How often the renderers' memory (and with BENCH_THREADS each thread's CPU) is sampled. */
const SAMPLE_MS = 500;
const wall_s = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
/** The browser's flags, for every page measurement (bench/page-ab.mjs, file-reads, page-reads). */
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PROF = process.env.BENCH_PROF ? path.resolve(process.env.BENCH_PROF) : null;
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function log(s) {
  process.stderr.write(`[web-bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

/** What the bench made, undone newest first at the end, on a failure and on SIGINT/SIGTERM. */
const cleanups = [];
/** Undo what was made since `cleanups` held `mark` entries (default: everything). */
export async function cleanUp(mark = 0) {
  while (cleanups.length > mark) {
    const [what, fn] = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      log(`clean-up: ${what} failed: ${e.message}`);
    }
  }
}

function input() {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  fs.mkdirSync(OUT, { recursive: true });
  const lead = fs.readdirSync(OUT).filter((f) => /^disk-.*-streamOptimized\.vmdk$/.test(f)).sort();
  if (lead.length) return path.join(OUT, lead[0]);
  const v = Number(process.env.BENCH_WEB_VIRTUAL_MIB || 4096);
  const d = Number(process.env.BENCH_WEB_DATA_MIB || 1024);
  const vmdk = path.join(OUT, `web-disk${v}m-data${d}m-streamOptimized.vmdk`);
  if (!fs.existsSync(vmdk)) {
    const raw = path.join(OUT, `web-disk${v}m-data${d}m.raw`);
    log(`generating ${raw} and ${path.basename(vmdk)} (a minute or two)`);
    execFileSync('python3', [path.join(HERE, 'tests/make-disk.py'), raw, String(v), String(d), '11']);
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, `${vmdk}.tmp`]);
    fs.renameSync(`${vmdk}.tmp`, vmdk);
    fs.rmSync(raw);
  }
  return vmdk;
}

/**
 * `vmdk` packaged as an ESXi export is (OVF, manifest second, VMDK; tests/e2e/ova.py), cached
 * in bench/out/ as NAME.ova until the VMDK changes. The VMDK is hard-linked (else copied) into
 * a staging folder for ova.py, which is removed again.
 */
function ovaOf(vmdk, virtualSize) {
  if (!vmdk.endsWith('.vmdk')) throw new Error(`the ova case packages a VMDK, not ${vmdk}`);
  const name = path.basename(vmdk, '.vmdk');
  const ova = path.join(OUT, `${name}.ova`);
  if (fs.existsSync(ova) && fs.statSync(ova).mtimeMs > fs.statSync(vmdk).mtimeMs) return ova;
  const stage = path.join(OUT, `${name}.ova.d`);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  try {
    const member = path.join(stage, path.basename(vmdk));
    try {
      fs.linkSync(vmdk, member);
    } catch {
      fs.copyFileSync(vmdk, member);
    }
    log(`packaging ${path.basename(ova)} (once; cached in ${OUT})`);
    const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', vmdk], { encoding: 'utf8', maxBuffer: 256 << 20 }));
    const populated = map.filter((e) => e.data).reduce((n, e) => n + e.length, 0);
    const py = path.join(ROOT, 'tests/e2e/ova.py');
    execFileSync('python3', [py, 'ovf', path.join(stage, `${name}.ovf`), '--name', name, '--vmdk', member,
      '--capacity', String(virtualSize), '--populated', String(populated)], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('python3', [py, 'pack', stage, name, '--mf-second'], { stdio: ['ignore', 'ignore', 'inherit'] });
    fs.renameSync(path.join(stage, `${name}.ova`), ova);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return ova;
}

const load = () => os.loadavg()[0].toFixed(2);

/** CPU seconds (user+sys) of every process of the browser with profile `udd`. */
function browserCpu(udd) {
  return browserProcesses(udd).reduce((sum, p) => sum + (Number(p.stat[11]) + Number(p.stat[12])) / TICK, 0);
}

/** CPU seconds of every thread of the browser with profile `udd`: Map "type/tid name" -> s. */
function browserThreads(udd) {
  const out = new Map();
  for (const p of browserProcesses(udd)) {
    let tasks = [];
    try { tasks = fs.readdirSync(`/proc/${p.pid}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        const stat = fs.readFileSync(`/proc/${p.pid}/task/${t}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${p.type}/${t} ${name}`, (Number(f[11]) + Number(f[12])) / TICK);
      } catch { /* gone */ }
    }
  }
  return out;
}

/**
 * The whole machine's CPU so far, from /proc/stat: `busy` (user, nice, system, irq, softirq)
 * and `steal` (time the hypervisor gave this VM's vCPUs to someone else), in seconds. Beside
 * the browser's own CPU it says what else ran during a run (the local cloud, for an upload)
 * and how contended the host was.
 */
export function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) / TICK, steal: (f[7] || 0) / TICK };
}

/**
 * Watches the browser with profile `udd` from now (the page idle, its input inspected) until
 * `stop()`: CPU used, the renderers' RSS before and at its peak, and with BENCH_THREADS each
 * thread's CPU (logged by `stop()`).
 */
function watch(udd) {
  const t0 = Date.now();
  const cpu0 = browserCpu(udd);
  const machine0 = machineCpu();
  const idleKiB = rendererRssKiB(udd);
  let peakKiB = idleKiB;
  const threads0 = THREADS ? browserThreads(udd) : null;
  // Workers' threads end with the conversion: keep each thread's last sample.
  const threads1 = new Map();
  const sample = () => {
    peakKiB = Math.max(peakKiB, rendererRssKiB(udd));
    if (THREADS) for (const [k, v] of browserThreads(udd)) threads1.set(k, v);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      if (THREADS) {
        // Threads that used more than 0.2 s of CPU during the conversion: which worker limits it.
        const rows = [...threads1].map(([k, v]) => [k, v - (threads0.get(k) || 0)]).filter(([, v]) => v > 0.2);
        rows.sort((a, b) => b[1] - a[1]);
        log(`threads (CPU s during the conversion, ${wall_s(t0)} s wall): ${rows.map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ')}`);
      }
      const machine = machineCpu();
      const cpu = browserCpu(udd) - cpu0;
      const busy = machine.busy - machine0.busy;
      return { cpu, others: Math.max(0, busy - cpu), steal: machine.steal - machine0.steal, idleMiB: idleKiB / 1024, peakMiB: peakKiB / 1024, growthMiB: (peakKiB - idleKiB) / 1024 };
    },
  };
}

/**
 * Before a timed run: `out` (the other side's output, if given) removed and everything written
 * back, so that no run pays for writing back the one before (qemu-img's 2.3 GiB output left in
 * place cost the page run after it up to 15 %; bench/ab.sh does the same).
 */
function settle(out = null) {
  if (out) fs.rmSync(out, { force: true });
  execFileSync('sync');
}

function qemuRun(src, dst, format) {
  const args = ['-f', '%e %U %S %M', 'qemu-img', 'convert', '-t', 'unsafe', '-f', 'vmdk', '-O', format === 'raw' ? 'raw' : 'qcow2'];
  if (format === 'qcow2-compressed') args.push('-c');
  args.push(src, dst);
  const r = spawnSync('/usr/bin/time', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img failed: ${r.stderr}`);
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: rss / 1024 };
}

/**
 * A browser with profile `udd`; with BENCH_PROF, profiling into that directory: V8 writes one
 * log per isolate into the browser's working directory (a path in --logfile would get the
 * isolate's prefix in front of it), so the browser starts there.
 */
async function launch(udd) {
  if (!PROF) return chromium.launchPersistentContext(udd, { executablePath: CHROMIUM, headless: true, args: ARGS, acceptDownloads: true });
  fs.mkdirSync(PROF, { recursive: true });
  const cwd = process.cwd();
  process.chdir(PROF);
  try {
    return await chromium.launchPersistentContext(udd, { executablePath: CHROMIUM, headless: true, args: [...ARGS, '--js-flags=--prof'], acceptDownloads: true });
  } finally {
    process.chdir(cwd);
  }
}

/**
 * The page at `base` converts `src` into OPFS (cases vmdk and ova; BENCH_FORMAT) in a fresh
 * browser profile under `tmp`; `keep`: save the output there. Resolves to `{wall, cpu, …}` (also
 * used by bench/page-ab.mjs).
 */
export async function pageRun(base, src, tmp, keep) {
  const udd = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const ctx = await launch(udd);
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(base);
    await page.waitForSelector('body[data-ready=true]');
    await page.locator('[data-testid=file-input]').setInputFiles([src]);
    await page.waitForFunction(() => Number(document.body.dataset.inspected || 0) > 0);
    await page.locator('[data-testid=format-select]').selectOption(FORMAT);
    const w = watch(udd);
    const t0 = Date.now();
    await page.locator('[data-testid=convert-button]').click();
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state), null, { timeout: 3600e3, polling: 100 });
    const wall = (Date.now() - t0) / 1000;
    const seen = w.stop();
    const state = await page.locator('[data-testid=progress]').getAttribute('data-state');
    if (state !== 'done') throw new Error(`page conversion ${state}: ${await page.locator('[data-testid=error]').innerText()}`);
    const row = await page.locator('[data-testid=progress] .disk').evaluate((e) => ({ ...e.dataset }));
    // The SHA-512 on request (the result's Compute), timed on its own.
    let shaS = null;
    if (SHA512 && await page.locator('[data-testid=sha512-compute]').count()) {
      const s0 = Date.now();
      await page.locator('[data-testid=sha512-compute]').click();
      await page.locator('#result-disks [data-testid=sha512]').waitFor({ timeout: 3600e3 });
      shaS = (Date.now() - s0) / 1000;
    }
    if (keep) {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=download-link]').click()]);
      await dl.saveAs(keep);
    }
    return { wall, ...seen, planS: Number(row.planMs) / 1000, shaS };
  } finally {
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
}

/**
 * The upload case's set-up: OpenStack (started unless it runs; stopped at the end if started
 * here), the edge worker under workerd behind the HTTP/2 TLS front, and the page flow of the
 * OpenStack tests (tests/lib/os-flow.mjs). Resolves to `run(src)`, one Send of `src`. `dist`:
 * the page the worker serves (default web/dist; bench/page-ab.mjs --upload sets up two).
 */
export async function uploadSetUp(tmp, dist) {
  const stack = (script) => spawnSync('bash', [path.join(ROOT, 'tests/openstack', script)], { env: STACK_ENV, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!stack('status.sh')) {
    log(`starting OpenStack (STACK_DIR ${STACK_ENV.STACK_DIR})`);
    cleanups.push(['stop OpenStack', () => { if (!stack('stop.sh')) throw new Error('tests/openstack/stop.sh failed'); }]);
    if (!stack('start.sh')) throw new Error('tests/openstack/start.sh failed');
  }
  execFileSync('bash', [path.join(ROOT, 'scripts/build.sh'), '--if-stale', 'worker'], { stdio: ['ignore', process.stderr, 'inherit'] });
  let admin = null;
  const made = { images: [] };
  const flow = osFlow({ tmp, made, admin: () => admin });
  cleanups.push(['delete the images made', () => flow.deleteMade()]);
  admin = await adminToken();
  // The bench disk's QCOW2 is larger than the harness's 1 GiB upload limit.
  const worker = await startWorker({ UPLOAD_MAX_BYTES: String(2 ** 40) }, { dist });
  cleanups.push(['stop workerd', () => worker.stop()]);
  const proxy = await h2Proxy(worker.base, tmp);
  cleanups.push(['stop the HTTP/2 front', () => new Promise((r) => proxy.server.close(r))]);

  return async function run(src) {
    const t = { cleanup: [], after: [], note: log };
    const mark = cleanups.length;
    // On SIGINT the browser goes first: the HTTP/2 front's close waits for its connections.
    cleanups.push(['close the browser', async () => { for (const fn of t.cleanup.reverse()) await fn().catch(() => {}); }]);
    let w = null;
    let udd = null;
    try {
      const s = await flow.open(t, proxy.base, { https: true });
      udd = s.udd;
      // Every image the page creates, recorded at once: a run that fails half-way leaves none.
      s.page.on('response', async (r) => {
        if (r.request().method() !== 'POST' || !r.url().endsWith('/api/images') || r.status() >= 300) return;
        const id = (await r.json().catch(() => ({}))).id;
        if (id && !made.images.includes(id)) made.images.push(id);
      });
      const r = await flow.loginConvertSend(t, s.page, src, { steps: { fed: () => { w = watch(s.udd); } }, timeout: 3600e3 });
      const seen = w.stop();
      w = null;
      const status = await s.page.locator('[data-testid=image-status]').first().getAttribute('data-status');
      if (r.match !== 'true' || status !== 'active') throw new Error(`image ${r.imageId}: ${status}, data-hash-match=${r.match}`);
      if (r.pathTaken !== 'stream') throw new Error(`the page took the ${r.pathTaken} path, not the stream`);
      for (const check of t.after) check();
      return { wall: r.sendSecs, ...seen, bytes: Number(r.total) };
    } finally {
      if (w) w.stop();
      await cleanUp(mark);
      // (maxRetries: on SIGINT the browser may still be writing into it)
      if (udd) fs.rmSync(udd, { recursive: true, force: true, maxRetries: 5 });
      made.images.splice(0, made.images.length, ...new Set(made.images));
      await flow.deleteMade();
    }
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs, d = 2) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;

/** Prints one case's Markdown block; returns its summary row. */
function report(c, title, src, info, w, q, loads, chromiumVersion) {
  const pw = median(w.map((x) => x.wall));
  const qw = median(q.map((x) => x.wall));
  const pc = median(w.map((x) => x.cpu));
  const qc = median(q.map((x) => x.cpu));
  const growth = w.map((x) => x.growthMiB);
  const mbs = c === 'upload' ? median(w.map((x) => x.bytes / 1e6 / x.wall)) : null;
  const lines = [
    `## ${title}`,
    '',
    `input: ${path.basename(src)}, ${(info['virtual-size'] / 1073741824).toFixed(2)} GiB virtual, ${(fs.statSync(src).size / 1048576).toFixed(0)} MiB file; ` +
      `${os.cpus().length} cores; load average (1 min) during runs: ${loads.join(', ')}`,
    '',
    '| | median wall s | spread s | median CPU s | runs (wall s) |',
    '|---|---|---|---|---|',
    `| page (Chromium ${chromiumVersion}) | ${pw.toFixed(2)} | ${spread(w.map((x) => x.wall))} | ${pc.toFixed(1)} | ${w.map((x) => x.wall.toFixed(2)).join(', ')} |`,
    `| qemu-img convert (bare VMDK) | ${qw.toFixed(2)} | ${spread(q.map((x) => x.wall))} | ${qc.toFixed(1)} | ${q.map((x) => x.wall.toFixed(2)).join(', ')} |`,
    '',
    `ratio page/qemu-img: wall ${(pw / qw).toFixed(2)}x, CPU ${(pc / qc).toFixed(2)}x (target: wall <= ${TARGET[c].toFixed(1)}x)`,
    `page renderers' RSS: idle median ${median(w.map((x) => x.idleMiB)).toFixed(0)} MiB, peak median ${median(w.map((x) => x.peakMiB)).toFixed(0)} MiB; ` +
      `growth median ${median(growth).toFixed(0)} MiB, spread ${spread(growth, 0)} MiB (target <= ${MEMORY_TARGET_MIB} MiB)`,
  ];
  lines.push(`machine during the page runs: other processes' CPU median ${median(w.map((x) => x.others)).toFixed(1)} s` +
    `${c === 'upload' ? ' (the local cloud — Glance, its database, workerd — and the node of this bench, which runs the TLS front)' : ''}, CPU stolen by the host median ${median(w.map((x) => x.steal)).toFixed(1)} s`);
  if (c === 'upload') {
    lines.push(`upload: ${(median(w.map((x) => x.bytes)) / 1e6).toFixed(0)} MB of QCOW2 streamed to Glance while converting, median ${mbs.toFixed(0)} MB/s ` +
      `(spread ${spread(w.map((x) => x.bytes / 1e6 / x.wall), 0)}); wall from Send to the image active with its SHA-512 matched`);
  } else {
    lines.push(`page: planning (reading metadata) median ${median(w.map((x) => x.planS)).toFixed(2)} s of the wall time`);
    const sha = w.map((x) => x.shaS).filter((x) => x != null);
    if (sha.length) lines.push(`page: the SHA-512 computed on request after the conversion (the result's Compute, not in the wall time above) median ${median(sha).toFixed(2)} s, spread ${spread(sha)} s`);
  }
  console.log(`${lines.join('\n')}\n`);
  return `| ${c} | ${pw.toFixed(2)} | ${qw.toFixed(2)} | ${(pw / qw).toFixed(2)}x | ${pc.toFixed(1)} | ${median(growth).toFixed(0)} | ${mbs === null ? '' : mbs.toFixed(0)} |`;
}

async function main() {
  for (const c of CASES) if (!(c in TARGET)) throw new Error(`BENCH_PAGE_CASES: unknown case '${c}' (vmdk, ova, upload)`);
  const dist = path.join(ROOT, 'web/dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) execFileSync('bash', [path.join(HERE, 'build.sh')], { stdio: 'inherit' });
  const src = input();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stackferry-bench-'));
  cleanups.push(['remove the scratch folder', () => fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 })]);
  const server = await serve(dist);
  cleanups.push(['stop the page server', () => server.close()]);
  const base = `http://127.0.0.1:${server.address().port}/`;
  // An OVA goes to the page whole; qemu-img gets its VMDK (BENCH_QEMU_INPUT), as an admin
  // would convert it after `tar x`.
  const qsrc = process.env.BENCH_QEMU_INPUT ? path.resolve(process.env.BENCH_QEMU_INPUT) : src;
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', qsrc], { encoding: 'utf8' }));
  const chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim().split(' ')[1];
  log(`input ${src}: ${(info['virtual-size'] / 1073741824).toFixed(2)} GiB virtual, file ${(fs.statSync(src).size / 1048576).toFixed(0)} MiB; ` +
    `format ${FORMAT}; cases ${CASES.join(', ')}; ${os.cpus().length} cores`);
  const inputs = { vmdk: src, ova: CASES.includes('ova') ? ovaOf(src, info['virtual-size']) : null, upload: src };
  const qOut = path.join(tmp, 'qemu.out');
  const rows = [];
  for (const c of CASES) {
    const format = c === 'upload' ? 'qcow2' : FORMAT;
    // warm the page cache
    for (const f of new Set([inputs[c], qsrc])) execFileSync('cat', [f], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 });
    const mark = cleanups.length;
    let run = (keep) => pageRun(base, inputs[c], tmp, keep);
    if (c === 'upload') {
      const send = await uploadSetUp(tmp);
      run = () => send(inputs[c]);
    }
    const w = [];
    const q = [];
    const loads = [load()];
    log(`${c}: warm-up`);
    if (c === CASES[0]) qemuRun(qsrc, qOut, format);
    await run(null);
    for (let i = 0; i < RUNS; i++) {
      const keep = VERIFY && c !== 'upload' && i === 0 ? path.join(tmp, 'page.out') : null;
      settle(qOut);
      w.push(await run(keep));
      loads.push(load());
      settle();
      q.push(qemuRun(qsrc, qOut, format));
      loads.push(load());
      log(`${c} run ${i + 1}: page ${w[i].wall.toFixed(2)} s (cpu ${w[i].cpu.toFixed(1)} s, other processes ${w[i].others.toFixed(1)} s, steal ${w[i].steal.toFixed(1)} s, renderers +${w[i].growthMiB.toFixed(0)} MiB${w[i].shaS == null ? '' : `; SHA-512 on request ${w[i].shaS.toFixed(2)} s`}), ` +
        `qemu-img ${q[i].wall.toFixed(2)} s (cpu ${q[i].cpu.toFixed(1)} s)`);
      if (keep) {
        const cmp = spawnSync('qemu-img', ['compare', qOut, keep], { encoding: 'utf8' });
        if (cmp.status !== 0) throw new Error(`page output differs from qemu-img's: ${cmp.stdout}${cmp.stderr}`);
        log(`verified: ${cmp.stdout.trim()}`);
        fs.rmSync(keep);
      }
    }
    fs.rmSync(qOut, { force: true });
    const title = {
      vmdk: `Browser (headless Chromium) vs qemu-img: ${path.basename(src)} -> ${FORMAT}`,
      ova: `Browser, the same disk as an ESXi-style OVA (SHA-256 manifest) vs qemu-img on the bare VMDK -> ${FORMAT}`,
      upload: 'Browser, converting while streaming to Glance (edge worker under workerd, HTTP/2) vs qemu-img on the bare VMDK -> qcow2',
    }[c];
    rows.push(report(c, title, inputs[c], info, w, q, loads, chromiumVersion));
    // The upload case's stack and workerd go as soon as it is over.
    await cleanUp(mark);
  }
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  console.log([
    '## Summary',
    '',
    '| case | page median s | qemu-img median s | ratio | page CPU s | peak renderer RSS growth MiB | MB/s (upload) |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `machine: ${os.cpus().length} cores, load averages ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, Chromium ${chromiumVersion}, commit ${commit}, ${RUNS} runs each`,
  ].join('\n'));
}

// Run as a script (`npm run bench:page`), not when imported for pageRun.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      log(`${sig}: cleaning up`);
      await cleanUp();
      process.exit(130);
    });
  }
  main().then(cleanUp, async (e) => {
    console.error(e);
    await cleanUp();
    process.exit(1);
  });
}
