// Page tests: the built page (web/dist) on a local static server, driven with playwright-core
// in Debian's Chromium. Every converted image is taken through the page's own download link
// (or out of the file a stubbed picker handed out) and checked with qemu-img (compare against
// the source, check); its SHA-512 is computed here, its content digest by the native CLI from
// qemu-img's raw copy of the source.
//
// This module holds what the page tests share (page.test.mjs and the area files in
// web/tests/page/, which page.test.mjs loads): a fresh profile with the page open, feeding
// files, converting, downloads, qemu-img checks.
import { chromium } from 'playwright-core';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, formatInspector, sha512File } from '../../tests/lib/cli.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const DIST = path.join(ROOT, 'web/dist');
export const DATA = path.join(ROOT, 'converter-wasm/tests/data');
export const VMDKRS = path.join(DATA, 'strozfriedberg+vmdk-rs/data');
export const COT = path.join(DATA, 'glennmatthews+cot/COT/tests');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Renderer memory allowed above its idle level while converting the multi-GB disk. */
export const MEMORY_LIMIT_MIB = Number(process.env.WEB_MEMORY_LIMIT_MIB || 256);
export const BIG_VIRTUAL_MIB = Number(process.env.WEB_BIG_VIRTUAL_MIB || 3072);
export const BIG_DATA_MIB = Number(process.env.WEB_BIG_DATA_MIB || 1024);

export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'stackferry-web-'));
/** Where the page is served (`base`, set by page.test.mjs before the tests run). */
export const site = { base: '' };

// -------------------------------------------------------------------------------------------
// Helpers

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
}

const execFileAsync = promisify(execFile);
/**
 * `sh` without blocking: for what takes seconds. This process also drives the other test
 * running beside (PAGE_CONCURRENCY) and its timeouts: a synchronous 16-52 s (the content
 * digest of an 8 GiB disk, making the big disks) ran past that test's 30 s steps.
 */
export async function run(cmd, args, opts = {}) {
  return (await execFileAsync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts })).stdout;
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** `a` and the page's output `b` hold the same disk (qemu-img compare), and OpenStack's own image
 * check (oslo.utils format_inspector) accepts `b` as the format and size qemu-img reads. */
export async function qemuCompare(a, b) {
  const out = await run('qemu-img', ['compare', a, b]);
  assert(/identical/.test(out), `qemu-img compare ${a} ${b}: ${out}`);
  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', b]));
  const fi = formatInspector(b);
  const format = fi.format === 'gpt' ? 'raw' : fi.format; // Glance takes a GPT disk as raw
  assert(fi.safe && format === info.format && fi.virtual_size === info['virtual-size'],
    `format_inspector on ${b}: ${JSON.stringify(fi)} (qemu-img: ${info.format}, ${info['virtual-size']})`);
}

export async function qemuCheck(file) {
  const out = await run('qemu-img', ['check', file]);
  assert(/No errors were found/.test(out), `qemu-img check ${file}: ${out}`);
}

/** The native CLI (web/test.sh builds it), for `stackferry digest`; the SHA-512 of a file. */
export { CLI, sha512File };

/** The renderers' resident memory (web/tests/procs.mjs; web/bench.mjs samples it too). */
export { rendererRssKiB } from './procs.mjs';

/** The content digest (converter-wasm/src/digest.rs) of an image, computed natively: qemu-img
 * makes a raw copy, the stackferry CLI digests it. */
export async function contentDigest(image) {
  assert(CLI, 'the stackferry CLI is built (cargo test --workspace --no-run)');
  const raw = path.join(TMP, `cd-${crypto.randomUUID()}.raw`);
  await run('qemu-img', ['convert', '-O', 'raw', image, raw]);
  const d = (await run(CLI, ['digest', raw])).trim();
  fs.rmSync(raw);
  return d;
}

/** A fresh browser profile (own OPFS and localStorage) with the page loaded; `locale` sets
 * the browser's language (navigator.languages, Accept-Language), e.g. 'ko-KR'; `diskMiB` puts
 * the profile on a tmpfs of that size (needs root), so the browser's storage quota is small
 * for real: Chromium grants an origin a share of its profile's disk (see web/README.md). */
