// The OpenStack section's uploads: per disk sent, a progress row (`#upload-progress .upload`)
// and, once Glance has the bytes, its status and the hash check (`image-status`). The paths
// (see web/README.md):
// - "stream": the converter's output goes straight into PUT /api/images/{id}/file as a
//   ReadableStream request body while converting (save-worker.js). Chromium sends such bodies
//   only over HTTP/2 or HTTP/3, so this is used when the page came over h2/h3 (Cloudflare,
//   workerd behind a TLS proxy) and the browser supports request streams;
// - "file": otherwise (HTTP/1.1, e.g. http://127.0.0.1 from workerd directly; Firefox, Safari):
//   the disk is converted into the Origin Private File System, then that File (disk-backed,
//   bounded memory) is sent with XMLHttpRequest (its length as Content-Length, progress from
//   upload events).
// `?upload=stream|file` forces one.
// - "staged": when the worker reports a request-body limit smaller than the image (the
//   session's `upload` field; decisions in staged.js): converted into OPFS, then sent in parts,
//   several at once, each retried; the part table survives a reload (unfinished.js resumes it).
//   An image too large for the deployment is refused before anything is created.
import { $, h } from '../util.js';
import { bytes, duration, has, number, onLangChange, percent, rate, t } from '../i18n/index.js';
import { imageBody, uploadMode } from './api.js';
import { StagedError, StagedUpload } from './staged.js';
import * as alert from './alert.js';
import * as launch from './launch.js';

let api = null;
/** Called when the unfinished staged uploads may have changed (unfinished.js lists them). */
let stagedChanged = () => {};
/** The most part cells a staged row draws; a larger upload shows its counts only. */
const PART_CELLS_MAX = 1000;
/** The images whose staged upload runs in this page now (not "unfinished": unfinished.js). */
const active = new Set();

/** The image ids of the staged uploads running in this page. */
export function activeStaged() {
  return active;
}

export function setup(client, { changed } = {}) {
  api = client;
  stagedChanged = changed || stagedChanged;
}

/** Whether this browser can send a streamed request body (fetch with duplex 'half'). */
function requestStreams() {
  try {
    let duplexAccessed = false;
    const hasContentType = new Request('data:,', {
      body: new ReadableStream(), method: 'POST',
      get duplex() { duplexAccessed = true; return 'half'; },
    }).headers.has('Content-Type');
    return duplexAccessed && !hasContentType;
  } catch {
    return false;
  }
}

/** Which upload path this page takes, and why: `{mode: 'stream'|'file', reason, protocol}`. */
function chooseMode() {
  const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
  return uploadMode({
    forced: new URLSearchParams(location.search).get('upload'),
    streams: requestStreams(),
    protocol: (nav && nav.nextHopProtocol) || '',
  });
}

function setUploadState(s, mode) {
  const box = $('upload-progress');
  box.dataset.state = s;
  if (mode) box.dataset.path = mode;
}

/**
 * A progress row in `#upload-progress` for image `name` from output `label`, sent by `mode`:
 * what it says is kept as keys and numbers so that a language switch re-renders it (status
 * `state` as a catalogue key, the path's note, the bytes sent, the rate and time left). A
 * finished, failed or cancelled row has no rate and no time left.
 */
