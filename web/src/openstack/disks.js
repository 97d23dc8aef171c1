// The disk table before a Send (issue 12): for a VM with several disks (or one the user wants
// as a volume), each disk's role (boot, data, skip), target (a Glance image only, or a Cinder
// volume of a type and size), the boot choice (image or volume, delete_on_termination off by
// default), the flavor the preflight counts, and what the core suggests (boot, format) with its
// reasons. Every change asks the core's `migration()` again and shows its answer: the
// decisions are the core's (openstack/migration.js is the glue). Test hooks: data-testid
// migration, disk-row (data-disk), boot-image/boot-volume, delete-on-termination, preflight.
import { $, h } from '../util.js';
import { bytes, onLangChange, t } from '../i18n/index.js';
import * as converter from '../converter/client.js';
import { closestFlavor, flavorWant } from './api.js';
import * as alert from './alert.js';
import { session } from './login.js';
import {
  checkText, defaultVolumeType, initialDisks, migrationInput, problemText, reasonText, unknownText,
} from './migration.js';

let api = null;
/**
 * What the cloud says, read once per session (`cloudFor`): `{types, defaultType, flavors,
 * stores, limits}` (the limits a Send's preflight reads again), or null.
 */
let cloud = null;
let cloudFor = null;
/**
 * The table shown, or null: `{inp, x (its inspection), ticked (the disks planned), disks (the
 * rows' choices), boot (the user's choice, null: the suggestion), deleteOnTermination,
 * flavorId, wanted, plan (the core's last answer), asked}`.
 */
let table = null;
let seq = 0;
/** Whether the format select follows the core's suggestion (until the user picks one). */
let formatFollows = true;
/** Whether a run goes on: the table's choices are fixed until it ends. */
let busy = false;

export function setup(client) {
  api = client;
  onLangChange(render);
  $('format-select').addEventListener('change', () => { formatFollows = false; });
}

/** Whether a Send is a whole-VM migration now (the table is on and has a plan). */
export function active() {
  return !!(table && table.wanted && table.plan);
}

/** The disk indexes of input `inp` the table skips (none when it is off). */
export function skipped(inp) {
  if (!active() || table.inp !== inp) return new Set();
  return new Set(table.disks.filter((d) => d.role === 'skip').map((d) => d.index));
}

/**
 * Follow the disks planned for a Send (ui/inputs.js `planned()`): a table for the one OVF/OVA
 * VM they come from, with Cinder in the catalog; none otherwise. `busy`: a run goes on.
 */
export function update(planned, { busy: running = false } = {}) {
  if (running !== busy) {
    busy = running;
    $('migration').toggleAttribute('inert', busy);
  }
  const s = session();
  const inputs = [...new Set(planned.map((d) => d.input))];
  const inp = inputs.length === 1 ? inputs[0] : null;
  const x = inp && inp.inspection;
  if (!s || s.volumes !== true || !x || !x.vm) {
    if (table) {
      table = null;
      render();
    }
    return;
  }
  const ticked = planned.map((d) => d.disk);
  if (table && table.inp === inp && String(table.ticked) === String(ticked) && cloudFor === s) return;
  if (!table || table.inp !== inp || String(table.ticked) !== String(ticked)) {
    const was = table && table.inp === inp ? table : null;
    const disks = initialDisks(x, cloud ? cloud.defaultType : null).filter((d) => ticked.includes(d.index))
      .map((d) => (was && was.disks.find((o) => o.index === d.index)) || d);
    table = {
      inp, x, ticked, disks, boot: was ? was.boot : null, deleteOnTermination: was ? was.deleteOnTermination : false,
      flavorId: was ? was.flavorId : null, wanted: was ? was.wanted : x.disks.length > 1, plan: null, asked: false,
    };
    formatFollows = true;
  }
  load(s).then(() => {
    if (table) table.asked = false;
    ask();
  });
}

/** The cloud's volume types, flavors, stores and limits, once per session. */
async function load(s) {
  if (cloudFor === s && cloud) return;
  cloudFor = s;
  const get = (p) => p.catch((e) => {
    alert.show('volumes.do.list', {}, e);
    return null;
  });
  const [types, flavors, stores, limits] = await Promise.all([get(api.volumeTypes()), get(api.list('flavors')), get(api.stores()), get(api.limits())]);
  cloud = { types: (types && types.volume_types) || [], defaultType: defaultVolumeType(types), flavors: flavors || [], stores, limits };
  if (table) for (const d of table.disks) if (d.volume_type == null) d.volume_type = cloud.defaultType;
}

/** The flavor the table counts: the user's, else the closest to the VM's suggested shape. */
function flavor() {
  if (!cloud || !table) return null;
  const chosen = cloud.flavors.find((f) => f.id === table.flavorId);
  if (chosen) return chosen;
  const sug = table.x.suggestion || {};
  return closestFlavor(cloud.flavors, flavorWant({ flavor: sug.flavor, minRam: sug.min_ram || 0, minDisk: 0 }));
}

