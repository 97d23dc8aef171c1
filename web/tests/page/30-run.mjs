// Page tests of the run area (ui/convert.js, progress.js, results.js, stored.js, guard.js):
// outputs kept in browser storage across a reload (download, remove, leftovers of an
// interrupted conversion cleaned), one progress bar that never goes back across compressed
// QCOW2's two passes, the tab title, Cancel clearing the rate and time left, the beforeunload
// guard, and the Korean page's progress and result texts.
import fs from 'node:fs';
import path from 'node:path';
import {
  HERE, TMP, VMDKRS, sh, assert, qemuCompare, sha512File, open, tid, feed, convert, errorText, opfsEntries, computeSha512,
} from '../page-lib.mjs';
import { opfsSidecar } from '../../../tests/lib/os-flow.mjs';
import { bytes } from '../../src/i18n/index.js';
import en from '../../src/i18n/en.js';
import ko from '../../src/i18n/ko.js';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let medium = null;
/** A monolithicSparse VMDK that takes a few seconds to convert (compressed: two passes). */
function mediumDisk() {
  if (!medium) {
    const raw = path.join(TMP, 'medium.raw');
    sh('python3', [path.join(HERE, 'make-disk.py'), raw, String(Number(process.env.WEB_RUN_VIRTUAL_MIB || 512)), String(Number(process.env.WEB_RUN_DATA_MIB || 144)), '11']);
    medium = path.join(TMP, 'medium.vmdk');
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, medium]);
    fs.rmSync(raw);
  }
  return medium;
}

const running = () => document.querySelector('[data-testid=progress]').dataset.state === 'running';

/** Start a conversion in `format` and wait until its first row has written bytes and shows a rate
 * (the callers take compressed QCOW2: plain QCOW2 of the medium disk can end before an estimate). */
async function startConverting(page, format) {
  await page.locator(tid('format-select')).selectOption(format);
  await page.locator(`${tid('convert-button')}:enabled`).click();
  await page.waitForFunction(() => {
    const row = document.querySelector('[data-testid=progress] .disk');
    return row && /\/s/.test(row.querySelector('.numbers').textContent) && /\d+:\d\d/.test(row.querySelector('.numbers').textContent);
  }, null, { timeout: 120000 });
}

test('run: an output in browser storage is offered again after a reload (download, size, remove); leftovers are cleaned', async (t) => {
  const { page } = await open(t);
  assert((await page.locator(tid('save-mode')).inputValue()) === 'opfs', 'automated browsers save to browser storage');
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await feed(page, [src]);
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  // The result is brought into view, its heading focused.
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'h-result', null, { timeout: 5000 });
  assert(await page.locator(tid('download-link')).isVisible(), 'download link in view');
  // The SHA-512, computed on request, goes into the output's sidecar; the focus moves to it.
  const sha = await computeSha512(page);
  assert(await page.evaluate(() => document.activeElement && document.activeElement.dataset.testid === 'sha512'), 'the focus moves from Compute to the value');
  const sidecar = await opfsSidecar(page);
  assert(sidecar && sidecar.sha512 === sha && sidecar.label === 'streamOptimized.qcow2' && sidecar.output_len > 0, `the sidecar keeps the SHA-512 with what it held: ${JSON.stringify(sidecar)}`);
  // What an interrupted conversion leaves: an output without its sidecar.
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const h = await root.getFileHandle('stackferry-20260101000000-abc123-interrupted.qcow2', { create: true });
    const w = await h.createWritable();
    await w.write(new Uint8Array(4096));
    await w.close();
  });
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  const item = page.locator(tid('stored-item'));
  await item.first().waitFor({ timeout: 15000 });
  assert((await item.count()) === 1, `one output listed, not the leftover: ${await page.locator(tid('stored')).innerText()}`);
  assert((await item.getAttribute('data-name')) === 'streamOptimized.qcow2', 'listed under its own name');
  const size = Number(await item.getAttribute('data-size'));
  const text = await item.innerText();
  assert(text.includes(bytes(size, 'en')), `size shown (${bytes(size, 'en')}): ${text}`);
  assert(/20\d\d/.test(text), `date shown: ${text}`);
  const panel = await page.locator(tid('stored')).innerText();
  assert(/Removed 1 unfinished file/.test(panel), `says the leftover was removed: ${panel}`);
  assert(/Browser storage: .* used, .* still available/.test(panel), `storage used shown: ${panel}`);
  assert(!(await opfsEntries(page)).some((n) => n.includes('interrupted')), 'leftover removed from OPFS');
  // Download gives the converted bytes.
  const [dl] = await Promise.all([page.waitForEvent('download'), item.locator(tid('stored-download')).click()]);
  const out = path.join(TMP, 'stored.qcow2');
  await dl.saveAs(out);
  assert(fs.statSync(out).size === size, `downloaded ${fs.statSync(out).size} bytes, listed ${size}`);
  assert(await sha512File(out) === sha, 'download after reload has the SHA-512 of the conversion');
  await qemuCompare(src, out);
  // Remove deletes it from OPFS (output and sidecar).
  await item.locator(tid('stored-remove')).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=stored-item]'), null, { timeout: 10000 });
  const left = (await opfsEntries(page)).filter((n) => n.startsWith('stackferry-'));
  assert(!left.length, `removed from OPFS: ${left}`);
  assert(await page.locator(tid('stored')).isHidden(), 'empty list hidden');
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForTimeout(500);
  assert(!(await item.count()), 'still gone after another reload');
});

