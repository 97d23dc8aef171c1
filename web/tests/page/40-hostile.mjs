// What a hostile OVF shows (issue 17, finding 5): markup in the VM's name, its OS description
// and its network names is text on the page, never elements or script.
import fs from 'node:fs';
import path from 'node:path';
import { COT, HERE, TMP, assert, feed, open, sh } from '../page-lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const xml = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const NAME = '<img src=x onerror="window.__pwned=1">';
const OS = '<b onmouseover="window.__pwned=2">Ubuntu</b>';
const NET = '<script>window.__pwned=3</script>';

/** An OVA of the real VirtualBox OVF with markup in its VM name, OS description and network. */
function hostileOva() {
  const dir = fs.mkdtempSync(path.join(TMP, 'markup-'));
  const raw = path.join(dir, 'disk.raw');
  sh('python3', [path.join(HERE, 'make-disk.py'), raw, '16', '2', '9']);
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, path.join(dir, 'd.vmdk')]);
  fs.rmSync(raw);
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

export { tests };
