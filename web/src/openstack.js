// The OpenStack side of the page, talking to the edge worker's API (same origin, /api):
// login (password or application credential; no password or secret is kept anywhere after
// the request: the session is an HttpOnly cookie the page never sees), the upload of a
// converted disk into a new Glance image (streamed while converting where the browser can,
// otherwise from the finished OPFS file), the hash check, and the launch of a server with its
// status, console and the checklist's last steps.
//
// Upload paths (see web/README.md):
// - "stream": the converter's output goes straight into PUT /api/images/{id}/file as a
//   ReadableStream request body while converting (save-worker.js). Chromium sends such bodies
//   only over HTTP/2 or HTTP/3, so this is used when the page came over h2/h3 (Cloudflare,
//   workerd behind a TLS proxy) and the browser supports request streams;
// - "file": otherwise (HTTP/1.1, e.g. http://127.0.0.1 from workerd directly; Firefox, Safari):
//   the disk is converted into the Origin Private File System, then that File (disk-backed,
//   bounded memory) is sent with XMLHttpRequest (its length as Content-Length, progress from
//   upload events).
// `?upload=stream|file` forces one.
import { h, bytes, duration, errorText } from './util.js';
import * as checklist from './checklist.js';

const $ = (id) => document.getElementById(id);
const API = '/api/';
const POLL_MS = 2000;
/** Give up polling a server after this long (Nova's own boot timeouts are shorter). */
const POLL_LIMIT_MS = 15 * 60 * 1000;
const GIB = 1024 ** 3;

const st = {
  session: null,
  available: null,
  onChange: () => {},
  /** Images sent in this tab: [{id, name, status, hashMatch, shape}]. */
  images: [],
  pollTimer: null,
  launchSeq: 0,
};

/** An API error: `{error, detail, upstream_status?}` from the worker, or a network failure. */
export class ApiError extends Error {
  constructor(status, body) {
    const b = body && typeof body === 'object' ? body : {};
    super(b.detail || b.error || `HTTP ${status}`);
    this.status = status;
    this.error = b.error || (status ? `http_${status}` : 'network');
    this.detail = b.detail || (typeof body === 'string' ? body : '');
    this.upstream_status = b.upstream_status;
    this.image_deleted = b.image_deleted;
  }
}

/** `error: detail (OpenStack answered HTTP n)`. */
export function apiErrorText(e) {
  if (e instanceof ApiError) {
    return `${e.error}: ${e.detail || '(no detail)'}${e.upstream_status ? ` (OpenStack answered HTTP ${e.upstream_status})` : ''}${e.image_deleted ? ' — the image was deleted' : ''}`;
  }
  // A converter error: keep the file and offset it names.
  if (e && typeof e === 'object' && 'kind' in e) return `${e.kind}: ${errorText(e)}`;
  return String((e && e.message) || e);
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Stackferry'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(API + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, { error: 'network', detail: `the stackferry API could not be reached: ${e.message}` });
  }
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) {
    if (r.status === 401 && path !== 'login') setSession(null);
    throw new ApiError(r.status, json || text.slice(0, 300));
  }
  return json;
}

// ---------------------------------------------------------------------------------------------
// Session

export function session() {
  return st.session;
}

function setSession(s) {
  st.session = s;
  renderSession();
  st.onChange(s);
}

function renderSession() {
  const s = st.session;
  const form = $('login-form');
  const box = $('session');
  form.hidden = !!s || st.available === false;
  box.hidden = !s;
  $('os-panel').hidden = !s;
  if (s) {
    const exp = s.expires_at ? new Date(s.expires_at) : null;
    $('session-user').textContent = s.user ? `${s.user.name}${s.user.domain && s.user.domain.name ? ` (${s.user.domain.name})` : ''}` : '?';
    $('session-project').textContent = s.project ? s.project.name : '?';
    $('session-expiry').textContent = exp && !Number.isNaN(exp.getTime()) ? `${exp.toLocaleString()} (in ${duration((exp - Date.now()) / 1000)})` : 'unknown';
    $('session-expiry').dataset.expiresAt = s.expires_at || '';
    $('session-region').textContent = s.region || (s.regions || []).join(', ') || '–';
  }
}

