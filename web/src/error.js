// The one error shape of the page and its workers: the core's `{kind, file, offset, message}`
// (converter-wasm/src/error.rs hands it to JavaScript unchanged), so an error made in
// JavaScript (a worker that stopped, a full disk, a refused upload) reads like one from the
// core: same fields, same one-line text. No DOM here: workers use it too.

/**
 * An error in the core's shape. `kind` is one of the core's kinds (`io`, `truncated`,
 * `corrupt`, `unsupported`, `missing_file`, `unsafe_name`, `too_large`, `checksum`,
 * `cancelled`, `invalid_argument`) or the page's own `upload` / `stream_failed`; `more` adds
 * fields for the caller (e.g. the API's answer to a failed upload).
 */
export function coreError(kind, message, { file = '', offset = null, ...more } = {}) {
  return { kind, file, offset, message, ...more };
}

/** Whether `e` already has the core's shape (the core threw it, or a worker made it here). */
function isCoreError(e) {
  return !!e && typeof e === 'object' && 'kind' in e && 'message' in e;
}

/**
 * Anything thrown → a core error: core errors pass unchanged; a full quota (OPFS, a picked
 * file) is `too_large`; anything else is `kind`, its message after `context` (e.g. "writing
 * the output failed: "), at `offset` when the caller knows it.
 */
export function asCoreError(e, { kind = 'io', context = '', offset = null } = {}) {
  if (isCoreError(e)) return e;
  const message = String((e && e.message) || e);
  if (e && e.name === 'QuotaExceededError') return coreError('too_large', `not enough storage for the output: ${message}`, { offset });
  return coreError(kind, context + message, { offset });
}

/** A core error as one line, like the CLI prints it: `file: offset N (0x…): message`. */
export function errorText(e) {
  if (!e || typeof e !== 'object') return String(e);
  let s = '';
  if (e.file) s += `${e.file}: `;
  if (e.offset != null) s += `offset ${e.offset} (0x${Number(e.offset).toString(16)}): `;
  return s + (e.message || String(e));
}
