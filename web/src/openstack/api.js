// The edge worker's API (`/api` on the page's own origin: edge-worker/README.md) as a client,
// and the decisions the OpenStack panels take on its answers: the Glance image to create, the
// upload path, the flavor to preselect, the server to launch. No DOM here: node runs its tests
// (web/tests/unit/api.test.mjs); the panels (login.js, upload.js, launch.js) render.
import { errorText } from '../error.js';
import { has, t } from '../i18n/index.js';
import { sentence } from '../i18n/sentence.js';

const GIB = 1024 ** 3;
/** What an API error keeps of a body that is not JSON (an HTML error page, a proxy's text). */
const TEXT_LIMIT = 300;

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

/**
 * The technical line of an error, in English as the worker and the CLI word it: `error: detail
 * (OpenStack answered HTTP n)`; a converter error keeps its file and offset. The page shows it
 * only inside a details disclosure, under the plain sentence of `apiMessage`.
 */
export function apiErrorText(e) {
  if (e instanceof ApiError) {
    return `${e.error}: ${e.detail || '(no detail)'}${e.upstream_status ? ` (OpenStack answered HTTP ${e.upstream_status})` : ''}${e.image_deleted ? ' — the image was deleted' : ''}`;
  }
  if (e && typeof e === 'object' && 'kind' in e) return `${e.kind}: ${errorText(e)}`;
  return String((e && e.message) || e);
}

/**
 * An error as a person reads it, in the page's language: `{code, text, details}`. `text` is
 * the plain sentence (what happened, what to do) from `api.<code>` (the worker's codes and the
 * client's own `network`, `aborted`, `http_<status>`), or from the core's `error.<code>` for a
 * converter error; `details` the technical line (`apiErrorText`) for a disclosure.
 */
export function apiMessage(e) {
  const details = apiErrorText(e);
  if (e instanceof ApiError) {
    const code = e.error;
    let text;
    if (has(`api.${code}`)) text = t(`api.${code}`);
    // The staged routes' own codes (openstack/staged.js) have their sentences under `staged.api.`.
    else if (has(`staged.api.${code}`)) text = t(`staged.api.${code}`);
    else if (/^http_\d+$/.test(code)) text = t('api.http', { status: String(e.status) });
    else text = t('api.unknown');
    if (e.image_deleted) text += ` ${t('api.image_deleted')}`;
    return { code, text, details };
  }
  if (e && typeof e === 'object' && 'kind' in e) return { code: e.code || e.kind, text: sentence(e), details };
  return { code: '', text: t('api.unknown'), details };
}

