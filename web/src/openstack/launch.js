// The OpenStack section's launch: once an image is active and its hash matches, flavor,
// network, key pair and security group pickers filled from the API (the preselected flavor the
// closest one that fits the suggested shape), a review card before Nova is asked, then the
// server's status polled until ACTIVE or ERROR, its console and the checklist's last steps.
// Everything shown is built from the catalogue (cloud.launch.*, cloud.server.*) and built again
// when the language changes. A whole-VM migration (openstack/volumes.js) holds the form until
// its volumes are available, then launches with them attached (the boot volume instead of an
// image when it boots from one) and the server card lists them.
import { $, h } from '../util.js';
import { bytes, duration, has, onLangChange, t } from '../i18n/index.js';
import { review } from '../ui/review.js';
import { closestFlavor, flavorWant, serverBody } from './api.js';
import { bootImageIndex, serverVolumes } from './migration.js';
import * as alert from './alert.js';
import { session } from './login.js';
import { sleep } from './staged.js';
import { detailsOf, errorNodes } from './text.js';

const POLL_MS = 2000;
/** Give up polling a server after this long (Nova's own boot timeouts are shorter). */
const POLL_LIMIT_MS = 15 * 60 * 1000;
/** How long a failed migration's server may take to go once deleted. */
const DELETE_WAIT_MS = 2 * 60 * 1000;
/** The checklist's steps shown after a launch (checklist.js ITEMS ids → cloud.after.* keys). */
const AFTER_STEPS = { 'power-off': 'cloud.after.powerOff', verify: 'cloud.after.verify' };

let api = null;
/** Images sent in this tab: [{id, name, status, match, flavor, minDisk, minRam}]. */
const images = [];
/** What the API listed: `{flavors, networks, keypairs, groups}` (null until listed). */
let lists = null;
let pollTimer = null;
let seq = 0;
/** The server status shown: `{status, key, params, error, fault}`, or null. */
let serverView = null;
/** The console answer shown: `{url, protocol, type}`, `{reason}` or `{error}`; null for none. */
let consoleView = null;
/**
 * The whole-VM migration the form launches (volumes.js's record, with `onFailed()`), `{held:
 * true}` while its volumes are being made, or null.
 */
let migration = null;

export function setup(client) {
  api = client;
  $('launch-button').addEventListener('click', launch);
  $('launch-image').addEventListener('change', preselectFlavor);
  $('launch-flavor').addEventListener('change', renderFlavorHint);
  renderAfterSteps();
  onLangChange(() => {
    renderAfterSteps();
    if (lists) renderPickers();
    renderServerStatus();
    renderConsole();
  });
}

function renderAfterSteps() {
  $('after-launch-steps').replaceChildren(...Object.entries(AFTER_STEPS).map(([id, key]) => h('li', { dataset: { item: id } }, t(key))));
}

/** An image was sent: offered for launching once active with its hash matching. */
export function addImage(img) {
  images.push(img);
  if (img.match && img.status === 'active' && !(migration && migration.held)) show();
}

/** Image `id` was deleted (an intermediate image of a volume, or a migration cleaned up). */
export function removeImage(id) {
  const k = images.findIndex((i) => i.id === id);
  if (k >= 0) images.splice(k, 1);
  if (lists) renderPickers();
}

/** A migration begins: the form waits until its volumes are available. */
export function holdForMigration() {
  migration = { held: true };
}

/**
 * Migration `m` (volumes.js) has its volumes: the form launches with them, its flavor
 * preselected; `m.onFailed()` runs when the launch fails.
 */
export function migrationReady(m) {
  migration = m;
  show();
}

/** The migration was cleaned up: the form forgets it (and closes with nothing to launch). */
export function migrationGone() {
  migration = null;
  if (!launchable().length) $('launch').hidden = true;
  else if (lists) renderPickers();
}

/** The migration's boot image id (null when it boots from a volume or none is set). */
function migrationImage() {
  if (!migration || migration.held) return null;
  const k = bootImageIndex(migration.plan);
  const img = k == null ? null : migration.images.get(k);
  return img ? img.id : null;
}

/** The migration's volumes as the server body wants them (`[]` without a migration). */
function migrationVolumes() {
  if (!migration || migration.held) return [];
  return serverVolumes(migration.plan, migration.volumes, { deleteOnTermination: migration.deleteOnTermination });
}

/** The volumes line of the form: which volumes the server gets, the boot one first. */
function renderMigration() {
  const el = $('launch-volumes');
  const vols = migrationVolumes();
  const bootVolume = vols.some((v) => v.boot);
  $('launch-image').closest('label').hidden = bootVolume;
  el.hidden = !vols.length;
  el.textContent = vols.length ? t('volumes.launch.attached', { volumes: volumeNames(vols) }) : '';
}

