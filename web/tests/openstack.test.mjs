// The page against real OpenStack (tests/openstack: Keystone, Glance, Nova with the fake driver,
// Neutron) through the edge worker under workerd, which serves web/dist and the API, driven
// with playwright-core in Debian's Chromium. web/test.sh starts OpenStack first (as
// edge-worker/test.sh does, through scripts/openstack-stack.sh); workerd is started here with
// the edge worker's own test harness.
//
// usage: node web/tests/openstack.test.mjs [name-filter]
// Prints one line per test and ends with `osweb: N passed, M failed`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../../tests/lib/runner.mjs';
import { ApiError, apiErrorText, createApi, imageBody } from '../src/openstack/api.js';
import { assert, login, osFlow, startWorker, tid } from '../../tests/lib/os-flow.mjs';
import { ADMIN_PASSWORD, KEYSTONE, adminToken, os as osCall } from '../../tests/lib/edge-worker.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const FIXTURE = path.join(ROOT, 'converter-wasm/tests/data/strozfriedberg+vmdk-rs/data/streamOptimized.vmdk');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'stackferry-osweb-'));
const SUFFIX = `${Date.now()}-${process.pid}`;
/** The streamed-upload test's generated disk. */
const STREAM_VIRTUAL_MIB = Number(process.env.OSWEB_STREAM_VIRTUAL_MIB || 512);
const STREAM_DATA_MIB = Number(process.env.OSWEB_STREAM_DATA_MIB || 64);

let worker;
let admin;
let net;
let bare; // a network without a subnet: Nova refuses to boot on it
/** What the tests made in OpenStack, deleted at the end whatever happens. */
const made = { servers: [], images: [], networks: [], appcreds: [], flavors: [] };

const { open, loginConvertSend, checkImage, launchServer, makeNetwork, makeFlavor, deleteMade } = osFlow({ tmp: TMP, made, admin: () => admin });

// -------------------------------------------------------------------------------------------
// An HTTP/2 TLS front for workerd, as Cloudflare or a TLS proxy would be: Chromium streams a
// request body only over HTTP/2 or HTTP/3.

function selfSigned() {
  const key = path.join(TMP, 'key.pem');
  const cert = path.join(TMP, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'http2-settings', 'host']);

async function h2Proxy(target) {
  const t = new URL(target);
  const server = http2.createSecureServer({ ...selfSigned(), allowHTTP1: false });
  const stats = { streamedPuts: 0 };
  server.on('stream', (stream, headers) => {
    const h = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && !HOP.has(k)) h[k] = v;
    // The Host the browser used, as a reverse proxy passes it on (the worker compares it with Origin).
    h.host = headers[':authority'] || t.host;
    const method = headers[':method'];
    if (method === 'PUT' && !h['content-length']) stats.streamedPuts++;
    const up = http.request({ host: t.hostname, port: t.port, method, path: headers[':path'], headers: h }, (res) => {
      const rh = { ':status': res.statusCode };
      for (const [k, v] of Object.entries(res.headers)) if (!HOP.has(k)) rh[k] = v;
      if (stream.destroyed || stream.closed) {
        res.resume();
        return;
      }
      try {
        stream.respond(rh);
      } catch {
        res.resume();
        return;
      }
      res.pipe(stream);
    });
    up.on('error', () => { try { stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR); } catch { /* gone */ } });
    stream.on('error', () => up.destroy());
    stream.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, stats, base: `https://127.0.0.1:${server.address().port}/` };
}

// -------------------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('osweb: bad password shows Keystone\'s reason and no session', async (t) => {
  const { page } = await open(t, `${worker.base}/`);
  await login(page, 'not-the-password');
  const err = page.locator(tid('login-error'));
  await err.waitFor({ state: 'visible', timeout: 30000 });
  const text = await err.innerText();
  assert(/unauthorized/.test(text), `the API's error code shown: ${text}`);
  assert(/requires authentication|could not find|invalid/i.test(text), `Keystone's reason shown: ${text}`);
  assert(/HTTP 401/.test(text), `Keystone's status shown: ${text}`);
  assert(!await page.locator(tid('session')).isVisible(), 'no session shown');
  assert(await page.locator(tid('send-button')).isDisabled(), 'Send stays disabled');
  assert(await page.locator('input[name=password]').inputValue() === '', 'the password is cleared');
  t.note(`shown: ${text.replace(/\s+/g, ' ')}`);
});

