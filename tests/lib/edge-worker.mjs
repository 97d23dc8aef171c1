// Test harness for the edge worker: starts workerd with edge-worker/workerd.dev.capnp on a free
// 127.0.0.1 port against the OpenStack of tests/openstack (started by edge-worker/test.sh),
// records every response and log line (for the token-leak check), and talks to OpenStack
// directly as admin to set up and verify what the worker did. Shared by edge-worker/tests, the
// page's OpenStack tests, tests/e2e and the demo cloud of `npm start` (scripts/demo-cloud.mjs).
import { spawn, execFileSync } from 'node:child_process';
import { createCipheriv, createHash, createDecipheriv, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os_ from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KEYSTONE = `http://127.0.0.1:${process.env.KEYSTONE_PORT || 5000}/v3`;
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'secret';
export const SESSION_KEY = randomBytes(32).toString('base64');
export const LOGIN_MAX_ATTEMPTS = 5;
export const UPLOAD_MAX_BYTES = 1 << 30;

/** Everything the worker sent back (status line, headers, body) and logged. */
export const seen = { responses: [], logs: [] };

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * edge-worker/wrangler.toml without its `[build]` table, its paths made absolute, written into
 * `dir`; returns its path. With a build command `wrangler dev` builds at start and then again
 * once its file watcher is ready, and reloads: requests in flight wait for that second build
 * (15 s after a source change here; a page test in CI waited past its 60 s step for it). The
 * worker is built here instead, once and only if stale, and wrangler only bundles it.
 */
function prebuiltConfig(dir) {
  const dev = path.join(ROOT, 'edge-worker');
  execFileSync('bash', [path.join(ROOT, 'scripts/build.sh'), '--if-stale', 'worker'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const lines = fs.readFileSync(path.join(dev, 'wrangler.toml'), 'utf8').split('\n');
  const out = [];
  let table = '';
  for (const line of lines) {
    const head = /^\s*\[+([^\]]+)\]+/.exec(line);
    if (head) table = head[1].trim();
    if (table === 'build') continue;
    out.push(line
      .replace(/^main = "(.*)"$/, (_, p) => `main = ${JSON.stringify(path.join(dev, p))}`)
      .replace(/^directory = "(.*)"$/, (_, p) => `directory = ${JSON.stringify(path.join(dev, p))}`));
  }
  const file = path.join(dir, 'wrangler.toml');
  fs.writeFileSync(file, out.join('\n'));
  return file;
}

export class Worker {
  /**
   * workerd (default) or `wrangler dev` when WORKER_RUNTIME=wrangler. `overrides`: settings
   * that replace the defaults below (e.g. a suite that logs in more often than
   * LOGIN_MAX_ATTEMPTS times in a window). `config`: edge-worker/workerd.dev.capnp (reaches
   * this host's loopback, where the test cloud is) unless a test needs the shipped
   * edge-worker/workerd.capnp (public networks only). `runtime`: a file that needs one
   * ('wrangler' for the local R2 bucket of staged uploads) names it. `dist`: the page it
   * serves (workerd only; default web/dist, another build for an A/B).
   */
  async start(overrides = {}, { config = 'workerd.dev.capnp', runtime, dist = path.join(ROOT, 'web/dist') } = {}) {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.runtime = runtime || process.env.WORKER_RUNTIME || 'workerd';
    /** This worker's own log lines (`seen.logs` has every worker's). */
    this.logs = [];
    const settings = {
      SESSION_KEY,
      OS_AUTH_URL: KEYSTONE,
      OS_INTERFACE: 'public',
      LOGIN_MAX_ATTEMPTS: String(LOGIN_MAX_ATTEMPTS),
      LOGIN_WINDOW_SECONDS: '300',
      CLIENT_IP_HEADER: 'X-Forwarded-For',
      UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
      ...overrides,
    };
    const quiet = { WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', DO_NOT_TRACK: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
    if (this.runtime === 'wrangler') {
      const vars = Object.entries(settings).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
      // local state (the R2 bucket, the limiter) of this run only
      this.persist = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-wrangler-'));
      this.proc = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'),
        ['dev', '--config', prebuiltConfig(this.persist), '--ip', '127.0.0.1', '--port', String(this.port),
          '--show-interactive-dev-session=false', '--persist-to', this.persist, ...vars],
        { cwd: path.join(ROOT, 'edge-worker'), env: { ...process.env, ...quiet }, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    } else {
      this.proc = spawn(path.join(ROOT, 'node_modules/.bin/workerd'),
        ['serve', path.join(ROOT, 'edge-worker', config), '--socket-addr', `http=127.0.0.1:${this.port}`,
          '--directory-path', `assets=${dist}`],
        { cwd: ROOT, env: { PATH: process.env.PATH, ...settings }, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    for (const s of [this.proc.stdout, this.proc.stderr]) {
      s.setEncoding('utf8');
      let buf = '';
      s.on('data', (d) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop();
        seen.logs.push(...lines);
        this.logs.push(...lines);
        if (process.env.WORKER_LOG) lines.forEach((l) => console.log(`[workerd] ${l}`));
      });
    }
    const t0 = Date.now();
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`${this.runtime} exited (${this.proc.exitCode}): ${seen.logs.join('\n')}`);
      try {
        const r = await fetch(`${this.base}/api/session`);
        await r.text();
        break;
      } catch {
        if (Date.now() - t0 > 120000) throw new Error(`${this.runtime} did not answer within 120 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.startMs = Date.now() - t0;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await once(this.proc, 'exit');
    clearTimeout(timer);
    if (this.persist) fs.rmSync(this.persist, { recursive: true, force: true });
  }
}

let ipCounter = 1;
/** A distinct client address per login, so only the rate-limit test hits the limit. */
export function freshIp() {
  ipCounter += 1;
  return `10.77.${ipCounter >> 8}.${ipCounter & 255}`;
}

/**
 * A call to the worker. `cookie`: the sealed session value; state-changing calls get the
 * CSRF header unless `csrf: false`. Returns {status, headers, text, json}.
 */
export async function api(worker, method, p, { body, cookie, csrf = true, headers = {}, raw } = {}) {
  const h = { ...headers };
  // under wrangler dev the worker sees a `cf` object and keys clients by CF-Connecting-IP
  if (h['X-Forwarded-For']) h['CF-Connecting-IP'] = h['X-Forwarded-For'];
  if (cookie) h.Cookie = `sf_session=${cookie}`;
  if (csrf && method !== 'GET') h['X-Stackferry'] = '1';
  if (body !== undefined && !raw) h['Content-Type'] ??= 'application/json';
  const r = await fetch(worker.base + p, { method, headers: h, body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined) });
  const text = await r.text();
  const out = { status: r.status, headers: r.headers, text, json: undefined };
  try { out.json = JSON.parse(text); } catch { /* not JSON */ }
  seen.responses.push(`${r.status} ${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
  return out;
}

/** The sealed cookie value from a Set-Cookie header. */
export function sessionCookie(res) {
  const sc = res.headers.get('set-cookie') || '';
  const m = /sf_session=([^;]*)/.exec(sc);
  return m ? m[1] : null;
}

/**
 * Opens the sealed cookie the way the worker seals it (edge-worker/src/seal.rs); `aad`: the
 * use it was sealed for (an upload token: 'stackferry-staged-upload-v1').
 */
export function unseal(value, secret = SESSION_KEY, aad = 'stackferry-session-v1') {
  if (!value?.startsWith('v1.')) throw new Error('not a v1 sealed value');
  const raw = Buffer.from(value.slice(3), 'base64url');
  const key = createHash('sha256').update('stackferry session cookie key v1\0').update(secret.trim()).digest();
  const nonce = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  const ct = raw.subarray(12, raw.length - 16);
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAAD(Buffer.from(aad), { plaintextLength: ct.length });
  d.setAuthTag(tag);
  return JSON.parse(Buffer.concat([d.update(ct), d.final()]).toString('utf8'));
}

/** Seals `value` as the worker does (the inverse of `unseal`): for forged and expired sessions. */
export function seal(value, secret = SESSION_KEY, aad = 'stackferry-session-v1') {
  const key = createHash('sha256').update('stackferry session cookie key v1\0').update(secret.trim()).digest();
  const nonce = randomBytes(12);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad), { plaintextLength: Buffer.byteLength(JSON.stringify(value)) });
  const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
  return `v1.${Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64url')}`;
}

export async function login(worker, extra = {}) {
  const res = await api(worker, 'POST', '/api/login', {
    body: { username: 'admin', password: ADMIN_PASSWORD, project: 'admin', ...extra },
    headers: { 'X-Forwarded-For': freshIp() },
  });
  return { res, cookie: sessionCookie(res) };
}

/** A node:http response read whole and recorded (for the token-leak check): {status, text, json}. */
export function answer(res) {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; });
    res.on('end', () => {
      seen.responses.push(`${res.statusCode} ${JSON.stringify(res.headers)}\n\n${text}`);
      let json;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      resolve({ status: res.statusCode, text, json });
    });
  });
}

/**
 * A streamed PUT through node:http with an exact Content-Length. `chunks`: an async iterable
 * of Buffers; `abortAfter`: destroy the connection after that many bytes (client abort).
 */
export function streamUpload(worker, id, cookie, length, chunks, { abortAfter } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${worker.base}/api/images/${id}/file`, {
      method: 'PUT',
      headers: {
        Cookie: `sf_session=${cookie}`, 'X-Stackferry': '1',
        'Content-Type': 'application/octet-stream', 'Content-Length': String(length),
      },
    }, (res) => answer(res).then((r) => resolve({ ...r, aborted: false })));
    req.on('error', (e) => (abortAfter !== undefined ? resolve({ aborted: true, error: e }) : reject(e)));
    (async () => {
      let sent = 0;
      for await (const c of chunks) {
        if (abortAfter !== undefined && sent + c.length > abortAfter) {
          req.write(c.subarray(0, abortAfter - sent));
          await new Promise((r) => setTimeout(r, 1500)); // let the bytes reach Glance
          req.destroy();
          resolve({ aborted: true });
          return;
        }
        sent += c.length;
        if (!req.write(c)) await once(req, 'drain');
      }
      req.end();
    })().catch(reject);
  });
}

export async function* chunksOf(buf, size = 256 * 1024) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

// ------------------------------------------------------------------ OpenStack, directly

export async function adminToken() {
  const r = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  if (r.status !== 201) throw new Error(`admin token: ${r.status} ${await r.text()}`);
  const body = await r.json();
  const endpoint = (type) => body.token.catalog.find((s) => s.type === type)
    .endpoints.find((e) => e.interface === 'public').url.replace(/\/$/, '');
  const has = (type) => body.token.catalog.some((s) => s.type === type);
  return {
    token: r.headers.get('x-subject-token'),
    user: body.token.user,
    project: body.token.project,
    glance: `${endpoint('image')}/v2`,
    nova: endpoint('compute'),
    neutron: `${endpoint('network')}/v2.0`,
    // Cinder v3 (the kit registers it as `block-storage`, without a project id); null when
    // the cloud runs without it (tests/openstack: STACK_CINDER=1)
    cinder: has('block-storage') ? endpoint('block-storage') : null,
  };
}

/**
 * What a suite that launches servers needs in the test cloud: the flavor stack-tiny (made when
 * missing, kept) and a network `name` with an IPv4 subnet `cidr`, its id added to `created`.
 * Resolves to the network.
 */
export async function launchable(admin, name, cidr, created) {
  const fl = await os(admin, 'GET', `${admin.nova}/flavors/stack-tiny`);
  if (fl.status === 404) {
    const r = await os(admin, 'POST', `${admin.nova}/flavors`, { flavor: { name: 'stack.tiny', id: 'stack-tiny', ram: 64, vcpus: 1, disk: 1 } });
    if (![200, 409].includes(r.status)) throw new Error(`flavor stack-tiny: ${r.status} ${r.text}`);
  }
  const n = await os(admin, 'POST', `${admin.neutron}/networks`, { network: { name } });
  if (n.status !== 201) throw new Error(`network ${name}: ${n.status} ${n.text}`);
  created.push(n.json.network.id);
  const sn = await os(admin, 'POST', `${admin.neutron}/subnets`, { subnet: { network_id: n.json.network.id, ip_version: 4, cidr, name: `${name}-subnet` } });
  if (sn.status !== 201) throw new Error(`subnet of ${name}: ${sn.status} ${sn.text}`);
  return n.json.network;
}

export async function os(admin, method, url, body, extra = {}) {
  const r = await fetch(url, {
    method,
    headers: { 'X-Auth-Token': admin.token, Accept: 'application/json', 'OpenStack-API-Version': 'compute 2.37', ...(body ? { 'Content-Type': 'application/json' } : {}), ...extra },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { /* */ }
  return { status: r.status, json, text };
}

/**
 * A QCOW2 made from a real VMDK fixture: by stackferry's CLI when it is built (release, or the
 * debug binary `cargo test` leaves), with the SHA-512 it reports; else by qemu-img.
 */
export function convertedFixture(dir) {
  const src = path.join(ROOT, 'converter-wasm/tests/data/strozfriedberg+vmdk-rs/data/streamOptimized.vmdk');
  const out = path.join(dir, 'fixture.qcow2');
  for (const build of ['release', 'debug']) {
    const cli = path.join(ROOT, 'target', build, 'stackferry');
    try {
      const report = JSON.parse(execFileSync(cli, ['convert', src, '-o', out, '--sha512', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] }));
      return { file: out, by: `stackferry (${build})`, sha512: report[0].report.sha512 };
    } catch { /* not built, or cannot read it yet: next */ }
  }
  execFileSync('qemu-img', ['convert', '-q', '-f', 'vmdk', '-O', 'qcow2', src, out]);
  return { file: out, by: 'qemu-img', sha512: null };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `fn()`'s first truthy value, asked every `stepMs` until `timeoutMs` have passed. */
export async function waitFor(what, fn, timeoutMs = 60000, stepMs = 500) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}