/** "web01-disk1 (boot), web01-disk2": the volumes by name, as the migration made them. */
function volumeNames(vols) {
  return vols.map((v) => {
    const name = (migration && migration.names && migration.names.get(v.id)) || v.id;
    return v.boot ? t('volumes.launch.boot', { name }) : name;
  }).join(', ');
}

const launchable = () => images.filter((i) => i.match && i.status === 'active');

async function show() {
  $('launch').hidden = false;
  if (!$('launch-name').value) $('launch-name').value = images[0] ? images[0].name : 'stackferry';
  if (migration && !migration.held && migration.vm) $('launch-name').value = migration.vm;
  renderMigration();
  const mine = ++seq;
  const what = { flavors: 'flavors', networks: 'networks', keypairs: 'keypairs', groups: 'security-groups' };
  const got = await Promise.all(Object.entries(what).map(([k, path]) => api.list(path).catch((e) => {
    alert.show('cloud.do.list', { what: t(`cloud.list.${k}`) }, e);
    return [];
  })));
  if (mine !== seq) return;
  lists = Object.fromEntries(Object.keys(what).map((k, i) => [k, got[i]]));
  renderPickers();
  preselectFlavor();
  if (migration && !migration.held && migration.flavor) {
    $('launch-flavor').value = migration.flavor.id;
    renderFlavorHint();
  }
  $('launch-button').disabled = !lists.flavors.length || !(migrationVolumes().some((v) => v.boot) || $('launch-image').value);
}

/** Fill `sel` with `options` ([value, text]), keeping the choice made if it is still there. */
function fill(sel, options) {
  const current = sel.value;
  sel.replaceChildren(...options.map(([value, text]) => h('option', { value }, text)));
  if (current && options.some(([v]) => v === current)) sel.value = current;
}

function flavorText(f) {
  return t('cloud.launch.flavorOption', { name: f.name, vcpus: f.vcpus, ram: bytes(f.ram * 1048576), disk: f.disk });
}

function networkText(n) {
  const notes = [n.external && t('cloud.launch.net.external'), n.shared && t('cloud.launch.net.shared'),
    !(n.subnets && n.subnets.length) && t('cloud.launch.net.noSubnet')].filter(Boolean);
  return notes.length ? t('cloud.launch.net.withNotes', { name: n.name || n.id, notes: notes.join(', ') }) : (n.name || n.id);
}

/** The pickers from `lists`, in the page's language. */
function renderPickers() {
  fill($('launch-image'), launchable().map((i) => [i.id, `${i.name} (${i.id.slice(0, 8)})`]));
  const boot = migrationImage();
  if (boot && launchable().some((i) => i.id === boot)) $('launch-image').value = boot;
  renderMigration();
  fill($('launch-flavor'), lists.flavors.slice().sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk)
    .map((f) => [f.id, flavorText(f)]));
  const nets = lists.networks.slice().sort((a, b) => Number(a.external) - Number(b.external) || a.name.localeCompare(b.name));
  fill($('launch-network'), [...nets.map((n) => [n.id, networkText(n)]), ['', t('cloud.launch.net.auto')]]);
  fill($('launch-keypair'), [['', t('cloud.launch.noKeypair')], ...lists.keypairs.map((k) => [k.name, k.name])]);
  const box = $('launch-groups');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((c) => c.value));
  const first = !box.querySelector('input');
  box.replaceChildren(...lists.groups.map((g, i) => {
    const id = `sg-${i}`;
    const on = first ? g.name === 'default' : checked.has(g.name);
    return h('span', { class: 'field' }, h('input', { type: 'checkbox', id, value: g.name, checked: on }), h('label', { for: id }, ` ${g.name}`));
  }));
  if (!lists.groups.length) box.append(h('span', { class: 'hint' }, t('cloud.launch.noGroups')));
  renderFlavorHint();
}

/** The wanted shape of the image chosen, and the flavor closest to it (or null). */
function suggestion() {
  const img = images.find((i) => i.id === $('launch-image').value) || images[0];
  if (!img || !lists) return null;
  const want = flavorWant(img);
  return { want, best: closestFlavor(lists.flavors, want) };
}

function preselectFlavor() {
  const s = suggestion();
  if (s && s.best) $('launch-flavor').value = s.best.id;
  renderFlavorHint();
}

