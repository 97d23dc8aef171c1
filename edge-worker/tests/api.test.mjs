// The edge worker against real Keystone, Glance, Nova and Neutron (tests/openstack), run under
// workerd. edge-worker/test.sh starts OpenStack first; this file starts and stops workerd.
// Tests run in order; the last one checks that the Keystone token never appeared in any
// response or log line of the whole run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import http from 'node:http';
import {
  ADMIN_PASSWORD, LOGIN_MAX_ATTEMPTS, ROOT, UPLOAD_MAX_BYTES, Worker, adminToken, api, chunksOf, convertedFixture,
  freshIp, login, os, seen, sessionCookie, streamUpload, unseal, waitFor,
  launchable,
} from '../../tests/lib/edge-worker.mjs';

const worker = new Worker();
// `wrangler dev` (miniflare) holds back a response sent before the request body is complete
// and then answers 503 to the next request; workerd (and the worker's logic) answer at once.
// Under WORKER_RUNTIME=wrangler the tests that rely on an early answer are skipped.
const EARLY_ANSWER = process.env.WORKER_RUNTIME === 'wrangler' ? { skip: 'wrangler dev cannot answer before the request body ends' } : {};
const tmp = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-worker-'));
const SUFFIX = `${Date.now()}-${process.pid}`;
const STACK_DIR = process.env.STACK_DIR || path.join(ROOT, '.stack');
let admin;
let cookie;          // the session used by most tests
let token;           // the Keystone token inside it (from unsealing with the test key)
const created = { images: [], servers: [], networks: [], keypairs: [], appcreds: [] };
let net;             // {id} of the test network
let fixtureImageId;  // the active image uploaded from the converted fixture