test('run: compressed QCOW2 progress goes only forward across both passes; the title shows it while converting', async (t) => {
  const { page } = await open(t);
  await feed(page, [mediumDisk()]);
  const shellTitle = en['shell.title'];
  assert((await page.title()) === shellTitle, `idle title: ${await page.title()}`);
  await page.evaluate(() => {
    window.samples = [];
    const take = () => {
      const row = document.querySelector('[data-testid=progress] .disk');
      const bar = row && row.querySelector('[role=progressbar]');
      if (bar) window.samples.push({ at: performance.now(), numbers: row.querySelector('.numbers').textContent, v: Number(bar.getAttribute('aria-valuenow')), status: row.querySelector('.status-text').textContent, title: document.title, state: document.querySelector('[data-testid=progress]').dataset.state });
    };
    window.sampler = setInterval(take, 40);
  });
  const state = await convert(page, 'qcow2-compressed');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const samples = await page.evaluate(() => { clearInterval(window.sampler); return window.samples; });
  const during = samples.filter((s) => s.state === 'running');
  assert(during.length >= 10, `enough samples while converting (${during.length}): make the disk bigger`);
  for (let i = 1; i < samples.length; i++) {
    assert(samples[i].v >= samples[i - 1].v, `progress went back from ${samples[i - 1].v} (${samples[i - 1].status}) to ${samples[i].v} (${samples[i].status})`);
  }
  const step1 = during.filter((s) => /step 1 of 2/.test(s.status));
  const step2 = during.filter((s) => /step 2 of 2/.test(s.status));
  assert(step1.length && step2.length, `both passes seen: ${[...new Set(during.map((s) => s.status.replace(/\d+%/, '')))].join(' | ')}`);
  assert(Math.min(...step2.map((s) => s.v)) >= 40, `the second pass starts near half the bar, not at 0 (${Math.min(...step2.map((s) => s.v))})`);
  assert(Math.max(...step1.map((s) => s.v)) <= 50, `the first pass fills at most half the bar (${Math.max(...step1.map((s) => s.v))})`);
  const titled = during.filter((s) => /^\d+% · /.test(s.title) && s.title.endsWith(shellTitle));
  assert(titled.length >= during.length / 2, `title shows the percentage while converting: ${during.slice(-3).map((s) => s.title).join(' | ')}`);
  assert((await page.title()) === shellTitle, `title restored after: ${await page.title()}`);
  assert((await page.locator('[data-testid=progress] [role=progressbar]').getAttribute('aria-valuenow')) === '100', 'bar full when done');
  // How good the first estimate of the time left was (covers both passes; a note, as the
  // machine's load makes it vary).
  const first = during.find((s) => /(\d+):(\d\d) left/.test(s.numbers));
  if (first) {
    const [, m, sec] = /(\d+):(\d\d) left/.exec(first.numbers);
    const start = during[0].at;
    const end = during[during.length - 1].at;
    const at = (pct) => {
      const x = during.find((y) => y.v >= pct && /(\d+):(\d\d) left/.test(y.numbers));
      if (!x) return '';
      const [, mm, ss] = /(\d+):(\d\d) left/.exec(x.numbers);
      return ` at ${pct}%: ${Number(mm) * 60 + Number(ss)} s left, took ${((end - x.at) / 1000).toFixed(1)} s;`;
    };
    t.note(`${at(10)}${at(25)}${at(50)}${at(75)}`);
    t.note(`first estimate at ${((first.at - start) / 1000).toFixed(1)} s (${first.status}): ${Number(m) * 60 + Number(sec)} s left; took ${((end - first.at) / 1000).toFixed(1)} s more`);
  }
});

test('run: after Cancel the row shows no rate and no time left, the title no percentage', async (t) => {
  const { page } = await open(t);
  await feed(page, [mediumDisk()]);
  await startConverting(page, 'qcow2-compressed');
  assert(/^\d+% · /.test(await page.title()), `title shows progress: ${await page.title()}`);
  await page.locator(tid('cancel-button')).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=progress]').dataset.state === 'cancelled', null, { timeout: 5000 });
  // Progress reports already on their way must not bring the numbers back.
  await page.waitForTimeout(800);
  const row = page.locator('[data-testid=progress] .disk');
  const text = await row.innerText();
  assert((await row.getAttribute('data-state')) === 'cancelled', 'row cancelled');
  assert(/Cancelled/.test(text), `says cancelled: ${text}`);
  assert(!/\/s\b/.test(text) && !/left|estimating/.test(text), `no rate or time left after Cancel: ${text}`);
  assert(!/%\s·/.test(await page.title()), `title without progress: ${await page.title()}`);
});

