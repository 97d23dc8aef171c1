// Load and restarts (issue 17): eight uploads at once through one worker, against the test cloud
// with Glance and Keystone on MariaDB as real clouds run them.
//  - all eight land, each hash equal to what was sent, and the worker's resident memory stays
//    bounded (sampled from /proc while they run); at the same time two staged uploads (issue 10)
//    send their parts PARTS_AT_ONCE at a time through a second worker (`wrangler dev` and its
//    R2) and are imported by Glance, hashes equal;
//  - Glance restarted while eight more are in flight: every upload either lands (hash equal) or
//    gets a clear JSON error, and no image is left half-made (each is active with the hash sent,
//    or gone); an upload after the restart lands;
//  - Keystone restarted while eight more are in flight: the same, logins during the restart are
//    refused with a clear error (never a hang), and a login after it works.
// Uploads are paced (LOAD_MIB_PER_S each) so that the restarts land mid-way on any machine.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ROOT, Worker, adminToken, api, login, os, sleep, streamUpload, waitFor,
} from '../../tests/lib/edge-worker.mjs';
import { sendStaged } from '../../tests/lib/staged-client.mjs';

const UPLOADS = 8;
const MIB = Number(process.env.LOAD_MIB || 12);
const MIB_PER_S = Number(process.env.LOAD_MIB_PER_S || 3);
/** The worker's resident memory may grow this much over its idle size while uploads run. */
const RSS_GROWTH_MAX = 256 * 1048576;
const SUFFIX = `${Date.now()}-${process.pid}`;
/** The staged uploads beside the eight: two, parts of at most 8 MiB, four parts at a time each. */
const STAGED = 2;
const STAGED_BODY_MAX = 8 << 20;
const PARTS_AT_ONCE = 4;
const KIT = path.join(ROOT, 'tests/openstack');

const run = promisify(execFile);
const worker = new Worker();
const staging = new Worker();
const tmp = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-load-'));
let admin;
const created = [];
/** Distinct QCOW2 disks (random data, so no two hashes agree), made once. */
const disks = [];

function makeDisk(i, mib = MIB) {
  const raw = path.join(tmp, `d${i}.raw`);
  const out = path.join(tmp, `d${i}.qcow2`);
  execFileSync('dd', ['if=/dev/urandom', `of=${raw}`, 'bs=1M', `count=${mib}`, 'status=none']);
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out]);
  fs.rmSync(raw);
  const data = fs.readFileSync(out);
  return { data, sha512: createHash('sha512').update(data).digest('hex') };
}

/** Chunks of `data`, paced to MIB_PER_S. */
async function* paced(data) {
  const chunk = 256 * 1024;
  const gap = (chunk / (MIB_PER_S * 1048576)) * 1000;
  for (let i = 0; i < data.length; i += chunk) {
    yield data.subarray(i, i + chunk);
    await sleep(gap);
  }
}

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The worker process's resident size, sampled every 200 ms until `stop()`; resolves the peak. */
function sampleRss() {
  let peak = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      try { peak = Math.max(peak, rss(worker.proc.pid)); } catch { /* exited */ }
      await sleep(200);
    }
    return peak;
  })();
  return () => { on = false; return done; };
}

async function newImage(cookie, name) {
  const r = await api(worker, 'POST', '/api/images', { cookie, body: { name: `sf-load-${name}-${SUFFIX}`, disk_format: 'qcow2' } });
  assert.equal(r.status, 201, r.text);
  created.push(r.json.id);
  return r.json.id;
}

/** Disk `i` streamed into image `id` in its own session; `{i, id, r}` (r: the worker's answer). */
async function stream(i, id, cookie) {
  const d = disks[i];
  try {
    return { i, id, r: await streamUpload(worker, id, cookie, d.data.length, paced(d.data)) };
  } catch (e) {
    return { i, id, r: { status: 0, error: e } };
  }
}

/** One upload of disk `i` in its own session: its image made, then streamed. */
async function upload(i, cookie) {
  return stream(i, await newImage(cookie, String(i)), cookie);
}

