// The whole-VM glue (web/src/openstack/migration.js) under node: the disk table's first state
// from an inspection, the core's input from it, the volumes a plan makes and the order the
// server gets them in, and the preflight's words (checks, refusal, unknown limits). The plans
// here are shaped as CONTRACT-12 §2 says the core answers; the core's own rules are tested in
// converter-wasm/src/migration.rs.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  bootImageIndex, checkText, defaultVolumeType, flavorInput, initialDisks, migrationInput, problemText, reasonText, refusalText,
  serverVolumes, unknownText, volumesToMake,
} from '../../src/openstack/migration.js';
import { CATALOGUES, setLang } from '../../src/i18n/index.js';

const GIB = 1024 ** 3;

/** An OVA's inspection with `n` disks; `vm` overrides parts of its VM summary. */
function inspection(n, vm = {}) {
  const disks = Array.from({ length: n }, (_, k) => ({ name: `web-disk${k + 1}.vmdk`, virtual_size: (k + 1) * GIB + 1 }));
  return { disks, vm: { name: 'web', disks: disks.map((d) => ({ file_name: d.name, capacity_bytes: d.virtual_size })), ...vm } };
}

/** A plan as the core answers it. */
function plan(more = {}) {
  return {
    disks: [
      { index: 0, role: 'boot', target: 'volume', volume_gib: 3, min_gib: 3 },
      { index: 1, role: 'data', target: 'image', volume_gib: 2, min_gib: 2 },
      { index: 2, role: 'data', target: 'volume', volume_gib: 5, min_gib: 4 },
      { index: 3, role: 'skip', target: 'volume', volume_gib: 1, min_gib: 1 },
    ],
    boot: 'volume',
    suggested_boot: { boot: 'volume', reason: { code: 'flavor_no_disk', args: {} } },
    suggested_format: { format: 'qcow2', reason: { code: 'no_rbd', args: {} } },
    checks: [], unknown: [], fits: true, problems: [],
    ...more,
  };
}

test('initialDisks: the core\'s roles; else its boot disk; else the first disk boots; boot → image, data → volume', () => {
  const roles = initialDisks(inspection(3, { disks: [{ role: 'data' }, { role: 'boot' }, { role: 'data' }] }), 'ceph');
  assert.deepEqual(roles.map((d) => [d.role, d.target, d.volume_type]), [['data', 'volume', 'ceph'], ['boot', 'image', 'ceph'], ['data', 'volume', 'ceph']]);
  assert.deepEqual(roles.map((d) => d.capacity), [GIB + 1, 2 * GIB + 1, 3 * GIB + 1]);
  const byBoot = initialDisks({ ...inspection(2), vm: { ...inspection(2).vm, boot_disk: { index: 1, reason: { code: 'boot_order', args: {} } } } });
  assert.deepEqual(byBoot.map((d) => d.role), ['data', 'boot']);
  assert.deepEqual(initialDisks(inspection(2)).map((d) => d.role), ['boot', 'data']);
  assert.deepEqual(initialDisks(inspection(2)).map((d) => d.volume_gib), [null, null], 'the size is the core\'s until edited');
});

test('defaultVolumeType: the type the cloud marks default, else none', () => {
  assert.equal(defaultVolumeType({ volume_types: [{ name: 'a', default: false }, { name: 'lvm', default: true }] }), 'lvm');
  assert.equal(defaultVolumeType({ volume_types: [{ name: 'a', default: false }] }), null);
  assert.equal(defaultVolumeType(null), null);
});

test('migrationInput: the contract\'s shape, the table\'s choices as they are', () => {
  const disks = initialDisks(inspection(2), 'lvm');
  disks[1].volume_gib = 9;
  const limits = { compute: null, volume: null, image: null };
  const input = migrationInput({ disks, boot: 'image', flavor: { id: 'f', vcpus: 2, ram: 512, disk: 0 }, limits, stores: { stores: [] } });
  assert.deepEqual(input, {
    disks: [
      { index: 0, name: 'web-disk1.vmdk', capacity: GIB + 1, upload_bytes: null, role: 'boot', target: 'image', volume_type: 'lvm', volume_gib: null },
      { index: 1, name: 'web-disk2.vmdk', capacity: 2 * GIB + 1, upload_bytes: null, role: 'data', target: 'volume', volume_type: 'lvm', volume_gib: 9 },
    ],
    boot: 'image',
    flavor: { vcpus: 2, ram_mib: 512, disk_gib: 0 },
    limits,
    stores: { stores: [] },
  });
  assert.equal(flavorInput(null), null);
});

