#!/usr/bin/env python3
"""Summarise V8 `--prof` logs (one per isolate: the page and each of its workers) as self time
per function: what `node --prof-process` does, for a Chromium whose log it cannot read (newer
code states). usage: python3 bench/v8-ticks.py DIR|LOG... [--top N]

Each tick's program counter is looked up among the code the log created (JavaScript, Wasm,
V8 builtins) and the shared libraries; a tick in a library (memcpy in libc, Blink in chromium)
is also charged to the nearest JavaScript or Wasm frame on its stack ("called from"). The
isolate is named by the first worker script (`*-worker.js`) it compiled, else "page"."""
import bisect, collections, csv, glob, os, re, sys

csv.field_size_limit(sys.maxsize)
WORKER = re.compile(r'/([\w-]+-worker\.js)\b')


def parse(path):
    code = {}  # start -> [size, name, kind]
    libs = []
    ticks = []
    worker = None
    with open(path, newline='', errors='replace') as f:
        for row in csv.reader(f):
            if not row:
                continue
            op = row[0]
            try:
                if op == 'code-creation':
                    start, size = int(row[4], 16), int(row[5])
                    code[start] = [size, row[6], row[1]]
                    m = worker is None and WORKER.search(row[6])
                    if m:
                        worker = m.group(1)
                elif op == 'code-move':
                    old, new = int(row[1], 16), int(row[2], 16)
                    if old in code:
                        code[new] = code.pop(old)
                elif op == 'shared-library':
                    libs.append((int(row[2], 16), int(row[3], 16), os.path.basename(row[1])))
                elif op == 'tick':
                    pc = int(row[1], 16)
                    stack = [int(x, 16) for x in row[6:] if x.startswith('0x')]
                    ticks.append((pc, stack))
            except (IndexError, ValueError):
                continue
    return code, libs, ticks, worker or 'page'


def summarise(path, top):
    code, libs, ticks, who = parse(path)
    starts = sorted(code)

    def find(pc):
        i = bisect.bisect_right(starts, pc) - 1
        if i >= 0:
            s = starts[i]
            size, name, kind = code[s]
            if pc < s + size:
                return name, kind
        for a, b, lib in libs:
            if a <= pc < b:
                return lib, 'lib'
        return '(unknown)', 'unknown'

    self_ = collections.Counter()
    via = collections.Counter()
    for pc, stack in ticks:
        name, kind = find(pc)
        self_[(kind, name)] += 1
        if kind in ('lib', 'unknown'):
            for a in stack:
                n, k = find(a)
                if k not in ('lib', 'unknown', 'Builtin', 'BytecodeHandler', 'Handler', 'Stub'):
                    via[(name, n)] += 1
                    break
    if not ticks:
        return None
    lines = [f'== {os.path.basename(path)}: {who}, {len(ticks)} ticks']
    for (kind, name), n in self_.most_common(top):
        lines.append(f'  {100 * n / len(ticks):5.1f}%  {kind:8.8} {name[:110]}')
    if via:
        lines.append('  library ticks, by the nearest JavaScript/Wasm caller:')
        for (lib, n_), n in via.most_common(top // 2):
            lines.append(f'  {100 * n / len(ticks):5.1f}%  {lib} <- {n_[:100]}')
    return len(ticks), '\n'.join(lines)


def main():
    args = sys.argv[1:]
    top = 20
    if '--top' in args:
        i = args.index('--top')
        top = int(args[i + 1])
        del args[i:i + 2]
    paths = []
    for a in args or ['.']:
        paths += sorted(glob.glob(os.path.join(a, 'isolate-*.log'))) if os.path.isdir(a) else [a]
    out = [s for s in (summarise(p, top) for p in paths) if s]
    for _, text in sorted(out, reverse=True):
        print(text)


if __name__ == '__main__':
    main()
