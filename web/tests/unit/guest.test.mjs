// The Guest card's words under node (web/src/ui/guest.js guestView, fileView, normalPath), in
// English and Korean, from fixtures shaped as the core's report (converter-wasm/src/guest/
// report.rs `Guest`, serde JSON): a RHEL-like guest that boots only from SATA (with the dracut
// fix), one that will not boot at all, a Debian guest with risks, a Windows guest, a guest with
// only problems, and null (nothing read). The card draws exactly these views.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestView, fileView, normalPath, READ_CAP } from '../../src/ui/guest.js';
import { CATALOGUES, setLang, msg } from '../../src/i18n/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const G = JSON.parse(fs.readFileSync(path.join(HERE, 'guest-fixtures.json'), 'utf8'));

/** `f(lang)` in English, then in Korean (English again afterwards). */
function inBoth(f) {
  try {
    for (const l of ['en', 'ko']) {
      setLang(l);
      f(l);
    }
  } finally {
    setLang('en');
  }
}

/** Every string in a view, to check that no `{placeholder}` is left unfilled. */
function strings(v) {
  if (typeof v === 'string') return [v];
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

test('guest: a RHEL guest that boots only from SATA says so, with the dracut fix to copy', () => {
  const g = G.rhel_sata_only;
  inBoth((l) => {
    const v = guestView(g);
    assert.equal(v.os, 'Rocky Linux 9.3 (Blue Onyx)');
    assert.equal(v.evidence, '/etc/os-release');
    assert.deepEqual(v.evidencePieces, [{ name: '/etc/os-release' }]);
    assert.equal(v.boot.state, 'other');
    assert.equal(v.boot.text, l === 'en' ? 'Boots from SATA, not virtio.' : 'virtio가 아닌 SATA 디스크로 부팅합니다.');
    // The evidence from the core's code and names, in the page's language.
    assert.equal(v.boot.reason, l === 'en'
      ? 'Evidence: initramfs-5.14.0-362.el9_3.x86_64.img has no virtio_blk; it has ahci.'
      : '근거: initramfs-5.14.0-362.el9_3.x86_64.img에 virtio_blk이(가) 없지만 ahci은(는) 부팅할 때 쓸 수 있습니다.');
    // The copy button copies exactly the core's command.
    assert.equal(v.boot.fix.command, g.boot.fix);
    assert.match(v.boot.fix.lead, l === 'en' ? /^To boot from virtio .*source VM/ : /virtio로 부팅하려면.*원본 VM/);
    assert.equal(v.boot.goOn, null, 'it boots: no warning that it will not');
    assert.equal(v.boot.net, 'virtio');
    assert.equal(v.kernels.length, 2);
    const [k, old] = v.kernels;
    assert.equal(k.version, '5.14.0-362.el9_3.x86_64');
    assert.ok(k.isDefault && !old.isDefault, 'the default kernel is marked, only it');
    assert.equal(k.defaultText, l === 'en' ? 'starts by default' : '기본으로 시작');
    assert.equal(k.layers, 'none + zstd');
    assert.deepEqual(k.drivers.map((d) => [d.name, d.foundText]), l === 'en'
      ? [['virtio_blk', 'missing'], ['virtio_scsi', 'missing'], ['virtio_pci', 'missing'], ['ahci', 'in the initramfs'], ['vmw_pvscsi', 'in the initramfs']]
      : [['virtio_blk', '없음'], ['virtio_scsi', '없음'], ['virtio_pci', '없음'], ['ahci', '초기 램디스크에 있음'], ['vmw_pvscsi', '초기 램디스크에 있음']]);
    assert.equal(old.initramfs, null);
    assert.equal(old.problem, g.kernels[1].problem);
    assert.deepEqual(v.volumes.map((x) => x.mount), ['/boot', null, '/', null]);
    assert.deepEqual(v.volumes.map((x) => x.content), l === 'en'
      ? ['xfs', 'LVM physical volume', 'xfs', 'swap space'] : ['xfs', 'LVM 물리 볼륨', 'xfs', '스왑 공간']);
    assert.equal(v.volumes[2].size, '17.0 GiB');
    assert.equal(v.risks.length, 0);
    assert.equal(v.risksTitle, l === 'en' ? 'Nothing found that would break after the move.' : '옮긴 뒤에 문제가 될 만한 항목을 찾지 못했습니다.');
    assert.deepEqual(strings(v).filter((s) => /\{\w+\}/.test(s)), []);
    assert.equal(v.browse, true);
  });
});

test('guest: a guest that will not boot says it plainly, that one may go on, and what to run', () => {
  const g = G.rhel_no_boot;
  inBoth((l) => {
    const v = guestView(g);
    assert.equal(v.boot.state, 'none');
    assert.equal(v.boot.text, l === 'en' ? 'Will not boot as is.' : '이대로는 부팅되지 않습니다.');
    assert.match(v.boot.goOn, l === 'en' ? /convert it anyway/ : /변환할 수는 있지만/);
    assert.equal(v.boot.fix.command, g.boot.fix);
    assert.equal(v.boot.fix.lead, l === 'en' ? 'Run this on the source VM, then export it again:' : '원본 VM에서 다음 명령을 실행한 뒤 다시 내보내십시오:');
    assert.equal(v.boot.reason, l === 'en'
      ? 'Evidence: initramfs-4.18.0-513.5.1.el8_9.x86_64.img has no virtio_blk, and no driver for any other bus OpenStack offers (virtio-scsi, SATA, IDE); only VMware\'s: vmw_pvscsi, vmxnet3.'
      : '근거: initramfs-4.18.0-513.5.1.el8_9.x86_64.img에 virtio_blk이(가) 없고 OpenStack이 제공하는 다른 버스(virtio-scsi, SATA, IDE)의 드라이버도 없습니다. VMware용 드라이버(vmw_pvscsi, vmxnet3)만 있습니다.');
    assert.equal(v.browse, false, 'no volume: nothing to browse');
  });
});

test('guest: a Debian guest lists its risks with file:line, the line quoted and the fix', () => {
  const g = G.debian_risks;
  inBoth((l) => {
    const v = guestView(g);
    assert.equal(v.os, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(v.boot.state, 'virtio');
    assert.equal(v.boot.text, l === 'en' ? 'Boots from virtio.' : 'virtio 디스크로 부팅할 수 있습니다.');
    assert.equal(v.boot.fix, null);
    assert.equal(v.boot.reason, l === 'en'
      ? 'Evidence: virtio_pci is built into kernel 6.1.0-13-amd64 and virtio_blk is in initrd.img-6.1.0-13-amd64.'
      : '근거: virtio_pci는 커널 6.1.0-13-amd64에 내장되어 있고 virtio_blk는 initrd.img-6.1.0-13-amd64에 들어 있습니다.');
    assert.equal(v.risks.length, g.risks.length);
    assert.equal(v.risksTitle, l === 'en' ? '4 things to check before the move' : '옮기기 전에 확인할 항목 4개');
    assert.deepEqual(v.risks.map((r) => r.where), ['/etc/fstab:9', '/etc/network/interfaces:12', '/etc/network/interfaces:13', '/etc/cloud']);
    assert.deepEqual(v.risks.map((r) => r.text), g.risks.map((r) => r.text));
    assert.deepEqual(v.risks.map((r) => r.fix), g.risks.map((r) => r.fix));
    const [fstab, nic, addr, cloud] = v.risks;
    assert.ok(fstab.sentence.includes('/dev/sda1') && fstab.sentence.includes('/dev/vdX'), fstab.sentence);
    assert.match(fstab.sentence, l === 'en' ? /Mount it by UUID or label/ : /UUID나 레이블로 마운트하십시오/);
    assert.ok(nic.sentence.includes('ens192'), nic.sentence);
    assert.ok(addr.sentence.includes('192.0.2.10/24'), addr.sentence);
    assert.match(cloud.sentence, l === 'en' ? /cloud-init is not installed/ : /cloud-init이 설치되어 있지 않습니다/);
    if (l === 'ko') for (const r of v.risks) assert.match(r.sentence, /\p{Script=Hangul}/u, r.code);
    assert.equal(v.kernels[0].drivers.find((d) => d.name === 'virtio_pci').foundText, l === 'en' ? 'built in' : '커널에 내장');
    assert.equal(v.volumes[0].name, 'disk 1 partition 1 (root)');
    assert.deepEqual(strings(v).filter((s) => /\{\w+\}/.test(s)), []);
  });
});

test('guest: a Windows guest: product, version and build, its virtio drivers, SATA', () => {
  const g = G.windows;
  inBoth((l) => {
    const v = guestView(g);
    assert.equal(v.os, l === 'en' ? 'Windows Server 2019 Standard, version 10.0, build 17763' : 'Windows Server 2019 Standard, 버전 10.0, 빌드 17763');
    assert.equal(v.kernels.length, 0);
    assert.deepEqual(v.windowsDrivers.map((d) => [d.name, d.found]), [['viostor', 'missing'], ['vioscsi', 'missing'], ['netkvm', 'missing']]);
    assert.equal(v.windowsDrivers[0].foundText, l === 'en' ? 'missing' : '없음');
    assert.equal(v.boot.text, l === 'en' ? 'Boots from SATA, not virtio.' : 'virtio가 아닌 SATA 디스크로 부팅합니다.');
    assert.equal(v.boot.net, 'e1000e');
    assert.equal(v.boot.reason, l === 'en'
      ? 'Evidence: viostor is not installed; Windows has AHCI (storahci) inbox.'
      : '근거: viostor이(가) 설치되어 있지 않습니다. Windows에는 AHCI 드라이버(storahci)가 기본으로 들어 있습니다.');
    assert.equal(v.evidence, g.os.evidence);
    assert.equal(v.boot.fix.command, g.boot.fix);
    assert.deepEqual(v.risks.map((r) => r.code), ['no_virtio_storage', 'no_virtio_net']);
    assert.match(v.risks[0].sentence, /INACCESSIBLE_BOOT_DEVICE/);
    assert.equal(v.risks[0].where, '/Windows/System32/config/SYSTEM');
    assert.deepEqual(v.volumes.map((x) => x.name), ['disk 1 partition 1 (System Reserved)', 'disk 1 partition 2']);
  });
  // Installed drivers read as installed, not as "built in".
  const installed = { ...g, windows: { ...g.windows, drivers: [{ name: 'viostor', found: 'builtin', evidence: 'Services\\viostor Start=0' }] } };
  assert.equal(guestView(installed).windowsDrivers[0].foundText, 'installed');
});

test('guest: a guest with only problems: OS not recognised, no boot decision, the problems listed', () => {
  const g = G.problems_only;
  inBoth((l) => {
    const v = guestView(g);
    assert.equal(v.os, l === 'en' ? 'not recognised' : '확인되지 않음');
    assert.equal(v.evidence, null);
    assert.equal(v.boot.state, 'unknown');
    assert.match(v.boot.text, l === 'en' ? /do not tell which disk bus/ : /알 수 없습니다/);
    assert.deepEqual(v.problems, g.problems);
    assert.equal(v.volumes[0].content, l === 'en' ? 'encrypted (LUKS)' : '암호화됨(LUKS)');
    assert.deepEqual([v.kernels, v.risks, v.windowsDrivers], [[], [], []]);
    // Nothing was read: no "nothing found that would break"; the volume can still be browsed.
    assert.equal(v.risksTitle, null);
    assert.equal(v.browse, true);
  });
});

test('guest: in Korean, the reason of a guest whose initramfs lacks virtio is Korean around its names', () => {
  const g = G.rhel_sata_only;
  const img = g.boot.reason.args.initramfs;
  setLang('ko');
  try {
    const v = guestView(g);
    // The card draws the names (initramfs, drivers) as code, the rest as the sentence.
    const names = v.boot.reasonPieces.filter((p) => typeof p !== 'string').map((p) => p.name);
    assert.deepEqual(names, [img, 'virtio_blk', 'ahci']);
    const words = v.boot.reasonPieces.filter((p) => typeof p === 'string').join('');
    assert.match(words, /\p{Script=Hangul}/u);
    assert.doesNotMatch(words, /[A-Za-z]/, `no English around the names: ${words}`);
    assert.ok(v.boot.reason.includes(img), v.boot.reason);
    // The suggestion's reason (why.guest_disk) says the same in Korean.
    const why = msg({ code: 'guest_disk', args: { reason: g.boot.reason.code, ...g.boot.reason.args } }, 'why.');
    assert.equal(why, `게스트 디스크에서 직접 확인했습니다: ${img}에 virtio_blk이(가) 없지만 ahci은(는) 부팅할 때 쓸 수 있습니다.`);
    // An OS known only from its kernels: a sentence, not a path.
    const kernelsOnly = guestView({ ...g, os: { ...g.os, evidence: { code: 'kernels_only', args: {} } } });
    assert.equal(kernelsOnly.evidence, '/boot에 커널이 있지만 os-release는 없습니다');
  } finally {
    setLang('en');
  }
});

test('guest: null says nothing could be read; a core without guest inspection gives no card', () => {
  inBoth((l) => {
    const v = guestView(null);
    assert.equal(v.title, l === 'en' ? 'Guest: what is inside the disks' : '게스트: 디스크 안의 내용');
    assert.match(v.none, l === 'en' ? /^No file system could be read/ : /^이 디스크에서 읽을 수 있는 파일 시스템이 없습니다/);
    assert.equal(v.os, undefined);
  });
  assert.equal(guestView(undefined), null);
});

test('guest browser: text, binary and cut files; paths as the core takes them', () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.deepEqual(fileView(enc('Hello World\n')), { binary: false, text: 'Hello World\n', note: null });
  assert.equal(fileView(enc('한글 파일\n')).text, '한글 파일\n');
  inBoth((l) => {
    const nul = fileView(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), { size: 123456 });
    assert.deepEqual([nul.binary, nul.text], [true, l === 'en' ? 'binary, 123,456 bytes' : '바이너리 파일, 123,456바이트']);
    const latin1 = fileView(new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    assert.deepEqual([latin1.binary, latin1.text], [true, l === 'en' ? 'binary, 5 bytes' : '바이너리 파일, 5바이트']);
  });
  // Read with a cap of cap + 1 bytes: one more byte than shown means the file is longer.
  const cap = 8;
  const long = fileView(enc('abcdefghi'), { cap, size: 3 << 20 });
  assert.equal(long.text, 'abcdefgh');
  assert.equal(long.note, 'Only the first 8 B of 3.00 MiB is shown.');
  assert.equal(fileView(enc('abcdefghi'), { cap }).note, 'The file is longer than 8 B: only its first 8 B is shown.');
  assert.equal(fileView(enc('abcdefgh'), { cap }).note, null);
  // A cut inside a character is not binary.
  const cut = fileView(enc('abcdefg한'), { cap });
  assert.deepEqual([cut.binary, cut.text], [false, 'abcdefg']);
  assert.equal(READ_CAP, 1 << 20);
  assert.equal(normalPath('/home/user/'), '/home/user');
  assert.equal(normalPath('home//user/./message.txt'), '/home/user/message.txt');
  assert.equal(normalPath('/home/user/../../..'), '/');
  assert.equal(normalPath(''), '/');
});

test('guest: every catalogue key guest.js names exists in both languages', () => {
  const text = fs.readFileSync(path.join(HERE, '../../src/ui/guest.js'), 'utf8');
  const used = new Set([...text.matchAll(/'(guest\.[\w.]+)'/g)].map((m) => m[1]));
  // Keys built from a variable part.
  for (const k of ['builtin', 'initramfs', 'missing', 'installed']) used.add(`guest.found.${k}`);
  for (const k of ['dir', 'symlink', 'other']) used.add(`guest.browser.kind.${k}`);
  assert.ok(used.size > 30, `found ${used.size} keys`);
  const missing = [...used].filter((k) => !(k in CATALOGUES.en) || !(k in CATALOGUES.ko));
  assert.deepEqual(missing, []);
  // And every risk and reason code of the core (report.rs) has its sentence.
  const report = fs.readFileSync(path.join(HERE, '../../../converter-wasm/src/guest/report.rs'), 'utf8');
  const codes = (name) => {
    const body = report.slice(report.indexOf(`pub enum ${name} {`)).split('\n    }\n')[0];
    return [...body.matchAll(/= "(\w+)" \[/g)].map((m) => m[1]);
  };
  const [risks, reasons] = [codes('RiskCode'), codes('ReasonCode')];
  assert.ok(risks.includes('fstab_device') && risks.length >= 11, risks.join(' '));
  assert.ok(reasons.includes('other_bus') && reasons.length >= 16, reasons.join(' '));
  const unsaid = (prefix, cs) => cs.filter((c) => !(`${prefix}${c}` in CATALOGUES.en) || !(`${prefix}${c}` in CATALOGUES.ko));
  assert.deepEqual(unsaid('guest.risk.', risks), []);
  assert.deepEqual(unsaid('guest.reason.', reasons), []);
});
