// The page: wires its panels together. Files in (ui/files.js) are inspected by a converter
// worker (converter/client.js) and shown (ui/inputs.js); Convert and Send (ui/convert.js) run
// disk by disk, with progress (ui/progress.js) and results (ui/results.js); errors go to one
// list (ui/errors.js); the checklist (ui/checklist.js) and OpenStack (openstack/) have their
// own panels. This thread only renders: no file is read here and no format logic lives in
// JavaScript.
import * as converter from './converter/client.js';
import * as i18n from './i18n/index.js';
import { opfsCleanup } from './save.js';
import * as osweb from './openstack/index.js';
import * as checklist from './ui/checklist.js';
import * as convert from './ui/convert.js';
import * as errors from './ui/errors.js';
import * as files from './ui/files.js';
import * as inputs from './ui/inputs.js';
import * as results from './ui/results.js';

/** The inspection under way: a newer one aborts it (its worker ends). */
let inspection = null;
let inspections = 0;

/** The files changed: inspect them anew, in a converter worker (FileReaderSync lives there). */
async function inspect(list) {
  if (inspection) inspection.abort();
  inspection = null;
  errors.clear();
  inputs.show(null, list);
  if (!list.length) {
    files.setStatus('');
    return;
  }
  const seq = ++inspections;
  const abort = new AbortController();
  inspection = abort;
  files.setStatus('Reading the files’ metadata…');
  let result = null;
  let error = null;
  try {
    result = await converter.inspect(list, { signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) return;
    error = e;
  }
  inspection = null;
  files.setStatus('');
  if (error) errors.show([{ context: 'These files could not be read', error }]);
  inputs.show(result, list);
  // The tests wait for this count.
  document.body.dataset.inspected = String(seq);
}

function setup() {
  i18n.init();
  files.setup({ onChange: inspect });
  inputs.setup({ onShown: () => checklist.refresh(), onChange: convert.update, onEdit: results.refreshCommands });
  checklist.setup();
  convert.setup();
  osweb.setup({ onChange: convert.update });
  opfsCleanup();
  inputs.show(null, []);
  document.body.dataset.ready = 'true';
}

setup();
