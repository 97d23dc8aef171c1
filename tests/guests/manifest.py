#!/usr/bin/env python3
"""Small helpers for build.sh and check.sh (stdlib only).

  manifest.py proto DIR              print an mkfs.xfs protofile (-p) that copies the tree DIR
  manifest.py json FACTS OUT         turn the facts file build.sh wrote into OUT (a guest's JSON)
  manifest.py get JSON KEY...        print values of a guest JSON (dotted keys), one a line
  manifest.py rows JSON LIST FIELD...  print FIELDs of each object in the list LIST, tab-separated
  manifest.py files JSON DIR         write the recorded files to DIR/<n>; print "n<TAB>path" lines

The facts file has one fact a line, fields separated by tabs (build.sh's `fact`):
  set PATH ARG...       merge key=value / key:=json / key@=a,b arguments into the object at
                        dotted PATH
  add PATH ARG...       append an object built from the arguments to the list at PATH
  mount GUEST HOSTDIR   the staging directory whose tree is mounted at GUEST in the guest
  file GUEST            record the text of guest file GUEST (read from its staging tree)
  risk CODE GUEST NEEDLE [NAME]
                        a risk whose evidence is the first line of GUEST containing NEEDLE
                        (NEEDLE empty: the file's presence or absence is the evidence,
                        e.g. /usr/bin/vmtoolsd, /etc/cloud)
  sfdisk FILE           the `sfdisk -J` output for the disk: adds type/partuuid per partition
The JSON is written here, never by hand, so every value is typed and quoted correctly.
"""
import json
import os
import stat
import sys

# Files recorded in "files" must be small text: they are there to be compared, not to carry data.
MAX_RECORDED_FILE = 64 * 1024


def proto(root):
    """Protofile syntax (xfsprogs mkfs/proto.c): a boot-image name and two ignored numbers, then
    the root directory's mode/uid/gid and its entries, each `name mode uid gid [source|target]`,
    a directory's entries closed by `$`. Modes are 6 characters: type (-, d, l, p), setuid,
    setgid, then 3 octal digits. Names cannot contain white space (a limit of the format)."""
    out = ["stackferry-guest", "0 0"]

    def mode(st, kind):
        perm = stat.S_IMODE(st.st_mode)
        return "%s%s%s%03o" % (kind, "u" if perm & stat.S_ISUID else "-",
                               "g" if perm & stat.S_ISGID else "-", perm & 0o777)

    def walk(path, depth):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if any(c.isspace() for c in name) or any(c.isspace() for c in full):
                sys.exit("manifest.py proto: white space in %s (protofiles cannot hold it)" % full)
            st = os.lstat(full)
            pad = " " * depth
            if stat.S_ISLNK(st.st_mode):
                out.append("%s%s %s %d %d %s" % (pad, name, mode(st, "l"), st.st_uid, st.st_gid,
                                                 os.readlink(full)))
            elif stat.S_ISDIR(st.st_mode):
                out.append("%s%s %s %d %d" % (pad, name, mode(st, "d"), st.st_uid, st.st_gid))
                walk(full, depth + 1)
                out.append(pad + "$")
            elif stat.S_ISREG(st.st_mode):
                out.append("%s%s %s %d %d %s" % (pad, name, mode(st, "-"), st.st_uid, st.st_gid,
                                                 full))
            else:
                sys.exit("manifest.py proto: %s is not a file, directory or link" % full)

    st = os.stat(root)
    out.append("%s %d %d" % (mode(st, "d"), st.st_uid, st.st_gid))
    walk(root, 1)
    out.append("$")
    print("\n".join(out))


def parse_args(args, where):
    """key=value is a string, key:=json a typed value (numbers, true/false, null), key@=a,b a
    list of strings (key@= an empty list)."""
    obj = {}
    for a in args:
        if "=" not in a:
            sys.exit("%s: argument %r is neither key=value nor key:=json" % (where, a))
        k, v = a.split("=", 1)
        if k.endswith("@"):
            obj[k[:-1]] = v.split(",") if v else []
        elif k.endswith(":"):
            try:
                obj[k[:-1]] = json.loads(v)
            except ValueError:
                sys.exit("%s: %r is not JSON" % (where, a))
        else:
            obj[k] = v
    return obj


def at(doc, path, make):
    """The object (make=dict) or list (make=list) at dotted path, created when missing."""
    node = doc
    keys = [k for k in path.split(".") if k]
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        if k not in node or node[k] is None:
            node[k] = make() if last else {}
        node = node[k]
    return node


