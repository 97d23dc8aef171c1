// The page's "Copy commands" as a user would paste them into bash, for the tests
// (web/tests/unit/commands.test.mjs, web/tests/page.test.mjs): run in a scratch directory with
// every call recorded (its argv exactly as the shell split it); tar, qemu-img and sha512sum
// run for real unless stubbed, openstack is always stubbed (there is no cloud here). Then
// `assertSafe` checks that no name from the user's files can have been read as an option.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The commands the page prints, and the options each may be given by the page itself. */
const OPTIONS = {
  tar: ['-xf'],
  'qemu-img': ['-p', '-f', '-O', '-c', '-o'],
  sha512sum: [],
  openstack: ['--disk-format', '--container-format', '--min-ram', '--min-disk', '--vcpus', '--ram', '--disk'],
};
/** Options the page writes with their value in the same word. */
const ATTACHED = ['--property=', '--file='];

/**
 * Run `text` with bash (`set -e`) in `dir`; `real`: the commands that run for real (the others
 * are recorded only). Returns the calls, `[{cmd, args}]`, in order. Throws if bash finds a
 * syntax error (`bash -n`) or a command fails.
 */
export function runCommands(text, dir, { real = [] } = {}) {
  execFileSync('bash', ['-n', '-c', text], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = path.join(dir, '.calls');
  fs.writeFileSync(log, '');
  const wrap = Object.keys(OPTIONS).map((c) => (real.includes(c)
    ? `${c}() { __rec ${c} "$@"; command ${c} "$@"; }`
    : `${c}() { __rec ${c} "$@"; }`));
  const script = [
    'set -e',
    `__rec() { printf '%s\\0' "$#" "$@" >> ${JSON.stringify(log)}; }`,
    // Anything else the text would run (an injected command) is recorded, then fails.
    'command_not_found_handle() { __rec "not-found:$1" "${@:2}"; return 127; }',
    ...wrap,
    text,
  ].join('\n');
  let failed = null;
  try {
    execFileSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    failed = e;
  }
  const parts = fs.readFileSync(log, 'utf8').split('\0');
  fs.rmSync(log);
  const calls = [];
  for (let i = 0; i + 1 < parts.length;) {
    const n = Number(parts[i]);
    calls.push({ cmd: parts[i + 1], args: parts.slice(i + 2, i + 1 + n) });
    i += 1 + n;
  }
  if (failed) throw new Error(`the commands failed (${failed.status}): ${failed.stderr}\ncalls: ${JSON.stringify(calls)}\n${text}`);
  return calls;
}

/**
 * Every call is one of the page's commands, every option is one the page writes, and every
 * argument holding one of `names` comes after `--`, behind `./` (or `/`), or as the value of an
 * option written in the same word (`--file=./x`, `--property=k=v`).
 */
export function assertSafe(calls, names) {
  for (const { cmd, args } of calls) {
    if (!(cmd in OPTIONS)) throw new Error(`unexpected command run: ${cmd} ${JSON.stringify(args)}`);
    const end = args.indexOf('--');
    args.forEach((a, i) => {
      const afterEnd = end >= 0 && i > end;
      if (!afterEnd && i !== end && a.startsWith('-') && !OPTIONS[cmd].includes(a) && !ATTACHED.some((o) => a.startsWith(o))) {
        throw new Error(`${cmd}: '${a}' would be read as an option: ${JSON.stringify(args)}`);
      }
      if (names.some((n) => a.includes(n)) && !afterEnd && !/^\.?\//.test(a) && !ATTACHED.some((o) => a.startsWith(o))) {
        throw new Error(`${cmd}: the name in '${a}' is neither after -- nor behind ./: ${JSON.stringify(args)}`);
      }
    });
  }
}
