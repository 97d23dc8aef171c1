// The "Copy commands" the page prints (web/src/commands.js), under node: names from the
// user's files (file names, OVA members, the OVF's VM name, edited property values) can never
// be read as an option or as shell syntax. The printed text goes through bash as a user would
// paste it (web/tests/shell.mjs): its argv must come back exactly as meant, every name after
// `--` or behind `./`; and with real tar, qemu-img and sha512sum it extracts and converts a
// disk from an OVA whose member name is a tar option that runs a command.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commands, path as argPath, sh } from '../../src/commands.js';
import { outputName } from '../../src/util.js';
import { assertSafe, runCommands } from '../shell.mjs';

/** Names an attacker may give a file, a member or a VM. */
const HOSTILE = [
  '--to-command=sh${IFS}-c${IFS}x',
  '--to-command=touch${IFS}pwned',
  '-rf',
  '$(touch pwned)',
  '`touch pwned`',
  `it's "quoted"`,
  '; touch pwned #',
  'nbd:127.0.0.1:1',
  ' spaced out ',
];

function scratch(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackferry-cmd-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The page's commands for one disk of `input`, with its VM name and an edited property. */
function print({ kind = 'ova', inputName, diskName, format = 'qcow2', imageName, property = 'virtio' }) {
  return commands({
    input: { kind, name: inputName },
    disk: { name: diskName },
    format, clusterSize: 65536, outName: outputName(diskName, format), imageName,
    suggestion: { min_ram: 1024, min_disk: 2, flavor: { vcpus: 2, ram_mib: 1024, disk_gib: 2 } },
    props: [{ key: 'hw_disk_bus', value: property }, { key: 'hw_vif_model', value: '' }],
  });
}

test('plain names print as before, with ./ and --', () => {
  assert.equal(print({ inputName: 'ubuntu.ova', diskName: 'ubuntu.2.0-disk1.vmdk', imageName: 'ubuntu' }), [
    'tar -xf ./ubuntu.ova -- ubuntu.2.0-disk1.vmdk',
    'qemu-img convert -p -f vmdk -O qcow2 ./ubuntu.2.0-disk1.vmdk ./ubuntu.2.0-disk1.qcow2',
    'qemu-img check ./ubuntu.2.0-disk1.qcow2',
    'sha512sum ./ubuntu.2.0-disk1.qcow2',
    'openstack image create --disk-format qcow2 --container-format bare --min-ram 1024 --min-disk 2 --property=hw_disk_bus=virtio --file=./ubuntu.2.0-disk1.qcow2 -- ubuntu',
    'openstack flavor create --vcpus 2 --ram 1024 --disk 2 -- ubuntu-flavor',
  ].join('\n'));
  assert.equal(print({ kind: 'vmdk', inputName: 'vm/disk.vmdk', diskName: 'vm/disk.vmdk', format: 'raw', imageName: 'disk' }).split('\n').slice(0, 2).join('\n'), [
    'qemu-img convert -p -f vmdk -O raw ./vm/disk.vmdk ./disk.raw',
    'sha512sum ./disk.raw',
  ].join('\n'));
  assert.match(print({ inputName: 'a.ova', diskName: 'a.vmdk', format: 'qcow2-compressed', imageName: 'a' }), /^qemu-img convert -p -f vmdk -O qcow2 -c \.\/a\.vmdk \.\/a\.qcow2$/m);
});

test('sh quotes only where needed; path puts ./ in front of relative paths', () => {
  assert.equal(sh('plain-name_1.2'), 'plain-name_1.2');
  assert.equal(sh("it's"), `'it'\\''s'`);
  assert.equal(sh('$(x)'), `'$(x)'`);
  assert.equal(argPath('-rf'), './-rf');
  assert.equal(argPath('dir/$(x)'), `'./dir/$(x)'`);
  assert.equal(argPath('/abs/x'), '/abs/x');
});

test('hostile names: bash reads every one back as one argument, after -- or behind ./', (t) => {
  const dir = scratch(t);
  for (const name of HOSTILE) {
    for (const format of ['qcow2', 'raw']) {
      const inputName = `${name}.ova`;
      const member = `${name}.vmdk`;
      const out = outputName(member, format);
      const text = print({ inputName, diskName: member, format, imageName: name, property: name });
      const calls = runCommands(text, dir);
      assertSafe(calls, [name]);
      const fmt = format === 'raw' ? 'raw' : 'qcow2';
      const expected = [
        { cmd: 'tar', args: ['-xf', `./${inputName}`, '--', member] },
        { cmd: 'qemu-img', args: ['convert', '-p', '-f', 'vmdk', '-O', fmt, `./${member}`, `./${out}`] },
        ...(fmt === 'qcow2' ? [{ cmd: 'qemu-img', args: ['check', `./${out}`] }] : []),
        { cmd: 'sha512sum', args: [`./${out}`] },
        {
          cmd: 'openstack',
          args: ['image', 'create', '--disk-format', fmt, '--container-format', 'bare', '--min-ram', '1024', '--min-disk', '2',
            `--property=hw_disk_bus=${name}`, `--file=./${out}`, '--', name],
        },
        { cmd: 'openstack', args: ['flavor', 'create', '--vcpus', '2', '--ram', '1024', '--disk', '2', '--', `${name}-flavor`] },
      ];
      assert.deepEqual(calls, expected, `commands for ${JSON.stringify(name)}:\n${text}`);
      assert.deepEqual(fs.readdirSync(dir), [], `nothing ran: ${fs.readdirSync(dir)}`);
    }
  }
});

test('numbers stay numbers whatever was typed', (t) => {
  const text = commands({
    input: { kind: 'vmdk', name: 'd.vmdk' }, disk: { name: 'd.vmdk' }, format: 'qcow2', clusterSize: 65536,
    outName: 'd.qcow2', imageName: 'd',
    suggestion: { min_ram: '512; touch pwned', min_disk: 1, flavor: { vcpus: '2 -rf', ram_mib: 64, disk_gib: 1 } },
    props: [],
  });
  assertSafe(runCommands(text, scratch(t)), ['touch', '-rf']);
  // What is not a number counts as 0 (the page's own fields only give whole numbers).
  assert.match(text, /--min-ram 0 --min-disk 1 /);
  assert.match(text, /--vcpus 0 --ram 64 --disk 1 -- d-flavor/);
});

test('with real tar, qemu-img and sha512sum: an OVA member named as a tar option is extracted, not run', (t) => {
  const dir = scratch(t);
  const member = '--to-command=touch${IFS}pwned';
  const inputName = '-rf $(touch pwned).ova';
  // The OVA: one member, a small stream-optimized VMDK, named as the option.
  const make = fs.mkdtempSync(path.join(dir, '.make-'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', `./${member}`, '1M'], { cwd: make });
  execFileSync('tar', ['--format=ustar', '-cf', path.join(dir, inputName), '--', member], { cwd: make });
  fs.rmSync(make, { recursive: true });
  // The payload is real: the line the page printed before runs it.
  const old = fs.mkdtempSync(path.join(dir, '.old-'));
  fs.copyFileSync(path.join(dir, inputName), path.join(old, 'evil.ova'));
  execFileSync('bash', ['-c', `tar -xf evil.ova ${sh(member)}`], { cwd: old, stdio: 'ignore' });
  assert.ok(fs.existsSync(path.join(old, 'pwned')), 'the unsafe command runs the member name as tar\'s --to-command');
  fs.rmSync(old, { recursive: true });

  const out = outputName(member, 'qcow2');
  const text = print({ inputName, diskName: member, imageName: '--to-command=sh${IFS}-c${IFS}x' });
  const calls = runCommands(text, dir, { real: ['tar', 'qemu-img', 'sha512sum'] });
  assertSafe(calls, [member, inputName, '--to-command=sh${IFS}-c${IFS}x']);
  assert.ok(!fs.existsSync(path.join(dir, 'pwned')), 'no payload ran');
  assert.ok(fs.statSync(path.join(dir, member)).size > 0, 'the member was extracted under its name');
  assert.match(execFileSync('qemu-img', ['check', `./${out}`], { cwd: dir, encoding: 'utf8' }), /No errors were found/);
  assert.deepEqual(fs.readdirSync(dir).sort(), [inputName, member, out].sort());
});

test('Korean names: kept in the output name, quoted so bash reads them back exactly', (t) => {
  const dir = scratch(t);
  const cases = [
    // [OVA, member, VM name]
    ['웹서버.ova', '웹서버-disk1.vmdk', '웹서버'],
    ['디비 서버 (운영).ova', '디비 서버-disk1.vmdk', '디비 서버 (운영)'],
    ['--to-command=sh 웹서버.ova', "$(touch pwned) '웹'\".vmdk", '-rf 웹서버'],
    ['한글`touch pwned`.ova', '-디스크;touch pwned.vmdk', '`touch pwned` 서버'],
  ];
  for (const [inputName, member, vm] of cases) {
    const out = outputName(member, 'qcow2');
    assert.match(out, /\p{Script=Hangul}/u, `${member} → ${out} keeps its Hangul`);
    assert.match(out, /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._+,=@-]*\.qcow2$/u, `${out}: no shell syntax, no leading - or .`);
    const text = print({ inputName, diskName: member, imageName: vm, property: 'virtio' });
    const calls = runCommands(text, dir);
    assertSafe(calls, [inputName, member, vm]);
    assert.deepEqual(calls.map((c) => c.cmd), ['tar', 'qemu-img', 'qemu-img', 'sha512sum', 'openstack', 'openstack']);
    assert.deepEqual(calls[0].args, ['-xf', `./${inputName}`, '--', member], text);
    assert.deepEqual(calls[1].args.slice(-2), [`./${member}`, `./${out}`], text);
    assert.deepEqual(calls[4].args.slice(-2), ['--', vm], text);
    assert.deepEqual(calls[5].args.slice(-2), ['--', `${vm}-flavor`], text);
    assert.deepEqual(fs.readdirSync(dir), [], `nothing ran: ${fs.readdirSync(dir)}`);
  }
  assert.equal(outputName('웹서버-disk1.vmdk', 'qcow2'), '웹서버-disk1.qcow2');
  assert.match(print({ inputName: '웹서버.ova', diskName: '웹서버-disk1.vmdk', imageName: '웹서버' }),
    /^tar -xf '\.\/웹서버\.ova' -- '웹서버-disk1\.vmdk'\nqemu-img convert -p -f vmdk -O qcow2 '\.\/웹서버-disk1\.vmdk' '\.\/웹서버-disk1\.qcow2'$/m);
});