function loginError(e) {
  const p = $('login-error');
  if (!e) {
    p.hidden = true;
    p.textContent = '';
    delete p.dataset.error;
    return;
  }
  p.textContent = `Login failed — ${apiErrorText(e)}`;
  p.dataset.error = e.error || '';
  p.hidden = false;
}

async function login(ev) {
  ev.preventDefault();
  const form = $('login-form');
  const f = new FormData(form);
  const method = f.get('method');
  const body = {};
  const opt = (k) => {
    const v = String(f.get(k) || '').trim();
    if (v) body[k] = v;
  };
  if (method === 'appcred') {
    opt('application_credential_id');
    body.application_credential_secret = String(f.get('application_credential_secret') || '');
  } else {
    opt('username');
    body.password = String(f.get('password') || '');
    opt('project');
    opt('user_domain');
    opt('project_domain');
  }
  opt('auth_url');
  opt('region');
  // Secrets leave the form at once: nothing keeps them (not the DOM, not storage).
  form.elements.password.value = '';
  form.elements.application_credential_secret.value = '';
  const btn = $('login-button');
  btn.disabled = true;
  loginError(null);
  try {
    const s = await api('POST', 'login', body);
    setSession(s);
    $('send-status').textContent = '';
  } catch (e) {
    loginError(e);
  } finally {
    btn.disabled = false;
  }
}

async function logout() {
  try {
    await api('POST', 'logout');
  } catch (e) {
    showOsError('Logging out', e);
  }
  stopPolling();
  setSession(null);
}

function setMethod() {
  const app = $('login-form').elements.method.value === 'appcred';
  $('login-password').hidden = app;
  $('login-appcred').hidden = !app;
  for (const el of $('login-password').querySelectorAll('input')) el.disabled = app;
  for (const el of $('login-appcred').querySelectorAll('input')) el.disabled = !app;
}

