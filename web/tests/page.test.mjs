// Page tests: the built page (web/dist) on a local static server, driven with playwright-core
// in Debian's Chromium. Every converted image is taken through the page's own download link
// (or out of the file a stubbed picker handed out) and checked with qemu-img (compare against
// the source, check); its SHA-512 is computed here, its content digest by the native CLI from
// qemu-img's raw copy of the source. The shared helpers are in page-lib.mjs; each file in
// web/tests/page/ exports more `tests` (`[{name, fn}]`), run after these in file-name order.
//
// usage: node web/tests/page.test.mjs [name-filter]
// Prints one line per test and ends with `page: N passed, M failed`.
import { serve } from '../serve.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTests } from '../../tests/lib/runner.mjs';
import { assertSafe, runCommands } from './shell.mjs';
import {
  HERE, DIST, VMDKRS, COT, MEMORY_LIMIT_MIB, BIG_VIRTUAL_MIB, BIG_DATA_MIB, TMP, site, sh, assert,
  qemuCompare, qemuCheck, sha512File, computeSha512, open, tid, feed, clearFiles, convert, download, errorText,
  convertAndCheck, rendererRssKiB, stubPickers, pickedFile, twoDiskOvf, big, bigOva, opfsEntries, streamVmdk,
} from './page-lib.mjs';

// -------------------------------------------------------------------------------------------
// Tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('stream-optimized VMDK to QCOW2: download matches the source; page is self-contained', async (t) => {
  const { page } = await open(t);
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await convertAndCheck(page, [src], src, 'qcow2', 'stream');
  const text = await page.locator(tid('result')).innerText();
  assert(/qemu-img convert -p -f vmdk -O qcow2 \.\/streamOptimized\.vmdk \.\/streamOptimized\.qcow2/.test(text), `qemu-img command shown: ${text}`);
  assert(/openstack image create --disk-format qcow2 --container-format bare/.test(text), 'openstack command shown');
  assert(/--file=\.\/streamOptimized\.qcow2/.test(text), 'openstack command names the file');
  // Every form control has an accessible name.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, button, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !(el.textContent || '').trim())
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert(!unnamed.length, `controls without a label: ${unnamed.join(', ')}`);
});

test('raw and compressed QCOW2, sparse and split (descriptor + extent) inputs', async (t) => {
  const { page } = await open(t);
  const sparse = path.join(VMDKRS, 'monolithicSparse.vmdk');
  await convertAndCheck(page, [sparse], sparse, 'raw', 'sparse-raw');
  await clearFiles(page);
  const desc = path.join(VMDKRS, 'twoGbMaxExtentSparse.vmdk');
  const out = await convertAndCheck(page, [desc, path.join(VMDKRS, 'twoGbMaxExtentSparse-s001.vmdk')], desc, 'qcow2-compressed', 'split-compressed');
  const info = JSON.parse(sh('qemu-img', ['info', '--output=json', out]));
  assert(info.format === 'qcow2', 'qcow2 output');
  const map = JSON.parse(sh('qemu-img', ['map', '--output=json', out]));
  assert(map.some((e) => e.data && e.compressed), 'compressed clusters present');
});

test('missing extent is named before anything starts; adding it makes the disk convertible', async (t) => {
  const { page } = await open(t);
  const desc = path.join(VMDKRS, 'twoGbMaxExtentSparse.vmdk');
  await feed(page, [desc]);
  const err = await errorText(page);
  assert(/twoGbMaxExtentSparse-s001\.vmdk/.test(err), `error names the missing extent: ${err}`);
  assert(/twoGbMaxExtentSparse-s001\.vmdk/.test(await page.locator('#inputs').innerText()), 'card names the missing extent');
  assert(await page.locator(tid('convert-button')).isDisabled(), 'convert disabled while a file is missing');
  await feed(page, [path.join(VMDKRS, 'twoGbMaxExtentSparse-s001.vmdk')]);
  assert(!(await page.locator(tid('convert-button')).isDisabled()), 'convert enabled once the extent is given');
  assert(!(await errorText(page)), 'error cleared');
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  await qemuCompare(desc, await download(page, path.join(TMP, 'split.qcow2')));
});

