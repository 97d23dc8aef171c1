// What the OpenStack panels share for showing text: a catalogue sentence with elements in its
// placeholders (the session line keeps its <strong id=…> parts), and an error as a plain
// sentence with the technical line in a details disclosure.
import { h } from '../util.js';
import { t } from '../i18n/index.js';
import { ApiError, apiMessage } from './api.js';
import { StagedError } from './staged.js';
import { errorBox } from '../ui/errors.js';

/**
 * `t(key, params)` as nodes, each `{name}` left unfilled by `params` replaced by `nodes[name]`
 * (an element, kept as is: ids and test hooks survive a language switch).
 */
export function tNodes(key, params, nodes) {
  const s = t(key, params);
  const out = [];
  let last = 0;
  for (const m of s.matchAll(/\{(\w+)\}/g)) {
    if (!(m[1] in nodes)) continue;
    out.push(s.slice(last, m.index), nodes[m[1]]);
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out.filter((x) => x !== '');
}

/** A details disclosure ("Details") holding `text` (technical, English: the worker's words). */
export function detailsOf(text) {
  return h('details', { class: 'tech' }, h('summary', {}, t('common.details')), h('code', { class: 'mono' }, text));
}

/**
 * An error's nodes: its plain sentence, then its technical line in a disclosure. A converter
 * error (a disk that failed while being sent) reads as it does everywhere else on the page.
 */
export function errorNodes(e) {
  if (!(e instanceof ApiError) && e && typeof e === 'object' && 'kind' in e) return [errorBox(e)];
  if (e instanceof StagedError) return [h('span', { class: 'plain' }, t(`staged.error.${e.code}`, e.params)), detailsOf(e.message)];
  const m = apiMessage(e);
  return [h('span', { class: 'plain' }, m.text), detailsOf(m.details)];
}
