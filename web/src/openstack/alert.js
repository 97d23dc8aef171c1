// The OpenStack section's alert (`#os-error`): the API's error and detail, its code in
// `data-error`.
import { $, h } from '../util.js';
import { apiErrorText } from './api.js';

/** Show `e` (an ApiError or a converter error) under `context` ("Creating the image x"). */
export function show(context, e) {
  const box = $('os-error');
  box.replaceChildren(h('strong', {}, `${context}: `), h('span', {}, apiErrorText(e)));
  box.dataset.error = (e && (e.error || e.kind)) || '';
  box.hidden = false;
}

export function hide() {
  $('os-error').hidden = true;
}
