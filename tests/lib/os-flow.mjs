// The page against real OpenStack, step by step, as the suites that drive it share it
// (web/tests/openstack.test.mjs, tests/e2e/browser.test.mjs): a fresh Chromium profile on the
// page, the login form, feeding files, Send (convert + upload + hash check), Glance's record
// and bytes of the image, a launch through the page, and deleting what a suite made.
// Everything goes through the page's data-testid hooks (and the launch form's fields); the
// admin token (tests/lib/edge-worker.mjs) is used only to check and clean up.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sha512File } from './cli.mjs';
import { ADMIN_PASSWORD, KEYSTONE, Worker, os as osCall } from './edge-worker.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const tid = (id) => `[data-testid="${id}"]`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** workerd serving web/dist and the edge worker (the harness's Worker); it ends with this process. */
export async function startWorker(overrides, options) {
  const worker = new Worker();
  process.on('exit', () => { if (worker.proc && worker.proc.exitCode === null) worker.proc.kill('SIGKILL'); });
  await worker.start(overrides, options);
  return worker;
}

/** Fill and submit the login form (password method); `beforeSubmit(page)` runs once it is filled. */
export async function login(page, password, { user = 'admin', project = 'admin', beforeSubmit } = {}) {
  const form = page.locator(tid('login-form'));
  assert(await form.isVisible(), 'login form shown');
  await form.locator('input[name=username]').fill(user);
  await form.locator('input[name=password]').fill(password);
  await form.locator('input[name=project]').fill(project);
  if (beforeSubmit) await beforeSubmit(page);
  await form.locator('button[type=submit]').click();
}

/**
 * The review card shown before the page creates anything in OpenStack (Send, Launch): it opens
 * with Confirm focused; confirm it and wait until it is gone.
 */
export async function confirmReview(page) {
  const card = page.locator(tid('review'));
  await card.waitFor({ state: 'visible', timeout: 15000 });
  await page.waitForFunction(() => document.activeElement && document.activeElement.dataset.testid === 'review-confirm', null, { timeout: 5000 });
  await card.locator(tid('review-confirm')).click();
  await card.waitFor({ state: 'detached', timeout: 5000 });
}

/** The first output sidecar (web/src/save.js) in the page's browser storage, parsed, or null. */
export function opfsSidecar(page) {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    for await (const [name, h] of root.entries()) if (name.endsWith('.meta.json')) return JSON.parse(await (await h.getFile()).text());
    return null;
  });
}

/** Give the page files through its file input and wait until it has inspected them. */
export async function feed(page, files) {
  const before = Number(await page.evaluate(() => document.body.dataset.inspected || 0));
  await page.locator(tid('file-input')).setInputFiles(files);
  await page.waitForFunction((n) => Number(document.body.dataset.inspected || 0) > n, before, { timeout: 60000 });
}

/**
 * The flow bound to one suite's scratch dir `tmp`, its record `made` ({servers, images,
 * networks, flavors, appcreds}: what it created in OpenStack) and `admin()` (the admin token
 * from the harness's adminToken(), once set up).
 */
