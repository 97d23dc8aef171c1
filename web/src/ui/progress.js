// The conversion's progress (`#progress`): `data-state` for the whole run (idle, running,
// done, error, cancelled: the tests wait on it), one row per disk with its own state, one bar
// (role=progressbar) across the conversion's passes, its numbers and timings (the tests and
// the bench read them from the row's data attributes), and the run's percentage in the tab's
// title. Rows keep what they show as data and are drawn from it, so a language switch redraws
// them; the live region below them announces changes of state and every quarter, not every
// tick (a screen reader would otherwise read numbers five times a second).
import { $, h, baseName } from '../util.js';
import { t, onLangChange, bytes, rate, duration, percent } from '../i18n/index.js';

/**
 * How much of a compressed QCOW2 conversion each pass is: both read, decode and compress all
 * the guest data (the first only to learn the compressed sizes), the second also writes the
 * (compressed, so small) output. Weighting by this keeps the bar going forward across the
 * passes and makes the first estimate of the time left cover both.
 */
export const PASS_WEIGHTS = { measure: 0.48, write: 0.52 };
/** Rates are measured over this window (ms) of recent progress. */
const RATE_WINDOW_MS = 4000;
/** No time-left estimate before this much work, and this long (ms) after it began to flow: early numbers swing. */
const ETA_MIN_FRACTION = 0.01;
const ETA_MIN_MS = 2000;
/** The time left follows the pace over this window (ms). */
const ETA_WINDOW_MS = 8000;

/** The rows of the run shown. */
let rows = [];
/** The live region (visually hidden) that announces the run's milestones. */
let live = null;

/** The run's state: idle, running, done, error or cancelled. */
export function state() {
  return $('progress').dataset.state;
}

/** Set the run's state; the tab title shows the progress only while running. */
export function setState(s) {
  $('progress').dataset.state = s;
  if (s !== 'running') setTitle(null);
}

/**
 * The tab's title: `42% · <page title>` while work goes on (`f` in 0…1), the page title alone
 * with `f` null.
 */
export function setTitle(f) {
  document.title = f == null ? t('shell.title') : `${percent(Math.min(1, Math.max(0, f)))} · ${t('shell.title')}`;
}

