// Section 2, "What is in them": per input its kind, disks (ticked to convert), warnings and
// missing files; the VM summary of an OVF or OVA with the suggested Glance properties, shape
// and flavor, which the user may edit (the commands and the Send use the edited copy).
import { $, h, kv, bytes, baseName, outputName } from '../util.js';
import { coreError, errorText } from '../error.js';
import * as errors from './errors.js';

const state = {
  /** The converter's inspection (`{inputs, unused}`), or null. */
  inspected: null,
  /** The files inspected, `[{name, blob}]`. */
  files: [],
  /** Per input index: {disks: Set of chosen disk indexes, props: [{key, value, reason}], shape}. */
  choices: new Map(),
  onShown: () => {},
  onChange: () => {},
  onEdit: () => {},
};

/**
 * `onShown()`: an inspection is shown (its VMs are known); `onChange()`: what can be converted
 * may have changed (shown, hidden, a disk ticked); `onEdit()`: a suggestion was edited.
 */
export function setup({ onShown, onChange, onEdit }) {
  Object.assign(state, { onShown, onChange, onEdit });
}

/** The names of the VMs (or inputs) inspected, in order. */
export function vmNames() {
  return state.inspected ? state.inspected.inputs.filter((i) => i.inspection).map(inputLabel) : [];
}

/** The name a VM's checklist goes by: the VM's name, else the input's file name. */
export function inputLabel(inp) {
  return inp.inspection && inp.inspection.vm && inp.inspection.vm.name ? inp.inspection.vm.name : baseName(inp.name);
}

