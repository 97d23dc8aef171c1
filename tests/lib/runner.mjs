// The small test runner the page and end-to-end suites share: runs `tests` ({name, fn}), each
// with a context `t` whose `cleanup` callbacks always run (newest first) and whose `after` checks
// run only when the test body succeeded; prints `ok`/`FAIL` lines and the notes, and for a
// failed test what its `diagnose` callbacks return (e.g. the server's last log lines: CI keeps
// only this output). Returns the counts. runSuite wraps it in a suite's set-up and clean-up.
import fs from 'node:fs';

/** One test, its clean-up, and its lines printed together once it has ended; whether it passed. */
async function runOne({ name, fn }) {
  const t = { cleanup: [], after: [], diagnose: [], notes: [], note(x) { this.notes.push(x); } };
  const started = Date.now();
  let error = null;
  try {
    await fn(t);
    for (const a of t.after) a();
  } catch (e) {
    error = e;
  }
  for (const c of t.cleanup.reverse()) await c().catch(() => {});
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (error) {
    console.log(`FAIL ${name} (${secs} s)\n     ${String((error && error.stack) || error).split('\n').slice(0, 3).join('\n     ')}`);
    for (const d of t.diagnose) {
      try {
        for (const line of d()) console.log(`     | ${line}`);
      } catch (e) {
        console.log(`     | (diagnosis failed: ${e.message})`);
      }
    }
  } else {
    console.log(`ok   ${name} (${secs} s)`);
  }
  for (const n of t.notes) console.log(`     ${n}`);
  return !error;
}

/**
 * The tests whose name contains `filter` (all without), in order, `concurrency` at a time (1:
 * one after the other; more where the tests wait mostly on something else, such as a guest
 * booting under qemu, and do not share what they create).
 */
export async function runTests(tests, filter, { concurrency = 1 } = {}) {
  const queue = tests.filter(({ name }) => !filter || name.includes(filter));
  let passed = 0;
  let failed = 0;
  const running = new Set();
  const stalls = concurrency > 1 ? watchStalls(running) : null;
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      running.add(next.name);
      const ok = await runOne(next);
      running.delete(next.name);
      if (ok) passed++;
      else failed++;
    }
  }));
  if (stalls) clearInterval(stalls);
  return { passed, failed };
}

/** Longest time this process may stay blocked (synchronous work) without a warning, ms. */
const STALL_MS = 5000;

/**
 * Warn when this process was blocked for more than STALL_MS: tests run side by side share it,
 * and a synchronous command in one (execFileSync of seconds) freezes the other's steps and
 * servers, which then miss their timeouts. Names the tests that were running.
 */
function watchStalls(running) {
  let last = Date.now();
  return setInterval(() => {
    const now = Date.now();
    if (now - last > STALL_MS) {
      console.log(`note: this process was blocked ${((now - last) / 1000).toFixed(1)} s while ${[...running].join(' | ')} ran (synchronous work: run it asynchronously)`);
    }
    last = now;
  }, 200);
}

/**
 * A whole suite, then exit: `setUp()` (resolves to a note on what it made), the tests (filter:
 * the first command-line argument), `tearDown()` (always, also after a failed set-up or on
 * SIGINT/SIGTERM; resolves to a note; a throw counts as a failed test), `tmp` removed unless
 * `keepTmp`; `concurrency` tests at a time (runTests). Prints `LABEL: N passed, M failed`; exit status 0 only if none failed.
 */
export function runSuite(label, { tests, setUp, tearDown, tmp, keepTmp = false, concurrency = 1 }) {
  const finish = (passed, failed) => {
    if (tmp && !keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`${label}: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      console.log(`${sig}: cleaning up`);
      await tearDown().catch(() => {});
      finish(0, 1);
    });
  }
  (async () => {
    const t0 = Date.now();
    const made = await setUp();
    console.log(`     set-up${made ? ` (${made})` : ''} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    let { passed, failed } = await runTests(tests, process.argv[2], { concurrency });
    try {
      const note = await tearDown();
      if (note) console.log(`     clean-up: ${note}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${label}: clean-up\n     ${e.message}`);
    }
    finish(passed, failed);
  })().catch(async (e) => {
    console.error(e);
    await tearDown().catch(() => {});
    finish(0, 1);
  });
}
