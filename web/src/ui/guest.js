// The Guest card of an input (issue 11): what inspection found inside its disks, shown before
// anything is converted — the OS, whether and from which bus it boots (with the command to run
// on the source VM when it would not, each command with a copy button), its kernels and their
// boot drivers, its volumes, the risks (file:line, the line quoted, what to change) and what
// could not be read; and a small read-only browser of the guest's files. The Glance properties
// that follow from it are the core's suggestion, shown by inputs.js.
//
// Data → words is `guestView` (no DOM, tested under node); `guestCard` draws it, and draws it
// again on a language switch. The boot decision's evidence and how the OS was recognised come
// as codes with names (`guest.reason.<code>`): sentences of the catalogues, the names in them
// (files, drivers, kernels) drawn as code the browser does not translate. What could not be
// read is the core's English, marked lang="en". The browser's place (folder, file shown) is
// kept per guest, so a redraw keeps it.
import { h, kv, copyButton } from '../util.js';
import { t, has, bytes, onLangChange } from '../i18n/index.js';
import * as converter from '../converter/client.js';
import { coreError } from '../error.js';
import { errorBox } from './errors.js';

/** How much of a file the browser shows: 1 MiB, a page's worth of any config file. */
export const READ_CAP = 1 << 20;

/** A guest path as the core takes it: absolute, `/`-separated, without `.`, `..` or `//`. */
export function normalPath(p) {
  const parts = [];
  for (const s of String(p).split('/')) {
    if (!s || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return `/${parts.join('/')}`;
}

/** The bus of a boot decision as people write it: "SATA", "SCSI (virtio-scsi)". */
function busText(boot) {
  const bus = String(boot.disk_bus || '').toUpperCase();
  return boot.scsi_model ? `${bus} (${boot.scsi_model})` : bus;
}

/** Marks a placeholder's place in a filled sentence (a character no catalogue entry holds). */
const MARK = '\u0000';

/**
 * Catalogue sentence `key` as pieces: its text, and for each placeholder its value, as
 * `{name}` (a file, driver or kernel: drawn as code) or, for an array, the pieces of the
 * sentence within it.
 */
function pieces(key, params) {
  const given = Object.entries(params).filter(([, v]) => v != null);
  const marked = Object.fromEntries(given.map(([k]) => [k, `${MARK}${k}${MARK}`]));
  const values = Object.fromEntries(given);
  return t(key, marked).split(MARK).flatMap((s, i) => {
    if (i % 2 === 0) return s ? [s] : [];
    return Array.isArray(values[s]) ? values[s] : [{ name: String(values[s]) }];
  });
}

/** Pieces as plain text. */
function plain(ps) {
  return ps.map((p) => (typeof p === 'string' ? p : p.name)).join('');
}

/** A reason of the core (`{code, args}`, report.rs `Reason`) as pieces; its code when unknown. */
function reasonPieces(r) {
  const key = `guest.reason.${r.code}`;
  return has(key) ? pieces(key, r.args || {}) : [{ name: r.code }];
}

/** Where the OS was recognised: a guest path, or a reason (report.rs `Evidence`). */
function evidencePieces(e) {
  if (e == null || e === '') return null;
  return typeof e === 'string' ? [{ name: e }] : reasonPieces(e);
}

/**
 * The boot decision in words: `state` (virtio | other | none | unknown), `text` (the verdict),
 * `reason` (its evidence, as text and as `reasonPieces` for the card), `goOn` (for a guest
 * that will not boot), `fix: {lead, command}` (the command to run on the source VM) and `net`
 * (the NIC model).
 */
export function bootView(boot) {
  if (!boot) return { state: 'unknown', text: t('guest.boot.unknown'), reason: null, reasonPieces: null, goOn: null, fix: null, net: null };
  const state = !boot.boots ? 'none' : boot.disk_bus === 'virtio' ? 'virtio' : 'other';
  const text = state === 'virtio' ? t('guest.boot.virtio')
    : state === 'none' ? t('guest.boot.none') : t('guest.boot.other', { bus: busText(boot) });
  const why = boot.reason ? pieces('guest.boot.reason', { reason: reasonPieces(boot.reason) }) : null;
  return {
    state, text, reason: why && plain(why), reasonPieces: why,
    goOn: state === 'none' ? t('guest.boot.go_on') : null,
    fix: boot.fix ? { lead: t(state === 'other' ? 'guest.fix.to_virtio' : 'guest.fix.needed'), command: boot.fix } : null,
    net: boot.vif_model || null,
  };
}

/** The OS in one line: Windows' product name and build, else os-release's PRETTY_NAME. */
function osText(guest) {
  const os = guest.os;
  const win = guest.windows;
  if (win && (win.product_name || win.version)) {
    const name = win.product_name || (os && os.pretty_name) || 'Windows';
    return win.version && win.build ? t('guest.os.windows_build', { name, version: win.version, build: win.build }) : name;
  }
  if (!os) return t('guest.os.unknown');
  return os.pretty_name || [os.id, os.version_id].filter(Boolean).join(' ') || t('guest.os.unknown');
}

/** `evidence` (text) and `evidencePieces`: where the OS was recognised, null when nowhere. */
function evidenceView(os) {
  const ps = os ? evidencePieces(os.evidence) : null;
  return { evidence: ps && plain(ps), evidencePieces: ps };
}

/** A boot driver: its name and where it was found, in words (Windows: installed or missing). */
function driverView(d, windows = false) {
  const found = windows && d.found !== 'missing' ? 'installed' : d.found;
  return { name: d.name, found: d.found, foundText: t(`guest.found.${found}`), evidence: d.evidence || null };
}

/** What a volume holds, in words where the word is not a file system's name. */
function contentText(c) {
  return has(`guest.content.${c}`) ? t(`guest.content.${c}`) : c;
}

/** A risk: its sentence, where it shows (`file:line`), the line as found and the fix. */
export function riskView(r) {
  const key = `guest.risk.${r.code}`;
  return {
    code: r.code,
    sentence: has(key) ? t(key, { file: r.file, line: r.line, text: r.text, name: r.name ?? r.text }) : r.code,
    where: r.line != null ? `${r.file}:${r.line}` : r.file,
    text: r.text || '',
    fix: r.fix || null,
  };
}

/**
 * The card's contents in the page's language, from the core's `guest` (report.rs `Guest`):
 * null for `undefined` (a core that does not inspect guests: no card); `{title, none}` for null
 * (nothing could be read); else every part, each list possibly empty, `risksTitle` null when
 * there are no risks and no OS was recognised, `browse` whether there is a volume to browse.
 */
export function guestView(guest) {
  if (guest === undefined) return null;
  const title = t('guest.title');
  if (guest === null) return { title, none: t('guest.none') };
  const risks = (guest.risks || []).map(riskView);
  return {
    title,
    os: osText(guest),
    ...evidenceView(guest.os),
    boot: bootView(guest.boot),
    kernels: (guest.kernels || []).map((k) => ({
      version: k.version, isDefault: !!k.default, defaultText: k.default ? t('guest.kernel.default') : null,
      initramfs: k.initramfs || null, layers: (k.initramfs_layers || []).join(' + '),
      drivers: (k.drivers || []).map((d) => driverView(d)), problem: k.problem || null,
    })),
    windowsDrivers: guest.windows ? (guest.windows.drivers || []).map((d) => driverView(d, true)) : [],
    volumes: (guest.volumes || []).map((v) => ({
      name: v.label ? `${v.name} (${v.label})` : v.name, content: contentText(v.content), size: bytes(v.size), mount: v.mount || null,
    })),
    // "Nothing found" only where something was read (an OS recognised).
    risksTitle: risks.length ? t('guest.risks', { count: risks.length }) : guest.os ? t('guest.risks.none') : null,
    risks,
    problems: guest.problems || [],
    // The browser, where there is a volume to browse.
    browse: (guest.volumes || []).length > 0,
  };
}

/**
 * What the browser shows of a file read with a cap of `cap` + 1 bytes: `{binary, text, note}`.
 * Binary: a NUL byte or bytes that are not UTF-8 (`text` then says "binary, N bytes"; `size`,
 * when the listing gave it, is N). More than `cap` bytes: the first `cap` are shown, with a note.
 */
export function fileView(data, { size = null, cap = READ_CAP } = {}) {
  const longer = data.length > cap;
  const shown = longer ? data.subarray(0, cap) : data;
  const note = !longer ? null
    : size != null ? t('guest.browser.truncated', { limit: bytes(cap), size: bytes(size) }) : t('guest.browser.longer', { limit: bytes(cap) });
  let text = null;
  if (!shown.includes(0)) {
    try {
      // `stream`: a cut at the cap may split a character.
      text = new TextDecoder('utf-8', { fatal: true }).decode(shown, { stream: longer });
    } catch { /* not UTF-8: binary */ }
  }
  if (text == null) return { binary: true, text: t('guest.browser.binary', { bytes: size ?? data.length }), note };
  return { binary: false, text, note };
}

// ---------------------------------------------------------------------------------------------
// The card.

let seq = 0;
/** The cards drawn, to draw again on a language switch (dropped once out of the page). */
const live = new Set();
/** Per guest object: the browser's place (see `placeOf`). */
const places = new WeakMap();

onLangChange(() => {
  for (const c of live) {
    if (c.card.isConnected) c.draw();
    else live.delete(c);
  }
});

/**
 * The Guest card for the core's `guest` of input `top` of `files` (as inspected), or null when
 * the core said nothing about the guest. Test hooks: data-testid guest-card, guest-boot,
 * guest-fix, guest-risk, guest-kernel, guest-browser, guest-path, guest-entry, guest-file.
 */
export function guestCard(guest, { files, top }) {
  if (guest === undefined) return null;
  const card = h('div', { class: 'guest', 'data-testid': 'guest-card' });
  const draw = () => {
    const v = guestView(guest);
    card.replaceChildren(...(v.none ? [h('h3', {}, v.title), h('p', { class: 'hint' }, v.none)] : parts(v, placeOf(guest, files, top))));
  };
  draw();
  for (const c of live) if (!c.card.isConnected) live.delete(c);
  live.add({ card, draw });
  return card;
}

/** A command with what it is for and a copy button (which names the command it copies). */
function command(lead, text, testid) {
  const id = `guest-cmd-${++seq}`;
  const copy = copyButton(() => text, { label: 'guest.copy', done: 'guest.copied', failed: 'guest.copy_failed', 'aria-describedby': id, 'data-testid': 'guest-copy' });
  return h('div', { class: 'guest-command' }, h('p', {}, lead, ' ', copy), h('pre', { class: 'cmd', id, 'data-testid': testid }, text));
}

/** A table that may scroll sideways: a focusable, named region (as inputs.js's). */
function table(caption, heads, rows) {
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col' }, k)))),
    h('tbody', {}, rows)));
}

