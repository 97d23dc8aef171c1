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
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../../tests/lib/runner.mjs';
import { ApiError, apiErrorText, createApi, imageBody } from '../src/openstack/api.js';
import { assert, confirmReview, feed, login, opfsSidecar, osFlow, startWorker, tid } from '../../tests/lib/os-flow.mjs';
import { h2Proxy } from '../../tests/lib/h2-proxy.mjs';
import en from '../src/i18n/en.js';
import ko from '../src/i18n/ko.js';
import { ADMIN_PASSWORD, KEYSTONE, adminToken, os as osCall } from '../../tests/lib/edge-worker.mjs';
import { stagedTests } from './openstack-staged.mjs';
import { volumesTests } from './openstack-volumes.mjs';

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
const made = { servers: [], volumes: [], images: [], networks: [], appcreds: [], flavors: [] };

const { open, loginConvertSend, checkImage, launchServer, makeNetwork, makeFlavor, deleteMade, cinderCall } = osFlow({ tmp: TMP, made, admin: () => admin });

// -------------------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/**
 * A wrong password, in `locale`'s language: the plain sentence of `api.unauthorized` shows,
 * Keystone's own words and status only once the details disclosure is opened.
 */
async function badPassword(t, locale, cat) {
  const { page } = await open(t, `${worker.base}/`, { locale });
  await login(page, 'not-the-password');
  const err = page.locator(tid('login-error'));
  await err.waitFor({ state: 'visible', timeout: 30000 });
  const text = await err.innerText();
  assert(await err.getAttribute('data-error') === 'unauthorized', `the API's error code kept: ${await err.getAttribute('data-error')}`);
  assert(text.includes(cat['cloud.login.failed']) && text.includes(cat['api.unauthorized']), `the plain sentence shown: ${text}`);
  assert(!/HTTP 401|requires authentication/i.test(text), `the technical words stay in the details until opened: ${text}`);
  await err.locator('summary').click();
  const opened = await err.innerText();
  assert(/requires authentication|could not find|invalid/i.test(opened), `Keystone's reason in the details: ${opened}`);
  assert(/HTTP 401/.test(opened), `Keystone's status in the details: ${opened}`);
  assert(!await page.locator(tid('session')).isVisible(), 'no session shown');
  assert(await page.locator(tid('send-button')).isDisabled(), 'Send stays disabled');
  assert(await page.locator('input[name=password]').inputValue() === '', 'the password is cleared');
  t.note(`shown: ${text.replace(/\s+/g, ' ')}`);
  return page;
}

test('osweb: bad password shows a plain sentence, Keystone\'s reason in the details, and no session', async (t) => {
  await badPassword(t, 'en-US', en);
});

