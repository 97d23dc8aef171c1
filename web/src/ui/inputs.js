// Section "What is in them": one card per input (an OVA, an OVF, a VMDK) with its kind, its
// files, its errors (errors.js `errorBox`, shown here and only here), its disks (ticked to
// convert), its warnings and notes, its VM summary, and the suggested Glance properties and
// shape, which the user may edit (the commands and the Send use the edited copy). A bare VMDK
// (no OVF) asks for its OS family and applies the core's matching suggestion. Edited values are
// checked (`problems()`, `valid()`): a value OpenStack would not take is marked and blocks
// Convert and Send, never silently dropped.
import { $, h, kv, baseName, outputName } from '../util.js';
import { t, msg, bytes, onLangChange } from '../i18n/index.js';
import { coreError } from '../error.js';
import { errorBox } from './errors.js';
import * as files from './files.js';
import { guestCard } from './guest.js';

const GIB = 1 << 30;

/**
 * The values Nova and Glance accept for the properties the core suggests (Glance's "useful
 * image properties", Nova's libvirt driver). `closed`: no other value means anything; an open
 * list also takes another value (a newer model) if it is well formed and not a near miss.
 */
export const PROPERTY_VALUES = {
  hw_disk_bus: { values: ['virtio', 'scsi', 'sata', 'ide', 'usb', 'fdc'] },
  hw_scsi_model: { values: ['virtio-scsi', 'lsilogic', 'lsisas1068', 'buslogic', 'vmpvscsi'] },
  hw_vif_model: { values: ['virtio', 'e1000', 'e1000e', 'rtl8139', 'pcnet', 'ne2k_pci', 'vmxnet3', 'igb'] },
  hw_firmware_type: { values: ['bios', 'uefi'], closed: true },
  hw_machine_type: { values: ['q35', 'pc'] },
  hw_video_model: { values: ['virtio', 'qxl', 'vga', 'cirrus', 'bochs', 'none'] },
  os_type: { values: ['linux', 'windows'], closed: true },
  os_secure_boot: { values: ['required', 'optional', 'disabled'], closed: true },
  os_distro: {
    values: ['ubuntu', 'debian', 'rhel', 'centos', 'rocky', 'almalinux', 'fedora', 'sles', 'sled', 'opensuse',
      'oraclelinux', 'mandriva', 'mandrake', 'arch', 'gentoo', 'freebsd', 'openbsd', 'netbsd', 'solaris', 'opensolaris', 'windows'],
  },
};

/** A value safe on a command line and in Glance: letters, digits and `. _ : -`, no spaces,
 * quotes or shell syntax, at most 64 characters, starting with a letter or digit. */
const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Edit distance (insert, delete, replace, swap two neighbours): `virtoi` is 1 from `virtio`. */
function distance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * What is wrong with `value` for Glance property `key`: null (fine; empty means "not set"), or
 * `{key, params}` for the catalogue (`inputs.invalid.*`). A near miss of a known value
 * (`virtoi`, `VirtIO`) is refused with the value meant: Nova would not boot the image.
 */
export function checkValue(key, value) {
  const v = String(value ?? '');
  if (v === '') return null;
  const spec = PROPERTY_VALUES[key];
  if (spec && spec.values.includes(v)) return null;
  if (!SAFE_VALUE.test(v)) return { key: 'inputs.invalid.chars', params: { value: v } };
  if (!spec) return null;
  if (spec.closed) return { key: 'inputs.invalid.one_of', params: { value: v, values: spec.values.join(', ') } };
  const lower = v.toLowerCase();
  const near = spec.values.find((known) => {
    const d = distance(lower, known);
    return d === 0 || d === 1 || (d === 2 && v.length >= 5);
  });
  if (near) return { key: 'inputs.invalid.typo', params: { value: v, known: near } };
  return null;
}

/**
 * A typed count (`min_ram`, vCPUs…) → `{value}` (a whole number ≥ `min`, or null when empty) or
 * `{problem}` (catalogue key and params). `badInput`: the browser could not read a number.
 */
