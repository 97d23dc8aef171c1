// Benchmark (a script, not a test): the same multi-GB stream-optimized VMDK converted to QCOW2
// by the page in headless Chromium and by native `qemu-img convert`, in the same run,
// interleaved; prints wall times, CPU times and their ratios. The numbers depend on the
// machine and its load (printed too).
//
// usage: node web/bench.mjs [VMDK]
//   VMDK              a streamOptimized VMDK; default: the lead's bench disk in bench/out/ if
//                     present, else one generated into bench/out/ (BENCH_WEB_VIRTUAL_MIB,
//                     default 4096, with BENCH_WEB_DATA_MIB, default 1024, of data)
//   BENCH_RUNS=3      timed runs of each
//   BENCH_VERIFY=1    take the page's download and `qemu-img compare` it with qemu-img's
//   BENCH_FORMAT=qcow2  or raw / qcow2-compressed (qemu-img gets -O raw / -c to match)
//   BENCH_THREADS=1   also print the CPU time of each browser thread during each conversion
//   BENCH_QEMU_INPUT  what qemu-img converts, when VMDK is an .ova (give its VMDK member)
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';
import { browserProcesses } from './tests/procs.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(ROOT, 'bench/out');
const RUNS = Number(process.env.BENCH_RUNS || 3);
const VERIFY = process.env.BENCH_VERIFY !== '0';
const FORMAT = process.env.BENCH_FORMAT || 'qcow2';
const THREADS = process.env.BENCH_THREADS === '1';
const wall_s = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function log(s) {
  process.stderr.write(`[web-bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
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

function qemuRun(src, dst) {
  const args = ['-f', '%e %U %S %M', 'qemu-img', 'convert', '-t', 'unsafe', '-f', 'vmdk', '-O', FORMAT === 'raw' ? 'raw' : 'qcow2'];
  if (FORMAT === 'qcow2-compressed') args.push('-c');
  args.push(src, dst);
  const r = spawnSync('/usr/bin/time', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img failed: ${r.stderr}`);
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: rss / 1024 };
}

