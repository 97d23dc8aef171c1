// quota.js: what the Origin Private File System's answers mean (a short write, a negative file
// error read as unsigned, the largest size the browser grants) and the no_space sentence with
// its numbers, in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQuotaError, largestGrant, noSpace, writeError } from '../../src/quota.js';
import { asCoreError, coreError } from '../../src/error.js';
import { sentence } from '../../src/i18n/sentence.js';
import { bytes, setLang } from '../../src/i18n/index.js';

const MIB = 1 << 20;

test('quota: a whole write is no error', () => {
  assert.equal(writeError(4 * MIB, 4 * MIB, 0, 64 * MIB), null);
});

test('quota: the field report (2^32 - 8 for 4 MiB) is FILE_ERROR_NO_SPACE: no_space with how far the output got', () => {
  const e = writeError(4294967288, 4194304, 1400 * MIB, 2048 * MIB);
  assert.equal(e.kind, 'too_large');
  assert.equal(e.code, 'no_space');
  assert.deepEqual(e.args, { needed: 2048 * MIB, available: 1400 * MIB });
  assert.equal(e.offset, 1400 * MIB);
});

test('quota: a short write (measured in Chromium on a full disk) is no_space too', () => {
  const e = writeError(2072576, 4194304, 20971520, 62914560);
  assert.equal(e.code, 'no_space');
  assert.deepEqual(e.args, { needed: 62914560, available: 20971520 + 2072576 });
});

test('quota: other answers are io errors that name them', () => {
  const denied = writeError(2 ** 32 - 5, 4096, 8192, MIB);
  assert.equal(denied.kind, 'io');
  assert.equal(denied.code, 'io');
  assert.match(denied.message, /file error -5 for 4096 bytes at 8192/);
  assert.equal(writeError(8192, 4096, 0, MIB).kind, 'io', 'more than asked is not a full disk');
  assert.equal(writeError(undefined, 4096, 0, MIB).kind, 'io');
});

test('quota: the largest size granted, found to within 1 MiB in a bounded number of tries', () => {
  for (const limit of [0, 5 * MIB + 123, 64 * MIB, 1500 * MIB]) {
    let tries = 0;
    const got = largestGrant((n) => { tries++; return n <= limit; }, 4096 * MIB);
    assert.ok(got <= limit && limit - got <= MIB, `limit ${limit}: got ${got}`);
    assert.ok(tries <= 12, `${tries} tries`);
  }
});

test('quota: QuotaExceededError is recognised, other errors are not', () => {
  assert.ok(isQuotaError(Object.assign(new Error('x'), { name: 'QuotaExceededError' })));
  assert.ok(!isQuotaError(new Error('x')));
  assert.ok(!isQuotaError(null));
});

test('quota: no_space says the numbers and what to do, in English and Korean; without numbers the plain sentence', () => {
  const e = noSpace(2 * 1024 * MIB, 64 * MIB);
  try {
    setLang('en');
    const en = sentence(e);
    assert.ok(en.includes(`needs ${bytes(2 * 1024 * MIB)}`), en);
    assert.ok(en.includes(`only about ${bytes(64 * MIB)}`), en);
    assert.match(en, /A file I choose/);
    assert.match(en, /free disk space/);
    assert.match(en, /browser profile/);
    assert.match(sentence(coreError('too_large', 'x', { code: 'no_space' })), /storage is full/);
    assert.match(sentence(asCoreError(Object.assign(new Error('full'), { name: 'QuotaExceededError' }))), /storage is full/);
    setLang('ko');
    const ko = sentence(e);
    assert.ok(ko.includes(bytes(2 * 1024 * MIB)) && ko.includes(bytes(64 * MIB)), ko);
    assert.match(ko, /직접 고른 파일/);
    assert.doesNotMatch(ko, /\{/);
  } finally {
    setLang('en');
  }
});