test('osweb: bad password in Korean (ko-KR): the Korean sentence; switching language re-renders it', async (t) => {
  const page = await badPassword(t, 'ko-KR', ko);
  assert(await page.evaluate(() => document.documentElement.lang) === 'ko', 'the page is Korean');
  await page.evaluate(async () => (await import('./i18n/index.js')).setLang('en'));
  const text = await page.locator(tid('login-error')).innerText();
  assert(text.includes(en['api.unauthorized']), `re-rendered in English: ${text}`);
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
  // At 1100 px the flavor's field takes the form's width: its text is not cut off.
  const flavorFit = await page.evaluate(() => {
    const sel = document.querySelector('#launch-flavor');
    const ctx = document.createElement('canvas').getContext('2d');
    const cs = getComputedStyle(sel);
    ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const text = sel.selectedOptions[0].textContent;
    return { text, needed: Math.ceil(ctx.measureText(text).width) + 32, has: sel.clientWidth, labelled: sel.labels.length > 0 };
  });
  assert(flavorFit.needed <= flavorFit.has && flavorFit.labelled, `the flavor select shows its text in full: ${JSON.stringify(flavorFit)}`);
  assert((await page.locator('#launch-flavor-hint').innerText()).includes(`Chosen: ${flavorFit.text}.`), 'the hint names the chosen flavor');
  // Nova's refusal is shown as it came: a network without a subnet.
  await page.waitForFunction((id) => [...document.querySelector('#launch-network').options].some((o) => o.value === id), bare.id, { timeout: 10000 });
  await page.locator('#launch-network').selectOption(bare.id);
  await page.locator(`${tid('launch-button')}:enabled`).click();
  const card = page.locator(tid('review'));
  await card.waitFor({ state: 'visible', timeout: 15000 });
  const reviewText = await card.innerText();
  assert(reviewText.includes(`server ${await page.locator('#launch-name').inputValue()}`) && /flavor stack\.tiny/.test(reviewText) && reviewText.includes(`network ${bare.name}`) && /security groups default/.test(reviewText),
    `the launch review names server, flavor, network and groups: ${reviewText}`);
  await confirmReview(page);
  await page.waitForFunction(() => document.querySelector('[data-testid=server-status]').dataset.status === 'ERROR', null, { timeout: 60000 });
  const refused = await page.locator(tid('server-status')).innerText();
  const osErr = await page.locator(tid('os-error')).innerText();
  const osErrAll = await page.locator(tid('os-error')).textContent();
  const statusAll = await page.locator(tid('server-status')).textContent();
  assert(refused.includes(en['cloud.server.refused']) && osErr.includes(en['api.bad_request']), `the plain sentences shown: ${refused} / ${osErr}`);
  assert(/requires a subnet/.test(statusAll) && /HTTP 400/.test(osErrAll) && /requires a subnet/.test(osErrAll), `Nova's error in the details: ${statusAll} / ${osErrAll}`);
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
  const proxy = await h2Proxy(worker.base, TMP);
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
  const fallback = await r.row.getAttribute('data-fallback');
  assert(r.pathTaken === 'file' && hint.includes(en['cloud.upload.why.stream_refused']) && fallback, `fell back to the file path: ${r.pathTaken}: ${hint} (${fallback})`);
  assert(r.match === 'true', `data-hash-match=${r.match}`);
  const creates = s.apiCalls.filter((c) => c === 'POST /api/images').length;
  assert(creates === 1, `the queued image was reused, not a second one made: ${creates} creations`);
  t.note(`send ${r.sendSecs.toFixed(1)} s: ${hint}`);
  await checkImage(t, r);
});

test('osweb: a Convert\'s output kept in browser storage, sent after a reload: its SHA-512 computed first (the Convert did not), matches Glance', async (t) => {
  const s = await open(t, `${worker.base}/`);
  const { page } = s;
  await feed(page, [FIXTURE]);
  await page.locator(tid('format-select')).selectOption('qcow2');
  await page.locator(`${tid('convert-button')}:enabled`).click({ timeout: 15000 });
  await page.waitForSelector(`${tid('progress')}[data-state=done], ${tid('progress')}[data-state=error]`, { timeout: 120000 });
  assert(await page.locator(tid('sha512-compute')).isVisible(), 'the Convert left the SHA-512 to be computed on request');
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await login(page, ADMIN_PASSWORD);
  await page.locator(tid('session')).waitFor({ timeout: 30000 });
  const item = page.locator(tid('stored-item')).first();
  await item.locator(`${tid('stored-send')}:enabled`).click({ timeout: 15000 });
  await confirmReview(page);
  await page.waitForSelector(`${tid('image-status')}[data-hash-match], ${tid('os-error')}:visible`, { timeout: 180000 });
  const err = await page.locator(`${tid('os-error')}:visible`).count() ? await page.locator(tid('os-error')).textContent() : '';
  const status = page.locator(tid('image-status')).first();
  const imageId = await status.getAttribute('data-image-id');
  if (imageId) made.images.push(imageId);
  assert(!err, `no error: ${err}`);
  assert((await status.getAttribute('data-hash-match')) === 'true', `Glance's hash is the one computed before sending: ${await status.innerText()}`);
  const sha512 = (await status.locator('.mono').textContent()).replace(/^sha512 /, '');
  // Computed once: kept in the output's sidecar for a next Send.
  const sidecar = await opfsSidecar(page);
  assert(sidecar && sidecar.sha512 === sha512, `the sidecar keeps it: ${JSON.stringify(sidecar)}`);
  await checkImage(t, { imageId, sha512, src: FIXTURE });
});

