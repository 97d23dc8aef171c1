#!/usr/bin/env bash
# Cinder smoke test of a running environment (start.sh first, same STACK_DIR):
#  qcow2 with known random content -> Glance -> Cinder volume from the image ->
#  the volume's file ($DATA/cinder/volumes/volume-<id>) holds the same bytes
#  (raw) -> server booted from the image -> volume attached (in-use) and
#  detached (available) -> server booted from volume (block_device_mapping_v2
#  image -> volume) ACTIVE, its root volume holds the image bytes -> cleanup.
# Ends with "smoke-cinder: N passed, M failed"; exit 0 only if all passed.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/smoke.sh"
[ "$STACK_CINDER" = 1 ] || die "Cinder is off: install.sh and start.sh with STACK_CINDER=1 first"
VOLDIR="$DATA/cinder/volumes"
IMAGE_ID="" VOL_ID="" SERVER_ID="" BFV_ID=""
# wait_status URL EXPR WANTED SECONDS -> status on stdout
wait_status() {
  local s="" i
  for i in $(seq 1 "$4"); do
    api GET "$1" > /dev/null
    s=$(jget "$2" 2>/dev/null || true)
    case "$s" in "$3"|error|ERROR|error_*) break ;; esac
    sleep 1
  done
  echo "$s"
}
# same_bytes VOLFILE: first bytes = the raw source, the rest zeros
same_bytes() {
  "$PY" - "$TMP/src.raw" "$1" <<'EOF'
import sys
src = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "rb") as f:
    if f.read(len(src)) != src:
        sys.exit("first %d bytes differ" % len(src))
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        if b.count(0) != len(b):
            sys.exit("non-zero data after the image")
EOF
}
cleanup() {
  [ -n "$SERVER_ID" ] && api DELETE "$NOVA/servers/$SERVER_ID" > /dev/null
  [ -n "$BFV_ID" ] && api DELETE "$NOVA/servers/$BFV_ID" > /dev/null
  if [ -n "$VOL_ID" ]; then
    for _ in $(seq 1 30); do [ "$(api DELETE "$CIN/volumes/$VOL_ID")" = 202 ] && break; sleep 1; done
  fi
  [ -n "$IMAGE_ID" ] && { sleep 2; api DELETE "$GL/v2/images/$IMAGE_ID" > /dev/null; }
}
smoke_begin smoke-cinder 'compute 2.95, volume 3.70'

# 1. qcow2 with 3 MiB of random data uploaded to Glance
head -c 3M /dev/urandom > "$TMP/src.raw"
qemu-img convert -q -f raw -O qcow2 "$TMP/src.raw" "$TMP/src.qcow2"
code=$(api POST "$GL/v2/images" '{"name":"smoke-cinder-'"$SUFFIX"'","disk_format":"qcow2","container_format":"bare"}')
[ "$code" = 201 ] || bad "glance image create: HTTP $code"
IMAGE_ID=$(jget 'd["id"]')
code=$(upload "$IMAGE_ID" "$TMP/src.qcow2")
[ "$code" = 204 ] || bad "glance upload: HTTP $code"
s=$(wait_status "$GL/v2/images/$IMAGE_ID" 'd["status"]' active 60)
[ "$s" = active ] || bad "image $IMAGE_ID is $s"
ok "glance: qcow2 image $IMAGE_ID active"

# 2. volume from the image; its file holds the image's bytes as raw
t0=$(date +%s)
code=$(api POST "$CIN/volumes" '{"volume":{"name":"smoke-vol-'"$SUFFIX"'","size":1,"imageRef":"'"$IMAGE_ID"'"}}')
[ "$code" = 202 ] || bad "volume create: HTTP $code"
VOL_ID=$(jget 'd["volume"]["id"]')
s=$(wait_status "$CIN/volumes/$VOL_ID" 'd["volume"]["status"]' available 180)
[ "$s" = available ] || bad "volume $VOL_ID is $s"
f="$VOLDIR/volume-$VOL_ID"
[ -f "$f" ] || bad "no file $f"
fmt=$(qemu-img info --output=json "$f" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["format"])')
msg=$(same_bytes "$f" 2>&1) || bad "volume file $f: $msg"
ok "cinder: volume $VOL_ID from image in $(( $(date +%s) - t0 )) s; $f is $fmt, same bytes as the image"

