#!/usr/bin/env python3
"""Write an empty Windows registry hive (regf) with only a root key.

  hive.py OUT ROOT_NAME

hivex (hivexregedit --merge) adds keys and values to a hive but cannot create one, and Debian
ships no empty hive; this writes the smallest valid one: the base block, one 4 KiB hbin holding
the root key node (nk), its security cell (sk) and one free cell. Layout from the regf format
as documented by libyal (https://github.com/libyal/libregf, "Windows NT Registry File format")
and read by hivex; build.sh then fills the hive with hivexregedit and check.sh reads it back.
"""
import struct
import sys

# Base block and hbin sizes. Defined by the format.
BASE_BLOCK = 4096
HBIN = 4096
HBIN_HEADER = 32
# Key node flags: KEY_HIVE_ENTRY (the root), KEY_NO_DELETE, KEY_COMP_NAME (ASCII name).
NK_ROOT_FLAGS = 0x0004 | 0x0008 | 0x0020
NO_CELL = 0xFFFFFFFF
# 2026-01-01T00:00:00Z as a FILETIME (100 ns since 1601), so the file is reproducible.
FILETIME = (1767225600 + 11644473600) * 10_000_000


def cell(payload):
    """An allocated cell: negative size (including the 4-byte size), padded to 8 bytes."""
    size = (4 + len(payload) + 7) & ~7
    return struct.pack("<i", -size) + payload + b"\0" * (size - 4 - len(payload))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, name = sys.argv[1], sys.argv[2].encode("ascii")

    # Self-relative security descriptor: revision 1, SE_SELF_RELATIVE | SE_DACL_PRESENT with a
    # NULL DACL (everyone has access); no owner, group or SACL.
    descriptor = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 0)
    nk_offset = HBIN_HEADER                     # cell offsets count from the first hbin
    nk_size = (4 + 76 + len(name) + 7) & ~7
    sk_offset = nk_offset + nk_size
    nk = struct.pack(
        "<2sHQIIIIIIIIIIIIIIIHH", b"nk", NK_ROOT_FLAGS, FILETIME, 0, NO_CELL,
        0, 0, NO_CELL, NO_CELL,                 # subkeys (stable, volatile) and their lists
        0, NO_CELL,                             # values and their list
        sk_offset, NO_CELL,                     # security cell, class name
        0, 0, 0, 0, 0,                          # largest name/class/value sizes, work var
        len(name), 0) + name
    # One security cell, its own forward and backward link, referenced once (by the root).
    sk = struct.pack("<2sHIIII", b"sk", 0, sk_offset, sk_offset, 1, len(descriptor)) + descriptor
    cells = cell(nk) + cell(sk)
    free = HBIN - HBIN_HEADER - len(cells)
    hbin = struct.pack("<4sIIQQI", b"hbin", 0, HBIN, 0, FILETIME, 0) + cells + \
        struct.pack("<i", free) + b"\0" * (free - 4)
    assert len(hbin) == HBIN

    base = bytearray(BASE_BLOCK)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, FILETIME,
                     1, 5,                      # format version 1.5 (Windows XP and later)
                     0, 1,                      # primary file, direct memory load
                     nk_offset, HBIN, 1)        # root cell, hbins size, clustering factor
    # Checksum: XOR of the first 508 bytes as 32-bit words (0 and -1 are not allowed).
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:508])):
        checksum ^= word
    checksum = {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(checksum, checksum)
    struct.pack_into("<I", base, 508, checksum)

    with open(out, "wb") as f:
        f.write(bytes(base) + hbin)


if __name__ == "__main__":
    main()
