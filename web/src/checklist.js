// The migration checklist from the field's practice, one per VM, kept in localStorage and
// exportable as Markdown (in the page's language, stamped with the reader's local time).
import { t, bytes, dateTime, number } from './i18n/index.js';

const KEY = 'stackferry.checklist.v1';

/**
 * The items, in order. `text` is read at use time (the page's language, catalogue key
 * `checklist.item.<id>`). `convert` is ticked by a conversion (ui/results.js), `upload` only by
 * a send whose hash Glance confirmed (ui/checklist.js watches #upload-progress): converting
 * locally does not put anything in Glance.
 */
export const ITEMS = ['inventory', 'low-crit', 'downtime', 'dns-ttl', 'shutdown', 'convert', 'upload', 'power-off', 'verify']
  .map((id) => ({ id, get text() { return t(`checklist.item.${id}`); } }));

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function save(all) {
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Storage full or disabled: the checklist just is not kept.
  }
}

export function vms() {
  return Object.keys(load()).sort();
}

export function get(vm) {
  const all = load();
  const c = all[vm] || {};
  return { done: c.done || {}, notes: c.notes || '', digests: c.digests || [], updated: c.updated || null };
}

export function update(vm, change) {
  const all = load();
  const c = { ...get(vm), ...(all[vm] || {}) };
  change(c);
  c.updated = new Date().toISOString();
  all[vm] = c;
  save(all);
}

/** Make sure `vm` has an entry (so it shows in the list). */
export function ensure(vm) {
  const all = load();
  if (!all[vm]) {
    all[vm] = { done: {}, notes: '', digests: [], updated: new Date().toISOString() };
    save(all);
  }
}

/** One recorded disk, as a line: "qcow2, 1.50 MiB (1,572,864 bytes), virtual size 64.0 MiB". */
export function diskLine(d) {
  return t('checklist.disk', {
    format: d.format, size: bytes(d.output_len), exact: number(d.output_len), virtual: bytes(d.virtual_size),
  });
}

/**
 * What the record keeps of one disk, as `[catalogue key, value]`: its source file, digests,
 * and where it went (the Glance image, the Cinder volume), each only when known.
 */
export function recordFacts(d) {
  return [
    ['checklist.digest.source', d.source], ['checklist.digest.content', d.content_digest], ['checklist.digest.sha512', d.sha512],
    ['checklist.digest.image', d.image_id], ['checklist.digest.volume', d.volume_id],
  ].filter(([, v]) => v);
}

/**
 * A name for the exported file: Unicode letters and digits kept (웹서버 stays 웹서버); only what
 * is unsafe in a file name or a shell (separators, control and quote characters, wildcards,
 * a leading dot or dash) is dropped, spaces become `_`.
 */
export function fileName(vm) {
  const safe = String(vm).normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N} ._-]+/gu, '')
    .trim().replace(/\s+/g, '_')
    .replace(/^[.-]+/, '')
    .slice(0, 100);
  return `checklist-${safe || 'vm'}.md`;
}

export function markdown(vm) {
  const c = get(vm);
  const lines = [`# ${t('checklist.md.title', { vm })}`, ''];
  for (const it of ITEMS) lines.push(`- [${c.done[it.id] ? 'x' : ' '}] ${it.text}`);
  if (c.digests.length) {
    lines.push('', `## ${t('checklist.digests')}`, '');
    for (const d of c.digests) {
      lines.push(`- \`${d.output}\` (${diskLine(d)})`);
      for (const [key, value] of recordFacts(d)) lines.push(`  - ${t(key)}: \`${value}\``);
    }
  }
  if (c.notes.trim()) lines.push('', `## ${t('checklist.notes')}`, '', c.notes.trim());
  if (c.updated) lines.push('', `_${t('checklist.md.updated', { date: dateTime(c.updated) })}_`);
  return lines.join('\n') + '\n';
}