function uploadRow({ name, label, mode }) {
  const bar = h('progress', { max: 1, value: 0 });
  const status = h('span', { class: 'status-text' });
  const numbers = h('span', { class: 'numbers' });
  const how = h('p', { class: 'hint' });
  const title = h('strong');
  const row = h('div', { class: 'upload', dataset: { state: 'creating', path: mode } },
    h('div', { class: 'line' }, title, status), bar, h('div', { class: 'line' }, numbers), how);
  $('upload-progress').append(row);
  setUploadState('running', mode);
  const view = { state: 'cloud.upload.state.creating', params: {}, how: null, sent: null, total: null, rate: 0, left: null };
  const ui = { row, bar, view, started: performance.now() };
  ui.render = () => {
    title.textContent = t('cloud.upload.title', { file: label, name });
    bar.setAttribute('aria-label', t('cloud.upload.bar', { name }));
    status.textContent = t(view.state, view.params);
    status.className = `status-text state-${row.dataset.state}`;
    how.textContent = view.how ? t(view.how.key, view.how.params) : '';
    if (ui.draw) ui.draw();
    if (view.total == null) {
      numbers.textContent = '';
      return;
    }
    const live = row.dataset.state === 'running' && view.rate > 0;
    const left = live ? view.left ?? (view.total - view.sent) / view.rate : null;
    numbers.textContent = [
      t('cloud.upload.sent', { sent: bytes(view.sent), total: bytes(view.total) }),
      live ? rate(view.rate) : null,
      live && view.sent < view.total ? t('cloud.upload.left', { time: duration(left) }) : null,
    ].filter(Boolean).join(' · ');
  };
  /** The row's state (running, done, error, cancelled) and its words (a catalogue key). */
  ui.mark = (s, key, params = {}) => {
    row.dataset.state = s;
    view.state = key;
    view.params = params;
    ui.render();
  };
  /** The path's note under the bar (a catalogue key). */
  ui.explain = (m, key, params = {}) => {
    row.dataset.path = m;
    setUploadState('running', m);
    view.how = { key, params };
    ui.render();
  };
  /** Bytes sent of `total`; `speed` (bytes/s) and `left` (s) when the caller measures them. */
  ui.numbers = (sent, total, speed, left = null) => {
    bar.value = total ? Math.min(1, sent / total) : 0;
    row.dataset.sent = sent;
    row.dataset.total = total;
    Object.assign(view, { sent, total, rate: speed || 0, left });
  };
  ui.fail = (e, context) => {
    ui.mark('error', 'cloud.upload.state.failed');
    alert.show(context.key, context.params, e);
    setUploadState('error');
  };
  const unlisten = onLangChange(() => (row.isConnected ? ui.render() : unlisten()));
  return ui;
}

/** The note of path `mode` ("stream" or "file") and why it was taken. */
function pathNote(mode, reason) {
  return [`cloud.upload.how.${mode}`, { why: t(`cloud.upload.why.${reason}`) }];
}

/**
 * Before converting a disk for sending: creates the Glance image and the progress row.
 * `way` is the path staged.js chose for the image's size (`{path: direct|staged|too_large,
 * max}`); too large, nothing is created and the row says why. Resolves to a handle:
 * `{imageId, mode, url, progress(sent, total), uploadKept(file, sha512, opfs) (by uploadFile or
 * uploadStaged), abort(), finish(sha512, answer), fail(error), fallBack(reason), discard()}`, or
 * null after showing the error.
 */
