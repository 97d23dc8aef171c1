// Staged against direct upload throughput (issue 10): one converted image (default: the benchmark
// disk's streamOptimized VMDK converted to QCOW2 by the CLI) sent into the test cloud's Glance
//  - staged: through the edge worker under `wrangler dev` (its local R2 bucket) with a body limit
//    (BENCH_BODY_MAX, default 100 MB: Cloudflare's Free/Pro cap), PARALLEL parts at a time, then
//    Glance's web-download import from the worker's signed URL, to `active`;
//  - direct: one streamed PUT through workerd (no limit), to `active`.
// Both hashes must equal the file's SHA-512. Prints MB/s for the parts, for the import and end to
// end. Needs the test cloud running (tests/openstack/start.sh) and the worker built.
//
// usage: node bench/staged.mjs [IMAGE.qcow2]   (no argument: converts BENCH_VMDK with the CLI)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import {
  ROOT, Worker, adminToken, api, login, os, streamUpload,
} from '../tests/lib/edge-worker.mjs';
import { sendStaged } from '../tests/lib/staged-client.mjs';

const BODY_MAX = Number(process.env.BENCH_BODY_MAX || 100e6);
const PARALLEL = Number(process.env.BENCH_PARALLEL || 4);
const SUFFIX = `${Date.now()}-${process.pid}`;

function image() {
  if (process.argv[2]) return process.argv[2];
  const vmdk = process.env.BENCH_VMDK;
  if (!vmdk) throw new Error('give a QCOW2, or BENCH_VMDK=<benchmark streamOptimized VMDK> to convert');
  const out = path.join(process.env.BENCH_TMP || os_.tmpdir(), `staged-bench-${SUFFIX}.qcow2`);
  execFileSync(path.join(ROOT, 'target/release/stackferry'), ['convert', vmdk, '-o', out], { stdio: 'inherit' });
  return out;
}

/** The file's SHA-512, read in 8 MiB pieces. */
function sha512(file) {
  const h = createHash('sha512');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8 << 20);
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest('hex');
}

async function* fileChunks(file) {
  const fd = fs.openSync(file, 'r');
  try {
    for (let at = 0, end = fs.statSync(file).size; at < end;) {
      const buf = Buffer.alloc(Math.min(1 << 20, end - at));
      const n = fs.readSync(fd, buf, 0, buf.length, at);
      yield buf.subarray(0, n);
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function newImage(w, cookie, name) {
  const r = await api(w, 'POST', '/api/images', { cookie, body: { name: `${name}-${SUFFIX}`, disk_format: 'qcow2' } });
  if (r.status !== 201) throw new Error(`create image: ${r.status} ${r.text}`);
  return r.json.id;
}

async function staged(file, size, hash) {
  const w = new Worker();
  await w.start({ REQUEST_BODY_MAX_BYTES: String(BODY_MAX), LOGIN_MAX_ATTEMPTS: '50', UPLOAD_MAX_BYTES: String(2 ** 40) }, { runtime: 'wrangler' });
  try {
    const { cookie } = await login(w);
    const id = await newImage(w, cookie, 'bench-staged');
    const fd = fs.openSync(file, 'r');
    let r;
    try {
      r = await sendStaged(w, cookie, id, {
        size, sha512: hash, parallel: PARALLEL, deadlineMs: 3600000, pollMs: 2000,
        read: async (start, end) => {
          const buf = Buffer.alloc(end - start);
          fs.readSync(fd, buf, 0, buf.length, start);
          return buf;
        },
      });
    } finally {
      fs.closeSync(fd);
    }
    const { plan, state: st } = r;
    if (st.json.state !== 'active' || st.json.image.os_hash_value !== hash) throw new Error(`staged: ${st.text}`);
    return { id, parts: plan.parts, partSize: plan.part_size, partsS: r.partsMs / 1000, importS: (r.totalMs - r.partsMs) / 1000, totalS: r.totalMs / 1000 };
  } finally {
    await w.stop();
  }
}

async function direct(file, size, hash) {
  const w = new Worker();
  await w.start({ LOGIN_MAX_ATTEMPTS: '50', UPLOAD_MAX_BYTES: String(2 ** 40) });
  try {
    const { cookie } = await login(w);
    const id = await newImage(w, cookie, 'bench-direct');
    const t0 = Date.now();
    const r = await streamUpload(w, id, cookie, size, fileChunks(file));
    if (r.status !== 200 || r.json.os_hash_value !== hash) throw new Error(`direct: ${r.status} ${r.text}`);
    return { id, totalS: (Date.now() - t0) / 1000 };
  } finally {
    await w.stop();
  }
}

const file = image();
const size = fs.statSync(file).size;
const hash = sha512(file);
const mb = size / 1e6;
const admin = await adminToken();
const made = [];
try {
  const s = await staged(file, size, hash);
  made.push(s.id);
  console.log(`staged: ${mb.toFixed(0)} MB in ${s.parts} parts of ${(s.partSize / 1e6).toFixed(0)} MB, ${PARALLEL} at a time: parts ${(mb / s.partsS).toFixed(1)} MB/s (${s.partsS.toFixed(1)} s), import ${(mb / s.importS).toFixed(1)} MB/s (${s.importS.toFixed(1)} s), end to end ${(mb / s.totalS).toFixed(1)} MB/s (${s.totalS.toFixed(1)} s); hash equal`);
  const d = await direct(file, size, hash);
  made.push(d.id);
  console.log(`direct: ${mb.toFixed(0)} MB in one streamed PUT: ${(mb / d.totalS).toFixed(1)} MB/s (${d.totalS.toFixed(1)} s) to active; hash equal`);
  console.log(`load average: ${os_.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  for (const id of made) await os(admin, 'DELETE', `${admin.glance}/images/${id}`).catch(() => {});
  if (!process.argv[2]) fs.rmSync(file, { force: true });
}