/** The core's input for the table as it stands, with `limits` (default: those loaded). */
function input(limits = cloud && cloud.limits) {
  const plan = table.plan;
  const boot = table.boot || (plan ? plan.suggested_boot.boot : 'image');
  return migrationInput({ disks: table.disks, boot, flavor: flavor(), limits, stores: cloud && cloud.stores });
}

/** Ask the core about the table (the latest answer wins) and show it. */
async function ask() {
  if (!table || !cloud) {
    render();
    return;
  }
  const mine = ++seq;
  const t0 = table;
  let plan;
  try {
    plan = await converter.migration(input());
  } catch (e) {
    if (mine === seq) alert.show('volumes.do.plan', {}, e);
    return;
  }
  if (mine !== seq || table !== t0) return;
  t0.plan = plan;
  // A second ask with the suggestion known (the first asked with boot 'image').
  if (t0.boot == null && plan.boot !== plan.suggested_boot.boot && !t0.asked) {
    t0.asked = true;
    ask();
    return;
  }
  if (formatFollows && t0.wanted) {
    const sel = $('format-select');
    const want = plan.suggested_format.format;
    if (sel.value !== want && !sel.disabled) sel.value = want;
  }
  render();
}

/**
 * Before a Send: the plan against the project's limits read now. Resolves to `{plan,
 * disks, deleteOnTermination, flavor}` (the core's answer with `fits`).
 */
export async function preflight() {
  let limits = null;
  try {
    limits = await api.limits();
  } catch (e) {
    alert.show('volumes.do.limits', {}, e);
  }
  const plan = await converter.migration(input(limits));
  table.plan = plan;
  render();
  return { plan, disks: table.disks.map((d) => ({ ...d })), deleteOnTermination: table.deleteOnTermination, flavor: flavor() };
}

/** The review card's lines of a preflight: the volumes, the boot, every check, what is unknown. */
export function reviewLines({ plan, disks, deleteOnTermination }) {
  const lines = [];
  const names = new Map(disks.map((d) => [d.index, d]));
  for (const d of plan.disks) {
    if (d.role === 'skip' || d.target !== 'volume') continue;
    const own = names.get(d.index) || {};
    lines.push([h('strong', {}, t('volumes.review.volume', { name: own.name || String(d.index + 1) })), ' ',
      t('volumes.review.volumeFacts', { size: bytes(d.volume_gib * 1024 ** 3), type: own.volume_type || t('volumes.type.default'), role: t(`volumes.role.${d.role}`) })]);
  }
  lines.push(t(plan.boot === 'volume' ? (deleteOnTermination ? 'volumes.review.bootVolumeDelete' : 'volumes.review.bootVolume') : 'volumes.review.bootImage'));
  lines.push([h('strong', {}, t('volumes.preflight.title')), ' ',
    h('span', { 'data-testid': 'preflight', dataset: { fits: String(plan.fits) } }, plan.checks.map(checkText).join(' · '))]);
  const unknown = unknownText(plan);
  if (unknown) lines.push(unknown);
  return lines;
}

function option(value, text, selected) {
  return h('option', { value, selected: value === selected }, text);
}

function changed(fn) {
  return (e) => {
    fn(e.target);
    table.asked = false;
    ask();
  };
}

