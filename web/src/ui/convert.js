// The "Convert" step: the output format and where to save it, Convert, Send to OpenStack and
// Cancel, and the run they start: disk by disk, each in its own converter (through
// converter/client.js), into the chosen files, browser storage or a new Glance image. Also
// sending an output kept in browser storage from an earlier visit (ui/stored.js asks).
// While a run goes on, the beforeunload guard (guard.js) is held.
import { $, baseName } from '../util.js';
import { coreError } from '../error.js';
import * as converter from '../converter/client.js';
import { defaultWorkers } from '../converter/pool.js';
import { t, onLangChange } from '../i18n/index.js';
import { pickerAvailable, opfsAvailable, pickTargets, opfsName, opfsFile, opfsHash, opfsRemove } from '../save.js';
import * as osweb from '../openstack/index.js';
import * as store from '../checklist.js';
import * as errors from './errors.js';
import * as files from './files.js';
import * as guard from './guard.js';
import * as inputs from './inputs.js';
import * as progress from './progress.js';
import * as results from './results.js';
import * as stored from './stored.js';
import * as checklist from './checklist.js';

const GIB = 1024 ** 3;

const PARAMS = new URLSearchParams(location.search);

/**
 * The run going on, or null: `{cancelled, current: {abort, target, row} of the disk being
 * converted, rows, results, format, send: the Glance upload of the disk being sent, lastError,
 * lastDone}`.
 */
let running = null;

/** Whether the inputs' edited values are valid (inputs.valid() where inputs.js has it). */
function inputsValid() {
  return typeof inputs.valid === 'function' ? inputs.valid() !== false : true;
}

/** Whether a run (conversion or send) is going on. */
export function busy() {
  return !!running;
}

/** Enable what can be done now (after an inspection, a tick, an edit, a login, a run's start or end). */
export function update() {
  const plannedDisks = inputs.planned($('format-select').value);
  const planned = plannedDisks.length;
  const valid = inputsValid();
  const loggedIn = !!osweb.session();
  // A staged upload resumed from the unfinished list counts as a run.
  const occupied = !!running || osweb.resuming();
  osweb.updateDisks(plannedDisks, { busy: occupied });
  $('convert-button').disabled = occupied || planned === 0 || !valid;
  $('send-button').disabled = occupied || planned === 0 || !loggedIn || !valid;
  let why = '';
  if (planned && !valid) why = t('run.blocked.invalid');
  else if (!loggedIn && document.body.dataset.openstack === 'available') why = t('run.blocked.login');
  $('send-status').textContent = why;
  $('send-status').dataset.reason = planned && !valid ? 'invalid' : (why ? 'login' : '');
  $('send-button').hidden = document.body.dataset.openstack === 'unavailable';
  $('cancel-button').disabled = !running;
  $('format-select').disabled = !!running;
  $('save-mode').disabled = !!running;
  files.setBusy(!!running);
  stored.update({ busy: occupied, loggedIn });
  osweb.updateUnfinished({ busy: !!running, loggedIn });
}

/** What the sidecar of disk `d`'s output records (see save.js): enough to send it after a reload. */
function metaFor(d, format) {
  const choice = inputs.choiceFor(d.inputIndex, d.input);
  return {
    v: 1, label: d.outName, source: baseName(d.info.name), vm: inputs.inputLabel(d.input), format,
    virtualSize: d.info.virtual_size, imageName: inputs.imageName(d),
    shape: choice.shape ? JSON.parse(JSON.stringify(choice.shape)) : null,
    props: choice.props.map(({ key, value }) => ({ key, value })),
  };
}

/** The review card's item for an image (see openstack/index.js reviewSend). */
function reviewItem(m) {
  const shape = m.shape || {};
  return {
    name: m.imageName, format: m.format, virtualSize: m.virtualSize,
    min_disk: shape.min_disk ?? Math.ceil(m.virtualSize / GIB), min_ram: shape.min_ram ?? null,
    props: (m.props || []).filter((p) => p.key && p.value !== '' && p.value != null).map(({ key, value }) => ({ key, value })),
  };
}

/**
 * Ask the user to confirm what a Send will create (the review card; Back resolves false);
 * `pre`: a whole VM's preflight (a plan that does not fit cannot be confirmed).
 */
async function review(metas, pre = null) {
  return !!await osweb.reviewSend(metas.map(reviewItem), { opener: $('send-button'), pre });
}

/**
 * The checklist's record of disk `d` (its entry by output name, made by results.show) gains
 * `fields` (image_id, volume_id).
 */
function record(d, fields) {
  store.update(inputs.inputLabel(d.input), (c) => {
    c.digests = (c.digests || []).map((x) => (x.output === d.outName ? { ...x, ...fields } : x));
  });
}

/** Show an upload's progress in the tab title too (the handle calls its own `progress`). */
function titleFollows(sent) {
  const own = sent.progress;
  sent.progress = (done, total) => {
    own.call(sent, done, total);
    if (total) progress.setTitle(done / total);
  };
}

