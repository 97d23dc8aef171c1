// Names and edits under node: output names keep Unicode and are never the same twice
// (web/src/util.js outputName, safeName); the Glance property values and counts the page
// refuses before Convert or Send (web/src/ui/inputs.js checkValue, checkCount); the page's
// own error codes and sentences (web/src/error.js, web/src/ui/errors.js sentence); and every
// catalogue key the inputs, files and errors code names exists.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { outputName, safeName } from '../../src/util.js';
import { checkValue, checkCount, PROPERTY_VALUES } from '../../src/ui/inputs.js';
import { sentence } from '../../src/ui/errors.js';
import { asCoreError, coreError } from '../../src/error.js';
import { CATALOGUES, setLang } from '../../src/i18n/index.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

test('outputName keeps Unicode letters and digits', () => {
  assert.equal(outputName('웹서버-disk1.vmdk', 'qcow2'), '웹서버-disk1.qcow2');
  assert.equal(outputName('vm/웹서버-disk1.vmdk', 'raw'), '웹서버-disk1.raw');
  assert.equal(outputName('Ünïcødé_1.VMDK', 'qcow2'), 'Ünïcødé_1.qcow2');
  assert.equal(outputName('сервер.vmdk', 'qcow2'), 'сервер.qcow2');
  assert.equal(outputName('サーバー２.vmdk', 'qcow2'), 'サーバー２.qcow2');
  // The same name typed decomposed (macOS) and composed is one name.
  assert.equal(outputName('e\u0301.vmdk', 'qcow2'), outputName('\u00e9.vmdk', 'qcow2'));
});

