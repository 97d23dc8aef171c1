// What a hostile OVF shows (issue 17, finding 5): markup in the VM's name, its OS description
// and its network names is text on the page, never elements or script. A tampered OVA (its
// manifest's digest not its disk's) stops the conversion.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { COT, TMP, assert, clearFiles, convert, download, errorText, feed, open, opfsEntries, qemuCompare, sh, streamVmdk } from '../page-lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const xml = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const NAME = '<img src=x onerror="window.__pwned=1">';
const OS = '<b onmouseover="window.__pwned=2">Ubuntu</b>';
const NET = '<script>window.__pwned=3</script>';

/** An OVA of the real VirtualBox OVF with markup in its VM name, OS description and network. */
function hostileOva() {
  const dir = fs.mkdtempSync(path.join(TMP, 'markup-'));
  streamVmdk(path.join(dir, 'd.vmdk'), 16, 2, 9);
  const ovf = fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
    .replace('ovf:capacity="8589934592"', `ovf:capacity="${16 << 20}"`)
    .replace('ovf:href="ubuntu.2.0-disk1.vmdk"', 'ovf:href="d.vmdk"')
    .replace('<VirtualSystem ovf:id="ubuntu">', `<VirtualSystem ovf:id="${xml(NAME)}">`)
    .replace('<Description>Ubuntu_64</Description>', `<Description>${xml(OS)}</Description>`)
    .replaceAll('"NAT"', `"${xml(NET)}"`)
    .replaceAll('>NAT<', `>${xml(NET)}<`);
  fs.writeFileSync(path.join(dir, 'vm.ovf'), ovf);
  const out = path.join(dir, 'markup.ova');
  sh('tar', ['--format=ustar', '-cf', out, '-C', dir, 'vm.ovf', 'd.vmdk']);
  return out;
}

test('hostile OVF: markup in the VM name, OS description and network names is shown as text, never run', async (t) => {
  const { page } = await open(t);
  await feed(page, [hostileOva()]);
  const card = page.locator('#inputs [data-testid=vm-summary]');
  await card.waitFor({ timeout: 15000 });
  const text = await card.innerText();
  for (const s of [NAME, NET]) assert(text.includes(s), `the summary shows ${s} as text: ${text.slice(0, 400)}`);
  const found = await page.evaluate(() => ({
    pwned: window.__pwned,
    elements: document.querySelectorAll('#main img, #main b[onmouseover], #main script, [onerror], [onmouseover]').length,
  }));
  assert(found.pwned === undefined, `no markup ran (window.__pwned=${found.pwned})`);
  assert(found.elements === 0, `no element made from the file's text (${found.elements})`);
  // Hovering what would be the <b onmouseover> runs nothing either.
  await card.hover();
  assert(await page.evaluate(() => window.__pwned) === undefined, 'hover runs nothing');
});

/**
 * An ESXi-style OVA (OVF, manifest, disk) of a 64 MiB disk with 24 MiB of data, its manifest
 * listing the disk's SHA-256, or that digest with one bit flipped (`tampered`).
 */
function manifestOva(tampered) {
  const dir = fs.mkdtempSync(path.join(TMP, 'mf-'));
  const vmdk = streamVmdk(path.join(dir, 'd.vmdk'), 64, 24, 11);
  fs.writeFileSync(path.join(dir, 'vm.ovf'), fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
    .replace('ovf:capacity="8589934592"', `ovf:capacity="${64 << 20}"`)
    .replace('ovf:href="ubuntu.2.0-disk1.vmdk"', 'ovf:href="d.vmdk"'));
  const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
  let disk = sha('d.vmdk');
  if (tampered) disk = disk.slice(0, -1) + (disk.at(-1) === '0' ? '1' : '0');
  fs.writeFileSync(path.join(dir, 'vm.mf'), `SHA256(vm.ovf)= ${sha('vm.ovf')}\nSHA256(d.vmdk)= ${disk}\n`);
  const ova = path.join(dir, tampered ? 'tampered.ova' : 'vm.ova');
  sh('tar', ['--format=ustar', '-cf', ova, '-C', dir, 'vm.ovf', 'vm.mf', 'd.vmdk']);
  return { ova, vmdk };
}

test('an OVA whose manifest does not match its disk stops with the checksum error and leaves no output; the right digest converts', async (t) => {
  const { page } = await open(t);
  // The disk's digest is computed beside the conversion (its own worker, from the blocks the
  // converter reads) and compared by the core before the last bytes are written.
  await feed(page, [manifestOva(true).ova]);
  assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
  const state = await convert(page, 'qcow2');
  const err = await errorText(page);
  assert(state === 'error', `the tampered OVA converted: ${state}`);
  assert(/d\.vmdk does not match its digest in vm\.mf/.test(err) && /checksum/.test(err), `the checksum error names the disk and the manifest: ${err}`);
  assert((await opfsEntries(page)).length === 0, `no output left: ${await opfsEntries(page)}`);
  await clearFiles(page);
  const good = manifestOva(false);
  await feed(page, [good.ova]);
  assert(await convert(page, 'qcow2') === 'done', `the right digest converts: ${await errorText(page)}`);
  await qemuCompare(good.vmdk, await download(page, path.join(TMP, 'mf.qcow2')));
});

export { tests };
