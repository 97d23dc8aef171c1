// The catalogues and formats of web/src/i18n: both languages have the same keys with the same
// placeholders, plural entries have an `other` form, and the formats follow the language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUES, LANGS, pick, placeholders, t, msg, bytes, number, dateTime } from '../../src/i18n/index.js';

test('i18n: both catalogues have the same keys', () => {
  const [a, b] = LANGS.map((l) => Object.keys(CATALOGUES[l]).sort());
  assert.deepEqual(a.filter((k) => !b.includes(k)), [], 'keys only in en.js');
  assert.deepEqual(b.filter((k) => !a.includes(k)), [], 'keys only in ko.js');
});

test('i18n: every key has the same placeholders in both languages', () => {
  for (const key of Object.keys(CATALOGUES.en)) {
    assert.deepEqual(placeholders(CATALOGUES.ko[key]), placeholders(CATALOGUES.en[key]), key);
  }
});

test('i18n: entries are non-empty strings or plural forms with `other`', () => {
  for (const l of LANGS) {
    for (const [key, v] of Object.entries(CATALOGUES[l])) {
      if (typeof v === 'string') assert.ok(v.trim(), `${l} ${key} is empty`);
      else assert.ok(v && typeof v.other === 'string' && v.other.trim(), `${l} ${key}: a plural entry needs 'other'`);
    }
  }
});

test('i18n: the Korean catalogue is Korean (each entry with letters has Hangul or is a proper name)', () => {
  // Entries may be all-Latin only when they are names the page does not translate.
  const latinOk = /^[\s\p{P}\p{S}\d{}\w]*$/u;
  const bad = [];
  for (const [key, v] of Object.entries(CATALOGUES.ko)) {
    const s = typeof v === 'string' ? v : v.other;
    const text = s.replace(/\{\w+\}/g, '');
    if (/\p{L}/u.test(text) && !/\p{Script=Hangul}/u.test(text) && text !== (typeof CATALOGUES.en[key] === 'string' ? CATALOGUES.en[key] : CATALOGUES.en[key].other).replace(/\{\w+\}/g, '')) bad.push(key);
    else if (!/\p{Script=Hangul}/u.test(text) && !latinOk.test(text)) bad.push(key);
  }
  assert.deepEqual(bad, [], 'ko.js entries with no Hangul that differ from English');
});

test('i18n: the language follows the preference list, a remembered choice wins', () => {
  assert.equal(pick(['ko-KR', 'en-US']), 'ko');
  assert.equal(pick(['fr-FR', 'ko']), 'ko');
  assert.equal(pick(['en-GB', 'ko-KR']), 'en');
  assert.equal(pick(['de-DE']), 'en');
  assert.equal(pick([]), 'en');
  assert.equal(pick(['ko-KR'], 'en'), 'en');
  assert.equal(pick(['en-US'], 'ko'), 'ko');
  assert.equal(pick(['en-US'], 'xx'), 'en');
});

test('i18n: placeholders are filled, numbers grouped per language, plurals chosen', () => {
  CATALOGUES.en['test.n'] = { one: '{count} file', other: '{count} files' };
  CATALOGUES.ko['test.n'] = '파일 {count}개';
  try {
    assert.equal(t('test.n', { count: 1 }, 'en'), '1 file');
    assert.equal(t('test.n', { count: 1200 }, 'en'), '1,200 files');
    assert.equal(t('test.n', { count: 1200 }, 'ko'), '파일 1,200개');
  } finally {
    delete CATALOGUES.en['test.n'];
    delete CATALOGUES.ko['test.n'];
  }
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.equal(number(8589934592, 'en'), '8,589,934,592');
  assert.equal(bytes(1536, 'en'), '1.50 KiB');
  assert.equal(bytes(8 * 2 ** 30, 'ko'), '8.00 GiB');
  assert.equal(bytes(1023, 'en'), '1,023 B');
  assert.match(dateTime(new Date(Date.UTC(2026, 11, 6, 3, 0)), 'ko'), /2026/);
  assert.match(dateTime(new Date(Date.UTC(2026, 11, 6, 3, 0)), 'ko'), /\p{Script=Hangul}/u);
});

test('i18n: a core message without a catalogue entry falls back to its English text', () => {
  assert.equal(msg({ code: 'surely_not_a_code', message: 'the English' }, 'error.'), 'the English');
  assert.equal(msg(null), '');
});
