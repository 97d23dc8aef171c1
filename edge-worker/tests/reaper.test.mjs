// Abandoned staged uploads (issue 17, finding 6): under `wrangler dev` (its local R2 bucket
// holds the uploads' records) with STAGING_MAX_AGE_SECONDS short, a staged upload left after
// its first part is swept when the next staged upload starts (the sweep the cron trigger runs on
// Cloudflare): its Glance image is deleted with the upload's migration credential, while the
// younger upload is left alone; the next login deletes the reaped upload's credential.
// edge-worker/test.sh starts OpenStack first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  KEYSTONE, Worker, adminToken, api, login, os, sleep, waitFor,
} from '../../tests/lib/edge-worker.mjs';

const MAX_AGE = 15;
const worker = new Worker();
const SUFFIX = `${Date.now()}-${process.pid}`;
const created = [];
let admin;
let cookie;

// a raw image: part 1 is checked against nothing; the upload is never completed
const head = Buffer.alloc(8 << 20);
const sha512 = createHash('sha512').update(randomBytes(8)).digest('hex');

async function startAbandoned(name) {
  const r = await api(worker, 'POST', '/api/images', { cookie, body: { name: `${name}-${SUFFIX}`, disk_format: 'raw', properties: { stackferry_test: '1' } } });
  assert.equal(r.status, 201, r.text);
  created.push(r.json.id);
  const s = await api(worker, 'POST', `/api/images/${r.json.id}/staged`, { cookie, body: { size: 12 << 20, sha512 } });
  assert.equal(s.status, 201, s.text);
  assert.equal(s.json.credential, true, 'a staged upload outlives the token: it gets a credential');
  const p = await api(worker, 'PUT', `/api/images/${r.json.id}/staged/1`, {
    cookie, raw: head.subarray(0, s.json.part_size), headers: { 'X-Upload-Token': s.json.upload, 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(p.status, 200, p.text);
  return { id: r.json.id, upload: s.json.upload };
}

const status = async (id) => {
  const g = await os(admin, 'GET', `${admin.glance}/images/${id}`);
  return g.status === 404 ? null : g.json.status;
};

async function credentials(ids) {
  const r = await os(admin, 'GET', `${KEYSTONE}/users/${admin.user.id}/application_credentials`);
  assert.equal(r.status, 200, r.text);
  return r.json.application_credentials.filter((c) => ids.some((id) => c.name === `stackferry-${id}`));
}

before(async () => {
  admin = await adminToken();
  await worker.start({ REQUEST_BODY_MAX_BYTES: String(8 << 20), STAGING_MAX_AGE_SECONDS: String(MAX_AGE) }, { runtime: 'wrangler' });
  cookie = (await login(worker)).cookie;
  assert.ok(cookie);
});

after(async () => {
  for (const id of created) await os(admin, 'DELETE', `${admin.glance}/images/${id}`);
  for (const c of await credentials(created)) await os(admin, 'DELETE', `${KEYSTONE}/users/${admin.user.id}/application_credentials/${c.id}`);
  await worker.stop();
});

describe('the sweep of abandoned uploads', () => {
  test('deletes the image of an upload older than STAGING_MAX_AGE_SECONDS, not a younger one', async () => {
    const old = await startAbandoned('sf-reap-old');
    await sleep((MAX_AGE + 2) * 1000);
    assert.equal(await status(old.id), 'queued', 'nothing swept it before its time');
    const young = await startAbandoned('sf-reap-young');
    await waitFor('the old upload reaped', async () => (await status(old.id)) === null, 30000);
    assert.equal(await status(young.id), 'queued', 'the young upload is left alone');
    // the reaped upload's credential goes at the next login; the young one's stays
    await login(worker);
    assert.deepEqual((await credentials([old.id])).map((c) => c.name), []);
    assert.equal((await credentials([young.id])).length, 1);
    // cancelling the young one removes its record, its image and its credential
    const gone = await api(worker, 'DELETE', `/api/images/${young.id}/staged`, { cookie, headers: { 'X-Upload-Token': young.upload } });
    assert.equal(gone.status, 200, gone.text);
    assert.deepEqual(gone.json, { deleted: true });
    assert.equal(await status(young.id), null);
    assert.deepEqual(await credentials([young.id]), []);
  });
});
