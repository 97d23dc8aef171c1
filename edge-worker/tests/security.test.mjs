// The login limit and the outbound rules of the edge worker, against the real Keystone of
// tests/openstack (edge-worker/test.sh starts it); each part starts its own workerd with the
// settings it needs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { KEYSTONE, LOGIN_MAX_ATTEMPTS as LIMIT, Worker, api, freshIp, login, seen, sessionCookie } from '../../tests/lib/edge-worker.mjs';

const SUFFIX = `${Date.now()}-${process.pid}`;
// Under `wrangler dev` the worker sees a `cf` object (clients are CF-Connecting-IP, no warning)
// and wrangler's own outbound network: the parts about workerd's settings are skipped there.
const WORKERD_ONLY = process.env.WORKER_RUNTIME === 'wrangler' ? { skip: 'workerd settings (CLIENT_IP_HEADER, workerd.capnp)' } : {};
let names = 0;
/** A user name nobody has, new for each test. */
const nobody = () => `nobody-${SUFFIX}-${++names}`;

function wrongLogin(worker, username, ip, extra = {}) {
  return api(worker, 'POST', '/api/login', {
    body: { username, password: 'wrong', project: 'admin', ...extra },
    headers: ip ? { 'X-Forwarded-For': ip } : {},
  });
}

/** How many answers had each status: {401: n, 429: m}. */
function tally(answers) {
  const t = {};
  for (const r of answers) t[r.status] = (t[r.status] || 0) + 1;
  return t;
}

/** Many logins at once. */
const together = (n, f) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

