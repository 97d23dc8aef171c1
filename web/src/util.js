// Small helpers for the page: DOM building, number formatting, names.
import { t } from './i18n/index.js';

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** Create an element: h('p', {class: 'x', onclick: f}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A definition list of `[term, value]` pairs, leaving out empty values. */
export function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) if (v != null && v !== '') dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

// Sizes and durations in the page's language (grouped numbers, the locale's decimal sign).
export { bytes, duration } from './i18n/index.js';

/** The last path component. */
export function baseName(p) {
  return String(p).split(/[\\/]/).pop();
}

/**
 * A file or image name made safe for paths and shells while keeping what the person wrote:
 * Unicode letters, digits and marks stay (웹서버-disk1 stays 웹서버-disk1); path separators,
 * control characters, whitespace and shell syntax (quotes, `$`, backtick, `;`, `|`, `&`, `*`,
 * `?`, brackets…) become `_` (runs of them one `_`); a leading `-` or `.` (an option, a hidden
 * or relative name) is dropped. NFC, so the same name typed on macOS and on Windows is one
 * name. Empty → `fallback`.
 */
export function safeName(s, fallback = 'disk') {
  const out = String(s).normalize('NFC')
    .replace(/[^\p{L}\p{N}\p{M}._+,=@-]+/gu, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[-._]+/, '')
    .replace(/_+$/, '')
    .slice(0, 120);
  return out || fallback;
}

/**
 * Output file name for a disk: its base name without the VMware extension, made safe
 * (safeName). `taken` (a Set, shared by the disks of one run) makes every name unique:
 * `name-2.qcow2`, compared without case (Windows and macOS file systems ignore it).
 */
export function outputName(diskName, format, taken) {
  const stem = safeName(baseName(diskName).replace(/\.(vmdk|ova|ovf)$/i, ''));
  const ext = format === 'raw' ? 'raw' : 'qcow2';
  let name = `${stem}.${ext}`;
  for (let i = 2; taken && taken.has(name.toLowerCase()); i++) name = `${stem}-${i}.${ext}`;
  if (taken) taken.add(name.toLowerCase());
  return name;
}

/** Copy text to the clipboard (falls back to a hidden textarea where the API is missing). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'visually-hidden', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

/**
 * A button that copies `text()` to the clipboard and says for two seconds whether it did.
 * `label`, `done`, `failed`: catalogue keys, looked up when shown; `attrs` as for `h`.
 */
export function copyButton(text, { label, done, failed, ...attrs }) {
  const button = h('button', { type: 'button', class: 'secondary small', ...attrs }, t(label));
  button.addEventListener('click', async () => {
    const ok = await copyText(text());
    button.textContent = t(ok ? done : failed);
    setTimeout(() => { button.textContent = t(label); }, 2000);
  });
  return button;
}

/** Offer `text` as a file download. */
export function downloadText(name, text, type = 'text/markdown') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
