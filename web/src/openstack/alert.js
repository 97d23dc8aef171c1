// The OpenStack section's alert (`#os-error`): what was being done, the error as a plain
// sentence in the page's language (`api.<code>`), the worker's own words in a details
// disclosure, its code in `data-error`. Re-rendered when the language changes.
import { $, h } from '../util.js';
import { onLangChange, t } from '../i18n/index.js';
import { errorNodes } from './text.js';

/** What is shown: `{key, params, e}`, or null. */
let shown = null;

function render() {
  const box = $('os-error');
  if (!shown) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const { key, params, e } = shown;
  box.replaceChildren(h('strong', {}, t('cloud.alert.context', { what: t(key, params) })), ' ', ...errorNodes(e));
  box.dataset.error = (e && (e.error || e.code || e.kind)) || '';
  box.hidden = false;
}

/** Show `e` (an ApiError or a converter error) under what was being done (`t(key, params)`). */
export function show(key, params, e) {
  shown = { key, params, e };
  render();
}

export function hide() {
  shown = null;
  render();
}

onLangChange(() => shown && render());
