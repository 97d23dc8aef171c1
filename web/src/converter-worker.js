// The converter worker (a dedicated worker): inspects the dropped files, plans the whole VM's
// migration and converts one disk.
// It reads File slices (fetched ahead with Blob.arrayBuffer, as the core asks; read with
// FileReaderSync inside the core when not fetched in time; never whole files), hands
// decoding to the pool of decode workers, writes the output to the sink in order and reports
// progress. The page's main thread only renders.
//
// Memory bound (independent of the disk size): at most MAX_BATCHES_PER_WORKER batches per
// decode worker are out, each at most BATCH_JOBS jobs or about BATCH_BYTES of input, and no
// more than that many jobs are handed out and not yet written (results that come back early
// wait in the assembler); one job is one unit of output (max(cluster size, 64 KiB)); a job's
// input and its decoded output live here or in a decode worker until written. With 64 KiB
// clusters and N decode workers (cores + 1; cores for an upload) that is N x 2 x 1 MiB of input and N x 2 x 2 MiB of
// output. Add: per input file 2 cached read-ahead blocks of 4 MiB and up to 4 more fetched
// ahead (twice: arriving here, then copied into the core), and SPARE_READS (4) such buffers
// kept for the next reads; for a disk checked against a manifest, up to HASHER_QUEUE (16) such
// blocks waiting in its hasher and up to 4 more held for it (converter/feed.js); the core's 4 MiB output
// buffer; at most SINK_HIGH_WATER (16 MiB) + 4 MiB of output queued for the writer and its
// hasher (the output's SHA-512, for a Send); one bit per output cluster of plan (32 KiB per GiB
// of disk at 64 KiB clusters) and, for compressed QCOW2, 6 bytes per allocated cluster. With
// N = 3: about 105 MiB (180 MiB with a manifest), whatever the disk size. Measured (web tests,
// 1 GiB of data): wasm memory 20-40 MiB in this worker, 3.5 MiB per decode worker.
import init, { inspect, migration, Converter } from './pkg/stackferry.js';
// The guest file functions are looked up by name: a package built before them lacks them.
import * as core from './pkg/stackferry.js';
import { Bridge, serve, transfer } from './converter/bridge.js';
import { Pool, defaultWorkers } from './converter/pool.js';
import { HasherFeed } from './converter/feed.js';
import { Buffers, readInto } from './converter/read.js';
import { openSink } from './converter/sink.js';
import { asCoreError, coreError } from './error.js';

/**
 * Jobs per batch: 32 rather than 16 halves the messages per byte; with one decoder more than
 * cores (converter/pool.js defaultWorkers) a conversion took 6 % less time on 2 cores.
 */
export const BATCH_JOBS = 32;
export const BATCH_BYTES = 1 << 20;
export const MAX_BATCHES_PER_WORKER = 2;
const PROGRESS_MS = 200;
/** Input a batch may read past the read position, at most (a batch's bytes and one grain). */
const READ_MARGIN = 2 * BATCH_BYTES;
/** Blocks passed on to an input hasher and not hashed yet, at most. */
const HASHER_QUEUE = 16;
/** Size of a buffer for the input's blocks (the core's read-ahead block), and how many are kept. */
const READ_BUFFER = 4 << 20;
const SPARE_READS = 4;

/** The `Blob` of an entry of a conversion's `files` (a `File`, or `{name, blob}`). */
const blobOf = (f) => (f instanceof Blob ? f : f.blob);

let modulePromise = null;
let wasmMemory = null;

/** Compile the wasm once; decode workers get the compiled module. */
function wasmModule() {
  if (!modulePromise) {
    const url = new URL('./pkg/stackferry_bg.wasm', import.meta.url);
    modulePromise = (async () => {
      let module;
      try {
        module = await WebAssembly.compileStreaming(fetch(url));
      } catch {
        // Servers that do not send application/wasm.
        const res = await fetch(url);
        module = await WebAssembly.compile(await res.arrayBuffer());
      }
      wasmMemory = (await init({ module_or_path: module })).memory;
      return module;
    })();
  }
  return modulePromise;
}

