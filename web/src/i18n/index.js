// The page's two languages. Every string the page shows comes from a catalogue (en.js, ko.js:
// one per language, flat keys, the same keys and placeholders in both — tests/unit/i18n
// checks), looked up with t(key, params). Numbers, sizes, dates, durations and rates go
// through Intl in the page's language. The language follows navigator.languages unless the
// user picked one (remembered in localStorage); `lang` is set on the document. No DOM at import
// time: node unit tests and workers import this module too.
import en from './en.js';
import ko from './ko.js';

export const CATALOGUES = { en, ko };
export const LANGS = Object.keys(CATALOGUES);
const STORE_KEY = 'stackferry.lang';

let current = 'en';
const listeners = new Set();

/** The language for these preferences: a remembered choice, else the first of `languages`
 * (BCP 47 tags, as navigator.languages) we have, else English. */
export function pick(languages = [], remembered = null) {
  if (remembered && LANGS.includes(remembered)) return remembered;
  for (const tag of languages || []) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

/** The page's language (`en` or `ko`). */
export function lang() {
  return current;
}

/** The BCP 47 locale Intl formats with. */
export function locale() {
  return current === 'ko' ? 'ko-KR' : 'en';
}

function remembered() {
  try {
    return globalThis.localStorage ? localStorage.getItem(STORE_KEY) : null;
  } catch {
    return null;
  }
}

/** Choose the language at start-up (before the first render). */
export function init() {
  const nav = globalThis.navigator;
  current = pick(nav ? nav.languages || [nav.language] : [], remembered());
  if (globalThis.document) {
    document.documentElement.lang = current;
    translate(document);
  }
  return current;
}

/** Switch language (remembered), re-translate the static page and tell every renderer. */
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  current = l;
  try {
    localStorage.setItem(STORE_KEY, l);
  } catch { /* private mode: not remembered */ }
  if (globalThis.document) {
    document.documentElement.lang = l;
    translate(document);
  }
  for (const f of listeners) f(l);
}

/** Run `f(lang)` after every language switch (re-render what was built with t()). */
export function onLangChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The placeholders of a catalogue string (`{name}`), sorted: the parity test compares them. */
export function placeholders(s) {
  const forms = typeof s === 'string' ? [s] : Object.values(s);
  return [...new Set(forms.flatMap((f) => [...f.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

/**
 * The string for `key` in the page's language with `{name}` filled from `params`. A value that
 * is an object holds plural forms (`one`, `other`, as Intl.PluralRules names them) picked by
 * `params.count`. Numbers in `params` are formatted (grouped) for the locale; a missing key
 * falls back to English, then to the key itself (tests catch both).
 */
export function t(key, params = {}, l = current) {
  let s = CATALOGUES[l][key] ?? CATALOGUES.en[key];
  if (s == null) return key;
  if (typeof s === 'object') {
    const rule = new Intl.PluralRules(l === 'ko' ? 'ko-KR' : 'en').select(Number(params.count ?? 0));
    s = s[rule] ?? s.other;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => {
    const v = params[name];
    if (v == null) return m;
    return typeof v === 'number' ? number(v, l) : String(v);
  });
}

/** Whether the catalogue has `key`. */
export function has(key) {
  return key in CATALOGUES.en;
}

/** Args that are codes of their own, by name: the catalogue prefix that puts them in words
 * with the same args (`reason`: the core's guest::ReasonCode, e.g. in `why.guest_disk`). */
const CODED_ARGS = { reason: 'guest.reason.' };

/**
 * A message from the core or the worker (`{code, args, message}`) under catalogue prefix
 * `prefix` (`error.`, `warn.`, `why.`): its translation with `args`, else its English
 * `message` (the CLI's words) when the page has no entry for the code.
 */
export function msg(m, prefix = '') {
  if (!m) return '';
  if (typeof m === 'string') return m;
  const key = prefix + m.code;
  if (!has(key)) return m.message || m.code;
  const args = { ...(m.args || {}), file: m.file, offset: m.offset };
  for (const [name, p] of Object.entries(CODED_ARGS)) {
    if (typeof args[name] === 'string' && has(p + args[name])) args[name] = t(p + args[name], args);
  }
  return t(key, args);
}

/** Fill elements marked `data-i18n="key"` (text) and `data-i18n-attr="attr:key;attr:key"`. */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Formats (Intl, in the page's language).

/** 8589934592 → "8,589,934,592". */
export function number(n, l = current, opts = {}) {
  if (n == null || !Number.isFinite(Number(n))) return '–';
  return new Intl.NumberFormat(l === 'ko' ? 'ko-KR' : 'en', opts).format(n);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB" (binary units, the number grouped and with the locale's decimal sign). */
export function bytes(n, l = current) {
  if (n == null || !Number.isFinite(n)) return '–';
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${number(n, l)} B`;
  const digits = Math.abs(v) < 10 ? 2 : 1;
  return `${number(v, l, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${UNITS[i]}`;
}

/** Bytes per second → "85.3 MiB/s". */
export function rate(bytesPerSecond, l = current) {
  return Number.isFinite(bytesPerSecond) && bytesPerSecond >= 0 ? `${bytes(bytesPerSecond, l)}/s` : '–';
}

/** Seconds → "1:05" / "1:02:03" (digits and colons read the same in both languages). */
export function duration(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A date and time in the reader's language and time zone. */
export function dateTime(d, l = current) {
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return '–';
  return new Intl.DateTimeFormat(l === 'ko' ? 'ko-KR' : 'en', { dateStyle: 'long', timeStyle: 'short' }).format(date);
}

/** 0.423 → "42%". */
export function percent(f, l = current) {
  return number(f, l, { style: 'percent', maximumFractionDigits: 0 });
}
