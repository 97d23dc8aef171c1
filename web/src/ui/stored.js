// "Kept in this browser": the converted images left in browser storage (the Origin Private File
// System) by earlier runs and visits, so that a reload or a closed tab loses nothing. Each row
// offers Download, Send to OpenStack (when logged in: its sidecar, see save.js, holds what the
// Send needs) and Remove; above them the storage used and still available. On load, files left
// by interrupted conversions are removed (save.js opfsCleanup) and the list says so. Outputs
// of the run shown in the result panel above are not listed twice.
import { $, h } from '../util.js';
import { t, onLangChange, bytes, dateTime, percent } from '../i18n/index.js';
import { opfsAvailable, opfsCleanup, opfsFile, opfsList, opfsRemove, storageEstimate } from '../save.js';
import * as results from './results.js';

const state = {
  box: null,
  /** The outputs listed (save.js opfsList), the storage estimate, leftovers removed on load. */
  items: [],
  estimate: null,
  cleaned: 0,
  /** What the page allows now (convert.js update): a run going on, a session. */
  busy: false,
  loggedIn: false,
  /** The OPFS name of the output being sent from here, or null. */
  sending: null,
  /** `send(item)` (convert.js sendStored), `cancel()`. */
  send: null,
  cancel: null,
  urls: [],
  message: '',
};

/**
 * Build the list (in the result panel) and fill it; `send(item, {onHash})` sends an item,
 * `cancel()` stops it.
 */
export async function setup({ send, cancel }) {
  Object.assign(state, { send, cancel });
  // Outside the list: it must still speak when the last row goes and the list hides.
  const live = h('p', { class: 'visually-hidden', role: 'status', 'data-testid': 'stored-status' });
  state.box = h('div', { class: 'stored', 'data-testid': 'stored', hidden: true },
    h('h3', { id: 'stored-heading', tabindex: '-1' }),
    h('p', { class: 'hint stored-usage' }),
    h('p', { class: 'hint stored-cleaned' }),
    h('ul', { class: 'stored-list', 'aria-labelledby': 'stored-heading' }));
  state.live = live;
  $('result').append(state.box);
  $('result').after(live);
  results.setup({ removed: () => refresh() });
  onLangChange(draw);
  if (!opfsAvailable()) return;
  state.cleaned = await opfsCleanup();
  await refresh();
}

/** What the page allows now: `{busy, loggedIn}` (called by convert.js update()). */
export function update({ busy, loggedIn }) {
  const changed = state.busy !== busy || state.loggedIn !== loggedIn;
  state.busy = busy;
  state.loggedIn = loggedIn;
  if (changed && state.box) draw();
}

/** Read the list and the storage estimate again, and redraw. */
export async function refresh() {
  if (!state.box || !opfsAvailable()) return;
  const shownHere = results.shownStored();
  const [items, estimate] = await Promise.all([opfsList(), storageEstimate()]);
  state.items = items.filter((x) => !shownHere.has(x.name));
  state.estimate = estimate;
  draw();
}

/** Draw the list from `state`, in the page's language. */
function draw() {
  const box = state.box;
  if (!box) return;
  for (const u of state.urls) URL.revokeObjectURL(u);
  state.urls = [];
  const [heading, usage, cleaned, list] = box.children;
  heading.textContent = t('run.stored.title');
  const est = state.estimate;
  usage.textContent = est ? t('run.stored.usage', { used: bytes(est.usage), available: bytes(Math.max(0, est.quota - est.usage)) }) : '';
  cleaned.textContent = state.cleaned ? t('run.stored.cleaned', { count: state.cleaned }) : '';
  cleaned.hidden = !state.cleaned;
  list.replaceChildren(...state.items.map((item, k) => row(item, k)));
  box.hidden = !state.items.length;
  box.dataset.count = String(state.items.length);
  results.showPanel();
}

function row(item, k) {
  const li = h('li', { 'data-testid': 'stored-item', dataset: { name: item.label, opfs: item.name, size: item.size } });
  const nameId = `stored-name-${k}`;
  li.append(h('div', {}, h('strong', { id: nameId }, item.label),
    h('span', { class: 'hint' }, ` · ${bytes(item.size)} · ${dateTime(item.date)}`),
    item.meta && item.meta.vm ? h('span', { class: 'hint' }, ` · ${t('run.stored.from', { name: item.meta.vm })}`) : null));
  const actions = h('div', { class: 'row wrap' });
  const link = h('a', { class: 'button small', download: item.label, 'data-testid': 'stored-download', 'aria-describedby': nameId }, t('common.download'));
  // The File is disk-backed: the link hands the browser the stored bytes, nothing is read here.
  opfsFile(item.name).then((f) => {
    const url = URL.createObjectURL(f);
    state.urls.push(url);
    link.href = url;
  }, () => link.remove());
  actions.append(link);
  const sending = state.sending === item.name;
  if (state.loggedIn && item.meta && item.meta.imageName && state.send) {
    const send = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'stored-send', 'aria-describedby': nameId, disabled: state.busy },
      sending ? t('run.stored.sending') : t('run.stored.send'));
    send.addEventListener('click', async () => {
      state.sending = item.name;
      draw();
      // An output converted without a Send has its SHA-512 computed first: the button follows.
      const onHash = (f) => {
        const b = state.box.querySelector(`[data-opfs="${CSS.escape(item.name)}"] [data-testid=stored-send]`);
        if (b) b.textContent = t('run.stored.hashing', { percent: percent(Math.floor(f * 100) / 100) });
      };
      try {
        await state.send(item, { onHash });
      } finally {
        state.sending = null;
        draw();
      }
    });
    actions.append(send);
    if (sending && state.cancel) {
      const stop = h('button', { type: 'button', class: 'secondary small' }, t('common.cancel'));
      stop.addEventListener('click', () => state.cancel());
      actions.append(stop);
    }
  }
  const remove = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'stored-remove', 'aria-describedby': nameId, disabled: sending },
    t('common.remove'));
  remove.addEventListener('click', async () => {
    remove.disabled = true;
    const ok = await opfsRemove(item.name);
    announce(t(ok ? 'run.stored.removed' : 'run.stored.removeFailed', { name: item.label }));
    await refresh();
    // Focus stays in the list (the next row), or goes to its heading.
    const next = state.box.querySelector('[data-testid=stored-item] a, [data-testid=stored-item] button');
    (next && !state.box.hidden ? next : $('h-result') || state.box.querySelector('h3')).focus();
  });
  actions.append(remove);
  li.append(actions);
  return li;
}

function announce(text) {
  state.live.textContent = text;
}