test('run: closing the tab during a conversion asks first (beforeunload); an idle page does not', async (t) => {
  const { ctx, page } = await open(t);
  // Idle, after a user gesture (Chromium asks only on pages the user interacted with).
  const idle = await ctx.newPage();
  await idle.goto(page.url());
  await idle.waitForSelector('body[data-ready=true]');
  await idle.locator('header h1').click();
  let idleDialogs = 0;
  idle.on('dialog', (d) => { idleDialogs++; d.accept(); });
  await idle.close({ runBeforeUnload: true });
  await page.waitForTimeout(1000);
  assert(idleDialogs === 0, 'no dialog on an idle page');
  assert(idle.isClosed(), 'idle page closed without asking');

  await feed(page, [mediumDisk()]);
  await startConverting(page, 'qcow2-compressed');
  const dialog = new Promise((resolve) => page.once('dialog', async (d) => {
    const type = d.type();
    await d.dismiss();
    resolve(type);
  }));
  await page.close({ runBeforeUnload: true });
  const type = await Promise.race([dialog, new Promise((r) => setTimeout(() => r('none'), 10000))]);
  assert(type === 'beforeunload', `a beforeunload dialog while converting (got ${type})`);
  // Dismissed: the page stays, the conversion goes on; then it ends without asking again.
  assert(!page.isClosed(), 'page kept after dismissing');
  assert(await page.evaluate(running), 'conversion still running');
  await page.locator(tid('cancel-button')).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=progress]').dataset.state === 'cancelled', null, { timeout: 5000 });
  let after = 0;
  page.on('dialog', (d) => { after++; d.accept(); });
  await page.close({ runBeforeUnload: true });
  await new Promise((r) => setTimeout(r, 1000));
  assert(after === 0, 'no dialog once the conversion is over');
});

test('run: the Korean page shows progress, results and kept outputs in Korean', async (t) => {
  const { page } = await open(t, { locale: 'ko-KR' });
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await feed(page, [src]);
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const row = await page.locator('[data-testid=progress] .disk').innerText();
  assert(row.includes('완료') && row.includes('씀'), `progress row in Korean: ${row}`);
  const result = await page.locator('#result-disks').innerText();
  for (const key of ['run.result.outputSize', 'run.result.virtualSize', 'run.result.byHand', 'run.result.copy', 'run.result.sha512Compute', 'run.result.sha512Later']) {
    assert(result.includes(ko[key]), `result shows ${ko[key]}: ${result}`);
  }
  assert(result.includes('streamOptimized.qcow2 다운로드'), `download link in Korean: ${result}`);
  for (const english of ['Download', 'Output size', 'written', 'Done in', 'The same by hand', 'Copy commands', 'Compute', 'Not computed']) {
    assert(!row.includes(english) && !result.includes(english), `no English "${english}" left`);
  }
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await page.locator(tid('stored-item')).first().waitFor({ timeout: 15000 });
  const kept = await page.locator(tid('stored')).innerText();
  assert(kept.includes(ko['run.stored.title']) && kept.includes('다운로드') && kept.includes('삭제'), `kept outputs in Korean: ${kept}`);
  assert(!/Download|Remove|Browser storage/.test(kept), `no English in the kept list: ${kept}`);
});

test('run: switching the language redraws the progress row, the result and the title', async (t) => {
  const { page } = await open(t);
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await feed(page, [src]);
  assert((await convert(page, 'qcow2')) === 'done', `converted: ${await errorText(page)}`);
  assert((await page.locator('#result-disks').innerText()).includes(en['run.result.outputSize']), 'English first');
  // The page's own i18n module (the same instance main.js uses), as the language switch calls it.
  await page.evaluate(async () => (await import(new URL('i18n/index.js', document.baseURI).href)).setLang('ko'));
  const row = await page.locator('[data-testid=progress] .disk').innerText();
  const result = await page.locator('#result-disks').innerText();
  assert(row.includes('완료') && !row.includes('Done in'), `row redrawn in Korean: ${row}`);
  assert(result.includes(ko['run.result.outputSize']) && !result.includes('Output size'), `result redrawn in Korean: ${result}`);
  assert(result.includes(ko['run.result.sha512Later']) && !result.includes(en['run.result.sha512Later']), `the SHA-512's offer redrawn in Korean: ${result}`);
  assert((await page.title()) === ko['shell.title'], `title in Korean: ${await page.title()}`);
});

export { tests };