test('volumesToMake: the non-skipped disks whose target is a volume, with the plan\'s size and the table\'s type', () => {
  const disks = [{ index: 0, volume_type: null }, { index: 2, volume_type: 'fast' }];
  assert.deepEqual(volumesToMake(plan(), disks), [
    { index: 0, gib: 3, type: null, boot: true },
    { index: 2, gib: 5, type: 'fast', boot: false },
  ]);
});

test('serverVolumes: the boot volume first (delete_on_termination as chosen), data volumes after in the OVF\'s order, never deleted with the server', () => {
  const made = new Map([[2, 'v-data'], [0, 'v-boot']]);
  assert.deepEqual(serverVolumes(plan(), made), [
    { id: 'v-boot', boot: true, delete_on_termination: false },
    { id: 'v-data', boot: false, delete_on_termination: false },
  ]);
  assert.equal(serverVolumes(plan(), made, { deleteOnTermination: true })[0].delete_on_termination, true);
  // Booting from the image: the data volumes only, in disk order.
  const fromImage = plan({
    boot: 'image',
    disks: [{ index: 0, role: 'boot', target: 'image' }, { index: 2, role: 'data', target: 'volume' }, { index: 1, role: 'data', target: 'volume' }],
  });
  assert.deepEqual(serverVolumes(fromImage, new Map([[1, 'b'], [2, 'c']])).map((v) => v.id), ['b', 'c']);
  assert.equal(bootImageIndex(fromImage), 0);
  assert.equal(bootImageIndex(plan()), null);
});

test('the preflight in words: each check\'s need and what is left; a refusal names what is short; unknown limits said', () => {
  setLang('en');
  const ok = { resource: 'volume.volumes', type: null, need: 2, limit: 10, used: 3, left: 7, ok: true, unit: 'count' };
  const short = { resource: 'volume.type.gigabytes', type: 'lvm', need: 8, limit: 10, used: 7, left: 3, ok: false, unit: 'gib' };
  const free = { resource: 'compute.instances', type: null, need: 1, limit: -1, used: 4, left: null, ok: true, unit: 'count' };
  assert.equal(checkText(ok), 'Cinder volumes: needs 2, 7 left');
  assert.match(checkText(short), /^Cinder gigabytes of type lvm: needs 8(\.00)? GiB but 3(\.00)? GiB left — too few\.$/);
  assert.equal(checkText(free), 'servers: needs 1, no limit');
  const refused = plan({ fits: false, checks: [ok, short] });
  const text = refusalText(refused);
  assert.ok(text.startsWith(CATALOGUES.en['volumes.refused'].split('{')[0]), text);
  assert.ok(text.includes('lvm') && !text.includes('Cinder volumes: needs 2'), `only what is short: ${text}`);
  assert.equal(refusalText(plan()), '');
  assert.equal(unknownText(plan()), '');
  assert.equal(unknownText(plan({ unknown: ['image.count', 'image.size_bytes'] })), 'The cloud does not report its limit for: Glance images, Glance storage.');
  setLang('ko');
  assert.match(checkText(ok), /Cinder 볼륨 수: 2 필요, 7 남음/);
  setLang('en');
});

test('reasons and problems read in the page\'s language, a size in bytes as read', () => {
  setLang('en');
  const r = reasonText({ code: 'flavor_root_too_small', args: { disk_gib: 1, size: 3 * GIB } });
  assert.ok(r.includes('1 GiB root disk') && r.includes('3.00 GiB') && !r.includes(String(3 * GIB)), r);
  const p = problemText({ code: 'volume_too_small', args: { name: 'd2', disk_gib: 1, size: 2 * GIB } });
  assert.ok(p.includes('d2') && p.includes('2.00 GiB'), p);
  assert.equal(reasonText(null), '');
});

test('every check resource the contract names has words in both languages', () => {
  for (const r of ['compute.instances', 'compute.cores', 'compute.ram_mib', 'volume.volumes', 'volume.gigabytes', 'volume.type.volumes', 'volume.type.gigabytes', 'image.count', 'image.size_bytes']) {
    for (const l of ['en', 'ko']) assert.equal(typeof CATALOGUES[l][`volumes.resource.${r}`], 'string', `${l} ${r}`);
  }
});
