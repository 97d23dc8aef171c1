// The OpenStack section's launch: once an image is active and its hash matches, flavor,
// network, key pair and security group pickers filled from the API (the preselected flavor the
// closest one that fits the suggested shape), then the server's status polled until ACTIVE or
// ERROR, its console and the checklist's last steps.
import { $, h, bytes, duration } from '../util.js';
import * as store from '../checklist.js';
import { apiErrorText, closestFlavor, flavorWant, serverBody } from './api.js';
import * as alert from './alert.js';

const POLL_MS = 2000;
/** Give up polling a server after this long (Nova's own boot timeouts are shorter). */
const POLL_LIMIT_MS = 15 * 60 * 1000;

let api = null;
/** Images sent in this tab: [{id, name, status, match, flavor, minDisk, minRam}]. */
const images = [];
let flavors = null;
let pollTimer = null;
let seq = 0;

export function setup(client) {
  api = client;
  $('launch-button').addEventListener('click', launch);
  $('launch-image').addEventListener('change', preselectFlavor);
  // The checklist's last steps, as the checklist words them.
  const steps = store.ITEMS.filter((it) => it.id === 'power-off' || it.id === 'verify');
  $('after-launch-steps').replaceChildren(...steps.map((it) => h('li', { dataset: { item: it.id } }, it.text)));
}

/** An image was sent: offered for launching once active with its hash matching. */
export function addImage(img) {
  images.push(img);
  if (img.match && img.status === 'active') show();
}

async function show() {
  $('launch').hidden = false;
  const sel = $('launch-image');
  const current = sel.value;
  sel.replaceChildren(...images.filter((i) => i.match && i.status === 'active').map((i) => h('option', { value: i.id }, `${i.name} (${i.id.slice(0, 8)})`)));
  if (current && [...sel.options].some((o) => o.value === current)) sel.value = current;
  if (!$('launch-name').value) $('launch-name').value = images[0] ? images[0].name : 'stackferry';
  const mine = ++seq;
  const [flavorList, networks, keypairs, groups] = await Promise.all(['flavors', 'networks', 'keypairs', 'security-groups'].map((p) => api.list(p).catch((e) => {
    alert.show(`Listing ${p}`, e);
    return [];
  })));
  if (mine !== seq) return;
  flavors = flavorList;
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

function preselectFlavor() {
  const img = images.find((i) => i.id === $('launch-image').value) || images[0];
  const hint = $('launch-flavor-hint');
  if (!img || !flavors) return;
  const want = flavorWant(img);
  const best = closestFlavor(flavors, want);
  const wantText = `${want.vcpus} vCPU, ${want.ram ? `${bytes(want.ram * 1048576)} RAM` : 'any RAM'}, ${want.disk} GiB disk`;
  if (best) {
    $('launch-flavor').value = best.id;
    hint.textContent = `Suggested: ${best.name}, the closest flavor with at least ${wantText}.`;
  } else {
    hint.textContent = `No flavor has at least ${wantText}; pick one (Nova refuses a flavor smaller than the image’s min_disk / min_ram).`;
  }
}

/** Stop polling the server (logging out). */
export function stop() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

function setServerStatus(status, text, extra) {
  const el = $('server-status');
  el.hidden = false;
  el.dataset.status = status;
  el.replaceChildren(h('strong', {}, status), text ? ` — ${text}` : '', ...(extra || []));
}

async function launch() {
  const body = serverBody({
    name: $('launch-name').value.trim(),
    imageId: $('launch-image').value,
    flavorId: $('launch-flavor').value,
    networkId: $('launch-network').value,
    keyName: $('launch-keypair').value,
    groups: [...$('launch-groups').querySelectorAll('input:checked')].map((c) => c.value),
  });
  stop();
  alert.hide();
  $('console').replaceChildren();
  $('after-launch').hidden = true;
  const btn = $('launch-button');
  btn.disabled = true;
  setServerStatus('REQUESTED', 'asking Nova…');
  let id;
  try {
    id = (await api.createServer(body)).id;
  } catch (e) {
    setServerStatus('ERROR', apiErrorText(e));
    alert.show('Launching the server', e);
    btn.disabled = false;
    return;
  }
  $('server-status').dataset.serverId = id;
  const t0 = Date.now();
  const poll = async () => {
    let s;
    try {
      s = await api.server(id);
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
    pollTimer = setTimeout(poll, POLL_MS);
  };
  poll();
}

async function showConsole(id) {
  const box = $('console');
  try {
    const c = await api.console(id);
    if (c && c.url) {
      box.replaceChildren('Console: ', h('a', { href: c.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'console-link' }, `open the ${c.protocol || ''} ${c.type || ''} console`.replace(/\s+/g, ' ')));
    } else {
      box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, `No console: ${(c && c.reason) || 'the cloud offers none'}`));
    }
  } catch (e) {
    box.replaceChildren(h('span', { 'data-testid': 'console-reason' }, `No console: ${apiErrorText(e)}`));
  }
}