function renderFlavorHint() {
  const s = suggestion();
  const hint = $('launch-flavor-hint');
  if (!s) {
    hint.textContent = '';
    return;
  }
  const { want, best } = s;
  const wantText = t('cloud.launch.want', {
    vcpus: want.vcpus, ram: want.ram ? t('cloud.launch.wantRam', { ram: bytes(want.ram * 1048576) }) : t('cloud.launch.anyRam'), disk: want.disk,
  });
  // The chosen flavor in full: a narrow select (a phone) shows only the start of its text.
  const chosen = lists.flavors.find((f) => f.id === $('launch-flavor').value);
  hint.textContent = [
    chosen ? t('cloud.launch.chosen', { flavor: flavorText(chosen) }) : null,
    best ? t('cloud.launch.suggested', { name: best.name, want: wantText }) : t('cloud.launch.noFit', { want: wantText }),
  ].filter(Boolean).join(' ');
}

/** Stop polling the server (logging out). */
export function stop() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

/** Nova's status in words: `cloud.server.state.<STATUS>`, else Nova's own word. */
function statusWord(status) {
  const key = `cloud.server.state.${status}`;
  return has(key) ? t(key) : status;
}

/**
 * Show the server's status: `status` (Nova's, also `data-status`), the sentence
 * `t(key, params)`, an API error or Nova's fault message in a details disclosure.
 */
function setServerStatus(status, key, params = {}, more = {}) {
  serverView = { status, key, params, ...more };
  renderServerStatus();
}

function renderServerStatus() {
  const el = $('server-status');
  if (!serverView) {
    el.hidden = true;
    return;
  }
  const { status, key, params, error, fault, volumes, names } = serverView;
  el.hidden = false;
  el.dataset.status = status;
  const attached = volumes && volumes.length ? h('span', { 'data-testid': 'server-volumes', dataset: { volumes: volumes.join(' ') } },
    ' ', t('volumes.server.attached', { volumes: volumes.map((id) => (names.has(id) ? `${names.get(id)} (${id})` : id)).join(', ') })) : null;
  el.replaceChildren(h('strong', {}, statusWord(status)), ` — ${t(key, params)}`, ...(attached ? [attached] : []),
    ...(error ? [' ', ...errorNodes(error)] : []), ...(fault ? [' ', detailsOf(fault)] : []));
}

/** The launch form as chosen: the server's body and the names the review shows. */
function chosen() {
  const text = (id) => {
    const sel = $(id);
    return sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : '';
  };
  const groups = [...$('launch-groups').querySelectorAll('input:checked')].map((c) => c.value);
  const body = serverBody({
    name: $('launch-name').value.trim(),
    imageId: $('launch-image').value,
    flavorId: $('launch-flavor').value,
    networkId: $('launch-network').value,
    keyName: $('launch-keypair').value,
    groups,
    volumes: migrationVolumes(),
  });
  const img = images.find((i) => i.id === body.image_id);
  const flavor = lists && lists.flavors.find((f) => f.id === body.flavor_id);
  const net = lists && lists.networks.find((n) => n.id === body.network_id);
  return {
    body,
    names: () => ({
      server: body.name,
      image: img ? img.name : text('launch-image'),
      flavor: flavor ? flavor.name : text('launch-flavor'),
      network: body.network_id ? (net ? net.name || net.id : body.network_id) : t('cloud.review.auto'),
      keypair: body.key_name || t('cloud.review.none'),
      groups: groups.length ? groups.join(', ') : t('cloud.review.defaultGroup'),
      volumes: body.volumes ? volumeNames(body.volumes) : null,
    }),
  };
}

/** The review card of a launch: resolves to whether the user confirmed. */
function reviewLaunch(c, opener) {
  return review({
    name: 'launch',
    opener,
    confirmKey: 'cloud.review.launch.confirm',
    content: () => {
      const n = c.names();
      const s = session();
      return {
        title: t('cloud.review.launch.title'),
        intro: t('cloud.review.launch.intro', { project: (s && s.project && s.project.name) || '?', region: (s && s.region) || '–' }),
        items: [[h('strong', {}, t('cloud.review.server', { name: n.server })),
          ` ${t(c.body.image_id ? 'cloud.review.serverFacts' : 'volumes.review.serverFromVolume', n)}`],
        ...(n.volumes ? [t('volumes.review.attached', { volumes: n.volumes })] : [])],
      };
    },
  });
}