export function checkCount(raw, { min = 0, badInput = false } = {}) {
  const s = String(raw ?? '').trim();
  if (badInput) return { problem: { key: 'inputs.invalid.number', params: { min } } };
  if (s === '') return { value: null };
  const n = Number(s);
  if (!/^[+]?\d+$/.test(s) || !Number.isSafeInteger(n) || n < min) return { problem: { key: 'inputs.invalid.number', params: { min } } };
  return { value: n };
}

const state = {
  /** The converter's inspection (`{inputs, unused}`), or null. */
  inspected: null,
  /** The files inspected, `[{name, blob}]`. */
  files: [],
  /** Per input index: see `choiceFor`. */
  choices: new Map(),
  /** Whether the edits were valid when last looked at (a change tells `onChange`). */
  wasValid: true,
  onShown: () => {},
  onChange: () => {},
  onEdit: () => {},
};

/**
 * `onShown()`: an inspection is shown (its VMs are known); `onChange()`: what can be converted
 * may have changed (shown, hidden, a disk ticked, the edits became valid or invalid);
 * `onEdit()`: a suggestion was edited.
 */
export function setup({ onShown, onChange, onEdit }) {
  Object.assign(state, { onShown, onChange, onEdit });
  onLangChange(() => { if (state.inspected) render(); });
}

/** The names of the VMs (or inputs) inspected, in order. */
export function vmNames() {
  return state.inspected ? state.inspected.inputs.filter((i) => i.inspection).map(inputLabel) : [];
}

/** The name a VM's checklist goes by: the VM's name, else the input's file name. */
export function inputLabel(inp) {
  return inp.inspection && inp.inspection.vm && inp.inspection.vm.name ? inp.inspection.vm.name : baseName(inp.name);
}

/** The user's copy of a suggestion (`null`: none): what the commands and the Send use. */
function fromSuggestion(sug, minDisk) {
  if (!sug) return { props: [], shape: { min_ram: null, min_disk: minDisk, flavor: {} } };
  return {
    props: (sug.properties || []).map((p) => ({ ...p })),
    shape: { min_ram: sug.min_ram ?? null, min_disk: sug.min_disk ?? minDisk, flavor: { ...(sug.flavor || {}) } },
  };
}

/**
 * The user's choices for input `inp` (index `i`): `{disks: Set of disk indexes, props:
 * [{key, value, reason, why}], shape: {min_ram, min_disk, flavor}, os: the OS family picked
 * for a bare VMDK, typed: {field: raw text} of counts that are not valid numbers}`. min_disk
 * is always set: the suggestion's, else the first disk's virtual size in GiB rounded up.
 */
export function choiceFor(i, inp) {
  if (!state.choices.has(i)) {
    const ins = inp.inspection;
    const first = ins && ins.disks[0];
    const minDisk = first && first.virtual_size ? Math.ceil(first.virtual_size / GIB) : null;
    state.choices.set(i, { disks: new Set(ins ? ins.disks.map((_, k) => k) : []), ...fromSuggestion(ins && ins.suggestion, minDisk), os: null, typed: {} });
  }
  return state.choices.get(i);
}

/**
 * Show an inspection (`null`: none, e.g. while reading); `files` are the files it is of. The
 * choices made on an earlier inspection are forgotten.
 */
export function show(inspected, files) {
  state.inspected = inspected;
  state.files = files;
  state.choices.clear();
  render();
}

/** The edits OpenStack would refuse: `[{input, field, message}]` (input: its index). */
export function problems() {
  const ins = state.inspected;
  if (!ins) return [];
  const out = [];
  for (const [i, choice] of state.choices) {
    if (!ins.inputs[i] || !ins.inputs[i].inspection) continue;
    for (const p of choice.props) {
      const bad = checkValue(p.key, p.value);
      if (bad) out.push({ input: i, field: p.key, message: t(bad.key, bad.params) });
    }
    for (const [field, bad] of Object.entries(choice.typed)) out.push({ input: i, field, message: t(bad.key, bad.params) });
  }
  return out;
}

