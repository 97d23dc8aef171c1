// Section 4, "Result": per converted disk where it went (a download link to the file in
// browser storage, the chosen file, or OpenStack), its sizes, time, digests, and the commands
// that would do the same by hand. `#result` carries every disk's SHA-512 and content digest in
// conversion order; each disk's entry its own. Converting records the digests on the VM's
// checklist.
import { $, h, kv, bytes, duration, copyText } from '../util.js';
import { commands } from '../commands.js';
import { opfsFile, opfsRemove } from '../save.js';
import * as store from '../checklist.js';
import * as checklist from './checklist.js';
import { choiceFor, imageName, inputLabel } from './inputs.js';

/** The run whose results are shown (`{results: [{d, report, pre}], format}`). */
let shown = null;
/** OPFS files this tab made (removed when a new conversion starts or by the user). */
const stored = new Set();
/** Object URLs of the download links. */
let objectUrls = [];

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

/** Remove the outputs this tab left in browser storage (before a new conversion into it). */
export async function removeStored() {
  for (const n of stored) await opfsRemove(n);
  stored.clear();
}

/** Hide the previous results. */
export function reset() {
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];
  const panel = $('result');
  panel.hidden = true;
  $('result-disks').replaceChildren();
  delete panel.dataset.sha512;
  delete panel.dataset.contentDigest;
}

/**
 * Show disk `d` of `run` (`{results, format}`) converted into `target` (see save.js):
 * `report` is the converter's, `secs` the time it took.
 */
export async function show(run, d, target, report, secs) {
  shown = run;
  const panel = $('result');
  const pre = h('pre', { class: 'cmd', 'aria-label': 'Equivalent commands' });
  run.results.push({ d, report, pre });
  pre.textContent = commandText(d, run.format);
  const copyBtn = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'copy-commands' }, 'Copy commands');
  copyBtn.addEventListener('click', async () => {
    const ok = await copyText(pre.textContent);
    copyBtn.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { copyBtn.textContent = 'Copy commands'; }, 2000);
  });
  const entry = h('div', { class: 'result-disk', dataset: { sha512: report.sha512, contentDigest: report.content_digest, output: d.outName } });
  entry.append(h('h3', {}, d.outName));
  let save;
  if (target.kind === 'opfs') {
    stored.add(target.name);
    const file = await opfsFile(target.name);
    const url = URL.createObjectURL(file);
    objectUrls.push(url);
    const remove = h('button', { type: 'button', class: 'secondary small' }, 'Remove from browser storage');
    remove.addEventListener('click', async () => {
      URL.revokeObjectURL(url);
      await opfsRemove(target.name);
      stored.delete(target.name);
      link.removeAttribute('href');
      link.textContent = `${d.outName} (removed from browser storage)`;
      remove.disabled = true;
    });
    const link = h('a', { href: url, download: d.outName, 'data-testid': 'download-link', class: 'button' }, `Download ${d.outName}`);
    save = h('div', { class: 'row wrap' }, link, remove, h('span', { class: 'hint' }, 'Kept in this browser’s storage until removed or the page is reloaded after 12 hours.'));
  } else if (target.kind === 'upload') {
    save = h('p', { class: 'ok' }, 'Streamed into OpenStack while converting (see section 5).');
  } else {
    save = h('p', { class: 'ok' }, `Saved as ${target.name}.`);
  }
  entry.append(save, kv([
    ['Format', report.format],
    ['Output size', `${bytes(report.output_len)} (${report.output_len} bytes)`],
    ['Virtual size', `${bytes(report.virtual_size)} (${report.virtual_size} bytes)`],
    ['Guest data', bytes(report.data_bytes)],
    ['Time', `${duration(secs)} (${bytes(report.data_bytes / Math.max(secs, 0.001))}/s of data)`],
  ]));
  entry.append(kv([
    ['Content digest', h('span', { class: 'mono', 'data-testid': 'content-digest' }, report.content_digest)],
    ['SHA-512 (Glance os_hash_value)', h('span', { class: 'mono', 'data-testid': 'sha512' }, report.sha512)],
  ]));
  entry.append(h('div', { class: 'row' }, h('strong', {}, 'The same by hand'), copyBtn), pre);
  $('result-disks').append(entry);
  const all = run.results.map((x) => x.report);
  panel.dataset.sha512 = all.map((x) => x.sha512).join(' ');
  panel.dataset.contentDigest = all.map((x) => x.content_digest).join(' ');
  panel.hidden = false;
  // Record on the VM's checklist.
  const vmKey = inputLabel(d.input);
  store.update(vmKey, (c) => {
    c.done.convert = true;
    c.digests = (c.digests || []).filter((x) => x.output !== d.outName).concat([{ output: d.outName, format: report.format, output_len: report.output_len, virtual_size: report.virtual_size, content_digest: report.content_digest, sha512: report.sha512 }]);
  });
  checklist.refresh(vmKey);
}
