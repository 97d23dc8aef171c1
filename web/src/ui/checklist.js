// The migration checklist's panel (step 6, Verify): one list per VM (the VMs stored, those
// inspected now, or "My VM"), ticks and notes saved as they change, the digests recorded for
// the VM shown, exported or copied as Markdown. The lists themselves live in ../checklist.js.
import { $, h, copyText, downloadText } from '../util.js';
import { t, onLangChange } from '../i18n/index.js';
import * as store from '../checklist.js';
import { vmNames } from './inputs.js';

/** Fill the VM picker and show `select`'s list (default: the one shown, else the VM inspected). */
export function refresh(select) {
  const sel = $('checklist-vm');
  const current = select || sel.value;
  const names = new Set(store.vms());
  const inspected = vmNames();
  for (const n of inspected) names.add(n);
  if (!names.size) names.add(t('checklist.default_vm'));
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
  renderDigests(c.digests);
  $('checklist-notes').value = c.notes;
}

/** The test hooks of the record's facts (checklist.js recordFacts). */
const TESTIDS = {
  'checklist.digest.source': 'checklist-source', 'checklist.digest.content': 'checklist-content-digest', 'checklist.digest.sha512': 'checklist-sha512',
  'checklist.digest.image': 'checklist-image', 'checklist.digest.volume': 'checklist-volume',
};

/** The digests recorded for the VM: what to compare Glance's os_hash_value against. */
function renderDigests(digests) {
  const box = $('checklist-digests');
  box.hidden = !digests.length;
  box.replaceChildren();
  if (!digests.length) return;
  box.append(h('h3', {}, t('checklist.digests')), h('ul', {}, ...digests.map((d) => h('li', { dataset: { output: d.output } },
    h('span', { class: 'mono' }, d.output), ` (${store.diskLine(d)})`,
    h('dl', { class: 'kv' }, store.recordFacts(d).flatMap(([key, value]) => [h('dt', {}, t(key)),
      h('dd', { class: 'mono', 'data-testid': TESTIDS[key] }, value)]))))));
}

/** A send ended with every image in Glance and its hash matching: tick "upload" for the VMs sent. */
function watchSends() {
  const box = $('upload-progress');
  let last = box.dataset.state;
  new MutationObserver(() => {
    const s = box.dataset.state;
    if (s === last) return;
    last = s;
    if (s !== 'done') return;
    const sent = vmNames();
    for (const vm of sent) store.update(vm, (x) => { x.done.upload = true; });
    if (sent.length) refresh();
  }).observe(box, { attributes: true, attributeFilter: ['data-state'] });
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
    downloadText(store.fileName(vm), store.markdown(vm));
  });
  let copyTimer = null;
  $('checklist-copy').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    const ok = await copyText(store.markdown($('checklist-vm').value));
    button.textContent = t(ok ? 'checklist.copied' : 'checklist.copy_failed');
    clearTimeout(copyTimer);
    copyTimer = setTimeout(() => { button.textContent = t('checklist.copy'); }, 2000);
  });
  watchSends();
  // The item texts and the default VM's name are in the page's language.
  onLangChange(() => refresh());
  refresh();
}