async function launch() {
  const btn = $('launch-button');
  const c = chosen();
  if (!await reviewLaunch(c, btn)) return;
  const { body } = c;
  stop();
  alert.hide();
  consoleView = null;
  renderConsole();
  $('after-launch').hidden = true;
  btn.disabled = true;
  setServerStatus('REQUESTED', 'cloud.server.asking');
  let id;
  try {
    id = (await api.createServer(body)).id;
  } catch (e) {
    setServerStatus('ERROR', 'cloud.server.refused', {}, { error: e });
    alert.show('cloud.do.launch', { name: body.name }, e);
    btn.disabled = false;
    // Nothing was made by Nova: the migration's volumes and images go.
    if (body.volumes && migration && migration.onFailed) await migration.onFailed();
    return;
  }
  $('server-status').dataset.serverId = id;
  // The migration's volumes are the server's now: the form does not offer them again. Should the
  // server end in ERROR, it goes, and so does what the migration made (no orphans).
  const names = (body.volumes && migration && migration.names) || new Map();
  const onFailed = body.volumes && migration && migration.onFailed;
  if (body.volumes) {
    migration = null;
    renderMigration();
  }
  const t0 = Date.now();
  const poll = async () => {
    let s;
    try {
      s = await api.server(id);
    } catch (e) {
      setServerStatus('UNKNOWN', 'cloud.server.unreadable', {}, { error: e });
      btn.disabled = false;
      return;
    }
    $('server-status').dataset.task = s.task_state || '';
    if (s.status === 'ACTIVE') {
      const addrs = Object.entries(s.addresses || {}).map(([n, list]) => `${n}: ${list.map((a) => a.addr).join(', ')}`).join('; ');
      setServerStatus('ACTIVE', addrs ? 'cloud.server.runningAt' : 'cloud.server.running', { name: s.name, id, addresses: addrs }, { volumes: s.volumes || [], names });
      btn.disabled = false;
      await showConsole(id);
      $('after-launch').hidden = false;
      return;
    }
    if (s.status === 'ERROR') {
      const fault = s.fault ? `${s.fault.message}${s.fault.code ? ` (code ${s.fault.code})` : ''}` : null;
      setServerStatus('ERROR', fault ? 'cloud.server.failed' : 'cloud.server.failedNoReason', { name: s.name, id }, { fault });
      $('server-status').dataset.fault = s.fault ? s.fault.message : '';
      if (onFailed && await deleteFailed(id, onFailed)) {
        setServerStatus('ERROR', fault ? 'cloud.server.failedDeleted' : 'cloud.server.failedNoReasonDeleted', { name: s.name, id }, { fault });
      }
      btn.disabled = false;
      return;
    }
    const waited = (Date.now() - t0) / 1000;
    setServerStatus(s.status || 'UNKNOWN', 'cloud.server.waiting', { time: duration(waited) });
    if (Date.now() - t0 > POLL_LIMIT_MS) {
      setServerStatus(s.status || 'UNKNOWN', 'cloud.server.timeout', { time: duration(POLL_LIMIT_MS / 1000) });
      btn.disabled = false;
      return;
    }
    pollTimer = setTimeout(poll, POLL_MS);
  };
  poll();
}

/**
 * A migration's server that ended in ERROR: deleted (the volumes it holds are freed with it),
 * followed until Nova has it gone, then `onFailed()` deletes the migration's volumes and
 * images. The server's line keeps Nova's fault; `data-deleted` says whether the server went,
 * and so does the resolved value.
 */
async function deleteFailed(id, onFailed) {
  const line = $('server-status');
  let gone = false;
  try {
    await api.deleteServer(id);
    for (const t0 = Date.now(); Date.now() - t0 < DELETE_WAIT_MS; await sleep(POLL_MS)) {
      try {
        await api.server(id);
      } catch (e) {
        if (e.status === 404) { gone = true; break; }
      }
    }
  } catch (e) {
    alert.show('cloud.do.deleteServer', { id }, e);
  }
  line.dataset.deleted = String(gone);
  await onFailed();
  return gone;
}

/** Whether a console URL may become a link: only http: and https: (never javascript: or data:). */
export function safeConsoleUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

async function showConsole(id) {
  try {
    const c = await api.console(id);
    consoleView = c && c.url ? { url: c.url, protocol: c.protocol || '', type: c.type || '' } : { reason: (c && c.reason) || '' };
  } catch (e) {
    consoleView = { error: e };
  }
  renderConsole();
}

function renderConsole() {
  const box = $('console');
  const c = consoleView;
  if (!c) {
    box.replaceChildren();
    return;
  }
  const kind = [c.protocol, c.type].filter(Boolean).join(' ');
  if (c.url) {
    const href = safeConsoleUrl(c.url);
    box.replaceChildren(href
      ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'console-link', dataset: { kind } }, t('cloud.console.open'))
      : h('span', { 'data-testid': 'console-reason' }, t('cloud.console.unsafe'), ' ', detailsOf(c.url)));
  } else if (c.error) {
    box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, t('cloud.console.none'), ' ', ...errorNodes(c.error)));
  } else {
    box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, t('cloud.console.none'), ...(c.reason ? [' ', detailsOf(c.reason)] : [])));
  }
}
