// The page's error list (`#error`, an alert): one item per error, with the error's kind in
// `data-kind`, the context in bold unless the error already names that file first.
import { $, h, baseName } from '../util.js';
import { errorText } from '../error.js';

/** The context of an error, unless the error already names that file first. */
function contextFor(context, error) {
  if (!context || !error || !error.file) return context;
  return error.file === context || baseName(error.file) === context ? null : context;
}

function item({ context, error }) {
  return h('li', { dataset: { kind: (error && error.kind) || '' } },
    contextFor(context, error) ? h('strong', {}, `${context}: `) : null,
    h('span', {}, errorText(error)),
    error && error.kind ? h('span', { class: 'where' }, ` [${error.kind}]`) : null);
}

/** Show these errors (`[{context, error}]`) in place of any shown; none hides the list. */
export function show(list) {
  const box = $('error');
  box.replaceChildren();
  if (!list.length) {
    box.hidden = true;
    return;
  }
  box.append(h('ul', {}, list.map(item)));
  box.hidden = false;
}

/** Add one error to those shown. */
export function add(context, error) {
  const box = $('error');
  const ul = box.querySelector('ul') || box.appendChild(h('ul'));
  ul.append(item({ context, error }));
  box.hidden = false;
}

export function clear() {
  show([]);
}
