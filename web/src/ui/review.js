// The review card: before anything is created in OpenStack (Send, Launch), what will be done,
// in words, with Back and Confirm — as Proxmox's import wizard and Horizon's launch dialog show
// it. A modal <dialog> (labelled by its heading, announced as a dialog; focus kept inside it):
// Confirm has the focus when it opens, Escape is Back, and the focus goes back to the button
// that opened it. Test hooks: data-testid review, review-confirm, review-back.
import { h } from '../util.js';
import { onLangChange, t } from '../i18n/index.js';

let seq = 0;

/**
 * Show the card and resolve to true (Confirm) or false (Back, Escape). With `refusal()` (the
 * reason, in the page's language) what is reviewed cannot be done: the reason shows
 * (data-testid review-refusal), there is no Confirm, Back has the focus. `content()` returns
 * `{title, intro, items: [[node|string, ...], ...]}` in the page's language: it runs again when
 * the language changes while the card is open. `confirmKey` names Confirm's label; `opener`
 * (default: the focused element) gets the focus back. `name` goes to `data-review` (send,
 * launch) for tests and styles.
 */
export function review({ content, confirmKey = 'common.confirm', opener = document.activeElement, name = '', refusal = null }) {
  const id = `review-${++seq}`;
  const heading = h('h2', { id: `${id}-title` });
  const intro = h('p', { id: `${id}-intro` });
  const list = h('ul', { class: 'review-items' });
  const back = h('button', { type: 'button', class: 'secondary', 'data-testid': 'review-back' });
  const confirm = h('button', { type: 'button', 'data-testid': 'review-confirm', hidden: !!refusal });
  const refused = h('p', { class: 'error', role: 'alert', 'data-testid': 'review-refusal', hidden: !refusal });
  const card = h('dialog', {
    class: 'review card', 'data-testid': 'review', 'aria-labelledby': heading.id, 'aria-describedby': intro.id,
    dataset: { review: name },
  }, heading, intro, list, refused, h('div', { class: 'row' }, back, confirm));
  const render = () => {
    const c = content();
    heading.textContent = c.title;
    intro.textContent = c.intro || '';
    intro.hidden = !c.intro;
    list.replaceChildren(...c.items.map((parts) => h('li', {}, ...[].concat(parts))));
    back.textContent = t('common.back');
    confirm.textContent = t(confirmKey);
    if (refusal) refused.textContent = refusal();
  };
  render();
  const unlisten = onLangChange(render);
  document.body.append(card);
  return new Promise((resolve) => {
    let closed = false;
    const close = (ok) => {
      if (closed) return;
      closed = true;
      unlisten();
      if (card.open) card.close();
      card.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(ok);
    };
    back.addEventListener('click', () => close(false));
    confirm.addEventListener('click', () => close(true));
    // Escape is Back, and only Back: it does not reach the page's own Escape (Cancel a run).
    card.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      close(false);
    });
    // Any other close request (the browser's own) is Back too.
    card.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(false);
    });
    card.showModal();
    (refusal ? back : confirm).focus();
  });
}
