// The small test runner the page suites share: runs `tests` ({name, fn}) in order, each with a
// context `t` whose `cleanup` callbacks always run (newest first) and whose `after` checks run
// only when the test body succeeded; prints `ok`/`FAIL` lines and the notes. Returns the counts.
export async function runTests(tests, filter) {
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of tests) {
    if (filter && !name.includes(filter)) continue;
    const t = { cleanup: [], after: [], notes: [], note(x) { this.notes.push(x); } };
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
      failed++;
      console.log(`FAIL ${name} (${secs} s)\n     ${String((error && error.stack) || error).split('\n').slice(0, 3).join('\n     ')}`);
    } else {
      passed++;
      console.log(`ok   ${name} (${secs} s)`);
    }
    for (const n of t.notes) console.log(`     ${n}`);
  }
  return { passed, failed };
}