test('osweb: application credential login shows the session; logout', async (t) => {
  const ac = await osCall(admin, 'POST', `${KEYSTONE}/users/${admin.user.id}/application_credentials`, { application_credential: { name: `osweb-ac-${SUFFIX}` } });
  assert(ac.status === 201, `application credential: ${ac.text}`);
  made.appcreds.push(ac.json.application_credential.id);
  const { page } = await open(t, `${worker.base}/`);
  const form = page.locator(tid('login-form'));
  await form.locator('input[value=appcred]').check();
  assert(!await form.locator('input[name=username]').isVisible(), 'password fields hidden');
  await form.locator('input[name=application_credential_id]').fill(ac.json.application_credential.id);
  await form.locator('input[name=application_credential_secret]').fill(ac.json.application_credential.secret);
  await form.locator('button[type=submit]').click();
  await page.waitForSelector(`${tid('session')}:visible, ${tid('login-error')}:visible`, { timeout: 30000 });
  assert(await page.locator(tid('session')).isVisible(), `logged in: ${await page.locator(tid('login-error')).innerText().catch(() => '')}`);
  assert(/^admin$/.test(await page.locator('#session-project').innerText()), 'project shown');
  assert(await form.locator('input[name=application_credential_secret]').inputValue() === '', 'the secret is not kept in the form');
  await page.locator(tid('logout-button')).click();
  await page.waitForSelector(`${tid('login-form')}:visible`, { timeout: 30000 });
});