/** Announce `text` to screen readers (politely). */
export function announce(text) {
  if (!live) return;
  // Re-setting the same text is not announced again: clear first.
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

/**
 * The fraction (0…1) of a conversion done, given the converter's progress `p` (`{phase,
 * guest_done, guest_total, bytes_out, output_len}`) and whether it runs in two passes.
 */
export function fraction(p, twoPass) {
  const guest = p.guest_total ? Math.min(1, p.guest_done / p.guest_total) : 0;
  if (twoPass) {
    // Both passes go over the same guest data in the same order: measure both by it.
    return p.phase === 'measure' ? PASS_WEIGHTS.measure * guest : PASS_WEIGHTS.measure + PASS_WEIGHTS.write * guest;
  }
  return p.output_len ? Math.min(1, p.bytes_out / p.output_len) : guest;
}

/** One waiting row per disk (`[{info, outName}]`) of a run in `format`; returns the rows, in order. */
export function reset(disks, format) {
  const box = $('progress');
  box.replaceChildren();
  // Milestones are announced through `live`, not the row numbers (see the header).
  box.setAttribute('aria-live', 'off');
  if (!live) {
    live = h('p', { class: 'visually-hidden', role: 'status', 'data-testid': 'progress-live' });
    box.after(live);
  }
  live.textContent = '';
  rows = disks.map((d, k) => {
    const id = `progress-row-${k}`;
    const title = h('strong', { id: `${id}-name` }, `${baseName(d.info.name)} → ${d.outName}`);
    const fill = h('div', { class: 'fill' });
    const bar = h('div', {
      class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
      'aria-labelledby': `${id}-name`, 'data-testid': 'progress-bar',
    }, fill);
    const status = h('span', { class: 'status-text' });
    const numbers = h('span', { class: 'numbers' });
    const row = h('div', { class: 'disk', id, dataset: { state: 'waiting' } },
      h('div', { class: 'line' }, title, status), bar, h('div', { class: 'line' }, numbers));
    box.append(row);
    return {
      row, bar, fill, status, numbers, name: d.outName,
      twoPass: format === 'qcow2-compressed',
      weight: Math.max(1, d.info.allocated_bytes || d.info.virtual_size || 1),
      state: 'waiting', note: { key: 'run.row.waiting' }, frac: 0, p: null, samples: [], fracs: [], flowing: null, t0: null, quarter: 0, done: null,
    };
  });
  rows.forEach(draw);
  return rows;
}

/**
 * A row's state (waiting, running, done, error, cancelled) and what to say of it: a catalogue
 * key (`run.row.*`) and its parameters. Stopping (error, cancelled) drops the rate and time left.
 */
export function mark(r, s, key, params = {}) {
  const changed = r.state !== s || !r.note || r.note.key !== key;
  r.state = s;
  r.note = { key, params };
  if (s === 'error' || s === 'cancelled') {
    r.samples = [];
    r.rate = null;
    r.left = null;
  }
  draw(r);
  if (changed && s !== 'waiting') announce(`${r.name}: ${t(key, params)}`);
}

/** The converter has planned the conversion: progress is measured from here. */
export function planned(r, p) {
  r.t0 = performance.now();
  if (p && p.phase === 'measure') r.twoPass = true;
  mark(r, 'running', 'run.row.converting');
  if (p) show(r, p);
}

/** The converter's progress `p` on row `r`. */
export function show(r, p) {
  // A report still on its way when the row stopped (Cancel) must not bring the numbers back.
  if (r.state !== 'running') return;
  if (p.phase === 'measure') r.twoPass = true;
  const now = performance.now();
  if (r.t0 == null) r.t0 = now;
  // Never backwards (e.g. a progress report of the first pass arriving after the second began).
  r.frac = Math.max(r.frac, fraction(p, r.twoPass));
  r.p = p;
  // The rate of the current pass: guest data read while measuring, output written after.
  const value = p.phase === 'measure' ? p.guest_done : p.bytes_out;
  if (r.samples.length && r.samples[r.samples.length - 1].phase !== p.phase) r.samples = [];
  r.samples.push({ t: now, value, phase: p.phase });
  while (r.samples.length > 2 && now - r.samples[0].t > RATE_WINDOW_MS) r.samples.shift();
  const first = r.samples[0];
  const secs = (now - first.t) / 1000;
  r.rate = secs > 0.2 ? (value - first.value) / secs : null;
  // Time left from the weighted fraction (it covers every pass still to come), at its pace
  // over the last ETA_WINDOW_MS: the workers' start-up does not weigh on it for long.
  // The pace is taken from the first progress on: before it, the decode workers start up.
  if (r.frac > 0) {
    if (r.flowing == null) r.flowing = now;
    r.fracs.push({ t: now, f: r.frac });
    while (r.fracs.length > 2 && now - r.fracs[0].t > ETA_WINDOW_MS) r.fracs.shift();
  }
  const since = r.fracs[0];
  const pace = since && now > since.t ? (r.frac - since.f) / ((now - since.t) / 1000) : 0;
  r.left = r.frac >= ETA_MIN_FRACTION && now - r.flowing >= ETA_MIN_MS && pace > 0 ? (1 - r.frac) / pace : null;
  r.row.dataset.bytesOut = p.bytes_out;
  if (r.state === 'running') r.note = { key: 'run.row.converting' };
  draw(r);
  const quarter = Math.floor(r.frac * 4);
  if (quarter > r.quarter && quarter < 4) {
    r.quarter = quarter;
    announce(t('run.live.progress', { name: r.name, percent: percent(quarter / 4) }));
  }
  setTitle(overall());
}

/** The run's fraction done, the disks weighted by their data. */
export function overall() {
  if (!rows.length) return 0;
  const total = rows.reduce((s, r) => s + r.weight, 0);
  return rows.reduce((s, r) => s + r.weight * (r.state === 'done' ? 1 : r.frac), 0) / total;
}

/** A disk converted: `done` is the converter's answer, `secs` the time it took here. */
export function finished(r, done, secs) {
  r.frac = 1;
  r.row.dataset.planMs = Math.round(done.plan_ms);
  r.row.dataset.convertMs = Math.round(done.elapsed_ms);
  r.row.dataset.wasmBytes = JSON.stringify(done.wasm_bytes);
  r.done = { output: done.report.output_len, rate: done.report.data_bytes / Math.max(secs, 0.001) };
  mark(r, 'done', 'run.row.doneIn', { time: duration(secs) });
  setTitle(overall());
}

/** The row's words and bar from its data, in the page's language. */
function draw(r) {
  const pct = Math.floor(r.frac * 100);
  r.fill.style.width = `${(r.frac * 100).toFixed(1)}%`;
  r.bar.setAttribute('aria-valuenow', String(pct));
  r.row.dataset.state = r.state;
  const label = t(r.note.key, r.note.params);
  r.status.className = `status-text state-${r.state}`;
  if (r.state === 'running' && r.p) {
    const step = r.twoPass ? t(r.p.phase === 'measure' ? 'run.row.step1' : 'run.row.step2') : '';
    r.status.textContent = [label, step, percent(r.frac)].filter(Boolean).join(' · ');
    r.numbers.textContent = [numbersText(r.p), r.rate != null ? rate(r.rate) : null,
      r.left != null ? t('run.row.left', { time: duration(r.left) }) : t('run.row.estimating')].filter(Boolean).join(' · ');
    r.bar.setAttribute('aria-valuetext', r.left != null ? t('run.row.valueLeft', { percent: percent(r.frac), time: duration(r.left) }) : percent(r.frac));
  } else if (r.state === 'done' && r.done) {
    r.status.textContent = label;
    r.numbers.textContent = t('run.row.doneNumbers', { size: bytes(r.done.output), rate: rate(r.done.rate) });
    r.bar.setAttribute('aria-valuetext', label);
  } else {
    // Waiting, planning, stopped: no rate and no time left.
    r.status.textContent = label;
    r.numbers.textContent = (r.state === 'error' || r.state === 'cancelled') && r.frac > 0 ? t('run.row.stoppedAt', { percent: percent(r.frac) }) : '';
    r.bar.setAttribute('aria-valuetext', (r.state === 'error' || r.state === 'cancelled') ? label : percent(r.frac));
  }
}

/** "1.2 GiB of 3.0 GiB written" (or read, while measuring or before the length is known). */
function numbersText(p) {
  return p.phase !== 'measure' && p.output_len
    ? t('run.row.written', { done: bytes(p.bytes_out), total: bytes(p.output_len) })
    : t('run.row.read', { done: bytes(p.guest_done), total: bytes(p.guest_total) });
}

onLangChange(() => {
  rows.forEach(draw);
  setTitle(state() === 'running' ? overall() : null);
});