/** Convert, or with `send` convert and upload each disk into a new Glance image. */
async function start(send) {
  const format = $('format-select').value;
  let disks = inputs.planned(format);
  if (!disks.length || running || osweb.resuming()) return;
  if (send && !osweb.session()) return;
  if (!inputsValid()) return;
  // A whole VM (openstack/disks.js): its skipped disks stay out, and the plan is checked
  // against the project's limits before anything is converted or created.
  let pre = null;
  if (send && osweb.migrating()) {
    try {
      pre = await osweb.preflight();
    } catch (e) {
      errors.show([{ context: t('volumes.context.preflight'), error: e }]);
      return;
    }
    const skip = osweb.skipped(disks[0].input);
    disks = disks.filter((d) => !skip.has(d.disk));
    if (!disks.length) return;
  }
  const metas = disks.map((d) => metaFor(d, format));
  // Before anything is created: the user confirms what will be sent (no picker on this path,
  // so waiting for the answer loses no user activation). A plan that does not fit has no Confirm.
  if (send && !await review(metas, pre)) return;
  if (pre && !pre.plan.fits) return;
  if (running) return;
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
      picked.forEach((x, k) => { disks[k].outName = x.name; });
    } catch (e) {
      progress.setState(previous);
      if (e && e.name === 'AbortError') return;
      errors.show([{ context: t('run.context.choosing'), error: coreError('io', String((e && e.message) || e), { code: 'pick_failed' }) }]);
      return;
    }
  } else {
    // Earlier outputs stay in browser storage (listed under "kept in this browser").
    targets = disks.map((d, k) => ({ kind: 'opfs', name: opfsName(d.outName), meta: metas[k] }));
  }
  errors.clear();
  results.reset();
  // The previous results' outputs join the list of those kept in browser storage.
  stored.refresh();
  const run = { cancelled: false, current: null, rows: [], results: [], format };
  running = run;
  const release = guard.hold(send ? 'send' : 'convert');
  update();
  run.rows = progress.reset(disks, format);
  progress.setState('running');
  progress.setTitle(0);
  let failed = false;
  if (send) osweb.resetSend();
  // A whole VM's record of what it made: any failure deletes all of it.
  const migration = pre ? osweb.beginMigration({ ...pre, vm: inputs.inputLabel(disks[0].input) }) : null;
  if (migration) migration.onFailed = () => osweb.cleanUpMigration(migration);
  for (let k = 0; k < disks.length && !run.cancelled; k++) {
    if (!send) {
      const ok = await convertOne(run, disks[k], targets[k], run.rows[k]);
      if (!ok) {
        failed = true;
        if (targets[k].kind === 'opfs') opfsRemove(targets[k].name);
      }
      continue;
    }
    run.sentImage = null;
    if (!await sendOne(run, disks[k], targets[k], run.rows[k])) failed = true;
    if (run.sentImage) record(disks[k], { image_id: run.sentImage });
    if (!migration) continue;
    // An image in Glance (even one whose hash did not match) is the migration's to delete.
    if (run.sentImage) osweb.imageMade(migration, disks[k].disk, run.sentImage, inputs.imageName(disks[k]));
    if (failed) break;
  }
  if (migration) {
    if (failed || run.cancelled) await osweb.cleanUpMigration(migration);
    else if (await osweb.makeVolumes(migration)) {
      for (const d of disks) if (migration.volumes.has(d.disk)) record(d, { volume_id: migration.volumes.get(d.disk) });
      checklist.refresh(inputs.inputLabel(disks[0].input));
    } else failed = true;
  }
  if (send) osweb.sendFinished(!failed && !run.cancelled);
  if (run.cancelled) {
    for (const r of run.rows) if (r.state === 'waiting' || r.state === 'running') progress.mark(r, 'cancelled', 'run.row.cancelled');
    progress.setState('cancelled');
  } else {
    progress.setState(failed ? 'error' : 'done');
  }
  running = null;
  release();
  update();
  await stored.refresh();
  // The result and its Download were below the fold: bring them into view.
  if (!run.cancelled && run.results.length) results.reveal();
}

/**
 * Convert one disk into a new Glance image: streamed while converting where the browser can,
 * otherwise converted into OPFS (`opfsTarget`) and then sent from there; then the hash check.
 */
