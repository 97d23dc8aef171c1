// "Unfinished uploads" (`[data-testid=staged-unfinished]`, above the upload rows): the staged
// uploads a reload, a closed tab or a lost connection interrupted, from their part tables in
// localStorage (staged.js): image name, size, parts sent. Resume checks the converted file
// still in browser storage against its recorded SHA-512 first, then sends the missing parts
// (upload.js resumeStaged); a file gone or changed is said so, with Convert again (back to the
// files) and Discard (the worker deletes the staged parts and the image). Needs a session.
import { $, h } from '../util.js';
import { bytes, dateTime, number, onLangChange, percent, t } from '../i18n/index.js';
import { hashFile } from '../converter/client.js';
import { opfsFile } from '../save.js';
import * as guard from '../ui/guard.js';
import { discard, loadRecords } from './staged.js';
import { activeStaged, resumeStaged } from './upload.js';
import * as alert from './alert.js';

const state = {
  box: null,
  api: null,
  /** The part tables listed (staged.js loadRecords). */
  items: [],
  /** Per image id, what its row says beyond the table: `{key, params}` (checking, gone, changed). */
  notes: new Map(),
  /** The image id being checked or resumed here, or null. */
  working: null,
  /** What the page allows now (convert.js update): a run going on, a session. */
  busy: false,
  loggedIn: false,
  /** Told when a resume starts or ends (convert.js update). */
  changed: () => {},
};

/** Build the list (before `#upload-progress`) and fill it. */
export function setup(api, { changed } = {}) {
  state.api = api;
  state.changed = changed || state.changed;
  state.box = h('div', { class: 'staged-unfinished', 'data-testid': 'staged-unfinished', hidden: true },
    h('h3', { id: 'staged-unfinished-heading' }),
    h('p', { class: 'hint' }),
    h('ul', { class: 'stored-list', 'aria-labelledby': 'staged-unfinished-heading' }));
  $('upload-progress').before(state.box);
  onLangChange(draw);
  refresh();
}

/** Whether a resume is checking or sending here. */
export function busy() {
  return !!state.working;
}

/** What the page allows now: `{busy, loggedIn}` (called by convert.js update()). */
export function update({ busy: running, loggedIn }) {
  if (state.busy === running && state.loggedIn === loggedIn) return;
  state.busy = running;
  state.loggedIn = loggedIn;
  draw();
}

/** Read the part tables again and redraw. */
export function refresh() {
  try {
    state.items = loadRecords(localStorage);
  } catch {
    state.items = [];
  }
  draw();
}

/** What image `id`'s row says beyond its table (`bad`: the file is gone or changed), or nothing. */
function note(id, key, params = {}, bad = false) {
  if (key) state.notes.set(id, { key, params, bad });
  else state.notes.delete(id);
  draw();
}

function draw() {
  const box = state.box;
  if (!box) return;
  const [heading, hint, list] = box.children;
  heading.textContent = t('staged.unfinished.title');
  hint.textContent = state.loggedIn ? t('staged.unfinished.hint') : t('staged.unfinished.login');
  // An upload running here (a Send, or one resumed) has its progress row below instead.
  const running = activeStaged();
  const shown = state.items.filter((r) => !running.has(r.image_id));
  list.replaceChildren(...shown.map(row));
  box.hidden = !shown.length;
  box.dataset.count = String(shown.length);
}

function row(r, k) {
  const done = Object.keys(r.etags).length;
  const nameId = `staged-unfinished-${k}`;
  const li = h('li', { 'data-testid': 'staged-item', dataset: { imageId: r.image_id, done, parts: r.parts } },
    h('div', {}, h('strong', { id: nameId }, r.name),
      h('span', { class: 'hint' }, ` · ${r.label} · ${bytes(r.size)} · ${t('staged.unfinished.parts', { done: number(done), parts: number(r.parts) })} · ${dateTime(r.created)}`)));
  const n = state.notes.get(r.image_id);
  if (n) li.append(h('p', { class: n.bad ? 'warn' : 'hint', 'data-testid': 'staged-note', dataset: { note: n.key } }, t(n.key, n.params)));
  const idle = !state.working && !state.busy;
  const actions = h('div', { class: 'row wrap' });
  if (!(n && n.bad)) {
    actions.append(h('button', {
      type: 'button', class: 'small', 'data-testid': 'staged-resume', 'aria-describedby': nameId,
      disabled: !idle || !state.loggedIn, onclick: () => resume(r),
    }, t('staged.resume')));
  } else {
    actions.append(h('button', {
      type: 'button', class: 'small', 'data-testid': 'staged-convert-again', 'aria-describedby': nameId,
      onclick: () => { const input = $('file-input'); input.scrollIntoView({ block: 'center' }); input.focus(); },
    }, t('staged.unfinished.convertAgain')));
  }
  actions.append(h('button', {
    type: 'button', class: 'secondary small', 'data-testid': 'staged-discard', 'aria-describedby': nameId,
    disabled: !idle || !state.loggedIn, onclick: () => discardOne(r),
  }, t('staged.discard')));
  li.append(actions);
  return li;
}

async function resume(r) {
  if (state.working) return;
  state.working = r.image_id;
  state.changed();
  const release = guard.hold('send');
  alert.hide();
  try {
    let file;
    try {
      file = await opfsFile(r.opfs);
    } catch {
      note(r.image_id, 'staged.unfinished.gone', {}, true);
      return;
    }
    note(r.image_id, 'staged.unfinished.checking', { percent: percent(0) });
    const sha = await hashFile(file, { onProgress: (d, total) => note(r.image_id, 'staged.unfinished.checking', { percent: percent(Math.floor((d / total) * 100) / 100) }) });
    if (file.size !== r.size || sha !== r.sha512) {
      note(r.image_id, 'staged.unfinished.changed', {}, true);
      return;
    }
    note(r.image_id, null);
    const resumed = resumeStaged(r, file);
    draw();
    await resumed;
  } catch (e) {
    note(r.image_id, null);
    alert.show('staged.do.resume', { name: r.label }, e);
  } finally {
    state.working = null;
    release();
    refresh();
    state.changed();
  }
}

async function discardOne(r) {
  if (state.working) return;
  state.working = r.image_id;
  state.changed();
  alert.hide();
  try {
    await discard(state.api, localStorage, r);
    state.notes.delete(r.image_id);
  } catch (e) {
    alert.show('staged.do.discard', { name: r.label }, e);
  } finally {
    state.working = null;
    refresh();
    state.changed();
  }
}
