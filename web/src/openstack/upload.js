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
import { $, h } from '../util.js';
import { bytes, duration, has, onLangChange, percent, rate, t } from '../i18n/index.js';
import { imageBody, uploadMode } from './api.js';
import * as alert from './alert.js';
import * as launch from './launch.js';

let api = null;

export function setup(client) {
  api = client;
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
 * Before converting a disk for sending: creates the Glance image and the progress row.
 * Resolves to a handle: `{imageId, mode, url, progress(sent, total), uploadFile(file),
 * abort(), finish(sha512, answer), fail(error), fallBack(reason), discard()}`, or null after
 * showing the error.
 */
export async function beginSend({ name, format, shape, props, virtualSize, flavor, label }) {
  alert.hide();
  const choice = chooseMode();
  const body = imageBody({ name, format, shape, props, virtualSize });
  const bar = h('progress', { max: 1, value: 0 });
  const status = h('span', { class: 'status-text' });
  const numbers = h('span', { class: 'numbers' });
  const how = h('p', { class: 'hint' });
  const title = h('strong');
  const row = h('div', { class: 'upload', dataset: { state: 'creating', path: choice.mode } },
    h('div', { class: 'line' }, title, status), bar, h('div', { class: 'line' }, numbers), how);
  $('upload-progress').append(row);
  setUploadState('running', choice.mode);
  const started = { t: performance.now() };
  /**
   * What the row says, kept as keys and numbers so that a language switch re-renders it:
   * status (`cloud.upload.state.<key>`), the path's note, the bytes sent and the rate. A
   * finished, failed or cancelled row has no rate and no time left.
   */
  const view = { state: 'creating', params: {}, how: null, sent: null, total: null, rate: 0 };
  const render = () => {
    title.textContent = t('cloud.upload.title', { file: label, name });
    bar.setAttribute('aria-label', t('cloud.upload.bar', { name }));
    status.textContent = t(`cloud.upload.state.${view.state}`, view.params);
    status.className = `status-text state-${row.dataset.state}`;
    how.textContent = view.how ? t(view.how.key, view.how.params) : '';
    if (view.total == null) {
      numbers.textContent = '';
      return;
    }
    const live = row.dataset.state === 'running' && view.rate > 0;
    const left = live ? (view.total - view.sent) / view.rate : null;
    numbers.textContent = [
      t('cloud.upload.sent', { sent: bytes(view.sent), total: bytes(view.total) }),
      live ? rate(view.rate) : null,
      live && view.sent < view.total ? t('cloud.upload.left', { time: duration(left) }) : null,
    ].filter(Boolean).join(' · ');
  };
  const mark = (s, key, params = {}) => {
    row.dataset.state = s;
    view.state = key;
    view.params = params;
    render();
  };
  const explain = (mode, reason) => {
    row.dataset.path = mode;
    setUploadState('running', mode);
    view.how = { key: `cloud.upload.how.${mode}`, params: { why: t(`cloud.upload.why.${reason}`) } };
    render();
  };
  const unlisten = onLangChange(() => (row.isConnected ? render() : unlisten()));
  explain(choice.mode, choice.reason);
  let id;
  try {
    id = (await api.createImage(body)).id;
  } catch (e) {
    mark('error', 'failed');
    alert.show('cloud.do.createImage', { name }, e);
    setUploadState('error');
    return null;
  }
  row.dataset.imageId = id;
  mark('running', choice.mode === 'stream' ? 'streaming' : 'converting');
  const handle = {
    imageId: id,
    mode: choice.mode,
    url: api.imageFileUrl(id),
    progress(sent, total) {
      if (!total) return;
      if (handle.sendStart == null && sent > 0) handle.sendStart = performance.now();
      bar.value = Math.min(1, sent / total);
      const secs = handle.sendStart != null ? (performance.now() - handle.sendStart) / 1000 : 0;
      row.dataset.sent = sent;
      row.dataset.total = total;
      Object.assign(view, { sent, total, rate: secs > 0.2 ? sent / secs : 0 });
      mark('running', 'uploading', { percent: percent(Math.floor(Math.min(1, sent / total) * 100) / 100) });
    },
    /** The "file" path: send the finished OPFS file. */
    async uploadFile(file) {
      handle.sendStart = null;
      mark('running', 'uploadStart');
      const x = api.uploadFile(id, file, (sent, total) => handle.progress(sent, total));
      handle.xhr = x.xhr;
      try {
        return await x.done;
      } finally {
        handle.xhr = null;
      }
    },
    /** Cancel: stop an upload of a finished file (the worker then deletes the image). */
    abort() {
      if (handle.xhr) handle.xhr.abort();
      mark('cancelled', 'cancelled');
    },
    /** After the upload: Glance's view of the image and the hash check. */
    async finish(sha512, answer) {
      let img = answer;
      try {
        img = await api.image(id);
      } catch (e) {
        if (!answer) throw e;
      }
      const match = !!img && img.os_hash_algo === 'sha512' && img.os_hash_value === sha512;
      bar.value = 1;
      if (match) mark('done', 'done', { time: duration((performance.now() - started.t) / 1000) });
      else mark('error', 'mismatch');
      showImageStatus({ id, name, img, sha512, match, flavor, minDisk: (img && img.min_disk) ?? body.min_disk, minRam: (img && img.min_ram) ?? body.min_ram ?? 0 });
      return match;
    },
    fail(e, context) {
      mark('error', 'failed');
      // `context`: what was being done, as {key, params}; anything else reads as "Sending <label>".
      const c = context && typeof context === 'object' ? context : { key: 'cloud.do.send', params: { name: label } };
      alert.show(c.key, c.params, e);
      setUploadState('error');
    },
    /** The streamed upload was refused by the browser: convert into OPFS and send the file. */
    async fallBack(reason) {
      row.dataset.fallback = reason;
      explain('file', 'stream_refused');
      handle.mode = 'file';
      mark('running', 'converting');
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
    /** Conversion failed or was cancelled: do not leave a queued image behind. */
    async discard() {
      try { await api.deleteImage(id); } catch { /* already gone */ }
    },
  };
  return handle;
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
