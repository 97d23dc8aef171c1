// The worker, route by route (issue 17): every API route refuses what it must, with a JSON error
// and without touching OpenStack where the refusal comes first —
//  - every route behind the session: no cookie, a forged one, one sealed with another key, one
//    whose session has expired → 401 (logout takes any cookie: it clears it);
//  - every route: a method it does not take → 405 naming the ones it does;
//  - every state-changing route: no CSRF header → 403, a foreign Origin → 403;
//  - every JSON route: malformed JSON → 400, a body over 64 KiB → 413;
//  - every id route: ids that cannot be OpenStack ids (encoded slashes, too long, NUL, CRLF) →
//    404, and a well-formed id that does not exist → a 4xx (a DELETE: done), never a 5xx;
//  - uploads: a body shorter or longer than X-Upload-Length, or a Content-Length that disagrees
//    with it, is refused and its image deleted;
//    uploads aborted at ABORTS random byte offsets leave no image behind;
//  - nothing any of this captured (bodies, headers, logs) holds a token, a password or the
//    session key (a user made for the test, with a random password, logs in and out).
// The staged routes are refused first with 501 when the worker has no bucket (workerd here):
// edge-worker/tests/staged.test.mjs runs them under `wrangler dev`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os_ from 'node:os';
import path from 'node:path';
import {
  KEYSTONE, SESSION_KEY, Worker, adminToken, answer, api, login, os, seal, seen, streamUpload, unseal, waitFor,
} from '../../tests/lib/edge-worker.mjs';

const ABORTS = Number(process.env.ROUTES_ABORTS || 20);
const SUFFIX = `${Date.now()}-${process.pid}`;
const ID = randomUUID();
/**
 * Every API route: method, path, whether it needs a session, whether its body is JSON, whether
 * it takes a session whose token has expired (the staged routes after the start).
 */