def build(facts_path, out_path):
    doc = {"schema": 1}
    mounts = {}

    def host_path(guest):
        """The staging file behind a guest path: the longest mount point that contains it."""
        best = max((m for m in mounts if guest == m or guest.startswith(m.rstrip("/") + "/")),
                   key=len, default=None)
        if best is None:
            sys.exit("%s: no staging tree holds %s" % (facts_path, guest))
        rest = guest[len(best):].lstrip("/")
        return os.path.join(mounts[best], rest)

    def resolve(guest, depth=0):
        """Follow symbolic links inside the guest (as inspection does)."""
        if depth > 16:
            sys.exit("%s: symlink loop at %s" % (facts_path, guest))
        parts = [p for p in guest.split("/") if p]
        for i in range(1, len(parts) + 1):
            prefix = "/" + "/".join(parts[:i])
            hp = host_path(prefix)
            if os.path.islink(hp):
                target = os.readlink(hp)
                base = target if target.startswith("/") else \
                    os.path.normpath(os.path.join("/" + "/".join(parts[:i - 1]), target))
                return resolve(base + "".join("/" + p for p in parts[i:]), depth + 1)
        return host_path(guest)

    with open(facts_path, encoding="utf-8") as f:
        facts = [line.split("\t") for line in f.read().splitlines()]
    # Mount facts first: a file may be recorded before its tree is declared.
    mounts.update((args[0], args[1]) for op, *args in facts if op == "mount")
    for n, (op, *args) in enumerate(facts, 1):
        where = "%s line %d" % (facts_path, n)
        if op == "mount":
            continue
        if op == "set":
            at(doc, args[0], dict).update(parse_args(args[1:], where))
        elif op == "add":
            at(doc, args[0], list).append(parse_args(args[1:], where))
        elif op == "file":
            hp = resolve(args[0])
            with open(hp, "rb") as fh:
                data = fh.read(MAX_RECORDED_FILE + 1)
            if len(data) > MAX_RECORDED_FILE:
                sys.exit("%s: %s is too large to record" % (where, args[0]))
            at(doc, "files", dict)[args[0]] = data.decode("utf-8")
        elif op == "risk":
            code, guest, needle = args[0], args[1], args[2]
            line_no = 0
            text = None
            if needle:
                with open(resolve(guest), encoding="utf-8") as fh:
                    for i, l in enumerate(fh, 1):
                        if needle in l:
                            line_no, text = i, l.strip()
                            break
                if not line_no:
                    sys.exit("%s: %r not found in %s" % (where, needle, guest))
            ev = {"code": code, "file": guest, "line": line_no or None, "text": text,
                  "name": args[3] if len(args) > 3 and args[3] else None}
            at(doc, "expect.risk_evidence", list).append(ev)
        elif op == "sfdisk":
            with open(args[0], encoding="utf-8") as fh:
                table = json.load(fh)["partitiontable"]
            doc["label_id"] = table.get("id")
            sector = table.get("sectorsize", 512)
            by_start = {p["start"] * sector: p for p in table["partitions"]}
            for part in doc.get("partitions", []):
                p = by_start.get(part["offset"])
                if p is None or p["size"] * sector != part["size"]:
                    sys.exit("%s: sfdisk disagrees on partition %d" % (where, part["index"]))
                part["type"] = p["type"]
                part["partuuid"] = p.get("uuid")
                part["bootable"] = bool(p.get("bootable", False))
        else:
            sys.exit("%s: unknown fact %r" % (where, op))
    exp = doc.get("expect", {})
    exp["risks"] = sorted({r["code"] for r in exp.get("risk_evidence", [])})
    order = ["schema", "name", "raw", "recipe", "virtual_size", "label", "label_id", "partitions",
             "lvm", "os_release", "boot_loader", "kernels", "windows", "files", "expect"]
    doc = {k: doc[k] for k in sorted(doc, key=lambda k: order.index(k) if k in order else len(order))}
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, out_path)


def get(path, keys):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        sys.exit(1)
    for key in keys:
        node = doc
        for k in key.split("."):
            node = node[int(k)] if isinstance(node, list) else node.get(k) if node else None
        print("" if node is None else node if isinstance(node, str) else json.dumps(node))


def rows(path, list_path, fields):
    """One tab-separated line per element of the list at list_path: null as "-", lists joined
    with commas (for check.sh's `while read`)."""
    with open(path, encoding="utf-8") as f:
        node = json.load(f)
    for k in list_path.split("."):
        node = node.get(k) if isinstance(node, dict) else None
    for item in node or []:
        vals = []
        for k in fields:
            v = item.get(k)
            vals.append("-" if v is None or v == "" else ",".join(v) if isinstance(v, list)
                        else json.dumps(v) if isinstance(v, bool) else str(v))
        print("\t".join(v.replace("\t", " ") for v in vals))


def dump_files(path, out_dir):
    """Write each recorded file's text to OUT_DIR/<n>, printing "n<TAB>guest path" lines."""
    with open(path, encoding="utf-8") as f:
        files = json.load(f).get("files", {})
    for n, (guest, text) in enumerate(sorted(files.items())):
        with open(os.path.join(out_dir, str(n)), "w", encoding="utf-8") as fh:
            fh.write(text)
        print("%d\t%s" % (n, guest))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "proto":
        proto(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "json":
        build(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 5 and sys.argv[1] == "rows":
        rows(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 4 and sys.argv[1] == "files":
        dump_files(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "get":
        get(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
