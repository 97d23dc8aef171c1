// The page's whole-VM migrations (issue 12: web/src/openstack/disks.js, volumes.js) against
// the real worker and cloud (Keystone, Glance, Nova with the fake driver, Neutron, Cinder
// file-backed): a two-disk OVA made here → a boot image and a data volume → a server ACTIVE
// with the volume attached; booting from a volume; a quota too low refused before anything is
// converted; a failure injected after the uploads (page.route answering 500 to `POST
// /api/volumes`) cleaned up; a volume in error (the page's polls answered so) shown with
// Cinder's message and cleaned up. The page and the worker are the real ones.
//
// Run by web/tests/openstack.test.mjs (`node web/tests/openstack.test.mjs "osweb volumes"`). A
// worker whose session does not say `volumes: true` (no Cinder, or no volume routes) makes
// every test here say so and pass without sending.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, confirmReview, feed, login, sleep, tid } from '../../tests/lib/os-flow.mjs';
import { ADMIN_PASSWORD, KEYSTONE, os as osCall } from '../../tests/lib/edge-worker.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OVA_PY = path.resolve(HERE, '../../tests/e2e/ova.py');
/** The two disks: a boot disk and a data disk, small (each becomes a 1 GiB volume at most). */
const BOOT_MIB = 64;
const DATA_DISK_MIB = 48;
/** Where the file-backed Cinder of tests/openstack keeps a volume's bytes (raw). */
const VOLUME_DIR = process.env.STACK_DIR ? path.join(process.env.STACK_DIR, 'data/cinder/volumes') : null;

/**
 * The volumes tests, bound to the suite's scratch dir `tmp`, its record `made`, `admin()`,
 * `net()` (a network with a subnet), `base()` (the worker's URL), the suffix for names, and the
 * flow's `open`,
 * `launchServer`, `makeFlavor` and `cinderCall` (tests/lib/os-flow.mjs).
 */