// The page's calls (converter/client.js), through the bridge.
serve({
  async inspect({ files }) {
    await wasmModule();
    return inspect(files);
  },
  async migration({ input }) {
    await wasmModule();
    return migration(input);
  },
  async guestList({ files, top, path }) {
    await wasmModule();
    return guestFunction('guestList')(files, top, path);
  },
  async guestRead({ files, top, path, cap }) {
    await wasmModule();
    return transfer(guestFunction('guestRead')(files, top, path, cap));
  },
  convert: (job, { progress }) => convert(job, progress),
});

/**
 * The core's guest file function `name`: a core error with code `no_guest_files` (the page says
 * this converter cannot read guest files yet) when the wasm package has none.
 */
function guestFunction(name) {
  const f = core[name];
  if (typeof f !== 'function') {
    throw coreError('unsupported', `this build of the converter has no ${name}: it cannot read files from the guest`, { code: 'no_guest_files' });
  }
  return f;
}

/** Convert `m` (see converter/client.js), reporting through `progress`; resolves to the report. */
async function convert(m, progress) {
  const module = await wasmModule();
  progress({ type: 'phase', phase: 'plan' });
  const workers = Math.max(1, m.workers || defaultWorkers(m.target && m.target.kind === 'upload'));
  const maxBatches = workers * MAX_BATCHES_PER_WORKER;
  const planStart = performance.now();
  // Jobs handed out and not yet written: this, not the batches at the workers, is the bound,
  // since results that come back early wait in the assembler for the ones before them.
  const conv = new Converter(m.files, m.top, m.disk, m.options, maxBatches * BATCH_JOBS);
  const planMs = performance.now() - planStart;
  const outLen = conv.output_len();
  progress({ type: 'planned', info: conv.info(), output_len: outLen ?? null, progress: conv.progress(), plan_ms: planMs });
  // The writer worker hashes the output as it writes it, off this thread, when asked to
  // (`m.hash`, default true: a Send needs it; a Convert computes it later, on request).
  conv.hash_output_externally();
  const sink = await openSink(m.target, module, { hash: m.hash !== false });
  const pool = new Pool(workers, module);
  let outstanding = 0;
  let failure = null;
  let wake = null;
  let signalled = false;
  const started = performance.now();
  let lastProgress = 0;
  const write = (view, at) => sink.write(view, at);
  const signal = () => {
    signalled = true;
    if (wake) { const w = wake; wake = null; w(); }
  };
  let reserved = false;
  // Input blocks fetched ahead of the converter's reads (the core says which, and when the next
  // batch must wait for one): this thread is not blocked while the browser reads the file. They
  // are read into buffers that come back once copied into the core (and hashed): see read.js.
  const fetching = new Map(); // `${file}:${offset}` → {file, offset, read}
  const reads = new Buffers(READ_BUFFER, SPARE_READS);
  let live = true;
  const fetchAhead = () => {
    for (const { file, offset, length } of conv.prefetch()) {
      const key = `${file}:${offset}`;
      const read = readInto(blobOf(m.files[file]).slice(offset, offset + length), reads.take(length)).then((data) => {
        fetching.delete(key);
        if (!live) return;
        conv.supply(file, offset, data);
        feed.add(file, offset, data);
        signal();
      }, () => {
        // Read again when needed, synchronously: that read reports the error.
        fetching.delete(key);
        if (!live) return;
        conv.unpend(file, offset);
        feed.flush();
        signal();
      });
      fetching.set(key, { file, offset, read });
    }
  };
  /** The read of a block the next batch needs, when that block is still on its way. */
  const inputAwaited = () => {
    const a = conv.awaiting(READ_MARGIN);
    return a == null ? undefined : fetching.get(`${a.file}:${a.offset}`)?.read;
  };
  let waitingForInput = null;
  // The manifest digests of the files inside the input (a disk inside an OVA), each computed by
  // a hasher worker of its own from the blocks fetched above (in order: feed.js); the core
  // compares them.
  const hashers = [];
  let feed = new HasherFeed([], { give: (buf) => reads.give(buf) });
  try {
    for (const h of conv.hash_inputs_elsewhere()) {
      const bridge = new Bridge(new URL('./hash-worker.js', import.meta.url), { name: 'input-hasher', what: 'the input hasher' });
      hashers.push({ ...h, bridge });
      await bridge.call('openInput', { module, blob: blobOf(m.files[h.file]), name: h.name, offset: h.offset, length: h.length, algorithm: h.algorithm });
    }
    feed = new HasherFeed(hashers.map((h) => ({
      file: h.file, offset: h.offset, length: h.length,
      call: (at, buf, len) => h.bridge.call('offerInput', transfer({ at, buf, len }, [buf])),
    })), {
      queue: HASHER_QUEUE,
      give: (buf) => reads.give(buf),
      pending: (file, offset) => [...fetching.values()].some((f) => f.file === file && f.offset < offset),
      wake: signal,
    });
    // An OPFS output asks the browser for all its storage here, before converting: the
    // browser's own answer (`no_space`, see quota.js), not navigator.storage.estimate(), which
    // over-reports.
    if (outLen != null) {
      await sink.reserve(outLen);
      reserved = true;
    }
    for (;;) {
      // Keep the pool fed; the converter says when its bound is reached.
      waitingForInput = null;
      while (outstanding < maxBatches && !failure && !feed.behind) {
        waitingForInput = inputAwaited();
        if (waitingForInput) break;
        const batch = conv.next_batch(BATCH_JOBS, BATCH_BYTES, pool.takeSpareInput());
        if (!batch) break;
        outstanding++;
        // The count drops in the same callback that pushes the result, so it always agrees
        // with what the converter is still waiting for.
        pool.run(batch).then(({ result, slot }) => {
          outstanding--;
          try {
            conv.push_batch(result);
            pool.recycle(slot, result.buffer);
          } catch (err) {
            failure = failure || asCoreError(err);
          }
          signal();
        }, (err) => {
          outstanding--;
          failure = failure || asCoreError(err);
          signal();
        });
      }
      fetchAhead();
      if (failure) throw failure;
      if (waitingForInput && outstanding === 0) {
        // Nothing else to wait for (and nothing for emit to do that cannot wait).
        await waitingForInput;
        continue;
      }
      if (!reserved && conv.output_len() != null) {
        // Compressed QCOW2: the length is known once the measuring pass is over.
        await sink.reserve(conv.output_len());
        reserved = true;
      }
      // 'done', 'wait' (for a batch to come back) or 'feed' (hand out more); a conversion
      // that can no longer finish throws.
      // While a hasher is behind and no batch is out, there is nothing new to write, and the
      // core takes another call with nothing handed out for a stall.
      const next = feed.behind && outstanding === 0 ? 'wait' : conv.emit(write);
      await sink.drain();
      if (next === 'done') break;
      if (next === 'digests') {
        feed.flush(true);
        for (const h of hashers) conv.provide_digest(h.id, await h.bridge.call('inputDigest'));
        continue;
      }
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_MS) {
        lastProgress = now;
        progress({ type: 'progress', progress: conv.progress(), elapsed_ms: now - started, uploaded: sink.uploaded });
      }
      // A hasher that is behind wakes this loop when it catches up.
      if (((next === 'wait' && outstanding > 0) || waitingForInput || feed.behind) && !signalled) {
        await new Promise((r) => { wake = r; });
      }
      signalled = false;
    }
    const report = conv.report();
    report.sha512 = await sink.finish(report.output_len);
    progress({ type: 'progress', progress: conv.progress(), elapsed_ms: performance.now() - started, uploaded: sink.uploaded });
    return {
      report, elapsed_ms: performance.now() - started, plan_ms: planMs, upload: sink.uploadAnswer,
      // Linear memory of the wasm instances: it only grows, so this is their high-water mark.
      wasm_bytes: { converter: wasmMemory ? wasmMemory.buffer.byteLength : null, decoder_max: pool.maxMemory },
    };
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    live = false;
    feed.drop();
    for (const h of hashers) h.bridge.terminate();
    pool.terminate();
    conv.free();
  }
}