/** The user's choices for input `inp` (index `i`): `{disks: Set of disk indexes, props, shape}`. */
export function choiceFor(i, inp) {
  if (!state.choices.has(i)) {
    const ins = inp.inspection;
    const sug = ins && ins.suggestion;
    const props = sug ? (sug.properties || []).map((p) => ({ ...p })) : [];
    // The user's copy of the suggestion: what the commands use.
    const shape = sug ? { min_ram: sug.min_ram, min_disk: sug.min_disk, flavor: { ...(sug.flavor || {}) } } : null;
    state.choices.set(i, { disks: new Set(ins ? ins.disks.map((_, k) => k) : []), props, shape });
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

function render() {
  const sec = $('inputs-section');
  const box = $('inputs');
  const vmBox = $('vm-summary');
  box.replaceChildren();
  vmBox.replaceChildren();
  vmBox.hidden = true;
  const ins = state.inspected;
  if (!ins) {
    sec.hidden = true;
    $('convert-section').hidden = !state.files.length;
    state.onChange();
    return;
  }
  sec.hidden = false;
  $('convert-section').hidden = false;
  const problems = [];
  ins.inputs.forEach((inp, i) => {
    const card = h('div', { class: 'input', dataset: { input: i } });
    card.append(h('h3', {}, baseName(inp.name), inp.inspection ? h('span', { class: 'hint' }, ` · ${inp.inspection.kind.toUpperCase()}`) : null));
    if (inp.uses.length > 1) {
      card.append(h('p', { class: 'hint' }, 'Files: ', inp.uses.map((k) => state.files[k] ? state.files[k].name : `#${k}`).join(', ')));
    }
    if (inp.error) {
      card.append(h('p', { class: 'missing' }, 'Cannot be converted: ', errorText(inp.error)));
      problems.push({ context: baseName(inp.name), error: inp.error });
      box.append(card);
      return;
    }
    const x = inp.inspection;
    const choice = choiceFor(i, inp);
    if (x.missing.length) {
      card.append(h('p', { class: 'missing' }, `Missing ${x.missing.length === 1 ? 'file' : 'files'}: `, x.missing.join(', '),
        ' — add ', x.missing.length === 1 ? 'it' : 'them', ' (drop them here too) to convert this input.'));
      problems.push({ context: baseName(inp.name), error: coreError('missing_file', `needs ${x.missing.map((n) => `'${n}'`).join(', ')}, which ${x.missing.length === 1 ? 'was' : 'were'} not given`, { file: baseName(inp.name) }) });
    }
    const list = h('div', { class: 'disks' });
    x.disks.forEach((d, k) => {
      const id = `disk-${i}-${k}`;
      const cb = h('input', { type: 'checkbox', id, checked: choice.disks.has(k), disabled: x.missing.length > 0 });
      cb.addEventListener('change', () => {
        if (cb.checked) choice.disks.add(k);
        else choice.disks.delete(k);
        state.onChange();
      });
      list.append(h('div', { class: 'disk-choice' }, cb, h('label', { for: id }, `Disk ${k + 1}: ${baseName(d.name)}`),
        h('span', { class: 'hint' }, `${d.subformat || d.format}, virtual size ${bytes(d.virtual_size)}, up to ${bytes(d.allocated_bytes)} of data${d.parents.length ? `, snapshot chain of ${d.parents.length + 1}` : ''}`)));
      for (const w of d.warnings || []) list.append(h('p', { class: 'warn' }, `Warning: ${w}`));
    });
    card.append(list);
    for (const w of x.warnings || []) card.append(h('p', { class: 'warn' }, `Warning: ${w}`));
    if (x.vm) {
      vmBox.append(vmSummary(i, inp, x, choice));
      vmBox.hidden = false;
    }
    box.append(card);
  });
  if (ins.unused.length) {
    box.append(h('p', { class: 'hint' }, 'Not used by any disk: ', ins.unused.map((k) => state.files[k].name).join(', ')));
  }
  if (problems.length) errors.show(problems);
  state.onShown();
  state.onChange();
}

function vmSummary(i, inp, x, choice) {
  const vm = x.vm;
  const os = vm.os || {};
  const card = h('div', { class: 'vm', dataset: { input: i } });
  card.append(h('h3', {}, `VM: ${vm.name || baseName(inp.name)}`));
  card.append(kv([
    ['Guest OS', [...new Set([os.description, os.vmw_os_type, os.vbox_os_type].filter(Boolean))].join(' · ') || (os.id != null ? `CIM OS type ${os.id}` : 'not stated')],
    ['vCPUs', vm.vcpus != null ? `${vm.vcpus}${vm.cores_per_socket ? ` (${vm.cores_per_socket} per socket)` : ''}` : null],
    ['Memory', vm.memory_mib != null ? bytes(vm.memory_mib * 1048576) : null],
    ['Firmware', vm.firmware ? `${vm.firmware.toUpperCase()}${vm.secure_boot ? ', secure boot' : ''}` : null],
    ['Hardware version', vm.hardware_version],
    ['Networks', (vm.networks || []).join(', ')],
  ]));
  if (vm.disks && vm.disks.length) {
    card.append(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Disks'),
      h('thead', {}, h('tr', {}, h('th', {}, 'Disk'), h('th', {}, 'File'), h('th', {}, 'Capacity'), h('th', {}, 'Controller'))),
      h('tbody', {}, vm.disks.map((d) => h('tr', {},
        h('td', {}, d.disk_id),
        h('td', {}, d.file_name || d.file_ref || '–'),
        h('td', {}, d.capacity_bytes != null ? bytes(d.capacity_bytes) : '–'),
        h('td', {}, d.controller ? [d.controller.kind, d.controller.subtype || d.controller.model].filter(Boolean).join(' ') : '–')))))));
  }
  if (vm.nics && vm.nics.length) {
    card.append(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Network adapters'),
      h('thead', {}, h('tr', {}, h('th', {}, 'NIC'), h('th', {}, 'Model'), h('th', {}, 'Network'), h('th', {}, 'MAC'))),
      h('tbody', {}, vm.nics.map((n) => h('tr', {}, h('td', {}, n.name), h('td', {}, n.model || '–'), h('td', {}, n.network || '–'), h('td', {}, n.mac || '–')))))));
  }
  const s = x.suggestion;
  if (s) {
    card.append(h('h3', {}, 'Suggested for OpenStack'), h('p', { class: 'hint' }, 'Edit the values to change the upload command below.'));
    const tbody = h('tbody');
    choice.props.forEach((p, k) => {
      const id = `prop-${i}-${k}`;
      const inpEl = h('input', { type: 'text', id, value: p.value, 'aria-describedby': `${id}-why` });
      inpEl.addEventListener('input', () => {
        p.value = inpEl.value.trim();
        state.onEdit();
      });
      tbody.append(h('tr', {}, h('td', {}, h('label', { for: id, class: 'mono' }, p.key)), h('td', {}, inpEl), h('td', { class: 'reason', id: `${id}-why` }, p.reason)));
    });
    card.append(h('div', { class: 'table-wrap props' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Glance property'), h('th', {}, 'Value'), h('th', {}, 'Why'))), tbody)));
    const shape = choice.shape;
    const num = (id, label, value, unit, set) => {
      const el = h('input', { type: 'number', min: 0, id, value: value ?? '', class: 'num' });
      el.addEventListener('input', () => {
        set(el.value === '' ? null : Math.max(0, Math.floor(Number(el.value))));
        state.onEdit();
      });
      return h('span', { class: 'field' }, h('label', { for: id }, label), el, unit ? h('span', { class: 'hint' }, ` ${unit}`) : null);
    };
    const f = shape.flavor;
    card.append(h('div', { class: 'row wrap shape' },
      num(`min-ram-${i}`, 'min_ram ', shape.min_ram, 'MiB', (v) => { shape.min_ram = v; }),
      num(`min-disk-${i}`, 'min_disk ', shape.min_disk, 'GiB', (v) => { shape.min_disk = v; })));
    card.append(h('div', { class: 'row wrap shape' },
      h('strong', {}, 'Flavor'),
      num(`flavor-vcpus-${i}`, 'vCPUs ', f.vcpus, '', (v) => { f.vcpus = v; }),
      num(`flavor-ram-${i}`, 'RAM ', f.ram_mib, 'MiB', (v) => { f.ram_mib = v; }),
      num(`flavor-disk-${i}`, 'disk ', f.disk_gib, 'GiB', (v) => { f.disk_gib = v; })));
    if (f.reason) card.append(h('p', { class: 'reason' }, f.reason));
  }
  return card;
}

/**
 * The disks to convert, in order, with their output names for `format`: `[{inputIndex, input,
 * top, disk, info, outName}]`.
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

/** The Glance image name for a planned disk: the VM's name (`-diskN` if it has several). */
export function imageName(d) {
  const vm = d.input.inspection && d.input.inspection.vm;
  const base = d.outName.replace(/\.(qcow2|raw)$/, '');
  return vm && vm.name ? (d.input.inspection.disks.length > 1 ? `${vm.name}-disk${d.disk + 1}` : vm.name) : base;
}
