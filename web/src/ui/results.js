// The "Result" panel: per converted disk where it went (a download link to the file in
// browser storage, the chosen file, or OpenStack), its sizes, time, digests, and the commands
// that would do the same by hand. `#result` carries every disk's SHA-512 and content digest in
// conversion order; each disk's entry its own. Converting records the digests on the VM's
// checklist. A Send computes the SHA-512 while converting (Glance's os_hash_value is checked
// against it); a Convert does not, as it costs a quarter of the conversion's CPU: the entry
// offers to compute it from the saved file, and records it then. Each entry keeps what it shows
// as data and is redrawn on a language switch.
// Outputs of earlier runs and visits stay in browser storage: ui/stored.js lists them below.
import { $, h, kv, copyButton, baseName } from '../util.js';
import { t, onLangChange, bytes, number, percent, rate, duration } from '../i18n/index.js';
import { commands } from '../commands.js';
import { hashFile } from '../converter/client.js';
import { opfsFile, opfsHash, opfsRemove } from '../save.js';
import * as store from '../checklist.js';
import * as checklist from './checklist.js';
import { choiceFor, imageName, inputLabel } from './inputs.js';

/** The run whose results are shown (`{results: [{d, report, pre, entry, ...}], format}`). */
let shown = null;
/** Object URLs of the download links. */
let objectUrls = [];
/** Called when an output kept in browser storage is removed here (stored.js refreshes). */
let onRemoved = () => {};

export function setup({ removed }) {
  onRemoved = removed || onRemoved;
}

function commandText(d, format) {
  const choice = choiceFor(d.inputIndex, d.input);
  return commands({
    input: d.input.inspection ? { kind: d.input.inspection.kind, name: d.input.name } : { kind: 'vmdk', name: d.input.name },
    disk: d.info, format, clusterSize: 65536, outName: d.outName, imageName: imageName(d),
    suggestion: choice.shape, props: choice.props,
  });
}

/** The suggestions were edited: the commands shown follow. */
export function refreshCommands() {
  if (!shown) return;
  for (const res of shown.results) res.pre.textContent = commandText(res.d, shown.format);
}

/** The OPFS names of the outputs shown here (stored.js lists the others). */
export function shownStored() {
  return new Set(shown ? shown.results.filter((r) => r.target.kind === 'opfs' && !r.removed).map((r) => r.target.name) : []);
}

/** Hide the previous results (their outputs stay in browser storage). */
export function reset() {
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];
  shown = null;
  const panel = $('result');
  $('result-disks').replaceChildren();
  delete panel.dataset.sha512;
  delete panel.dataset.contentDigest;
  showPanel();
}

/** The panel's lists of digests, in conversion order (an SHA-512 not computed yet is `-`). */
function panelDigests(run) {
  const panel = $('result');
  const all = run.results.map((x) => x.report);
  panel.dataset.sha512 = all.map((x) => x.sha512 || '-').join(' ');
  panel.dataset.contentDigest = all.map((x) => x.content_digest).join(' ');
}

/** The panel is shown while it has results or outputs kept in browser storage. */
export function showPanel() {
  const stored = document.querySelector('[data-testid=stored]');
  $('result').hidden = !$('result-disks').children.length && !(stored && !stored.hidden);
}

/**
 * Show disk `d` of `run` (`{results, format}`) converted into `target` (see save.js):
 * `report` is the converter's, `secs` the time it took.
 */
export async function show(run, d, target, report, secs) {
  shown = run;
  const panel = $('result');
  const res = { d, report, target, secs, removed: false, url: null, pre: h('pre', { class: 'cmd' }), entry: null, sha: h('span'), hashing: null, hashError: null };
  run.results.push(res);
  res.pre.textContent = commandText(d, run.format);
  if (target.kind === 'opfs') {
    res.url = URL.createObjectURL(await opfsFile(target.name));
    objectUrls.push(res.url);
  }
  res.entry = h('div', { class: 'result-disk', dataset: { contentDigest: report.content_digest, output: d.outName } });
  if (report.sha512) res.entry.dataset.sha512 = report.sha512;
  draw(res);
  $('result-disks').append(res.entry);
  panelDigests(run);
  panel.hidden = false;
  // Record on the VM's checklist.
  const vmKey = inputLabel(d.input);
  store.update(vmKey, (c) => {
    c.done.convert = true;
    c.digests = (c.digests || []).filter((x) => x.output !== d.outName).concat([{ output: d.outName, source: baseName(d.info.name), format: report.format, output_len: report.output_len, virtual_size: report.virtual_size, content_digest: report.content_digest, sha512: report.sha512 || undefined }]);
  });
  checklist.refresh(vmKey);
}

/**
 * Compute the SHA-512 of `res`'s saved output (read back from browser storage or the chosen
 * file, in a hasher worker) and record it: the entry, the panel, the VM's checklist and, for
 * browser storage, the output's sidecar (so a later Send of it need not compute it again).
 */