async function sendOne(run, d, opfsTarget, r) {
  const choice = inputs.choiceFor(d.inputIndex, d.input);
  const sent = await osweb.beginSend({
    name: inputs.imageName(d), format: run.format, shape: choice.shape, props: choice.props, virtualSize: d.info.virtual_size,
    flavor: choice.shape && choice.shape.flavor, label: d.outName, way: osweb.sendPath({ format: run.format, virtualSize: d.info.virtual_size }),
  });
  if (!sent) {
    progress.mark(r, 'error', 'run.row.notSent');
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
    if (!run.cancelled && run.lastError) sent.fail(run.lastError, t('run.context.sending', { name: d.outName }));
    await sent.discard();
    return false;
  }
  try {
    const { report } = run.lastDone;
    let answer = run.lastDone.upload;
    if (target.kind === 'opfs') {
      titleFollows(sent);
      answer = await sent.uploadKept(await opfsFile(target.name), report.sha512, target.name);
    }
    run.sentImage = sent.imageId;
    return await sent.finish(report.sha512, answer);
  } catch (e) {
    if (run.cancelled) await sent.discard();
    else sent.fail(e, t('run.context.sending', { name: d.outName }));
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
  progress.mark(r, 'running', 'run.row.starting');
  const onProgress = (m) => {
    if (m.type === 'phase' && m.phase === 'plan') {
      progress.mark(r, 'running', 'run.row.planning');
    } else if (m.type === 'planned') {
      progress.planned(r, m.progress);
    } else if (m.type === 'progress') {
      progress.show(r, m.progress);
      if (target.kind === 'upload' && run.send && m.uploaded != null) run.send.progress(m.uploaded, m.progress.output_len);
    }
  };
  const job = {
    files: files.files(), top: d.top, disk: d.disk, options: { format: run.format }, target,
    // The output's SHA-512 while converting only for a Send (Glance's hash is checked against
    // it): it is a quarter of a conversion's CPU; the result offers it on request otherwise.
    hash: !!run.send,
    workers: Math.max(1, Number(PARAMS.get('workers')) || defaultWorkers(target.kind === 'upload')),
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
    progress.mark(r, 'error', 'run.row.failed');
    // Upload errors are shown in the OpenStack section (or lead to the file path).
    if (!(target.kind === 'upload' && error && ['upload', 'stream_failed'].includes(error.kind))) {
      errors.add(t('run.context.converting', { file: baseName(d.info.name) }), error);
    }
    return false;
  } finally {
    run.current = null;
  }
}

/** Stop the run: the conversion at once (its partial file removed), an upload too. */
export function cancel() {
  const run = running;
  if (!run) return;
  run.cancelled = true;
  if (run.current) {
    const { abort, target, row } = run.current;
    // Terminates the converter and, with it, its decode and writer workers, at once.
    abort.abort();
    progress.mark(row, 'cancelled', 'run.row.cancelled');
    if (target.kind === 'opfs') opfsRemove(target.name);
  }
  // An upload of a finished file stops too (its image is deleted), or the hashing before it.
  if (run.send) run.send.abort();
  if (run.hashing) run.hashing.abort();
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
  const caps = () => {
    const el = $('caps');
    const key = picker && opfsAvailable() ? 'run.caps.both' : picker ? 'run.caps.picker' : opfsAvailable() ? 'run.caps.storage' : 'run.caps.none';
    el.textContent = t(key);
    // The technical details, for whoever asks (hover, or a screen reader's description).
    el.title = t('run.caps.details', { count: defaultWorkers() });
  };
  caps();
  onLangChange(() => {
    caps();
    update();
  });
  stored.setup({ send: sendStored, cancel });
}

/**
 * Send an output kept in browser storage (`item` from save.js opfsList(), with its sidecar in
 * `item.meta`) into a new Glance image, as a Send of a fresh conversion would: review, create
 * the image, upload the file, check the hash (computed first if the conversion did not;
 * `onHash(fraction)` follows that). Resolves to whether it arrived intact.
 */
export async function sendStored(item, { onHash } = {}) {
  const m = item.meta;
  if (running || osweb.resuming() || !m || !osweb.session()) return false;
  if (!await review([m])) return false;
  if (running) return false;
  const run = { cancelled: false, current: null, rows: [], results: [], format: m.format, send: null };
  running = run;
  const release = guard.hold('send');
  update();
  osweb.resetSend();
  const context = t('run.context.sending', { name: m.label || item.label });
  let ok = false;
  try {
    // Converted without a Send: its SHA-512 first (a staged upload declares it up front), and
    // kept in its sidecar for the next time.
    if (!m.sha512) {
      run.hashing = new AbortController();
      try {
        m.sha512 = await opfsHash(item.name, { signal: run.hashing.signal, onProgress: (done, total) => onHash && onHash(done / total) });
      } catch (e) {
        if (!run.cancelled) errors.show([{ context, error: e }]);
        return false;
      } finally {
        run.hashing = null;
      }
    }
    const sent = await osweb.beginSend({
      name: m.imageName, format: m.format, shape: m.shape, props: m.props, virtualSize: m.virtualSize,
      flavor: m.shape && m.shape.flavor, label: m.label || item.label, way: osweb.sendPath({ size: item.size }),
    });
    if (sent) {
      run.send = sent;
      titleFollows(sent);
      try {
        const answer = await sent.uploadKept(await opfsFile(item.name), m.sha512, item.name);
        ok = await sent.finish(m.sha512, answer);
      } catch (e) {
        if (run.cancelled) await sent.discard();
        else sent.fail(e, context);
      }
    }
  } finally {
    osweb.sendFinished(ok);
    running = null;
    release();
    progress.setTitle(null);
    update();
  }
  return ok;
}
