// How much the Origin Private File System really takes, read from what the browser does rather
// than from `navigator.storage.estimate()`, which over-reports (web/README.md has the numbers
// measured in Chromium): growing a file through a FileSystemSyncAccessHandle (`truncate`,
// `write`) throws QuotaExceededError past the quota the browser enforces, and once the quota is
// granted a disk that is really full shows as a short `write` — or, in older Chromium, as a
// negative file error read as an unsigned count ("wrote 4294967288 of 4194304 bytes" is -8,
// no space). These decisions are kept here, pure, for the writer (save-worker.js) and the tests,
// with one more: how large a single write into the file may be (FILE_WRITE_MAX).
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
 * Largest single write into an OPFS file. Each write is one pwrite(2), and Linux caches a write
 * in folios as large as the write; in a VM whose host takes freed memory back (virtio-balloon
 * free page reporting, as on our bench machine) each fresh large folio then faults on
 * the host. Measured there (dd, 2.3 GiB into ext4's page cache, 20 s after freeing that much):
 * 4 MiB writes 8.7 s of system time, 1 MiB 5.7 s, 512 KiB 1.7 s, 256 KiB 0.7–0.9 s, 64 KiB
 * 1.2 s; right after the free (memory not yet given back) 4 MiB 0.8 s, 256 KiB 0.7 s. The
 * page's writer gathers 4 MiB (converter/sink.js) and writes it in these pieces: the bench
 * disk's conversion took 13.59 → 9.40 s (browser CPU 24.0 → 17.1 s; bench/RESULTS.md).
 */
export const FILE_WRITE_MAX = 256 << 10;

/**
 * Write `view` at output offset `at` through `write(piece, offset)` (a synchronous access
 * handle's `write`, answering what it wrote) in pieces of at most FILE_WRITE_MAX, for an
 * output of `needed` bytes: throws what an answer means (writeError; a QuotaExceededError is
 * `no_space` too), naming the offset where writing stopped.
 */
export function writeInPieces(write, view, at, needed) {
  for (let done = 0; done < view.length; done += FILE_WRITE_MAX) {
    const piece = view.subarray(done, Math.min(view.length, done + FILE_WRITE_MAX));
    let n;
    try {
      n = write(piece, at + done);
    } catch (e) {
      throw isQuotaError(e) ? noSpace(needed, at + done, at + done) : e;
    }
    const failed = writeError(n, piece.length, at + done, needed);
    if (failed) throw failed;
  }
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