test('osweb: the review before Send names what will be created; Escape and Back create nothing', async (t) => {
  const s = await open(t, `${worker.base}/`);
  const { page } = s;
  await login(page, ADMIN_PASSWORD);
  await page.waitForSelector(`${tid('session')}:visible`, { timeout: 30000 });
  await feed(page, [FIXTURE]);
  const glanceIds = async () => new Set((await osCall(admin, 'GET', `${admin.glance}/images?limit=1000`)).json.images.map((i) => i.id));
  const before = await glanceIds();
  const send = page.locator(`${tid('send-button')}:enabled`);
  const card = page.locator(tid('review'));
  await send.click();
  await card.waitFor({ state: 'visible', timeout: 15000 });
  const dialog = await page.evaluate(() => {
    const d = document.querySelector('[data-testid=review]');
    const label = document.getElementById(d.getAttribute('aria-labelledby') || '');
    return { tag: d.tagName, modal: d.matches(':modal'), label: label && label.textContent, focused: document.activeElement && document.activeElement.dataset.testid };
  });
  assert(dialog.tag === 'DIALOG' && dialog.modal, `a modal dialog: ${JSON.stringify(dialog)}`);
  assert(dialog.label === en['cloud.review.send.title'], `labelled by its heading: ${JSON.stringify(dialog)}`);
  assert(dialog.focused === 'review-confirm', `Confirm has the focus: ${JSON.stringify(dialog)}`);
  const text = await card.innerText();
  assert(/image \S+ \(QCOW2, virtual size [\d.,]+ \w+, min_disk 1\b/.test(text), `the image, its format and min_disk: ${text}`);
  assert(/→ project admin \(region [^)]+\)/.test(text), `where it goes: ${text}`);
  t.note(`review: ${text.replace(/\s+/g, ' ')}`);
  // Escape is Back: the card goes, the focus returns to Send.
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached', timeout: 5000 });
  assert(await page.evaluate(() => document.activeElement && document.activeElement.dataset.testid) === 'send-button', 'the focus is back on Send');
  // Back, by its button.
  await send.click();
  await card.waitFor({ state: 'visible', timeout: 15000 });
  await card.locator(tid('review-back')).click();
  await card.waitFor({ state: 'detached', timeout: 5000 });
  await page.waitForTimeout(1500);
  const created = s.apiCalls.filter((c) => /^(POST|PUT) \/api\/images/.test(c));
  assert(!created.length, `nothing sent to the API: ${created.join(', ')}`);
  const after = await glanceIds();
  const fresh = [...after].filter((id) => !before.has(id));
  made.images.push(...fresh);
  assert(!fresh.length, `no image created in Glance: ${fresh.join(', ')}`);
  assert(await page.locator('#upload-progress .upload').count() === 0, 'no upload row');
  assert(await page.locator(tid('progress')).getAttribute('data-state') !== 'running', 'no conversion running');
  assert(await send.isEnabled(), 'Send can be pressed again');
});

/**
 * Texts the cloud area renders that are still in English on a Korean page: Latin words left once
 * identifiers (anything with a digit, dot, dash or underscore: ids, sizes, file and property
 * names), the names in `names` and the product words the page keeps are taken out.
 */