export function osFlow({ tmp, made, admin }) {
  /** A fresh browser profile (its directory `udd`) with the page loaded from `base`. */
  async function open(t, base, { https = false, viewport = { width: 1100, height: 1000 }, locale } = {}) {
    const udd = fs.mkdtempSync(path.join(tmp, 'profile-'));
    const ctx = await chromium.launchPersistentContext(udd, {
      executablePath: CHROMIUM, headless: true, args: https ? [...ARGS, '--ignore-certificate-errors'] : ARGS,
      ignoreHTTPSErrors: https, viewport, locale,
      // The suite's own SIGINT/SIGTERM handling cleans up (runSuite); Playwright's would exit first.
      handleSIGINT: false, handleSIGTERM: false,
    });
    t.cleanup.push(() => ctx.close());
    const page = ctx.pages()[0] || await ctx.newPage();
    const origin = new URL(base).origin;
    const s = { ctx, page, udd, foreign: [], pageErrors: [], apiCalls: [] };
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')) s.foreign.push(u);
      if (u.startsWith(`${origin}/api/`)) s.apiCalls.push(`${r.method()} ${u.slice(origin.length)}`);
    });
    page.on('pageerror', (e) => s.pageErrors.push(e.message));
    await page.goto(base);
    await page.waitForSelector('body[data-ready=true]');
    await page.waitForSelector('body[data-openstack]');
    assert(await page.evaluate(() => document.body.dataset.openstack) === 'available', 'the page finds the API');
    t.after.push(() => {
      assert(!s.foreign.length, `requests outside our origin: ${s.foreign.join(', ')}`);
      assert(!s.pageErrors.length, `uncaught page errors: ${s.pageErrors.join('; ')}`);
    });
    return s;
  }

  /**
   * Log in, feed `src`, Send as QCOW2; resolves to what the page and Glance say about the image.
   * `steps` (optional, each awaited): loginFilled(page) before the login is submitted,
   * loggedIn(page), fed(page) after inspection, converting(page) once the conversion runs. `expectError`: a failed Send resolves ({error}) instead of
   * throwing, for negative tests. `timeout`: ms the Send may take (multi-GB disks: web/bench.mjs).
   */
  async function loginConvertSend(t, page, src, { steps = {}, expectError = false, timeout = 180000 } = {}) {
    await login(page, ADMIN_PASSWORD, { beforeSubmit: steps.loginFilled });
    await page.waitForSelector(`${tid('session')}:visible, ${tid('login-error')}:visible`, { timeout: 30000 });
    const loginErr = await page.locator(tid('login-error')).isVisible() ? await page.locator(tid('login-error')).innerText() : '';
    assert(!loginErr, `logged in: ${loginErr}`);
    const sessionText = await page.locator(tid('session')).innerText();
    const [user, project] = [await page.locator('#session-user').innerText(), await page.locator('#session-project').innerText()];
    assert(/admin/.test(user) && project === 'admin' && sessionText.includes(project), `user and project shown: ${sessionText}`);
    assert(/\d{4}|\d:\d\d/.test(await page.locator('#session-expiry').innerText()), 'expiry shown');
    assert(await page.locator('input[name=password]').inputValue() === '', 'the password is not kept in the form');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    assert(!stored.includes(ADMIN_PASSWORD), 'the password is in no storage the page can read');
    assert(!/sf_session/.test(stored), 'the session cookie is not readable by the page (HttpOnly)');
    if (steps.loggedIn) await steps.loggedIn(page);

    await feed(page, [src]);
    if (steps.fed) await steps.fed(page);
    await page.locator(tid('format-select')).selectOption('qcow2');
    // Whether bytes went out while the converter was still writing: seen from the page's own
    // progress (both numbers come from the same converter message).
    await page.evaluate(() => {
      window.__overlap = { seen: 0, during: 0 };
      new MutationObserver(() => {
        const up = document.querySelector('#upload-progress .upload');
        const conv = document.querySelector('[data-testid=progress] .disk');
        if (!up || !conv || !up.dataset.sent) return;
        window.__overlap.seen++;
        if (Number(up.dataset.sent) > 0 && Number(conv.dataset.bytesOut || 0) < Number(up.dataset.total)) window.__overlap.during++;
      }).observe(document.querySelector('#upload-progress'), { attributes: true, subtree: true, attributeFilter: ['data-sent'] });
    });
    const t0 = Date.now();
    await page.locator(`${tid('send-button')}:enabled`).click({ timeout: 15000 });
    await confirmReview(page);
    const done = `${tid('image-status')}[data-hash-match], ${tid('os-error')}:visible, ${tid('progress')}[data-state=error]`;
    if (steps.converting) {
      // The conversion running (or already over: a small disk can finish between two polls).
      await page.waitForSelector(`${tid('progress')} .disk[data-state=running], ${done}`, { timeout });
      await steps.converting(page);
    }
    await page.waitForSelector(done, { timeout });
    // Errors may be shown in several places (beside their input, or the page's list): all of
    // the visible ones, with their folded details (file, offset).
    const shown = async (id) => (await page.locator(`${tid(id)}:visible`).allTextContents()).join('\n');
    const osError = await shown('os-error') || (await page.locator(tid('image-status')).count() ? '' : await shown('error') || 'the Send failed');
    const imageIdOf = async (sel) => page.locator(sel).first().getAttribute('data-image-id', { timeout: 1000 }).catch(() => null);
    if (osError) {
      // The page deletes the image of a failed Send; an id it shows is still recorded.
      const id = await imageIdOf('#upload-progress .upload[data-image-id]');
      if (id) made.images.push(id);
      if (expectError) return { error: osError, imageId: id, sendSecs: (Date.now() - t0) / 1000, src };
      assert(false, `no OpenStack error: ${osError}`);
    }
    const sendSecs = (Date.now() - t0) / 1000;
    const status = page.locator(tid('image-status')).first();
    const imageId = await status.getAttribute('data-image-id');
    made.images.push(imageId);
    const match = await status.getAttribute('data-hash-match');
    const progress = page.locator(tid('upload-progress'));
    const pathTaken = await progress.getAttribute('data-path');
    const row = progress.locator('.upload').first();
    const sha512 = await page.locator(tid('result')).getAttribute('data-sha512');
    const overlap = await page.evaluate(() => window.__overlap);
    return { imageId, match, pathTaken, sha512, sendSecs, sent: await row.getAttribute('data-sent'), total: await row.getAttribute('data-total'), row, overlap, src };
  }

  /**
   * Glance's record and bytes of the image agree with the page and with `reference` (a disk
   * qemu-img reads; default the source). Resolves to {file, image}: the downloaded copy (kept
   * only with `keep`, else deleted at the test's end) and Glance's record.
   */
  async function checkImage(t, { imageId, sha512, src }, { reference = src, keep = false } = {}) {
    const a = admin();
    const g = await osCall(a, 'GET', `${a.glance}/images/${imageId}`);
    assert(g.status === 200, `image in Glance: ${g.text}`);
    assert(g.json.status === 'active', `image active: ${g.json.status}`);
    assert(g.json.disk_format === 'qcow2' && g.json.container_format === 'bare', `formats: ${g.json.disk_format}/${g.json.container_format}`);
    assert(g.json.min_disk === 1, `min_disk from the virtual size (≤ 1 GiB → 1): ${g.json.min_disk}`);
    assert(g.json.os_hash_algo === 'sha512' && g.json.os_hash_value === sha512, `Glance's os_hash_value is the page's SHA-512: ${g.json.os_hash_value} vs ${sha512}`);
    // The bytes Glance holds are the source disk, converted.
    const r = await fetch(`${a.glance}/images/${imageId}/file`, { headers: { 'X-Auth-Token': a.token } });
    assert(r.status === 200, `image download: ${r.status}`);
    const file = path.join(tmp, `${imageId}.qcow2`);
    fs.writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    if (!keep) t.cleanup.push(async () => fs.rmSync(file, { force: true }));
    assert(await sha512File(file) === sha512, 'downloaded bytes hash to the same SHA-512');
    const cmp = execFileSync('qemu-img', ['compare', reference, file], { encoding: 'utf8' });
    assert(/identical/.test(cmp), `qemu-img compare with the source: ${cmp}`);
    const chk = execFileSync('qemu-img', ['check', file], { encoding: 'utf8' });
    assert(/No errors were found/.test(chk), `qemu-img check: ${chk}`);
    t.note(`image ${imageId}: active, ${g.json.size} bytes, os_hash_value = page SHA-512, qemu-img compare identical`);
    return { file, image: g.json };
  }

  /**
   * Launch from the page's launch form on `networkId` with the flavor it has selected (or
   * `flavorId`), named `name`; waits for ACTIVE or ERROR. Resolves to {serverId, status, text, secs}.
   */
  async function launchServer(page, { networkId, name, flavorId }) {
    if (flavorId) await page.locator('#launch-flavor').selectOption(flavorId);
    await page.waitForFunction((id) => [...document.querySelector('#launch-network').options].some((o) => o.value === id), networkId, { timeout: 10000 });
    await page.locator('#launch-network').selectOption(networkId);
    await page.locator('#launch-name').fill(name);
    const t0 = Date.now();
    await page.locator(`${tid('launch-button')}:enabled`).click();
    await confirmReview(page);
    await page.waitForFunction(() => document.querySelector('[data-testid=server-status]').dataset.serverId, null, { timeout: 30000 });
    const serverId = await page.locator(tid('server-status')).getAttribute('data-server-id');
    made.servers.push(serverId);
    await page.waitForFunction(() => ['ACTIVE', 'ERROR'].includes(document.querySelector('[data-testid=server-status]').dataset.status), null, { timeout: 240000 });
    const st = page.locator(tid('server-status'));
    const text = await st.innerText();
    assert(!/\b(null|undefined|NaN)\b|\{[a-z_]+\}/.test(text), `the server's line shows no missing value or unfilled placeholder: ${text}`);
    return { serverId, status: await st.getAttribute('data-status'), text, secs: (Date.now() - t0) / 1000 };
  }

  /** A Neutron network (with an IPv4 subnet when `cidr` is given), recorded in `made`. */
  async function makeNetwork(name, cidr) {
    const a = admin();
    const n = await osCall(a, 'POST', `${a.neutron}/networks`, { network: { name } });
    assert(n.status === 201, `network ${name}: ${n.text}`);
    made.networks.push(n.json.network.id);
    if (cidr) {
      const sn = await osCall(a, 'POST', `${a.neutron}/subnets`, { subnet: { network_id: n.json.network.id, ip_version: 4, cidr, name: `${name}-subnet` } });
      assert(sn.status === 201, `subnet ${cidr}: ${sn.text}`);
    }
    return n.json.network;
  }

  /** A Nova flavor ({name, vcpus, ram, disk}), recorded in `made`. */
  async function makeFlavor(flavor) {
    const a = admin();
    const r = await osCall(a, 'POST', `${a.nova}/flavors`, { flavor });
    assert(r.status === 200, `flavor ${flavor.name}: ${r.text}`);
    made.flavors.push(r.json.flavor.id);
    return r.json.flavor;
  }

  async function deleteServer(id) {
    const a = admin();
    await osCall(a, 'DELETE', `${a.nova}/servers/${id}`);
    const t0 = Date.now();
    while (Date.now() - t0 < 60000) {
      if ((await osCall(a, 'GET', `${a.nova}/servers/${id}`)).status === 404) return true;
      await sleep(1000);
    }
    return false;
  }

  /**
   * A call to Cinder as the admin (`p` under the harness's `admin.cinder`), with a volume
   * microversion (Cinder refuses the compute one the harness's calls carry).
   */
  async function cinderCall(method, p, body) {
    return osCall(admin(), method, `${admin().cinder}${p}`, body, { 'OpenStack-API-Version': 'volume 3.3' });
  }

  /** Delete Cinder volume `id`, waiting while it is still attached or being made; whether it went. */
  async function deleteVolume(id) {
    const t0 = Date.now();
    while (Date.now() - t0 < 120000) {
      const r = await cinderCall('DELETE', `/volumes/${id}`);
      if ([202, 204, 404].includes(r.status)) return true;
      await sleep(2000);
    }
    return false;
  }

  /**
   * Delete everything in `made` and empty it; resolves to what was deleted, throws naming what
   * could not be.
   */
  async function deleteMade() {
    const a = admin();
    if (!a) return '';
    const note = Object.entries(made).filter(([, ids]) => ids.length).map(([k, ids]) => `${ids.length} ${k}`).join(', ');
    const left = [];
    for (const id of made.servers || []) if (!await deleteServer(id)) left.push(`server ${id}`);
    for (const id of made.volumes || []) if (!await deleteVolume(id)) left.push(`volume ${id}`);
    for (const id of made.images || []) {
      const r = await osCall(a, 'DELETE', `${a.glance}/images/${id}`);
      // An image the page deleted may still be listed to the admin as `deleted` (Glance refuses a second delete).
      if (![204, 404].includes(r.status) && (await osCall(a, 'GET', `${a.glance}/images/${id}`)).json?.status !== 'deleted') left.push(`image ${id}`);
    }
    for (const id of made.networks || []) await osCall(a, 'DELETE', `${a.neutron}/networks/${id}`);
    for (const id of made.flavors || []) await osCall(a, 'DELETE', `${a.nova}/flavors/${id}`);
    for (const id of made.appcreds || []) await osCall(a, 'DELETE', `${KEYSTONE}/users/${a.user.id}/application_credentials/${id}`);
    if (left.length) throw new Error(`could not delete ${left.join(', ')}`);
    for (const ids of Object.values(made)) ids.length = 0;
    return note ? `${note} deleted` : 'nothing to delete';
  }

  return { open, loginConvertSend, checkImage, launchServer, makeNetwork, makeFlavor, deleteServer, deleteMade, cinderCall };
}
