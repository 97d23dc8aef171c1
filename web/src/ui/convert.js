// Section 3, "Convert": the output format and where to save it, Convert, Send to OpenStack and
// Cancel, and the run they start: disk by disk, each in its own converter (through
// converter/client.js), into the chosen files, browser storage or a new Glance image.
import { $, baseName } from '../util.js';
import { coreError } from '../error.js';
import * as converter from '../converter/client.js';
import { pickerAvailable, opfsAvailable, pickTargets, opfsName, opfsFile, opfsRemove } from '../save.js';
import * as osweb from '../openstack/index.js';
import * as errors from './errors.js';
import * as files from './files.js';
import * as inputs from './inputs.js';
import * as progress from './progress.js';
import * as results from './results.js';

const PARAMS = new URLSearchParams(location.search);

/**
 * The run going on, or null: `{cancelled, current: {abort, target, row} of the disk being
 * converted, rows, results, format, send: the Glance upload of the disk being sent, lastError,
 * lastDone}`.
 */
let running = null;

/** Enable what can be done now (after an inspection, a tick, a login, a run's start or end). */
export function update() {
  const planned = inputs.planned($('format-select').value).length;
  $('convert-button').disabled = !!running || planned === 0;
  const loggedIn = !!osweb.session();
  $('send-button').disabled = !!running || planned === 0 || !loggedIn;
  $('send-status').textContent = loggedIn || document.body.dataset.openstack !== 'available' ? ''
    : 'Log in to OpenStack (section 5) to send the image straight into Glance.';
  $('send-button').hidden = document.body.dataset.openstack === 'unavailable';
  $('cancel-button').disabled = !running;
  $('format-select').disabled = !!running;
  $('save-mode').disabled = !!running;
  files.setBusy(!!running);
}

/** Convert, or with `send` convert and upload each disk into a new Glance image. */
async function start(send) {
  const format = $('format-select').value;
  const disks = inputs.planned(format);
  if (!disks.length || running) return;
  if (send && !osweb.session()) return;
  // Nothing is created in OpenStack before the review card is confirmed (Back: nothing happens).
  if (send && !await osweb.reviewSend(disks.map((d) => {
    const { shape, props } = inputs.choiceFor(d.inputIndex, d.input);
    return { name: inputs.imageName(d), format, virtualSize: d.info.virtual_size, min_disk: shape && shape.min_disk, min_ram: shape && shape.min_ram, props };
  }), { opener: $('send-button') })) return;
  // Sending goes through browser storage when it cannot stream (see openstack/upload.js).
  const mode = send ? 'opfs' : $('save-mode').value;
  // Synchronously, so nothing sees the previous run's state after the click.
  const previous = progress.state();
  progress.setState('running');
  let targets;
  if (mode === 'picker') {
    try {
      // First thing in the click handler: the picker needs the click's user activation.
      const picked = await pickTargets(disks.map((d) => d.outName));
      targets = picked;
      picked.forEach((t, k) => { disks[k].outName = t.name; });
    } catch (e) {
      progress.setState(previous);
      if (e && e.name === 'AbortError') return;
      errors.show([{ context: 'Choosing where to save', error: coreError('io', String((e && e.message) || e)) }]);
      return;
    }
  } else {
    await results.removeStored();
    targets = disks.map((d) => ({ kind: 'opfs', name: opfsName(d.outName) }));
  }
  errors.clear();
  results.reset();
  const run = { cancelled: false, current: null, rows: [], results: [], format };
  running = run;
  update();
  run.rows = progress.reset(disks);
  progress.setState('running');
  let failed = false;
  if (send) osweb.resetSend();
  for (let k = 0; k < disks.length && !run.cancelled; k++) {
    if (!send) {
      const ok = await convertOne(run, disks[k], targets[k], run.rows[k]);
      if (!ok) {
        failed = true;
        if (targets[k].kind === 'opfs') opfsRemove(targets[k].name);
      }
      continue;
    }
    if (!await sendOne(run, disks[k], targets[k], run.rows[k])) failed = true;
  }
  if (send) osweb.sendFinished(!failed && !run.cancelled);
  if (run.cancelled) {
    for (const r of run.rows) if (r.row.dataset.state === 'waiting' || r.row.dataset.state === 'running') progress.mark(r, 'cancelled', 'cancelled');
    progress.setState('cancelled');
  } else {
    progress.setState(failed ? 'error' : 'done');
  }
  running = null;
  update();
}

/**
 * Convert one disk into a new Glance image: streamed while converting where the browser can,
 * otherwise converted into OPFS (`opfsTarget`) and then sent from there; then the hash check.
 */
