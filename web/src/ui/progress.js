// The conversion's progress (`#progress` in section 3): `data-state` for the whole run, one
// row per disk with its own state, bar, numbers and timings (the tests and the bench read
// them from the row's data attributes).
import { $, h, bytes, duration, baseName } from '../util.js';

/** The run's state: idle, running, done, error or cancelled. */
export function state() {
  return $('progress').dataset.state;
}

export function setState(s) {
  $('progress').dataset.state = s;
}

/** One waiting row per disk (`[{info, outName}]`); returns the rows, in order. */
export function reset(disks) {
  const box = $('progress');
  box.replaceChildren();
  return disks.map((d) => {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `Progress of ${d.outName}` });
    const status = h('span', { class: 'status-text' }, 'waiting');
    const numbers = h('span', { class: 'numbers' });
    const row = h('div', { class: 'disk', dataset: { state: 'waiting' } },
      h('div', { class: 'line' }, h('strong', {}, `${baseName(d.info.name)} → ${d.outName}`), status), bar, h('div', { class: 'line' }, numbers));
    box.append(row);
    return { row, bar, status, numbers };
  });
}

/** A row's state (waiting, running, done, error, cancelled) and the words for it. */
export function mark(r, s, text) {
  r.row.dataset.state = s;
  r.status.textContent = text;
  r.status.className = `status-text state-${s}`;
}

/**
 * The converter's progress `p` on row `r`: the conversion started at `started`, its writing
 * at `writeStart` (`{t, bytes}`, or null before), from which the rate and time left are told.
 */
export function show(r, p, started, writeStart) {
  const measuring = p.phase === 'measure';
  let frac;
  let text;
  let rate = 0;
  let left = NaN;
  if (!measuring && p.output_len) {
    frac = p.bytes_out / p.output_len;
    const since = writeStart || { t: started, bytes: 0 };
    const secs = (performance.now() - since.t) / 1000;
    rate = secs > 0.2 ? (p.bytes_out - since.bytes) / secs : 0;
    left = rate > 0 ? (p.output_len - p.bytes_out) / rate : NaN;
    text = `${bytes(p.bytes_out)} of ${bytes(p.output_len)} written`;
  } else {
    frac = p.guest_total ? p.guest_done / p.guest_total : 0;
    const secs = (performance.now() - started) / 1000;
    rate = secs > 0.2 ? p.guest_done / secs : 0;
    left = rate > 0 ? (p.guest_total - p.guest_done) / rate : NaN;
    text = `${measuring ? 'measuring compressed sizes: ' : ''}${bytes(p.guest_done)} of ${bytes(p.guest_total)} read`;
  }
  r.bar.value = Math.min(1, frac);
  r.row.dataset.bytesOut = p.bytes_out;
  r.numbers.textContent = `${text} · ${bytes(rate)}/s · ${Number.isFinite(left) ? `${duration(left)} left` : 'estimating time left…'}`;
  r.status.textContent = `${measuring ? 'pass 1 of 2' : 'converting'} · ${Math.floor(Math.min(1, frac) * 100)}%`;
}

/** A disk converted: `done` is the converter's answer, `secs` the time it took here. */
export function finished(r, done, secs) {
  r.bar.value = 1;
  r.row.dataset.planMs = Math.round(done.plan_ms);
  r.row.dataset.convertMs = Math.round(done.elapsed_ms);
  r.row.dataset.wasmBytes = JSON.stringify(done.wasm_bytes);
  mark(r, 'done', `done in ${duration(secs)}`);
  r.numbers.textContent = `${bytes(done.report.output_len)} written · ${bytes(done.report.data_bytes / Math.max(secs, 0.001))}/s of data`;
}
