// Section 1, "Your VMware files": the drop zone, the file and folder choosers, the list of
// files given and Clear. Files keep the path they had in a dropped or chosen folder; a file
// given again under the same name replaces the first.
import { $, h, bytes } from '../util.js';
import { coreError } from '../error.js';
import * as errors from './errors.js';

/** [{name, blob}] in the order given. */
let list = [];
let busy = false;
let changed = () => {};

/** The files given, `[{name, blob}]`. */
export function files() {
  return list;
}

function fileEntry(file, path) {
  const name = path || file.webkitRelativePath || file.name;
  return { name, blob: file };
}

function add(entries) {
  if (busy) return;
  for (const e of entries) {
    const i = list.findIndex((f) => f.name === e.name);
    if (i >= 0) list[i] = e;
    else list.push(e);
  }
  render();
  changed(list);
}

function render() {
  $('file-list').replaceChildren(...list.map((f) => h('li', {}, h('span', {}, f.name), h('span', { class: 'size' }, bytes(f.blob.size)))));
  $('clear-files').disabled = !list.length || busy;
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

/** Wire the section; `onChange(files)` runs whenever files are added or cleared. */
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
  for (const t of ['dragenter', 'dragover']) {
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    try {
      add(await droppedFiles(e.dataTransfer));
    } catch (err) {
      errors.show([{ context: 'Reading the dropped files', error: coreError('io', String((err && err.message) || err)) }]);
    }
  });
  // Dropping next to the zone must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('clear-files').addEventListener('click', () => {
    list = [];
    render();
    changed(list);
  });
}

/** While converting, the files stay as they are. */
export function setBusy(b) {
  busy = b;
  $('clear-files').disabled = !list.length || busy;
  $('file-input').disabled = busy;
  $('folder-input').disabled = busy;
}

/** The line under the list (what is being read). */
export function setStatus(text) {
  $('inspect-status').textContent = text;
}