/** Wire the login form and restore a live session. `onChange(session|null)`. */
export async function setup({ onChange }) {
  st.onChange = onChange || (() => {});
  const form = $('login-form');
  form.addEventListener('submit', login);
  for (const r of form.querySelectorAll('input[name=method]')) r.addEventListener('change', setMethod);
  setMethod();
  $('logout-button').addEventListener('click', logout);
  $('launch-button').addEventListener('click', launch);
  $('launch-image').addEventListener('change', preselectFlavor);
  // The checklist's last steps, as the checklist words them.
  const steps = checklist.ITEMS.filter((it) => it.id === 'power-off' || it.id === 'verify');
  $('after-launch-steps').replaceChildren(...steps.map((it) => h('li', { dataset: { item: it.id } }, it.text)));
  try {
    const r = await fetch(`${API}session`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    const json = r.headers.get('content-type')?.includes('json') ? await r.json().catch(() => null) : null;
    // The static server without the worker answers 404 (or the page) here.
    st.available = r.status === 200 || (r.status === 401 && !!json && 'error' in json);
    if (r.status === 200 && json) st.session = json;
  } catch {
    st.available = false;
  }
  $('os-unavailable').hidden = st.available;
  document.body.dataset.openstack = st.available ? 'available' : 'unavailable';
  renderSession();
  st.onChange(st.session);
}

// ---------------------------------------------------------------------------------------------
// Upload

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

/** Which upload path to take, and why: `{mode: 'stream'|'file', why}`. */
export function uploadMode() {
  const forced = new URLSearchParams(location.search).get('upload');
  const streams = requestStreams();
  const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
  const proto = (nav && nav.nextHopProtocol) || '';
  if (forced === 'file') return { mode: 'file', why: 'chosen with ?upload=file' };
  if (!streams) return { mode: 'file', why: 'this browser cannot stream a request body' };
  if (forced === 'stream') return { mode: 'stream', why: 'chosen with ?upload=stream' };
  if (/^(h2|h3|hq)/.test(proto)) return { mode: 'stream', why: `the page came over ${proto}` };
  return { mode: 'file', why: `the page came over ${proto || 'HTTP/1.1'}: browsers stream a request body only over HTTP/2 or HTTP/3` };
}

/** Glance image body for a converted disk. */
function imageBody({ name, format, shape, props, virtualSize }) {
  const properties = {};
  for (const p of props || []) if (p.key && p.value !== '' && p.value != null) properties[p.key] = String(p.value);
  const minDisk = shape && shape.min_disk != null ? shape.min_disk : Math.ceil(virtualSize / GIB);
  const body = { name, disk_format: format === 'raw' ? 'raw' : 'qcow2', container_format: 'bare', min_disk: minDisk, properties };
  if (shape && shape.min_ram != null) body.min_ram = shape.min_ram;
  return body;
}

function setUploadState(s, mode) {
  const box = $('upload-progress');
  box.dataset.state = s;
  if (mode) box.dataset.path = mode;
}

/**
 * Main thread, before converting a disk for sending: creates the Glance image and the progress
 * row. Resolves to a handle: `{imageId, mode, url, progress(sent, total), uploadFile(file),
 * finish(sha512, answer), fail(error), fallBack(reason)}`, or null after showing the error.
 */
export async function beginSend({ name, format, shape, props, virtualSize, flavor, label }) {
  $('os-error').hidden = true;
  const choice = uploadMode();
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
    id = (await api('POST', 'images', body)).id;
  } catch (e) {
    mark('error', 'failed');
    showOsError(`Creating the image ${name}`, e);
    setUploadState('error');
    return null;
  }
  row.dataset.imageId = id;
  mark('running', choice.mode === 'stream' ? 'converting and uploading…' : 'converting…');
  const handle = {
    imageId: id,
    mode: choice.mode,
    url: new URL(`${API}images/${id}/file`, location.href).href,
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
      const x = sendFile(id, file, (sent, total) => handle.progress(sent, total));
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
        img = await api('GET', `images/${id}`);
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
      showOsError(context || `Sending ${name}`, e);
      setUploadState('error');
    },
    /** The streamed upload was refused by the browser: convert into OPFS and send the file. */
    async fallBack(reason) {
      explain('file', `streaming failed: ${reason}`);
      handle.mode = 'file';
      mark('running', 'converting…');
      // The refused request never reached the worker: the image is still queued and takes data.
      try {
        const img = await api('GET', `images/${id}`);
        if (img.status === 'queued') return true;
      } catch { /* create a new one below */ }
      try {
        id = (await api('POST', 'images', body)).id;
        handle.imageId = id;
        handle.url = new URL(`${API}images/${id}/file`, location.href).href;
        row.dataset.imageId = id;
        return true;
      } catch (e) {
        handle.fail(e, `Creating the image ${name}`);
        return false;
      }
    },
    /** Conversion failed or was cancelled: do not leave a queued image behind. */
    async discard() {
      try { await api('DELETE', `images/${id}`); } catch { /* already gone */ }
    },
  };
  return handle;
}

/** The "file" path: PUT the OPFS File with XMLHttpRequest (Content-Length = its size; progress events). */
function sendFile(id, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('PUT', `${API}images/${id}/file`);
    xhr.setRequestHeader('X-Stackferry', '1');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(json);
      } else {
        reject(new ApiError(xhr.status, json || xhr.responseText.slice(0, 300)));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, { error: 'network', detail: 'the upload failed (connection lost)' }));
    xhr.onabort = () => reject(new ApiError(0, { error: 'aborted', detail: 'the upload was stopped' }));
    xhr.send(file);
  });
  return { xhr, done };
}

/** All uploads of a Send are over. */
export function sendFinished(ok) {
  setUploadState(ok ? 'done' : 'error');
}

/** Clear the previous Send's rows. */
export function resetSend() {
  $('upload-progress').replaceChildren();
  setUploadState('idle');
  $('os-error').hidden = true;
}

function showImageStatus({ id, name, img, sha512, match, flavor, minDisk, minRam }) {
  const box = $('images');
  const el = h('div', {
    class: `image-status ${match ? 'ok' : 'bad'}`, 'data-testid': 'image-status', role: 'status',
    dataset: { imageId: id, hashMatch: String(match), status: (img && img.status) || '' },
  });
  el.append(h('p', {}, h('strong', {}, `Image ${name}`), ` (${id}): ${(img && img.status) || 'unknown'}, ${bytes(img && img.size)}.`));
  el.append(h('p', {}, match
    ? 'Glance’s os_hash_value equals the SHA-512 computed in this browser: the image holds exactly the converted bytes.'
    : `Glance’s hash (${(img && img.os_hash_algo) || '?'}) ${(img && img.os_hash_value) || 'is missing'} differs from the SHA-512 computed here (${sha512}). Do not launch it: send it again.`));
  el.append(h('p', { class: 'mono hint' }, `sha512 ${sha512}`));
  box.append(el);
  st.images.push({ id, name, status: img && img.status, match, flavor, minDisk, minRam });
  if (match && img && img.status === 'active') showLaunch();
}

