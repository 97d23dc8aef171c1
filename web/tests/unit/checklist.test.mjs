// The checklist's store (web/src/checklist.js): the export's file name and its Markdown.
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileName, markdown, update, ITEMS } from '../../src/checklist.js';
import { setLang } from '../../src/i18n/index.js';

/** A Map-backed localStorage, as the page has. */
globalThis.localStorage = {
  m: new Map(),
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; },
  setItem(k, v) { this.m.set(k, String(v)); },
};

test('checklist: the export file name keeps Unicode letters and drops only what is unsafe', () => {
  assert.equal(fileName('웹서버'), 'checklist-웹서버.md');
  assert.equal(fileName('웹서버.vmdk'), 'checklist-웹서버.vmdk.md');
  assert.equal(fileName('Café ÉTÉ'), 'checklist-Café_ÉTÉ.md');
  assert.equal(fileName('My VM'), 'checklist-My_VM.md');
  assert.equal(fileName('../../etc/passwd'), 'checklist-etcpasswd.md');
  assert.equal(fileName('a/b\\c:*?"<>|'), 'checklist-abc.md');
  assert.equal(fileName('$(rm -rf ~)`x`;'), 'checklist-rm_-rf_x.md');
  assert.equal(fileName('-n'), 'checklist-n.md');
  assert.equal(fileName('\u0000\u001f'), 'checklist-vm.md');
  assert.equal(fileName('x'.repeat(300)).length, 'checklist-.md'.length + 100);
});

test('checklist: the Markdown is in the page language, with the recorded digests and a local-time stamp', () => {
  update('웹서버', (c) => {
    c.done.convert = true;
    c.digests = [{ output: '웹서버-disk1.qcow2', format: 'qcow2', output_len: 1572864, virtual_size: 67108864, content_digest: 'cd1', sha512: 'ab12' }];
    c.notes = '토요일 02:00 전환';
  });
  setLang('ko');
  const ko = markdown('웹서버');
  assert.match(ko, /^# 마이그레이션 체크리스트: 웹서버\n/);
  assert.match(ko, /- \[x\] 디스크를 변환합니다/);
  assert.match(ko, /- \[ \] 이미지를 Glance에 업로드/);
  assert.match(ko, /`웹서버-disk1\.qcow2` \(qcow2, 1\.50 MiB\(1,572,864바이트\), 가상 크기 64\.0 MiB\)/);
  assert.match(ko, /SHA-512 해시\(Glance os_hash_value\): `ab12`/);
  assert.match(ko, /## 메모\n\n토요일 02:00 전환/);
  assert.match(ko, /_마지막 수정: \d{4}년 \d{1,2}월 \d{1,2}일 (오전|오후|AM|PM) \d{1,2}:\d{2}_\n$/); // Node's ICU may say AM/PM; Chromium says 오전/오후
  setLang('en');
  const en = markdown('웹서버');
  assert.match(en, /^# Migration checklist: 웹서버\n/);
  assert.match(en, /_Updated [A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d{2}\s?[AP]M_\n$/);
  assert.doesNotMatch(en, /\d{4}-\d{2}-\d{2}T/);
  assert.equal(ITEMS.find((i) => i.id === 'upload').text.includes('Glance'), true);
});

test('checklist: a whole VM\'s record lists every disk with its source file, digests, image and volume', () => {
  update('db01', (c) => {
    c.digests = [
      { output: 'db01-disk1.qcow2', source: 'db01-disk1.vmdk', format: 'qcow2', output_len: 10, virtual_size: 20, content_digest: 'cd1', sha512: 's1', image_id: 'img-1' },
      { output: 'db01-disk2.qcow2', source: 'db01-disk2.vmdk', format: 'qcow2', output_len: 10, virtual_size: 20, content_digest: 'cd2', sha512: 's2', image_id: 'img-2', volume_id: 'vol-2' },
    ];
  });
  setLang('en');
  const md = markdown('db01');
  assert.match(md, /`db01-disk1\.qcow2`[^\n]*\n  - Source file: `db01-disk1\.vmdk`\n  - Content digest: `cd1`\n  - SHA-512[^\n]*`s1`\n  - Glance image: `img-1`\n- /);
  assert.match(md, /`db01-disk2\.qcow2`[^\n]*\n  - Source file: `db01-disk2\.vmdk`\n[\s\S]*  - Glance image: `img-2`\n  - Cinder volume: `vol-2`\n/);
  assert.equal((md.match(/Cinder volume/g) || []).length, 1, 'a disk without a volume lists none');
  setLang('ko');
  assert.match(markdown('db01'), /Cinder 볼륨: `vol-2`/);
  setLang('en');
});