test('outputName strips only what is unsafe for paths and shells', () => {
  const cases = {
    '--to-command=sh${IFS}-c${IFS}x.vmdk': 'to-command=sh_IFS_-c_IFS_x.qcow2',
    "$(touch pwned) 'q\".vmdk": 'touch_pwned_q.qcow2',
    '`id`.vmdk': 'id.qcow2',
    '.hidden.vmdk': 'hidden.qcow2',
    '-rf.vmdk': 'rf.qcow2',
    'a\u0000b\nc\td.vmdk': 'a_b_c_d.qcow2',
    '한글 이름;rm -rf.vmdk': '한글_이름_rm_-rf.qcow2',
    '..\\..\\evil.vmdk': 'evil.qcow2',
    '$$$.vmdk': 'disk.qcow2',
  };
  for (const [from, want] of Object.entries(cases)) assert.equal(outputName(from, 'qcow2'), want, JSON.stringify(from));
  for (const from of Object.keys(cases)) {
    const out = outputName(from, 'raw');
    assert.doesNotMatch(out, /[\s/\\'"`$;&|<>(){}[\]*?!#~\p{Cc}]/u, out);
    assert.doesNotMatch(out, /^[-.]/, out);
  }
  assert.equal(safeName('', 'vm'), 'vm');
  assert.ok(safeName('가'.repeat(500)).length <= 120, 'long names are cut');
});

test('outputName never gives two outputs the same name, whatever their case', () => {
  const taken = new Set();
  const names = ['웹서버/disk1.vmdk', '디비서버/disk1.vmdk', 'DISK1.vmdk', 'disk1-2.vmdk', '웹서버.vmdk', '웹서버.vmdk']
    .map((n) => outputName(n, 'qcow2', taken));
  assert.deepEqual(names, ['disk1.qcow2', 'disk1-2.qcow2', 'DISK1-3.qcow2', 'disk1-2-2.qcow2', '웹서버.qcow2', '웹서버-2.qcow2']);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length);
});

test('property values: known values pass; typos, shell syntax and values of closed lists are refused', () => {
  for (const [key, spec] of Object.entries(PROPERTY_VALUES)) for (const v of spec.values) assert.equal(checkValue(key, v), null, `${key}=${v}`);
  assert.equal(checkValue('hw_disk_bus', ''), null, 'empty: not set');
  assert.deepEqual(checkValue('hw_disk_bus', 'virtoi'), { key: 'inputs.invalid.typo', params: { value: 'virtoi', known: 'virtio' } });
  assert.equal(checkValue('hw_disk_bus', 'VirtIO').key, 'inputs.invalid.typo');
  assert.equal(checkValue('hw_vif_model', 'e1000x').key, 'inputs.invalid.typo');
  assert.equal(checkValue('os_distro', 'ubunut').key, 'inputs.invalid.typo');
  assert.equal(checkValue('hw_firmware_type', 'efi').key, 'inputs.invalid.one_of');
  assert.equal(checkValue('os_secure_boot', 'yes').key, 'inputs.invalid.one_of');
  for (const v of ['virtio; rm -rf /', '$(id)', '`id`', "it's", 'a b', '-virtio', 'x'.repeat(65), '웹서버']) {
    assert.equal(checkValue('hw_disk_bus', v).key, 'inputs.invalid.chars', v);
    assert.equal(checkValue('some_other_key', v).key, 'inputs.invalid.chars', v);
  }
  // Other well-formed values of open lists (a newer model, a versioned machine type) pass.
  assert.equal(checkValue('hw_machine_type', 'pc-q35-8.2'), null);
  assert.equal(checkValue('hw_vif_model', 'virtio-net-pci'), null);
  assert.equal(checkValue('os_distro', 'slackware'), null);
  assert.equal(checkValue('hw_qemu_guest_agent', 'yes'), null);
});

test('counts: whole numbers from the minimum up; the rest is a problem, never clamped', () => {
  assert.deepEqual(checkCount('512'), { value: 512 });
  assert.deepEqual(checkCount(''), { value: null });
  assert.deepEqual(checkCount(' 40 '), { value: 40 });
  for (const raw of ['-5', '1.5', '1e3', 'abc', '0x10', '99999999999999999999']) assert.ok(checkCount(raw).problem, raw);
  assert.ok(checkCount('0', { min: 1 }).problem, 'vCPUs start at 1');
  assert.deepEqual(checkCount('', { badInput: true }).problem, { key: 'inputs.invalid.number', params: { min: 0 } });
});

test('error sentences: by code, then kind; sizes as sizes; the page\'s own codes', () => {
  setLang('en');
  assert.equal(coreError('io', 'x').code, 'io');
  assert.equal(asCoreError(Object.assign(new Error('full'), { name: 'QuotaExceededError' })).code, 'no_space');
  assert.equal(asCoreError({ kind: 'corrupt', file: 'a', offset: 1, message: 'm' }).code, 'corrupt');
  assert.match(sentence(coreError('too_large', 'x', { code: 'no_space' })), /storage is full/);
  const missing = coreError('missing_file', 'x', { file: 'vm.vmdk', code: 'missing_files', args: { names: 'vm-s001.vmdk', count: 1 } });
  assert.equal(sentence(missing), 'vm.vmdk needs vm-s001.vmdk, which was not given: add it too, to convert vm.vmdk.');
  // Byte counts in args are shown as sizes, other numbers grouped (a page code stands in for a core one).
  const C = CATALOGUES;
  C.en['errors.test_sizes'] = '{file}: {size} of {needed}, limit {limit}, {count} parts';
  try {
    assert.equal(sentence(coreError('truncated', 'x', { file: 't.vmdk', code: 'test_sizes', args: { size: 5017, needed: 1073741824, limit: 2048, count: 12345 } })),
      't.vmdk: 4.90 KiB of 1.00 GiB, limit 2.00 KiB, 12,345 parts');
  } finally {
    delete C.en['errors.test_sizes'];
  }
  // An error no catalogue words (an older core's, an unknown code) still names its file.
  assert.match(sentence({ kind: 'nonesuch', file: 'dir/x.vmdk', offset: 0, message: 'technical' }), /^x\.vmdk /);
  setLang('ko');
  assert.match(sentence(missing), /\p{Script=Hangul}/u);
  assert.match(sentence({ kind: 'nonesuch', file: 'x.vmdk', message: 'technical' }), /x\.vmdk.*\p{Script=Hangul}/u);
  setLang('en');
});

test('every catalogue key the files, inputs and errors code uses exists', () => {
  const used = new Set();
  for (const f of ['ui/files.js', 'ui/inputs.js', 'ui/errors.js']) {
    const text = fs.readFileSync(path.join(SRC, f), 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/'((?:inputs|files|errors)\.[\w.]+)'/g)) used.add(m[1]);
  }
  // Keys built from a variable part.
  for (const k of ['linux', 'windows', 'other']) used.add(`inputs.os.${k}`);
  for (const k of ['kind', 'file', 'offset', 'message']) used.add(`errors.details.${k}`);
  const missing = [...used].filter((k) => !(k in CATALOGUES.en) || !(k in CATALOGUES.ko));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 40, `found ${used.size} keys`);
});