async function sessions(n) {
  const out = [];
  for (let k = 0; k < n; k++) {
    const { cookie, res } = await login(worker);
    assert.ok(cookie, `login ${k}: ${res.status} ${res.text}`);
    out.push(cookie);
  }
  return out;
}

/**
 * What Glance holds for each upload once it has settled: active with the hash sent, or gone.
 * Anything else (queued, saving, another hash) is half-made.
 */
async function settled(results) {
  const states = [];
  for (const { i, id } of results) {
    const g = await waitFor(`image ${id} to settle`, async () => {
      const r = await os(admin, 'GET', `${admin.glance}/images/${id}`);
      if (r.status === 404 || ['active', 'killed', 'deleted'].includes(r.json?.status)) return r;
      if (r.status >= 500) return null;
      return r.json?.status === 'queued' ? r : null;
    }, 120000, 1000);
    const status = g.status === 404 ? 'gone' : g.json.status;
    states.push({ i, id, status, equal: g.json?.os_hash_value === disks[i].sha512 });
  }
  return states;
}

/** Every answer is a landing or a clear JSON error, and nothing is left half-made. */
async function clean(results, what) {
  const lines = [];
  for (const { i, id, r } of results) {
    if (r.status === 200) {
      assert.equal(r.json.status, 'active', `${what}: upload ${i} answered 200: ${r.text}`);
      assert.equal(r.json.os_hash_value, disks[i].sha512, `${what}: upload ${i} landed with the hash sent`);
      lines.push(`${i}: landed`);
    } else {
      assert.ok(r.status >= 400 && r.json && r.json.error && r.json.detail,
        `${what}: upload ${i} failed without a clear answer: ${r.status} ${r.text ?? r.error}`);
      lines.push(`${i}: ${r.status} ${r.json.error}`);
    }
  }
  const states = await settled(results);
  for (const s of states) {
    assert.ok(s.status === 'gone' || (s.status === 'active' && s.equal),
      `${what}: image of upload ${s.i} is ${s.status}${s.status === 'active' ? ' with another hash' : ''}: half-made`);
  }
  return lines.join(', ');
}

/**
 * Restarts one kit service (stopped by its pidfile; start.sh starts what is down) without
 * blocking the uploads running in this process; resolves its seconds.
 */
async function restart(service) {
  const t0 = Date.now();
  await run('bash', [path.join(KIT, 'stop.sh'), service]);
  await run('bash', [path.join(KIT, 'start.sh')], { timeout: 300000 });
  return (Date.now() - t0) / 1000;
}