/** Whether every edit is one OpenStack would take (Convert and Send wait for it). */
export function valid() {
  return problems().length === 0;
}

/** After an edit: refresh the commands, and tell the Convert/Send panel if validity changed. */
function edited() {
  state.onEdit();
  const now = valid();
  if (now !== state.wasValid) {
    state.wasValid = now;
    state.onChange();
  }
}

function render() {
  const sec = $('inputs-section');
  const box = $('inputs');
  box.replaceChildren();
  // Each VM's summary is in its input's card; the old shared box stays empty.
  $('vm-summary').replaceChildren();
  $('vm-summary').hidden = true;
  const ins = state.inspected;
  if (!ins) {
    state.wasValid = true;
    sec.hidden = true;
    $('convert-section').hidden = !state.files.length;
    state.onChange();
    return;
  }
  sec.hidden = false;
  $('convert-section').hidden = false;
  ins.inputs.forEach((inp, i) => box.append(inputCard(inp, i)));
  state.wasValid = valid();
  if (ins.unused.length) {
    box.append(h('p', { class: 'hint' }, t('inputs.unused', { names: ins.unused.map((k) => state.files[k].name).join(', ') })));
  }
  state.onShown();
  state.onChange();
}

/** The names of the files input `inp` is made of. */
function fileNames(inp) {
  return inp.uses.map((k) => (state.files[k] ? state.files[k].name : null)).filter(Boolean);
}

/** An error shown in a card: announced, and found by the tests as `[data-testid=error]`. */
function cardError(error) {
  const el = errorBox(error);
  el.setAttribute('role', 'alert');
  el.dataset.testid = 'error';
  return el;
}

function inputCard(inp, i) {
  const name = baseName(inp.name);
  const card = h('div', { class: 'input', dataset: { input: i } });
  const remove = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('inputs.remove', { name }), disabled: files.isBusy(), dataset: { remove: '' } }, t('common.remove'));
  remove.addEventListener('click', () => files.remove(fileNames(inp)));
  card.append(h('div', { class: 'input-head' },
    h('h3', {}, name, inp.inspection ? h('span', { class: 'hint' }, ` · ${inp.inspection.kind.toUpperCase()}`) : null), remove));
  if (inp.uses.length > 1) card.append(h('p', { class: 'hint' }, t('inputs.files', { names: fileNames(inp).join(', ') })));
  if (inp.error) {
    card.append(cardError(inp.error));
    return card;
  }
  const x = inp.inspection;
  const choice = choiceFor(i, inp);
  if (x.missing.length) {
    card.append(cardError(coreError('missing_file', `needs ${x.missing.map((n) => `'${n}'`).join(', ')}, which ${x.missing.length === 1 ? 'was' : 'were'} not given`,
      { file: name, code: 'missing_files', args: { names: x.missing.join(', '), count: x.missing.length } })));
  }
  if (!x.vm && x.os_choices) card.append(osQuestion(i, x, choice));
  const list = h('div', { class: 'disks' });
  x.disks.forEach((d, k) => {
    const id = `disk-${i}-${k}`;
    const cb = h('input', { type: 'checkbox', id, checked: choice.disks.has(k), disabled: x.missing.length > 0 });
    cb.addEventListener('change', () => {
      if (cb.checked) choice.disks.add(k);
      else choice.disks.delete(k);
      state.onChange();
    });
    const line = t('inputs.disk.line', { format: d.subformat || d.format, size: bytes(d.virtual_size), data: bytes(d.allocated_bytes) });
    list.append(h('div', { class: 'disk-choice' }, cb, h('label', { for: id }, t('inputs.disk.label', { n: String(k + 1), name: baseName(d.name) })),
      h('span', { class: 'hint' }, d.parents.length ? `${line}${t('inputs.disk.chain', { count: d.parents.length + 1 })}` : line)));
    for (const w of d.warnings || []) list.append(warning(w));
  });
  card.append(list);
  for (const w of x.warnings || []) card.append(warning(w));
  const guest = guestCard(x.guest, { files: state.files, top: inp.top });
  if (guest) card.append(guest);
  if (x.vm) card.append(vmSummary(i, inp, x, choice));
  else card.append(suggestionBlock(i, choice, !!(x.suggestion || choice.os)));
  return card;
}

