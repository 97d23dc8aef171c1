// Migrations that outlive the user's Keystone token (issue 17, finding 6): a second Keystone of
// the test cloud whose tokens expire after EXPIRATION (75) s (tests/openstack/keystone-short.sh: same
// database and fernet keys, so Glance accepts its tokens and honours their expiry). Through it,
// a staged upload (`wrangler dev`, its local R2) and a direct one (workerd) both wait past the
// token's expiry mid-upload and finish with fresh tokens from the migration credential the
// worker made for each; the credentials are gone afterwards. A staged upload whose credential
// was deleted fails cleanly once the token has expired, and a new login can cancel it.
// edge-worker/test.sh starts OpenStack first; this file starts and stops the short Keystone.
// It logs in as a user of its own (member of the admin project): a logout deletes all of its
// user's migration credentials, and other test files log in and out as admin at the same time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import {
  KEYSTONE, ROOT, SESSION_KEY, Worker, adminToken, api, login, os, seen, sleep, streamUpload, unseal, waitFor,
} from '../../tests/lib/edge-worker.mjs';

const PORT = process.env.KEYSTONE_SHORT_PORT || '5001';
const SHORT = `http://127.0.0.1:${PORT}/v3`;
// Seconds a token of the short Keystone lives: past the worker's renewal margin
// (credential::RENEW_MARGIN, 60 s), so a fresh session still uses its own token at first.
const EXPIRATION = 75;
const BODY_MAX = 8 << 20;
const TOKEN_AAD = 'stackferry-staged-upload-v1';
const KIT = path.join(ROOT, 'tests/openstack/keystone-short.sh');
const staged = new Worker();
const direct = new Worker();
const tmp = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-expiry-'));
const SUFFIX = `${Date.now()}-${process.pid}`;
const created = [];
const secrets = []; // the credentials' secrets, from the sealed tokens: never to be seen
let admin;
/** The test's own user: {id, name, password}. */
let user;
let image; // {data, sha512}: a ~20 MiB QCOW2, three parts of 8 MiB

