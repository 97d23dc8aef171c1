// Page tests of the files, inputs and errors area: Korean names kept end to end, errors a
// person can act on (a plain sentence, once, beside its file, details folded away), edited
// property values and counts checked before anything is converted or sent, per-file and
// per-input remove, the OS question of a bare VMDK, the whole window as a drop target.
import fs from 'node:fs';
import path from 'node:path';
import { assertSafe, runCommands } from '../shell.mjs';
import {
  VMDKRS, COT, TMP, sh, assert, qemuCompare, open, tid, feed, convert, errorText, streamVmdk,
} from '../page-lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const xml = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/</g, '&lt;');

/**
 * An OVA `ovaName` holding `<vm>.ovf` (the real VirtualBox OVF, renamed) and its disk `member`
 * (16 MiB, stream-optimized, made by qemu-img), as the 'OVA with OVF' test builds it.
 */
function ova(ovaName, vm, member, seed = '3') {
  const dir = fs.mkdtempSync(path.join(TMP, 'ova-in-'));
  streamVmdk(path.join(dir, member), 16, 2, seed);
  const ovf = fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
    .replace('ovf:capacity="8589934592"', `ovf:capacity="${16 << 20}"`)
    .replace('ovf:href="ubuntu.2.0-disk1.vmdk"', `ovf:href="${xml(member)}"`)
    .replace('<VirtualSystem ovf:id="ubuntu">', `<VirtualSystem ovf:id="${xml(vm)}">`);
  fs.writeFileSync(path.join(dir, `${vm}.ovf`), ovf);
  const out = path.join(fs.mkdtempSync(path.join(TMP, 'ova-')), ovaName);
  sh('tar', ['--format=ustar', '-cf', out, '-C', dir, '--', `${vm}.ovf`, member]);
  return { ova: out, vmdk: path.join(dir, member) };
}

/** The errors shown anywhere (cards and #error): `[{kind, text, details}]`, visible ones. */
async function shownErrors(page) {
  return page.evaluate(() => [...document.querySelectorAll('.err')].filter((e) => e.checkVisibility()).map((e) => ({
    kind: e.dataset.kind,
    code: e.dataset.code,
    text: e.querySelector('.err-text').innerText,
    summary: e.querySelector('details > summary') ? e.querySelector('details > summary').innerText : null,
    details: e.querySelector('details') ? e.querySelector('details').textContent : '',
    announced: !!e.closest('[role=alert]'),
    inCard: !!e.closest('#inputs .input'),
  })));
}

/** How often `s` appears in the visible text of the page. */
async function timesShown(page, s) {
  const text = await page.locator('body').innerText();
  return text.split(s).length - 1;
}

test('a Korean-named OVA keeps its names: output, download, progress row and commands (Korean page)', async (t) => {
  const { page } = await open(t, { locale: 'ko-KR' });
  const { ova: file, vmdk } = ova('웹서버.ova', '웹서버', '웹서버-disk1.vmdk');
  await feed(page, [file]);
  assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
  assert((await page.evaluate(() => document.documentElement.lang)) === 'ko', 'the page is Korean');
  const card = await page.locator('#inputs .input').innerText();
  assert(card.includes('디스크 1: 웹서버-disk1.vmdk'), `the disk line in Korean, with its name: ${card}`);
  assert(/VM: 웹서버/.test(card) && /게스트 OS/.test(card), `the VM summary, in its card, in Korean: ${card}`);
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const row = await page.locator('[data-testid=progress] .disk').first().innerText();
  assert(row.includes('웹서버-disk1.qcow2'), `progress row names the output: ${row}`);
  const link = page.locator(tid('download-link')).first();
  const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert(dl.suggestedFilename() === '웹서버-disk1.qcow2', `download name: ${dl.suggestedFilename()}`);
  const out = path.join(TMP, 'korean-download.qcow2');
  await dl.saveAs(out);
  await qemuCompare(vmdk, out);
  // The printed commands, pasted into bash beside the OVA: the names come back exactly.
  const text = await page.locator('#result-disks pre.cmd').first().evaluate((e) => e.textContent);
  const work = fs.mkdtempSync(path.join(TMP, 'paste-ko-'));
  fs.copyFileSync(file, path.join(work, '웹서버.ova'));
  const calls = runCommands(text, work, { real: ['tar', 'qemu-img', 'sha512sum'] });
  assertSafe(calls, ['웹서버']);
  assert(JSON.stringify(calls[0].args) === JSON.stringify(['-xf', './웹서버.ova', '--', '웹서버-disk1.vmdk']), `tar: ${JSON.stringify(calls[0].args)}`);
  assert(JSON.stringify(calls[1].args.slice(-2)) === JSON.stringify(['./웹서버-disk1.vmdk', './웹서버-disk1.qcow2']), `qemu-img: ${JSON.stringify(calls[1].args)}`);
  const image = calls.find((c) => c.cmd === 'openstack' && c.args[0] === 'image');
  assert(image && image.args.at(-1) === '웹서버' && image.args.includes('--file=./웹서버-disk1.qcow2'), `image create: ${JSON.stringify(image)}`);
  await qemuCompare(path.join(work, '웹서버-disk1.qcow2'), out);
});