// ---------------------------------------------------------------------------------------------
// Launch

async function showLaunch() {
  const panel = $('launch');
  panel.hidden = false;
  const sel = $('launch-image');
  const current = sel.value;
  sel.replaceChildren(...st.images.filter((i) => i.match && i.status === 'active').map((i) => h('option', { value: i.id }, `${i.name} (${i.id.slice(0, 8)})`)));
  if (current && [...sel.options].some((o) => o.value === current)) sel.value = current;
  if (!$('launch-name').value) $('launch-name').value = st.images[0] ? st.images[0].name : 'stackferry';
  const seq = ++st.launchSeq;
  const [flavors, networks, keypairs, groups] = await Promise.all(['flavors', 'networks', 'keypairs', 'security-groups'].map((p) => api('GET', p).catch((e) => {
    showOsError(`Listing ${p}`, e);
    return [];
  })));
  if (seq !== st.launchSeq) return;
  st.flavors = flavors;
  $('launch-flavor').replaceChildren(...flavors.slice().sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk)
    .map((f) => h('option', { value: f.id }, `${f.name} · ${f.vcpus} vCPU · ${bytes(f.ram * 1048576)} RAM · ${f.disk} GiB disk`)));
  const nets = networks.slice().sort((a, b) => Number(a.external) - Number(b.external) || a.name.localeCompare(b.name));
  $('launch-network').replaceChildren(
    ...nets.map((n) => h('option', { value: n.id }, `${n.name || n.id}${n.external ? ' (external)' : ''}${n.shared ? ' (shared)' : ''}${n.subnets && n.subnets.length ? '' : ' — no subnet'}`)),
    h('option', { value: '' }, 'None chosen: let Nova pick (auto)'));
  $('launch-keypair').replaceChildren(h('option', { value: '' }, 'No key pair'), ...keypairs.map((k) => h('option', { value: k.name }, k.name)));
  const box = $('launch-groups');
  box.replaceChildren(...groups.map((g, i) => {
    const id = `sg-${i}`;
    return h('span', { class: 'field' }, h('input', { type: 'checkbox', id, value: g.name, checked: g.name === 'default' }), h('label', { for: id }, ` ${g.name}`));
  }));
  if (!groups.length) box.append(h('span', { class: 'hint' }, 'none listed (Nova uses the project’s default group)'));
  preselectFlavor();
  $('launch-button').disabled = !flavors.length || !sel.value;
}

/** The flavor closest to the wanted shape that is at least as large in every dimension. */
export function closestFlavor(flavors, want) {
  const fits = flavors.filter((f) => f.vcpus >= (want.vcpus || 0) && f.ram >= (want.ram || 0) && f.disk >= (want.disk || 0));
  if (!fits.length) return null;
  const rel = (have, w) => (have - w) / Math.max(w, 1);
  const score = (f) => rel(f.vcpus, want.vcpus || 0) + rel(f.ram, want.ram || 0) + rel(f.disk, want.disk || 0);
  return fits.slice().sort((a, b) => score(a) - score(b) || a.ram - b.ram || a.name.localeCompare(b.name))[0];
}

function preselectFlavor() {
  const img = st.images.find((i) => i.id === $('launch-image').value) || st.images[0];
  const hint = $('launch-flavor-hint');
  if (!img || !st.flavors) return;
  const f = img.flavor || {};
  // The suggested shape, and never less than the image's own minimums (Nova checks those).
  const want = {
    vcpus: f.vcpus || 1,
    ram: Math.max(f.ram_mib || 0, img.minRam || 0),
    disk: Math.max(f.disk_gib || 0, img.minDisk || 0),
  };
  const best = closestFlavor(st.flavors, want);
  const wantText = `${want.vcpus} vCPU, ${want.ram ? `${bytes(want.ram * 1048576)} RAM` : 'any RAM'}, ${want.disk} GiB disk`;
  if (best) {
    $('launch-flavor').value = best.id;
    hint.textContent = `Suggested: ${best.name}, the closest flavor with at least ${wantText}.`;
  } else {
    hint.textContent = `No flavor has at least ${wantText}; pick one (Nova refuses a flavor smaller than the image’s min_disk / min_ram).`;
  }
}