const ROUTES = [
  ['POST', '/api/login', { session: false, json: true }],
  ['POST', '/api/logout', { session: false }],
  ['GET', '/api/session', {}],
  ['GET', '/api/flavors', {}],
  ['GET', '/api/networks', {}],
  ['GET', '/api/keypairs', {}],
  ['GET', '/api/security-groups', {}],
  ['GET', '/api/volume-types', {}],
  ['GET', '/api/limits', {}],
  ['GET', '/api/stores', {}],
  ['GET', '/api/images', {}],
  ['POST', '/api/images', { json: true }],
  ['GET', `/api/images/${ID}`, { id: true }],
  ['DELETE', `/api/images/${ID}`, { id: true }],
  ['PUT', `/api/images/${ID}/file`, { id: true }],
  ['POST', `/api/images/${ID}/staged`, { id: true, json: true }],
  ['PUT', `/api/images/${ID}/staged/1`, { id: true, afterExpiry: true }],
  ['POST', `/api/images/${ID}/staged/complete`, { id: true, json: true, afterExpiry: true }],
  ['GET', `/api/images/${ID}/staged`, { id: true, afterExpiry: true }],
  ['DELETE', `/api/images/${ID}/staged`, { id: true, afterExpiry: true }],
  ['POST', '/api/volumes', { json: true }],
  ['GET', `/api/volumes/${ID}`, { id: true }],
  ['DELETE', `/api/volumes/${ID}`, { id: true }],
  ['POST', '/api/servers', { json: true }],
  ['GET', `/api/servers/${ID}`, { id: true }],
  ['DELETE', `/api/servers/${ID}`, { id: true }],
  ['GET', `/api/servers/${ID}/console`, { id: true }],
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

const worker = new Worker();
const tmp = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-routes-'));
let admin;
let cookie;
let token;
const images = [];

/** The methods a path takes (the table's rows for it). */
const takes = (p) => ROUTES.filter(([, q]) => q === p).map(([m]) => m);

async function glanceGone(id) {
  return waitFor(`image ${id} to be deleted`, async () => {
    const r = await os(admin, 'GET', `${admin.glance}/images/${id}`);
    return r.status === 404 || r.json?.status === 'deleted';
  }, 60000, 500);
}

async function newImage(name) {
  const r = await api(worker, 'POST', '/api/images', { cookie, body: { name: `sf-routes-${name}-${SUFFIX}`, disk_format: 'qcow2' } });
  assert.equal(r.status, 201, r.text);
  images.push(r.json.id);
  return r.json.id;
}

/**
 * A raw request (node:http keeps the path as written, where fetch would resolve `.` and `..`).
 * `headers` as given; `data` written as is (chunked unless a Content-Length is given).
 */
function raw(method, p, { headers = {}, data } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${worker.base}/`, {
      method,
      path: p,
      headers: { Cookie: `sf_session=${cookie}`, 'X-Stackferry': '1', ...headers },
    }, (res) => answer(res).then(resolve));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** A PUT of `data` to image `id` declaring `upload` in X-Upload-Length (and `content` in Content-Length). */
function put(id, data, { upload, content }) {
  const headers = { 'Content-Type': 'application/octet-stream', 'X-Upload-Length': String(upload) };
  if (content === undefined) headers['Transfer-Encoding'] = 'chunked';
  else headers['Content-Length'] = String(content);
  return raw('PUT', `/api/images/${id}/file`, { headers, data });
}

describe('the worker, route by route', () => {
  let disk;
  /** Whether this worker stages uploads (a bucket bound); without, staged routes answer 501. */
  let staged;
  const live = (p) => staged || !/\/staged/.test(p);

  before(async () => {
    admin = await adminToken();
    await worker.start({ LOGIN_MAX_ATTEMPTS: '50' });
    ({ cookie } = await login(worker));
    assert.ok(cookie, 'logged in');
    token = unseal(cookie).t;
    staged = !!(await api(worker, 'GET', '/api/session', { cookie })).json.upload?.staged;
    const raw = path.join(tmp, 'd.raw');
    execFileSync('dd', ['if=/dev/urandom', `of=${raw}`, 'bs=1M', 'count=4', 'status=none']);
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, path.join(tmp, 'd.qcow2')]);
    disk = fs.readFileSync(path.join(tmp, 'd.qcow2'));
  });

  after(async () => {
    await worker.stop();
    for (const id of images) await os(admin, 'DELETE', `${admin.glance}/images/${id}`).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every route behind the session: no cookie, forged, another key, expired → 401', async () => {
    const s = unseal(cookie);
    const bad = {
      none: undefined,
      forged: `v1.${randomBytes(300).toString('base64url')}`,
      'another key': seal(s, randomBytes(32).toString('base64')),
      expired: seal({ ...s, e: Math.floor(Date.now() / 1000) - 60 }),
    };
    let n = 0;
    for (const [method, p, o] of ROUTES.filter(([, , o]) => o.session !== false)) {
      for (const [kind, c] of Object.entries(bad)) {
        const r = await api(worker, method, p, { cookie: c, body: o.json ? {} : undefined });
        if (kind === 'expired' && o.afterExpiry) {
          // an upload under way outlives its token (its migration credential): these take an
          // authentic cookie whose session has expired, and refuse for the next reason
          assert.ok(r.status >= 400 && r.json?.error, `${method} ${p} with an expired cookie: ${r.status} ${r.text}`);
          continue;
        }
        assert.equal(r.status, 401, `${method} ${p} with ${kind} cookie: ${r.status} ${r.text}`);
        assert.ok(r.json?.error, `${method} ${p} (${kind}): a JSON error`);
        n++;
      }
    }
    console.log(`# ${n} requests refused with 401`);
    // logout takes any cookie and clears it (an expired one with a token that is not the shared
    // session's: logout revokes what a cookie holds)
    const expiredOther = seal({ ...s, t: 'not-a-keystone-token', e: Math.floor(Date.now() / 1000) - 60 });
    for (const [kind, c] of Object.entries({ ...bad, expired: expiredOther })) {
      const r = await api(worker, 'POST', '/api/logout', { cookie: c });
      assert.equal(r.status, 200, `logout with ${kind} cookie: ${r.text}`);
      assert.match(r.headers.get('set-cookie') || '', /sf_session=;.*Max-Age=0/i, `logout with ${kind} cookie clears it`);
    }
  });

  test('every route: a method it does not take → 405 with Allow', async () => {
    const paths = [...new Set(ROUTES.map(([, p]) => p))];
    for (const p of paths) {
      const allowed = takes(p);
      for (const m of METHODS.filter((x) => !allowed.includes(x))) {
        const r = await api(worker, m, p, { cookie });
        assert.equal(r.status, 405, `${m} ${p}: ${r.status} ${r.text}`);
        const allow = (r.headers.get('allow') || '').split(/,\s*/);
        for (const a of allowed) assert.ok(allow.includes(a), `${m} ${p}: Allow "${r.headers.get('allow')}" names ${a}`);
      }
    }
  });

  test('every state-changing route: no CSRF header → 403; a foreign Origin → 403', async () => {
    for (const [method, p, o] of ROUTES.filter(([m]) => m !== 'GET')) {
      let r = await api(worker, method, p, { cookie, csrf: false, body: o.json ? {} : undefined });
      assert.equal(r.status, 403, `${method} ${p} without the header: ${r.status} ${r.text}`);
      r = await api(worker, method, p, { cookie, body: o.json ? {} : undefined, headers: { Origin: 'https://evil.example' } });
      assert.equal(r.status, 403, `${method} ${p} from a foreign origin: ${r.status} ${r.text}`);
    }
  });

  test('every JSON route: malformed JSON → 400, over 64 KiB → 413', async () => {
    for (const [method, p] of ROUTES.filter(([q, r, o]) => o.json && live(r))) {
      let r = await api(worker, method, p, { cookie, raw: '{"name": ', headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, `${method} ${p} malformed: ${r.status} ${r.text}`);
      r = await api(worker, method, p, { cookie, raw: JSON.stringify({ name: 'x'.repeat(65 * 1024) }), headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 413, `${method} ${p} oversized: ${r.status} ${r.text}`);
    }
  });

  test('every id route: impossible ids → 404; a well-formed unknown id → 4xx (a DELETE: done), never 5xx', async () => {
    // (`.`, `..` and `%2e` are not ids: the runtime resolves them as URLs do, before the worker)
    const impossible = ['a%2Fb', '%00', 'x'.repeat(300), 'a%20b', 'a:b', '%C3%A9', 'a;b', '%0d%0aX:1'];
    for (const [method, p, o] of ROUTES.filter(([, q, x]) => x.id && live(q))) {
      for (const bad of impossible) {
        const r = await raw(method, p.replace(ID, bad), { headers: o.json ? { 'Content-Type': 'application/json' } : {}, data: o.json ? '{}' : undefined });
        assert.equal(r.status, 404, `${method} ${p.replace(ID, bad)}: ${r.status} ${r.text}`);
        assert.equal(r.json?.error, 'not_found', `${method} ${p.replace(ID, bad)}: ${r.text}`);
      }
      if (method === 'PUT') continue; // an upload to an unknown image: below, with its body
      const r = await api(worker, method, p, { cookie, body: o.json ? { size: 1, sha512: 'a'.repeat(128) } : undefined });
      // (deleting what is not there is done: a volume's DELETE answers so, idempotently)
      const ok = method === 'DELETE' ? r.status < 500 && r.json : r.status >= 400 && r.status < 500 && r.json?.error;
      assert.ok(ok, `${method} ${p} (unknown id): ${r.status} ${r.text}`);
    }
  });

  test('uploads: a body shorter or longer than X-Upload-Length, or a disagreeing Content-Length, is refused and its image deleted', async () => {
    const half = disk.subarray(0, disk.length >> 1);
    const cases = [
      ['shorter than X-Upload-Length', half, { upload: disk.length }],
      ['longer than X-Upload-Length', disk, { upload: half.length }],
      ['Content-Length disagreeing with X-Upload-Length', half, { upload: disk.length, content: half.length }],
    ];
    for (const [what, data, lengths] of cases) {
      const id = await newImage(what.split(' ')[0]);
      const r = await put(id, data, lengths);
      // (a body that ends early reaches Glance short: Glance's connection is then lost, and the
      // worker answers 502; either way refused, with the image deleted)
      assert.ok(r.status >= 400 && r.json?.error && r.json.image_deleted !== false, `${what}: ${r.status} ${r.text}`);
      await glanceGone(id);
    }
  });

  test(`uploads aborted at ${ABORTS} random byte offsets leave no image behind`, async () => {
    const offsets = Array.from({ length: ABORTS }, () => randomInt(1, disk.length - 1)).sort((a, b) => a - b);
    // five at a time: each waits for its bytes to reach Glance before it cuts the connection
    for (let k = 0; k < offsets.length; k += 5) {
      await Promise.all(offsets.slice(k, k + 5).map(async (at) => {
        const id = await newImage(`abort-${at}`);
        async function* chunks() { for (let i = 0; i < disk.length; i += 65536) yield disk.subarray(i, i + 65536); }
        const r = await streamUpload(worker, id, cookie, disk.length, chunks(), { abortAfter: at });
        assert.ok(r.aborted, `aborted at ${at}, yet answered: ${r.status} ${r.text}`);
        await glanceGone(id);
      }));
    }
    console.log(`# aborted at ${offsets.join(', ')}`);
  });

  test('nothing captured holds a token, a password or the session key', async () => {
    // a user of its own, with a random password: a wrong try, a login, a call, a logout
    const name = `sf-routes-user-${SUFFIX}`;
    const password = randomBytes(18).toString('base64url');
    const wrong = randomBytes(18).toString('base64url');
    const u = await os(admin, 'POST', `${KEYSTONE}/users`, { user: { name, domain_id: 'default', password } });
    assert.equal(u.status, 201, u.text);
    try {
      const roles = await os(admin, 'GET', `${KEYSTONE}/roles?name=member`);
      const a = await os(admin, 'PUT', `${KEYSTONE}/projects/${admin.project.id}/users/${u.json.user.id}/roles/${roles.json.roles[0].id}`);
      assert.equal(a.status, 204, a.text);
      const no = await login(worker, { username: name, password: wrong });
      assert.equal(no.res.status, 401, no.res.text);
      const yes = await login(worker, { username: name, password });
      assert.equal(yes.res.status, 200, yes.res.text);
      const theirs = unseal(yes.cookie).t;
      assert.equal((await api(worker, 'GET', '/api/images', { cookie: yes.cookie })).status, 200);
      assert.equal((await api(worker, 'POST', '/api/logout', { cookie: yes.cookie })).status, 200);
      check([['token', token], ['their token', theirs], ['password', password], ['wrong password', wrong], ['session key', SESSION_KEY]]);
    } finally {
      await os(admin, 'DELETE', `${KEYSTONE}/users/${u.json.user.id}`);
    }
  });

  function check(secrets) {
    const all = [...seen.responses, ...seen.logs];
    for (const [what, secret] of secrets) {
      const hit = all.find((x) => x.includes(secret));
      assert.equal(hit, undefined, `the ${what} appears in: ${hit?.slice(0, 200)}`);
    }
    console.log(`# ${seen.responses.length} responses and ${seen.logs.length} log lines checked`);
  }
});