test('two Korean-named VMs whose disks have the same name never share an output name', async (t) => {
  const { page } = await open(t, { locale: 'ko-KR' });
  const a = ova('웹서버.ova', '웹서버', '웹서버-disk1.vmdk', '4');
  const b = ova('웹서버 사본.ova', '웹서버 사본', '웹서버-disk1.vmdk', '5');
  await feed(page, [a.ova, b.ova]);
  assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
  assert((await page.locator(`#inputs ${tid('vm-summary')}`).count()) === 2, 'one VM summary per input');
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const names = await page.locator(tid('download-link')).evaluateAll((ls) => ls.map((l) => l.getAttribute('download')));
  assert(JSON.stringify(names) === JSON.stringify(['웹서버-disk1.qcow2', '웹서버-disk1-2.qcow2']), `output names: ${JSON.stringify(names)}`);
});

test('a .txt file: one plain sentence naming it (English and Korean), beside it, details folded away', async (t) => {
  const notes = path.join(fs.mkdtempSync(path.join(TMP, 'txt-')), 'notes.txt');
  fs.writeFileSync(notes, 'not a disk\n');
  for (const locale of ['en-US', 'ko-KR']) {
    const { page } = await open(t, { locale });
    await feed(page, [notes]);
    const errs = await shownErrors(page);
    assert(errs.length === 1, `${locale}: one error shown: ${JSON.stringify(errs)}`);
    const [e] = errs;
    assert(e.inCard && e.announced, `${locale}: in its input's card, announced: ${JSON.stringify(e)}`);
    assert(/notes\.txt/.test(e.text), `${locale}: names the file: ${e.text}`);
    assert(!/KDMV|COWD|magic|offset|\[unsupported\]/.test(e.text), `${locale}: no developer words up front: ${e.text}`);
    assert(await timesShown(page, 'notes.txt') <= 3, `${locale}: file list, card title and one error name it, no more`);
    if (locale === 'en-US') {
      assert(/is not a VM disk/.test(e.text) && /\.ova/.test(e.text), `plain English sentence saying what to do: ${e.text}`);
      assert(e.summary === 'Details', `details disclosure: ${e.summary}`);
    } else {
      assert(/\p{Script=Hangul}/u.test(e.text), `Korean sentence: ${e.text}`);
      assert(!/[A-Za-z]{3,}/.test(e.text.replace(/notes\.txt|\.?\b(ova|ovf|vmdk|OVA|OVF|VMDK)\b/g, '')), `no English in the Korean sentence: ${e.text}`);
      assert(e.summary === '자세히', `details disclosure: ${e.summary}`);
    }
    // The details hold what a developer needs: kind, file, offset in decimal and hex, the core's message.
    await page.locator('.err details > summary').first().click();
    const details = await page.locator('.err details').first().innerText();
    assert(/unsupported/.test(details) && /notes\.txt/.test(details), `${locale}: details: ${details}`);
    assert(await page.locator(tid('convert-button')).isDisabled(), `${locale}: nothing to convert`);
  }
});

