// How much the Origin Private File System really takes, read from what the browser does rather
// than from `navigator.storage.estimate()`, which over-reports (web/README.md has the numbers
// measured in Chromium): growing a file through a FileSystemSyncAccessHandle (`truncate`,
// `write`) throws QuotaExceededError past the quota the browser enforces, and once the quota is
// granted a disk that is really full shows as a short `write` — or, in older Chromium, as a
// negative file error read as an unsigned count ("wrote 4294967288 of 4194304 bytes" is -8,
// no space). These decisions are kept here, pure, for the writer (save-worker.js) and the tests.
import { coreError } from './error.js';

/** Chromium's `base::File::Error` FILE_ERROR_NO_SPACE (base/files/file.h). */
const FILE_ERROR_NO_SPACE = -8;
/** `write` returns an unsigned long: a negative file error arrives as 2^32 + error. */
const U32 = 2 ** 32;
/** Resolution of the search for the largest size the browser grants. */
const GRANT_STEP = 1 << 20;

/**
 * The page's "not enough storage" error: the output needs `needed` bytes, the browser lets this
 * page store only about `available`; `offset` where writing stopped, if it had started.
 */
export function noSpace(needed, available, offset = null) {
  return coreError('too_large',
    `the output needs ${needed} bytes but the browser stores only about ${available} for this page; save to a file instead (Chrome, Edge), free disk space, or use a browser profile with more space`,
    { offset, code: 'no_space', args: { needed, available } });
}

/** Whether `e` is the browser refusing to grow a file past its quota. */
export function isQuotaError(e) {
  return !!e && e.name === 'QuotaExceededError';
}

/**
 * What FileSystemSyncAccessHandle.write answered (`n`) for `len` bytes at `at`, for an output of
 * `needed` bytes: null when everything was written, else the error to throw. A short write or
 * FILE_ERROR_NO_SPACE is a full disk (`no_space`, with how far the output got); any other
 * answer is an `io` error naming it.
 */
export function writeError(n, len, at, needed) {
  if (n === len) return null;
  const fileError = Number.isInteger(n) && n >= U32 / 2 && n < U32 ? n - U32 : null;
  if (fileError === FILE_ERROR_NO_SPACE || (fileError === null && Number.isInteger(n) && n >= 0 && n < len)) {
    return noSpace(needed, at + (fileError === null ? n : 0), at);
  }
  const what = fileError === null ? `${n}` : `file error ${fileError}`;
  return coreError('io', `writing the output failed: the browser answered ${what} for ${len} bytes at ${at}`, { offset: at });
}

/**
 * The largest size (to within GRANT_STEP, below `refused`) for which `tryGrow(size)` — true
 * when the browser let the file grow to `size` — succeeds: what the browser really grants, for
 * the error when the whole output was refused. `refused` is a size already refused; at most
 * log2(refused / GRANT_STEP) tries.
 */
export function largestGrant(tryGrow, refused) {
  let lo = 0;
  let hi = refused;
  while (hi - lo > GRANT_STEP) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (tryGrow(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