export function volumesTests({ tmp, made, admin, net, base, suffix, open, launchServer, makeFlavor, cinderCall }) {
  let vm = null;

  /** The two-disk OVA (made once): `{ova, name, raws: [boot, data]}`. */
  function twoDiskOva() {
    if (vm) return vm;
    const dir = path.join(tmp, 'two-disk');
    fs.mkdirSync(dir, { recursive: true });
    const name = `osweb-vm-${suffix}`;
    const raws = [path.join(tmp, 'boot.raw'), path.join(tmp, 'data.raw')];
    execFileSync('python3', [path.join(HERE, 'make-disk.py'), raws[0], String(BOOT_MIB), '4', '21']);
    execFileSync('python3', [path.join(HERE, 'make-disk.py'), raws[1], String(DATA_DISK_MIB), '3', '22']);
    const disks = raws.map((raw, k) => {
      const vmdk = path.join(dir, `${name}-disk${k + 1}.vmdk`);
      return { vmdk, ...JSON.parse(execFileSync('python3', [OVA_PY, 'vmdk', raw, vmdk], { encoding: 'utf8' })) };
    });
    // ova.py writes both disks on SCSI controller 0, units 0 and 1, the first booting; 64 MiB
    // of memory: the image's min_ram, which stack.tiny has
    execFileSync('python3', [OVA_PY, 'ovf', path.join(dir, `${name}.ovf`), '--name', name, '--memory-mib', '64',
      ...disks.flatMap((d) => ['--vmdk', d.vmdk, '--capacity', String(d.virtual_size), '--populated', String(d.populated_size)])]);
    const packed = JSON.parse(execFileSync('python3', [OVA_PY, 'pack', dir, name], { encoding: 'utf8' }));
    vm = { ova: packed.ova, name, raws };
    return vm;
  }

  /** Cinder's record of volume `id` (the admin's view). */
  async function cinderVolume(id) {
    return cinderCall('GET', `/volumes/${id}`);
  }

  /** Glance's answer for image `id`: gone (404 or deleted) or its record. */
  async function glanceGone(id) {
    const a = admin();
    for (let k = 0; k < 20; k++) {
      const g = await osCall(a, 'GET', `${a.glance}/images/${id}`);
      if (g.status === 404 || (g.json && g.json.status === 'deleted')) return true;
      await sleep(500);
    }
    return false;
  }

  /**
   * A page logged in (as `user`/`project`), the OVA given and the disk table planned. Resolves
   * to the session, or null (noted) when the worker does not offer volumes.
   */
  async function ready(t, { project = 'admin', route } = {}) {
    const s = await open(t, `${base()}/`);
    const { page } = s;
    if (route) await page.route(route.url, route.handler);
    await login(page, ADMIN_PASSWORD, { project });
    await page.waitForSelector(`${tid('session')}:visible`, { timeout: 30000 });
    const volumes = await page.evaluate(async () => (await (await fetch('/api/session')).json()).volumes);
    if (volumes !== true) {
      t.note(`skipped: the worker's session says volumes = ${JSON.stringify(volumes)}`);
      return null;
    }
    await feed(page, [twoDiskOva().ova]);
    await planned(page);
    return s;
  }

  /** Wait until the table shows the core's plan (after every change). */
  async function planned(page) {
    await page.waitForSelector(`${tid('migration')}:visible ${tid('migration-checks')}`, { timeout: 60000 });
  }

  /** Choose the table's flavor `id` and wait for the new plan. */
  async function tableFlavor(page, id) {
    const before = await page.locator(tid('migration-checks')).innerText();
    await page.locator('#migration-flavor').selectOption(id);
    await page.waitForFunction((b) => {
      const el = document.querySelector('[data-testid=migration-checks]');
      return el && el.innerText !== b;
    }, before, { timeout: 30000 }).catch(() => {});
    await planned(page);
  }

  /** The rows of the table: `[{role, target}]`. */
  const rows = (page) => page.locator(tid('disk-row')).evaluateAll((els) => els.map((e) => ({ role: e.dataset.role, target: e.dataset.target })));

  /** Send, confirm the review, wait for the volumes' end; records what was made. Resolves to the rows' states. */
  async function sendWhole(page, { expect = 'ready' } = {}) {
    await page.locator(`${tid('send-button')}:enabled`).click({ timeout: 15000 });
    const card = page.locator(tid('review'));
    await card.waitFor({ state: 'visible', timeout: 30000 });
    const text = await card.innerText();
    assert(await card.locator(`${tid('preflight')}[data-fits=true]`).count() === 1, `the review shows a preflight that fits: ${text}`);
    await confirmReview(page);
    await page.waitForSelector(`${tid('migration-status')}[data-state=${expect}], ${tid('migration-status')}[data-state=left], ${tid('migration-status')}[data-state=cleaned]`, { timeout: 600000 });
    const images = await page.locator('#upload-progress .upload[data-image-id]').evaluateAll((els) => els.map((e) => e.dataset.imageId));
    const volumes = await page.locator(`${tid('volume-row')}[data-volume-id]`).evaluateAll((els) => els.map((e) => ({ id: e.dataset.volumeId, state: e.dataset.state, disk: Number(e.dataset.disk), imageDeleted: e.dataset.imageDeleted === 'true', text: e.innerText })));
    made.images.push(...images);
    made.volumes.push(...volumes.map((v) => v.id));
    const state = await page.locator(tid('migration-status')).getAttribute('data-state');
    const said = await page.locator(tid('migration-status')).innerText();
    assert(state === expect, `the migration ended ${expect}: ${state}: ${said} ${await page.locator(tid('os-error')).innerText().catch(() => '')}`);
    return { images, volumes, said, review: text };
  }

  /** Nova's and Cinder's views of server `id` and its volumes agree; resolves to Nova's record. */
  async function attachedAgree(serverId, volumeIds) {
    const a = admin();
    const s = await osCall(a, 'GET', `${a.nova}/servers/${serverId}`);
    const nova = (s.json.server['os-extended-volumes:volumes_attached'] || []).map((v) => v.id);
    assert(JSON.stringify(nova) === JSON.stringify(volumeIds), `Nova has the volumes attached in order: ${JSON.stringify(nova)} vs ${JSON.stringify(volumeIds)}`);
    for (const id of volumeIds) {
      const v = (await cinderVolume(id)).json.volume;
      assert(v.status === 'in-use' && v.attachments.some((x) => x.server_id === serverId), `Cinder has ${id} in use by the server: ${v.status} ${JSON.stringify(v.attachments)}`);
    }
    return s.json.server;
  }

  const tests = [];
  const test = (name, fn) => tests.push({ name, fn });

  test('osweb volumes: a two-disk OVA → boot image + data volume (its image deleted once available) → server ACTIVE with the volume attached; the checklist records both disks', async (t) => {
    const s = await ready(t);
    if (!s) return;
    const { page } = s;
    assert(JSON.stringify(await rows(page)) === JSON.stringify([{ role: 'boot', target: 'image' }, { role: 'data', target: 'volume' }]), `roles and targets: ${JSON.stringify(await rows(page))}`);
    await tableFlavor(page, 'stack-tiny');
    const sug = page.locator(tid('suggested-boot'));
    assert(await sug.getAttribute('data-boot') === 'image' && await page.locator(tid('boot-image')).isChecked(), `a flavor with a root disk as large as the boot disk: boot from the image (${await sug.innerText()})`);
    const fmt = await page.locator(tid('suggested-format')).getAttribute('data-format');
    assert(fmt === 'qcow2' && await page.locator(tid('format-select')).inputValue() === 'qcow2', `a file store: QCOW2 suggested and chosen (${await page.locator(tid('suggested-format')).innerText()})`);
    const r = await sendWhole(page);
    assert(r.images.length === 2, `two images made: ${r.images.join(', ')}`);
    assert(r.volumes.length === 1 && r.volumes[0].state === 'available' && r.volumes[0].disk === 1, `one volume, of the data disk, available: ${JSON.stringify(r.volumes)}`);
    const [vol] = r.volumes;
    assert(vol.imageDeleted && vol.text.includes('intermediate image'), `the row says its image was deleted: ${vol.text}`);
    assert(await glanceGone(r.images[1]), 'the data disk\'s image is gone from Glance');
    const boot = await osCall(admin(), 'GET', `${admin().glance}/images/${r.images[0]}`);
    assert(boot.json.status === 'active', `the boot image stays: ${boot.json.status}`);
    const cv = (await cinderVolume(vol.id)).json.volume;
    assert(cv.status === 'available' && cv.size === 1, `Cinder: available, 1 GiB: ${cv.status} ${cv.size}`);
    if (VOLUME_DIR && fs.existsSync(path.join(VOLUME_DIR, `volume-${vol.id}`))) {
      const cmp = execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', twoDiskOva().raws[1], path.join(VOLUME_DIR, `volume-${vol.id}`)], { encoding: 'utf8' });
      assert(/identical/.test(cmp), `the volume holds the data disk: ${cmp}`);
      t.note('the volume\'s file holds the data disk\'s bytes (qemu-img compare)');
    }
    await page.waitForSelector(`#launch:visible ${tid('launch-volumes')}:visible`, { timeout: 30000 });
    const attached = await page.locator(tid('launch-volumes')).innerText();
    assert(attached.includes(`Volumes attached: ${twoDiskOva().name}-disk2`), `the form says which volume goes with the server: ${attached}`);
    const l = await launchServer(page, { networkId: net().id, name: `osweb-vol-${suffix}`, flavorId: 'stack-tiny' });
    assert(l.status === 'ACTIVE', `server ACTIVE: ${l.text}`);
    await page.waitForSelector(tid('server-volumes'), { timeout: 30000 });
    assert(await page.locator(tid('server-volumes')).getAttribute('data-volumes') === vol.id, 'the server card lists the volume');
    const server = await attachedAgree(l.serverId, [vol.id]);
    assert(server.image && server.image.id === r.images[0], `booted from the boot image: ${JSON.stringify(server.image)}`);
    const recorded = await page.evaluate((name) => JSON.parse(localStorage.getItem('stackferry.checklist.v1'))[name].digests, twoDiskOva().name);
    assert(recorded.length === 2 && recorded.every((d) => d.source && d.sha512 && d.content_digest && d.image_id), `both disks recorded: ${JSON.stringify(recorded)}`);
    assert(recorded.find((d) => d.image_id === r.images[1]).volume_id === vol.id && !recorded.find((d) => d.image_id === r.images[0]).volume_id, 'the data disk\'s record names its volume');
    t.note(`${r.said} | ${l.text.replace(/\s+/g, ' ')}`);
  });

  test('osweb volumes: boot from volume (a flavor with no root disk suggests it) → both disks volumes, server ACTIVE from its boot volume', async (t) => {
    const a = admin();
    // No root disk, and the RAM the VM has (the image's min_ram, which Nova checks on the volume too).
    const nodisk = await makeFlavor({ name: `osweb-bfv-${suffix}`, ram: 64, vcpus: 1, disk: 0 });
    const s = await ready(t);
    if (!s) return;
    const { page } = s;
    await tableFlavor(page, nodisk.id);
    await page.waitForSelector(`${tid('suggested-boot')}[data-boot=volume]`, { timeout: 30000 });
    assert(await page.locator(tid('boot-volume')).isChecked(), 'the suggestion is preselected');
    assert(!await page.locator(tid('delete-on-termination')).isChecked(), 'delete_on_termination is off by default');
    assert(JSON.stringify(await rows(page)) === JSON.stringify([{ role: 'boot', target: 'volume' }, { role: 'data', target: 'volume' }]), `both disks volumes: ${JSON.stringify(await rows(page))}`);
    const r = await sendWhole(page);
    assert(r.volumes.length === 2 && r.volumes.every((v) => v.state === 'available' && v.imageDeleted), `two volumes available, their images deleted: ${JSON.stringify(r.volumes)}`);
    for (const id of r.images) assert(await glanceGone(id), `image ${id} gone`);
    const bootVol = r.volumes.find((v) => v.disk === 0).id;
    const dataVol = r.volumes.find((v) => v.disk === 1).id;
    assert((await cinderVolume(bootVol)).json.volume.bootable === 'true', 'the boot volume is bootable');
    await page.waitForSelector(`#launch:visible ${tid('launch-volumes')}:visible`, { timeout: 30000 });
    assert(await page.locator('#launch-image').isHidden(), 'no image to choose: it boots from its volume');
    const attached = await page.locator(tid('launch-volumes')).innerText();
    assert(attached.includes(`${twoDiskOva().name}-disk1 (boot), ${twoDiskOva().name}-disk2`), `the boot volume first, then the data volume: ${attached}`);
    const l = await launchServer(page, { networkId: net().id, name: `osweb-bfv-${suffix}`, flavorId: nodisk.id });
    assert(l.status === 'ACTIVE', `server ACTIVE: ${l.text}`);
    const server = await attachedAgree(l.serverId, [bootVol, dataVol]);
    assert(!server.image || server.image === '', `no image: booted from the volume (${JSON.stringify(server.image)})`);
    // delete_on_termination is in Nova's answer from microversion 2.79.
    const dot = (await osCall(a, 'GET', `${a.nova}/servers/${l.serverId}/os-volume_attachments`, undefined, { 'OpenStack-API-Version': 'compute 2.79' })).json.volumeAttachments;
    assert(dot.every((x) => x.delete_on_termination === false), `no volume deleted with the server: ${JSON.stringify(dot)}`);
  });

  test('osweb volumes: a quota too low (Nova instances 0 for a fresh project) → the review refuses before converting, naming it; nothing created', async (t) => {
    const a = admin();
    const name = `osweb-quota-${suffix}`;
    const p = await osCall(a, 'POST', `${KEYSTONE}/projects`, { project: { name, domain_id: 'default' } });
    assert(p.status === 201, `project: ${p.text}`);
    const projectId = p.json.project.id;
    t.cleanup.push(() => osCall(a, 'DELETE', `${KEYSTONE}/projects/${projectId}`));
    const role = (await osCall(a, 'GET', `${KEYSTONE}/roles?name=admin`)).json.roles[0];
    assert((await osCall(a, 'PUT', `${KEYSTONE}/projects/${projectId}/users/${a.user.id}/roles/${role.id}`)).status === 204, 'admin has a role on it');
    const quota = `${a.nova}/os-quota-sets/${projectId}`;
    const was = (await osCall(a, 'GET', quota)).json.quota_set.instances;
    const set = await osCall(a, 'PUT', quota, { quota_set: { instances: 0 } });
    assert(set.status === 200 && set.json.quota_set.instances === 0, `quota lowered: ${set.text}`);
    t.cleanup.push(() => osCall(a, 'PUT', quota, { quota_set: { instances: was } }));
    const s = await ready(t, { project: name });
    if (!s) return;
    const { page } = s;
    await page.locator(`${tid('send-button')}:enabled`).click({ timeout: 15000 });
    const card = page.locator(tid('review'));
    await card.waitFor({ state: 'visible', timeout: 30000 });
    const refusal = card.locator(tid('review-refusal'));
    assert(await refusal.isVisible(), 'the refusal shows');
    const text = await refusal.innerText();
    assert(/servers: needs 1 but 0 left/.test(text) && text.includes('nothing was converted or created'), `it names what is short: ${text}`);
    assert(await card.locator(tid('review-confirm')).isHidden(), 'no Confirm');
    assert(await card.locator(`${tid('preflight')}[data-fits=false]`).count() === 1, 'the preflight does not fit');
    await card.locator(tid('review-back')).click();
    await card.waitFor({ state: 'detached', timeout: 5000 });
    await page.waitForTimeout(1500);
    const created = s.apiCalls.filter((c) => /^(POST|PUT) \/api\/(images|volumes|servers)/.test(c));
    assert(!created.length, `nothing sent to the API: ${created.join(', ')}`);
    assert(await page.locator(tid('progress')).getAttribute('data-state') !== 'running' && await page.locator(`${tid('progress')} .disk[data-state=running]`).count() === 0, 'nothing converted');
    const pImages = (await osCall(a, 'GET', `${a.glance}/images?owner=${projectId}`)).json.images;
    assert(!pImages.length, `no image in the project: ${pImages.map((i) => i.id)}`);
    t.note(`refused: ${text}`);
  });

  test('osweb volumes: a failure after the uploads (POST /api/volumes answered 500) deletes the images made, says so, and leaves no volume', async (t) => {
    const s = await ready(t, {
      route: {
        url: '**/api/volumes',
        handler: (route) => (route.request().method() === 'POST'
          ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'upstream_error', detail: 'injected by the test' }) })
          : route.continue()),
      },
    });
    if (!s) return;
    const { page } = s;
    // The other tests' volumes of this VM are theirs: only new ones would be this one's.
    const named = async () => new Set((((await cinderCall('GET', `/volumes?name=${encodeURIComponent(`${twoDiskOva().name}-disk2`)}`)).json || {}).volumes || []).map((v) => v.id));
    const before = await named();
    const r = await sendWhole(page, { expect: 'cleaned' });
    assert(r.images.length === 2, `both images were made before the failure: ${r.images}`);
    for (const id of r.images) assert(await glanceGone(id), `image ${id} deleted`);
    assert(!r.volumes.length, `no volume made: ${JSON.stringify(r.volumes)}`);
    assert(/everything this migration created was deleted \(volumes: 0, images: 2\)/.test(r.said), `the page says so: ${r.said}`);
    const fresh = [...await named()].filter((id) => !before.has(id));
    assert(!fresh.length, `no new volume of this VM in Cinder: ${fresh.join(', ')}`);
    assert(await page.locator('#launch').isHidden(), 'nothing to launch');
    assert((await page.locator(tid('os-error')).getAttribute('data-error')) === 'upstream_error', 'the error is shown');
  });

  test('osweb volumes: a volume Cinder sets to error shows Cinder\'s message; the volume made and the images are deleted', async (t) => {
    const message = `No valid backend was found (injected by the test ${suffix}).`;
    const s = await ready(t, {
      route: {
        url: /\/api\/volumes\/[0-9a-f-]{36}$/,
        // Cinder's view as the worker gives it, for the page's polls only: the volume itself is real.
        handler: (route) => (route.request().method() === 'GET'
          ? route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: route.request().url().split('/').pop(), status: 'error', error: message }) })
          : route.continue()),
      },
    });
    if (!s) return;
    const { page } = s;
    const r = await sendWhole(page, { expect: 'cleaned' });
    assert(r.volumes.length === 1 && r.volumes[0].state === 'error' && r.volumes[0].text.includes(message), `the row shows Cinder's message: ${JSON.stringify(r.volumes)}`);
    assert(/\(volumes: 1, images: 2\)/.test(r.said), `the volume and both images deleted: ${r.said}`);
    for (const id of r.images) assert(await glanceGone(id), `image ${id} deleted`);
    let v;
    for (let k = 0; k < 30; k++) {
      v = await cinderVolume(r.volumes[0].id);
      if (v.status === 404 || (v.json && v.json.volume && v.json.volume.status === 'deleting')) break;
      await sleep(1000);
    }
    assert(v.status === 404 || v.json.volume.status === 'deleting', `the volume is gone from Cinder: ${v.status} ${v.text}`);
  });

  test('osweb volumes: a launch that ends in ERROR deletes the server, then the volume and the images (no orphans); the fault stays shown', async (t) => {
    const fault = `No valid host was found (injected by the test ${suffix}).`;
    // Nova's view as the worker gives it, for the page's polls only until it deletes the server:
    // the server itself is real, and so is its deletion
    let deleting = false;
    const s = await ready(t, {
      route: {
        url: /\/api\/servers\/[0-9a-f-]{36}$/,
        handler: (route) => {
          if (route.request().method() === 'DELETE') deleting = true;
          if (route.request().method() !== 'GET' || deleting) return route.continue();
          return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: route.request().url().split('/').pop(), name: 'x', status: 'ERROR', fault: { message: fault, code: 500 } }) });
        },
      },
    });
    if (!s) return;
    const { page } = s;
    await tableFlavor(page, 'stack-tiny');
    const r = await sendWhole(page);
    const [vol] = r.volumes;
    await page.waitForSelector('#launch:visible', { timeout: 30000 });
    const l = await launchServer(page, { networkId: net().id, name: `osweb-err-${suffix}`, flavorId: 'stack-tiny' });
    assert(l.status === 'ERROR', `the page sees ERROR: ${l.text}`);
    const status = page.locator(tid('migration-status'));
    await page.waitForSelector(`${tid('migration-status')}[data-state=cleaned], ${tid('migration-status')}[data-state=left]`, { timeout: 300000 });
    const said = await status.innerText();
    assert(await status.getAttribute('data-state') === 'cleaned' && /\(volumes: 1, images: 1\)/.test(said), `the volume and the boot image deleted (the data disk's image went once its volume was made): ${said}`);
    const line = page.locator(tid('server-status'));
    assert(await line.getAttribute('data-deleted') === 'true', 'the server went');
    assert(/The server was deleted/.test(await line.innerText()) && await line.getAttribute('data-fault') === fault, `the fault stays and the deletion is said: ${await line.innerText()}`);
    const a = admin();
    const nova = await osCall(a, 'GET', `${a.nova}/servers/${l.serverId}`);
    assert(nova.status === 404 || (nova.json && nova.json.server && nova.json.server.status === 'DELETED'), `Nova has no server: ${nova.status}`);
    assert(await glanceGone(r.images[0]), 'the boot image is gone');
    let v;
    for (let k = 0; k < 30; k++) {
      v = await cinderVolume(vol.id);
      if (v.status === 404 || (v.json && v.json.volume && v.json.volume.status === 'deleting')) break;
      await sleep(1000);
    }
    assert(v.status === 404 || v.json.volume.status === 'deleting', `the volume is gone from Cinder: ${v.status} ${v.text}`);
    t.note(`${said} | ${(await line.innerText()).replace(/\s+/g, ' ')}`);
  });

  return { tests };
}
