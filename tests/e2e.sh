#!/usr/bin/env bash
# The end-to-end suite (issue #5; `npm run test:e2e`, and part of `npm test` through
# scripts/test.sh): from an ESXi-style export to a booted OpenStack instance showing
# "Hello World", and the one-command demo.
#   1. installs what it needs (scripts/ensure.sh, tests/e2e/install.sh) and builds the page and
#      the edge worker (scripts/build.sh web worker, as `npm start` does) and the debug CLI;
#   2. builds the BIOS and EFI guests, a BIOS guest without virtio drivers, a BIOS guest with a
#      data disk (a whole VM: two disks in one OVA), and their OVAs
#      (tests/e2e/build-guest.sh, package-ova.sh)
#      and a copy of the BIOS OVA whose grain holding message.txt is corrupted, manifest
#      regenerated (tests/e2e/ova.py corrupt + pack);
#   3. (alone; under scripts/test.sh after the shared OpenStack stops) `npm start` with OS_AUTH_URL unset (tests/e2e/start.test.mjs): URL and credentials
#      printed, page and login work, SIGINT to its process group (Ctrl-C) stops every process
#      it started, the OpenStack it started included (ports 8787 and 5000 free);
#   4. starts OpenStack (scripts/openstack-stack.sh: stopped again only if started here); then
#      `npm start` again, which must reuse that OpenStack, stopped with SIGTERM to npm alone
#      (the warm start time); then tests/e2e/browser.test.mjs (headless Chromium through the page, Glance, Nova, then the
#      Glance image booted under qemu) for both guests and the negative control; screenshots of
#      each step into tests/out/screenshots/ (E2E_SCREENSHOTS=docs: docs/screenshots/, the
#      README's; =0: none).
# Environment: E2E_WORK (work dir, default a temp dir, removed at the end unless E2E_KEEP=1),
# E2E_BOOT_TIMEOUT (s, default 180), E2E_START_TEST=0 skips step 3.
# Prints each phase's duration; ends with `e2e: N passed, M failed`; exit 0 only if none failed.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suite.sh
suite_begin e2e
WORK=${E2E_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/stackferry-e2e.XXXXXX")}
mkdir -p "$WORK"
. scripts/openstack-stack.sh
finish() {
  local t=$SECONDS
  if [ "$STACK_STARTED" = 1 ]; then stack_stop && suite_time "OpenStack stop" $((SECONDS - t)); fi
  [ "${E2E_KEEP:-0}" = 1 ] && echo "work dir kept: $WORK" || rm -rf "$WORK"
  suite_end
}
trap 'suite_fail interrupted; finish; exit 130' INT TERM

# 1. installs and builds --------------------------------------------------------------------
t=$SECONDS
if bash scripts/ensure.sh rust wasm chromium node worker format-inspector && stack_install >/dev/null && bash tests/e2e/install.sh; then
  suite_pass "install (scripts/ensure.sh, tests/e2e/install.sh)"
else
  suite_fail install; finish; exit 1
fi
suite_time install $((SECONDS - t))
t=$SECONDS
# The page and the worker as `npm start` builds them; the CLI (for `stackferry cat`) as the rust
# suite built it (debug, its hot crates optimised): a release build would compile everything again.
if { bash scripts/build.sh --if-stale web worker && cargo test --locked --workspace --no-run; } >"$WORK/build.log" 2>&1; then
  suite_pass "build (page, edge worker unless up to date: scripts/build.sh --if-stale web worker; the CLI)"
else suite_fail build "$(tail -n 20 "$WORK/build.log")"; finish; exit 1; fi
suite_time "build page + worker + CLI" $((SECONDS - t))

# 2. guests and OVAs ------------------------------------------------------------------------
jget() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
guests_ok=1
# bios, efi: every bus's drivers in the initramfs; novirtio: a BIOS guest without virtio drivers;
# whole: a BIOS guest with a data disk it mounts by UUID (issue 12: a whole VM, two disks).
for kind in bios efi novirtio whole; do
  t=$SECONDS
  d="$WORK/$kind"
  fw=bios; [ "$kind" = efi ] && fw=efi
  drivers=all; [ "$kind" = novirtio ] && drivers=novirtio
  data=(); [ "$kind" = whole ] && data=(--data-disk 16)
  if g=$(bash tests/e2e/build-guest.sh "$d" --firmware "$fw" --drivers "$drivers" "${data[@]}") \
     && { [ "$kind" != whole ] || data=(--disk "$(jget "$g" data_raw)"); } \
     && p=$(bash tests/e2e/package-ova.sh "$(jget "$g" raw)" "$d/pkg" "e2e-$kind" --firmware "$fw" "${data[@]}"); then
    suite_pass "guest + OVA ($kind): $(basename "$(jget "$p" ova)"), $(jget "$p" ova_size) bytes"
    declare "G_$kind=$g" "P_$kind=$p"
  else
    suite_fail "guest + OVA ($kind)"; guests_ok=0
  fi
  suite_time "guest build + OVA ($kind)" $((SECONDS - t))
done
if [ "$guests_ok" = 1 ]; then
  # The BIOS OVA with the grain holding message.txt corrupted, the manifest made to match.
  neg="$WORK/corrupt"; mkdir -p "$neg"
  cp "$(jget "$P_bios" ovf)" "$neg/e2e-corrupt.ovf"
  cp "$(jget "$P_bios" vmdk)" "$neg/e2e-bios-disk1.vmdk"
  if c=$(python3 tests/e2e/ova.py corrupt "$neg/e2e-bios-disk1.vmdk" "$(jget "$G_bios" message_offset)") \
     && python3 tests/e2e/ova.py pack "$neg" e2e-corrupt >/dev/null; then
    suite_pass "corrupted OVA: $c"
  else
    suite_fail "corrupted OVA"; guests_ok=0
  fi
  python3 - "$WORK/guests.json" "$G_bios" "$P_bios" "$G_efi" "$P_efi" "$G_novirtio" "$P_novirtio" "$neg/e2e-corrupt.ova" "$G_whole" "$P_whole" <<'PY'
import json, sys
out, gb, pb, ge, pe, gn, pn, bad, gw, pw = sys.argv[1], *map(json.loads, sys.argv[2:8]), sys.argv[8], *map(json.loads, sys.argv[9:11])
# "buses": what guest inspection must suggest from each guest's own initramfs.
virtio = {"hw_disk_bus": "virtio", "hw_vif_model": "virtio"}
g = lambda G, P, buses: {"ova": P["ova"], "raw": G["raw"], "name": P["name"], "cpus": 1, "memory_mib": 256,
                         "firmware": G["firmware"], "buses": buses}
json.dump({"bios": g(gb, pb, virtio), "efi": g(ge, pe, virtio),
           "novirtio": g(gn, pn, {"hw_disk_bus": "sata", "hw_vif_model": "e1000"}),
           "corrupt": dict(g(gb, pb, virtio), ova=bad, name="e2e-bios"),
           "whole": dict(g(gw, pw, virtio), data_raw=gw["data_raw"], data_text=gw["data_text"])}, open(out, "w"), indent=1)
PY
fi

# 3. the one-command demo ---------------------------------------------------------------------
# Under scripts/test.sh the shared OpenStack already runs (STACK_SHARED=1): test.sh runs this
# test itself once it has stopped the stack.
if [ "${E2E_START_TEST:-1}" != 0 ] && [ "${STACK_SHARED:-0}" != 1 ]; then
  t=$SECONDS
  node tests/e2e/start.test.mjs | tee "$WORK/start.log"
  suite_add_result "$WORK/start.log" start
  suite_time "npm start test (starts OpenStack)" $((SECONDS - t))
fi

# 4. OpenStack, the page, the boot ------------------------------------------------------------
if [ "$guests_ok" = 1 ]; then
  t=$SECONDS
  if stack_start e2e >"$WORK/stack.log" 2>&1; then
    suite_time "OpenStack start" $((SECONDS - t))
    if [ "${E2E_START_TEST:-1}" != 0 ]; then
      t=$SECONDS
      node tests/e2e/start.test.mjs --signal SIGTERM --to npm | tee "$WORK/start2.log"
      suite_add_result "$WORK/start2.log" start
      suite_time "npm start test (reuses OpenStack)" $((SECONDS - t))
    fi
    t=$SECONDS
    E2E_GUESTS="$WORK/guests.json" node tests/e2e/browser.test.mjs "$@" | tee "$WORK/browser.log"
    suite_add_result "$WORK/browser.log" browser
    suite_time "browser + boot tests" $((SECONDS - t))
  else
    suite_fail "OpenStack start" "$(tail -n 30 "$WORK/stack.log")"
  fi
else
  suite_fail "browser tests" "skipped: the guests could not be built"
fi
trap - INT TERM
finish