export async function beginSend({ name, format, shape, props, virtualSize, flavor, label, way = { path: 'direct' } }) {
  alert.hide();
  const choice = way.path === 'direct' ? chooseMode() : { mode: 'staged' };
  const body = imageBody({ name, format, shape, props, virtualSize });
  const ui = uploadRow({ name, label, mode: choice.mode });
  const { row, mark } = ui;
  if (way.path === 'too_large') {
    ui.explain('staged', 'staged.how.tooLarge', { max: bytes(way.max) });
    ui.fail(new StagedError('too_large', `the largest image this deployment takes is ${way.max} bytes`, { max: bytes(way.max), size: bytes(way.size) }),
      { key: 'cloud.do.send', params: { name: label } });
    return null;
  }
  if (choice.mode === 'staged') ui.explain('staged', 'staged.how.staged', { max: bytes(way.body) });
  else ui.explain(choice.mode, ...pathNote(choice.mode, choice.reason));
  let id;
  try {
    id = (await api.createImage(body)).id;
  } catch (e) {
    ui.fail(e, { key: 'cloud.do.createImage', params: { name } });
    return null;
  }
  row.dataset.imageId = id;
  mark('running', choice.mode === 'stream' ? 'cloud.upload.state.streaming' : 'cloud.upload.state.converting');
  const handle = {
    imageId: id,
    mode: choice.mode,
    url: api.imageFileUrl(id),
    /** The staged upload once its parts go (StagedUpload), and its Cancel under way. */
    staged: null,
    cancelling: null,
    progress(sent, total) {
      // A staged upload's row shows its own numbers (followStaged); this is then only followed (the tab's title).
      if (!total || handle.staged) return;
      if (handle.sendStart == null && sent > 0) handle.sendStart = performance.now();
      const secs = handle.sendStart != null ? (performance.now() - handle.sendStart) / 1000 : 0;
      ui.numbers(sent, total, secs > 0.2 ? sent / secs : 0);
      mark('running', 'cloud.upload.state.uploading', { percent: percent(Math.floor(Math.min(1, sent / total) * 100) / 100) });
    },
    /** The "file" path: send the finished OPFS file. */
    async uploadFile(file) {
      handle.sendStart = null;
      mark('running', 'cloud.upload.state.uploadStart');
      const x = api.uploadFile(id, file, (sent, total) => handle.progress(sent, total));
      handle.xhr = x.xhr;
      try {
        return await x.done;
      } finally {
        handle.xhr = null;
      }
    },
    /**
     * Send the finished OPFS `file` (named `opfs` there, its SHA-512 `sha512`) by this
     * handle's path: in parts (staged), else in one request (file). Resolves to the answer.
     */
    uploadKept(file, sha512, opfs) {
      return handle.mode === 'staged' ? handle.uploadStaged(file, sha512, opfs) : handle.uploadFile(file);
    },
    /**
     * The "staged" path: send the finished OPFS file (named `opfs` there) in parts; resolves
     * to the image once Glance has imported it with this SHA-512.
     */
    async uploadStaged(file, sha512, opfs) {
      mark('running', 'staged.state.starting');
      active.add(id);
      try {
        handle.staged = await StagedUpload.begin({ api, storage: localStorage, file, imageId: id, name, label, sha512, opfs, flavor });
        // The global Cancel (ui/convert.js) stops it: the row has no Cancel of its own.
        return await followStaged(ui, handle.staged, { onBytes: (p) => handle.progress(p.sent, p.total) });
      } finally {
        active.delete(id);
        // Parts that could not be sent stay resumable: listed as unfinished from now on.
        stagedChanged();
      }
    },
    /** Cancel: stop an upload of a finished file (the worker then deletes the image). */
    abort() {
      if (handle.xhr) handle.xhr.abort();
      if (handle.staged) handle.cancelling = handle.staged.cancel().catch(() => {});
      mark('cancelled', 'cloud.upload.state.cancelled');
    },
    /** After the upload: Glance's view of the image and the hash check. */
    async finish(sha512, answer) {
      return finishImage(ui, { id, name, sha512, answer, flavor, minDisk: body.min_disk, minRam: body.min_ram ?? 0 });
    },
    fail(e, context) {
      if (e instanceof StagedError && e.code === 'cancelled') {
        mark('cancelled', 'cloud.upload.state.cancelled');
        return;
      }
      // `context`: what was being done, as {key, params}; anything else reads as "Sending <label>".
      ui.fail(e, context && typeof context === 'object' ? context : { key: 'cloud.do.send', params: { name: label } });
    },
    /** The streamed upload was refused by the browser: convert into OPFS and send the file. */
    async fallBack(reason) {
      row.dataset.fallback = reason;
      ui.explain('file', ...pathNote('file', 'stream_refused'));
      handle.mode = 'file';
      mark('running', 'cloud.upload.state.converting');
      // The refused request never reached the worker: the image is still queued and takes data.
      try {
        const img = await api.image(id);
        if (img.status === 'queued') return true;
      } catch { /* create a new one below */ }
      try {
        id = (await api.createImage(body)).id;
        handle.imageId = id;
        handle.url = api.imageFileUrl(id);
        row.dataset.imageId = id;
        return true;
      } catch (e) {
        handle.fail(e, { key: 'cloud.do.createImage', params: { name } });
        return false;
      }
    },
    /** Conversion failed or was cancelled: do not leave a queued image (or staged parts) behind. */
    async discard() {
      if (handle.staged) {
        await (handle.cancelling || handle.staged.cancel().catch(() => {}));
        stagedChanged();
        return;
      }
      try { await api.deleteImage(id); } catch { /* already gone */ }
    },
  };
  return handle;
}