/** Pieces of a sentence as nodes: its names as code the browser does not translate. */
function words(ps) {
  return ps.map((p) => (typeof p === 'string' ? p : h('code', { translate: 'no' }, p.name)));
}

function driverList(drivers) {
  // Where each was found (the core's English) is the name's tooltip.
  return h('ul', { class: 'guest-drivers' }, drivers.map((d) => h('li', { dataset: { found: d.found } },
    h('code', { title: d.evidence }, d.name), ': ', d.foundText)));
}

function parts(v, place) {
  const out = [h('h3', {}, v.title)];
  // The OS's own name (os-release, the registry) is a name, not words of the page.
  out.push(kv([[t('guest.os'), h('span', { translate: 'no' }, v.os)], [t('guest.evidence'), v.evidencePieces ? h('span', {}, words(v.evidencePieces)) : null]]));
  const b = v.boot;
  out.push(h('div', { class: 'guest-boot', 'data-testid': 'guest-boot', dataset: { state: b.state } },
    h('p', {}, h('strong', {}, `${t('guest.boot')}: `), h('span', { class: 'verdict' }, b.text)),
    b.reasonPieces ? h('p', { class: 'reason' }, words(b.reasonPieces)) : null,
    b.goOn ? h('p', {}, b.goOn) : null,
    b.fix ? command(b.fix.lead, b.fix.command, 'guest-fix') : null,
    b.net ? kv([[t('guest.boot.net'), h('code', {}, b.net)]]) : null));
  if (v.kernels.length) {
    out.push(h('h4', {}, t('guest.kernels')), table(t('guest.kernels'), [t('guest.kernel'), t('guest.kernel.initramfs'), t('guest.kernel.drivers')],
      v.kernels.map((k) => h('tr', { 'data-testid': 'guest-kernel', dataset: { default: String(k.isDefault) } },
        h('td', {}, h('code', {}, k.version), k.isDefault ? [' ', h('strong', { class: 'default' }, `(${k.defaultText})`)] : null),
        h('td', {}, k.initramfs ? [h('code', {}, k.initramfs), k.layers ? h('span', { class: 'hint' }, ' (', h('code', {}, k.layers), ')') : null] : t('guest.kernel.none'),
          k.problem ? h('p', { class: 'warn', lang: 'en' }, k.problem) : null),
        h('td', {}, driverList(k.drivers))))));
  }
  if (v.windowsDrivers.length) out.push(h('h4', {}, t('guest.windows.drivers')), driverList(v.windowsDrivers));
  if (v.volumes.length) {
    out.push(h('h4', {}, t('guest.volumes')), table(t('guest.volumes'), [t('guest.volume'), t('guest.volume.content'), t('guest.volume.size'), t('guest.volume.mount')],
      v.volumes.map((x) => h('tr', {}, h('td', { lang: 'en' }, x.name), h('td', {}, x.content), h('td', {}, x.size), h('td', {}, x.mount ? h('code', {}, x.mount) : '–')))));
  }
  if (v.risksTitle) out.push(h('h4', {}, v.risksTitle));
  if (v.risks.length) {
    out.push(h('ul', { class: 'guest-risks' }, v.risks.map((r) => h('li', { 'data-testid': 'guest-risk', dataset: { code: r.code } },
      h('p', {}, r.sentence),
      h('p', { class: 'where' }, h('code', { class: 'at' }, r.where), r.text ? [' ', h('q', {}, h('code', {}, r.text))] : null),
      r.fix ? command(t('guest.risk.fix'), r.fix, 'guest-risk-fix') : null))));
  }
  if (v.problems.length) {
    out.push(h('h4', {}, t('guest.problems')), h('p', { class: 'hint' }, t('guest.problems.hint')),
      h('ul', { class: 'guest-problems' }, v.problems.map((p) => h('li', { lang: 'en' }, p))));
  }
  if (v.browse) out.push(browser(place));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The file browser.

/**
 * The browser's place for `guest`: `{files, top, open, path, entries, file: {path, size, data},
 * error, busy, focus, body}` (`body`: the element it is drawn in, the newest card's).
 */
function placeOf(guest, files, top) {
  if (!places.has(guest)) {
    places.set(guest, { files, top, open: false, path: '/', entries: null, file: null, error: null, busy: false, focus: null, body: null });
  }
  return places.get(guest);
}

function browser(place) {
  const body = h('div', { class: 'guest-browser-body' });
  place.body = body;
  const el = h('details', { class: 'guest-browser', 'data-testid': 'guest-browser', open: place.open },
    h('summary', {}, t('guest.browser.title')), body);
  el.addEventListener('toggle', () => {
    place.open = el.open;
    if (el.open && !place.entries && !place.busy && !place.error) go(place, () => listDir(place, place.path));
  });
  drawBrowser(place);
  return el;
}

/** Run `step` (a read from the guest) with the browser marked busy, then draw it again. */
async function go(place, step) {
  place.busy = true;
  place.error = null;
  drawBrowser(place);
  try {
    await step();
  } catch (e) {
    place.error = e;
  }
  place.busy = false;
  drawBrowser(place);
}

async function listDir(place, path) {
  const r = await converter.guestList(place.files, place.top, path);
  // A core that answers "no folder" with nothing: a file, read instead by `openPath`.
  if (!r || !Array.isArray(r.entries)) throw coreError('invalid_argument', `${path} is not a folder of the guest`, { file: path });
  place.path = path;
  place.file = null;
  // Folders first, then by name, as file managers list them.
  place.entries = [...r.entries].sort((a, b) => (b.kind === 'dir') - (a.kind === 'dir') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function readFile(place, path, size = null) {
  const data = await converter.guestRead(place.files, place.top, path, READ_CAP + 1);
  place.file = { path, size, data: data instanceof Uint8Array ? data : new Uint8Array(data) };
  place.focus = 'file';
}

/** A path typed: a folder is listed, anything else read as a file. */
async function openPath(place, path) {
  try {
    await listDir(place, path);
    place.focus = 'entries';
  } catch (e) {
    if (e && e.code === 'no_guest_files') throw e;
    try {
      await readFile(place, path);
    } catch {
      throw e;
    }
  }
}

/** An entry clicked: a folder is entered, a link tried as a folder then as a file. */
function openEntry(place, entry) {
  const path = normalPath(`${place.path}/${entry.name}`);
  if (entry.kind === 'dir') return go(place, async () => { await listDir(place, path); place.focus = 'entries'; });
  if (entry.kind === 'symlink') return go(place, () => openPath(place, path));
  return go(place, () => readFile(place, path, entry.size));
}

function drawBrowser(place) {
  const body = place.body;
  if (!body) return;
  const id = `guest-path-${++seq}`;
  const input = h('input', { type: 'text', id, value: place.file ? place.file.path : place.path, 'data-testid': 'guest-path', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const up = h('button', { type: 'button', class: 'secondary small', disabled: place.busy || place.path === '/' }, t('guest.browser.up'));
  up.addEventListener('click', () => go(place, async () => { await listDir(place, normalPath(`${place.path}/..`)); place.focus = 'entries'; }));
  const form = h('form', { class: 'row wrap guest-path' }, h('label', { for: id }, t('guest.browser.path')), input,
    h('button', { type: 'submit', class: 'small', disabled: place.busy }, t('guest.browser.open')), up);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const path = normalPath(input.value);
    go(place, () => openPath(place, path));
  });
  const status = h('p', { class: 'status', 'aria-live': 'polite' },
    place.busy ? t('guest.browser.loading') : place.entries ? t('guest.browser.entries', { path: place.path, count: place.entries.length }) : '');
  const parts = [h('p', { class: 'hint' }, t('guest.browser.hint')), form, status];
  if (place.error) parts.push(browserError(place.error));
  if (place.entries) {
    parts.push(h('ul', { class: 'guest-entries' }, place.entries.map((entry) => {
      const kind = entry.kind === 'file' ? h('span', { class: 'hint' }, ` ${bytes(entry.size)}`)
        : h('span', { class: 'hint' }, ` ${t(`guest.browser.kind.${entry.kind === 'dir' || entry.kind === 'symlink' ? entry.kind : 'other'}`)}`);
      const label = entry.kind === 'dir' ? `${entry.name}/` : entry.name;
      if (entry.kind === 'other') return h('li', {}, h('span', { class: 'mono' }, label), kind);
      const button = h('button', { type: 'button', class: 'link', 'data-testid': 'guest-entry', dataset: { kind: entry.kind, name: entry.name }, disabled: place.busy },
        h('span', { class: 'mono' }, label), kind);
      button.addEventListener('click', () => openEntry(place, entry));
      return h('li', {}, button);
    })));
  }
  if (place.file) parts.push(fileBlock(place.file));
  body.replaceChildren(...parts);
  // After a click the button clicked is gone: the focus goes to what it opened.
  const focus = place.focus === 'file' ? body.querySelector('.guest-file-view [tabindex]')
    : place.focus === 'entries' ? body.querySelector('[data-testid=guest-entry]') || input : null;
  if (focus && !place.busy) {
    place.focus = null;
    focus.focus();
  }
}

function fileBlock(file) {
  const v = fileView(file.data, { size: file.size });
  const size = file.size ?? file.data.length;
  const heading = t('guest.browser.file', { path: file.path, size: bytes(size) });
  return h('div', { class: 'guest-file-view' },
    h('h5', {}, heading),
    v.binary ? h('p', { 'data-testid': 'guest-file', tabindex: -1 }, v.text)
      : h('pre', { class: 'cmd', 'data-testid': 'guest-file', tabindex: 0, role: 'region', 'aria-label': heading }, v.text),
    v.note ? h('p', { class: 'hint' }, v.note) : null);
}

/** A read that failed: said plainly (too big for the page, a converter without the reader). */
function browserError(e) {
  if (e && e.code === 'no_guest_files') return h('p', { class: 'warn', role: 'alert' }, t('guest.browser.unavailable'));
  if (e && e.code === 'too_large') return h('p', { class: 'warn', role: 'alert' }, t('guest.browser.too_big', { limit: bytes(READ_CAP) }));
  const box = errorBox(e);
  box.setAttribute('role', 'alert');
  return box;
}
