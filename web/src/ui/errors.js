// How an error is shown: a plain sentence that says what happened and what to do (from the
// catalogue, by the error's `code`), then a "Details" disclosure with the kind, file, offset
// and the core's English technical message (what a developer or the CLI would read). Each error
// is shown once: an input's error inside its card (inputs.js calls `errorBox`), the others here
// in `#error` (an alert). Items keep `data-kind` (and `data-code`) for tests and styles.
import { $, h, baseName } from '../util.js';
import { t, number, onLangChange } from '../i18n/index.js';
import { sentence } from '../i18n/sentence.js';
import { withCode } from '../error.js';

export { sentence };

/** "12,345 (0x3039)". */
function offsetText(offset) {
  return `${number(Number(offset))} (0x${Number(offset).toString(16)})`;
}

/** The details disclosure: kind, file, offset and the technical (English) message. */
function details(e) {
  const rows = [
    ['kind', e.kind],
    ['file', e.file || null],
    ['offset', e.offset != null ? offsetText(e.offset) : null],
    ['message', e.message],
  ].filter(([, v]) => v != null && v !== '');
  return h('details', { class: 'err-details' },
    h('summary', {}, t('common.details')),
    h('dl', { class: 'kv' }, rows.flatMap(([k, v]) => [
      h('dt', {}, t(`errors.details.${k}`)),
      // The technical message is the core's English, whatever the page's language.
      h('dd', { lang: k === 'message' ? 'en' : null }, String(v)),
    ])));
}

/**
 * One error as an element: `context` (e.g. what was being done) in bold unless the sentence
 * already names that file, the sentence, the details. `tag`: `li` in the list, `div` in a card.
 */
export function errorBox(error, { context = '', tag = 'div' } = {}) {
  const e = withCode(error);
  const text = sentence(e);
  // "Converting a.vmdk: a.vmdk is incomplete…" would name the file twice: the context goes.
  const named = e && e.file && text.includes(baseName(e.file));
  const ctx = context && !(named && (context.includes(baseName(e.file)) || baseName(e.file) === context)) ? context : '';
  const el = h(tag, { class: 'err', dataset: { kind: (e && e.kind) || '', code: (e && e.code) || '' } },
    h('p', { class: 'err-text' }, ctx ? h('strong', {}, `${ctx}: `) : null, text));
  if (e && typeof e === 'object') el.append(details(e));
  return el;
}

/** The errors shown in `#error` (`[{context, error}]`), kept to re-render in another language. */
let shown = [];

function render() {
  const box = $('error');
  box.replaceChildren();
  if (!shown.length) {
    box.hidden = true;
    return;
  }
  box.append(h('ul', {}, shown.map(({ context, error }) => errorBox(error, { context, tag: 'li' }))));
  box.hidden = false;
}

/** Show these errors (`[{context, error}]`) in place of any shown; none hides the list. */
export function show(list) {
  shown = [...list];
  render();
}

/** Add one error to those shown. */
export function add(context, error) {
  shown.push({ context, error });
  render();
}

export function clear() {
  show([]);
}

onLangChange(() => {
  if (shown.length) render();
});