/**
 * Glance's view of image `id` after its upload (`answer`: what the upload answered, used when
 * Glance cannot be asked), the hash check, the status shown and the launch form told.
 * Resolves to whether the image holds the page's SHA-512.
 */
async function finishImage(ui, { id, name, sha512, answer, flavor, minDisk, minRam }) {
  let img = answer;
  try {
    img = await api.image(id);
  } catch (e) {
    if (!answer) throw e;
  }
  const match = !!img && img.os_hash_algo === 'sha512' && img.os_hash_value === sha512;
  ui.bar.value = 1;
  if (match) ui.mark('done', 'cloud.upload.state.done', { time: duration((performance.now() - ui.started) / 1000) });
  else ui.mark('error', 'cloud.upload.state.mismatch');
  showImageStatus({ id, name, img, sha512, match, flavor, minDisk: (img && img.min_disk) ?? minDisk, minRam: (img && img.min_ram) ?? minRam ?? 0 });
  return match;
}

/**
 * Show staged upload `up` on row `ui` while it runs: the parts' states (a cell per part, and
 * their counts), Pause/Resume (and Cancel with `cancellable`), then the import; `onBytes(view)`
 * as parts arrive. Resolves to the imported image (or rejects as `up.run()`).
 */
async function followStaged(ui, up, { onBytes = null, cancellable = false } = {}) {
  const n = up.record.parts;
  const cells = n <= PART_CELLS_MAX ? Array.from({ length: n }, (_, k) => h('span', { class: 'part', dataset: { part: k + 1 } })) : [];
  const counts = h('span', { class: 'staged-counts' });
  const pause = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'staged-pause' });
  const cancel = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'staged-cancel' }, t('common.cancel'));
  const box = h('div', { class: 'staged', 'data-testid': 'staged-parts', dataset: { parts: n } },
    h('div', { class: 'row wrap' }, counts, pause, cancel),
    cells.length ? h('div', { class: 'part-strip', 'aria-hidden': 'true' }, cells) : null);
  ui.row.append(box);
  pause.addEventListener('click', () => {
    if (['pausing', 'paused'].includes(up.parts.state)) up.resume();
    else up.pause();
  });
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await up.cancel();
    } catch (e) {
      // The worker could not delete it: the part table stays (unfinished.js offers Discard).
      alert.show('staged.do.cancel', { name: up.record.name }, e);
    }
  });
  let sent = null;
  ui.draw = () => {
    const v = up.view();
    box.dataset.state = v.state;
    box.dataset.phase = v.phase;
    box.dataset.done = v.counts.done;
    counts.textContent = t('staged.counts', { done: number(v.counts.done), parts: number(n), sending: number(v.counts.sending), retrying: number(v.counts.retrying) });
    const paused = ['pausing', 'paused'].includes(v.state);
    pause.textContent = t(paused ? 'staged.resume' : 'staged.pause');
    pause.hidden = v.phase !== 'sending' || !['running', 'pausing', 'paused'].includes(v.state);
    cancel.hidden = !cancellable || !['sending', 'completing', 'importing'].includes(v.phase);
    if (cells.length) v.parts.forEach((p, k) => {
      const c = cells[k];
      if (c.dataset.state === p.state) return;
      c.dataset.state = p.state;
      c.title = t(`staged.part.${p.state}`, { n: number(p.n), tries: number(p.tries) });
    });
  };
  up.onChange = () => {
    const v = up.view();
    ui.numbers(v.sent, v.total, v.rate, v.left);
    if (v.sent !== sent && onBytes) onBytes(v);
    sent = v.sent;
    if (v.phase === 'sending') {
      if (v.state === 'paused' || v.state === 'pausing') ui.mark('running', `staged.state.${v.state}`);
      else if (v.state === 'running') ui.mark('running', 'cloud.upload.state.uploading', { percent: percent(Math.floor((v.sent / v.total) * 100) / 100) });
    } else if (v.phase === 'completing' || v.phase === 'importing') ui.mark('running', `staged.state.${v.phase}`);
    else ui.render();
  };
  up.onChange();
  return up.run();
}

