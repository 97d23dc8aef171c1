// Small helpers for the page: DOM building, number formatting, names.

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

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (n == null || !Number.isFinite(n)) return '–';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[i]}`;
}

/** Seconds → "1:05" / "1:02:03". */
export function duration(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** The last path component. */
export function baseName(p) {
  return String(p).split(/[\\/]/).pop();
}

/** Output file name for a disk: its base name without the VMware extension. */
export function outputName(diskName, format, taken) {
  let stem = baseName(diskName).replace(/\.(vmdk|ova|ovf)$/i, '') || 'disk';
  stem = stem.replace(/[^A-Za-z0-9._-]+/g, '_');
  const ext = format === 'raw' ? 'raw' : 'qcow2';
  let name = `${stem}.${ext}`;
  for (let i = 2; taken && taken.has(name); i++) name = `${stem}-${i}.${ext}`;
  if (taken) taken.add(name);
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

/** Offer `text` as a file download. */
export function downloadText(name, text, type = 'text/markdown') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
