// A whole staged upload (issue 10) the way the page sends one, for the load test and the
// benchmark: start, the parts `parallel` at a time, complete with every etag, then the upload's
// state followed until Glance's import has ended. (edge-worker/tests/staged.test.mjs drives the
// same routes one step at a time, to test each.)
import { api, sleep } from './edge-worker.mjs';

/**
 * Sends `size` bytes into image `id` through `worker`'s staged routes in session `cookie`;
 * `read(start, end)` resolves to those bytes of the image, `sha512` is the image's. A part is
 * sent again (up to `attempts` times in all) when the worker did not take it — `wrangler dev`
 * answers 503 when it reloads the worker mid-request. Resolves to `{plan, state, resent,
 * partsMs, totalMs}` (`state`: the last state answer, `state.json.state` "active" or "failed");
 * throws on an answer the page would give up on.
 */
export async function sendStaged(worker, cookie, id, { size, sha512, read, parallel = 4, attempts = 3, deadlineMs = 600000, pollMs = 1000 }) {
  const t0 = Date.now();
  const p = await api(worker, 'POST', `/api/images/${id}/staged`, { cookie, body: { size, sha512 } });
  if (p.status !== 201) throw new Error(`staged start: ${p.status} ${p.text}`);
  const plan = p.json;
  const queue = Array.from({ length: plan.parts }, (_, i) => i + 1);
  const etags = {};
  let resent = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const body = await read((n - 1) * plan.part_size, Math.min(n * plan.part_size, size));
      for (let attempt = 1; ; attempt++) {
        const r = await api(worker, 'PUT', `/api/images/${id}/staged/${n}`, {
          cookie, raw: body, headers: { 'X-Upload-Token': plan.upload, 'Content-Type': 'application/octet-stream' },
        });
        if (r.status === 200) { etags[n] = r.json.etag; break; }
        if (attempt >= attempts) throw new Error(`part ${n}: ${r.status} ${r.text}`);
        resent += 1;
      }
    }
  }));
  const partsMs = Date.now() - t0;
  const parts = Object.entries(etags).map(([n, etag]) => ({ part: Number(n), etag }));
  const c = await api(worker, 'POST', `/api/images/${id}/staged/complete`, { cookie, body: { upload: plan.upload, parts } });
  if (c.status !== 202) throw new Error(`staged complete: ${c.status} ${c.text}`);
  for (;;) {
    if (Date.now() - t0 > deadlineMs) throw new Error(`the import of ${id} did not end within ${deadlineMs / 1000} s`);
    const state = await api(worker, 'GET', `/api/images/${id}/staged`, { cookie, headers: { 'X-Upload-Token': plan.upload } });
    if (state.status === 200 && ['active', 'failed'].includes(state.json.state)) {
      return { plan, state, resent, partsMs, totalMs: Date.now() - t0 };
    }
    await sleep(pollMs);
  }
}