describe('load: eight uploads at once, and restarts in the middle', () => {
  before(async () => {
    admin = await adminToken();
    for (let i = 0; i < 3 * UPLOADS + 1; i++) disks.push(makeDisk(i));
    // the staged ones: 3 parts each (24 MiB of data)
    for (let i = 0; i < STAGED; i++) disks.push(makeDisk(`s${i}`, 24));
    // Logins for three waves and the checks after the restarts.
    await Promise.all([
      worker.start({ LOGIN_MAX_ATTEMPTS: '200' }),
      staging.start({ LOGIN_MAX_ATTEMPTS: '50', REQUEST_BODY_MAX_BYTES: String(STAGED_BODY_MAX) }, { runtime: 'wrangler' }),
    ]);
  });

  after(async () => {
    await Promise.all([worker.stop(), staging.stop()]);
    for (const id of created) await os(admin, 'DELETE', `${admin.glance}/images/${id}`).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test(`${UPLOADS} uploads at once all land, hashes equal, the worker's memory bounded; ${STAGED} staged uploads beside them, ${PARTS_AT_ONCE} parts at a time each, land too`, async (t) => {
    const cookies = await sessions(UPLOADS);
    const { cookie: sc } = await login(staging);
    assert.ok(sc, 'a session on the staging worker');
    const idle = rss(worker.proc.pid);
    const stop = sampleRss();
    const t0 = Date.now();
    const stagedRuns = Array.from({ length: STAGED }, async (_, k) => {
      const d = disks[3 * UPLOADS + 1 + k];
      const r = await api(staging, 'POST', '/api/images', { cookie: sc, body: { name: `sf-load-staged-${k}-${SUFFIX}`, disk_format: 'qcow2' } });
      assert.equal(r.status, 201, r.text);
      created.push(r.json.id);
      return sendStaged(staging, sc, r.json.id, {
        size: d.data.length, sha512: d.sha512, parallel: PARTS_AT_ONCE, read: async (a, b) => d.data.subarray(a, b),
      }).then((s) => ({ ...s, d }));
    });
    const results = await Promise.all(cookies.map((c, i) => upload(i, c)));
    const secs = (Date.now() - t0) / 1000;
    const peak = await stop();
    const staged = await Promise.all(stagedRuns);
    for (const [k, s] of staged.entries()) {
      assert.equal(s.state.json.state, 'active', `staged upload ${k}: ${s.state.text}`);
      assert.equal(s.state.json.image.os_hash_value, s.d.sha512, `staged upload ${k}: hash equal`);
    }
    for (const { i, r } of results) {
      assert.equal(r.status, 200, `upload ${i}: ${r.status} ${r.text ?? r.error}`);
      assert.equal(r.json.os_hash_value, disks[i].sha512, `upload ${i}: hash equal`);
    }
    assert.ok(peak - idle < RSS_GROWTH_MAX, `worker RSS grew ${((peak - idle) / 1048576).toFixed(0)} MiB (bound ${RSS_GROWTH_MAX / 1048576})`);
    t.diagnostic(`${UPLOADS} × ${MIB} MiB in ${secs.toFixed(1)} s (paced at ${MIB_PER_S} MiB/s each); worker RSS ${(idle / 1048576).toFixed(0)} MiB idle, ${(peak / 1048576).toFixed(0)} MiB peak; `
      + `staged: ${staged.map((s) => `${s.plan.parts} parts, active in ${(s.totalMs / 1000).toFixed(1)} s${s.resent ? `, ${s.resent} part(s) sent again` : ''}`).join('; ')}`);
  });

  for (const [service, base] of [['glance', UPLOADS], ['keystone', 2 * UPLOADS]]) {
    test(`${service} restarted while ${UPLOADS} uploads run: each lands or fails cleanly, nothing half-made; the next upload lands`, async (t) => {
      const cookies = await sessions(UPLOADS);
      // the images first (Glance is up), then the uploads, restarted a third of the way in
      const ids = await Promise.all(cookies.map((c, k) => newImage(c, String(base + k))));
      const running = Promise.all(cookies.map((c, k) => stream(base + k, ids[k], c)));
      await sleep(((MIB / MIB_PER_S) * 1000) / 3);
      const restarted = restart(service);
      let refusedLogin = null;
      let secs;
      try {
        if (service === 'keystone') {
          // a login while Keystone is down: refused clearly, not hung
          await sleep(500);
          const t1 = Date.now();
          const { res } = await login(worker);
          refusedLogin = `${res.status} ${res.json?.error} in ${((Date.now() - t1) / 1000).toFixed(1)} s`;
          if (res.status !== 200) assert.ok(res.status >= 500 && res.json?.error, `login during the restart: ${res.status} ${res.text}`);
        }
      } finally {
        // never leave the service down for the next test
        secs = await restarted;
      }
      const results = await running;
      const summary = await clean(results, `${service} restart`);
      // after the restart: a login and an upload work
      admin = await waitFor('an admin token after the restart', () => adminToken().catch(() => null), 60000, 1000);
      const [cookie] = await sessions(1);
      const after = await upload(3 * UPLOADS, cookie);
      assert.equal(after.r.status, 200, `the upload after the restart: ${after.r.status} ${after.r.text}`);
      assert.equal(after.r.json.os_hash_value, disks[3 * UPLOADS].sha512);
      await os(admin, 'DELETE', `${admin.glance}/images/${after.id}`);
      t.diagnostic(`${service} back in ${secs.toFixed(1)} s; uploads: ${summary}${refusedLogin ? `; login during it: ${refusedLogin}` : ''}`);
    });
  }
});
