"""Every image stackferry writes must pass OpenStack's own image check: oslo.utils'
format_inspector, which Glance (image import, `[image_format] require_image_format_match`),
Nova and Cinder run on what they are given. Detects each file's format as Nova and Cinder do
(`detect_file_format`, which reads until every inspector has decided) and prints one JSON line
per file: the format, the virtual size (for raw and gpt, a raw disk with a partition table, the
file's size: those inspectors count only what they read), and whether its safety checks pass (`error` says which failed).

usage: python check.py FILE...   or one path per line on stdin, an answer per line (tests keep
one process for all their files). `scripts/ensure.sh format-inspector` makes the Python.
"""
import json
import os
import sys

from oslo_utils.imageutils import format_inspector as fi


def check(path):
    r = {"file": path}
    try:
        i = fi.detect_file_format(path)
        size = os.path.getsize(path) if i.NAME in ("raw", "gpt") else i.virtual_size
        r.update(format=i.NAME, virtual_size=size)
        i.safety_check()
        r["safe"] = True
    except Exception as e:  # every failure is a result to print, not a crash
        r.update(safe=False, error=f"{type(e).__name__}: {e}")
    return r


if __name__ == "__main__":
    for p in sys.argv[1:] or (line.rstrip("\n") for line in sys.stdin):
        print(json.dumps(check(p)), flush=True)
