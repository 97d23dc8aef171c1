// The page's staged uploads (issue 10; web/src/openstack/staged.js) against the real worker and
// cloud: the edge worker under `wrangler dev` (its local R2 is the STAGING bucket) with
// REQUEST_BODY_MAX_BYTES at 8 MiB, so that a ~40 MB converted disk goes in many parts, and
// Glance importing them with web-download. Faults are the test's own, injected with
// Playwright's page.route: the page and the worker are the real ones.
//
// Run by web/tests/openstack.test.mjs (`node web/tests/openstack.test.mjs "osweb staged"`). A
// worker that answers no `upload` field in its session (one without staged uploads) makes
// every test here say so and pass without sending. The last test needs no bucket: workerd
// with the same limit refuses, before converting, an image larger than one request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, confirmReview, feed, login, sleep, startWorker, tid } from '../../tests/lib/os-flow.mjs';
import { ADMIN_PASSWORD, api as workerApi, login as workerLogin, os as osCall } from '../../tests/lib/edge-worker.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The body limit the worker is started with: parts of at most this. */
const BODY_MAX = 8 * 1048576;
/** The generated disk: its data converts to a ~40 MB QCOW2. */
const VIRTUAL_MIB = Number(process.env.OSWEB_STAGED_VIRTUAL_MIB || 64);
const DATA_MIB = Number(process.env.OSWEB_STAGED_DATA_MIB || 40);
const PART_PUT = /\/api\/images\/([0-9a-f-]{36})\/staged\/(\d+)$/;

/**
 * The staged tests, bound to the suite's scratch dir `tmp`, its record `made`, `admin()` and
 * the flow's `open` and `checkImage` (tests/lib/os-flow.mjs). Returns `{tests, stop}`: `stop()`
 * ends the worker they started (the suite's tear-down calls it).
 */
