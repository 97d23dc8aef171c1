// Section "Your VMware files": the drop zone (the whole window takes a drop, the dashed box
// only shows where), the file and folder choosers, the list of files given with a remove button
// each, and Clear. Files keep the path they had in a dropped or chosen folder; a file given
// again under the same name replaces the first.
import { $, h } from '../util.js';
import { t, has, bytes, onLangChange } from '../i18n/index.js';
import { coreError } from '../error.js';
import * as errors from './errors.js';

/** [{name, blob}] in the order given. */
let list = [];
let busy = false;
let changed = () => {};
/** The status line's catalogue key (or text), kept to re-render in another language. */
let status = '';

/** Whether a run is going on (the files cannot change meanwhile). */
export function isBusy() {
  return busy;
}

/** The files given, `[{name, blob}]`. */
export function files() {
  return list;
}

function fileEntry(file, path) {
  const name = path || file.webkitRelativePath || file.name;
  return { name, blob: file };
}

function add(entries) {
  if (busy || !entries.length) return;
  for (const e of entries) {
    const i = list.findIndex((f) => f.name === e.name);
    if (i >= 0) list[i] = e;
    else list.push(e);
  }
  render();
  changed(list);
}

/** Take these files (by name) out of the list, e.g. an input's "Remove". */
export function remove(names) {
  if (busy) return;
  const gone = new Set(names);
  const before = list.length;
  list = list.filter((f) => !gone.has(f.name));
  if (list.length === before) return;
  render();
  changed(list);
  // Focus stays in the section, not on a button that no longer exists.
  $('drop').focus();
}

function render() {
  $('file-list').replaceChildren(...list.map((f) => {
    const rm = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('files.remove', { name: f.name }), disabled: busy, dataset: { remove: '' } }, t('common.remove'));
    rm.addEventListener('click', () => remove([f.name]));
    return h('li', { dataset: { file: f.name } }, h('span', { class: 'name' }, f.name), h('span', { class: 'size' }, bytes(f.blob.size)), rm);
  }));
  $('file-list').setAttribute('aria-label', t('files.list'));
  $('clear-files').disabled = !list.length || busy;
}

/** Whether this device is used by touch (a phone, a tablet): no keyboard words in the hints. */
function touch() {
  return !!(globalThis.matchMedia && matchMedia('(pointer: coarse)').matches);
}

/** The drop zone's words, in the page's language (built here so touch gets its own). */
function renderDrop() {
  $('drop').replaceChildren(
    h('p', {}, h('strong', { id: 'drop-title' }, t(touch() ? 'files.drop.title_touch' : 'files.drop.title')), ' ', t('files.drop.what')),
    h('p', { id: 'drop-help', class: 'hint' }, t(touch() ? 'files.drop.help_touch' : 'files.drop.help')));
  // Named by its whole visible text (axe: label-content-name-mismatch when only the title
  // names it); the hint below describes it.
  $('drop').removeAttribute('aria-labelledby');
  $('drop').setAttribute('aria-describedby', 'drop-help');
}

function renderStatus() {
  $('inspect-status').textContent = status && has(status) ? t(status) : status;
}

/** Files from a drop, folders walked recursively (paths relative to the drop). */
async function droppedFiles(dt) {
  const out = [];
  const entries = [];
  for (const item of dt.items || []) {
    const entry = item.webkitGetAsEntry && item.webkitGetAsEntry();
    if (entry) entries.push(entry);
  }
  if (!entries.length) {
    for (const f of dt.files || []) out.push(fileEntry(f));
    return out;
  }
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push(fileEntry(file, prefix + entry.name));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** Whether a drag carries files (not text or a link dragged inside the page). */
function carriesFiles(e) {
  return !!(e.dataTransfer && [...(e.dataTransfer.types || [])].includes('Files'));
}

/**
 * The whole window takes a drop of files: a drop beside the dashed box is not lost (nor does
 * it navigate away); while files are dragged over the window, `body.dropping` shows it.
 */
function wireWindowDrop() {
  const drop = $('drop');
  // dragenter/dragleave fire for every child crossed: count them to know when the drag left.
  let depth = 0;
  const over = (on) => {
    document.body.classList.toggle('dropping', on);
    drop.classList.toggle('over', on);
  };
  window.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth++;
    over(!busy);
  });
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = carriesFiles(e) && !busy ? 'copy' : 'none';
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) over(false);
  });
  window.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    over(false);
    if (busy || !carriesFiles(e)) return;
    try {
      add(await droppedFiles(e.dataTransfer));
    } catch (err) {
      errors.show([{ context: t('files.drop.failed'), error: coreError('io', String((err && err.message) || err)) }]);
    }
  });
}

/** Wire the section; `onChange(files)` runs whenever files are added, removed or cleared. */
export function setup({ onChange }) {
  changed = onChange;
  const drop = $('drop');
  const input = $('file-input');
  const folder = $('folder-input');
  input.addEventListener('change', () => {
    add([...input.files].map((f) => fileEntry(f)));
    input.value = '';
  });
  folder.addEventListener('change', () => {
    add([...folder.files].map((f) => fileEntry(f)));
    folder.value = '';
  });
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  wireWindowDrop();
  $('clear-files').addEventListener('click', () => {
    list = [];
    render();
    changed(list);
  });
  // A tablet with a keyboard attached switches between the two.
  if (globalThis.matchMedia) matchMedia('(pointer: coarse)').addEventListener('change', renderDrop);
  onLangChange(() => {
    renderDrop();
    render();
    renderStatus();
  });
  renderDrop();
  render();
}

/** While converting, the files stay as they are. */
export function setBusy(b) {
  busy = b;
  // Not re-rendered: a focused remove button keeps its focus. The inputs' remove buttons too.
  for (const btn of document.querySelectorAll('button[data-remove]')) btn.disabled = busy;
  $('clear-files').disabled = !list.length || busy;
  $('file-input').disabled = busy;
  $('folder-input').disabled = busy;
}

/**
 * The line under the list (what is being read): text, or a catalogue key (re-rendered on a
 * language switch); '' clears it.
 */
export function setStatus(key) {
  status = key;
  renderStatus();
}