/** The table, from `table` and its plan, in the page's language. */
function render() {
  const box = $('migration');
  if (!table) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  const plan = table.plan;
  const head = h('h3', {}, t('volumes.title'));
  const wish = h('label', { class: 'field' }, h('input', {
    type: 'checkbox', checked: table.wanted, 'data-testid': 'migration-wanted',
    onchange: changed((el) => { table.wanted = el.checked; }),
  }), ` ${t('volumes.wanted')}`);
  box.replaceChildren(head, h('p', { class: 'hint' }, t('volumes.hint')), wish);
  if (!table.wanted) return;
  if (!cloud || !plan) {
    box.append(h('p', { class: 'hint' }, t('volumes.loading')));
    return;
  }
  const out = new Map(plan.disks.map((d) => [d.index, d]));
  const rows = table.disks.map((d) => {
    const o = out.get(d.index) || {};
    const target = o.target || d.target;
    const id = `mig-${d.index}`;
    const role = h('select', { id: `${id}-role`, 'aria-label': t('volumes.col.role'), onchange: changed((el) => { d.role = el.value; }) },
      ['boot', 'data', 'skip'].map((r) => option(r, t(`volumes.role.${r}`), d.role)));
    const tgt = h('select', { id: `${id}-target`, 'aria-label': t('volumes.col.target'), disabled: d.role === 'skip', onchange: changed((el) => { d.target = el.value; }) },
      option('image', t('volumes.target.image'), target), option('volume', t('volumes.target.volume'), target));
    const onVolume = target === 'volume' && d.role !== 'skip';
    const type = h('select', { id: `${id}-type`, 'aria-label': t('volumes.col.type'), disabled: !onVolume, onchange: changed((el) => { d.volume_type = el.value || null; }) },
      option('', t('volumes.type.default'), d.volume_type || ''),
      cloud.types.map((v) => option(v.name, v.default ? t('volumes.type.isDefault', { name: v.name }) : v.name, d.volume_type || '')));
    const gib = h('input', {
      type: 'number', class: 'num', id: `${id}-gib`, 'aria-label': t('volumes.col.size'), min: o.min_gib || 1, step: 1, disabled: !onVolume,
      value: o.volume_gib ?? '', onchange: changed((el) => { d.volume_gib = el.value === '' ? null : Number(el.value); }),
    });
    return h('tr', { 'data-testid': 'disk-row', dataset: { disk: d.index, role: d.role, target } },
      h('td', {}, d.name), h('td', {}, bytes(d.capacity)), h('td', {}, role), h('td', {}, tgt), h('td', {}, type),
      h('td', {}, gib, o.min_gib ? h('span', { class: 'hint' }, ` ${t('volumes.minGib', { min: o.min_gib })}`) : null));
  });
  const cols = ['disk', 'capacity', 'role', 'target', 'type', 'size'];
  box.append(h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('volumes.caption') }, h('table', {},
    h('caption', { class: 'visually-hidden' }, t('volumes.caption')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`volumes.col.${c}`))))),
    h('tbody', {}, rows))));
  const chose = table.x.vm.boot_disk && table.x.vm.boot_disk.reason;
  if (chose) box.append(h('p', { class: 'reason', 'data-testid': 'boot-disk-reason' }, reasonText(chose)));

  // The boot choice, the suggestion preselected with its reason.
  const radio = (value) => h('label', { class: 'radio' }, h('input', {
    type: 'radio', name: 'mig-boot', value, checked: plan.boot === value, 'data-testid': `boot-${value}`,
    onchange: changed(() => {
      table.boot = value;
      // Booting from an image: the boot disk goes to Glance (a volume target would boot from it).
      if (value === 'image') for (const d of table.disks) if (d.role === 'boot') d.target = 'image';
    }),
  }), ` ${t(`volumes.boot.${value}`)}`);
  const dot = h('label', { class: 'field', hidden: plan.boot !== 'volume' }, h('input', {
    type: 'checkbox', checked: table.deleteOnTermination, 'data-testid': 'delete-on-termination',
    onchange: (e) => { table.deleteOnTermination = e.target.checked; },
  }), ` ${t('volumes.deleteOnTermination')}`);
  box.append(h('fieldset', { class: 'row wrap' }, h('legend', {}, t('volumes.boot.legend')), radio('image'), radio('volume'), dot),
    h('p', { class: 'reason', 'data-testid': 'suggested-boot', dataset: { boot: plan.suggested_boot.boot } },
      t('volumes.boot.suggested', { boot: t(`volumes.boot.${plan.suggested_boot.boot}`), why: reasonText(plan.suggested_boot.reason) })));

  const fl = flavor();
  box.append(h('div', { class: 'row wrap' }, h('label', {}, t('volumes.flavor'), ' ', h('select', {
    id: 'migration-flavor', onchange: changed((el) => { table.flavorId = el.value; }),
  }, cloud.flavors.slice().sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk)
    .map((f) => option(f.id, t('cloud.launch.flavorOption', { name: f.name, vcpus: f.vcpus, ram: bytes(f.ram * 1048576), disk: f.disk }), fl && fl.id))))));
  // The trade-off in sizes: raw sends every byte of the disks, QCOW2 about their data.
  const kept = table.disks.filter((d) => d.role !== 'skip').map((d) => table.x.disks[d.index]);
  const sizes = t('volumes.format.sizes', {
    raw: bytes(kept.reduce((n, d) => n + (d.virtual_size || 0), 0)), qcow2: bytes(kept.reduce((n, d) => n + (d.allocated_bytes || 0), 0)),
  });
  box.append(h('p', { class: 'reason', 'data-testid': 'suggested-format', dataset: { format: plan.suggested_format.format } },
    t('volumes.format.suggested', { format: plan.suggested_format.format.toUpperCase(), why: reasonText(plan.suggested_format.reason) }), ' ', sizes));
  if (plan.problems.length) {
    box.append(h('ul', { class: 'error', role: 'alert', 'data-testid': 'migration-problems' }, plan.problems.map((p) => h('li', {}, problemText(p)))));
  }
  box.append(h('p', { class: 'hint', 'data-testid': 'migration-checks', dataset: { fits: String(plan.fits) } },
    plan.checks.map(checkText).join(' · '), ' ', unknownText(plan)));
}
