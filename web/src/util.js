// Small helpers for the page: DOM building, number formatting, shell quoting, the equivalent
// command lines.

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

/** A core error `{kind, file, offset, message}` as one line, like the CLI prints it. */
export function errorText(e) {
  if (!e || typeof e !== 'object') return String(e);
  let s = '';
  if (e.file) s += `${e.file}: `;
  if (e.offset != null) s += `offset ${e.offset} (0x${Number(e.offset).toString(16)}): `;
  return s + (e.message || String(e));
}

/** POSIX shell single quoting, only where needed. */
export function sh(s) {
  s = String(s);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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

/**
 * The commands a user could run by hand for the same result: extraction (OVA), qemu-img
 * convert, checks, and the Glance upload with the (edited) properties.
 */
export function commands({ input, disk, format, clusterSize, outName, imageName, suggestion, props }) {
  const lines = [];
  let src = disk.name;
  if (input.kind === 'ova') {
    const member = disk.name.includes('/') ? disk.name.slice(disk.name.lastIndexOf('/') + 1) : disk.name;
    lines.push(`tar -xf ${sh(baseName(input.name))} ${sh(member)}`);
    src = member;
  }
  const fmt = format === 'raw' ? 'raw' : 'qcow2';
  const opts = [];
  if (format === 'qcow2-compressed') opts.push('-c');
  if (fmt === 'qcow2' && clusterSize && clusterSize !== 65536) opts.push('-o', `cluster_size=${clusterSize}`);
  lines.push(`qemu-img convert -p -f vmdk -O ${fmt} ${opts.join(' ')}${opts.length ? ' ' : ''}${sh(src)} ${sh(outName)}`);
  if (fmt === 'qcow2') lines.push(`qemu-img check ${sh(outName)}`);
  lines.push(`sha512sum ${sh(outName)}`);
  const os = ['openstack image create', '--disk-format', fmt, '--container-format', 'bare'];
  if (suggestion && suggestion.min_ram) os.push('--min-ram', String(suggestion.min_ram));
  if (suggestion && suggestion.min_disk) os.push('--min-disk', String(suggestion.min_disk));
  for (const p of props || []) {
    if (p.key && p.value !== '') os.push('--property', sh(`${p.key}=${p.value}`));
  }
  os.push('--file', sh(outName), sh(imageName));
  lines.push(os.join(' '));
  const f = suggestion && suggestion.flavor;
  if (f && f.vcpus && f.ram_mib) {
    lines.push(`openstack flavor create --vcpus ${f.vcpus} --ram ${f.ram_mib}${f.disk_gib ? ` --disk ${f.disk_gib}` : ''} ${sh(`${imageName}-flavor`)}`);
  }
  return lines.join('\n');
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
