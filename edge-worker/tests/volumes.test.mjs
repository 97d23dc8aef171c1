// Cinder through the edge worker, against the real kit (tests/openstack with STACK_CINDER=1:
// Cinder's NFS driver on a plain directory, each volume a raw file
// $STACK_DIR/data/cinder/volumes/volume-<id>; Nova's fake driver records attachments).
// image → volume (its file holds the image's bytes) → server from the image with the volume
// attached → server booted from a volume → everything deleted; every refused body is answered
// 400 before OpenStack is asked, and nothing is created. Tests run in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import {
  KEYSTONE, ROOT, Worker, adminToken, api, chunksOf, login, os, seen, streamUpload, unseal, waitFor,
  launchable,
} from '../../tests/lib/edge-worker.mjs';

const worker = new Worker();
const tmp = fs.mkdtempSync(path.join(os_.tmpdir(), 'sf-volumes-'));
const SUFFIX = `${Date.now()}-${process.pid}`;
const STACK_DIR = process.env.STACK_DIR || path.join(ROOT, '.stack');
const VOLUME_DIR = path.join(STACK_DIR, 'data/cinder/volumes');
const NO_SUCH = '00000000-0000-4000-8000-000000000000';
let admin;
let cookie;
let net;            // the test network
let imageId;        // the active QCOW2 image the volumes are made from
let source;         // its raw content
let dataVolume;     // volume attached as a data disk
let bootVolume;     // volume a server boots from
let serverId;       // server from the image with dataVolume attached
let bfvId;          // server booted from bootVolume
const created = { images: [], volumes: [], servers: [], networks: [], types: [], users: [], projects: [] };
let memberCookie;   // a member (not admin) of a project of its own
/** One answer of each route, printed at the end (the lead's report). */
const examples = {};

async function cinder(method, p, body) {
  return os(admin, method, `${admin.cinder}${p}`, body, { 'OpenStack-API-Version': 'volume 3.3' });
}

/** Volumes Cinder has whose name starts with `prefix` (the refused bodies must leave none). */
async function volumesNamed(prefix) {
  const r = await cinder('GET', '/volumes/detail?all_tenants=1');
  assert.equal(r.status, 200, r.text);
  return r.json.volumes.filter((v) => (v.name || '').startsWith(prefix));
}

async function serversNamed(prefix) {
  const r = await os(admin, 'GET', `${admin.nova}/servers?all_tenants=1&name=${encodeURIComponent(`^${prefix}`)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.servers;
}

async function volumeState(id, wanted, timeoutMs = 120000) {
  return waitFor(`volume ${id} ${wanted}`, async () => {
    const r = await api(worker, 'GET', `/api/volumes/${id}`, { cookie });
    assert.equal(r.status, 200, r.text);
    if (r.json.status.startsWith('error')) assert.fail(`volume ${id} is ${r.json.status}: ${r.json.error}`);
    return r.json.status === wanted && r.json;
  }, timeoutMs);
}

async function serverActive(id) {
  return waitFor(`server ${id} ACTIVE`, async () => {
    const r = await api(worker, 'GET', `/api/servers/${id}`, { cookie });
    assert.equal(r.status, 200, r.text);
    if (r.json.status === 'ERROR') assert.fail(`server ${id}: ${JSON.stringify(r.json.fault)}`);
    return r.json.status === 'ACTIVE' && r.json;
  }, 180000);
}

/**
 * The volume's file holds `src` first and zeros after it. Read asynchronously (1 GiB), so
 * that the worker's idle connections are seen closing meanwhile, not reused closed.
 */
async function holdsImage(file, src) {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(src.length);
    assert.equal((await fh.read(head, 0, src.length, 0)).bytesRead, src.length);
    assert.ok(head.equals(src), `${file}: the first ${src.length} bytes are not the image's`);
    const buf = Buffer.alloc(1 << 20);
    const zeros = Buffer.alloc(1 << 20);
    for (let pos = src.length; ;) {
      const { bytesRead: n } = await fh.read(buf, 0, buf.length, pos);
      if (n === 0) break;
      assert.ok(buf.subarray(0, n).equals(zeros.subarray(0, n)), `${file}: non-zero data in the MiB at ${pos}`);
      pos += n;
    }
  } finally {
    await fh.close();
  }
}

