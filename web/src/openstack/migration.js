// A whole VM migrated (issue 12): the glue between the disk table (openstack/disks.js), the
// core's plan (`migration(input)` in converter-wasm/src/migration.rs, through the converter
// worker) and the launch. The decisions (roles, sizes, the boot and format suggestions, the
// quota checks) are the core's; here only the table's state becomes the core's input, and the
// core's answer becomes what the page shows and sends. No DOM here: node runs its tests
// (web/tests/unit/migration.test.mjs).
import { bytes, number, t } from '../i18n/index.js';

const GIB = 1024 ** 3;

/**
 * The table's first state for inspection `x` (an OVF/OVA's, with `vm`): per disk its name,
 * capacity and the core's role (`vm.disks[k].role`, else `vm.boot_disk`, else the first disk
 * boots); boot disk → a Glance image, data disks → Cinder volumes of the default type
 * `defaultType` (a name, or null: the cloud's default). Inspection disks are in the OVF's disk
 * order, as `vm.disks`.
 */
export function initialDisks(x, defaultType = null) {
  const vmDisks = (x.vm && x.vm.disks) || [];
  const bootIndex = x.vm && x.vm.boot_disk ? x.vm.boot_disk.index : null;
  return x.disks.map((d, k) => {
    const v = vmDisks.length === x.disks.length ? vmDisks[k] : null;
    const role = (v && (v.role === 'boot' || v.role === 'data')) ? v.role
      : bootIndex != null ? (bootIndex === k ? 'boot' : 'data') : (k === 0 ? 'boot' : 'data');
    return {
      index: k,
      name: d.name,
      capacity: d.virtual_size || (v && v.capacity_bytes) || 0,
      role,
      target: role === 'boot' ? 'image' : 'volume',
      volume_type: defaultType,
      volume_gib: null,
    };
  });
}

/** The default volume type's name from `GET /api/volume-types` (null: none said). */
export function defaultVolumeType(answer) {
  const types = (answer && answer.volume_types) || [];
  const d = types.find((v) => v.default);
  return d ? d.name : null;
}

/** A flavor of the API's list (`{vcpus, ram, disk}`) as the core's input wants it. */
export function flavorInput(f) {
  return f ? { vcpus: f.vcpus, ram_mib: f.ram, disk_gib: f.disk } : null;
}

/**
 * The core's input (CONTRACT-12 §2) from the table: `disks` as kept by the table (a disk's
 * volume type goes even while its target is an image: booting from a volume makes the boot
 * disk one), `boot`
 * ('image'|'volume'), `flavor` (the API's), `limits` and `stores` (the API's answers or null).
 */
export function migrationInput({ disks, boot, flavor = null, limits = null, stores = null }) {
  return {
    disks: disks.map((d) => ({
      index: d.index, name: d.name, capacity: d.capacity, upload_bytes: d.upload_bytes ?? null,
      role: d.role, target: d.target, volume_type: d.volume_type ?? null,
      volume_gib: d.volume_gib ?? null,
    })),
    boot,
    flavor: flavorInput(flavor),
    limits,
    stores,
  };
}

/**
 * The volumes to make once the images are in Glance: per disk of the core's plan `plan` whose
 * target is a volume, `{index, gib, type, boot}` in the OVF's order; `types`: the disks'
 * volume types from the table (by index).
 */
export function volumesToMake(plan, disks) {
  const byIndex = new Map(disks.map((d) => [d.index, d]));
  return plan.disks.filter((d) => d.role !== 'skip' && d.target === 'volume').map((d) => ({
    index: d.index,
    gib: d.volume_gib,
    type: (byIndex.get(d.index) || {}).volume_type ?? null,
    boot: d.role === 'boot',
  }));
}

/**
 * `POST /api/servers`'s `volumes` for a plan: the boot volume first when booting from a
 * volume (with `deleteOnTermination`), then the data volumes in the OVF's order; `made`: the
 * volume ids by disk index. Data volumes are never deleted with the server.
 */
export function serverVolumes(plan, made, { deleteOnTermination = false } = {}) {
  const out = [];
  const disks = plan.disks.filter((d) => d.role !== 'skip' && d.target === 'volume' && made.has(d.index));
  const boot = disks.find((d) => d.role === 'boot');
  if (plan.boot === 'volume' && boot) out.push({ id: made.get(boot.index), boot: true, delete_on_termination: !!deleteOnTermination });
  for (const d of disks.slice().sort((a, b) => a.index - b.index)) {
    if (d.role === 'boot') continue;
    out.push({ id: made.get(d.index), boot: false, delete_on_termination: false });
  }
  return out;
}

/** The Glance image a server boots from in `plan`, by disk index: null when it boots from a volume. */
export function bootImageIndex(plan) {
  if (plan.boot === 'volume') return null;
  const b = plan.disks.find((d) => d.role === 'boot');
  return b ? b.index : null;
}

/** A reason's or problem's args for its sentence: `size` (bytes) as read ("64.0 MiB"). */
function readable(args) {
  const out = { ...(args || {}) };
  if (typeof out.size === 'number') out.size = bytes(out.size);
  return out;
}

/** A reason `{code, args}` in the page's language (`migration.reason.<code>`, the core's catalogue keys). */
export function reasonText(r) {
  return r ? t(`migration.reason.${r.code}`, readable(r.args)) : '';
}

/** A problem `{code, args}` in the page's language (`migration.problem.<code>`). */
export function problemText(p) {
  return t(`migration.problem.${p.code}`, readable(p.args));
}

/** An amount of `unit` (count, gib, mib, bytes) as read. */
export function amount(n, unit) {
  if (n == null) return '–';
  if (unit === 'gib') return bytes(n * GIB);
  if (unit === 'mib') return bytes(n * 1048576);
  if (unit === 'bytes') return bytes(n);
  return number(n);
}

/** A check's resource in words: "Cinder gigabytes (type lvmdriver-1)". */
export function resourceText(c) {
  const what = t(`volumes.resource.${c.resource}`);
  return c.type ? t('volumes.resource.typed', { what, type: c.type }) : what;
}

/** One preflight check as a line: "Cinder volumes: needs 1, 9 left" (or "no limit"). */
export function checkText(c) {
  const left = c.limit === -1 || c.left == null ? t('volumes.check.unlimited') : t('volumes.check.left', { left: amount(c.left, c.unit) });
  return t(c.ok ? 'volumes.check.line' : 'volumes.check.short', { what: resourceText(c), need: amount(c.need, c.unit), left });
}

/**
 * Why a plan cannot go ahead, in one sentence naming each shortfall and problem; '' when it
 * fits.
 */
export function refusalText(plan) {
  if (plan.fits) return '';
  const parts = [...plan.problems.map(problemText), ...plan.checks.filter((c) => !c.ok).map(checkText)];
  return t('volumes.refused', { reasons: parts.join(' ') });
}

/** The resources the cloud does not report, said once: '' when there are none. */
export function unknownText(plan) {
  if (!plan.unknown || !plan.unknown.length) return '';
  return t('volumes.unknown', { what: plan.unknown.map((r) => t(`volumes.resource.${r}`)).join(', ') });
}