function randomQcow2(mib) {
  const raw = path.join(tmp, 'x.raw');
  fs.writeFileSync(raw, randomBytes(mib << 20));
  const file = path.join(tmp, 'x.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, file]);
  const data = fs.readFileSync(file);
  return { data, sha512: createHash('sha512').update(data).digest('hex') };
}

const kit = (cmd) => execFileSync('bash', [KIT, cmd], {
  stdio: ['ignore', 'pipe', 'pipe'], timeout: 180000, env: { ...process.env, KEYSTONE_SHORT_EXPIRATION: String(EXPIRATION) },
}).toString();

/** A session through the short Keystone and the Unix second its token expires. */
async function shortLogin(worker) {
  const { res, cookie } = await login(worker, { username: user.name, password: user.password });
  assert.equal(res.status, 200, res.text);
  const expires = Date.parse(res.json.expires_at) / 1000;
  const left = expires - Date.now() / 1000;
  assert.ok(left > 0 && left <= EXPIRATION + 5, `the token lives ${left} s: not the short Keystone's`);
  return { cookie, expires };
}

async function newImage(worker, cookie, name) {
  const r = await api(worker, 'POST', '/api/images', { cookie, body: { name: `${name}-${SUFFIX}`, disk_format: 'qcow2', properties: { stackferry_test: '1' } } });
  assert.equal(r.status, 201, r.text);
  created.push(r.json.id);
  return r.json.id;
}

/** Until `expires` (Unix seconds) plus a few seconds have passed. */
async function pastExpiry(expires) {
  const ms = (expires + 5) * 1000 - Date.now();
  if (ms > 0) await sleep(ms);
}

/** The worker's credentials (`stackferry-<image>`) of the test's user, from Keystone itself. */
async function credentials(ids) {
  const r = await os(admin, 'GET', `${SHORT}/users/${user.id}/application_credentials`);
  assert.equal(r.status, 200, r.text);
  return r.json.application_credentials.filter((c) => ids.some((id) => c.name === `stackferry-${id}`));
}

const part = (s, id, token, n) => api(staged, 'PUT', `/api/images/${id}/staged/${n}`, {
  cookie: s.cookie, raw: image.data.subarray((n - 1) * BODY_MAX, Math.min(n * BODY_MAX, image.data.length)),
  headers: { 'X-Upload-Token': token, 'Content-Type': 'application/octet-stream' },
});
const parts = () => Math.ceil(image.data.length / BODY_MAX);

/** Starts a staged upload; returns its plan (the sealed token in `upload`). */
async function startStaged(s, id) {
  const r = await api(staged, 'POST', `/api/images/${id}/staged`, { cookie: s.cookie, body: { size: image.data.length, sha512: image.sha512 } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.credential, true, 'the upload outlives a 120 s token: it gets a credential');
  // the secret travels sealed only, and the cookie now outlives the token
  const inside = unseal(r.json.upload, SESSION_KEY, TOKEN_AAD);
  assert.ok(inside.k?.i && inside.k?.s, 'the credential is in the sealed token');
  secrets.push(inside.k.s);
  assert.ok(!r.text.includes(inside.k.s) && !r.text.includes(inside.k.i), 'never in clear');
  const maxAge = Number(/Max-Age=(\d+)/.exec(r.headers.get('set-cookie') || '')?.[1]);
  assert.ok(maxAge > EXPIRATION * 10, `the session cookie lives ${maxAge} s`);
  return { ...r.json, credential: inside.k };
}

/** Polls the staged upload until its import has ended. */
async function imported(s, id, token) {
  return waitFor(`the import of ${id}`, async () => {
    const r = await api(staged, 'GET', `/api/images/${id}/staged`, { cookie: s.cookie, headers: { 'X-Upload-Token': token } });
    assert.equal(r.status, 200, r.text);
    return ['active', 'failed'].includes(r.json.state) && r.json;
  }, 180000, 1000);
}

/** The file in chunks: quickly up to `half`, then 64 KiB a second until `until` (ms), then the rest. */
async function* dribble(data, until) {
  const half = data.length >> 1;
  yield data.subarray(0, half);
  let at = half;
  while (Date.now() < until && at < data.length - (64 << 10)) {
    yield data.subarray(at, at + (64 << 10));
    at += 64 << 10;
    await sleep(1000);
  }
  for (; at < data.length; at += 1 << 20) yield data.subarray(at, Math.min(at + (1 << 20), data.length));
}

before(async () => {
  kit('start');
  admin = await adminToken();
  user = { name: `sf-expiry-${SUFFIX}`, password: randomBytes(18).toString('base64url') };
  const u = await os(admin, 'POST', `${KEYSTONE}/users`, { user: { name: user.name, domain_id: 'default', password: user.password } });
  assert.equal(u.status, 201, u.text);
  user.id = u.json.user.id;
  const member = (await os(admin, 'GET', `${KEYSTONE}/roles?name=member`)).json.roles[0];
  const a = await os(admin, 'PUT', `${KEYSTONE}/projects/${admin.project.id}/users/${user.id}/roles/${member.id}`);
  assert.equal(a.status, 204, a.text);
  image = randomQcow2(20);
  const settings = { OS_AUTH_URL: SHORT, ALLOWED_AUTH_URLS: SHORT };
  await Promise.all([
    staged.start({ ...settings, REQUEST_BODY_MAX_BYTES: String(BODY_MAX) }, { runtime: 'wrangler' }),
    direct.start(settings, { runtime: 'workerd' }),
  ]);
});

after(async () => {
  for (const id of created) await os(admin, 'DELETE', `${admin.glance}/images/${id}`);
  if (admin && user && user.id) {
    for (const c of await credentials(created)) await os(admin, 'DELETE', `${SHORT}/users/${user.id}/application_credentials/${c.id}`);
    await os(admin, 'DELETE', `${KEYSTONE}/users/${user.id}`);
  }
  await Promise.all([staged.stop(), direct.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
  kit('stop');
});

describe('a token that expires mid-upload', () => {
  test('staged and direct uploads finish with the migration credential; the credentials are gone afterwards', async () => {
    const s = await shortLogin(staged);
    const d = await shortLogin(direct);
    const stagedId = await newImage(staged, s.cookie, 'sf-expiry-staged');
    const directId = await newImage(direct, d.cookie, 'sf-expiry-direct');

    const stagedRun = (async () => {
      const plan = await startStaged(s, stagedId);
      assert.equal(plan.parts, parts());
      const first = await part(s, stagedId, plan.upload, 1);
      assert.equal(first.status, 200, first.text);
      await pastExpiry(s.expires);
      // the session's own token is dead now
      const probe = await api(staged, 'GET', '/api/images', { cookie: s.cookie });
      assert.equal(probe.status, 401, probe.text);
      assert.equal(probe.json.error, 'session_expired');
      const etags = [{ part: 1, etag: first.json.etag }];
      for (let n = 2; n <= plan.parts; n += 1) {
        const r = await part(s, stagedId, plan.upload, n);
        assert.equal(r.status, 200, `part ${n}: ${r.text}`);
        etags.push({ part: n, etag: r.json.etag });
      }
      const c = await api(staged, 'POST', `/api/images/${stagedId}/staged/complete`, { cookie: s.cookie, body: { upload: plan.upload, parts: etags } });
      assert.equal(c.status, 202, c.text);
      const st = await imported(s, stagedId, plan.upload);
      assert.equal(st.state, 'active', JSON.stringify(st));
      assert.equal(st.image.os_hash_value, image.sha512);
      // the expired token cannot delete it: said, with when it stops working by itself
      assert.equal(st.credential.deleted, false, JSON.stringify(st.credential));
      assert.ok(Date.parse(st.credential.expires_at) > Date.now());
    })();

    const directRun = (async () => {
      const r = await streamUpload(direct, directId, d.cookie, image.data.length, dribble(image.data, (d.expires + 5) * 1000));
      assert.equal(r.status, 200, r.text);
      assert.ok(Date.now() / 1000 > d.expires, 'the upload ended after the token had expired');
      assert.equal(r.json.status, 'active');
      assert.equal(r.json.os_hash_value, image.sha512);
      assert.equal(r.json.credential.deleted, false, r.text);
    })();

    await Promise.all([stagedRun, directRun]);
    for (const id of [stagedId, directId]) {
      const g = await os(admin, 'GET', `${admin.glance}/images/${id}`);
      assert.equal(g.json.status, 'active');
      assert.equal(g.json.os_hash_value, image.sha512);
    }
    assert.equal((await credentials([stagedId, directId])).length, 2, 'both credentials outlived the token');
    // the next login deletes the credentials of ended uploads
    await shortLogin(direct);
    assert.deepEqual(await credentials([stagedId, directId]), []);
  });

  test('without its credential the upload fails cleanly, and a new login cancels it', async () => {
    const s = await shortLogin(staged);
    const id = await newImage(staged, s.cookie, 'sf-expiry-nocred');
    const plan = await startStaged(s, id);
    const etags = [];
    for (let n = 1; n <= plan.parts; n += 1) {
      const r = await part(s, id, plan.upload, n);
      assert.equal(r.status, 200, r.text);
      etags.push({ part: n, etag: r.json.etag });
    }
    const del = await os(admin, 'DELETE', `${SHORT}/users/${user.id}/application_credentials/${plan.credential.i}`);
    assert.equal(del.status, 204, del.text);
    await pastExpiry(s.expires);
    const c = await api(staged, 'POST', `/api/images/${id}/staged/complete`, { cookie: s.cookie, body: { upload: plan.upload, parts: etags } });
    assert.equal(c.status, 401, c.text);
    assert.equal(c.json.error, 'session_expired');
    assert.match(c.json.detail, /refused the migration credential: HTTP \d{3}/);
    assert.equal((await os(admin, 'GET', `${admin.glance}/images/${id}`)).json.status, 'queued', 'nothing imported');
    // a new session finishes the job: the upload token stays valid for its image
    const again = await shortLogin(staged);
    const gone = await api(staged, 'DELETE', `/api/images/${id}/staged`, { cookie: again.cookie, headers: { 'X-Upload-Token': plan.upload } });
    assert.equal(gone.status, 200, gone.text);
    assert.equal((await os(admin, 'GET', `${admin.glance}/images/${id}`)).status, 404, 'nothing left in Glance');
    assert.deepEqual(await credentials([id]), []);
  });

  test('logout deletes the credentials the worker made and says so', async () => {
    const s = await shortLogin(staged);
    const id = await newImage(staged, s.cookie, 'sf-expiry-logout');
    await startStaged(s, id);
    assert.equal((await credentials([id])).length, 1);
    const out = await api(staged, 'POST', '/api/logout', { cookie: s.cookie });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.json.revoked, true);
    assert.ok(out.json.credentials.deleted >= 1, out.text);
    assert.equal(out.json.credentials.left, 0);
    assert.deepEqual(await credentials([id]), []);
  });

  test('no secret in anything the worker sent or logged', () => {
    assert.ok(secrets.length >= 3);
    const everything = [...seen.responses, ...seen.logs].join('\n');
    for (const secret of secrets) assert.ok(!everything.includes(secret), 'a credential secret was sent or logged');
  });
});
