#!/usr/bin/env python3
"""Write a sparse raw disk image with data spread over it, for the page tests and the benchmark.

usage: make-disk.py OUT.raw VIRTUAL_MIB DATA_MIB [SEED]

DATA_MIB MiB of data in 1 MiB pieces spread evenly over VIRTUAL_MIB MiB; each piece is a
quarter random bytes (incompressible) and three quarters log-like text (compressible), so
stream-optimized VMDKs of it look like a real guest's. Pieces are drawn from 16 templates
(each stamped with its index, so no two are equal) to keep generation I/O-bound. The rest of
the disk is left as holes.
"""
import random
import sys

MIB = 1 << 20
WORDS = [b"kernel", b"systemd", b"sshd", b"stackferry", b"eth0", b"cron", b"nginx", b"GET", b"/var/log", b"200", b"OK", b"INFO", b"WARN"]


def template(rnd):
    piece = bytearray(rnd.randbytes(MIB // 4))
    lines = []
    n = 0
    while n < MIB - MIB // 4:
        line = b"%08d %s %s[%d]: %s %s %d\n" % (rnd.randrange(10**8), rnd.choice(WORDS), rnd.choice(WORDS), rnd.randrange(65536), rnd.choice(WORDS), rnd.choice(WORDS), rnd.randrange(10**6))
        lines.append(line)
        n += len(line)
    piece += b"".join(lines)[: MIB - MIB // 4]
    return piece


def main():
    out, virtual, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if data > virtual:
        sys.exit("data larger than the disk")
    rnd = random.Random(seed)
    templates = [template(rnd) for _ in range(16)]
    with open(out, "wb") as f:
        f.truncate(virtual * MIB)
        step = virtual / max(data, 1)
        for i in range(data):
            piece = templates[rnd.randrange(16)]
            # Stamp every 64 KiB so no grain repeats another.
            for k in range(0, MIB, 65536):
                piece[k:k + 16] = b"%016d" % (i * 16 + k // 65536)
            f.seek(int(i * step) * MIB)
            f.write(piece)


if __name__ == "__main__":
    main()