/** A TCP listener on 127.0.0.1 that records every connection made to it. */
async function tripwire() {
  const connections = [];
  const srv = net.createServer((s) => {
    connections.push(s.remoteAddress);
    s.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  return { port, url: `http://127.0.0.1:${port}/v3`, connections, close: () => new Promise((r) => srv.close(r)) };
}

describe('login limit: one count for the deployment, taken before Keystone is asked', () => {
  const worker = new Worker();
  before(() => worker.start());
  after(() => worker.stop());

  test(`${4 * LIMIT} wrong passwords at once from one address: ${LIMIT} reach Keystone, the rest 429`, async () => {
    const ip = freshIp();
    const user = nobody();
    const answers = await together(4 * LIMIT, () => wrongLogin(worker, user, ip));
    assert.deepEqual(tally(answers), { 401: LIMIT, 429: 3 * LIMIT }, answers.map((r) => r.text).join('\n'));
    for (const r of answers.filter((a) => a.status === 429)) {
      assert.equal(r.json.error, 'too_many_attempts');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    // the address is used up whoever logs in from it; another principal from another address is not
    const same = await wrongLogin(worker, nobody(), ip);
    assert.equal(same.status, 429, same.text);
    const other = await login(worker);
    assert.equal(other.res.status, 200, other.res.text);
  });

  test(`one user from ${4 * LIMIT} addresses at once: the principal is counted too`, async () => {
    const user = nobody();
    const answers = await together(4 * LIMIT, () => wrongLogin(worker, user, freshIp()));
    assert.deepEqual(tally(answers), { 401: LIMIT, 429: 3 * LIMIT });
    // other spellings of the same principal are the same principal
    const upper = await wrongLogin(worker, user.toUpperCase(), freshIp(), { user_domain: 'Default' });
    assert.equal(upper.status, 429, upper.text);
    assert.equal((await login(worker)).res.status, 200, 'admin from another address is not locked out');
  });

  test('an IPv6 client is its /64', async () => {
    const net64 = '2001:db8:5:6';
    for (let i = 0; i < LIMIT; i++) {
      const r = await wrongLogin(worker, nobody(), `${net64}:${i}::${i + 1}`);
      assert.equal(r.status, 401, r.text);
    }
    const r = await wrongLogin(worker, nobody(), `${net64}:ffff:ffff:ffff:ffff`);
    assert.equal(r.status, 429, 'another address of the same /64');
    const next = await wrongLogin(worker, nobody(), '2001:db8:5:7::1');
    assert.equal(next.status, 401, 'the next /64 is another client');
    const mapped = await wrongLogin(worker, nobody(), '::ffff:10.99.0.1');
    assert.equal(mapped.status, 401, mapped.text);
  });

  test('a successful login resets its principal, not its address', async () => {
    const ips = Array.from({ length: 2 * LIMIT }, freshIp);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < LIMIT - 1; i++) {
        const r = await wrongLogin(worker, 'admin', ips[round * LIMIT + i]);
        assert.equal(r.status, 401, `round ${round}, attempt ${i}: ${r.text}`);
      }
      assert.equal((await login(worker)).res.status, 200, `round ${round}: the good password`);
    }
  });
});

describe('login limit without CLIENT_IP_HEADER: per principal only', WORKERD_ONLY, () => {
  const worker = new Worker();
  before(() => worker.start({ CLIENT_IP_HEADER: '' }));
  after(() => worker.stop());

  test('the worker warns that it cannot tell clients apart', async () => {
    await api(worker, 'GET', '/api/session');
    assert.ok(seen.logs.some((l) => l.includes('CLIENT_IP_HEADER is not set')), seen.logs.slice(-5).join('\n'));
  });

  test(`${2 * LIMIT} wrong passwords for one user lock that user, not everyone`, async () => {
    const user = nobody();
    const answers = await together(2 * LIMIT, () => wrongLogin(worker, user));
    assert.deepEqual(tally(answers), { 401: LIMIT, 429: LIMIT });
    for (let i = 0; i < LIMIT; i++) {
      const r = await wrongLogin(worker, nobody());
      assert.equal(r.status, 401, `another user, attempt ${i + 1}: ${r.text}`);
    }
    const admin = await api(worker, 'POST', '/api/login', { body: { username: 'admin', password: process.env.ADMIN_PASSWORD || 'secret', project: 'admin' } });
    assert.equal(admin.status, 200, admin.text);
  });
});

describe('ALLOWED_AUTH_URLS="*": public hosts only, unless the operator lists one', () => {
  const star = new Worker();
  const listed = new Worker();
  let wire;
  before(async () => {
    wire = await tripwire();
    await star.start({ OS_AUTH_URL: '', ALLOWED_AUTH_URLS: '*' });
    await listed.start({ OS_AUTH_URL: '', ALLOWED_AUTH_URLS: `*,${KEYSTONE}` });
  });
  after(async () => {
    await star.stop();
    await listed.stop();
    await wire.close();
  });

  test('loopback in any spelling is refused before any connection', async () => {
    const p = wire.port;
    for (const url of [wire.url, `http://2130706433:${p}/v3`, `http://0x7f.1:${p}/v3`, `http://0177.0.0.1:${p}/v3`,
      `http://localhost:${p}/v3`, `http://[::ffff:127.0.0.1]:${p}/v3`, `http://[::1]:${p}/v3`, KEYSTONE]) {
      const r = await wrongLogin(star, 'admin', freshIp(), { auth_url: url });
      assert.equal(r.status, 403, `${url}: ${r.text}`);
      assert.equal(r.json.error, 'destination_not_allowed');
      assert.match(r.json.detail, /ALLOWED_AUTH_URLS="\*,/);
    }
    const meta = await wrongLogin(star, 'admin', freshIp(), { auth_url: 'http://169.254.169.254/v3' });
    assert.equal(meta.status, 403);
    assert.match(meta.json.detail, /link-local/);
    assert.deepEqual(wire.connections, [], 'nothing connected to the listener');
  });

  test('a Keystone the operator lists is reached, and so is its catalog', async () => {
    const r = await api(listed, 'POST', '/api/login', {
      body: { auth_url: KEYSTONE, username: 'admin', password: process.env.ADMIN_PASSWORD || 'secret', project: 'admin' },
      headers: { 'X-Forwarded-For': freshIp() },
    });
    assert.equal(r.status, 200, r.text);
    const flavors = await api(listed, 'GET', '/api/flavors', { cookie: sessionCookie(r) });
    assert.equal(flavors.status, 200, flavors.text);
    const other = await wrongLogin(listed, 'admin', freshIp(), { auth_url: wire.url });
    assert.equal(other.status, 403, 'another loopback port is not listed');
    assert.deepEqual(wire.connections, []);
  });
});

describe('the shipped workerd.capnp reaches no loopback or private network', WORKERD_ONLY, () => {
  const worker = new Worker();
  let wire;
  before(async () => {
    wire = await tripwire();
    await worker.start({ OS_AUTH_URL: wire.url }, { config: 'workerd.capnp' });
  });
  after(async () => {
    await worker.stop();
    await wire.close();
  });

  test('even OS_AUTH_URL on 127.0.0.1 is not connected to', async () => {
    const r = await wrongLogin(worker, nobody(), freshIp());
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error, 'upstream_unreachable');
    assert.deepEqual(wire.connections, []);
  });
});