test('osweb: the page\'s API client (openstack/api.js) under node against the worker: session, lists, an image made and deleted, a 401 ends the session', async (t) => {
  // Node's fetch keeps no cookies: the session cookie is carried here as a browser would.
  const jar = new Map();
  const fetchWithCookies = async (url, init = {}) => {
    const headers = { ...(init.headers || {}) };
    if (jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(url, { ...init, headers });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      const [k, v] = [pair.slice(0, at).trim(), pair.slice(at + 1)];
      if (!v || /max-age=0\b/i.test(c)) jar.delete(k);
      else jar.set(k, v);
    }
    return r;
  };
  let ended = 0;
  const api = createApi({ base: `${worker.base}/api/`, origin: worker.base, fetch: fetchWithCookies, onUnauthorized: () => { ended++; } });
  assert(JSON.stringify(await api.probe()) === JSON.stringify({ available: true, session: null }), 'the API is there, no session yet');
  const s = await api.login({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
  assert(s.user.name === 'admin' && s.project.name === 'admin', `session: ${JSON.stringify(s)}`);
  const probed = await api.probe();
  assert(probed.available && probed.session && probed.session.user.name === 'admin', `the session is found again: ${JSON.stringify(probed)}`);
  const flavors = await api.list('flavors');
  assert(flavors.some((f) => f.id === 'stack-tiny'), `flavors listed: ${flavors.map((f) => f.id)}`);
  assert((await api.list('networks')).some((n) => n.id === net.id), 'networks listed');
  const body = imageBody({ name: `osweb-api-${SUFFIX}`, format: 'qcow2', shape: null, props: [{ key: 'hw_disk_bus', value: 'virtio' }], virtualSize: 1 });
  const { id } = await api.createImage(body);
  made.images.push(id);
  const img = await api.image(id);
  assert(img.id === id && img.status === 'queued', `the image waits for its bytes: ${JSON.stringify(img)}`);
  const g = await osCall(admin, 'GET', `${admin.glance}/images/${id}`);
  assert(g.json.min_disk === 1 && g.json.disk_format === 'qcow2' && g.json.hw_disk_bus === 'virtio', `Glance has the body as sent: ${g.text}`);
  await api.deleteImage(id);
  const gone = await api.image(id).catch((e) => e);
  assert(gone instanceof ApiError && gone.status === 404, `deleted: ${apiErrorText(gone)}`);
  await api.logout();
  assert(ended === 0, 'no 401 yet');
  const after = await api.list('flavors').catch((e) => e);
  assert(after instanceof ApiError && after.status === 401 && ended === 1, `after logout a call is refused and ends the session: ${apiErrorText(after)}, ended ${ended}`);
});

test('osweb: login, convert a VMDK and send it (HTTP/1.1: OPFS file path), hash matches Glance, launch → ACTIVE, logout', async (t) => {
  const s = await open(t, `${worker.base}/`);
  const { page } = s;
  const r = await loginConvertSend(t, page, FIXTURE);
  assert(r.match === 'true', `data-hash-match=${r.match}`);
  assert(r.pathTaken === 'file', `over HTTP/1.1 the page converts into OPFS and sends the file (path ${r.pathTaken})`);
  assert(Number(r.sent) === Number(r.total) && Number(r.total) > 0, `upload progress reached the end: ${r.sent}/${r.total}`);
  assert(s.apiCalls.includes(`PUT /api/images/${r.imageId}/file`), `one PUT of the file: ${s.apiCalls.join(', ')}`);
  t.note(`send (convert + upload + check) ${r.sendSecs.toFixed(1)} s, path ${r.pathTaken}: ${(await r.row.locator('.hint').innerText())}`);
  await checkImage(t, r);

  // Launch: pickers filled from the API, the suggested flavor preselected.
  await page.waitForSelector('#launch:visible', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#launch-flavor').options.length > 0, null, { timeout: 30000 });
  const flavors = (await osCall(admin, 'GET', `${admin.nova}/flavors/detail`)).json.flavors;
  // The rule on its own: at least as large in every dimension, then the closest.
  const picks = await page.evaluate(async () => {
    const { closestFlavor } = await import('./openstack/api.js');
    const fl = [
      { id: 'a', name: 'a', vcpus: 1, ram: 512, disk: 10 }, { id: 'b', name: 'b', vcpus: 2, ram: 2048, disk: 20 },
      { id: 'c', name: 'c', vcpus: 2, ram: 4096, disk: 40 }, { id: 'd', name: 'd', vcpus: 8, ram: 2048, disk: 20 },
      { id: 'e', name: 'e', vcpus: 4, ram: 8192, disk: 80 },
    ];
    const pick = (w) => (closestFlavor(fl, w) || { id: null }).id;
    return [pick({ vcpus: 1, ram: 0, disk: 1 }), pick({ vcpus: 2, ram: 2048, disk: 20 }), pick({ vcpus: 2, ram: 3000, disk: 20 }),
      pick({ vcpus: 3, ram: 1024, disk: 10 }), pick({ vcpus: 16, ram: 1024, disk: 10 })];
  });
  assert(JSON.stringify(picks) === JSON.stringify(['a', 'b', 'c', 'd', null]), `closest flavors: ${JSON.stringify(picks)}`);
  const preId = await page.locator('#launch-flavor').inputValue();
  const pre = flavors.find((f) => f.id === preId);
  assert(flavors.length >= 3, `several flavors to choose from: ${flavors.map((f) => f.name)}`);
  assert(pre && pre.id === 'stack-tiny', `stack.tiny preselected (the smallest with 1 GiB disk): ${pre && pre.name}`);
  assert(pre && pre.disk >= 1 && pre.vcpus >= 1, `preselected flavor fits min_disk 1 GiB: ${JSON.stringify(pre)}`);
  for (const f of flavors) {
    const fits = f.disk >= 1 && f.vcpus >= 1;
    const smaller = f.vcpus <= pre.vcpus && f.ram <= pre.ram && f.disk <= pre.disk && (f.vcpus < pre.vcpus || f.ram < pre.ram || f.disk < pre.disk);
    assert(!(fits && smaller), `preselected ${pre.name}, but ${f.name} fits and is smaller`);
  }
  const why = await page.locator('#launch-flavor-hint').innerText();
  assert(/at least 1 vCPU, any RAM, 1 GiB disk/.test(why), `the suggestion counts the image's min_disk: ${why}`);
  t.note(`flavor preselected: ${pre.name} (of ${flavors.length}): ${why}`);
  await page.locator('#launch-flavor').selectOption('stack-tiny');
  // Nova's refusal is shown as it came: a network without a subnet.
  await page.waitForFunction((id) => [...document.querySelector('#launch-network').options].some((o) => o.value === id), bare.id, { timeout: 10000 });
  await page.locator('#launch-network').selectOption(bare.id);
  await page.locator(`${tid('launch-button')}:enabled`).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=server-status]').dataset.status === 'ERROR', null, { timeout: 60000 });
  const refused = await page.locator(tid('server-status')).innerText();
  const osErr = await page.locator(tid('os-error')).innerText();
  assert(/requires a subnet/.test(refused) && /HTTP 400/.test(osErr) && /requires a subnet/.test(osErr), `Nova's error shown: ${refused} / ${osErr}`);
  t.note(`Nova's refusal shown: ${osErr.replace(/\s+/g, ' ')}`);
  const l = await launchServer(page, { networkId: net.id, name: `osweb-${SUFFIX}` });
  const serverId = l.serverId;
  assert(l.status === 'ACTIVE' && /ACTIVE/.test(l.text), `server ACTIVE: ${l.text}`);
  t.note(`server ACTIVE after ${l.secs.toFixed(1)} s: ${l.text.replace(/\s+/g, ' ')}`);
  const nova = await osCall(admin, 'GET', `${admin.nova}/servers/${serverId}`);
  assert(nova.json.server.status === 'ACTIVE' && nova.json.server.image.id === r.imageId && (nova.json.server.flavor.id || nova.json.server.flavor.original_name) === 'stack-tiny',
    `Nova has the server from our image and flavor: ${nova.text.slice(0, 300)}`);
  assert(Object.keys(nova.json.server.addresses).includes(net.name), `on the chosen network: ${JSON.stringify(nova.json.server.addresses)}`);
  await page.waitForSelector('[data-testid=console-link], [data-testid=console-reason]', { timeout: 30000 });
  const consoleText = await page.locator('#console').innerText();
  t.note(`console: ${consoleText}`);
  if (process.env.OSWEB_SCREENSHOT) await page.locator('#openstack-section').screenshot({ path: process.env.OSWEB_SCREENSHOT });
  const after = await page.locator('#after-launch').innerText();
  assert(/split brain/.test(after) && /message\.txt/.test(after), `the checklist's split-brain and verification steps shown: ${after}`);

  // Logout: the session is gone for the page and the API.
  await page.locator(tid('logout-button')).click();
  await page.waitForSelector(`${tid('login-form')}:visible`, { timeout: 30000 });
  const status = await page.evaluate(async () => (await fetch('/api/session')).status);
  assert(status === 401, `no session after logout: ${status}`);
  assert(await page.locator(tid('send-button')).isDisabled(), 'Send disabled after logout');
});

test(`osweb: streamed upload while converting over HTTP/2 (TLS front), ${STREAM_DATA_MIB} MiB of data, hash matches Glance`, async (t) => {
  // A disk larger than the bytes the stream may hold queued (8 MiB), so the upload runs
  // alongside the conversion and back-pressure is exercised.
  const raw = path.join(TMP, 'stream.raw');
  const src = path.join(TMP, 'stream.vmdk');
  execFileSync('python3', [path.join(HERE, 'make-disk.py'), raw, String(STREAM_VIRTUAL_MIB), String(STREAM_DATA_MIB), '7']);
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, src]);
  fs.rmSync(raw);
  const proxy = await h2Proxy(worker.base);
  t.cleanup.push(() => new Promise((r) => proxy.server.close(r)));
  const s = await open(t, proxy.base, { https: true });
  const { page } = s;
  const proto = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  assert(proto === 'h2', `page over HTTP/2: ${proto}`);
  const r = await loginConvertSend(t, page, src);
  assert(r.overlap.during > 0, `bytes went out while converting: ${JSON.stringify(r.overlap)}`);
  assert(r.pathTaken === 'stream', `over HTTP/2 the output is streamed while converting (path ${r.pathTaken})`);
  assert(r.match === 'true', `data-hash-match=${r.match}`);
  assert(proxy.stats.streamedPuts === 1, `one PUT without Content-Length reached the front: ${proxy.stats.streamedPuts}`);
  assert(Number(r.sent) === Number(r.total) && Number(r.total) > 0, `upload progress reached the end: ${r.sent}/${r.total}`);
  t.note(`send (streamed) ${r.sendSecs.toFixed(1)} s for ${(Number(r.total) / 1048576).toFixed(1)} MiB (${r.overlap.during} of ${r.overlap.seen} progress updates had bytes out before the converter finished): ${(await r.row.locator('.hint').innerText())}`);
  await checkImage(t, r);
});