export async function open(t, { viewport, init, locale = 'en-US', diskMiB = 0 } = {}) {
  const udd = fs.mkdtempSync(path.join(TMP, 'profile-'));
  if (diskMiB) {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${diskMiB}m`, 'tmpfs', udd]);
    // Pushed first, so it runs after the browser is closed (clean-ups run newest first).
    t.cleanup.push(async () => unmount(udd));
  }
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM, headless: true, args: ARGS, acceptDownloads: true,
    downloadsPath: path.join(udd, 'downloads'), viewport: viewport || { width: 1100, height: 900 }, locale,
  });
  t.cleanup.push(() => ctx.close());
  if (init) await ctx.addInitScript(init);
  const page = ctx.pages()[0] || await ctx.newPage();
  const origin = new URL(site.base).origin;
  const s = { ctx, page, udd, foreign: [], pageErrors: [] };
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')) s.foreign.push(u);
  });
  page.on('pageerror', (e) => s.pageErrors.push(e.message));
  await page.goto(site.base);
  await page.waitForSelector('body[data-ready=true]');
  t.after.push(() => {
    assert(!s.foreign.length, `requests outside our origin: ${s.foreign.join(', ')}`);
    assert(!s.pageErrors.length, `uncaught page errors: ${s.pageErrors.join('; ')}`);
  });
  return s;
}

/** Unmount a tmpfs profile, waiting for the browser's last processes to let go of it. */
async function unmount(dir) {
  for (let i = 0; ; i++) {
    try {
      sh('umount', [dir]);
      return;
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const tid = (id) => `[data-testid="${id}"]`;

export async function feed(page, files) {
  const before = Number(await page.evaluate(() => document.body.dataset.inspected || 0));
  await page.locator(tid('file-input')).setInputFiles(files);
  // Inspection of the new set done (the page counts them).
  await page.waitForFunction((n) => Number(document.body.dataset.inspected || 0) > n, before, { timeout: 60000 });
}

export async function clearFiles(page) {
  await page.locator('#clear-files').click();
}

/** Convert with `format`; resolves to the final progress state. */
export async function convert(page, format = 'qcow2', timeout = 240000) {
  await page.locator(tid('format-select')).selectOption(format);
  // (60 s: once, with another test's 8 GiB download beside it, the button took over 15 s.)
  await page.locator(`${tid('convert-button')}:enabled`).click({ timeout: 60000 });
  await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state), null, { timeout });
  return page.locator(tid('progress')).getAttribute('data-state');
}

export async function download(page, dest, index = 0) {
  const link = page.locator(tid('download-link')).nth(index);
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 600000 }), link.click()]);
  await dl.saveAs(dest);
  return dest;
}

/** The text of every error shown (`#error` and the errors inside the input cards), each with
 * its details (kind, file, offset, the technical message) though they are folded away. */
export async function errorText(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid=error]')]
    .filter((e) => e.checkVisibility())
    .map((e) => e.textContent.trim()).filter(Boolean).join('\n'));
}

/**
 * After a Convert: the result's entry `index` has no SHA-512 yet (only a Send computes it while
 * converting); click its Compute and resolve to the SHA-512 shown then (also the entry's
 * data-sha512).
 */
export async function computeSha512(page, index = 0) {
  const entry = page.locator('#result-disks .result-disk').nth(index);
  assert((await entry.getAttribute('data-sha512')) === null, 'a Convert does not compute the SHA-512 while converting');
  await entry.locator(tid('sha512-compute')).click();
  const value = entry.locator(tid('sha512'));
  await value.waitFor({ timeout: 120000 });
  const sha = await value.textContent();
  assert(/^[0-9a-f]{128}$/.test(sha) && (await entry.getAttribute('data-sha512')) === sha, `the SHA-512 shown and recorded: ${sha}`);
  return sha;
}

/** Convert `files` (top first) and check the download against `source` with qemu-img. */
export async function convertAndCheck(page, files, source, format, name) {
  await feed(page, files);
  const state = await convert(page, format);
  assert(state === 'done', `${name}: conversion ended '${state}': ${await errorText(page)}`);
  const out = await download(page, path.join(TMP, `${name}.${format === 'raw' ? 'raw' : 'qcow2'}`));
  if (format !== 'raw') await qemuCheck(out);
  await qemuCompare(source, out);
  const result = page.locator(tid('result'));
  assert(await result.isVisible(), 'result panel shown');
  assert((await result.getAttribute('data-sha512')) === '-', `${name}: no SHA-512 computed while converting`);
  const sha = await computeSha512(page);
  assert(sha === await sha512File(out) && (await result.getAttribute('data-sha512')) === sha, `${name}: the SHA-512 computed is the download's`);
  assert((await result.getAttribute('data-content-digest')) === await contentDigest(source), `${name}: data-content-digest is the source's content digest`);
  return out;
}

/** Stands in for the File System Access pickers (which automation cannot answer): they hand
 * out files in an OPFS folder "picked", so the page's FileSystemWritableFileStream path runs
 * for real. */
export function stubPickers() {
  const dir = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('picked', { create: true });
  window.showSaveFilePicker = async (opts) => (await dir()).getFileHandle(opts.suggestedName, { create: true });
  window.showDirectoryPicker = async () => dir();
}

