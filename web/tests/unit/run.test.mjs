// The run area's pure parts: the weighted progress across compressed QCOW2's two passes, and
// the names of outputs kept in browser storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fraction, PASS_WEIGHTS } from '../../src/ui/progress.js';
import { opfsName, storedLabel, sidecarName, SIDECAR_SUFFIX } from '../../src/save.js';

test('run: the passes of a compressed conversion share one bar, in order, weighted to 1', () => {
  assert.equal(PASS_WEIGHTS.measure + PASS_WEIGHTS.write, 1);
  const total = 1000;
  const seen = [];
  for (const phase of ['measure', 'write']) {
    for (let done = 0; done <= total; done += 50) {
      seen.push(fraction({ phase, guest_done: done, guest_total: total, bytes_out: phase === 'write' ? done : 0, output_len: phase === 'write' ? 400 : null }, true));
    }
  }
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `step ${i}: ${seen[i - 1]} → ${seen[i]}`);
  assert.equal(seen[0], 0);
  assert.equal(seen.at(-1), 1);
  // The second pass starts where the first ended, not at 0.
  assert.equal(fraction({ phase: 'write', guest_done: 0, guest_total: total, bytes_out: 0, output_len: 400 }, true), PASS_WEIGHTS.measure);
});

test('run: a one-pass conversion is measured by the output written', () => {
  assert.equal(fraction({ phase: 'write', guest_done: 10, guest_total: 100, bytes_out: 30, output_len: 60 }, false), 0.5);
  assert.equal(fraction({ phase: 'write', guest_done: 25, guest_total: 100, bytes_out: 0, output_len: null }, false), 0.25);
});

test('run: an output kept in browser storage is listed under its own name; its sidecar beside it', () => {
  const n = opfsName('웹서버-disk1.qcow2');
  assert.ok(n.startsWith('stackferry-'));
  assert.equal(storedLabel(n), '웹서버-disk1.qcow2');
  assert.equal(sidecarName(n), n + SIDECAR_SUFFIX);
});