/**
 * Resume the unfinished staged upload `record` (staged.js) of `file` (its converted image,
 * its SHA-512 checked by the caller) in a new row, to the end as a Send would. Resolves to
 * whether the image arrived intact.
 */
export async function resumeStaged(record, file) {
  alert.hide();
  const ui = uploadRow({ name: record.name, label: record.label, mode: 'staged' });
  ui.row.dataset.imageId = record.image_id;
  ui.row.dataset.resumed = 'true';
  ui.explain('staged', 'staged.how.resumed', { done: number(Object.keys(record.etags).length), parts: number(record.parts) });
  const up = new StagedUpload({ api, storage: localStorage, file, record });
  let ok = false;
  active.add(record.image_id);
  try {
    const answer = await followStaged(ui, up, { cancellable: true });
    ok = await finishImage(ui, { id: record.image_id, name: record.name, sha512: record.sha512, answer, flavor: record.flavor });
  } catch (e) {
    if (e instanceof StagedError && e.code === 'cancelled') ui.mark('cancelled', 'cloud.upload.state.cancelled');
    else ui.fail(e, { key: 'staged.do.resume', params: { name: record.label } });
  } finally {
    active.delete(record.image_id);
    sendFinished(ok);
  }
  return ok;
}

/** All uploads of a Send are over. */
export function sendFinished(ok) {
  setUploadState(ok ? 'done' : 'error');
}

/** Clear the previous Send's rows. */
export function resetSend() {
  $('upload-progress').replaceChildren();
  setUploadState('idle');
  alert.hide();
}

/** Glance's status of an image in words (`cloud.image.status.<status>`, else as Glance says it). */
function glanceStatus(st) {
  const key = `cloud.image.status.${st || 'unknown'}`;
  return has(key) ? t(key) : st;
}

function showImageStatus({ id, name, img, sha512, match, flavor, minDisk, minRam }) {
  const el = h('div', {
    class: `image-status ${match ? 'ok' : 'bad'}`, 'data-testid': 'image-status', role: 'status',
    dataset: { imageId: id, hashMatch: String(match), status: (img && img.status) || '' },
  });
  const render = () => el.replaceChildren(
    h('p', {}, h('strong', {}, t('cloud.image.title', { name })), ' ',
      t('cloud.image.summary', { id, status: glanceStatus(img && img.status), size: bytes(img && img.size) })),
    h('p', {}, match ? t('cloud.image.hashOk')
      : t('cloud.image.hashBad', { algo: (img && img.os_hash_algo) || '?', glance: (img && img.os_hash_value) || t('cloud.image.hashMissing') })),
    h('p', { class: 'mono hint' }, `sha512 ${sha512}`));
  render();
  const unlisten = onLangChange(() => (el.isConnected ? render() : unlisten()));
  $('images').append(el);
  launch.addImage({ id, name, status: img && img.status, match, flavor, minDisk, minRam });
}