export function stagedTests({ tmp, made, admin, open, checkImage }) {
  let worker = null;
  let upload;
  /** workerd with the same body limit and no staging bucket, and its session's `upload` field. */
  let limited = null;
  let limitedUpload;
  let disk = null;

  /** The wrangler worker with the body limit, once; resolves to its session's `upload` field. */
  async function ready() {
    if (!worker) {
      // `wrangler dev`: the R2 binding of wrangler.toml, a local bucket.
      worker = await startWorker({ LOGIN_MAX_ATTEMPTS: '50', REQUEST_BODY_MAX_BYTES: String(BODY_MAX) }, { runtime: 'wrangler' });
      const { cookie } = await workerLogin(worker);
      assert(cookie, 'the harness logs in to the staged worker');
      upload = (await workerApi(worker, 'GET', '/api/session', { cookie })).json.upload;
    }
    return upload;
  }

  /** workerd (no R2 bucket: no staging) with the body limit, once; resolves to its `upload` field. */
  async function readyLimited() {
    if (!limited) {
      limited = await startWorker({ LOGIN_MAX_ATTEMPTS: '50', REQUEST_BODY_MAX_BYTES: String(BODY_MAX) });
      const { cookie } = await workerLogin(limited);
      assert(cookie, 'the harness logs in to the limited worker');
      limitedUpload = (await workerApi(limited, 'GET', '/api/session', { cookie })).json.upload;
    }
    return limitedUpload;
  }

  /** A streamOptimized VMDK of DATA_MIB MiB of data (made once). */
  function source() {
    if (!disk) {
      const raw = path.join(tmp, 'staged.raw');
      disk = path.join(tmp, 'staged.vmdk');
      execFileSync('python3', [path.join(HERE, 'make-disk.py'), raw, String(VIRTUAL_MIB), String(DATA_MIB), '11']);
      execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, disk]);
      fs.rmSync(raw);
    }
    return disk;
  }

  /** A test that says so and sends nothing when the worker has no staged uploads. */
  const tests = [];
  const test = (name, fn) => tests.push({
    name,
    fn: async (t) => {
      t.diagnose.push(() => [`the staged worker's last log lines (${worker ? worker.runtime : 'not started'}):`, ...(worker ? worker.logs.slice(-25) : [])]);
      const up = await ready();
      if (!up || !up.staged || up.body_max == null) {
        t.note(`skipped: the worker answers no staged upload field (upload = ${JSON.stringify(up)})`);
        return;
      }
      assert(up.body_max === BODY_MAX, `the worker says its body limit: ${JSON.stringify(up)}`);
      await fn(t);
    },
  });

  /**
   * A page on the staged worker, logged in, the disk given and Send confirmed. Resolves to the
   * session and `puts`: every part PUT seen, as `{n, load, at}` (`load`: the page load it came
   * from; `at`: when, ms).
   */
  async function sendStaged(t, { route, base = worker.base } = {}) {
    const s = await open(t, `${base}/`);
    const { page } = s;
    s.puts = [];
    // Which page load a request comes from (the reloaded page sends nothing before its load
    // event: parts go only once Resume is pressed).
    s.loads = 1;
    page.on('load', () => { s.loads++; });
    page.on('request', (r) => {
      const m = r.method() === 'PUT' && PART_PUT.exec(r.url());
      if (m) s.puts.push({ n: Number(m[2]), load: s.loads, at: Date.now() });
    });
    // A reload asks "leave the page?" while the upload runs: the test leaves.
    page.on('dialog', (d) => d.accept().catch(() => {}));
    if (route) await page.route(PART_PUT, route);
    await login(page, ADMIN_PASSWORD);
    await page.waitForSelector(`${tid('session')}:visible`, { timeout: 30000 });
    await feed(page, [source()]);
    await page.locator(tid('format-select')).selectOption('qcow2');
    await page.locator(`${tid('send-button')}:enabled`).click({ timeout: 15000 });
    await confirmReview(page);
    return s;
  }

  const done = `${tid('image-status')}[data-hash-match], ${tid('os-error')}:visible`;

  /** The image row's end: the status shown, the image id, the page's SHA-512; its image recorded in `made`. */
  async function ended(page) {
    await page.waitForSelector(done, { timeout: 300000 });
    const err = await page.locator(`${tid('os-error')}:visible`).count() ? await page.locator(tid('os-error')).textContent() : '';
    const row = page.locator('#upload-progress .upload').last();
    const imageId = await row.getAttribute('data-image-id');
    if (imageId) made.images.push(imageId);
    assert(!err, `no error: ${err}`);
    const status = page.locator(tid('image-status')).last();
    return {
      imageId, row, match: await status.getAttribute('data-hash-match'), path: await row.getAttribute('data-path'),
      sha512: (await status.locator('.mono').textContent()).replace(/^sha512 /, ''),
    };
  }

  /** Count per part number. */
  const perPart = (puts) => puts.reduce((m, p) => m.set(p.n, (m.get(p.n) || 0) + 1), new Map());

  /** The part tables the page keeps (localStorage `stackferry.staged.*`). */
  const tables = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('stackferry.staged.')).map((k) => JSON.parse(localStorage.getItem(k))));

  test(`osweb staged: a ${DATA_MIB} MiB disk through an ${BODY_MAX / 1048576} MiB body limit goes in parts; part 2 refused twice (503) then sent; active, hash equal`, async (t) => {
    let refused = 0;
    const s = await sendStaged(t, {
      route: async (route) => {
        const n = Number(PART_PUT.exec(route.request().url())[2]);
        if (n === 2 && refused < 2) {
          refused++;
          await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'upstream_error', detail: 'injected by the test' }) });
          return;
        }
        await route.continue();
      },
    });
    const r = await ended(s.page);
    // From the first part out to the image active (the conversion before it not counted).
    const secs = (Date.now() - s.puts[0].at) / 1000;
    assert(r.path === 'staged', `the page chose the staged path: ${r.path}`);
    assert(r.match === 'true', `data-hash-match=${r.match}`);
    const parts = Number(await s.page.locator(tid('staged-parts')).getAttribute('data-parts'));
    assert(parts >= 5, `many parts: ${parts}`);
    const counts = perPart(s.puts);
    assert(refused === 2 && counts.get(2) === 3, `part 2 tried three times (two refused): ${counts.get(2)}`);
    for (let n = 1; n <= parts; n++) if (n !== 2) assert(counts.get(n) === 1, `part ${n} sent once: ${counts.get(n)}`);
    assert(counts.size === parts, `no part beyond ${parts}: ${[...counts.keys()]}`);
    assert((await tables(s.page)).length === 0, 'no part table left once the image is active');
    const cells = await s.page.locator(`${tid('staged-parts')} .part[data-state=done]`).count();
    assert(cells === parts, `every part shown sent: ${cells}/${parts}`);
    const { image } = await checkImage(t, { imageId: r.imageId, sha512: r.sha512, src: source() });
    t.note(`${parts} parts, 4 at once: ${(image.size / 1e6).toFixed(1)} MB sent and imported in ${secs.toFixed(1)} s (${(image.size / 1e6 / secs).toFixed(1)} MB/s, two injected refusals and their back-off included): ${await r.row.locator('.hint').innerText()}`);
  });

  test('osweb staged: the page reloaded in the middle of an upload lists it, resumes it, sends no part twice; hash equal', async (t) => {
    // Parts slowed down so that the reload lands mid-way.
    const s = await sendStaged(t, { route: async (route) => { await sleep(1500); await route.continue().catch(() => {}); } });
    const { page } = s;
    await page.waitForFunction(() => {
      const p = document.querySelector('[data-testid=staged-parts]');
      return p && Number(p.dataset.done) >= 2 && Number(p.dataset.done) < Number(p.dataset.parts) - 1;
    }, null, { timeout: 300000 });
    const before = await tables(page);
    assert(before.length === 1, `one part table kept: ${before.length}`);
    const imageId = before[0].image_id;
    made.images.push(imageId);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    const item = page.locator(`${tid('staged-item')}[data-image-id="${imageId}"]`);
    await item.waitFor({ state: 'visible', timeout: 30000 });
    const [table] = await tables(page);
    const had = Object.keys(table.etags).map(Number);
    for (const n of Object.keys(before[0].etags).map(Number)) assert(had.includes(n), `part ${n}, recorded before the reload, is still recorded`);
    const text = await item.innerText();
    assert(text.includes(table.name) && Number(await item.getAttribute('data-done')) === had.length && text.includes(`${had.length} of ${table.parts} parts sent`),
      `listed with its name, size and parts done: ${text}`);
    await page.unroute(PART_PUT);
    await page.waitForSelector(`${tid('session')}:visible`, { timeout: 30000 });
    await item.locator(tid('staged-resume')).click();
    const r = await ended(page);
    assert(r.imageId === imageId && r.match === 'true', `the same image, hash equal: ${r.imageId} ${r.match}`);
    assert(await r.row.getAttribute('data-resumed') === 'true', 'the row is the resumed upload');
    const after = perPart(s.puts.filter((p) => p.load === 2));
    const missing = [];
    for (let n = 1; n <= table.parts; n++) if (!had.includes(n)) missing.push(n);
    assert(JSON.stringify([...after.keys()].sort((a, b) => a - b)) === JSON.stringify(missing), `after the reload only the missing parts went: ${[...after.keys()]} vs ${missing}`);
    for (const [n, c] of after) assert(c === 1, `part ${n} sent once after the reload: ${c}`);
    await checkImage(t, { imageId, sha512: r.sha512, src: source() });
    t.note(`${had.length} of ${table.parts} parts recorded at the reload; sent after it: ${missing.join(', ')}`);
  });

  test('osweb staged: Pause sends no new part; Cancel while paused leaves no image in Glance and no part table', async (t) => {
    // Every part but the first waits at a gate opened only once Pause is pressed: however fast
    // the machine, parts are still in flight (and the last not yet started) when it is.
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const s = await sendStaged(t, {
      route: async (route) => {
        if (Number(PART_PUT.exec(route.request().url())[2]) !== 1) await gate;
        await route.continue().catch(() => {});
      },
    });
    const { page } = s;
    await page.waitForFunction(() => {
      const p = document.querySelector('[data-testid=staged-parts]');
      return p && Number(p.dataset.done) >= 1;
    }, null, { timeout: 300000 });
    const imageId = await page.locator('#upload-progress .upload').last().getAttribute('data-image-id');
    made.images.push(imageId);
    await page.locator(tid('staged-pause')).click();
    release();
    await page.waitForFunction(() => document.querySelector('[data-testid=staged-parts]').dataset.state === 'paused', null, { timeout: 60000 });
    const parts = page.locator(tid('staged-parts'));
    const [puts, done] = [s.puts.length, await parts.getAttribute('data-done')];
    await sleep(2500);
    assert(s.puts.length === puts, `no part sent while paused: ${s.puts.length - puts} more`);
    assert(await parts.getAttribute('data-done') === done && Number(done) < Number(await parts.getAttribute('data-parts')), `paused mid-way at ${done}`);
    assert((await page.locator(tid('staged-pause')).innerText()).trim() === 'Resume', 'the button offers Resume');
    await page.locator(tid('cancel-button')).click();
    await page.waitForFunction(() => document.querySelector('#upload-progress .upload:last-child').dataset.state === 'cancelled', null, { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=progress]').dataset.state !== 'running', null, { timeout: 30000 });
    assert((await tables(page)).length === 0, 'no part table left');
    const a = admin();
    let g;
    for (let k = 0; k < 20; k++) {
      g = await osCall(a, 'GET', `${a.glance}/images/${imageId}`);
      if (g.status === 404 || (g.json && g.json.status === 'deleted')) break;
      await sleep(500);
    }
    assert(g.status === 404 || g.json.status === 'deleted', `the image is gone from Glance: ${g.status} ${g.text}`);
    assert(!await page.locator(`${tid('staged-unfinished')}:visible`).count(), 'nothing listed as unfinished');
  });

  // Not behind `ready()`: this one needs no bucket, only workerd with the limit.
  tests.push({ name: 'osweb staged: without staging, an image above the body limit is refused before converting; nothing is created', fn: async (t) => {
    const up = await readyLimited();
    if (!up || up.staged !== false || up.body_max !== BODY_MAX) {
      t.note(`skipped: the worker without a bucket answers upload = ${JSON.stringify(up)}`);
      return;
    }
    const a = admin();
    const glanceIds = async () => new Set((await osCall(a, 'GET', `${a.glance}/images?limit=1000`)).json.images.map((i) => i.id));
    const before = await glanceIds();
    const s = await sendStaged(t, { base: limited.base });
    const { page } = s;
    const err = page.locator(`${tid('os-error')}:visible`);
    await err.waitFor({ timeout: 60000 });
    assert(await err.getAttribute('data-error') === 'too_large', `refused as too large: ${await err.getAttribute('data-error')}`);
    const text = await err.innerText();
    assert(text.includes('8.00 MiB'), `the largest size is said: ${text}`);
    assert(await page.locator(`${tid('progress')} .disk`).first().getAttribute('data-state') === 'error', 'the disk was not converted');
    assert(!s.apiCalls.some((c) => /^(POST|PUT) \/api\/images/.test(c)), `nothing sent to the API: ${s.apiCalls.join(', ')}`);
    const fresh = [...await glanceIds()].filter((id) => !before.has(id));
    made.images.push(...fresh);
    assert(!fresh.length, `no image created: ${fresh}`);
    t.note(`shown: ${text.replace(/\s+/g, ' ')}`);
  } });

  return {
    tests,
    async stop() {
      if (worker) await worker.stop();
      if (limited) await limited.stop();
    },
  };
}