function stopPolling() {
  if (st.pollTimer) clearTimeout(st.pollTimer);
  st.pollTimer = null;
}

function setServerStatus(status, text, extra) {
  const el = $('server-status');
  el.hidden = false;
  el.dataset.status = status;
  el.replaceChildren(h('strong', {}, status), text ? ` — ${text}` : '', ...(extra || []));
}

async function launch() {
  const body = {
    name: $('launch-name').value.trim() || 'stackferry',
    image_id: $('launch-image').value,
    flavor_id: $('launch-flavor').value,
  };
  const net = $('launch-network').value;
  if (net) body.network_id = net;
  const key = $('launch-keypair').value;
  if (key) body.key_name = key;
  const groups = [...$('launch-groups').querySelectorAll('input:checked')].map((c) => c.value);
  if (groups.length) body.security_groups = groups;
  stopPolling();
  $('os-error').hidden = true;
  $('console').replaceChildren();
  $('after-launch').hidden = true;
  const btn = $('launch-button');
  btn.disabled = true;
  setServerStatus('REQUESTED', 'asking Nova…');
  let id;
  try {
    id = (await api('POST', 'servers', body)).id;
  } catch (e) {
    setServerStatus('ERROR', apiErrorText(e));
    showOsError('Launching the server', e);
    btn.disabled = false;
    return;
  }
  $('server-status').dataset.serverId = id;
  const t0 = Date.now();
  const poll = async () => {
    let s;
    try {
      s = await api('GET', `servers/${id}`);
    } catch (e) {
      setServerStatus('UNKNOWN', `could not read the server: ${apiErrorText(e)}`);
      btn.disabled = false;
      return;
    }
    const task = s.task_state ? ` (${s.task_state})` : '';
    if (s.status === 'ACTIVE') {
      const addrs = Object.entries(s.addresses || {}).map(([n, list]) => `${n}: ${list.map((a) => a.addr).join(', ')}`).join('; ');
      setServerStatus('ACTIVE', `server ${s.name} (${id}) is running${addrs ? `; addresses ${addrs}` : ''}.`);
      btn.disabled = false;
      await showConsole(id);
      $('after-launch').hidden = false;
      return;
    }
    if (s.status === 'ERROR') {
      const fault = s.fault ? `${s.fault.message}${s.fault.code ? ` (code ${s.fault.code})` : ''}` : 'Nova gave no reason';
      setServerStatus('ERROR', `Nova could not start server ${s.name} (${id}): ${fault}`);
      $('server-status').dataset.fault = s.fault ? s.fault.message : '';
      btn.disabled = false;
      return;
    }
    setServerStatus(s.status || 'UNKNOWN', `waiting for ACTIVE${task}… ${duration((Date.now() - t0) / 1000)}`);
    if (Date.now() - t0 > POLL_LIMIT_MS) {
      setServerStatus(s.status || 'UNKNOWN', `still not ACTIVE after ${duration(POLL_LIMIT_MS / 1000)}; check the server in OpenStack`);
      btn.disabled = false;
      return;
    }
    st.pollTimer = setTimeout(poll, POLL_MS);
  };
  poll();
}

async function showConsole(id) {
  const box = $('console');
  try {
    const c = await api('GET', `servers/${id}/console`);
    if (c && c.url) {
      box.replaceChildren('Console: ', h('a', { href: c.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'console-link' }, `open the ${c.protocol || ''} ${c.type || ''} console`.replace(/\s+/g, ' ')));
    } else {
      box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, `No console: ${(c && c.reason) || 'the cloud offers none'}`));
    }
  } catch (e) {
    box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, `No console: ${apiErrorText(e)}`));
  }
}

// ---------------------------------------------------------------------------------------------

/** An OpenStack error in the panel's alert box: the API's error and detail. */
export function showOsError(context, e) {
  const box = $('os-error');
  box.replaceChildren(h('strong', {}, `${context}: `), h('span', {}, apiErrorText(e)));
  box.dataset.error = (e && (e.error || e.kind)) || '';
  box.hidden = false;
}
