// The commands a user could run by hand for the same result as the page (the "Copy commands"
// of each converted disk): extraction from an OVA, qemu-img convert and check, the SHA-512, the
// Glance upload with the (edited) properties and a flavor. Every name in them comes from the
// user's files (file names, OVA members, the OVF's VM name), so none may be read as an option
// or as shell syntax: each is shell-quoted, and each is behind `./` (paths) or after `--`
// (tar members, image and flavor names). A member named `--to-command=sh -c …` is a file
// to extract, not an option to run it. No DOM here: tested under node (web/tests/unit/).
import { baseName } from './util.js';

/** POSIX shell single quoting, only where needed. */
export function sh(s) {
  s = String(s);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A relative path as an argument that cannot be an option (`./-rf`) nor, for qemu-img, a
 * protocol (`./nbd:host:1`): `./` in front, quoted. Absolute paths stay as they are.
 */
export function path(p) {
  p = String(p);
  return sh(p.startsWith('/') ? p : `./${p}`);
}

/** A count for a numeric option (`--min-ram 512`): digits only, whatever was typed. */
function count(n) {
  return String(Math.max(0, Math.floor(Number(n) || 0)));
}

/**
 * The commands, one per line. `input`: `{kind, name}` (the dropped file that holds the disk);
 * `disk`: the inspection's disk (`name`: its path among the dropped files, or its OVA member);
 * `format`: qcow2 | qcow2-compressed | raw; `outName`: the output file; `imageName`: the Glance
 * image; `suggestion`: `{min_ram, min_disk, flavor: {vcpus, ram_mib, disk_gib}}` as edited;
 * `props`: `[{key, value}]` Glance properties as edited.
 */
export function commands({ input, disk, format, clusterSize, outName, imageName, suggestion, props }) {
  const lines = [];
  let src = disk.name;
  if (input.kind === 'ova') {
    // The disk's member in the archive: the last component of its name.
    const member = disk.name.slice(disk.name.lastIndexOf('/') + 1);
    lines.push(`tar -xf ${path(baseName(input.name))} -- ${sh(member)}`);
    src = member;
  }
  const fmt = format === 'raw' ? 'raw' : 'qcow2';
  const opts = [];
  if (format === 'qcow2-compressed') opts.push('-c');
  if (fmt === 'qcow2' && clusterSize && clusterSize !== 65536) opts.push('-o', `cluster_size=${count(clusterSize)}`);
  lines.push(['qemu-img convert -p -f vmdk -O', fmt, ...opts, path(src), path(outName)].join(' '));
  if (fmt === 'qcow2') lines.push(`qemu-img check ${path(outName)}`);
  lines.push(`sha512sum ${path(outName)}`);
  const os = ['openstack image create', '--disk-format', fmt, '--container-format', 'bare'];
  if (suggestion && suggestion.min_ram) os.push('--min-ram', count(suggestion.min_ram));
  if (suggestion && suggestion.min_disk) os.push('--min-disk', count(suggestion.min_disk));
  // `--property=…` in one word: a value that starts with `-` stays the option's value.
  for (const p of props || []) {
    if (p.key && p.value !== '') os.push(`--property=${sh(`${p.key}=${p.value}`)}`);
  }
  os.push(`--file=${path(outName)}`, '--', sh(imageName));
  lines.push(os.join(' '));
  const f = suggestion && suggestion.flavor;
  if (f && f.vcpus && f.ram_mib) {
    const flavor = ['openstack flavor create --vcpus', count(f.vcpus), '--ram', count(f.ram_mib)];
    if (f.disk_gib) flavor.push('--disk', count(f.disk_gib));
    flavor.push('--', sh(`${imageName}-flavor`));
    lines.push(flavor.join(' '));
  }
  return lines.join('\n');
}
