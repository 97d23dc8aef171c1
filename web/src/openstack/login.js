// The OpenStack section's login: the form (password or application credential; no password
// or secret is kept anywhere after the request: the session is an HttpOnly cookie the page
// never sees), the session shown (user, project, region, expiry) and Log out.
import { $, h } from '../util.js';
import { dateTime, duration, onLangChange, t } from '../i18n/index.js';
import * as alert from './alert.js';
import { ApiError } from './api.js';
import * as launch from './launch.js';
import { errorNodes, tNodes } from './text.js';

let api = null;
let current = null;
/** Whether the page is served with the API (null until asked). */
let available = null;
let changed = () => {};
/** The login's error shown, or null (kept to re-render it in another language). */
let loginFailure = null;

/** The session (`{user, project, region, regions, expires_at}`), or null. */
export function session() {
  return current;
}

function setSession(s) {
  current = s;
  render();
  changed(s);
}

/** The API answered 401: the session is over. */
export function ended() {
  setSession(null);
}

/**
 * The session line, rebuilt from `cloud.session.line` with the elements index.html gives it
 * (#session-user, #session-project, #session-region, #session-expiry keep their ids).
 */
function renderSessionLine(s) {
  const el = (id) => $(id) || h('span', { id });
  const user = el('session-user');
  const project = el('session-project');
  const region = el('session-region');
  const expiry = el('session-expiry');
  const exp = s.expires_at ? new Date(s.expires_at) : null;
  user.textContent = s.user ? `${s.user.name}${s.user.domain && s.user.domain.name ? ` (${s.user.domain.name})` : ''}` : '?';
  project.textContent = s.project ? s.project.name : '?';
  region.textContent = s.region || (s.regions || []).join(', ') || '–';
  expiry.textContent = exp && !Number.isNaN(exp.getTime())
    ? t('cloud.session.expiry', { when: dateTime(exp), left: duration((exp - Date.now()) / 1000) })
    : t('cloud.session.expiryUnknown');
  expiry.dataset.expiresAt = s.expires_at || '';
  const line = user.closest('p') || h('p');
  line.replaceChildren(...tNodes('cloud.session.line', {}, { user, project, region, expiry }));
  if (!line.isConnected) $('session').prepend(line);
}

function render() {
  const s = current;
  $('login-form').hidden = !!s || available === false;
  $('session').hidden = !s;
  $('os-panel').hidden = !s;
  $('os-unavailable').hidden = available !== false;
  if (available === false) $('os-unavailable').replaceChildren(t('cloud.unavailable'));
  if (s) renderSessionLine(s);
  renderLoginError();
}

function renderLoginError() {
  const p = $('login-error');
  const e = loginFailure;
  if (!e) {
    p.hidden = true;
    p.replaceChildren();
    delete p.dataset.error;
    return;
  }
  p.replaceChildren(h('strong', {}, t('cloud.login.failed')), ' ', ...errorNodes(e));
  p.dataset.error = e.error || '';
  p.hidden = false;
}

function loginError(e) {
  loginFailure = e || null;
  renderLoginError();
}

async function login(ev) {
  ev.preventDefault();
  const form = $('login-form');
  const f = new FormData(form);
  const method = f.get('method');
  const body = {};
  const opt = (k) => {
    const v = String(f.get(k) || '').trim();
    if (v) body[k] = v;
  };
  if (method === 'appcred') {
    opt('application_credential_id');
    body.application_credential_secret = String(f.get('application_credential_secret') || '');
  } else {
    opt('username');
    body.password = String(f.get('password') || '');
    opt('project');
    opt('user_domain');
    opt('project_domain');
  }
  opt('auth_url');
  opt('region');
  // Secrets leave the form at once: nothing keeps them (not the DOM, not storage).
  form.elements.password.value = '';
  form.elements.application_credential_secret.value = '';
  const btn = $('login-button');
  btn.disabled = true;
  loginError(null);
  try {
    setSession(await api.login(body));
    $('send-status').textContent = '';
  } catch (e) {
    loginError(e);
  } finally {
    btn.disabled = false;
  }
}

async function logout() {
  try {
    const r = await api.logout();
    // Logged out here, but Keystone did not confirm the revocation: the token stays valid until
    // it expires, and the user should know.
    if (r && r.revoked === false) {
      alert.show('cloud.do.logout', {}, new ApiError(200, { error: 'not_revoked', detail: 'Keystone did not confirm DELETE /v3/auth/tokens' }));
    }
  } catch (e) {
    alert.show('cloud.do.logout', {}, e);
  }
  launch.stop();
  setSession(null);
}

function setMethod() {
  const app = $('login-form').elements.method.value === 'appcred';
  $('login-password').hidden = app;
  $('login-appcred').hidden = !app;
  for (const el of $('login-password').querySelectorAll('input')) el.disabled = app;
  for (const el of $('login-appcred').querySelectorAll('input')) el.disabled = !app;
}

/**
 * Wire the login form, ask whether the API is there and restore a live session; `onChange(
 * session|null)` runs then and on every login and logout. `body[data-openstack]` says
 * `available` or `unavailable` once asked.
 */
export async function setup(client, { onChange }) {
  api = client;
  changed = onChange || (() => {});
  const form = $('login-form');
  form.addEventListener('submit', login);
  for (const r of form.querySelectorAll('input[name=method]')) r.addEventListener('change', setMethod);
  setMethod();
  $('logout-button').addEventListener('click', logout);
  const probed = await api.probe();
  available = probed.available;
  current = probed.session;
  document.body.dataset.openstack = available ? 'available' : 'unavailable';
  render();
  changed(current);
  // The session line, the expiry's format and a shown error follow the language.
  onLangChange(render);
}
