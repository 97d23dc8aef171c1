// The hasher (a worker nested in the writer): the SHA-512 of the output (Glance's
// os_hash_value), in its own thread because on its own it costs as much as writing the file
// (about 450 MiB/s in wasm): one thread doing both was the slowest step of a conversion.
// Output arrives from the writer in order as (bytes, at) pieces, all-zero stretches skipped
// (hashed here as zeros); each buffer goes back to the writer once hashed, which is what
// bounds the bytes in flight (see converter/sink.js). Calls come through the bridge, in order.
// The same worker, started by the converter worker instead, computes the manifest digest of a
// disk inside an OVA (`openInput`, `offerInput`, `inputDigest`): off the converter's thread,
// from the blocks it read and passed on, reading what it missed itself (FileReaderSync).
import init, { InputHasher, Sha512Hasher } from './pkg/stackferry.js';
import { serve, transfer } from './converter/bridge.js';
import { asCoreError } from './error.js';

let hasher = null;
let input = null;
let pos = 0; // output bytes hashed so far

serve({
  /** `module`: the compiled wasm (from the writer), or its URL (from the page: hashFile). */
  async open({ module }) {
    await init({ module_or_path: module });
    hasher = new Sha512Hasher();
    pos = 0;
  },
  /** Resolves to `{hashed, buf}`: the buffer goes back for reuse. */
  update({ buf, len, at }) {
    if (at < pos) throw new Error(`output out of order at ${at} (hashed up to ${pos})`);
    if (at > pos) hasher.update_zeros(at - pos);
    hasher.update(new Uint8Array(buf, 0, len));
    pos = at + len;
    return transfer({ hashed: len, buf }, [buf]);
  },
  /** Hash `length` bytes of `blob` from `offset` (see Converter.hash_inputs_elsewhere). */
  async openInput({ module, blob, name, offset, length, algorithm }) {
    await init({ module_or_path: module });
    input = new InputHasher(blob, name, offset, length, algorithm);
  },
  /** `len` bytes of the blob read at `at` by the converter; resolves to `buf`, for reuse. */
  offerInput({ at, buf, len }) {
    input.offer(at, new Uint8Array(buf, 0, len));
    return transfer(buf, [buf]);
  },
  /** Resolves to the digest (hex) of the whole range. */
  inputDigest() {
    const digest = input.digest();
    input.free();
    input = null;
    return digest;
  },
  /** The output is `len` bytes (zeros after the last piece): resolves to the SHA-512 (hex). */
  finish({ len }) {
    if (len > pos) hasher.update_zeros(len - pos);
    const sha512 = hasher.finish();
    hasher = null;
    return sha512;
  },
}, { toError: (e, args) => asCoreError(e, { kind: 'invalid_argument', context: 'hashing the output failed: ', offset: (args && args.at) ?? null }) });
