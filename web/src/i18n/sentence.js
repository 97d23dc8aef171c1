// The plain sentence of an error from the converter core or the page (`{kind, code, file,
// args, message}`) in the page's language: one wording wherever an error is shown (the error
// boxes of ui/errors.js, the OpenStack alert through openstack/api.js). No DOM.
import { baseName } from '../util.js';
import { t, msg, has, bytes, placeholders, CATALOGUES } from './index.js';
import { withCode } from '../error.js';

/** Args that are byte counts: shown as sizes ("4.9 KiB"), not raw numbers. */
const SIZE_ARGS = ['size', 'needed', 'available', 'limit'];

/**
 * The plain sentence for a core or page error: `error.<code>` (the core's catalogue section),
 * else the page's own `errors.<code>`, else the same for its `kind`, else a generic sentence
 * naming the file (the technical message is in the details either way). A page sentence with
 * numbers may have a `<key>_plain` form for the same error arriving without them (e.g. a full
 * quota reported by the browser alone).
 */
export function sentence(error) {
  if (!error || typeof error !== 'object') return String(error ?? '');
  const e = withCode(error);
  const args = { ...e.args };
  for (const k of SIZE_ARGS) if (typeof args[k] === 'number') args[k] = bytes(args[k]);
  const file = e.file ? baseName(e.file) : '';
  const m = { ...e, args: { ...args, file: file || t('errors.this_file') } };
  for (const code of [e.code, e.kind]) {
    if (!code) continue;
    if (has(`error.${code}`)) return msg({ ...m, code }, 'error.');
    if (has(`errors.${code}`)) return msg({ ...m, code: given(`errors.${code}`, args) ? code : `${code}_plain` }, 'errors.');
  }
  return t(file ? 'errors.generic' : 'errors.generic_nofile', { file });
}

/** Whether `args` fill every placeholder of page sentence `key`, or it has no `_plain` form. */
function given(key, args) {
  if (!has(`${key}_plain`)) return true;
  return placeholders(CATALOGUES.en[key]).every((p) => p === 'file' || args[p] != null);
}
