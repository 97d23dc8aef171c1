// A whole-VM migration after its images are in Glance (issue 12): a Cinder volume made from
// each image whose disk's target is a volume (a row per volume in `#volume-progress`, polled
// until `available`; `error` shows Cinder's own message), the intermediate image deleted once
// its volume is available (the row says so), then the launch form offered with the volumes
// (openstack/launch.js). Any failure deletes what the migration created so far — volumes and
// images — and says so in `#migration-status`. Test hooks: data-testid volume-row
// (data-volume-id, data-state, data-image-deleted), migration-status (data-state).
import { $, h } from '../util.js';
import { bytes, duration, onLangChange, t } from '../i18n/index.js';
import { ApiError } from './api.js';
import * as alert from './alert.js';
import * as launch from './launch.js';
import { volumesToMake } from './migration.js';

const POLL_MS = 2000;
/** Give up waiting for a volume after this long (Cinder copies the whole image). */
const VOLUME_LIMIT_MS = 30 * 60 * 1000;
/** How long a volume still being made may refuse its deletion (Cinder deletes only settled volumes). */
const DELETE_WAIT_MS = 5 * 60 * 1000;
/** How often an image's deletion is tried when Glance fails transiently. */
const DELETE_TRIES = 4;

let api = null;
/** What `#migration-status` says: `{state, key, params}` or null. */
let said = null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function setup(client) {
  api = client;
}

/**
 * A migration begins (before its first image is made): `{plan, disks, deleteOnTermination,
 * flavor}` from the preflight (openstack/disks.js) and `vm`, its name. Returns its record,
 * with what it made: `images` (disk index → `{id, name}`), `volumes` (disk index → id),
 * `names` (volume id → name).
 */
export function begin(pre) {
  $('volume-progress').replaceChildren();
  status(null);
  launch.holdForMigration();
  return { ...pre, images: new Map(), volumes: new Map(), names: new Map(), cleaned: false };
}

/** Disk `index`'s image `id` named `name` was made in Glance: the migration's, deleted on a failure. */
export function imageMade(m, index, id, name) {
  m.images.set(index, { id, name });
}

function status(s) {
  said = s;
  const el = $('migration-status');
  if (!s) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  el.dataset.state = s.state;
  el.textContent = t(s.key, s.params);
}

onLangChange(() => said && status(said));

/** A row for the volume of disk `name`: its state, words and time, re-rendered on a language switch. */
function volumeRow(name, v) {
  const text = h('span', { class: 'status-text' });
  const row = h('div', { class: 'upload volume', 'data-testid': 'volume-row', dataset: { disk: v.index, state: 'creating' } },
    h('div', { class: 'line' }, h('strong', {}, t('volumes.row.title', { name, size: bytes(v.gib * 1024 ** 3) })), ' ', text));
  const view = { key: 'volumes.row.creating', params: {} };
  const render = () => {
    row.querySelector('strong').textContent = t('volumes.row.title', { name, size: bytes(v.gib * 1024 ** 3) });
    text.textContent = t(view.key, view.params);
  };
  render();
  const unlisten = onLangChange(() => (row.isConnected ? render() : unlisten()));
  $('volume-progress').append(row);
  return {
    row,
    mark(state, key, params = {}) {
      row.dataset.state = state;
      Object.assign(view, { key, params });
      render();
    },
  };
}

/**
 * Make the volumes of migration `m` from its images, wait for them, delete the images made
 * only for them, and offer the launch. Resolves to whether all went well; on a failure,
 * everything `m` made is deleted first.
 */
export async function makeVolumes(m) {
  const todo = volumesToMake(m.plan, m.disks);
  const rows = new Map();
  for (const v of todo) {
    const img = m.images.get(v.index);
    const ui = volumeRow(img.name, v);
    rows.set(v.index, ui);
    try {
      const body = { name: img.name, image_id: img.id, size_gib: v.gib, description: t('volumes.description') };
      if (v.type) body.volume_type = v.type;
      const { id } = await api.createVolume(body);
      m.volumes.set(v.index, id);
      m.names.set(id, img.name);
      ui.row.dataset.volumeId = id;
    } catch (e) {
      ui.mark('error', 'volumes.row.refused');
      alert.show('volumes.do.create', { name: img.name }, e);
      await cleanUp(m);
      return false;
    }
  }
  const t0 = Date.now();
  const results = await Promise.all(todo.map((v) => follow(m, v, rows.get(v.index), t0)));
  if (results.some((ok) => !ok)) {
    await cleanUp(m);
    return false;
  }
  launch.migrationReady(m);
  status({ state: 'ready', key: 'volumes.status.ready', params: { count: todo.length } });
  return true;
}