test('truncated and hostile files show an error naming the file; the page stays usable', async (t) => {
  const { page } = await open(t);
  // A stream-optimized VMDK cut in the middle of its grains.
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  const bytes = fs.readFileSync(src);
  const cut = path.join(TMP, 'cut.vmdk');
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await feed(page, [cut]);
  let err = await errorText(page);
  if (!err) {
    const state = await convert(page, 'qcow2');
    assert(state === 'error', `truncated input must fail, got ${state}`);
    err = await errorText(page);
  }
  assert(/cut\.vmdk/.test(err), `error names the file: ${err}`);
  assert(/offset \d+/.test(err) || /truncat|short|past the end|end of/i.test(err), `error says where or what: ${err}`);
  // A hostile header: valid magic, absurd sizes.
  await clearFiles(page);
  const evil = Buffer.alloc(4096);
  evil.write('KDMV', 0, 'latin1');
  evil.writeUInt32LE(1, 4);
  evil.writeUInt32LE(3, 8);
  evil.writeBigUInt64LE(0xffffffffffffffn, 12); // capacity
  evil.writeBigUInt64LE(0xffffffffn, 20); // grain size
  evil.writeUInt32LE(0xffffffff, 44); // GTEs per GT
  const evilPath = path.join(TMP, 'evil.vmdk');
  fs.writeFileSync(evilPath, evil);
  await feed(page, [evilPath]);
  err = await errorText(page);
  if (!err) {
    await convert(page, 'qcow2', 30000);
    err = await errorText(page);
  }
  assert(/evil\.vmdk/.test(err), `hostile file: error names it: ${err}`);
  // Garbage.
  await clearFiles(page);
  const junk = path.join(TMP, 'junk.vmdk');
  fs.writeFileSync(junk, crypto.randomBytes(100000));
  await feed(page, [junk]);
  err = await errorText(page);
  assert(/junk\.vmdk/.test(err), `junk: error names it: ${err}`);
  assert(await page.locator(tid('convert-button')).isDisabled(), 'nothing to convert');
  // Still usable.
  await clearFiles(page);
  assert(!(await errorText(page)), 'clear removes the errors');
  await convertAndCheck(page, [src], src, 'qcow2', 'after-errors');
});

test('OVA with OVF: VM summary and suggestions; the disk converts', async (t) => {
  const { page } = await open(t);
  // The real VirtualBox OVF, with a disk of data written by qemu-img in place of its empty one.
  const vmdk = streamVmdk(path.join(TMP, 'ubuntu.2.0-disk1.vmdk'), 64, 8, 3);
  const ovf = fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8').replace('ovf:capacity="8589934592"', `ovf:capacity="${64 << 20}"`);
  const dir = fs.mkdtempSync(path.join(TMP, 'ova-'));
  fs.writeFileSync(path.join(dir, 'ubuntu.2.0.ovf'), ovf);
  fs.copyFileSync(vmdk, path.join(dir, 'ubuntu.2.0-disk1.vmdk'));
  const ova = path.join(TMP, 'ubuntu.ova');
  sh('tar', ['--format=ustar', '-cf', ova, '-C', dir, 'ubuntu.2.0.ovf', 'ubuntu.2.0-disk1.vmdk']);
  await feed(page, [ova]);
  const err = await errorText(page);
  assert(!err, `OVA inspects without error: ${err}`);
  const summary = page.locator(`#inputs ${tid('vm-summary')}`);
  assert(await summary.isVisible(), 'vm summary shown');
  const text = await summary.innerText();
  for (const want of [/ubuntu/i, /Ubuntu_64/, /vCPUs\s*1/, /512\.0 MiB|512 MiB/, /hw_disk_bus/, /virtio/, /os_distro/, /sata|ide|virtio/i]) {
    assert(want.test(text), `summary shows ${want}: ${text}`);
  }
  // Suggestions are editable and flow into the upload and flavor commands.
  // A value outside the list: "other…", then typed.
  await page.locator('select[id^=prop-]').first().selectOption('__other');
  const bus = page.locator('input[id^=prop-][id$=-other]').first();
  await bus.fill('edited-value');
  await page.locator('input[id^=min-ram-]').fill('1024');
  await page.locator('input[id^=flavor-vcpus-]').fill('3');
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `OVA converted: ${state} ${await errorText(page)}`);
  const out = await download(page, path.join(TMP, 'ova.qcow2'));
  await qemuCheck(out);
  await qemuCompare(vmdk, out);
  const cmds = await page.locator(tid('result')).innerText();
  assert(/tar -xf \.\/ubuntu\.ova -- ubuntu\.2\.0-disk1\.vmdk/.test(cmds), `extraction command: ${cmds}`);
  assert(/=edited-value/.test(cmds), 'edited property in the openstack command');
  assert(/--min-ram 1024/.test(cmds), `edited min_ram: ${cmds}`);
  assert(/openstack flavor create --vcpus 3 --ram 512/.test(cmds), `edited flavor: ${cmds}`);
});