/** Whether a warning only says something will be done (the manifest's digests get checked). */
function isNote(w) {
  if (typeof w === 'string') return /manifest digests of the disks are checked/.test(w);
  return w && w.code === 'manifest_checked';
}

/** A warning (amber) or a note (information) from the core. */
function warning(w) {
  const note = isNote(w);
  return h('p', { class: note ? 'note' : 'warn' }, h('strong', {}, t(note ? 'inputs.note' : 'inputs.warning')), ' ', msg(w, 'warn.'));
}

/** "Linux / Windows / other" for a bare VMDK: applies the core's suggestion for that family. */
function osQuestion(i, x, choice) {
  const first = x.disks[0];
  const minDisk = first && first.virtual_size ? Math.ceil(first.virtual_size / GIB) : null;
  const radios = ['linux', 'windows', 'other'].filter((k) => x.os_choices[k]).map((k) => {
    const id = `os-${i}-${k}`;
    const r = h('input', { type: 'radio', name: `os-${i}`, id, value: k, checked: choice.os === k });
    r.addEventListener('change', () => {
      if (!r.checked) return;
      Object.assign(choice, fromSuggestion(x.os_choices[k], minDisk), { os: k, typed: {} });
      render();
      edited();
      const again = document.getElementById(id);
      if (again) again.focus();
    });
    return h('label', { for: id, class: 'radio' }, r, ` ${t(`inputs.os.${k}`)}`);
  });
  return h('fieldset', { class: 'os-question row wrap' }, h('legend', {}, t('inputs.os.question')), radios,
    h('p', { class: 'hint' }, t('inputs.os.hint')));
}

/** The OS's proper name ("Windows Server 2019, 64-bit"); the raw ids only as a hint beside it. */
function osText(os) {
  let name = os.product ? (os.bits ? t('inputs.vm.os_bits', { name: os.product, bits: String(os.bits) }) : os.product) : os.description;
  if (!name) name = os.id != null ? t('inputs.vm.os_cim', { id: String(os.id) }) : t('inputs.vm.os_unknown');
  const ids = [...new Set([os.vmw_os_type, os.vbox_os_type].filter((id) => id && id !== name))];
  return [name, ids.length ? h('span', { class: 'hint ids' }, ` (${ids.join(' · ')})`) : null];
}

function vmSummary(i, inp, x, choice) {
  const vm = x.vm;
  const card = h('div', { class: 'vm', dataset: { input: i, testid: 'vm-summary' } });
  card.append(h('h3', {}, t('inputs.vm.title', { name: vm.name || baseName(inp.name) })));
  const dash = '–';
  card.append(kv([
    [t('inputs.vm.os'), h('span', {}, ...osText(vm.os || {}))],
    [t('inputs.vm.vcpus'), vm.vcpus != null ? (vm.cores_per_socket ? t('inputs.vm.vcpus_cores', { count: vm.vcpus, cores: vm.cores_per_socket }) : String(vm.vcpus)) : null],
    [t('inputs.vm.memory'), vm.memory_mib != null ? bytes(vm.memory_mib * 1048576) : null],
    [t('inputs.vm.firmware'), vm.firmware ? `${vm.firmware.toUpperCase()}${vm.secure_boot ? t('inputs.vm.secure_boot') : ''}` : null],
    [t('inputs.vm.hardware'), vm.hardware_version],
    [t('inputs.vm.networks'), (vm.networks || []).join(', ')],
  ]));
  // A table that may scroll sideways on a phone is a focusable, named region (keyboard users
  // can scroll it: axe scrollable-region-focusable).
  const table = (caption, heads, rows) => h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col' }, k)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c ?? dash)))))));
  if (vm.disks && vm.disks.length) {
    card.append(table(t('inputs.vm.disks'), [t('inputs.vm.disk'), t('inputs.vm.file'), t('inputs.vm.capacity'), t('inputs.vm.controller')],
      vm.disks.map((d) => [d.disk_id, d.file_name || d.file_ref, d.capacity_bytes != null ? bytes(d.capacity_bytes) : null,
        d.controller ? [d.controller.kind, d.controller.subtype || d.controller.model].filter(Boolean).join(' ') : null])));
  }
  if (vm.nics && vm.nics.length) {
    card.append(table(t('inputs.vm.nics'), [t('inputs.vm.nic'), t('inputs.vm.model'), t('inputs.vm.network'), t('inputs.vm.mac')],
      vm.nics.map((n) => [n.name, n.model, n.network, n.mac])));
  }
  if (x.suggestion) card.append(suggestionBlock(i, choice, true));
  return card;
}

