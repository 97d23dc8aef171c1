// Page tests of the Guest card (ui/guest.js, issue 11): a VMDK holding a real Debian 12 file
// system (made here with mke2fs -d, an MBR by sfdisk, a gzip newc initrd by cpio, then
// qemu-img's stream-optimized VMDK) shows its OS, that it boots from virtio, its kernel with its
// virtio driver, the /etc/fstab risk at its line; the file browser reads /home/user/message.txt
// — in English (by clicking through the folders) and in Korean (by typing the path); a language
// switch redraws the card and keeps the file shown.
import fs from 'node:fs';
import path from 'node:path';
import { TMP, sh, assert, open, tid, feed, errorText } from '../page-lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const KERNEL = '6.1.0-13-amd64';
/** /etc/fstab as Debian's installer writes it, the root by device name (the risk) on line 4. */
const FSTAB = [
  '# /etc/fstab: static file system information.',
  '#',
  '# <file system> <mount point>   <type>  <options>       <dump>  <pass>',
  '/dev/sda1       /               ext4    errors=remount-ro 0       1',
];
const FSTAB_LINE = 4;
const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;
/** What Debian's kernel builds in (virtio_pci among them): modules.builtin, in the root and the initrd. */
const BUILTIN = ['kernel/drivers/virtio/virtio.ko', 'kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/virtio/virtio_pci.ko', ''].join('\n');

function put(root, rel, data) {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

/** debian12.vmdk: an MBR disk whose partition 1 is an ext4 Debian 12 root. */
function debianDisk() {
  const dir = fs.mkdtempSync(path.join(TMP, 'guest-'));
  const root = path.join(dir, 'root');
  put(root, 'etc/os-release', OS_RELEASE);
  put(root, 'etc/fstab', `${FSTAB.join('\n')}\n`);
  put(root, 'home/user/message.txt', 'Hello World\n');
  // Placeholders: inspection reads names and archive layouts, not machine code.
  put(root, `boot/vmlinuz-${KERNEL}`, Buffer.concat([Buffer.from('MZ'), Buffer.alloc(4094, 0x90)]));
  put(root, `lib/modules/${KERNEL}/modules.builtin`, BUILTIN);
  const initrd = path.join(dir, 'initrd');
  put(initrd, `lib/modules/${KERNEL}/kernel/drivers/block/virtio_blk.ko`, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(1020)]));
  put(initrd, `lib/modules/${KERNEL}/modules.builtin`, BUILTIN);
  fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
  sh('bash', ['-c', 'find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n > "$1"', 'bash', path.join(root, `boot/initrd.img-${KERNEL}`)], { cwd: initrd });
  const fsImg = path.join(dir, 'root.ext4');
  sh('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'root', '-d', root, fsImg, '64M']);
  const raw = path.join(dir, 'disk.raw');
  fs.writeFileSync(raw, '');
  fs.truncateSync(raw, (64 + 1) << 20);
  sh('sfdisk', ['--quiet', raw], { input: 'label: dos\nstart=2048, type=83\n', stdio: ['pipe', 'pipe', 'pipe'] });
  sh('dd', [`if=${fsImg}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  const vmdk = path.join(dir, 'debian12.vmdk');
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, vmdk]);
  for (const p of [raw, fsImg]) fs.rmSync(p);
  return vmdk;
}

/** The card's checks in `lang` (en or ko). */
async function checkCard(page, lang) {
  const card = page.locator(tid('guest-card'));
  assert((await card.count()) === 1, `${lang}: one Guest card (${await card.count()})`);
  const text = await card.innerText();
  assert(text.includes('Debian GNU/Linux 12 (bookworm)'), `${lang}: the OS: ${text}`);
  const boot = page.locator(tid('guest-boot'));
  assert((await boot.getAttribute('data-state')) === 'virtio', `${lang}: boots from virtio: ${await boot.innerText()}`);
  const verdict = await boot.locator('.verdict').innerText();
  assert(verdict === (lang === 'en' ? 'Boots from virtio.' : 'virtio 디스크로 부팅할 수 있습니다.'), `${lang}: the verdict: ${verdict}`);
  const kernels = page.locator(tid('guest-kernel'));
  assert((await kernels.count()) === 1, `${lang}: one kernel`);
  const kernel = await kernels.innerText();
  assert(kernel.includes(KERNEL) && kernel.includes('virtio_blk'), `${lang}: the kernel and its virtio driver: ${kernel}`);
  assert((await kernels.getAttribute('data-default')) === 'true', `${lang}: the only kernel is the default`);
  const risk = page.locator(`${tid('guest-risk')}[data-code=fstab_device]`);
  assert((await risk.count()) === 1, `${lang}: the fstab risk: ${text}`);
  const r = await risk.innerText();
  assert(r.includes(`/etc/fstab:${FSTAB_LINE}`) && r.includes('/dev/sda1'), `${lang}: the risk at its line: ${r}`);
  assert(lang === 'en' ? /Mount it by UUID or label/.test(r) : /UUID나 레이블로 마운트하십시오/.test(r), `${lang}: the risk's sentence: ${r}`);
}

/** The file shown by the browser. */
async function shownFile(page) {
  await page.waitForSelector(tid('guest-file'), { timeout: 60000 });
  return (await page.locator(tid('guest-file')).innerText()).trim();
}

/** Wait until the browser lists an entry named `name`; returns it. */
async function entry(page, name) {
  const el = page.locator(`${tid('guest-entry')}[data-name="${name}"]`);
  await el.waitFor({ timeout: 60000 });
  return el;
}

test('Guest card: a Debian disk: OS, boots from virtio, the fstab risk; the browser reads message.txt (English, then Korean)', async (t) => {
  const vmdk = debianDisk();
  // English: click through the folders.
  {
    const { page } = await open(t);
    await feed(page, [vmdk]);
    assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
    await checkCard(page, 'en');
    await page.locator(`${tid('guest-browser')} > summary`).click();
    for (const name of ['home', 'user']) await (await entry(page, name)).click();
    await (await entry(page, 'message.txt')).click();
    const shown = await shownFile(page);
    assert(shown === 'Hello World', `message.txt: ${JSON.stringify(shown)}`);
    // A language switch redraws the card in Korean and keeps the file shown.
    await page.locator('#lang-select').selectOption('ko');
    await checkCard(page, 'ko');
    assert((await shownFile(page)) === 'Hello World', 'the file stays shown after the switch');
  }
  // Korean: type the path, with the keyboard.
  {
    const { page } = await open(t, { locale: 'ko-KR' });
    await feed(page, [vmdk]);
    assert(!(await errorText(page)), `inspects without error: ${await errorText(page)}`);
    await checkCard(page, 'ko');
    await page.locator(`${tid('guest-browser')} > summary`).focus();
    await page.keyboard.press('Enter');
    await entry(page, 'home');
    const input = page.locator(tid('guest-path'));
    await input.fill('/home/user/message.txt');
    await input.press('Enter');
    const shown = await shownFile(page);
    assert(shown === 'Hello World', `message.txt: ${JSON.stringify(shown)}`);
    const heading = await page.locator('.guest-file-view h5').innerText();
    assert(heading.includes('/home/user/message.txt') && /12\s?B/.test(heading), `the file's path and size: ${heading}`);
  }
});

export { tests };
