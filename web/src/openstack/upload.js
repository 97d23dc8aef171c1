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
import { $, h, bytes, duration } from '../util.js';
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

/** Which upload path this page takes, and why: `{mode: 'stream'|'file', why}`. */
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
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `Upload of ${name}` });
  const status = h('span', { class: 'status-text' }, 'creating the image…');
  const numbers = h('span', { class: 'numbers' });
  const how = h('p', { class: 'hint' });
  const row = h('div', { class: 'upload', dataset: { state: 'creating', path: choice.mode } },
    h('div', { class: 'line' }, h('strong', {}, `${label} → image ${name}`), status), bar, h('div', { class: 'line' }, numbers), how);
  $('upload-progress').append(row);
  setUploadState('running', choice.mode);
  const started = { t: performance.now() };
  const mark = (s, text) => {
    row.dataset.state = s;
    status.textContent = text;
    status.className = `status-text state-${s}`;
  };
  const explain = (mode, why) => {
    row.dataset.path = mode;
    setUploadState('running', mode);
    how.textContent = mode === 'stream'
      ? `Streamed into Glance while converting (${why}).`
      : `Converted into browser storage first, then sent from there (${why}).`;
  };
  explain(choice.mode, choice.why);
  let id;
  try {
    id = (await api.createImage(body)).id;
  } catch (e) {
    mark('error', 'failed');
    alert.show(`Creating the image ${name}`, e);
    setUploadState('error');
    return null;
  }
  row.dataset.imageId = id;
  mark('running', choice.mode === 'stream' ? 'converting and uploading…' : 'converting…');
  const handle = {
    imageId: id,
    mode: choice.mode,
    url: api.imageFileUrl(id),
    progress(sent, total) {
      if (!total) return;
      if (handle.sendStart == null && sent > 0) handle.sendStart = performance.now();
      bar.value = Math.min(1, sent / total);
      const secs = handle.sendStart != null ? (performance.now() - handle.sendStart) / 1000 : 0;
      const rate = secs > 0.2 ? sent / secs : 0;
      row.dataset.sent = sent;
      row.dataset.total = total;
      numbers.textContent = `${bytes(sent)} of ${bytes(total)} sent${rate ? ` · ${bytes(rate)}/s` : ''}`;
      mark('running', `uploading · ${Math.floor(Math.min(1, sent / total) * 100)}%`);
    },
    /** The "file" path: send the finished OPFS file. */
    async uploadFile(file) {
      handle.sendStart = null;
      mark('running', 'uploading…');
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
      mark(match ? 'done' : 'error', match ? `sent in ${duration((performance.now() - started.t) / 1000)}` : 'hash mismatch');
      showImageStatus({ id, name, img, sha512, match, flavor, minDisk: (img && img.min_disk) ?? body.min_disk, minRam: (img && img.min_ram) ?? body.min_ram ?? 0 });
      return match;
    },
    fail(e, context) {
      mark('error', 'failed');
      alert.show(context || `Sending ${name}`, e);
      setUploadState('error');
    },
    /** The streamed upload was refused by the browser: convert into OPFS and send the file. */
    async fallBack(reason) {
      explain('file', `streaming failed: ${reason}`);
      handle.mode = 'file';
      mark('running', 'converting…');
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
        handle.fail(e, `Creating the image ${name}`);
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

function showImageStatus({ id, name, img, sha512, match, flavor, minDisk, minRam }) {
  const el = h('div', {
    class: `image-status ${match ? 'ok' : 'bad'}`, 'data-testid': 'image-status', role: 'status',
    dataset: { imageId: id, hashMatch: String(match), status: (img && img.status) || '' },
  });
  el.append(h('p', {}, h('strong', {}, `Image ${name}`), ` (${id}): ${(img && img.status) || 'unknown'}, ${bytes(img && img.size)}.`));
  el.append(h('p', {}, match
    ? 'Glance’s os_hash_value equals the SHA-512 computed in this browser: the image holds exactly the converted bytes.'
    : `Glance’s hash (${(img && img.os_hash_algo) || '?'}) ${(img && img.os_hash_value) || 'is missing'} differs from the SHA-512 computed here (${sha512}). Do not launch it: send it again.`));
  el.append(h('p', { class: 'mono hint' }, `sha512 ${sha512}`));
  $('images').append(el);
  launch.addImage({ id, name, status: img && img.status, match, flavor, minDisk, minRam });
}