function parse(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * A client of the API at `base` (resolved against `origin`, the page's URL). `fetch` and
 * `XMLHttpRequest` are the browser's unless given; `onUnauthorized()` runs when a call other
 * than the login is answered 401 (the session is over). Every call resolves to the answer's
 * JSON or rejects with an ApiError. State changes carry `X-Stackferry: 1` (the worker's CSRF
 * check); the session is the worker's HttpOnly cookie (`credentials: 'same-origin'`).
 */
export function createApi({
  base = '/api/', origin = globalThis.location && globalThis.location.href,
  fetch = (...a) => globalThis.fetch(...a), XMLHttpRequest = globalThis.XMLHttpRequest, onUnauthorized = () => {},
} = {}) {
  /**
   * `body`: JSON, or with `bytes` a Blob sent as it is; `token`: a staged upload's
   * `X-Upload-Token`; `signal` stops the request (an ApiError `aborted`).
   */
  async function call(method, path, body, { bytes = false, token, signal } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-Stackferry'] = '1';
    if (body !== undefined) headers['Content-Type'] = bytes ? 'application/octet-stream' : 'application/json';
    if (token) headers['X-Upload-Token'] = token;
    let r;
    try {
      r = await fetch(base + path, {
        method, headers, credentials: 'same-origin', cache: 'no-store', signal,
        body: body === undefined || bytes ? body : JSON.stringify(body),
      });
    } catch (e) {
      if (signal && signal.aborted) throw new ApiError(0, { error: 'aborted', detail: 'the request was stopped' });
      throw new ApiError(0, { error: 'network', detail: `the stackferry API could not be reached: ${e.message}` });
    }
    const text = await r.text();
    const json = parse(text);
    if (!r.ok) {
      if (r.status === 401 && path !== 'login') onUnauthorized();
      throw new ApiError(r.status, json || text.slice(0, TEXT_LIMIT));
    }
    return json;
  }

  return {
    /**
     * Whether this page is served with the API, and the live session if any: `{available,
     * session}`. A static server without the worker answers 404 (or the page) here.
     */
    async probe() {
      try {
        const r = await fetch(`${base}session`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
        const json = r.headers.get('content-type')?.includes('json') ? await r.json().catch(() => null) : null;
        const available = r.status === 200 || (r.status === 401 && !!json && 'error' in json);
        return { available, session: r.status === 200 && json ? json : null };
      } catch {
        return { available: false, session: null };
      }
    },
    /** Resolves to the session (`{user, project, region, regions, expires_at}`). */
    login: (body) => call('POST', 'login', body),
    logout: () => call('POST', 'logout'),
    createImage: (body) => call('POST', 'images', body),
    image: (id) => call('GET', `images/${id}`),
    deleteImage: (id) => call('DELETE', `images/${id}`),
    /** The absolute URL an image's bytes are PUT to (the writer worker streams there). */
    imageFileUrl: (id) => new URL(`${base}images/${id}/file`, origin).href,
    /** `what`: flavors, networks, keypairs or security-groups. */
    list: (what) => call('GET', what),
    createServer: (body) => call('POST', 'servers', body),
    server: (id) => call('GET', `servers/${id}`),
    /** A server deleted (Nova finishes it asynchronously: `server(id)` answers 404 then). */
    deleteServer: (id) => call('DELETE', `servers/${id}`),
    console: (id) => call('GET', `servers/${id}/console`),

    // Cinder and the project's room (issue 12; the worker's routes in edge-worker/README.md).
    /** `{volume_types: [{id, name, description, default}]}`. */
    volumeTypes: () => call('GET', 'volume-types'),
    /** What the project may still create: `{compute, volume, image}`, each section or null. */
    limits: () => call('GET', 'limits'),
    /** Glance's stores: `{stores: [{id, default, type}]}` (empty: one store). */
    stores: () => call('GET', 'stores'),
    /** `{name, image_id, size_gib, volume_type?, description?}` → `{id}` (Cinder makes it from the image). */
    createVolume: (body) => call('POST', 'volumes', body),
    /** `{id, name, status, size_gib, bootable, volume_type, attachments, error}`. */
    volume: (id) => call('GET', `volumes/${id}`),
    deleteVolume: (id) => call('DELETE', `volumes/${id}`),

    // A staged upload (openstack/staged.js; the worker's routes in edge-worker/README.md).
    /** `{size, sha512}` → `{upload (the token), part_size, parts}`. */
    createStaged: (id, body) => call('POST', `images/${id}/staged`, body),
    /** Part `n` (a Blob: its length is the request's) → `{part, etag}`. */
    putPart: (id, n, token, blob, signal) => call('PUT', `images/${id}/staged/${n}`, blob, { bytes: true, token, signal }),
    /** All parts in (`[{part, etag}]`): the worker puts them together and Glance imports them. */
    completeStaged: (id, token, parts) => call('POST', `images/${id}/staged/complete`, { upload: token, parts }),
    /** `{state: uploading|importing|active|failed, reason, image}`. */
    stagedStatus: (id, token) => call('GET', `images/${id}/staged`, undefined, { token }),
    /** Abort the staged upload and delete its image. */
    deleteStaged: (id, token) => call('DELETE', `images/${id}/staged`, undefined, { token }),

    /**
     * PUT a finished file (a disk-backed OPFS File) as image `id`'s bytes, with
     * XMLHttpRequest: `Content-Length` is its size and upload events give `onProgress(sent,
     * total)`. Returns `{xhr, done}`: `done` resolves to the API's answer; `xhr.abort()` stops it.
     */
    uploadFile(id, file, onProgress) {
      const xhr = new XMLHttpRequest();
      const done = new Promise((resolve, reject) => {
        xhr.open('PUT', `${base}images/${id}/file`);
        xhr.setRequestHeader('X-Stackferry', '1');
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.responseType = 'text';
        xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
        xhr.onload = () => {
          const json = parse(xhr.responseText);
          if (xhr.status >= 200 && xhr.status < 300) {
            onProgress(file.size, file.size);
            resolve(json);
          } else {
            reject(new ApiError(xhr.status, json || xhr.responseText.slice(0, TEXT_LIMIT)));
          }
        };
        xhr.onerror = () => reject(new ApiError(0, { error: 'network', detail: 'the upload failed (connection lost)' }));
        xhr.onabort = () => reject(new ApiError(0, { error: 'aborted', detail: 'the upload was stopped' }));
        xhr.send(file);
      });
      return { xhr, done };
    },
  };
}

/**
 * Which upload path to take, and why: `{mode: 'stream'|'file', reason, protocol}`, from
 * `forced` (`?upload=`), whether the browser can stream a request body (`streams`) and the
 * protocol the page came over (`protocol`: the navigation's nextHopProtocol). Browsers stream
 * a request body only over HTTP/2 or HTTP/3. `reason` (forced, no_streams, fast_connection,
 * slow_connection) names the catalogue's `cloud.upload.why.<reason>`.
 */
export function uploadMode({ forced, streams, protocol }) {
  const p = protocol || '';
  if (forced === 'file') return { mode: 'file', reason: 'forced', protocol: p };
  if (!streams) return { mode: 'file', reason: 'no_streams', protocol: p };
  if (forced === 'stream') return { mode: 'stream', reason: 'forced', protocol: p };
  if (/^(h2|h3|hq)/.test(p)) return { mode: 'stream', reason: 'fast_connection', protocol: p };
  return { mode: 'file', reason: 'slow_connection', protocol: p };
}

/**
 * The Glance image for a converted disk: `min_disk` the edited suggestion or the virtual size
 * rounded up to GiB, `min_ram` if suggested, the non-empty edited properties.
 */
export function imageBody({ name, format, shape, props, virtualSize }) {
  const properties = {};
  for (const p of props || []) if (p.key && p.value !== '' && p.value != null) properties[p.key] = String(p.value);
  const minDisk = shape && shape.min_disk != null ? shape.min_disk : Math.ceil(virtualSize / GIB);
  const body = { name, disk_format: format === 'raw' ? 'raw' : 'qcow2', container_format: 'bare', min_disk: minDisk, properties };
  if (shape && shape.min_ram != null) body.min_ram = shape.min_ram;
  return body;
}

/**
 * The shape a server of image `img` (`{flavor, minRam, minDisk}`) needs: the suggested flavor,
 * and never less than the image's own minimums (Nova checks those). `{vcpus, ram, disk}` in
 * Nova's units (MiB, GiB).
 */
export function flavorWant(img) {
  const f = img.flavor || {};
  return {
    vcpus: f.vcpus || 1,
    ram: Math.max(f.ram_mib || 0, img.minRam || 0),
    disk: Math.max(f.disk_gib || 0, img.minDisk || 0),
  };
}

/** The flavor closest to the wanted shape that is at least as large in every dimension. */
export function closestFlavor(flavors, want) {
  const fits = flavors.filter((f) => f.vcpus >= (want.vcpus || 0) && f.ram >= (want.ram || 0) && f.disk >= (want.disk || 0));
  if (!fits.length) return null;
  const rel = (have, w) => (have - w) / Math.max(w, 1);
  const score = (f) => rel(f.vcpus, want.vcpus || 0) + rel(f.ram, want.ram || 0) + rel(f.disk, want.disk || 0);
  return fits.slice().sort((a, b) => score(a) - score(b) || a.ram - b.ram || a.name.localeCompare(b.name))[0];
}

/**
 * `POST /api/servers`'s body from the launch form: empty choices are left to Nova (its
 * network, no key pair, the project's default group). `volumes` (`[{id, boot,
 * delete_on_termination}]`, in the order they are attached): with a boot volume there is no
 * image (the worker refuses both).
 */
export function serverBody({ name, imageId, flavorId, networkId, keyName, groups, volumes }) {
  const list = (volumes || []).map((v) => ({ id: v.id, boot: !!v.boot, delete_on_termination: !!v.delete_on_termination }));
  const body = { name: name || 'stackferry', flavor_id: flavorId };
  if (!list.some((v) => v.boot)) body.image_id = imageId;
  if (list.length) body.volumes = list;
  if (networkId) body.network_id = networkId;
  if (keyName) body.key_name = keyName;
  if (groups && groups.length) body.security_groups = groups;
  return body;
}