test('hostile names (OVA, member, VM): the printed commands read no name as an option and, run, redo the conversion', async (t) => {
  const { page } = await open(t);
  // Names an attacker picks: a tar option that runs a command, shell syntax, quotes.
  const ovaName = '--to-command=sh${IFS}-c${IFS}x.ova';
  const member = `$(touch pwned) 'q".vmdk`;
  const vmName = '--to-command=sh${IFS}-c${IFS}x -rf';
  const xml = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
  const dir = fs.mkdtempSync(path.join(TMP, 'hostile-'));
  // Made under a plain name: qemu-img writes the file's name into its embedded descriptor.
  const vmdk = path.join(dir, member);
  fs.renameSync(streamVmdk(path.join(dir, 'plain.vmdk'), 16, 2, 5), vmdk);
  const ovf = fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
    .replace('ovf:capacity="8589934592"', `ovf:capacity="${16 << 20}"`)
    .replace('ovf:href="ubuntu.2.0-disk1.vmdk"', `ovf:href="${xml(member)}"`)
    .replace('<VirtualSystem ovf:id="ubuntu">', `<VirtualSystem ovf:id="${xml(vmName)}">`);
  fs.writeFileSync(path.join(dir, 'vm.ovf'), ovf);
  const ova = path.join(TMP, ovaName);
  sh('tar', ['--format=ustar', '-cf', ova, '-C', dir, '--', 'vm.ovf', member]);
  await feed(page, [ova]);
  assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const text = await page.locator('#result-disks pre.cmd').evaluate((e) => e.textContent);
  assert(text.startsWith(`tar -xf './${ovaName}' -- '$(touch pwned) '\\''q".vmdk'\n`), `extraction: ${text}`);
  assert(text.includes(`-- '${vmName}'\n`) && text.endsWith(`-- '${vmName}-flavor'`), `image and flavor names after --: ${text}`);
  // Pasted into bash in a folder holding the OVA: tar, qemu-img and sha512sum run for real.
  const work = fs.mkdtempSync(path.join(TMP, 'paste-'));
  fs.copyFileSync(ova, path.join(work, ovaName));
  const calls = runCommands(text, work, { real: ['tar', 'qemu-img', 'sha512sum'] });
  assertSafe(calls, [ovaName, member, vmName]);
  assert(calls.map((c) => c.cmd).join(' ') === 'tar qemu-img qemu-img sha512sum openstack openstack', `the commands run: ${JSON.stringify(calls)}`);
  assert(!fs.existsSync(path.join(work, 'pwned')), 'no name ran as a command');
  const out = calls[1].args.at(-1);
  assert(out.startsWith('./'), `output behind ./: ${out}`);
  await qemuCompare(path.join(work, out), await download(page, path.join(TMP, 'hostile.qcow2')));
  await qemuCompare(vmdk, path.join(work, out));
});

