// The "leave this page?" guard: while a conversion or an upload runs, closing or reloading the
// tab would throw the work away (the converter lives in this tab), so the browser asks first.
// Each piece of work holds the guard and releases it when it ends; the `beforeunload` listener
// is only installed while someone holds it (an idle page never asks, and keeps its
// back/forward cache).

/** Why the guard is held, one entry per hold (a hold may be released once). */
const holds = new Set();

function onBeforeUnload(e) {
  e.preventDefault();
  // Older browsers show the dialog only when returnValue is set (its text is not shown).
  e.returnValue = '';
  return '';
}

/** Hold the guard while `reason` (e.g. 'convert', 'send') runs; call the returned function when done. */
export function hold(reason = 'work') {
  const token = { reason };
  if (!holds.size) addEventListener('beforeunload', onBeforeUnload);
  holds.add(token);
  return function release() {
    if (!holds.delete(token)) return;
    if (!holds.size) removeEventListener('beforeunload', onBeforeUnload);
  };
}

/** Whether anything holds the guard (and why): `[reason, …]`. */
export function held() {
  return [...holds].map((x) => x.reason);
}
