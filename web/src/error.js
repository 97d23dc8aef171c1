// The one error shape of the page and its workers: the core's `{kind, code, file, offset,
// message, args}` (converter-wasm/src/error.rs hands it to JavaScript unchanged), so an error
// made in JavaScript (a worker that stopped, a full disk, a refused upload) reads like one from
// the core. `kind` is the broad class (tests and logs), `code` the stable key the page words its
// sentence by (`error.<code>` in the catalogues, ui/errors.js), `args` its parameters, `message`
// the English technical text (the CLI's words; the page puts it in a details disclosure).
// No DOM here: workers use it too.

/**
 * An error in the core's shape. `kind` is one of the core's kinds (`io`, `truncated`,
 * `corrupt`, `unsupported`, `missing_file`, `unsafe_name`, `too_large`, `checksum`,
 * `cancelled`, `invalid_argument`) or the page's own `upload` / `stream_failed`. `code`
 * defaults to `kind`; the page's own refinements: `no_space` (the browser's storage is full),
 * `worker_stopped` (a worker died), `upload`, `stream_failed`. `more` adds fields for the
 * caller (e.g. the API's answer to a failed upload).
 */
export function coreError(kind, message, { file = '', offset = null, code = kind, args = {}, ...more } = {}) {
  return { kind, code, file, offset, message, args, ...more };
}

/** Whether `e` already has the core's shape (the core threw it, or a worker made it here). */
function isCoreError(e) {
  return !!e && typeof e === 'object' && 'kind' in e && 'message' in e;
}

/**
 * Anything thrown → a core error: core errors pass (given a `code` if an older core sent
 * none); a full quota (OPFS, a picked file) is `too_large` with code `no_space`; anything else
 * is `kind`, its message after `context` (e.g. "writing the output failed: "), at `offset` when
 * the caller knows it.
 */
export function asCoreError(e, { kind = 'io', context = '', offset = null } = {}) {
  if (isCoreError(e)) return withCode(e);
  const message = String((e && e.message) || e);
  if (e && e.name === 'QuotaExceededError') {
    return coreError('too_large', `not enough storage for the output: ${message}`, { offset, code: 'no_space' });
  }
  return coreError(kind, context + message, { offset });
}

/** A core error with `code` and `args` filled in (an older core sent neither). */
export function withCode(e) {
  if (!isCoreError(e)) return e;
  return e.code && e.args ? e : { ...e, code: e.code || e.kind, args: e.args || {} };
}

/** A core error as one line, like the CLI prints it: `file: offset N (0x…): message`. */
export function errorText(e) {
  if (!e || typeof e !== 'object') return String(e);
  let s = '';
  if (e.file) s += `${e.file}: `;
  if (e.offset != null) s += `offset ${e.offset} (0x${Number(e.offset).toString(16)}): `;
  return s + (e.message || String(e));
}