/** Copy a file the page saved through a stubbed picker out of the browser. */
export async function pickedFile(page, name, dest) {
  const b64 = await page.evaluate(async (n) => {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('picked');
    const bytes = new Uint8Array(await (await (await d.getFileHandle(n)).getFile()).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, name);
  fs.writeFileSync(dest, Buffer.from(b64, 'base64'));
  return dest;
}

/** A two-disk OVF of a Windows VM (from the ovftool fixture), its disks made by qemu-img. */
export function twoDiskOvf() {
  const dir = fs.mkdtempSync(path.join(TMP, 'winvm-'));
  const vm = path.join(dir, 'winvm');
  fs.mkdirSync(vm);
  const disks = [];
  for (const [k, mib] of [[1, 48], [2, 16]]) {
    const raw = path.join(TMP, `win${k}.raw`);
    sh('python3', [path.join(HERE, 'make-disk.py'), raw, String(mib), String(mib / 8), String(20 + k)]);
    const vmdk = path.join(vm, `winvm-disk${k}.vmdk`);
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, vmdk]);
    fs.rmSync(raw);
    disks.push({ vmdk, mib });
  }
  let ovf = fs.readFileSync(path.join(DATA, 'tk4terui+mdx1/ovf/00_000_essential_none_00_00/vm.ovf'), 'utf8');
  ovf = ovf.replace('<File ovf:href="64KiB.vmdk" ovf:id="file1"/>', '<File ovf:href="winvm-disk1.vmdk" ovf:id="file1"/>\n    <File ovf:href="winvm-disk2.vmdk" ovf:id="file2"/>')
    .replace(/<Disk ovf:capacity="64" ovf:capacityAllocationUnits="byte \* 2\^10" ovf:diskId="vmdisk1" ovf:fileRef="file1"/,
      '<Disk ovf:capacity="48" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2" ovf:fileRef="file2" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>\n    <Disk ovf:capacity="48" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1"')
    .replace('<Name>00_000_essential_none_00_00</Name>', '<Name>winvm</Name>')
    .replace('ovf:id="1" vmw:osType="otherGuest"', 'ovf:id="113" vmw:osType="windows2019srv_64Guest"')
    .replace('</Item>\n   </VirtualHardwareSection>', '</Item>\n      <Item>\n        <rasd:ElementName>Hard disk 2</rasd:ElementName>\n        <rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource>\n        <rasd:InstanceID>9</rasd:InstanceID>\n        <rasd:ResourceType>17</rasd:ResourceType>\n      </Item>\n   </VirtualHardwareSection>');
  // Disk 2 is 16 MiB.
  ovf = ovf.replace('ovf:capacity="48" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2"', 'ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2"');
  fs.writeFileSync(path.join(vm, 'winvm.ovf'), ovf);
  return { dir: vm, disks };
}

/**
 * Write at `vmdk` a stream-optimized VMDK (qemu-img's) of a `virtualMiB` disk holding `dataMiB`
 * of data (make-disk.py with `seed`); returns `vmdk`.
 */
export function streamVmdk(vmdk, virtualMiB, dataMiB, seed) {
  const raw = `${vmdk}.raw`;
  sh('python3', [path.join(HERE, 'make-disk.py'), raw, String(virtualMiB), String(dataMiB), String(seed)]);
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, vmdk]);
  fs.rmSync(raw);
  return vmdk;
}

let bigDisk = null;
/** A generated multi-GB monolithicSparse VMDK (BIG_VIRTUAL_MIB virtual, BIG_DATA_MIB data): its path. */
export function big() {
  bigDisk ??= (async () => {
    const raw = path.join(TMP, 'big.raw');
    await run('python3', [path.join(HERE, 'make-disk.py'), raw, String(BIG_VIRTUAL_MIB), String(BIG_DATA_MIB), '7']);
    const vmdk = path.join(TMP, 'big.vmdk');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, vmdk]);
    fs.rmSync(raw);
    return vmdk;
  })();
  return bigDisk;
}

let bigPackage = null;
/**
 * The big disk packed as ESXi exports a VM: an OVA of the OVF, a SHA-256 manifest and the disk
 * as a streamOptimized VMDK (its planning reads little of it, so the page hashes it beside the
 * conversion; a monolithicSparse one is hashed while planning). Resolves to its path.
 */
export function bigOva() {
  bigPackage ??= (async () => {
    const dir = fs.mkdtempSync(path.join(TMP, 'big-ova-'));
    fs.writeFileSync(path.join(dir, 'big.ovf'), fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
      .replace('ovf:capacity="8589934592"', `ovf:capacity="${BIG_VIRTUAL_MIB * 1048576}"`)
      .replace('ovf:href="ubuntu.2.0-disk1.vmdk"', 'ovf:href="big.vmdk"'));
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'vmdk', '-o', 'subformat=streamOptimized', await big(), path.join(dir, 'big.vmdk')]);
    const digests = (await run('sha256sum', ['big.ovf', 'big.vmdk'], { cwd: dir })).trim().split('\n').map((l) => l.split(/\s+/));
    fs.writeFileSync(path.join(dir, 'big.mf'), digests.map(([d, f]) => `SHA256(${f})= ${d}\n`).join(''));
    const ova = path.join(TMP, 'big.ova');
    await run('tar', ['--format=ustar', '-cf', ova, '-C', dir, 'big.ovf', 'big.mf', 'big.vmdk']);
    fs.rmSync(path.join(dir, 'big.vmdk'));
    return ova;
  })();
  return bigPackage;
}

export async function opfsEntries(page) {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const names = [];
    for await (const [n] of root.entries()) names.push(n);
    return names;
  });
}