test('osweb: a streamed upload the browser refuses (HTTP/1.1, ?upload=stream) falls back to the OPFS file path', async (t) => {
  const s = await open(t, `${worker.base}/?upload=stream`);
  const r = await loginConvertSend(t, s.page, FIXTURE);
  const hint = await r.row.locator('.hint').innerText();
  assert(r.pathTaken === 'file' && /streaming failed/.test(hint), `fell back to the file path: ${r.pathTaken}: ${hint}`);
  assert(r.match === 'true', `data-hash-match=${r.match}`);
  const creates = s.apiCalls.filter((c) => c === 'POST /api/images').length;
  assert(creates === 1, `the queued image was reused, not a second one made: ${creates} creations`);
  t.note(`send ${r.sendSecs.toFixed(1)} s: ${hint}`);
  await checkImage(t, r);
});

// -------------------------------------------------------------------------------------------

async function setUp() {
  assert(fs.existsSync(path.join(ROOT, 'web/dist/index.html')), 'web/dist is built (bash web/build.sh)');
  assert(fs.existsSync(path.join(ROOT, 'edge-worker/build/index.js')), 'the edge worker is built (bash edge-worker/build.sh)');
  admin = await adminToken();
  const fl = await osCall(admin, 'GET', `${admin.nova}/flavors/stack-tiny`);
  if (fl.status === 404) {
    const r = await osCall(admin, 'POST', `${admin.nova}/flavors`, { flavor: { name: 'stack.tiny', id: 'stack-tiny', ram: 64, vcpus: 1, disk: 1 } });
    assert([200, 409].includes(r.status), `flavor: ${r.text}`);
  }
  net = await makeNetwork(`osweb-net-${SUFFIX}`, '10.253.0.0/24');
  // Flavors around stack.tiny: one too small for the image's min_disk, one far larger.
  await makeFlavor({ name: `osweb-nodisk-${SUFFIX}`, ram: 32, vcpus: 1, disk: 0 });
  await makeFlavor({ name: `osweb-xl-${SUFFIX}`, ram: 4096, vcpus: 4, disk: 40 });
  bare = await makeNetwork(`osweb-bare-${SUFFIX}`);
  // One login per test, more than the 5 attempts the edge suite's rate-limit test needs.
  worker = await startWorker({ LOGIN_MAX_ATTEMPTS: '50' });
  return 'flavors, networks, workerd';
}

async function tearDown() {
  if (worker) await worker.stop();
  return deleteMade();
}

runSuite('osweb', { tests, setUp, tearDown, tmp: TMP, keepTmp: !!process.env.WEB_KEEP_TMP });
