#!/usr/bin/env python3
"""Turn two linear LVs of a `vgcfgbackup` file into a thin pool with one thin volume.

  lvm_thin.py BACKUP DATA_LV META_LV POOL THIN THIN_EXTENTS

LVM cannot create a thin pool without the kernel's device-mapper (it must format the pool's
metadata LV), and these machines have none. What inspection must see is only the VG metadata
saying "thin-pool" and "thin", so build.sh creates DATA_LV and META_LV as plain linear LVs (LVM
reserves the _tdata/_tmeta names), and this rewrites the backup as lvconvert would have left it:
POOL_tdata and POOL_tmeta hidden, POOL a thin-pool segment over them, THIN a thin volume of
THIN_EXTENTS extents in POOL. build.sh writes it back with `vgcfgrestore --force`. The pool's
metadata LV holds no thin-provisioning B-trees (nothing could activate it); inspection reports a
thin pool without reading it.
"""
import hashlib
import re
import sys


def lvm_id(seed):
    """An LVM-style id (32 characters of [A-Za-z0-9] in groups 6-4-4-4-4-4-6) from seed."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    n = int.from_bytes(hashlib.sha256(("stackferry-lvm:" + seed).encode()).digest(), "big")
    chars = []
    for _ in range(32):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    s = "".join(chars)
    groups = [6, 4, 4, 4, 4, 4, 6]
    out, i = [], 0
    for g in groups:
        out.append(s[i:i + g])
        i += g
    return "-".join(out)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    path, data_lv, meta_lv, pool, thin, thin_extents = sys.argv[1:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"\n(\t+)%s \{.*?extent_count = (\d+)" % re.escape(data_lv), text, re.S)
    if not m:
        sys.exit("lvm_thin.py: no LV %s in %s" % (data_lv, path))
    indent, pool_extents = m.group(1), m.group(2)
    for old, new in ((data_lv, pool + "_tdata"), (meta_lv, pool + "_tmeta")):
        block = re.search(r"\n%s%s \{\n(.*?)\n%s\}" % (indent, re.escape(old), indent), text, re.S)
        if not block:
            sys.exit("lvm_thin.py: no LV %s in %s" % (old, path))
        body = block.group(1).replace('"READ", "WRITE", "VISIBLE"', '"READ", "WRITE"')
        text = text.replace(block.group(0), "\n%s%s {\n%s\n%s}" % (indent, new, body, indent))
    vg_id = re.search(r'id = "([^"]+)"', text).group(1)
    t = indent + "\t"
    blocks = (
        "\n{i}{pool} {{\n{t}id = \"{pid}\"\n{t}status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
        "{t}flags = []\n{t}segment_count = 1\n\n{t}segment1 {{\n{t}\tstart_extent = 0\n"
        "{t}\textent_count = {pe}\n\n{t}\ttype = \"thin-pool\"\n{t}\tmetadata = \"{pool}_tmeta\"\n"
        "{t}\tpool = \"{pool}_tdata\"\n{t}\ttransaction_id = 1\n{t}\tchunk_size = 128\n"
        "{t}\tdiscards = \"passdown\"\n{t}\tzero_new_blocks = 1\n{t}}}\n{i}}}\n"
        "\n{i}{thin} {{\n{t}id = \"{tid}\"\n{t}status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
        "{t}flags = []\n{t}segment_count = 1\n\n{t}segment1 {{\n{t}\tstart_extent = 0\n"
        "{t}\textent_count = {te}\n\n{t}\ttype = \"thin\"\n{t}\tthin_pool = \"{pool}\"\n"
        "{t}\ttransaction_id = 0\n{t}\tdevice_id = 1\n{t}}}\n{i}}}\n"
    ).format(i=indent, t=t, pool=pool, thin=thin, pe=pool_extents, te=thin_extents,
             pid=lvm_id(vg_id + pool), tid=lvm_id(vg_id + thin))
    anchor = "\n%slogical_volumes {\n" % indent[:-1]
    if anchor not in text:
        sys.exit("lvm_thin.py: no logical_volumes section in %s" % path)
    text = text.replace(anchor, anchor + blocks, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