test('OVF with its disk and manifest (real VirtualBox export)', async (t) => {
  const { page } = await open(t);
  const ovf = path.join(COT, 'ubuntu.2.0.ovf');
  const disk = path.join(COT, 'ubuntu.2.0-disk1.vmdk');
  await convertAndCheck(page, [ovf, disk, path.join(COT, 'ubuntu.2.0.mf')], disk, 'qcow2', 'ovf');
  assert(await page.locator(`#inputs ${tid('vm-summary')}`).isVisible(), 'vm summary shown');
});

test('a folder holding a two-disk Windows OVF: both disks convert, saved through the File System Access API', async (t) => {
  const { page } = await open(t, { init: stubPickers });
  const { dir, disks } = twoDiskOvf();
  const before = Number(await page.evaluate(() => document.body.dataset.inspected || 0));
  await page.locator(tid('folder-input')).setInputFiles(dir);
  await page.waitForFunction((n) => Number(document.body.dataset.inspected || 0) > n, before, { timeout: 60000 });
  const err = await errorText(page);
  assert(!err, `inspects without error: ${err}`);
  const summary = await page.locator(`#inputs ${tid('vm-summary')}`).innerText();
  assert(/winvm/.test(summary) && /windows2019srv_64Guest/.test(summary), `summary: ${summary}`);
  assert(/sata/i.test(summary) && /Windows/.test(summary), `Windows gets SATA, with the reason: ${summary}`);
  assert((await page.locator('#inputs input[type=checkbox]').count()) === 2, 'two disks offered');
  await page.locator(tid('save-mode')).selectOption('picker');
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  assert((await page.locator('[data-testid=progress] .disk[data-state=done]').count()) === 2, 'both disks done');
  assert((await page.locator(tid('result')).getAttribute('data-sha512')) === '- -', 'no SHA-512 computed while converting');
  // Computed from the chosen files (read back through their handles), in either order.
  await computeSha512(page, 1);
  await computeSha512(page, 0);
  const shas = (await page.locator(tid('result')).getAttribute('data-sha512')).split(' ');
  assert(shas.length === 2, 'one sha512 per disk');
  for (const [k, d] of disks.entries()) {
    const out = await pickedFile(page, `winvm-disk${k + 1}.qcow2`, path.join(TMP, `win${k + 1}.qcow2`));
    await qemuCheck(out);
    await qemuCompare(d.vmdk, out);
    const entry = page.locator(`#result-disks [data-output="winvm-disk${k + 1}.qcow2"]`);
    assert((await entry.getAttribute('data-sha512')) === await sha512File(out), `disk ${k + 1}: sha512`);
    assert(shas.includes(await sha512File(out)), `disk ${k + 1}: sha512 in the panel's list`);
  }
  assert(!(await page.locator(tid('download-link')).count()), 'no download link when saved to a chosen place');
});

test('raw output through a chosen file (File System Access API): holes and final length right', async (t) => {
  const { page } = await open(t, { init: stubPickers });
  const src = path.join(VMDKRS, 'monolithicSparse.vmdk');
  await feed(page, [src]);
  await page.locator(tid('save-mode')).selectOption('picker');
  const state = await convert(page, 'raw');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const out = await pickedFile(page, 'monolithicSparse.raw', path.join(TMP, 'picked.raw'));
  assert(fs.statSync(out).size === 10485760, `raw length ${fs.statSync(out).size}`);
  await qemuCompare(src, out);
  assert((await computeSha512(page)) === await sha512File(out), 'sha512');
});