function englishLeft(texts, names) {
  const keep = new Set(['QCOW2', 'Glance', 'Nova', 'Keystone', 'OpenStack', 'VMware', 'vCPU', 'RAM', 'GiB', 'MiB', 'KiB', 'B', 'HTTP', ...names]);
  const left = [];
  for (const text of texts) {
    let rest = text;
    for (const n of [...names].sort((a, b) => b.length - a.length)) rest = rest.split(n).join(' ');
    for (const w of rest.split(/[\s(),:;·→…/]+/)) {
      if (!w || /[\d._-]/.test(w)) continue;
      // Korean particles attach to names ("Glance에"): the Latin runs are what count.
      for (const latin of w.match(/[A-Za-z]+/g) || []) if (!keep.has(latin)) left.push(latin);
    }
  }
  return [...new Set(left)];
}

test('osweb: Korean (ko-KR) on a phone (390×844): login, the reviews, send and launch read in Korean and fit', async (t) => {
  const s = await open(t, `${worker.base}/`, { locale: 'ko-KR', viewport: { width: 390, height: 844 } });
  const { page } = s;
  const record = (p) => p.evaluate(() => {
    // Every review card's text as it opens (loginConvertSend and launchServer confirm them).
    window.__reviews = [];
    window.__reviewRects = [];
    new MutationObserver((list) => {
      for (const m of list) {
        for (const n of m.addedNodes) {
          if (!n.dataset || n.dataset.testid !== 'review') continue;
          window.__reviews.push(n.innerText || n.textContent);
          requestAnimationFrame(() => window.__reviewRects.push(n.getBoundingClientRect().toJSON()));
        }
      }
    }).observe(document.body, { childList: true });
  });
  const r = await loginConvertSend(t, page, FIXTURE, { steps: { loggedIn: record } });
  assert(r.match === 'true', `data-hash-match=${r.match}`);
  await page.waitForSelector('#launch:visible', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#launch-flavor').options.length > 0, null, { timeout: 30000 });
  const serverName = `osweb-ko-${SUFFIX}`;
  const l = await launchServer(page, { networkId: net.id, name: serverName, flavorId: 'stack-tiny' });
  assert(l.status === 'ACTIVE' && l.text.includes(ko['cloud.server.state.ACTIVE']), `server ACTIVE, said in Korean: ${l.text}`);
  await page.waitForSelector('[data-testid=console-link], [data-testid=console-reason]', { timeout: 30000 });
  await page.waitForSelector('#after-launch:visible', { timeout: 30000 });
  const shown = await page.evaluate(() => {
    const text = (sel) => [...document.querySelectorAll(sel)].map((el) => el.innerText).filter((x) => x && x.trim());
    const options = (id) => [...document.getElementById(id).options].map((o) => o.textContent);
    return {
      session: text('#session p'), rows: text('#upload-progress .upload'), images: text('#images .image-status'),
      hint: text('#launch-flavor-hint'), flavors: options('launch-flavor'), networks: options('launch-network'),
      keypairs: options('launch-keypair'), groups: text('#launch-groups'), status: text('#server-status'), console: text('#console'),
      after: text('#after-launch-steps li'), reviews: window.__reviews,
    };
  });
  assert(shown.reviews.length === 2, `two reviews (send, launch) seen: ${shown.reviews.length}`);
  assert(shown.reviews[0].includes(ko['cloud.review.send.title']) && shown.reviews[0].includes('→ 프로젝트 admin'), `the send review in Korean: ${shown.reviews[0]}`);
  assert(shown.reviews[1].includes(`서버 ${serverName}`) && shown.reviews[1].includes('플레이버 stack.tiny'), `the launch review in Korean: ${shown.reviews[1]}`);
  const glanceName = (await osCall(admin, 'GET', `${admin.glance}/images/${r.imageId}`)).json.name;
  const region = await page.locator('#session-region').innerText();
  const names = new Set(['admin', 'Default', glanceName, serverName, region]);
  const listed = async (url, key) => ((await osCall(admin, 'GET', url)).json || {})[key] || [];
  for (const f of await listed(`${admin.nova}/flavors`, 'flavors')) names.add(f.name);
  for (const k of await listed(`${admin.nova}/os-keypairs`, 'keypairs')) names.add(k.keypair.name);
  for (const x of await listed(`${admin.neutron}/networks`, 'networks')) names.add(x.name);
  for (const g of await listed(`${admin.neutron}/security-groups`, 'security_groups')) names.add(g.name);
  const texts = Object.values(shown).flat();
  const left = englishLeft(texts, names);
  assert(!left.length, `English left on the Korean page: ${left.join(', ')}\n${texts.join('\n')}`);
  for (const [k, v] of Object.entries(shown)) {
    if (k === 'groups') continue; // names only
    // A picker's options may be bare names; its own words (the "none" choice, notes) are Korean.
    const some = ['flavors', 'networks', 'keypairs'].includes(k);
    assert(v.length && v[some ? 'some' : 'every']((x) => /\p{Script=Hangul}/u.test(x)), `${k} in Korean: ${JSON.stringify(v)}`);
  }
  assert(/\d{4}년/.test(shown.session[0]), `the expiry as a Korean date: ${shown.session[0]}`);
  if (process.env.OSWEB_SCREENSHOT_KO) await page.locator('#launch').screenshot({ path: process.env.OSWEB_SCREENSHOT_KO });
  // Nothing cut off on the phone: the reviews within the screen, the launch pickers within their card.
  const fit = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const card = document.querySelector('#launch').closest('.card').getBoundingClientRect();
    const pickers = [...document.querySelectorAll('#launch select, #launch input[type=text]')].map((el) => {
      const r = el.getBoundingClientRect();
      return { id: el.id, left: r.left, right: r.right, labelled: el.labels.length > 0 && !!el.labels[0].textContent.trim() };
    });
    // The chosen flavor's text is not cut off: it fits the select (less its padding and arrow).
    const sel = document.querySelector('#launch-flavor');
    const ctx = document.createElement('canvas').getContext('2d');
    const cs = getComputedStyle(sel);
    ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const flavor = { text: sel.selectedOptions[0].textContent, needed: Math.ceil(ctx.measureText(sel.selectedOptions[0].textContent).width) + 32, has: sel.clientWidth };
    return { width, card: { left: card.left, right: card.right }, pickers, reviews: window.__reviewRects, flavor };
  });
  for (const p of fit.pickers) {
    assert(p.left >= fit.card.left && p.right <= fit.card.right + 0.5 && p.right <= fit.width, `#${p.id} within its card and the screen: ${JSON.stringify(fit)}`);
    assert(p.labelled, `#${p.id} has a label`);
  }
  // A phone's select shows the start of the text: the hint under it names the chosen flavor in full.
  assert(shown.hint[0].includes(fit.flavor.text), `the chosen flavor is read in full: ${JSON.stringify(fit.flavor)} / ${shown.hint[0]}`);
  t.note(`flavor select: ${JSON.stringify(fit.flavor)}`);
  assert(fit.reviews.length === 2 && fit.reviews.every((r) => r.left >= 0 && r.right <= fit.width && r.width > 0), `the review cards fit the screen: ${JSON.stringify(fit.reviews)}`);
  t.note(`Korean: ${shown.status[0].replace(/\s+/g, ' ')} | ${shown.rows[0].replace(/\s+/g, ' ')}`);
});

// Staged uploads through a body limit (issue 10): their own worker, under wrangler dev.
const staged = stagedTests({ tmp: TMP, made, admin: () => admin, open, checkImage });
tests.push(...staged.tests);

// Whole VMs (issue 12): data disks as Cinder volumes, boot from volume, the quota preflight.
tests.push(...volumesTests({
  tmp: TMP, made, admin: () => admin, net: () => net, base: () => worker.base, suffix: SUFFIX, open, launchServer, makeFlavor, cinderCall,
}).tests);

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
  await staged.stop();
  return deleteMade();
}

runSuite('osweb', { tests, setUp, tearDown, tmp: TMP, keepTmp: !!process.env.WEB_KEEP_TMP });