async function computeSha512(res) {
  if (res.hashing || res.report.sha512 || res.removed) return;
  const hadFocus = res.sha.contains(document.activeElement);
  res.hashing = { done: 0 };
  res.hashError = null;
  drawSha(res);
  try {
    const onProgress = (done, total) => {
      res.hashing.done = done / total;
      drawSha(res);
    };
    const sha512 = res.target.kind === 'opfs' ? await opfsHash(res.target.name, { onProgress })
      : await hashFile(await res.target.handle.getFile(), { onProgress });
    res.report.sha512 = sha512;
    res.entry.dataset.sha512 = sha512;
    if (shown && shown.results.includes(res)) panelDigests(shown);
    const vmKey = inputLabel(res.d.input);
    store.update(vmKey, (c) => {
      c.digests = (c.digests || []).map((x) => (x.output === res.d.outName ? { ...x, sha512 } : x));
    });
    checklist.refresh(vmKey);
  } catch (e) {
    res.hashError = String((e && e.message) || e);
  } finally {
    res.hashing = null;
    drawSha(res);
    if (hadFocus) res.sha.querySelector('[tabindex], button').focus();
  }
}

/** The SHA-512's value, or its Compute button (with its progress, or why it failed). */
function drawSha(res) {
  const { report } = res;
  if (report.sha512) {
    res.sha.replaceChildren(h('span', { class: 'mono', 'data-testid': 'sha512', tabindex: '-1' }, report.sha512));
    return;
  }
  const label = res.hashing
    ? t('run.result.sha512Computing', { percent: percent(Math.floor(res.hashing.done * 100) / 100) })
    : t('run.result.sha512Compute');
  const busy = res.sha.querySelector('button');
  if (res.hashing && busy && busy.disabled) {
    // Progress: the text only, so the button stays where it is.
    busy.textContent = label;
    return;
  }
  const button = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'sha512-compute', disabled: !!res.hashing || res.removed }, label);
  button.addEventListener('click', () => computeSha512(res));
  const why = res.hashError ? h('span', { class: 'error', role: 'alert', 'data-testid': 'sha512-error' }, t('run.result.sha512Failed', { message: res.hashError }))
    : h('span', { class: 'hint' }, t('run.result.sha512Later'));
  res.sha.replaceChildren(button, ' ', why);
}

/** A size in words and exact bytes: "8.00 GiB (8,589,934,592 bytes)". */
function sizeText(n) {
  return t('run.result.sizeExact', { size: bytes(n), bytes: number(n) });
}

/** (Re)draw a result entry from its data, in the page's language. */
function draw(res) {
  const { d, report, target, secs } = res;
  const name = d.outName;
  let save;
  if (target.kind === 'opfs') {
    const link = h('a', { download: name, 'data-testid': 'download-link', class: 'button' });
    if (res.removed) link.textContent = t('run.result.removed', { name });
    else {
      link.href = res.url;
      link.textContent = t('run.result.download', { name });
    }
    const remove = h('button', { type: 'button', class: 'secondary small', disabled: res.removed }, t('run.result.remove'));
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      URL.revokeObjectURL(res.url);
      await opfsRemove(target.name);
      res.removed = true;
      draw(res);
      onRemoved();
    });
    save = h('div', { class: 'row wrap' }, link, remove, h('span', { class: 'hint' }, t('run.result.kept')));
  } else if (target.kind === 'upload') {
    save = h('p', { class: 'ok' }, t('run.result.streamed'));
  } else {
    save = h('p', { class: 'ok' }, t('run.result.savedAs', { name: target.name }));
  }
  const copyBtn = copyButton(() => res.pre.textContent,
    { label: 'run.result.copy', done: 'run.result.copied', failed: 'run.result.copyFailed', 'data-testid': 'copy-commands' });
  res.pre.setAttribute('aria-label', t('run.result.commandsLabel'));
  const dataRate = report.data_bytes / Math.max(secs, 0.001);
  drawSha(res);
  res.entry.replaceChildren(
    h('h3', {}, name),
    save,
    kv([
      [t('run.result.format'), report.format],
      [t('run.result.outputSize'), sizeText(report.output_len)],
      [t('run.result.virtualSize'), sizeText(report.virtual_size)],
      [t('run.result.guestData'), bytes(report.data_bytes)],
      [t('run.result.time'), t('run.result.timeValue', { time: duration(secs), rate: rate(dataRate) })],
    ]),
    kv([
      [h('span', { title: t('run.result.contentDigestHelp') }, t('run.result.contentDigest')), h('span', { class: 'mono', 'data-testid': 'content-digest' }, report.content_digest)],
      [t('run.result.sha512'), res.sha],
    ]),
    h('div', { class: 'row' }, h('strong', {}, t('run.result.byHand')), copyBtn),
    res.pre,
  );
}

/**
 * Bring the result and its Download into view once a run is over (smoothly unless the user
 * asked for reduced motion), and move the focus to its heading so keyboard and screen-reader
 * users land there too.
 */
export function reveal() {
  const panel = $('result');
  if (panel.hidden) return;
  const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
  panel.scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' });
  const heading = $('h-result') || panel.querySelector('h2');
  if (heading) {
    if (!heading.hasAttribute('tabindex')) heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

onLangChange(() => {
  if (shown) shown.results.forEach(draw);
});