test('a truncated VMDK: says it is incomplete and to copy it again, once', async (t) => {
  const { page } = await open(t);
  const bytes = fs.readFileSync(path.join(VMDKRS, 'streamOptimized.vmdk'));
  const cut = path.join(fs.mkdtempSync(path.join(TMP, 'cut-')), 'truncated.vmdk');
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await feed(page, [cut]);
  let errs = await shownErrors(page);
  if (!errs.length) {
    assert((await convert(page, 'qcow2')) === 'error', 'a truncated input fails');
    errs = await shownErrors(page);
  }
  assert(errs.length === 1, `one error: ${JSON.stringify(errs)}`);
  assert(/truncated\.vmdk/.test(errs[0].text) && /incomplete/i.test(errs[0].text) && /copy it again/i.test(errs[0].text), `plain sentence: ${errs[0].text}`);
  assert(/KiB|MiB/.test(errs[0].text), `sizes as sizes: ${errs[0].text}`);
  assert(errs[0].kind === 'truncated', `data-kind kept: ${errs[0].kind}`);
  // The details: the offset grouped and in hex (the same number), the core's message.
  await page.locator('.err details > summary').first().click();
  const details = await page.locator('.err details').first().innerText();
  const m = /([\d,]+) \(0x([0-9a-f]+)\)/.exec(details);
  assert(m && Number(m[1].replace(/,/g, '')) === parseInt(m[2], 16), `offset in decimal and hex: ${details}`);
  assert(/truncated\.vmdk/.test(details) && /truncated/.test(details), `details: ${details}`);
});

test('a typo\'d property and min_ram -5 are marked and explained; Convert and Send wait until they are fixed', async (t) => {
  const { page } = await open(t);
  const { ova: file } = ova('web01.ova', 'web01', 'web01-disk1.vmdk');
  await feed(page, [file]);
  const bus = page.locator('#inputs tr', { has: page.locator('label', { hasText: /^hw_disk_bus$/ }) });
  const select = bus.locator('select');
  assert(await select.count() === 1, 'hw_disk_bus is a select');
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
  for (const v of ['virtio', 'sata', 'scsi', 'ide', '__other']) assert(options.includes(v), `option ${v}: ${options}`);
  for (const key of ['hw_vif_model', 'hw_firmware_type', 'os_type']) {
    assert(await page.locator('#inputs tr', { has: page.locator('label', { hasText: new RegExp(`^${key}$`) }) }).locator('select').count() === 1, `${key} is a select`);
  }
  await select.selectOption('__other');
  const other = bus.locator('input.other');
  await other.fill('virtoi');
  assert((await other.getAttribute('aria-invalid')) === 'true', 'the typo is marked invalid');
  const msg = bus.locator('.field-error');
  assert(await msg.isVisible() && /virtio/.test(await msg.innerText()), `the message names the value meant: ${await msg.innerText()}`);
  assert((await other.getAttribute('aria-describedby')).includes(await msg.getAttribute('id')), 'the message describes the field');
  const minRam = page.locator('input[id^=min-ram-]');
  await minRam.fill('-5');
  assert((await minRam.getAttribute('aria-invalid')) === 'true', 'min_ram -5 is marked invalid');
  assert(await page.locator('#min-ram-0-msg').isVisible(), 'with a visible message');
  const problems = await page.evaluate(async () => (await import('./ui/inputs.js')).problems().map((p) => p.field));
  assert(JSON.stringify(problems.sort()) === JSON.stringify(['hw_disk_bus', 'min_ram']), `problems(): ${problems}`);
  assert(await page.locator(tid('convert-button')).isDisabled(), 'Convert waits while a value is invalid');
  assert(await page.locator(tid('send-button')).isDisabled(), 'Send waits while a value is invalid');
  // Fixed: the marks go, Convert is back, the values reach the commands.
  await other.fill('virtio-blk');
  assert(!(await other.getAttribute('aria-invalid')), 'a well-formed other value is taken');
  await minRam.fill('1024');
  assert(!(await minRam.getAttribute('aria-invalid')) && !(await page.locator('#min-ram-0-msg').isVisible()), 'min_ram fixed');
  const state = await convert(page, 'qcow2');
  assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
  const cmds = await page.locator('#result-disks pre.cmd').first().evaluate((e) => e.textContent);
  assert(/--min-ram 1024 /.test(cmds) && /--property=hw_disk_bus=virtio-blk /.test(cmds), `edited values in the commands: ${cmds}`);
});