async function sendOne(run, d, opfsTarget, r) {
  const choice = inputs.choiceFor(d.inputIndex, d.input);
  const sent = await osweb.beginSend({
    name: inputs.imageName(d), format: run.format, shape: choice.shape, props: choice.props, virtualSize: d.info.virtual_size,
    flavor: choice.shape && choice.shape.flavor, label: d.outName,
  });
  if (!sent) {
    progress.mark(r, 'error', 'not sent');
    return false;
  }
  run.send = sent;
  let target = sent.mode === 'stream' ? { kind: 'upload', url: sent.url } : opfsTarget;
  let ok = await convertOne(run, d, target, r);
  if (!ok && !run.cancelled && target.kind === 'upload' && run.lastError && run.lastError.kind === 'stream_failed') {
    // The browser refused to stream (e.g. HTTP/1.1): convert into storage and send the file.
    if (await sent.fallBack(run.lastError.message)) {
      target = opfsTarget;
      ok = await convertOne(run, d, target, r);
    }
  }
  if (!ok) {
    if (opfsTarget.kind === 'opfs') opfsRemove(opfsTarget.name);
    if (!run.cancelled && run.lastError) sent.fail(run.lastError, `Sending ${d.outName}`);
    await sent.discard();
    return false;
  }
  try {
    const { report } = run.lastDone;
    let answer = run.lastDone.upload;
    if (target.kind === 'opfs') answer = await sent.uploadFile(await opfsFile(target.name));
    return await sent.finish(report.sha512, answer);
  } catch (e) {
    if (run.cancelled) await sent.discard();
    else sent.fail(e, `Sending ${d.outName}`);
    return false;
  }
}

/** Convert disk `d` into `target` on progress row `r`; resolves to whether it was converted. */
async function convertOne(run, d, target, r) {
  const abort = new AbortController();
  run.current = { abort, target, row: r };
  run.lastError = null;
  run.lastDone = null;
  const started = performance.now();
  let writeStart = null;
  progress.mark(r, 'running', 'starting…');
  const onProgress = (m) => {
    if (m.type === 'phase' && m.phase === 'plan') {
      progress.mark(r, 'running', 'planning (reading metadata)…');
    } else if (m.type === 'planned') {
      progress.mark(r, 'running', 'converting…');
      progress.show(r, m.progress, started, writeStart);
    } else if (m.type === 'progress') {
      if (m.progress.phase === 'write' && writeStart == null) writeStart = { t: performance.now(), bytes: m.progress.bytes_out };
      progress.show(r, m.progress, started, writeStart);
      if (target.kind === 'upload' && run.send && m.uploaded != null) run.send.progress(m.uploaded, m.progress.output_len);
    }
  };
  const job = {
    files: files.files(), top: d.top, disk: d.disk, options: { format: run.format }, target,
    workers: Math.max(1, Number(PARAMS.get('workers')) || navigator.hardwareConcurrency || 2),
  };
  try {
    const done = await converter.convert(job, { signal: abort.signal, onProgress });
    run.lastDone = done;
    const secs = (performance.now() - started) / 1000;
    progress.finished(r, done, secs);
    await results.show(run, d, target, done.report, secs);
    return !abort.signal.aborted;
  } catch (error) {
    // Cancelled: cancel() has said so.
    if (abort.signal.aborted) return false;
    run.lastError = error;
    progress.mark(r, 'error', 'failed');
    // Upload errors are shown in the OpenStack section (or lead to the file path).
    if (!(target.kind === 'upload' && error && ['upload', 'stream_failed'].includes(error.kind))) {
      errors.add(`Converting ${baseName(d.info.name)}`, error);
    }
    return false;
  } finally {
    run.current = null;
  }
}

function cancel() {
  const run = running;
  if (!run) return;
  run.cancelled = true;
  if (run.current) {
    const { abort, target, row } = run.current;
    // Terminates the converter and, with it, its decode and writer workers, at once.
    abort.abort();
    progress.mark(row, 'cancelled', 'cancelled');
    if (target.kind === 'opfs') opfsRemove(target.name);
  }
  // An upload of a finished file stops too (its image is deleted).
  if (run.send) run.send.abort();
}

export function setup() {
  const mode = $('save-mode');
  const wanted = PARAMS.get('save');
  const picker = pickerAvailable();
  if (!picker) mode.querySelector('option[value=picker]').remove();
  if (!opfsAvailable()) mode.querySelector('option[value=opfs]').remove();
  // Automated browsers cannot answer a save dialog: they get browser storage and a download.
  mode.value = wanted && mode.querySelector(`option[value=${wanted}]`) ? wanted : (picker && !navigator.webdriver ? 'picker' : 'opfs');
  $('convert-button').addEventListener('click', () => start(false));
  $('send-button').addEventListener('click', () => start(true));
  $('cancel-button').addEventListener('click', cancel);
  $('format-select').addEventListener('change', update);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && running) cancel();
  });
  $('caps').textContent = `${navigator.hardwareConcurrency || 1} decode workers · saving: ${picker ? 'File System Access' : ''}${picker && opfsAvailable() ? ' or ' : ''}${opfsAvailable() ? 'browser storage + download' : ''}`;
}