async function pageRun(base, src, tmp, keep) {
  const udd = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const ctx = await chromium.launchPersistentContext(udd, { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS, acceptDownloads: true });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(base);
    await page.waitForSelector('body[data-ready=true]');
    await page.locator('[data-testid=file-input]').setInputFiles([src]);
    await page.waitForFunction(() => Number(document.body.dataset.inspected || 0) > 0);
    await page.locator('[data-testid=format-select]').selectOption(FORMAT);
    const cpu0 = browserCpu(udd);
    const threads0 = THREADS ? browserThreads(udd) : null;
    // Workers' threads end with the conversion: keep each thread's last sample.
    const threads1 = new Map();
    const sampler = THREADS ? setInterval(() => { for (const [k, v] of browserThreads(udd)) threads1.set(k, v); }, 500) : null;
    const t0 = Date.now();
    await page.locator('[data-testid=convert-button]').click();
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state), null, { timeout: 3600e3, polling: 100 });
    const wall = (Date.now() - t0) / 1000;
    const cpu = browserCpu(udd) - cpu0;
    if (THREADS) {
      // Threads that used more than 0.2 s of CPU during the conversion: which worker limits it.
      clearInterval(sampler);
      for (const [k, v] of browserThreads(udd)) threads1.set(k, v);
      const rows = [...threads1].map(([k, v]) => [k, v - (threads0.get(k) || 0)]).filter(([, v]) => v > 0.2);
      rows.sort((a, b) => b[1] - a[1]);
      log(`threads (CPU s during the conversion, ${wall_s(t0)} s wall): ${rows.map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ')}`);
    }
    const state = await page.locator('[data-testid=progress]').getAttribute('data-state');
    if (state !== 'done') throw new Error(`page conversion ${state}: ${await page.locator('[data-testid=error]').innerText()}`);
    const row = await page.locator('[data-testid=progress] .disk').evaluate((e) => ({ ...e.dataset }));
    if (keep) {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=download-link]').click()]);
      await dl.saveAs(keep);
    }
    return { wall, cpu, planS: Number(row.planMs) / 1000, convertS: Number(row.convertMs) / 1000 };
  } finally {
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dist = path.join(ROOT, 'web/dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) execFileSync('bash', [path.join(HERE, 'build.sh')], { stdio: 'inherit' });
  const src = input();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stackferry-bench-'));
  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  // An OVA goes to the page whole; qemu-img gets its VMDK (BENCH_QEMU_INPUT), as an admin
  // would convert it after `tar x`.
  const qsrc = process.env.BENCH_QEMU_INPUT ? path.resolve(process.env.BENCH_QEMU_INPUT) : src;
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', qsrc], { encoding: 'utf8' }));
  const fileMiB = fs.statSync(src).size / 1048576;
  log(`input ${src}: ${(info['virtual-size'] / 1073741824).toFixed(2)} GiB virtual, file ${fileMiB.toFixed(0)} MiB; format ${FORMAT}; ${os.cpus().length} cores`);
  for (const f of new Set([src, qsrc])) execFileSync('cat', [f], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 }); // warm the page cache
  const q = [];
  const w = [];
  const loads = [load()];
  const qOut = path.join(tmp, 'qemu.out');
  log('warm-up');
  qemuRun(qsrc, qOut);
  await pageRun(base, src, tmp, null);
  for (let i = 0; i < RUNS; i++) {
    const keep = VERIFY && i === 0 ? path.join(tmp, 'page.out') : null;
    w.push(await pageRun(base, src, tmp, keep));
    loads.push(load());
    q.push(qemuRun(qsrc, qOut));
    loads.push(load());
    log(`run ${i + 1}: page ${w[i].wall.toFixed(2)} s (plan ${w[i].planS.toFixed(2)} s, cpu ${w[i].cpu.toFixed(1)} s), qemu-img ${q[i].wall.toFixed(2)} s (cpu ${q[i].cpu.toFixed(1)} s)`);
    if (keep) {
      const cmp = spawnSync('qemu-img', ['compare', qOut, keep], { encoding: 'utf8' });
      if (cmp.status !== 0) throw new Error(`page output differs from qemu-img's: ${cmp.stdout}${cmp.stderr}`);
      log(`verified: ${cmp.stdout.trim()}`);
      fs.rmSync(keep);
    }
  }
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  const pw = median(w.map((x) => x.wall));
  const qw = median(q.map((x) => x.wall));
  const pc = median(w.map((x) => x.cpu));
  const qc = median(q.map((x) => x.cpu));
  const lines = [
    `## Browser (headless Chromium) vs qemu-img: ${path.basename(src)} -> ${FORMAT}`,
    '',
    `input: ${(info['virtual-size'] / 1073741824).toFixed(2)} GiB virtual, ${fileMiB.toFixed(0)} MiB file; ${os.cpus().length} cores; load average (1 min) during runs: ${loads.join(', ')}`,
    '',
    '| | median wall s | median CPU s | runs (wall s) |',
    '|---|---|---|---|',
    `| page (Chromium ${execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim().split(' ')[1]}) | ${pw.toFixed(2)} | ${pc.toFixed(1)} | ${w.map((x) => x.wall.toFixed(2)).join(', ')} |`,
    `| qemu-img convert | ${qw.toFixed(2)} | ${qc.toFixed(1)} | ${q.map((x) => x.wall.toFixed(2)).join(', ')} |`,
    '',
    `ratio page/qemu-img: wall ${(pw / qw).toFixed(2)}x, CPU ${(pc / qc).toFixed(2)}x (target: wall <= 1.5x)`,
    `page: planning (reading metadata) median ${median(w.map((x) => x.planS)).toFixed(2)} s of the wall time`,
  ];
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
