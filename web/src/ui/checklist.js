// The migration checklist's panel: one list per VM (the VMs stored, those inspected now, or
// "My VM"), ticks and notes saved as they change, exported or copied as Markdown. The lists
// themselves live in ../checklist.js.
import { $, h, copyText, downloadText } from '../util.js';
import * as store from '../checklist.js';
import { vmNames } from './inputs.js';

/** Fill the VM picker and show `select`'s list (default: the one shown, else the VM inspected). */
export function refresh(select) {
  const sel = $('checklist-vm');
  const current = select || sel.value;
  const names = new Set(store.vms());
  const inspected = vmNames();
  for (const n of inspected) names.add(n);
  if (!names.size) names.add('My VM');
  const wanted = current && names.has(current) ? current : (inspected.length ? inspected[0] : [...names][0]);
  sel.replaceChildren(...[...names].sort().map((n) => h('option', { value: n, selected: n === wanted }, n)));
  sel.value = wanted;
  render();
}

function render() {
  const vm = $('checklist-vm').value;
  const c = store.get(vm);
  $('checklist').replaceChildren(...store.ITEMS.map((it) => {
    const id = `check-${it.id}`;
    const cb = h('input', { type: 'checkbox', id, checked: !!c.done[it.id] });
    cb.addEventListener('change', () => store.update(vm, (x) => { x.done[it.id] = cb.checked; }));
    return h('li', {}, cb, h('label', { for: id }, it.text));
  }));
  $('checklist-notes').value = c.notes;
}

export function setup() {
  $('checklist-vm').addEventListener('change', render);
  $('checklist-notes').addEventListener('input', () => {
    const vm = $('checklist-vm').value;
    const notes = $('checklist-notes').value;
    store.update(vm, (x) => { x.notes = notes; });
  });
  $('checklist-export').addEventListener('click', () => {
    const vm = $('checklist-vm').value;
    downloadText(`checklist-${vm.replace(/[^A-Za-z0-9._-]+/g, '_')}.md`, store.markdown(vm));
  });
  $('checklist-copy').addEventListener('click', async (e) => {
    const ok = await copyText(store.markdown($('checklist-vm').value));
    e.target.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { e.target.textContent = 'Copy Markdown'; }, 2000);
  });
  refresh();
}