async function createVolume(name, extra = {}) {
  const r = await api(worker, 'POST', '/api/volumes', { cookie, body: { name: `${name}-${SUFFIX}`, image_id: imageId, size_gib: 1, ...extra } });
  assert.equal(r.status, 202, r.text);
  assert.match(r.json.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(Object.keys(r.json), ['id']);
  created.volumes.push(r.json.id);
  return r;
}

before(async () => {
  admin = await adminToken();
  assert.ok(admin.cinder, 'the test cloud has no Cinder: start tests/openstack with STACK_CINDER=1');
  net = await launchable(admin, `sf-vnet-${SUFFIX}`, '10.252.0.0/24', created.networks);
  fs.mkdirSync(path.join(ROOT, 'web/dist'), { recursive: true });
  await worker.start();
  const l = await login(worker);
  assert.equal(l.res.status, 200, l.res.text);
  cookie = l.cookie;
});

after(async () => {
  await worker.stop();
  if (!admin) return;
  for (const id of created.servers) await os(admin, 'DELETE', `${admin.nova}/servers/${id}`);
  for (const id of created.servers) {
    await waitFor(`server ${id} deleted`, async () => (await os(admin, 'GET', `${admin.nova}/servers/${id}`)).status === 404, 60000).catch(() => {});
  }
  for (const id of created.volumes) {
    await waitFor(`volume ${id} deleted`, async () => [202, 404].includes((await cinder('DELETE', `/volumes/${id}`)).status), 60000).catch(() => {});
  }
  for (const id of created.images) await os(admin, 'DELETE', `${admin.glance}/images/${id}`);
  for (const id of created.types) await cinder('DELETE', `/types/${id}`);
  for (const id of created.networks) await os(admin, 'DELETE', `${admin.neutron}/networks/${id}`);
  for (const id of created.users) await os(admin, 'DELETE', `${KEYSTONE}/users/${id}`);
  for (const id of created.projects) await os(admin, 'DELETE', `${KEYSTONE}/projects/${id}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`# answers of the routes in this run:\n${Object.entries(examples).map(([k, v]) => `#   ${k} → ${JSON.stringify(v)}`).join('\n')}`);
});

describe('what the cloud offers', () => {
  test('the session says Cinder is there', async () => {
    const s = await api(worker, 'GET', '/api/session', { cookie });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.volumes, true);
    assert.deepEqual(s.json.services, { compute: true, image: true, network: true });
    assert.match(unseal(cookie).p.v, /^http:\/\/127\.0\.0\.1:\d+\/v3$/, 'Cinder\'s catalog URL is in the sealed session');
  });

  test('volume types: Cinder\'s list, its default marked', async () => {
    const r = await api(worker, 'GET', '/api/volume-types', { cookie });
    assert.equal(r.status, 200, r.text);
    examples['GET /api/volume-types'] = r.json;
    const theirs = await cinder('GET', '/types');
    const def = await cinder('GET', '/types/default');
    assert.deepEqual(r.json.volume_types.map((t) => t.id).sort(), theirs.json.volume_types.map((t) => t.id).sort());
    for (const t of r.json.volume_types) {
      assert.deepEqual(Object.keys(t).sort(), ['default', 'description', 'id', 'name']);
      assert.equal(t.default, def.status === 200 && t.id === def.json.volume_type.id, t.name);
    }
    assert.equal(r.json.volume_types.filter((t) => t.default).length, def.status === 200 ? 1 : 0);
  });

  test('limits: compute and volume sections with numbers; image as Glance reports it', async () => {
    const r = await api(worker, 'GET', '/api/limits', { cookie });
    assert.equal(r.status, 200, r.text);
    examples['GET /api/limits'] = r.json;
    const q = (v, what) => {
      assert.ok(v && Number.isInteger(v.limit) && Number.isInteger(v.used), `${what}: ${JSON.stringify(v)}`);
      assert.ok(v.limit >= -1 && v.used >= 0, what);
    };
    for (const k of ['instances', 'cores', 'ram_mib']) q(r.json.compute[k], `compute.${k}`);
    for (const k of ['volumes', 'gigabytes']) q(r.json.volume[k], `volume.${k}`);
    const nova = (await os(admin, 'GET', `${admin.nova}/limits`)).json.limits.absolute;
    assert.equal(r.json.compute.cores.limit, nova.maxTotalCores);
    assert.equal(r.json.compute.ram_mib.limit, nova.maxTotalRAMSize);
    const cl = (await cinder('GET', '/limits')).json.limits.absolute;
    assert.equal(r.json.volume.gigabytes.limit, cl.maxTotalVolumeGigabytes);
    const types = (await cinder('GET', '/types')).json.volume_types.map((t) => t.name);
    for (const t of types) {
      q(r.json.volume.per_type[t].volumes, `volume.per_type.${t}.volumes`);
      q(r.json.volume.per_type[t].gigabytes, `volume.per_type.${t}.gigabytes`);
    }
    const usage = await os(admin, 'GET', `${admin.glance}/info/usage`);
    if (usage.status !== 200 || !usage.json.usage.image_count_total) assert.equal(r.json.image, null, 'Glance reports no image quota');
    else q(r.json.image.count, 'image.count');
  });

  test('stores: Glance\'s, with their types', async () => {
    const r = await api(worker, 'GET', '/api/stores', { cookie });
    assert.equal(r.status, 200, r.text);
    examples['GET /api/stores'] = r.json;
    const detail = await os(admin, 'GET', `${admin.glance}/info/stores/detail`);
    if (detail.status === 404) {
      assert.deepEqual(r.json, { stores: [] });
    } else {
      assert.equal(detail.status, 200, detail.text);
      assert.deepEqual(r.json.stores, detail.json.stores.map((s) => ({ id: s.id, default: String(s.default) === 'true', type: s.type })));
      assert.ok(r.json.stores.length > 0 && r.json.stores.every((s) => typeof s.type === 'string'), 'admin sees the types');
    }
  });
});

describe('what a member (not admin) sees', () => {
  before(async () => {
    const password = `pw-${SUFFIX}`;
    const p = await os(admin, 'POST', `${KEYSTONE}/projects`, { project: { name: `sf-vproj-${SUFFIX}`, domain_id: 'default' } });
    assert.equal(p.status, 201, p.text);
    created.projects.push(p.json.project.id);
    const u = await os(admin, 'POST', `${KEYSTONE}/users`, { user: { name: `sf-vuser-${SUFFIX}`, domain_id: 'default', password } });
    assert.equal(u.status, 201, u.text);
    created.users.push(u.json.user.id);
    const roles = await os(admin, 'GET', `${KEYSTONE}/roles?name=member`);
    const a = await os(admin, 'PUT', `${KEYSTONE}/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roles.json.roles[0].id}`);
    assert.equal(a.status, 204, a.text);
    const l = await login(worker, { username: `sf-vuser-${SUFFIX}`, password, project: `sf-vproj-${SUFFIX}` });
    assert.equal(l.res.status, 200, l.res.text);
    assert.ok(l.res.json.roles.includes('member') && !l.res.json.roles.includes('admin'), l.res.json.roles);
    memberCookie = l.cookie;
  });

  test('stores: Glance keeps the detail from members, so the plain list, types null', async () => {
    const r = await api(worker, 'GET', '/api/stores', { cookie: memberCookie });
    assert.equal(r.status, 200, r.text);
    examples['GET /api/stores (member)'] = r.json;
    const admins = (await api(worker, 'GET', '/api/stores', { cookie })).json.stores;
    assert.deepEqual(r.json.stores, admins.map((st) => ({ ...st, type: null })));
  });

  test('limits: the member\'s own project, every section there', async () => {
    const r = await api(worker, 'GET', '/api/limits', { cookie: memberCookie });
    assert.equal(r.status, 200, r.text);
    examples['GET /api/limits (member)'] = r.json;
    assert.deepEqual(r.json.compute.instances, { limit: r.json.compute.instances.limit, used: 0 }, 'a new project uses nothing');
    assert.deepEqual(r.json.volume.volumes, { limit: r.json.volume.volumes.limit, used: 0 });
    assert.ok(Number.isInteger(r.json.volume.gigabytes.limit));
    assert.equal(typeof r.json.volume.per_type, 'object');
    for (const q of Object.values(r.json.volume.per_type)) assert.equal(q.volumes.used, 0);
  });
});

describe('volumes', () => {
  test('an image to make volumes from (through the worker)', async () => {
    source = randomBytes(3 << 20);
    const raw = path.join(tmp, 'src.raw');
    const qcow2 = path.join(tmp, 'src.qcow2');
    fs.writeFileSync(raw, source);
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    const c = await api(worker, 'POST', '/api/images', { cookie, body: { name: `sf-vimg-${SUFFIX}`, disk_format: 'qcow2' } });
    assert.equal(c.status, 201, c.text);
    imageId = c.json.id;
    created.images.push(imageId);
    const data = fs.readFileSync(qcow2);
    const u = await streamUpload(worker, imageId, cookie, data.length, chunksOf(data));
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.status, 'active');
  });

  test('refused bodies: 400 before Cinder, no volume made', async () => {
    const prefix = `sf-bad-vol-${SUFFIX}`;
    const good = { name: prefix, image_id: NO_SUCH, size_gib: 1 };
    for (const [body, why] of [
      [{ ...good, image_id: 'not-a-uuid' }, /image_id is not a UUID/],
      [{ ...good, image_id: '../../types' }, /image_id is not a UUID/],
      [{ ...good, size_gib: 0 }, /size_gib must be a whole number from 1 to 65536/],
      [{ ...good, size_gib: 65537 }, /size_gib/],
      [{ ...good, size_gib: 1.5 }, /size_gib/],
      [{ ...good, size_gib: '1' }, /size_gib/],
      [{ ...good, name: '' }, /name must be 1 to 255 characters/],
      [{ ...good, name: `${prefix}${'x'.repeat(255)}` }, /name must be/],
      [{ ...good, volume_type: 't'.repeat(256) }, /volume_type must be at most 255/],
      [{ ...good, size: 1 }, /unknown field `size`/],
    ]) {
      const r = await api(worker, 'POST', '/api/volumes', { cookie, body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error, 'bad_request');
      assert.equal(r.json.upstream_status, undefined, 'answered by the worker');
      assert.match(r.json.detail, why);
    }
    const text = await api(worker, 'POST', '/api/volumes', { cookie, raw: JSON.stringify(good), headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415);
    const noCsrf = await api(worker, 'POST', '/api/volumes', { cookie, body: good, csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.deepEqual(await volumesNamed(prefix), [], 'Cinder made none of them');
    // a well-formed body Cinder refuses: its own message, its status
    const missing = await api(worker, 'POST', '/api/volumes', { cookie, body: good });
    assert.ok([400, 404].includes(missing.status), missing.text);
    assert.equal(missing.json.upstream_status, missing.status);
    assert.match(missing.json.detail, /image/i, 'Cinder\'s message');
    const gone = await api(worker, 'GET', `/api/volumes/${NO_SUCH}`, { cookie });
    assert.equal(gone.status, 404, gone.text);
    assert.equal(gone.json.upstream_status, 404);
  });

  test('image → volume: available, bootable, its file holds the image\'s bytes as raw', async () => {
    const r = await createVolume('sf-data', { description: 'stackferry test data disk' });
    examples['POST /api/volumes'] = { status: r.status, body: r.json };
    dataVolume = r.json.id;
    const v = await volumeState(dataVolume, 'available');
    examples['GET /api/volumes/{id}'] = v;
    assert.deepEqual(v, {
      id: dataVolume, name: `sf-data-${SUFFIX}`, status: 'available', size_gib: 1, bootable: true,
      volume_type: v.volume_type, attachments: [], error: null,
    });
    const types = (await api(worker, 'GET', '/api/volume-types', { cookie })).json.volume_types;
    assert.equal(v.volume_type, types.find((t) => t.default)?.name, 'the default type');
    const file = path.join(VOLUME_DIR, `volume-${dataVolume}`);
    assert.equal(fs.statSync(file).size, 1 << 30);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', file], { encoding: 'utf8' }));
    assert.equal(info.format, 'raw');
    await holdsImage(file, source);
  });

  test('a volume Cinder cannot place: error, with Cinder\'s message; deleted through the worker', async () => {
    // a type whose backend does not exist: the scheduler fails the volume after the 202
    const t = await cinder('POST', '/types', { volume_type: { name: `sf-nowhere-${SUFFIX}`, extra_specs: { volume_backend_name: 'nowhere' } } });
    assert.equal(t.status, 200, t.text);
    created.types.push(t.json.volume_type.id);
    const c = await createVolume('sf-unplaced', { volume_type: `sf-nowhere-${SUFFIX}` });
    const v = await waitFor('volume in error', async () => {
      const r = await api(worker, 'GET', `/api/volumes/${c.json.id}`, { cookie });
      assert.equal(r.status, 200, r.text);
      return r.json.status === 'error' && r.json;
    }, 60000);
    examples['GET /api/volumes/{id} (error)'] = v;
    assert.equal(v.volume_type, `sf-nowhere-${SUFFIX}`);
    const m = await cinder('GET', `/messages?resource_uuid=${c.json.id}`);
    assert.ok(m.json.messages.length > 0, 'Cinder recorded why');
    assert.ok(m.json.messages.some((x) => x.user_message === v.error), `${v.error} vs ${m.text}`);
    assert.match(v.error, /backend/i);
    const d = await api(worker, 'DELETE', `/api/volumes/${c.json.id}`, { cookie });
    assert.deepEqual(d.json, { id: c.json.id, deleted: true });
    await waitFor('the failed volume gone', async () => (await cinder('GET', `/volumes/${c.json.id}`)).status === 404, 60000);
  });

  test('limits count the new volume', async () => {
    const r = await api(worker, 'GET', '/api/limits', { cookie });
    assert.equal(r.status, 200, r.text);
    const cl = (await cinder('GET', '/limits')).json.limits.absolute;
    assert.ok(r.json.volume.volumes.used >= 1 && r.json.volume.gigabytes.used >= 1, JSON.stringify(r.json.volume));
    // other users of the cloud may create volumes meanwhile: Cinder's count is at least ours
    assert.ok(cl.totalVolumesUsed >= r.json.volume.volumes.used - 1);
  });
});

describe('servers with volumes', () => {
  test('refused bodies: 400 before Nova, no server made, the volume untouched', async () => {
    const prefix = `sf-bad-vm-${SUFFIX}`;
    const base = { name: prefix, flavor_id: 'stack-tiny', network_id: net.id };
    const vol = (id, extra = {}) => ({ id, boot: false, delete_on_termination: false, ...extra });
    const many = Array.from({ length: 27 }, (_, i) => vol(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    for (const [body, why] of [
      [{ ...base, volumes: [vol(dataVolume)] }, /image_id is required unless a volume has boot: true/],
      [{ ...base }, /image_id is required/],
      [{ ...base, image_id: imageId, volumes: [vol(dataVolume, { boot: true })] }, /not both/],
      [{ ...base, volumes: [vol(dataVolume, { boot: true }), vol(NO_SUCH, { boot: true })] }, /only one volume can have boot: true/],
      [{ ...base, image_id: imageId, volumes: [vol('vol-1')] }, /volumes\[0\]\.id is not a UUID/],
      [{ ...base, image_id: imageId, volumes: [vol(dataVolume), vol(dataVolume)] }, /given twice/],
      [{ ...base, image_id: imageId, volumes: many }, /at most 26 volumes/],
    ]) {
      const r = await api(worker, 'POST', '/api/servers', { cookie, body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 120)}: ${r.text}`);
      assert.equal(r.json.upstream_status, undefined, 'answered by the worker');
      assert.match(r.json.detail, why);
    }
    assert.deepEqual(await serversNamed(prefix), [], 'Nova made none of them');
    const v = await api(worker, 'GET', `/api/volumes/${dataVolume}`, { cookie });
    assert.equal(v.json.status, 'available');
  });

  test('server from the image with the data volume: ACTIVE; Nova\'s and Cinder\'s views agree', async () => {
    const r = await api(worker, 'POST', '/api/servers', {
      cookie,
      body: { name: `sf-vm-vol-${SUFFIX}`, image_id: imageId, flavor_id: 'stack-tiny', network_id: net.id, volumes: [{ id: dataVolume, boot: false, delete_on_termination: false }] },
    });
    assert.equal(r.status, 202, r.text);
    examples['POST /api/servers (image + data volume)'] = { status: r.status, body: r.json };
    serverId = r.json.id;
    created.servers.push(serverId);
    const s = await serverActive(serverId);
    examples['GET /api/servers/{id}'] = s;
    assert.deepEqual(s.volumes, [dataVolume]);
    const v = await volumeState(dataVolume, 'in-use', 60000);
    assert.equal(v.attachments.length, 1);
    assert.equal(v.attachments[0].server_id, serverId);
    const nova = await os(admin, 'GET', `${admin.nova}/servers/${serverId}/os-volume_attachments`);
    assert.equal(nova.status, 200, nova.text);
    assert.deepEqual(nova.json.volumeAttachments.map((a) => [a.volumeId, a.device]), [[dataVolume, v.attachments[0].device]]);
    const raw = await os(admin, 'GET', `${admin.nova}/servers/${serverId}`);
    assert.deepEqual(raw.json.server['os-extended-volumes:volumes_attached'].map((a) => a.id), s.volumes);
    assert.ok(raw.json.server.image && raw.json.server.image.id === imageId, 'booted from the image');
  });

  test('a volume in use is not deleted: Cinder\'s refusal passed on', async () => {
    const r = await api(worker, 'DELETE', `/api/volumes/${dataVolume}`, { cookie });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.upstream_status, 400);
    assert.equal((await cinder('GET', `/volumes/${dataVolume}`)).json.volume.status, 'in-use');
  });

  test('server booted from a volume: ACTIVE, the volume is its root', async () => {
    const c = await createVolume('sf-boot');
    bootVolume = c.json.id;
    await volumeState(bootVolume, 'available');
    const r = await api(worker, 'POST', '/api/servers', {
      cookie,
      body: { name: `sf-vm-bfv-${SUFFIX}`, flavor_id: 'stack-tiny', network_id: net.id, volumes: [{ id: bootVolume, boot: true, delete_on_termination: true }] },
    });
    assert.equal(r.status, 202, r.text);
    examples['POST /api/servers (boot from volume)'] = { status: r.status, body: r.json };
    bfvId = r.json.id;
    created.servers.push(bfvId);
    const s = await serverActive(bfvId);
    assert.deepEqual(s.volumes, [bootVolume]);
    const raw = await os(admin, 'GET', `${admin.nova}/servers/${bfvId}`);
    assert.ok(!raw.json.server.image, `no image: ${JSON.stringify(raw.json.server.image)}`);
    const attached = raw.json.server['os-extended-volumes:volumes_attached'];
    assert.deepEqual(attached, [{ id: bootVolume, delete_on_termination: true }]);
    const v = await volumeState(bootVolume, 'in-use', 60000);
    assert.equal(v.attachments[0].server_id, bfvId);
    await holdsImage(path.join(VOLUME_DIR, `volume-${bootVolume}`), source);
  });

  test('everything deleted: servers, the boot volume with its server, the data volume through the worker', async () => {
    for (const id of [serverId, bfvId]) assert.equal((await os(admin, 'DELETE', `${admin.nova}/servers/${id}`)).status, 204);
    for (const id of [serverId, bfvId]) {
      await waitFor(`server ${id} deleted`, async () => (await os(admin, 'GET', `${admin.nova}/servers/${id}`)).status === 404, 60000);
    }
    await waitFor(`boot volume ${bootVolume} deleted with its server (delete_on_termination)`,
      async () => (await cinder('GET', `/volumes/${bootVolume}`)).status === 404, 60000);
    await volumeState(dataVolume, 'available', 60000);
    const r = await api(worker, 'DELETE', `/api/volumes/${dataVolume}`, { cookie });
    assert.equal(r.status, 200, r.text);
    examples['DELETE /api/volumes/{id}'] = r.json;
    assert.deepEqual(r.json, { id: dataVolume, deleted: true });
    await waitFor(`volume ${dataVolume} gone`, async () => (await cinder('GET', `/volumes/${dataVolume}`)).status === 404, 60000);
    for (const id of [dataVolume, bootVolume]) assert.ok(!fs.existsSync(path.join(VOLUME_DIR, `volume-${id}`)), `file of ${id} left`);
    const again = await api(worker, 'DELETE', `/api/volumes/${dataVolume}`, { cookie });
    assert.equal(again.status, 200, 'a volume already gone counts as deleted');
    assert.deepEqual(again.json, { id: dataVolume, deleted: true });
  });

  test('the token never appears in any response or log line', async () => {
    await worker.stop();
    for (const token of [cookie, memberCookie].filter(Boolean).map((c) => unseal(c).t)) {
      assert.ok(token.length > 100);
      for (const r of seen.responses) assert.ok(!r.includes(token), 'a response carried the token');
      for (const l of seen.logs) assert.ok(!l.includes(token), `a log line carried the token: ${l.slice(0, 80)}`);
    }
  });
});