/** A suggestion's reasons: each part of `why` (a whole sentence) in the page's language, else the English `reason`. */
function reasonText(p) {
  return p.why && p.why.length ? p.why.map((w) => msg(w, 'why.')).join(' ') : p.reason || '';
}

/**
 * Shows or clears the problem of a field: aria-invalid and a visible message under it (a
 * polite live region, kept in place while empty so that screen readers announce it).
 */
function mark(el, msgEl, problem) {
  if (problem) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
  msgEl.textContent = problem ? t(problem.key, problem.params) : '';
}

const OTHER = '__other';

/** One property's value: a select of the allowed values, "other…" opening a checked text field. */
function propertyRow(i, k, p) {
  const id = `prop-${i}-${k}`;
  const spec = PROPERTY_VALUES[p.key];
  const msgEl = h('p', { class: 'field-error', id: `${id}-msg`, 'aria-live': 'polite' });
  const described = `${id}-why ${id}-msg`;
  const other = h('input', { type: 'text', id: `${id}-other`, class: 'other', value: p.value, 'aria-describedby': described,
    'aria-label': t('inputs.prop.other_label', { key: p.key }), autocomplete: 'off', spellcheck: 'false' });
  let sel = null;
  const check = () => mark(sel && sel.value !== OTHER ? sel : other, msgEl, checkValue(p.key, p.value));
  if (spec) {
    const known = spec.values.includes(p.value);
    sel = h('select', { id, 'aria-describedby': described },
      h('option', { value: '' }, t('inputs.prop.unset')),
      spec.values.map((v) => h('option', { value: v, selected: v === p.value }, v)),
      h('option', { value: OTHER, selected: !known && p.value !== '' }, t('inputs.prop.other')));
    if (p.value === '') sel.value = '';
    other.hidden = known || p.value === '';
    sel.addEventListener('change', () => {
      other.hidden = sel.value !== OTHER;
      p.value = sel.value === OTHER ? other.value.trim() : sel.value;
      if (sel.value === OTHER) other.focus();
      check();
      edited();
    });
  } else {
    other.id = id;
    other.removeAttribute('aria-label');
  }
  other.addEventListener('input', () => {
    p.value = other.value.trim();
    check();
    edited();
  });
  const field = h('td', {}, sel, other, msgEl);
  const row = h('tr', {}, h('td', {}, h('label', { for: id, class: 'mono' }, p.key)), field, h('td', { class: 'reason', id: `${id}-why` }, reasonText(p)));
  check();
  return row;
}

/** A count field (min_ram, vCPUs…): a bad number is marked and kept, never clamped or dropped. */
function countField(choice, id, field, label, value, unit, min, set) {
  const typed = choice.typed[field];
  const el = h('input', { type: 'number', min, step: 1, id, value: typed ? typed.raw : value ?? '', class: 'num', inputmode: 'numeric', 'aria-describedby': `${id}-msg` });
  const msgEl = h('p', { class: 'field-error', id: `${id}-msg`, 'aria-live': 'polite' });
  const check = () => {
    const r = checkCount(el.value, { min, badInput: el.validity && el.validity.badInput });
    if (r.problem) choice.typed[field] = { ...r.problem, raw: el.value };
    else {
      delete choice.typed[field];
      set(r.value);
    }
    mark(el, msgEl, r.problem);
  };
  el.addEventListener('input', () => {
    check();
    edited();
  });
  if (typed) mark(el, msgEl, typed);
  return h('span', { class: 'field' }, h('label', { for: id }, label), ' ', el, unit ? h('span', { class: 'hint' }, ` ${unit}`) : null, msgEl);
}

