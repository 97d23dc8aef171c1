// The one-command demo (issue #5): `npm start` with OS_AUTH_URL unset, in its own process group
// as a terminal runs it; waits for the URL and credentials it prints; checks that the page
// loads and that /api/login works with the printed credentials (and that the demo network and
// flavors are there); then a signal (default SIGINT to the process group, as Ctrl-C sends it)
// and checks that every process it started is gone (its process group, the OpenStack services
// of the pidfiles under .stack/run and their children) and that ports 8787 and 5000 are free.
// If OpenStack was already running before, npm start must reuse it and leave it running.
//
// usage: node tests/e2e/start.test.mjs [--signal SIGINT|SIGTERM] [--to group|npm]
// (tests/e2e.sh runs it with SIGINT to the group before it starts OpenStack, and with SIGTERM
// to npm alone once OpenStack runs.) Ends with `start: N passed, M failed`.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '../lib/runner.mjs';
import { assert, sleep } from '../lib/os-flow.mjs';
import { api, sessionCookie } from '../lib/edge-worker.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STACK_DIR = process.env.STACK_DIR || path.join(ROOT, '.stack');
const PORT = 8787;
const KEYSTONE_PORT = Number(process.env.KEYSTONE_PORT || 5000);
const START_LIMIT_MS = Number(process.env.E2E_START_LIMIT_S || 900) * 1000;
// --signal SIGINT|SIGTERM (default SIGINT), --to group|npm: to the process group as Ctrl-C
// sends it (default), or to the npm process alone as `kill` would.
const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const SIGNAL = opt('--signal', 'SIGINT');
const TO = opt('--to', 'group');

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };

function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function stackRunning() {
  try {
    execFileSync('bash', [path.join(ROOT, 'tests/openstack/status.sh')], { stdio: 'ignore', env: { ...process.env, STACK_DIR } });
    return true;
  } catch {
    return false;
  }
}

/** {pid: [ppid, pgid]} of every process. */
function processTable() {
  const t = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      t.set(Number(d), { ppid: Number(f[1]), pgid: Number(f[2]) });
    } catch { /* gone */ }
  }
  return t;
}

/** The processes of process group `pgid`, those the stack's pidfiles name, and all their descendants. */
function startedProcesses(pgid, withStack) {
  const table = processTable();
  const roots = new Set([...table].filter(([, p]) => p.pgid === pgid).map(([pid]) => pid));
  if (withStack) {
    const run = path.join(STACK_DIR, 'run');
    for (const f of fs.existsSync(run) ? fs.readdirSync(run) : []) {
      if (!f.endsWith('.pid')) continue;
      const pid = Number(fs.readFileSync(path.join(run, f), 'utf8').trim());
      if (pid && table.has(pid)) roots.add(pid);
    }
  }
  const all = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of table) if (!all.has(pid) && all.has(p.ppid)) { all.add(pid); grew = true; }
  }
  return [...all];
}