test('Cancel stops the conversion at once, frees its workers and its partial file; converting again works', async (t) => {
  const { page } = await open(t);
  await feed(page, [await big()]);
  await page.locator(tid('format-select')).selectOption('qcow2');
  await page.locator(tid('convert-button')).click();
  await page.waitForFunction(() => Number((document.querySelector('[data-testid=progress] .disk') || {}).dataset?.bytesOut || 0) > 0, null, { timeout: 60000 });
  const during = page.workers().length;
  assert(during >= 1, `converter worker running (${during})`);
  const t0 = Date.now();
  await page.locator(tid('cancel-button')).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=progress]').dataset.state === 'cancelled', null, { timeout: 5000 });
  const took = Date.now() - t0;
  assert(took < 2000, `cancel took ${took} ms`);
  for (let i = 0; i < 100 && page.workers().length; i++) await page.waitForTimeout(100);
  assert(page.workers().length === 0, `all workers ended (left: ${page.workers().map((w) => w.url()).join(', ')})`);
  let left = [];
  for (let i = 0; i < 30; i++) {
    left = (await opfsEntries(page)).filter((n) => n.startsWith('stackferry-'));
    if (!left.length) break;
    await page.waitForTimeout(200);
  }
  assert(!left.length, `partial output removed: ${left}`);
  assert(!(await page.locator(tid('cancel-button')).isEnabled()), 'cancel disabled again');
  await clearFiles(page);
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await convertAndCheck(page, [src], src, 'qcow2', 'after-cancel');
});

/**
 * Convert `input` (the big disk, or an OVA holding it) in a fresh page and check the renderer's
 * memory stays bounded and flat, the output is the big disk's, and its SHA-512.
 */
async function boundedMemory(t, input) {
  const { page, udd } = await open(t);
  const src = await big();
  await feed(page, [input]);
  const idle = rendererRssKiB(udd);
  let peak = idle;
  const samples = [];
  const timer = setInterval(() => {
    const r = rendererRssKiB(udd);
    samples.push([Date.now(), r]);
    peak = Math.max(peak, r);
  }, 100);
  const t0 = Date.now();
  let state;
  try {
    state = await convert(page, 'qcow2', 600000);
  } finally {
    clearInterval(timer);
  }
  const secs = (Date.now() - t0) / 1000;
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const grew = (peak - idle) / 1024;
  if (process.env.WEB_SHOW_SAMPLES) console.log(samples.map(([, x]) => Math.round(x / 1024)).join(' '));
  const row = await page.locator('[data-testid=progress] .disk').evaluate((e) => ({ ...e.dataset }));
  const wasm = JSON.parse(row.wasmBytes);
  t.note(`renderer RSS idle ${(idle / 1024).toFixed(0)} MiB, peak ${(peak / 1024).toFixed(0)} MiB (+${grew.toFixed(0)} MiB) for ${BIG_DATA_MIB} MiB of data; ` +
    `wasm memory: converter ${(wasm.converter / 1048576).toFixed(1)} MiB, decoders ${(wasm.decoder_max / 1048576).toFixed(1)} MiB each; ` +
    `${secs.toFixed(1)} s (plan ${(row.planMs / 1000).toFixed(1)} s)`);
  assert(grew < MEMORY_LIMIT_MIB, `renderer memory grew by ${grew.toFixed(0)} MiB (limit ${MEMORY_LIMIT_MIB})`);
  // Memory does not grow with the data converted: after planning (which holds little), the
  // second half of the conversion peaks no higher than the first (plus GC noise).
  const converting = samples.filter(([at]) => at >= t0 + Number(row.planMs)).map(([, r]) => r);
  const half = Math.floor(converting.length / 2);
  const first = Math.max(...converting.slice(0, half));
  const second = Math.max(...converting.slice(half));
  assert(converting.length >= 10 && second <= first + 64 * 1024, `renderer memory grows with progress: first half peak ${first >> 10} MiB, second half ${second >> 10} MiB`);
  // The wasm heaps hold the bounded pipeline, not the disk.
  assert(wasm.converter < 64 << 20 && wasm.decoder_max < 32 << 20, `wasm memory ${JSON.stringify(wasm)}`);
  const out = await download(page, path.join(TMP, `${path.basename(input)}.qcow2`));
  await qemuCheck(out);
  await qemuCompare(src, out);
  assert((await computeSha512(page)) === await sha512File(out), 'sha512 of the download');
  fs.rmSync(out);
}