/** Poll volume `v` of `m` until available (then its image goes) or error. */
async function follow(m, v, ui, t0) {
  const id = m.volumes.get(v.index);
  const img = m.images.get(v.index);
  for (;;) {
    if (m.cleaned) return false;
    let vol;
    try {
      vol = await api.volume(id);
    } catch (e) {
      ui.mark('error', 'volumes.row.unreadable');
      alert.show('volumes.do.follow', { name: img.name }, e);
      return false;
    }
    if (vol.status === 'available') break;
    if (/^error/.test(vol.status || '')) {
      ui.mark('error', vol.error ? 'volumes.row.error' : 'volumes.row.errorNoReason', { message: vol.error || '' });
      ui.row.dataset.error = vol.error || '';
      alert.show('volumes.do.follow', { name: img.name }, new ApiError(0, { error: 'volume_error', detail: vol.error || `Cinder set the volume's status to ${vol.status}` }));
      return false;
    }
    if (Date.now() - t0 > VOLUME_LIMIT_MS) {
      ui.mark('error', 'volumes.row.timeout', { time: duration(VOLUME_LIMIT_MS / 1000) });
      return false;
    }
    ui.mark('creating', 'volumes.row.waiting', { status: vol.status || '?', time: duration((Date.now() - t0) / 1000) });
    await sleep(POLL_MS);
  }
  // Available: the image was only a way into Cinder.
  if (await deleteImage(img.id)) {
    m.images.delete(v.index);
    ui.row.dataset.imageDeleted = 'true';
    ui.mark('available', 'volumes.row.availableImageDeleted', { image: img.name });
  } else {
    ui.mark('available', 'volumes.row.availableImageKept', { image: img.name });
  }
  return true;
}

/** Whether a failed call may succeed when tried again: the connection, or the cloud's own trouble (5xx). */
function transient(e) {
  return e instanceof ApiError && (e.status === 0 || e.status >= 500) && e.error !== 'aborted';
}

/**
 * Delete image `id`; whether it is gone. A transient failure is tried again (Glance answers
 * 500 when its database is busy with another deletion); an error answer is checked against
 * Glance: an image already deleted (404, or `deleted` while Glance delays deletions) counts as
 * gone.
 */
async function deleteImage(id) {
  let gone = false;
  for (let k = 0; k < DELETE_TRIES && !gone; k++) {
    try {
      await api.deleteImage(id);
      gone = true;
    } catch (e) {
      try {
        const img = await api.image(id);
        gone = img.status === 'deleted' || img.status === 'pending_delete';
      } catch (g) {
        gone = g instanceof ApiError && g.status === 404;
      }
      if (gone || !transient(e)) break;
      await sleep(POLL_MS * (k + 1));
    }
  }
  if (gone) launch.removeImage(id);
  return gone;
}

/**
 * Delete volume `id`, waiting while Cinder refuses because it is still being made (400, 409)
 * or is briefly in trouble (5xx).
 */
async function deleteVolume(id) {
  const t0 = Date.now();
  for (;;) {
    try {
      await api.deleteVolume(id);
      return true;
    } catch (e) {
      const again = e instanceof ApiError && ([400, 409].includes(e.status) || transient(e));
      if (!again || Date.now() - t0 > DELETE_WAIT_MS) return false;
      await sleep(POLL_MS);
    }
  }
}

/**
 * Delete everything migration `m` made (its volumes, then its images) and say so: what was
 * deleted, or what could not be (named, to delete by hand).
 */
export async function cleanUp(m) {
  if (m.cleaned) return;
  m.cleaned = true;
  status({ state: 'cleaning', key: 'volumes.status.cleaning', params: {} });
  const left = [];
  let volumes = 0;
  let images = 0;
  for (const id of m.volumes.values()) {
    if (await deleteVolume(id)) volumes++;
    else left.push(id);
  }
  for (const img of m.images.values()) {
    if (await deleteImage(img.id)) images++;
    else left.push(img.id);
  }
  m.volumes.clear();
  m.images.clear();
  launch.migrationGone();
  status(left.length
    ? { state: 'left', key: 'volumes.status.left', params: { volumes, images, ids: left.join(', ') } }
    : { state: 'cleaned', key: 'volumes.status.cleaned', params: { volumes, images } });
}