const tests = [{
  name: `start: \`npm start\` without OS_AUTH_URL serves the page against the local OpenStack; ${SIGNAL} to ${TO === 'group' ? 'its process group (Ctrl-C)' : 'npm'} stops all it started`,
  fn: async (t) => {
    assert(!await listening(PORT), `port ${PORT} is free before the test`);
    const reuse = stackRunning();
    if (!reuse) assert(!await listening(KEYSTONE_PORT), `port ${KEYSTONE_PORT} is free (no OpenStack running)`);
    const env = { ...process.env, STACK_DIR };
    for (const k of Object.keys(env)) if (k.startsWith('OS_')) delete env[k];
    const t0 = Date.now();
    const child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    // Whatever happens, nothing of it outlives the test.
    t.cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try { process.kill(-pgid, 'SIGINT'); } catch { /* gone */ }
        await Promise.race([exited, sleep(90000)]);
      }
    });
    while (!/Ctrl-C stops/.test(out)) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${out}\n${err.slice(-3000)}`);
      if (Date.now() - t0 > START_LIMIT_MS) throw new Error(`npm start printed no URL within ${START_LIMIT_MS / 1000} s:\n${out}\n${err.slice(-3000)}`);
      await sleep(200);
    }
    const readySecs = (Date.now() - t0) / 1000;
    const url = /stackferry is running: (http:\/\/\S+)/.exec(out)?.[1];
    const cred = /log in with: user (\S+), password (\S+), project (\S+)/.exec(out);
    const reported = /started in ([\d.]+) s/.exec(out)?.[1];
    assert(url === `http://127.0.0.1:${PORT}/`, `the URL printed: ${out}`);
    assert(cred, `demo credentials printed: ${out}`);
    assert(/OpenStack: the local test cloud at http:\/\/127\.0\.0\.1:5000\/v3/.test(out), `the local OpenStack named: ${out}`);
    assert(reuse ? /already running; left running/.test(out) : /started now/.test(out), `says whether it started OpenStack: ${out}`);
    t.note(`npm start ready in ${readySecs.toFixed(1)} s (it reports ${reported} s; OpenStack ${reuse ? 'reused' : 'started by it'}): ${out.trim().split('\n').map((l) => l.trim()).join(' | ')}`);

    // The page, and a login with the printed credentials.
    const page = await fetch(url);
    const html = await page.text();
    assert(page.status === 200 && /<title[^>]*>stackferry/.test(html) && /main\.js/.test(html), `the page loads: ${page.status}`);
    const w = { base: url.replace(/\/$/, '') };
    const li = await api(w, 'POST', '/api/login', { body: { username: cred[1], password: cred[2], project: cred[3] } });
    assert(li.status === 200, `login with the printed credentials: ${li.status} ${li.text}`);
    const cookie = sessionCookie(li);
    const s = await api(w, 'GET', '/api/session', { cookie });
    assert(s.status === 200 && s.json.project.name === cred[3], `session: ${s.text}`);
    const nets = await api(w, 'GET', '/api/networks', { cookie });
    const fls = await api(w, 'GET', '/api/flavors', { cookie });
    assert(nets.status === 200 && nets.json.some((n) => n.name === 'demo-net' && n.subnets.length), `the demo network: ${nets.text.slice(0, 300)}`);
    assert(fls.status === 200 && fls.json.some((f) => f.name === 'demo.small'), `the demo flavors: ${fls.text.slice(0, 300)}`);

    // The signal, then every process it started must go (serve.sh may outlive npm briefly).
    const pids = startedProcesses(pgid, !reuse);
    const stackPids = reuse ? [] : pids.filter((p) => processTable().get(p)?.pgid !== pgid);
    assert(pids.length >= 3 && (reuse || stackPids.length >= 10), `processes found: ${pids.length} (${stackPids.length} of OpenStack)`);
    const t1 = Date.now();
    process.kill(TO === 'group' ? -pgid : pgid, SIGNAL);
    const ex = await Promise.race([exited, sleep(120000).then(() => null)]);
    assert(ex, `npm start ended within 120 s of ${SIGNAL}`);
    let left = pids;
    for (let i = 0; i < 600 && left.length; i++) {
      await sleep(100);
      left = left.filter(alive);
    }
    const stopSecs = (Date.now() - t1) / 1000;
    assert(!left.length, `every process npm start started is gone; still running: ${left.map((p) => { try { return `${p} ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80)}`; } catch { return p; } }).join('; ')}`);
    assert(!await listening(PORT), `port ${PORT} is free after ${SIGNAL}`);
    if (reuse) {
      assert(stackRunning() && await listening(KEYSTONE_PORT), 'the OpenStack that was already running is left running');
    } else {
      assert(!await listening(KEYSTONE_PORT), `port ${KEYSTONE_PORT} is free after ${SIGNAL}`);
      assert(!stackRunning(), 'status.sh: no OpenStack service running');
    }
    t.note(`${SIGNAL} to ${TO}: ${pids.length} processes (${stackPids.length} of OpenStack) gone in ${stopSecs.toFixed(1)} s; ${reuse ? `port ${PORT}` : `ports ${PORT} and ${KEYSTONE_PORT}`} free`);
  },
}];

const { passed, failed } = await runTests(tests);
console.log(`start: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
