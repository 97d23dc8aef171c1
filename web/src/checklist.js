// The migration checklist from the field's practice, one per VM, kept in localStorage and
// exportable as Markdown.

const KEY = 'stackferry.checklist.v1';

export const ITEMS = [
  { id: 'inventory', text: 'Inventory the VMs and decommission what is not needed' },
  { id: 'low-crit', text: 'Start with a low-criticality VM' },
  { id: 'downtime', text: 'Estimate the downtime and announce it' },
  { id: 'dns-ttl', text: 'Lower the DNS TTL (e.g. to 5 minutes) days before the cutover' },
  { id: 'shutdown', text: 'Shut the guest down cleanly before exporting it' },
  { id: 'convert', text: 'Convert the disks and upload them to Glance (digests recorded below)' },
  { id: 'power-off', text: 'After cutover, power the VMware original off and disable its autostart, so both copies never run at once (split brain)' },
  { id: 'verify', text: 'Verify on the new instance (e.g. a known test file such as message.txt is present and unchanged)' },
];

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

export function markdown(vm) {
  const c = get(vm);
  const lines = [`# Migration checklist: ${vm}`, ''];
  for (const it of ITEMS) lines.push(`- [${c.done[it.id] ? 'x' : ' '}] ${it.text}`);
  if (c.digests.length) {
    lines.push('', '## Converted disks', '');
    for (const d of c.digests) {
      lines.push(`- \`${d.output}\` (${d.format}, ${d.output_len} bytes, virtual size ${d.virtual_size} bytes)`);
      lines.push(`  - content digest: \`${d.content_digest}\``);
      lines.push(`  - sha512 (Glance os_hash_value): \`${d.sha512}\``);
    }
  }
  if (c.notes.trim()) lines.push('', '## Notes', '', c.notes.trim());
  if (c.updated) lines.push('', `_Updated ${c.updated}_`);
  return lines.join('\n') + '\n';
}