# 3. server from the image; attach and detach the volume
smoke_flavor
code=$(api POST "$NOVA/servers" '{"server":{"name":"smoke-cinder-'"$SUFFIX"'","imageRef":"'"$IMAGE_ID"'","flavorRef":"stack-tiny","networks":"none"}}')
[ "$code" = 202 ] || bad "server create: HTTP $code"
SERVER_ID=$(jget 'd["server"]["id"]')
s=$(wait_status "$NOVA/servers/$SERVER_ID" 'd["server"]["status"]' ACTIVE 120)
[ "$s" = ACTIVE ] || bad "server $SERVER_ID is $s"
t0=$(date +%s)
code=$(api POST "$NOVA/servers/$SERVER_ID/os-volume_attachments" '{"volumeAttachment":{"volumeId":"'"$VOL_ID"'"}}')
[ "$code" = 200 ] || bad "attach: HTTP $code"
dev=$(jget 'd["volumeAttachment"]["device"]')
s=$(wait_status "$CIN/volumes/$VOL_ID" 'd["volume"]["status"]' in-use 60)
[ "$s" = in-use ] || bad "volume $VOL_ID is $s after attach"
ok "nova: volume attached to server $SERVER_ID as $dev in $(( $(date +%s) - t0 )) s (in-use)"
t0=$(date +%s)
code=$(api DELETE "$NOVA/servers/$SERVER_ID/os-volume_attachments/$VOL_ID")
[ "$code" = 202 ] || bad "detach: HTTP $code"
s=$(wait_status "$CIN/volumes/$VOL_ID" 'd["volume"]["status"]' available 60)
[ "$s" = available ] || bad "volume $VOL_ID is $s after detach"
ok "nova: volume detached in $(( $(date +%s) - t0 )) s (available)"

# 4. boot from volume: block_device_mapping_v2 image -> volume
t0=$(date +%s)
code=$(api POST "$NOVA/servers" '{"server":{"name":"smoke-bfv-'"$SUFFIX"'","flavorRef":"stack-tiny","networks":"none",
  "block_device_mapping_v2":[{"boot_index":0,"source_type":"image","uuid":"'"$IMAGE_ID"'",
  "destination_type":"volume","volume_size":1,"delete_on_termination":true}]}}')
[ "$code" = 202 ] || bad "boot from volume: HTTP $code"
BFV_ID=$(jget 'd["server"]["id"]')
s=$(wait_status "$NOVA/servers/$BFV_ID" 'd["server"]["status"]' ACTIVE 240)
[ "$s" = ACTIVE ] || bad "server $BFV_ID is $s: $(jget 'd["server"].get("fault")')"
root=$(jget 'd["server"]["os-extended-volumes:volumes_attached"][0]["id"]')
msg=$(same_bytes "$VOLDIR/volume-$root" 2>&1) || bad "root volume $root: $msg"
ok "nova: server $BFV_ID booted from volume $root, ACTIVE in $(( $(date +%s) - t0 )) s; the volume holds the image bytes"

# 5. cleanup: servers (the root volume goes with its server), volume, image
t0=$(date +%s)
for id in "$SERVER_ID" "$BFV_ID"; do
  code=$(api DELETE "$NOVA/servers/$id"); [ "$code" = 204 ] || bad "server delete: HTTP $code"
done
for id in "$SERVER_ID" "$BFV_ID"; do
  for _ in $(seq 1 60); do [ "$(api GET "$NOVA/servers/$id")" = 404 ] && break; sleep 1; done
done
SERVER_ID="" BFV_ID=""
for _ in $(seq 1 60); do [ "$(api GET "$CIN/volumes/$root")" = 404 ] && break; sleep 1; done
[ ! -e "$VOLDIR/volume-$root" ] || bad "root volume file $VOLDIR/volume-$root still there"
code=$(api DELETE "$CIN/volumes/$VOL_ID"); [ "$code" = 202 ] || bad "volume delete: HTTP $code"
for _ in $(seq 1 60); do [ "$(api GET "$CIN/volumes/$VOL_ID")" = 404 ] && break; sleep 1; done
VOL_ID=""
code=$(api DELETE "$GL/v2/images/$IMAGE_ID"); [ "$code" = 204 ] || bad "image delete: HTTP $code"
IMAGE_ID=""
ok "deleted servers, volumes (files gone) and image in $(( $(date +%s) - t0 )) s"

smoke_end