/**
 * The suggested properties (when `withProps`) and the image's shape and flavor, editable. For a
 * bare VMDK with no suggestion yet, only min_ram and min_disk (from the disk's size).
 */
function suggestionBlock(i, choice, withProps) {
  const box = h('div', { class: 'suggestion' });
  box.append(h('h3', {}, t('inputs.suggested.title')), h('p', { class: 'hint' }, t('inputs.suggested.hint')));
  if (withProps && choice.props.length) {
    const tbody = h('tbody', {}, choice.props.map((p, k) => propertyRow(i, k, p)));
    box.append(h('div', { class: 'table-wrap props', tabindex: 0, role: 'region', 'aria-label': t('inputs.prop.caption') }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('inputs.prop.key')), h('th', { scope: 'col' }, t('inputs.prop.value')), h('th', { scope: 'col' }, t('inputs.prop.why')))), tbody)));
  }
  const shape = choice.shape;
  const f = shape.flavor;
  const count = (id, field, label, value, unit, min, set) => countField(choice, `${id}-${i}`, field, label, value, unit, min, set);
  box.append(h('div', { class: 'row wrap shape' },
    count('min-ram', 'min_ram', 'min_ram', shape.min_ram, 'MiB', 0, (v) => { shape.min_ram = v; }),
    count('min-disk', 'min_disk', 'min_disk', shape.min_disk, 'GiB', 0, (v) => { shape.min_disk = v; })));
  if (withProps) {
    box.append(h('div', { class: 'row wrap shape' },
      h('strong', {}, t('inputs.flavor.title')),
      count('flavor-vcpus', 'flavor.vcpus', t('inputs.flavor.vcpus'), f.vcpus, '', 1, (v) => { f.vcpus = v; }),
      count('flavor-ram', 'flavor.ram_mib', t('inputs.flavor.ram'), f.ram_mib, 'MiB', 1, (v) => { f.ram_mib = v; }),
      count('flavor-disk', 'flavor.disk_gib', t('inputs.flavor.disk'), f.disk_gib, 'GiB', 0, (v) => { f.disk_gib = v; })));
    const why = reasonText(f);
    if (why) box.append(h('p', { class: 'reason' }, why));
  }
  return box;
}

/**
 * The disks to convert, in order, with their output names for `format`: `[{inputIndex, input,
 * top, disk, info, outName}]`. Output names keep the disks' own names (Unicode too) and are
 * never the same twice.
 */
export function planned(format) {
  const ins = state.inspected;
  if (!ins) return [];
  const out = [];
  const taken = new Set();
  ins.inputs.forEach((inp, i) => {
    if (!inp.inspection || inp.inspection.missing.length) return;
    const choice = choiceFor(i, inp);
    inp.inspection.disks.forEach((d, k) => {
      if (!choice.disks.has(k)) return;
      out.push({ inputIndex: i, input: inp, top: inp.top, disk: k, info: d, outName: outputName(d.name, format, taken) });
    });
  });
  return out;
}

/**
 * The Glance image name for a planned disk: the VM's name as written (Unicode kept; `-diskN` if
 * it has several), else the output's stem. Control characters go: a name is one line.
 */
export function imageName(d) {
  const vm = d.input.inspection && d.input.inspection.vm;
  const base = d.outName.replace(/\.(qcow2|raw)$/, '');
  const name = vm && vm.name ? (d.input.inspection.disks.length > 1 ? `${vm.name}-disk${d.disk + 1}` : vm.name) : base;
  return name.replace(/\p{Cc}/gu, '').normalize('NFC');
}
