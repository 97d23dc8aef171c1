// The page: wires its panels together. Files in (ui/files.js) are inspected by a converter
// worker (converter/client.js) and shown (ui/inputs.js); Convert and Send (ui/convert.js) run
// disk by disk, with progress (ui/progress.js) and results (ui/results.js); errors go to one
// list (ui/errors.js); the checklist (ui/checklist.js) and OpenStack (openstack/) have their
// own panels. This thread only renders: no file is read here and no format logic lives in
// JavaScript.
//
// It also owns the page's frame: the language switch and the step indicator (Connect → Files
// → Review → Convert/Send → Launch → Verify), which follows what the other modules show (see
// steps()) rather than being told, so they need not know it exists.
import * as converter from './converter/client.js';
import * as i18n from './i18n/index.js';
import { t } from './i18n/index.js';
import * as osweb from './openstack/index.js';
import * as checklist from './ui/checklist.js';
import * as convert from './ui/convert.js';
import * as errors from './ui/errors.js';
import * as files from './ui/files.js';
import * as inputs from './ui/inputs.js';
import * as results from './ui/results.js';
import { $ } from './util.js';


/** The inspection under way: a newer one aborts it (its worker ends). */
let inspection = null;
let inspections = 0;
/** Whether an inspection is running (its status line is re-rendered on a language switch). */
let reading = false;

function setReading(on) {
  reading = on;
  files.setStatus(on ? t('shell.reading') : '');
}

/** The files changed: inspect them anew, in a converter worker (FileReaderSync lives there). */
async function inspect(list) {
  if (inspection) inspection.abort();
  inspection = null;
  errors.clear();
  inputs.show(null, list);
  if (!list.length) {
    setReading(false);
    return;
  }
  const seq = ++inspections;
  const abort = new AbortController();
  inspection = abort;
  setReading(true);
  let result = null;
  let error = null;
  try {
    result = await converter.inspect(list, { signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) return;
    error = e;
  }
  inspection = null;
  setReading(false);
  if (error) errors.show([{ context: t('shell.unreadable'), error }]);
  inputs.show(result, list);
  // The tests wait for this count.
  document.body.dataset.inspected = String(seq);
}

// ---------------------------------------------------------------------------------------------
// The step indicator.

const STEPS = ['connect', 'files', 'review', 'convert', 'launch', 'verify'];

/**
 * Where the user is, read from what the modules show: `{done: Set, current, unavailable:
 * Set}`. Connect is optional (never "current"); Launch needs the edge worker.
 */
export function steps() {
  const body = document.body;
  const unavailable = new Set(body.dataset.openstack === 'unavailable' ? ['connect', 'launch'] : []);
  const run = $('progress').dataset.state || 'idle';
  const done = new Set();
  if (!$('session').hidden) done.add('connect');
  const given = $('file-list').childElementCount > 0;
  if (given && !$('inputs-section').hidden) done.add('files');
  if (done.has('files') && run !== 'idle') done.add('review');
  if (run === 'done' || $('upload-progress').dataset.state === 'done') done.add('convert');
  if (!$('server-status').hidden) done.add('launch');
  const boxes = [...$('checklist').querySelectorAll('input[type=checkbox]')];
  if (boxes.length && boxes.every((b) => b.checked)) done.add('verify');
  const current = STEPS.slice(1).find((s) => !done.has(s) && !unavailable.has(s)) || 'verify';
  return { done, current, unavailable };
}

let stepsQueued = false;

/** Re-mark the steps (coalesced: many mutations, one render per frame). */
function queueSteps() {
  if (stepsQueued) return;
  stepsQueued = true;
  requestAnimationFrame(() => {
    stepsQueued = false;
    renderSteps();
  });
}

function setIfChanged(el, key, value) {
  if (el[key] !== value) el[key] = value;
}

function renderSteps() {
  const { done, current, unavailable } = steps();
  const order = STEPS.filter((s) => !unavailable.has(s) && s !== 'connect');
  for (const li of document.querySelectorAll('nav.steps li[data-step]')) {
    const s = li.dataset.step;
    let state;
    if (done.has(s)) state = 'done';
    else if (unavailable.has(s)) state = 'unavailable';
    else if (s === current) state = 'current';
    else if (s === 'connect') state = 'optional';
    else state = order[order.indexOf(current) + 1] === s ? 'next' : 'later';
    if (li.dataset.state !== state) li.dataset.state = state;
    const a = li.querySelector('a');
    if (s === current) {
      if (a.getAttribute('aria-current') !== 'step') a.setAttribute('aria-current', 'step');
    } else if (a.hasAttribute('aria-current')) a.removeAttribute('aria-current');
    setIfChanged(li.querySelector('.step-state'), 'textContent', t(`shell.state.${state}`));
  }
  // A step with nothing in it yet says so (instead of a heading over nothing).
  for (const p of document.querySelectorAll('.step-empty[data-empty-until]')) {
    setIfChanged(p, 'hidden', !$(p.dataset.emptyUntil).hidden);
  }
  // What the launch step waits for, until its form opens (openstack/launch.js shows #launch
  // once an image is in Glance with its hash matching).
  const needs = $('launch-needs');
  const key = unavailable.has('launch') ? 'shell.launch.unavailable'
    : $('session').hidden ? 'shell.launch.needs' : 'shell.launch.send_first';
  if (needs.dataset.i18n !== key) {
    needs.dataset.i18n = key;
    needs.textContent = t(key);
  }
  setIfChanged(needs, 'hidden', !$('os-panel').hidden && !$('launch').hidden);
  // Without the edge worker there is nothing to log in to: only the reason (#os-unavailable) shows.
  setIfChanged($('connect-why'), 'hidden', unavailable.has('connect'));
}

/** Follow the modules' state: the attributes and lists steps() reads. */
function watchSteps() {
  const observer = new MutationObserver(queueSteps);
  observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['hidden', 'data-state', 'data-inspected', 'data-openstack'] });
  observer.observe($('file-list'), { childList: true });
  observer.observe($('checklist'), { childList: true });
  $('checklist').addEventListener('change', queueSteps);
  renderSteps();
}

// ---------------------------------------------------------------------------------------------
// Language and the footer.

function setupLanguage() {
  const sel = $('lang-select');
  sel.value = i18n.lang();
  sel.addEventListener('change', () => i18n.setLang(sel.value));
  i18n.onLangChange((l) => {
    sel.value = l;
    renderSteps();
    if (reading) files.setStatus(t('shell.reading'));
  });
}

function setup() {
  i18n.init();
  setupLanguage();
  files.setup({ onChange: inspect });
  inputs.setup({ onShown: () => checklist.refresh(), onChange: convert.update, onEdit: results.refreshCommands });
  checklist.setup();
  convert.setup();
  osweb.setup({ onChange: convert.update });
  inputs.show(null, []);
  watchSteps();
  document.body.dataset.ready = 'true';
}

setup();