test(`multi-GB disk (${BIG_VIRTUAL_MIB} MiB virtual, ${BIG_DATA_MIB} MiB data) converts with bounded browser memory`, async (t) => {
  await boundedMemory(t, await big());
});

test('the same disk, stream-optimized in an OVA with a SHA-256 manifest (hashed beside the conversion), converts with bounded browser memory', async (t) => {
  await boundedMemory(t, await bigOva());
});

test('the page works from a sub-path of a server', async (t) => {
  const sub = await serve(DIST, { prefix: '/tools/stackferry/' });
  t.cleanup.push(async () => sub.close());
  const saved = site.base;
  site.base = `http://127.0.0.1:${sub.address().port}/tools/stackferry/`;
  try {
    const { page } = await open(t);
    const src = path.join(VMDKRS, 'streamOptimized.vmdk');
    await convertAndCheck(page, [src], src, 'qcow2', 'subpath');
  } finally {
    site.base = saved;
  }
});

test('checklist: kept per VM across reloads, exported as Markdown', async (t) => {
  const { page } = await open(t);
  await page.locator('#check-dns-ttl').check();
  await page.locator('#checklist-notes').fill('cutover Saturday 02:00');
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  assert(await page.locator('#check-dns-ttl').isChecked(), 'tick kept across reload');
  assert(!(await page.locator('#check-low-crit').isChecked()), 'other items unticked');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#checklist-export').click()]);
  const md = fs.readFileSync(await dl.path(), 'utf8');
  assert(/^# Migration checklist: /m.test(md), `markdown title: ${md}`);
  assert(/- \[x\] Lower the DNS TTL/.test(md), 'ticked item exported');
  assert(/- \[ \] Start with a low-criticality VM/.test(md), 'unticked item exported');
  for (const want of [/split brain/, /message\.txt/, /Shut the guest down cleanly/, /decommission/, /downtime/]) assert(want.test(md), `item ${want}`);
  assert(/cutover Saturday 02:00/.test(md), 'notes exported');
});

test('narrow screen and keyboard: no horizontal scrolling, controls reachable with Tab', async (t) => {
  const { page } = await open(t, { viewport: { width: 360, height: 740 } });
  const src = path.join(VMDKRS, 'streamOptimized.vmdk');
  await feed(page, [src]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `page wider than the screen by ${overflow}px`);
  // Tab through the page: the file chooser, format select and convert button get focus.
  const seen = new Set();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement && (document.activeElement.dataset.testid || document.activeElement.id));
    if (id) seen.add(id);
  }
  for (const want of ['file-input', 'format-select', 'convert-button']) assert(seen.has(want), `${want} reachable by Tab (saw ${[...seen].join(', ')})`);
  await page.locator(tid('convert-button')).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=progress]').dataset.state === 'done', null, { timeout: 60000 });
});

// -------------------------------------------------------------------------------------------

async function main() {
  const filter = process.argv[2];
  assert(fs.existsSync(path.join(DIST, 'index.html')), 'web/dist is built (bash web/build.sh)');
  const server = await serve(DIST);
  site.base = `http://127.0.0.1:${server.address().port}/`;
  const dir = path.join(HERE, 'page');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.mjs')).sort() : []) {
    tests.push(...(await import(pathToFileURL(path.join(dir, f)).href)).tests);
  }
  // Two at a time (PAGE_CONCURRENCY): each test has its own browser and profile, and most of a
  // test's time is the browser starting and waiting; one at a time left a core idle.
  const { passed, failed } = await runTests(tests, filter, { concurrency: Number(process.env.PAGE_CONCURRENCY || 2) });
  server.close();
  if (!process.env.WEB_KEEP_TMP) fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`page: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('page: 0 passed, 1 failed');
  process.exit(1);
});
