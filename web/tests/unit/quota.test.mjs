// quota.js: what the Origin Private File System's answers mean (a short write, a negative file
// error read as unsigned, the largest size the browser grants) and the no_space sentence with
// its numbers, in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILE_WRITE_MAX, isQuotaError, largestGrant, noSpace, writeError, writeInPieces } from '../../src/quota.js';
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

/** A synchronous access handle's `write`, recorded: answers `answer(piece, offset)` (default: all of it). */
function recordingWrite(answer = (piece) => piece.length) {
  const calls = [];
  const write = (piece, offset) => {
    calls.push([offset, piece.length, piece[0]]);
    return answer(piece, offset);
  };
  return { calls, write };
}

test('quota: a large write goes into the file in pieces of at most FILE_WRITE_MAX, in order, all of it', () => {
  const view = new Uint8Array(4 * MIB + 5);
  for (let i = 0; i < view.length; i += FILE_WRITE_MAX) view[i] = (i / FILE_WRITE_MAX) + 1;
  const { calls, write } = recordingWrite();
  writeInPieces(write, view, 96 * MIB, 128 * MIB);
  assert.equal(calls.length, 17);
  let at = 96 * MIB;
  calls.forEach(([offset, len, first], i) => {
    assert.equal(offset, at, `piece ${i} starts where the one before ended`);
    assert.ok(len <= FILE_WRITE_MAX && len > 0, `piece ${i}: ${len} bytes`);
    assert.equal(first, i + 1, `piece ${i} holds its own bytes`);
    at += len;
  });
  assert.equal(at, 96 * MIB + view.length);
});

/** The error `fn` throws (the test fails if it throws none). */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return assert.fail('expected an error');
}

test('quota: a short or refused piece stops the write with no_space at the piece that failed', () => {
  const view = new Uint8Array(1 * MIB);
  const short = recordingWrite((piece, offset) => (offset === 8 * MIB + FILE_WRITE_MAX ? 1000 : piece.length));
  const e = thrown(() => writeInPieces(short.write, view, 8 * MIB, 64 * MIB));
  assert.equal(e.code, 'no_space');
  assert.deepEqual(e.args, { needed: 64 * MIB, available: 8 * MIB + FILE_WRITE_MAX + 1000 });
  assert.equal(short.calls.length, 2, 'nothing is written after the short piece');

  const refused = recordingWrite((piece, offset) => {
    if (offset >= 8 * MIB + 2 * FILE_WRITE_MAX) throw new DOMException('over quota', 'QuotaExceededError');
    return piece.length;
  });
  const q = thrown(() => writeInPieces(refused.write, view, 8 * MIB, 64 * MIB));
  assert.equal(q.code, 'no_space');
  assert.equal(q.offset, 8 * MIB + 2 * FILE_WRITE_MAX);
  assert.equal(refused.calls.length, 3);

  const other = recordingWrite(() => { throw new TypeError('detached'); });
  assert.throws(() => writeInPieces(other.write, view, 0, MIB), TypeError);
});
