#!/usr/bin/env python3
"""Fill a directory with real files for the benchmark disk.

Usage: mkroot.py ROOTDIR DATA_BYTES

Copies regular files from a few system trees, each up to its share of DATA_BYTES (sampled evenly
over the tree in path order, so the choice is the same on every run on one machine), plus a share of random
(incompressible) bytes. The mix: shared libraries and binaries (compress ~2-3x), text and
docs (compress well, some already gzip-compressed), the Rust toolchain (rlibs, .so), random.
A tree that is missing or smaller than its share just gives what it has. Prints the bytes
copied per tree.
"""
import os
import shutil
import sys

# (label, source tree, share of the data budget)
SOURCES = [
    ("usr-lib", "/usr/lib", 0.40),
    ("usr-share", "/usr/share", 0.15),
    ("rustup", os.path.expanduser("~/.rustup"), 0.30),
    ("random", None, 0.15),
]
# Random data goes in files of this size (like media or archives in a real guest).
RANDOM_FILE = 64 << 20


def walk_files(top):
    """Regular files under `top`, sorted by path; symlinks and special files skipped."""
    out = []
    for d, dirs, files in os.walk(top, followlinks=False):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            out.append((p, st.st_size))
    return out


def main():
    root, budget = sys.argv[1], int(sys.argv[2])
    os.makedirs(root, exist_ok=True)
    total = 0
    for label, src, share in SOURCES:
        want = int(budget * share)
        got = 0
        dest = os.path.join(root, label)
        os.makedirs(dest, exist_ok=True)
        if src is None:
            i = 0
            while got < want:
                n = min(RANDOM_FILE, want - got)
                with open(os.path.join(dest, f"blob{i:04}.bin"), "wb") as f:
                    left = n
                    while left:
                        k = min(left, 8 << 20)
                        f.write(os.urandom(k))
                        left -= k
                got += n
                i += 1
        elif os.path.isdir(src):
            files = walk_files(src)
            # Spread the sample over the whole tree: take a file when the bytes taken so far
            # fall behind the share `frac` of the bytes seen so far.
            frac = min(1.0, want / max(1, sum(s for _, s in files)))
            seen = 0
            for path, size in files:
                seen += size
                if got >= want:
                    break
                if size == 0 or got + size / 2 > frac * seen or got + size > want + (16 << 20):
                    continue
                rel = os.path.relpath(path, src)
                target = os.path.join(dest, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                try:
                    shutil.copyfile(path, target)
                except OSError:
                    continue
                got += size
        print(f"{label}: {got} bytes", flush=True)
        total += got
    print(f"total: {total} bytes", flush=True)


if __name__ == "__main__":
    main()