test('per-file and per-input remove; a broken OVF\'s error stays in its own card', async (t) => {
  const { page } = await open(t);
  const stream = path.join(VMDKRS, 'streamOptimized.vmdk');
  const sparse = path.join(VMDKRS, 'monolithicSparse.vmdk');
  const broken = path.join(fs.mkdtempSync(path.join(TMP, 'broken-')), 'ubuntu.ovf');
  fs.writeFileSync(broken, fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8'));
  await feed(page, [stream, sparse, broken]);
  assert((await page.locator('#file-list li').count()) === 3, 'three files listed');
  // The OVF misses its disk: said in the OVF's card only, not under the VMDKs.
  const cards = page.locator('#inputs .input');
  assert((await cards.count()) === 3, 'one card per input');
  for (let i = 0; i < 3; i++) {
    const c = cards.nth(i);
    const title = await c.locator('h3').first().innerText();
    const errs = await c.locator('.err').count();
    const vms = await c.locator(tid('vm-summary')).count();
    if (/ubuntu\.ovf/.test(title)) assert(errs === 1, `the OVF's card has its error (${errs})`);
    else assert(errs === 0 && vms === 0, `${title}: no error or VM summary of another input (${errs}, ${vms})`);
  }
  const before = Number(await page.evaluate(() => document.body.dataset.inspected));
  await page.getByRole('button', { name: 'Remove streamOptimized.vmdk' }).first().click();
  await page.waitForFunction((n) => Number(document.body.dataset.inspected) > n, before);
  const left = await page.locator('#file-list li .name').allInnerTexts();
  assert(JSON.stringify(left) === JSON.stringify(['monolithicSparse.vmdk', 'ubuntu.ovf']), `left: ${left}`);
  assert((await cards.count()) === 2, 'its input went too');
  // An input's remove takes its files out.
  const again = Number(await page.evaluate(() => document.body.dataset.inspected));
  await page.locator('#inputs .input', { hasText: 'ubuntu.ovf' }).getByRole('button', { name: 'Remove ubuntu.ovf' }).click();
  await page.waitForFunction((n) => Number(document.body.dataset.inspected) > n, again);
  assert(JSON.stringify(await page.locator('#file-list li .name').allInnerTexts()) === JSON.stringify(['monolithicSparse.vmdk']), 'the OVF removed');
  assert(!(await errorText(page)), `its error went with it: ${await errorText(page)}`);
  assert(await page.locator(tid('convert-button')).isEnabled(), 'the VMDK left converts');
});

test('a bare VMDK: min_disk from its size; the OS question applies the core\'s suggestion', async (t) => {
  const { page } = await open(t);
  await feed(page, [path.join(VMDKRS, 'streamOptimized.vmdk')]);
  // 10 MiB virtual: 1 GiB rounded up.
  assert((await page.locator('#min-disk-0').inputValue()) === '1', `min_disk: ${await page.locator('#min-disk-0').inputValue()}`);
  const question = page.locator('#inputs fieldset.os-question');
  if (!(await question.count())) {
    t.note('this wasm gives no os_choices (the core before issue 15): the OS question is not asked');
    return;
  }
  assert((await question.count()) === 1, 'asked once');
  assert(/Linux/.test(await question.innerText()) && /Windows/.test(await question.innerText()), 'Linux / Windows / other');
  await page.getByRole('radio', { name: 'Windows' }).check();
  const row = (key) => page.locator('#inputs tr', { has: page.locator('label', { hasText: new RegExp(`^${key}$`) }) }).locator('select');
  assert((await row('os_type').inputValue()) === 'windows', 'os_type=windows applied');
  assert((await row('hw_disk_bus').inputValue()) === 'sata', 'Windows boots from SATA');
  assert((await page.locator('#min-disk-0').inputValue()) === '1', 'min_disk kept');
  await page.getByRole('radio', { name: 'Linux' }).check();
  assert((await row('os_type').inputValue()) === 'linux', 'os_type=linux applied');
  assert((await row('hw_disk_bus').inputValue()) === 'virtio', 'Linux gets virtio');
});

test('a language switch re-renders files, inputs and errors, keeping what was typed', async (t) => {
  const { page } = await open(t);
  const { ova: file } = ova('web02.ova', 'web02', 'web02-disk1.vmdk');
  await feed(page, [file, path.join(VMDKRS, 'twoGbMaxExtentSparse.vmdk')]);
  await page.locator('select[id^=prop-0-]').first().selectOption('__other');
  await page.locator('input.other').first().fill('virtoi');
  await page.locator('#min-ram-0').fill('-5');
  await page.evaluate(async () => (await import('./i18n/index.js')).setLang('ko'));
  const inputs = await page.locator('#inputs').innerText();
  for (const want of ['디스크 1: web02-disk1.vmdk', 'VM: web02', 'OpenStack 권장 설정', '삭제']) assert(inputs.includes(want), `${want} in: ${inputs}`);
  assert(/twoGbMaxExtentSparse-s001\.vmdk/.test(inputs) && /추가하십시오/.test(inputs), `the missing file, in Korean: ${inputs}`);
  assert((await page.locator('input.other').first().inputValue()) === 'virtoi', 'the typed value kept');
  assert((await page.locator('#min-ram-0').inputValue()) === '-5', 'the typed number kept');
  const marks = await page.locator('#inputs .field-error:visible').allInnerTexts();
  assert(marks.length === 2 && marks.every((m) => /\p{Script=Hangul}/u.test(m)), `both still marked, in Korean: ${marks}`);
  assert(/\p{Script=Hangul}/u.test(await page.locator('#drop').innerText()), 'the drop zone in Korean');
  assert((await page.getByRole('button', { name: 'web02.ova 삭제' }).count()) === 2, 'remove buttons labelled in Korean (file and input)');
});

test('the new core shapes (contract): os_choices asked and applied, OS product names, coded errors, warnings and notes', async (t) => {
  const { page } = await open(t);
  // An inspection as the issue-15 core gives it, shown through the page's own module.
  await page.evaluate(async () => {
    const GIB = 1 << 30;
    const why = (code) => [{ code, args: {} }];
    const sug = (bus, os, minDisk) => ({
      properties: [{ key: 'hw_disk_bus', value: bus, reason: `bus ${bus}`, why: why('bus') }, { key: 'os_type', value: os, reason: os, why: why('os') }].filter((p) => p.value),
      min_ram: null, min_disk: minDisk, flavor: { vcpus: null, ram_mib: null, disk_gib: minDisk, reason: 'x', why: why('flavor') },
    });
    const disk = (name, size, warnings = []) => ({ name, format: 'vmdk', subformat: 'monolithicSparse', virtual_size: size, allocated_bytes: 1 << 20, parents: [], warnings });
    const inspected = {
      inputs: [
        {
          name: 'bare.vmdk', uses: [0], top: 0,
          inspection: {
            kind: 'vmdk', disks: [disk('bare.vmdk', 40 * GIB + 1, [{ code: 'unclean_shutdown', file: 'bare.vmdk', offset: null, message: 'the VMDK was not closed cleanly', args: {} }])],
            missing: [], warnings: [], vm: null, suggestion: null,
            os_choices: { linux: sug('virtio', 'linux', 41), windows: sug('sata', 'windows', 41), other: sug('ide', '', 41) },
          },
        },
        {
          name: 'web01.ova', uses: [1], top: 1,
          inspection: {
            kind: 'ova', disks: [disk('web01-disk1.vmdk', 8 * GIB)], missing: [],
            warnings: [{ code: 'manifest_checked', file: 'web01.ovf', offset: null, message: 'web01.ovf: manifest digests of the disks are checked during conversion', args: {} }],
            vm: { name: 'web01', os: { product: 'Windows Server 2019', bits: 64, vmw_os_type: 'windows2019srv_64Guest', id: 113 }, vcpus: 2, memory_mib: 4096, networks: [], disks: [], nics: [] },
            suggestion: sug('sata', 'windows', 8),
          },
        },
        { name: 'notes.txt', uses: [2], top: 2, error: { kind: 'unsupported', code: 'not_a_disk', file: 'notes.txt', offset: 0, message: "offset 0 (0x0): not a VMDK: no 'KDMV' or 'COWD' sparse magic", args: {} } },
      ],
      unused: [],
    };
    const files = ['bare.vmdk', 'web01.ova', 'notes.txt'].map((name) => ({ name, blob: new Blob([]) }));
    (await import('./ui/inputs.js')).show(inspected, files);
  });
  // The bare VMDK: min_disk from its size, the question asked once, each answer applied.
  const bare = page.locator('#inputs .input[data-input="0"]');
  assert((await bare.locator('#min-disk-0').inputValue()) === '41', 'min_disk from the virtual size (40 GiB + 1 byte → 41)');
  assert((await bare.locator('fieldset.os-question').count()) === 1, 'the OS question, once');
  assert((await bare.locator('fieldset.os-question legend').innerText()).length > 0, 'a labelled group');
  await bare.getByRole('radio', { name: 'Windows' }).check();
  const sel = (key) => page.locator('#inputs .input[data-input="0"] tr', { has: page.locator('label', { hasText: new RegExp(`^${key}$`) }) }).locator('select');
  assert((await sel('hw_disk_bus').inputValue()) === 'sata' && (await sel('os_type').inputValue()) === 'windows', 'Windows applied');
  assert(await page.locator('#os-0-windows').isChecked(), 'the answer stays ticked after the re-render');
  await page.getByRole('radio', { name: 'Linux' }).check();
  assert((await sel('hw_disk_bus').inputValue()) === 'virtio' && (await sel('os_type').inputValue()) === 'linux', 'Linux applied');
  assert((await page.locator('#min-disk-0').inputValue()) === '41', 'min_disk stays');
  assert(/not closed cleanly/.test(await bare.locator('.warn').innerText()), 'a disk warning, as a warning');
  // The VM: its OS by product name; the raw id only beside it.
  const vm = page.locator(`#inputs .input[data-input="1"] ${tid('vm-summary')}`);
  const os = await vm.locator('dd').first().innerText();
  assert(os.startsWith('Windows Server 2019, 64-bit'), `OS name: ${os}`);
  assert(await vm.locator('dd .ids').innerText().then((x) => x.includes('windows2019srv_64Guest')), 'the raw id as a hint');
  assert((await page.locator('#inputs .input[data-input="1"] .note').count()) === 1 && !(await page.locator('#inputs .input[data-input="1"] .warn').count()), 'manifest_checked is a note');
  // The error: in its card, once, by its code, the technical words in the details.
  const errs = await shownErrors(page);
  assert(errs.length === 1 && errs[0].inCard && errs[0].code === 'not_a_disk' && errs[0].kind === 'unsupported', `one coded error: ${JSON.stringify(errs)}`);
  assert(/notes\.txt/.test(errs[0].text) && !/KDMV/.test(errs[0].text) && /KDMV/.test(errs[0].details), `sentence up front, message in the details: ${JSON.stringify(errs[0])}`);
});

test('a manifest that will be checked is a note, not a warning', async (t) => {
  const { page } = await open(t);
  await feed(page, ['ubuntu.2.0.ovf', 'ubuntu.2.0-disk1.vmdk', 'ubuntu.2.0.mf'].map((f) => path.join(COT, f)));
  const notes = await page.locator('#inputs .note').allInnerTexts();
  const warns = await page.locator('#inputs .warn').allInnerTexts();
  assert(notes.some((n) => /manifest/i.test(n)), `the manifest check is a note: ${notes}`);
  assert(!warns.some((w) => /manifest/i.test(w)), `not a warning: ${warns}`);
});

test('the whole window takes a drop of files, with a visible drop state; the drop hint has no keyboard words on touch', async (t) => {
  const { page } = await open(t);
  const dropped = await page.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(512)], 'dropped-beside.vmdk'));
    const target = document.querySelector('header');
    target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const shown = document.body.classList.contains('dropping');
    const ev = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(ev);
    return { shown, prevented: ev.defaultPrevented };
  });
  assert(dropped.shown, 'dragging files over the page shows the drop state');
  assert(dropped.prevented, 'the browser does not open the dropped file');
  await page.waitForFunction(() => document.querySelector('#file-list').textContent.includes('dropped-beside.vmdk'));
  assert(!(await page.evaluate(() => document.body.classList.contains('dropping'))), 'drop state cleared');
  assert(/press Enter/.test(await page.locator('#drop-help').innerText()), 'keyboard hint with a mouse');
  // A phone: a touch screen, the pointer coarse.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  assert(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), 'touch emulated');
  const hint = await page.locator('#drop-help').innerText();
  assert(!/Enter|press/i.test(hint) && /Tap/.test(hint), `touch hint: ${hint}`);
});

export { tests };