async function newImage(name, disk_format = 'qcow2') {
  const r = await api(worker, 'POST', '/api/images', { cookie, body: { name: `${name}-${SUFFIX}`, disk_format, properties: { stackferry_test: '1' } } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.id, /^[0-9a-f-]{36}$/);
  created.images.push(r.json.id);
  return r.json.id;
}

async function glanceImage(id) {
  return os(admin, 'GET', `${admin.glance}/images/${id}`);
}

function glanceSawUpload(id) {
  const log = fs.readFileSync(path.join(STACK_DIR, 'log/glance.log'), 'utf8');
  return log.includes(`PUT /v2/images/${id}/file`);
}

before(async () => {
  admin = await adminToken();
  // resources the listings and the launch need
  net = await launchable(admin, `sf-net-${SUFFIX}`, '10.251.0.0/24', created.networks);
  const kp = await os(admin, 'POST', `${admin.nova}/os-keypairs`, { keypair: { name: `sf-key-${SUFFIX}` } }, { 'OpenStack-API-Version': 'compute 2.1' });
  assert.ok([200, 201].includes(kp.status), kp.text);
  created.keypairs.push(`sf-key-${SUFFIX}`);
  fs.mkdirSync(path.join(ROOT, 'web/dist'), { recursive: true });
  await worker.start();
});

after(async () => {
  await worker.stop();
  if (!admin) return;
  for (const id of created.servers) await os(admin, 'DELETE', `${admin.nova}/servers/${id}`);
  for (const id of created.servers) {
    await waitFor(`server ${id} deleted`, async () => (await os(admin, 'GET', `${admin.nova}/servers/${id}`)).status === 404, 30000).catch(() => {});
  }
  for (const id of created.images) await os(admin, 'DELETE', `${admin.glance}/images/${id}`);
  for (const id of created.networks) await os(admin, 'DELETE', `${admin.neutron}/networks/${id}`);
  for (const k of created.keypairs) await os(admin, 'DELETE', `${admin.nova}/os-keypairs/${k}`);
  for (const id of created.appcreds) await os(admin, 'DELETE', `${KEYSTONE_URL()}/users/${admin.user.id}/application_credentials/${id}`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function KEYSTONE_URL() {
  return `http://127.0.0.1:${process.env.KEYSTONE_PORT || 5000}/v3`;
}

describe('login', () => {
  test('good password login: summary, sealed HttpOnly cookie, token valid in Keystone', async () => {
    const { res, cookie: c } = await login(worker);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.user.name, 'admin');
    assert.equal(res.json.project.name, 'admin');
    assert.ok(res.json.roles.includes('admin'));
    assert.deepEqual(res.json.regions, ['RegionOne']);
    assert.deepEqual(res.json.services, { compute: true, image: true, network: true });
    assert.match(res.json.expires_at, /^\d{4}-\d\d-\d\dT/);
    const sc = res.headers.get('set-cookie');
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/api']) assert.ok(sc.includes(attr), sc);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    cookie = c;
    const inside = unseal(cookie);
    token = inside.t;
    assert.ok(token.length > 100, 'a Keystone token is inside');
    assert.ok(!sc.includes(token) && !res.text.includes(token));
    const v = await fetch(`${KEYSTONE_URL()}/auth/tokens`, { headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': token } });
    assert.equal(v.status, 200, 'Keystone accepts the sealed token');
    const s = await api(worker, 'GET', '/api/session', { cookie });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.user.name, 'admin');
  });

  test('bad password: 401 with Keystone\'s reason, no session', async () => {
    const r = await api(worker, 'POST', '/api/login', { body: { username: 'admin', password: 'wrong', project: 'admin' }, headers: { 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error, 'unauthorized');
    assert.equal(r.json.upstream_status, 401);
    assert.match(r.json.detail, /requires authentication/);
    assert.equal(sessionCookie(r), null);
  });

  test('application credential login', async () => {
    const ac = await os(admin, 'POST', `${KEYSTONE_URL()}/users/${admin.user.id}/application_credentials`, { application_credential: { name: `sf-ac-${SUFFIX}` } });
    assert.equal(ac.status, 201, ac.text);
    created.appcreds.push(ac.json.application_credential.id);
    const r = await api(worker, 'POST', '/api/login', {
      body: { application_credential_id: ac.json.application_credential.id, application_credential_secret: ac.json.application_credential.secret },
      headers: { 'X-Forwarded-For': freshIp() },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.project.name, 'admin');
    assert.ok(sessionCookie(r));
  });

  test('refused before Keystone: no CSRF header, not JSON, foreign auth_url, malformed', async () => {
    const body = { username: 'admin', password: ADMIN_PASSWORD, project: 'admin' };
    let r = await api(worker, 'POST', '/api/login', { body, csrf: false, headers: { 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'csrf');
    r = await api(worker, 'POST', '/api/login', { raw: JSON.stringify(body), headers: { 'Content-Type': 'text/plain', 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 415);
    r = await api(worker, 'POST', '/api/login', { body: { ...body, auth_url: 'http://169.254.169.254/v3' }, headers: { 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 400);
    assert.match(r.json.detail, /not allowed/);
    r = await api(worker, 'POST', '/api/login', { body: { username: 'admin' }, headers: { 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 400);
    r = await api(worker, 'POST', '/api/login', { raw: '{"username": ', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'bad_request');
  });

  test('a region the catalog does not have: 400 naming the regions there are', async () => {
    const r = await api(worker, 'POST', '/api/login', { body: { username: 'admin', password: ADMIN_PASSWORD, project: 'admin', region: 'Atlantis' }, headers: { 'X-Forwarded-For': freshIp() } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.detail, /region "Atlantis" has no public endpoints in the catalog \(regions: RegionOne\)/);
    assert.equal(sessionCookie(r), null);
  });

  test(`rate limited after ${LOGIN_MAX_ATTEMPTS} attempts per client`, async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) {
      const r = await api(worker, 'POST', '/api/login', { body: { username: `nobody-${SUFFIX}`, password: 'x', project: 'admin' }, headers: { 'X-Forwarded-For': ip } });
      assert.equal(r.status, 401, `attempt ${i + 1}: ${r.text}`);
    }
    const r = await api(worker, 'POST', '/api/login', { body: { username: 'admin', password: ADMIN_PASSWORD, project: 'admin' }, headers: { 'X-Forwarded-For': ip } });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json.error, 'too_many_attempts');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    const other = await login(worker);
    assert.equal(other.res.status, 200, 'other clients are not affected');
  });

  test('no, altered or foreign cookie: 401', async () => {
    let r = await api(worker, 'GET', '/api/flavors');
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'no_session');
    const raw = Buffer.from(cookie.slice(3), 'base64url');
    raw[20] ^= 1;
    r = await api(worker, 'GET', '/api/flavors', { cookie: `v1.${raw.toString('base64url')}` });
    assert.equal(r.status, 401);
    r = await api(worker, 'GET', '/api/flavors', { cookie: token });
    assert.equal(r.status, 401, 'a bare token is not a session');
  });
});

describe('request policy', () => {
  test('CSRF header, foreign origins, closed CORS, body cap', async () => {
    let r = await api(worker, 'POST', '/api/images', { cookie, csrf: false, body: { name: 'x', disk_format: 'raw' } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'csrf');
    r = await api(worker, 'POST', '/api/images', { cookie, body: { name: 'x', disk_format: 'raw' }, headers: { Origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'origin_not_allowed');
    r = await api(worker, 'OPTIONS', '/api/images', { csrf: false, headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    r = await api(worker, 'POST', '/api/images', { cookie, body: { name: 'x', disk_format: 'raw', properties: { big: 'x'.repeat(100 * 1024) } } });
    assert.equal(r.status, 413, r.text);
    r = await api(worker, 'POST', '/api/images', { cookie, body: { name: 'x', disk_format: 'vmdk' } });
    assert.equal(r.status, 400);
    assert.match(r.json.detail, /qcow2, raw/);
    r = await api(worker, 'GET', '/api/nothing-here', { cookie });
    assert.equal(r.status, 404);
    assert.equal(r.json.error, 'not_found');
  });

  test('the page is served from web/dist (or a clear "not built" page)', async () => {
    const r = await api(worker, 'GET', '/');
    assert.ok([200, 404].includes(r.status));
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    // The policy as a header (covers the workers, forbids framing), HSTS and COOP.
    assert.match(r.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
    assert.match(r.headers.get('content-security-policy') || '', /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(r.headers.get('strict-transport-security') || '', /^max-age=\d+/);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    if (!fs.existsSync(path.join(ROOT, 'web/dist/index.html'))) assert.match(r.text, /not built/);
  });
});

describe('listings', () => {
  test('flavors, networks, key pairs, security groups, images come from the catalog endpoints', async () => {
    const fl = await api(worker, 'GET', '/api/flavors', { cookie });
    assert.equal(fl.status, 200, fl.text);
    const tiny = fl.json.find((f) => f.id === 'stack-tiny');
    assert.deepEqual({ ...tiny, is_public: undefined }, { id: 'stack-tiny', name: 'stack.tiny', vcpus: 1, ram: 64, disk: 1, ephemeral: 0, is_public: undefined });
    const nets = await api(worker, 'GET', '/api/networks', { cookie });
    assert.equal(nets.status, 200, nets.text);
    const mine = nets.json.find((n) => n.id === net.id);
    assert.ok(mine, 'the test network is listed');
    assert.equal(mine.subnets.length, 1);
    const kps = await api(worker, 'GET', '/api/keypairs', { cookie });
    assert.equal(kps.status, 200, kps.text);
    const kp = kps.json.find((k) => k.name === `sf-key-${SUFFIX}`);
    assert.ok(kp && kp.fingerprint, kps.text);
    assert.ok(!kps.text.includes('ssh-rsa'), 'public keys are trimmed');
    const sgs = await api(worker, 'GET', '/api/security-groups', { cookie });
    assert.equal(sgs.status, 200, sgs.text);
    assert.ok(sgs.json.some((g) => g.name === 'default'));
    const id = await newImage('listed', 'raw');
    const imgs = await api(worker, 'GET', '/api/images', { cookie });
    assert.equal(imgs.status, 200, imgs.text);
    const img = imgs.json.find((i) => i.id === id);
    assert.deepEqual([img.status, img.disk_format, img.container_format], ['queued', 'raw', 'bare']);
    const one = await api(worker, 'GET', `/api/images/${id}`, { cookie });
    assert.equal(one.json.name, `listed-${SUFFIX}`);
  });
});

describe('image upload', () => {
  let fixture;
  const child = path.join(tmp, 'child.qcow2');
  before(() => {
    fixture = convertedFixture(tmp);
    // a QCOW2 with a backing file
    const base = path.join(tmp, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', child]);
  });

  test('streamed upload of a converted fixture: active, os_hash_value = our SHA-512', async () => {
    const data = fs.readFileSync(fixture.file);
    const sha512 = createHash('sha512').update(data).digest('hex');
    const id = await newImage('fixture');
    fixtureImageId = id;
    const r = await streamUpload(worker, id, cookie, data.length, chunksOf(data, 64 * 1024));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, id);
    assert.equal(r.json.status, 'active');
    assert.equal(r.json.size, data.length);
    assert.equal(r.json.os_hash_algo, 'sha512');
    assert.equal(r.json.os_hash_value, sha512, `fixture made by ${fixture.by}`);
    if (fixture.sha512) assert.equal(fixture.sha512, sha512, 'the SHA-512 stackferry reported is Glance\'s os_hash_value');
    console.log(`# fixture: ${path.basename(fixture.file)} (${data.length} bytes) made by ${fixture.by}`);
    const g = await glanceImage(id);
    assert.equal(g.json.status, 'active');
    assert.equal(g.json.stackferry_test, '1', 'properties reach Glance');
  });

  test('QCOW2 with a backing file: 415 from the worker, Glance never sees the data, no image left', EARLY_ANSWER, async () => {
    const data = fs.readFileSync(child);
    const id = await newImage('backing');
    const r = await streamUpload(worker, id, cookie, data.length, chunksOf(data));
    assert.equal(r.status, 415, r.text);
    assert.equal(r.json.error, 'unsupported_media_type');
    assert.match(r.json.detail, /backing file/);
    assert.equal(r.json.upstream_status, undefined, 'refused by the worker, not by Glance');
    assert.equal(r.json.image_deleted, true);
    assert.equal((await glanceImage(id)).status, 404);
    assert.ok(!glanceSawUpload(id), 'no upload request reached Glance');
  });

  test('raw data declared qcow2: 415, Glance untouched, no image left', EARLY_ANSWER, async () => {
    const data = randomBytes(2 << 20);
    const id = await newImage('raw-as-qcow2');
    const r = await streamUpload(worker, id, cookie, data.length, chunksOf(data));
    assert.equal(r.status, 415, r.text);
    assert.match(r.json.detail, /does not match the data, which looks like raw/);
    assert.equal((await glanceImage(id)).status, 404);
    assert.ok(!glanceSawUpload(id));
  });

  test('Glance refuses (unsafe QCOW2 declared raw): Glance\'s 415 message passed through, image deleted', async () => {
    const data = fs.readFileSync(child);
    const id = await newImage('glance-refuses', 'raw');
    const r = await streamUpload(worker, id, cookie, data.length, chunksOf(data));
    assert.equal(r.status, 415, r.text);
    assert.equal(r.json.upstream_status, 415);
    assert.match(r.json.detail, /Image failed safety checks/);
    assert.equal(r.json.image_deleted, true);
    assert.equal((await glanceImage(id)).status, 404);
    assert.ok(glanceSawUpload(id), 'this one did reach Glance');
  });

  test('client disconnects mid-upload: the image is deleted', async () => {
    const head = fs.readFileSync(fixture.file).subarray(0, 512);
    const total = 64 << 20;
    async function* body() {
      yield head;
      for (let sent = head.length; sent < total; sent += 1 << 20) yield randomBytes(1 << 20);
    }
    const id = await newImage('aborted');
    const r = await streamUpload(worker, id, cookie, total, body(), { abortAfter: 8 << 20 });
    assert.equal(r.aborted, true);
    await waitFor(`image ${id} deleted after the abort`, async () => (await glanceImage(id)).status === 404, 30000);
    // uWSGI logs the PUT when Glance has finished with the broken request
    await waitFor('Glance to log the interrupted upload', async () => glanceSawUpload(id), 30000);
    assert.ok(seen.logs.some((l) => l.includes(`upload ${id}: failed`)), 'the worker logged the failed upload');
  });

  test('upload limits: no Content-Length 411, over UPLOAD_MAX_BYTES 413 (image deleted), not queued 409', EARLY_ANSWER, async () => {
    let id = await newImage('chunked');
    const chunked = await new Promise((resolve, reject) => {
      const req = http.request(`${worker.base}/api/images/${id}/file`, { method: 'PUT', headers: { Cookie: `sf_session=${cookie}`, 'X-Stackferry': '1', 'Transfer-Encoding': 'chunked' } }, (res) => {
        let t = '';
        res.on('data', (d) => { t += d; });
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(t) }));
      });
      req.on('error', reject);
      req.end(Buffer.alloc(1024));
    });
    assert.equal(chunked.status, 411);
    assert.equal(chunked.json.image_deleted, true);
    id = await newImage('too-big');
    const big = await new Promise((resolve, reject) => {
      const req = http.request(`${worker.base}/api/images/${id}/file`, { method: 'PUT', headers: { Cookie: `sf_session=${cookie}`, 'X-Stackferry': '1', 'Content-Length': String(UPLOAD_MAX_BYTES + 1) } }, (res) => {
        let t = '';
        res.on('data', (d) => { t += d; });
        res.on('end', () => { req.destroy(); resolve({ status: res.statusCode, json: JSON.parse(t) }); });
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(1024));
    });
    assert.equal(big.status, 413);
    assert.match(big.json.detail, /UPLOAD_MAX_BYTES/);
    assert.equal((await glanceImage(id)).status, 404);
    const active = fixtureImageId;
    const again = await api(worker, 'PUT', `/api/images/${active}/file`, { cookie, raw: Buffer.alloc(16), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(again.status, 409, again.text);
    assert.equal((await glanceImage(active)).json.status, 'active', 'an active image is never deleted');
  });
});

describe('servers', () => {
  let imageId;
  let serverId;

  test('create from the uploaded image: ACTIVE with an address; console answered', async () => {
    imageId = fixtureImageId;
    assert.ok(imageId, 'the fixture upload ran');
    const r = await api(worker, 'POST', '/api/servers', { cookie, body: { name: `sf-vm-${SUFFIX}`, image_id: imageId, flavor_id: 'stack-tiny', network_id: net.id, key_name: `sf-key-${SUFFIX}`, security_groups: ['default'] } });
    assert.equal(r.status, 202, r.text);
    serverId = r.json.id;
    created.servers.push(serverId);
    const s = await waitFor('server ACTIVE', async () => {
      const g = await api(worker, 'GET', `/api/servers/${serverId}`, { cookie });
      assert.equal(g.status, 200, g.text);
      assert.notEqual(g.json.status, 'ERROR', JSON.stringify(g.json.fault));
      return g.json.status === 'ACTIVE' && g.json;
    }, 90000, 1000);
    const addrs = s.addresses[`sf-net-${SUFFIX}`];
    assert.ok(addrs?.[0]?.addr?.startsWith('10.251.0.'), JSON.stringify(s.addresses));
    const c = await api(worker, 'GET', `/api/servers/${serverId}/console`, { cookie });
    assert.equal(c.status, 200, c.text);
    // tests/openstack enables VNC (no proxy runs, but Nova hands out the URL)
    assert.equal(c.json.type, 'novnc', c.text);
    assert.match(c.json.url, /^http:\/\/127\.0\.0\.1:6080\/vnc_auto\.html\?path=.*token/);
  });

  test('a bad image: Nova\'s error passed through', async () => {
    const queued = await newImage('never-uploaded');
    const r = await api(worker, 'POST', '/api/servers', { cookie, body: { name: `sf-bad-${SUFFIX}`, image_id: queued, flavor_id: 'stack-tiny', network_id: net.id } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.upstream_status, 400);
    assert.match(r.json.detail, new RegExp(`Image ${queued} is not active`));
    const missing = await api(worker, 'POST', '/api/servers', { cookie, body: { name: 'x', image_id: '00000000-0000-0000-0000-000000000000', flavor_id: 'stack-tiny', network_id: net.id } });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.json.detail, /Can not find requested image|could not be found/);
  });
});

describe('the token stays sealed', () => {
  test('logout revokes the token and clears the cookie', async () => {
    const r = await api(worker, 'POST', '/api/logout', { cookie });
    assert.equal(r.status, 200);
    assert.equal(r.json.revoked, true, 'Keystone confirmed the revocation');
    assert.match(r.headers.get('set-cookie'), /sf_session=;.*Max-Age=0/);
    const v = await fetch(`${KEYSTONE_URL()}/auth/tokens`, { headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': token } });
    assert.equal(v.status, 404, 'Keystone no longer knows the token');
    const s = await api(worker, 'GET', '/api/session', { cookie });
    assert.equal(s.status, 401);
    assert.equal(s.json.error, 'session_expired');
  });

  test('the token never appears in any response or log line', async () => {
    await worker.stop();
    assert.ok(seen.responses.length > 40, `responses recorded: ${seen.responses.length}`);
    assert.ok(seen.logs.length > 40, `log lines recorded: ${seen.logs.length}`);
    const tokens = [token];
    for (const r of seen.responses) {
      const m = /sf_session=(v1\.[^;\s]*)/.exec(r);
      if (m) tokens.push(unseal(m[1]).t);
    }
    for (const t of tokens) {
      assert.ok(t && t.length > 100);
      for (const r of seen.responses) assert.ok(!r.includes(t), 'a response carried the token');
      for (const l of seen.logs) assert.ok(!l.includes(t), `a log line carried the token: ${l.slice(0, 80)}`);
      assert.ok(!seen.logs.some((l) => l.includes(ADMIN_PASSWORD) && l.includes('password')));
    }
  });
});
