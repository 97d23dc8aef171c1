// Page tests of browser storage running out (issue 17, finding 7): a profile on a small tmpfs,
// so the quota the browser enforces is small for real. An output larger than the browser
// grants is refused before converting with `no_space`, its numbers and what to do (English and
// Korean); a disk that fills up while writing says the same; either way nothing is left in
// the Origin Private File System and the next conversion works.
import fs from 'node:fs';
import path from 'node:path';
import {
  HERE, TMP, VMDKRS, sh, assert, open, tid, feed, clearFiles, convert, convertAndCheck, opfsEntries,
} from '../page-lib.mjs';
import { bytes } from '../../src/i18n/index.js';
import en from '../../src/i18n/en.js';
import ko from '../../src/i18n/ko.js';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/** The tmpfs the profile lives on: Chromium grants the page about a third of it (measured). */
const DISK_MIB = 200;
const MIB = 1 << 20;

/** A monolithicSparse VMDK of `virtualMib` (`dataMib` of it data): its raw output is `virtualMib`. */
function sparseDisk(name, virtualMib, dataMib) {
  const raw = path.join(TMP, `${name}.raw`);
  sh('python3', [path.join(HERE, 'make-disk.py'), raw, String(virtualMib), String(dataMib), '13']);
  const vmdk = path.join(TMP, `${name}.vmdk`);
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, vmdk]);
  fs.rmSync(raw);
  return vmdk;
}

/** The no_space error shown: `{text, available}` (the size its sentence names, in bytes). */
async function noSpaceShown(page, catalogue, needed) {
  const shown = page.locator('.err').first();
  const code = await shown.getAttribute('data-code');
  const text = await shown.locator('.err-text').innerText();
  if (code !== 'no_space') {
    const more = await shown.locator('.err-details').evaluate((d) => d.textContent);
    assert(false, `no_space shown, not ${code}: ${text} (${more})`);
  }
  // The sentence with {needed} filled and {available} read back.
  const [before, after] = catalogue['errors.no_space'].replace('{needed}', bytes(needed)).split('{available}');
  assert(text.includes(before) && text.endsWith(after), `the no_space sentence with ${bytes(needed)}: ${text}`);
  const m = /([\d.,]+) (MiB|KiB|GiB|B)/.exec(text.slice(text.indexOf(before) + before.length));
  assert(m, `a size for what is available: ${text}`);
  const available = Number(m[1].replace(/,/g, '')) * { B: 1, KiB: 1024, MiB: MIB, GiB: 1024 * MIB }[m[2]];
  return { text, available };
}

/** Our OPFS entries, once what a failed run removes is gone (the page removes it as it ends). */
async function ourEntries(page) {
  let left = [];
  for (let i = 0; i < 30; i++) {
    left = (await opfsEntries(page)).filter((n) => n.startsWith('stackferry-'));
    if (!left.length) break;
    await page.waitForTimeout(200);
  }
  return left;
}

/** After a no_space failure: OPFS holds none of our outputs, and a small disk converts. */
async function nothingLeftThenConverts(page, label) {
  const left = await ourEntries(page);
  assert(!left.length, `no partial output left: ${left}`);
  await clearFiles(page);
  const small = path.join(VMDKRS, 'streamOptimized.vmdk');
  await convertAndCheck(page, [small], small, 'qcow2', label);
}

test('quota: an output larger than the browser grants is refused before converting (no_space, numbers, what to do); nothing is left; a small one converts', async (t) => {
  const { page } = await open(t, { diskMiB: DISK_MIB });
  const estimate = await page.evaluate(async () => navigator.storage.estimate());
  const src = sparseDisk('quota-big', 256, 8);
  await feed(page, [src]);
  const state = await convert(page, 'raw');
  assert(state === 'error', `refused: ${state}`);
  const { available } = await noSpaceShown(page, en, 256 * MIB);
  // What the browser really grants: below the disk, and below what estimate() claimed.
  assert(available > 0 && available < DISK_MIB * MIB, `available ${available} within the ${DISK_MIB} MiB disk`);
  t.note(`estimate() said ${bytes(estimate.quota - estimate.usage)} available; the browser granted ${bytes(available)}`);
  const row = page.locator('[data-testid=progress] .disk');
  assert(Number((await row.getAttribute('data-bytes-out')) || 0) === 0, 'refused before writing anything');
  await nothingLeftThenConverts(page, 'quota-after');
});

test('quota: the disk filling up while writing is no_space too; the partial output is removed; the next conversion works', async (t) => {
  const { page, udd } = await open(t, { diskMiB: DISK_MIB });
  // Granted by the quota (a share of the whole disk), then the disk fills with other files.
  const src = sparseDisk('quota-fill', 48, 40);
  await feed(page, [src]);
  const { bavail, bsize } = fs.statfsSync(udd);
  const filler = path.join(udd, 'filler');
  sh('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', `count=${Math.floor((bavail * bsize) / MIB) - 16}`, 'status=none']);
  let state;
  try {
    state = await convert(page, 'raw');
  } finally {
    fs.rmSync(filler);
  }
  assert(state === 'error', `the disk filled: ${state}`);
  const { available } = await noSpaceShown(page, en, 48 * MIB);
  assert(available > 0 && available < 48 * MIB, `written before the disk filled: ${available}`);
  await nothingLeftThenConverts(page, 'fill-after');
});

test('quota: the Korean page says no_space in Korean', async (t) => {
  const { page } = await open(t, { diskMiB: DISK_MIB, locale: 'ko-KR' });
  await feed(page, [sparseDisk('quota-ko', 256, 8)]);
  assert(await convert(page, 'raw') === 'error', 'refused');
  const { text } = await noSpaceShown(page, ko, 256 * MIB);
  assert(!/storage|browser/i.test(text), `no English: ${text}`);
  assert(!(await page.locator(tid('download-link')).count()), 'nothing offered for download');
});

export { tests };
