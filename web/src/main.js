// The page: takes the user's files, shows what they hold, converts disk by disk in a dedicated
// worker (which spreads decoding over a pool of workers) and shows progress and results. This
// thread only renders: no file is read here and no format logic lives in JavaScript.
import { h, bytes, duration, errorText, baseName, outputName, commands, copyText, downloadText } from './util.js';
import { pickerAvailable, opfsAvailable, pickTargets, opfsName, opfsFile, opfsRemove, opfsCleanup } from './save.js';
import * as checklist from './checklist.js';
import * as osweb from './openstack.js';

const $ = (id) => document.getElementById(id);
const PARAMS = new URLSearchParams(location.search);

const state = {
  /** [{name, blob}] in the order given. */
  files: [],
  /** The converter worker's `inspect` answer. */
  inspected: null,
  /** Per input index: {disks: Set of chosen disk indexes, props: [{key, value, reason}]}. */
  choices: new Map(),
  inspector: null,
  inspectSeq: 0,
  running: null,
  /** OPFS files this tab made (removed when a new conversion starts or on Clear). */
  opfsMade: new Set(),
  objectUrls: [],
};

// ---------------------------------------------------------------------------------------------
// Errors

/** The context of an error, unless the error already names that file first. */
function contextFor(context, error) {
  if (!context || !error || !error.file) return context;
  return error.file === context || baseName(error.file) === context ? null : context;
}

function showErrors(list) {
  const box = $('error');
  box.replaceChildren();
  if (!list.length) {
    box.hidden = true;
    return;
  }
  box.append(h('ul', {}, list.map(({ context, error }) =>
    h('li', { dataset: { kind: (error && error.kind) || '' } },
      contextFor(context, error) ? h('strong', {}, `${context}: `) : null,
      h('span', {}, errorText(error)),
      error && error.kind ? h('span', { class: 'where' }, ` [${error.kind}]`) : null))));
  box.hidden = false;
}

function addError(context, error) {
  const box = $('error');
  const ul = box.querySelector('ul') || box.appendChild(h('ul'));
  ul.append(h('li', { dataset: { kind: (error && error.kind) || '' } },
    contextFor(context, error) ? h('strong', {}, `${context}: `) : null, h('span', {}, errorText(error)),
    error && error.kind ? h('span', { class: 'where' }, ` [${error.kind}]`) : null));
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Files in

function fileEntry(file, path) {
  const name = path || file.webkitRelativePath || file.name;
  return { name, blob: file };
}

function addFiles(entries) {
  if (state.running) return;
  for (const e of entries) {
    const i = state.files.findIndex((f) => f.name === e.name);
    if (i >= 0) state.files[i] = e;
    else state.files.push(e);
  }
  renderFiles();
  runInspect();
}

function renderFiles() {
  const ul = $('file-list');
  ul.replaceChildren(...state.files.map((f) => h('li', {}, h('span', {}, f.name), h('span', { class: 'size' }, bytes(f.blob.size)))));
  $('clear-files').disabled = !state.files.length || !!state.running;
}

/** Files from a drop, folders walked recursively (paths relative to the drop). */
async function droppedFiles(dt) {
  const out = [];
  const entries = [];
  for (const item of dt.items || []) {
    const entry = item.webkitGetAsEntry && item.webkitGetAsEntry();
    if (entry) entries.push(entry);
  }
  if (!entries.length) {
    for (const f of dt.files || []) out.push(fileEntry(f));
    return out;
  }
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push(fileEntry(file, prefix + entry.name));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

function setupInputs() {
  const drop = $('drop');
  const input = $('file-input');
  const folder = $('folder-input');
  input.addEventListener('change', () => {
    addFiles([...input.files].map((f) => fileEntry(f)));
    input.value = '';
  });
  folder.addEventListener('change', () => {
    addFiles([...folder.files].map((f) => fileEntry(f)));
    folder.value = '';
  });
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  for (const t of ['dragenter', 'dragover']) {
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    try {
      addFiles(await droppedFiles(e.dataTransfer));
    } catch (err) {
      showErrors([{ context: 'Reading the dropped files', error: { kind: 'io', message: String(err && err.message || err) } }]);
    }
  });
  // Dropping next to the zone must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('clear-files').addEventListener('click', () => {
    state.files = [];
    state.inspected = null;
    state.choices.clear();
    stopInspector();
    renderFiles();
    renderInputs();
    showErrors([]);
    $('inspect-status').textContent = '';
  });
}

// ---------------------------------------------------------------------------------------------
// Inspection (in a worker: FileReaderSync only exists there)

function newWorker() {
  return new Worker(new URL('./converter-worker.js', import.meta.url), { type: 'module', name: 'converter' });
}

function stopInspector() {
  if (state.inspector) state.inspector.terminate();
  state.inspector = null;
}

function runInspect() {
  showErrors([]);
  state.inspected = null;
  state.choices.clear();
  renderInputs();
  if (!state.files.length) return;
  stopInspector();
  const seq = ++state.inspectSeq;
  const w = newWorker();
  state.inspector = w;
  $('inspect-status').textContent = 'Reading the files’ metadata…';
  const finished = () => {
    // The inspector's memory goes back at once; conversions start their own workers.
    stopInspector();
    document.body.dataset.inspected = String(seq);
  };
  w.onmessage = (e) => {
    if (seq !== state.inspectSeq) return;
    const m = e.data;
    finished();
    if (m.type === 'inspected') {
      state.inspected = m.result;
      $('inspect-status').textContent = '';
      renderInputs();
    } else if (m.type === 'error') {
      $('inspect-status').textContent = '';
      showErrors([{ context: 'These files could not be read', error: m.error }]);
      renderInputs();
    }
  };
  w.onerror = (e) => {
    e.preventDefault();
    if (seq !== state.inspectSeq) return;
    finished();
    $('inspect-status').textContent = '';
    showErrors([{ context: 'Reading the files failed', error: { kind: 'io', message: e.message || 'worker error' } }]);
  };
  w.postMessage({ type: 'inspect', files: state.files });
}

// ---------------------------------------------------------------------------------------------
// What the files hold

function inputLabel(inp) {
  return inp.inspection && inp.inspection.vm && inp.inspection.vm.name ? inp.inspection.vm.name : baseName(inp.name);
}

function choiceFor(i, inp) {
  if (!state.choices.has(i)) {
    const ins = inp.inspection;
    const sug = ins && ins.suggestion;
    const props = sug ? (sug.properties || []).map((p) => ({ ...p })) : [];
    // The user's copy of the suggestion: what the commands use.
    const shape = sug ? { min_ram: sug.min_ram, min_disk: sug.min_disk, flavor: { ...(sug.flavor || {}) } } : null;
    state.choices.set(i, { disks: new Set(ins ? ins.disks.map((_, k) => k) : []), props, shape });
  }
  return state.choices.get(i);
}

function renderInputs() {
  const sec = $('inputs-section');
  const box = $('inputs');
  const vmBox = $('vm-summary');
  box.replaceChildren();
  vmBox.replaceChildren();
  vmBox.hidden = true;
  const ins = state.inspected;
  if (!ins) {
    sec.hidden = true;
    $('convert-section').hidden = !state.files.length;
    updateConvertButton();
    return;
  }
  sec.hidden = false;
  $('convert-section').hidden = false;
  const errors = [];
  ins.inputs.forEach((inp, i) => {
    const card = h('div', { class: 'input', dataset: { input: i } });
    card.append(h('h3', {}, baseName(inp.name), inp.inspection ? h('span', { class: 'hint' }, ` · ${inp.inspection.kind.toUpperCase()}`) : null));
    if (inp.uses.length > 1) {
      card.append(h('p', { class: 'hint' }, 'Files: ', inp.uses.map((k) => state.files[k] ? state.files[k].name : `#${k}`).join(', ')));
    }
    if (inp.error) {
      card.append(h('p', { class: 'missing' }, 'Cannot be converted: ', errorText(inp.error)));
      errors.push({ context: baseName(inp.name), error: inp.error });
      box.append(card);
      return;
    }
    const x = inp.inspection;
    const choice = choiceFor(i, inp);
    if (x.missing.length) {
      card.append(h('p', { class: 'missing' }, `Missing ${x.missing.length === 1 ? 'file' : 'files'}: `, x.missing.join(', '),
        ' — add ', x.missing.length === 1 ? 'it' : 'them', ' (drop them here too) to convert this input.'));
      errors.push({ context: baseName(inp.name), error: { kind: 'missing_file', file: baseName(inp.name), offset: null, message: `needs ${x.missing.map((n) => `'${n}'`).join(', ')}, which ${x.missing.length === 1 ? 'was' : 'were'} not given` } });
    }
    const list = h('div', { class: 'disks' });
    x.disks.forEach((d, k) => {
      const id = `disk-${i}-${k}`;
      const cb = h('input', { type: 'checkbox', id, checked: choice.disks.has(k), disabled: x.missing.length > 0 });
      cb.addEventListener('change', () => {
        if (cb.checked) choice.disks.add(k);
        else choice.disks.delete(k);
        updateConvertButton();
      });
      list.append(h('div', { class: 'disk-choice' }, cb, h('label', { for: id }, `Disk ${k + 1}: ${baseName(d.name)}`),
        h('span', { class: 'hint' }, `${d.subformat || d.format}, virtual size ${bytes(d.virtual_size)}, up to ${bytes(d.allocated_bytes)} of data${d.parents.length ? `, snapshot chain of ${d.parents.length + 1}` : ''}`)));
      for (const w of d.warnings || []) list.append(h('p', { class: 'warn' }, `Warning: ${w}`));
    });
    card.append(list);
    for (const w of x.warnings || []) card.append(h('p', { class: 'warn' }, `Warning: ${w}`));
    if (x.vm) {
      vmBox.append(vmSummary(i, inp, x, choice));
      vmBox.hidden = false;
    }
    box.append(card);
  });
  if (ins.unused.length) {
    box.append(h('p', { class: 'hint' }, 'Not used by any disk: ', ins.unused.map((k) => state.files[k].name).join(', ')));
  }
  if (errors.length) showErrors(errors);
  refreshChecklistVms();
  updateConvertButton();
}

function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) if (v != null && v !== '') dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

function vmSummary(i, inp, x, choice) {
  const vm = x.vm;
  const os = vm.os || {};
  const card = h('div', { class: 'vm', dataset: { input: i } });
  card.append(h('h3', {}, `VM: ${vm.name || baseName(inp.name)}`));
  card.append(kv([
    ['Guest OS', [...new Set([os.description, os.vmw_os_type, os.vbox_os_type].filter(Boolean))].join(' · ') || (os.id != null ? `CIM OS type ${os.id}` : 'not stated')],
    ['vCPUs', vm.vcpus != null ? `${vm.vcpus}${vm.cores_per_socket ? ` (${vm.cores_per_socket} per socket)` : ''}` : null],
    ['Memory', vm.memory_mib != null ? bytes(vm.memory_mib * 1048576) : null],
    ['Firmware', vm.firmware ? `${vm.firmware.toUpperCase()}${vm.secure_boot ? ', secure boot' : ''}` : null],
    ['Hardware version', vm.hardware_version],
    ['Networks', (vm.networks || []).join(', ')],
  ]));
  if (vm.disks && vm.disks.length) {
    card.append(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Disks'),
      h('thead', {}, h('tr', {}, h('th', {}, 'Disk'), h('th', {}, 'File'), h('th', {}, 'Capacity'), h('th', {}, 'Controller'))),
      h('tbody', {}, vm.disks.map((d) => h('tr', {},
        h('td', {}, d.disk_id),
        h('td', {}, d.file_name || d.file_ref || '–'),
        h('td', {}, d.capacity_bytes != null ? bytes(d.capacity_bytes) : '–'),
        h('td', {}, d.controller ? [d.controller.kind, d.controller.subtype || d.controller.model].filter(Boolean).join(' ') : '–')))))));
  }
  if (vm.nics && vm.nics.length) {
    card.append(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Network adapters'),
      h('thead', {}, h('tr', {}, h('th', {}, 'NIC'), h('th', {}, 'Model'), h('th', {}, 'Network'), h('th', {}, 'MAC'))),
      h('tbody', {}, vm.nics.map((n) => h('tr', {}, h('td', {}, n.name), h('td', {}, n.model || '–'), h('td', {}, n.network || '–'), h('td', {}, n.mac || '–')))))));
  }
  const s = x.suggestion;
  if (s) {
    card.append(h('h3', {}, 'Suggested for OpenStack'), h('p', { class: 'hint' }, 'Edit the values to change the upload command below.'));
    const tbody = h('tbody');
    choice.props.forEach((p, k) => {
      const id = `prop-${i}-${k}`;
      const inpEl = h('input', { type: 'text', id, value: p.value, 'aria-describedby': `${id}-why` });
      inpEl.addEventListener('input', () => {
        p.value = inpEl.value.trim();
        refreshCommands();
      });
      tbody.append(h('tr', {}, h('td', {}, h('label', { for: id, class: 'mono' }, p.key)), h('td', {}, inpEl), h('td', { class: 'reason', id: `${id}-why` }, p.reason)));
    });
    card.append(h('div', { class: 'table-wrap props' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Glance property'), h('th', {}, 'Value'), h('th', {}, 'Why'))), tbody)));
    const shape = choice.shape;
    const num = (id, label, value, unit, set) => {
      const el = h('input', { type: 'number', min: 0, id, value: value ?? '', class: 'num' });
      el.addEventListener('input', () => {
        set(el.value === '' ? null : Math.max(0, Math.floor(Number(el.value))));
        refreshCommands();
      });
      return h('span', { class: 'field' }, h('label', { for: id }, label), el, unit ? h('span', { class: 'hint' }, ` ${unit}`) : null);
    };
    const f = shape.flavor;
    card.append(h('div', { class: 'row wrap shape' },
      num(`min-ram-${i}`, 'min_ram ', shape.min_ram, 'MiB', (v) => { shape.min_ram = v; }),
      num(`min-disk-${i}`, 'min_disk ', shape.min_disk, 'GiB', (v) => { shape.min_disk = v; })));
    card.append(h('div', { class: 'row wrap shape' },
      h('strong', {}, 'Flavor'),
      num(`flavor-vcpus-${i}`, 'vCPUs ', f.vcpus, '', (v) => { f.vcpus = v; }),
      num(`flavor-ram-${i}`, 'RAM ', f.ram_mib, 'MiB', (v) => { f.ram_mib = v; }),
      num(`flavor-disk-${i}`, 'disk ', f.disk_gib, 'GiB', (v) => { f.disk_gib = v; })));
    if (f.reason) card.append(h('p', { class: 'reason' }, f.reason));
  }
  return card;
}

// ---------------------------------------------------------------------------------------------
// Converting

/** The disks to convert, in order. */
function plannedDisks() {
  const ins = state.inspected;
  if (!ins) return [];
  const out = [];
  const taken = new Set();
  const format = $('format-select').value;
  ins.inputs.forEach((inp, i) => {
    if (!inp.inspection || inp.inspection.missing.length) return;
    const choice = choiceFor(i, inp);
    inp.inspection.disks.forEach((d, k) => {
      if (!choice.disks.has(k)) return;
      out.push({ inputIndex: i, input: inp, top: inp.top, disk: k, info: d, outName: outputName(d.name, format, taken) });
    });
  });
  return out;
}

function updateConvertButton() {
  const planned = plannedDisks().length;
  $('convert-button').disabled = !!state.running || planned === 0;
  const loggedIn = !!osweb.session();
  $('send-button').disabled = !!state.running || planned === 0 || !loggedIn;
  $('send-status').textContent = loggedIn || document.body.dataset.openstack !== 'available' ? ''
    : 'Log in to OpenStack (section 5) to send the image straight into Glance.';
  $('send-button').hidden = document.body.dataset.openstack === 'unavailable';
  $('cancel-button').disabled = !state.running;
  $('format-select').disabled = !!state.running;
  $('save-mode').disabled = !!state.running;
  $('clear-files').disabled = !state.files.length || !!state.running;
  $('file-input').disabled = !!state.running;
  $('folder-input').disabled = !!state.running;
}

function setProgressState(s) {
  $('progress').dataset.state = s;
}

/** Convert, or with `send` convert and upload each disk into a new Glance image. */
async function startConvert(_event, send = false) {
  const disks = plannedDisks();
  if (!disks.length || state.running) return;
  if (send && !osweb.session()) return;
  const format = $('format-select').value;
  // Sending goes through browser storage when it cannot stream (see openstack.js).
  const mode = send ? 'opfs' : $('save-mode').value;
  // Synchronously, so nothing sees the previous run's state after the click.
  const previous = $('progress').dataset.state;
  setProgressState('running');
  let targets;
  if (mode === 'picker') {
    try {
      // First thing in the click handler: the picker needs the click's user activation.
      const picked = await pickTargets(disks.map((d) => d.outName));
      targets = picked;
      picked.forEach((t, k) => { disks[k].outName = t.name; });
    } catch (e) {
      setProgressState(previous);
      if (e && e.name === 'AbortError') return;
      showErrors([{ context: 'Choosing where to save', error: { kind: 'io', message: String(e && e.message || e) } }]);
      return;
    }
  } else {
    for (const n of state.opfsMade) await opfsRemove(n);
    state.opfsMade.clear();
    targets = disks.map((d) => ({ kind: 'opfs', name: opfsName(d.outName) }));
  }
  showErrors([]);
  for (const u of state.objectUrls) URL.revokeObjectURL(u);
  state.objectUrls = [];
  $('result').hidden = true;
  $('result-disks').replaceChildren();
  delete $('result').dataset.sha512;
  delete $('result').dataset.contentDigest;
  const run = { cancelled: false, worker: null, current: null, rows: [], results: [], format };
  state.running = run;
  updateConvertButton();
  const box = $('progress');
  box.replaceChildren();
  setProgressState('running');
  for (const d of disks) {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `Progress of ${d.outName}` });
    const status = h('span', { class: 'status-text' }, 'waiting');
    const numbers = h('span', { class: 'numbers' });
    const row = h('div', { class: 'disk', dataset: { state: 'waiting' } },
      h('div', { class: 'line' }, h('strong', {}, `${baseName(d.info.name)} → ${d.outName}`), status), bar, h('div', { class: 'line' }, numbers));
    box.append(row);
    run.rows.push({ row, bar, status, numbers });
  }
  let failed = false;
  if (send) osweb.resetSend();
  for (let k = 0; k < disks.length && !run.cancelled; k++) {
    if (!send) {
      const ok = await convertOne(run, disks[k], targets[k], run.rows[k], format);
      if (!ok) {
        failed = true;
        if (targets[k].kind === 'opfs') opfsRemove(targets[k].name);
      }
      continue;
    }
    if (!await sendOne(run, disks[k], targets[k], run.rows[k], format)) failed = true;
  }
  if (send) osweb.sendFinished(!failed && !run.cancelled);
  if (run.cancelled) {
    for (const r of run.rows) if (r.row.dataset.state === 'waiting' || r.row.dataset.state === 'running') markRow(r, 'cancelled', 'cancelled');
    setProgressState('cancelled');
  } else {
    setProgressState(failed ? 'error' : 'done');
  }
  state.running = null;
  updateConvertButton();
}

/**
 * Convert one disk into a new Glance image: streamed while converting where the browser can,
 * otherwise converted into OPFS (`opfsTarget`) and then sent from there; then the hash check.
 */
async function sendOne(run, d, opfsTarget, r, format) {
  const choice = choiceFor(d.inputIndex, d.input);
  const sent = await osweb.beginSend({
    name: imageNameFor(d), format, shape: choice.shape, props: choice.props, virtualSize: d.info.virtual_size,
    flavor: choice.shape && choice.shape.flavor, label: d.outName,
  });
  if (!sent) {
    markRow(r, 'error', 'not sent');
    return false;
  }
  run.send = sent;
  let target = sent.mode === 'stream' ? { kind: 'upload', url: sent.url } : opfsTarget;
  let ok = await convertOne(run, d, target, r, format);
  if (!ok && !run.cancelled && target.kind === 'upload' && run.lastError && run.lastError.kind === 'stream_failed') {
    // The browser refused to stream (e.g. HTTP/1.1): convert into storage and send the file.
    if (await sent.fallBack(run.lastError.message)) {
      target = opfsTarget;
      ok = await convertOne(run, d, target, r, format);
    }
  }
  if (!ok) {
    if (opfsTarget.kind === 'opfs') opfsRemove(opfsTarget.name);
    if (!run.cancelled && run.lastError) sent.fail(run.lastError, `Sending ${d.outName}`);
    await sent.discard();
    return false;
  }
  try {
    const { report } = run.lastDone;
    let answer = run.lastDone.upload;
    if (target.kind === 'opfs') answer = await sent.uploadFile(await opfsFile(target.name));
    return await sent.finish(report.sha512, answer);
  } catch (e) {
    if (run.cancelled) await sent.discard();
    else sent.fail(e, `Sending ${d.outName}`);
    return false;
  }
}

function markRow(r, s, text) {
  r.row.dataset.state = s;
  r.status.textContent = text;
  r.status.className = `status-text state-${s}`;
}

function convertOne(run, d, target, r, format) {
  return new Promise((resolve) => {
    const w = newWorker();
    run.worker = w;
    run.lastError = null;
    run.lastDone = null;
    const started = performance.now();
    let writeStart = null;
    let done = false;
    markRow(r, 'running', 'starting…');
    const finish = (ok) => {
      if (done) return;
      done = true;
      w.terminate();
      run.worker = null;
      run.current = null;
      resolve(ok);
    };
    run.current = { finish, target, row: r };
    w.onmessage = async (e) => {
      const m = e.data;
      if (m.type === 'phase' && m.phase === 'plan') {
        markRow(r, 'running', 'planning (reading metadata)…');
      } else if (m.type === 'planned') {
        markRow(r, 'running', 'converting…');
        showProgress(r, m.progress, started, writeStart);
      } else if (m.type === 'progress') {
        if (m.progress.phase === 'write' && writeStart == null) writeStart = { t: performance.now(), bytes: m.progress.bytes_out };
        showProgress(r, m.progress, started, writeStart);
        if (target.kind === 'upload' && run.send && m.uploaded != null) run.send.progress(m.uploaded, m.progress.output_len);
      } else if (m.type === 'done') {
        run.lastDone = m;
        r.bar.value = 1;
        r.row.dataset.planMs = Math.round(m.plan_ms);
        r.row.dataset.convertMs = Math.round(m.elapsed_ms);
        r.row.dataset.wasmBytes = JSON.stringify(m.wasm_bytes);
        const secs = (performance.now() - started) / 1000;
        markRow(r, 'done', `done in ${duration(secs)}`);
        r.numbers.textContent = `${bytes(m.report.output_len)} written · ${bytes(m.report.data_bytes / Math.max(secs, 0.001))}/s of data`;
        await showResult(run, d, target, m.report, secs, format);
        finish(true);
      } else if (m.type === 'error') {
        run.lastError = m.error;
        markRow(r, 'error', 'failed');
        // Upload errors are shown in the OpenStack section (or lead to the file path).
        if (!(target.kind === 'upload' && m.error && ['upload', 'stream_failed'].includes(m.error.kind))) {
          addError(`Converting ${baseName(d.info.name)}`, m.error);
        }
        finish(false);
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      run.lastError = { kind: 'io', message: e.message || 'the converter stopped' };
      markRow(r, 'error', 'failed');
      addError(`Converting ${baseName(d.info.name)}`, { kind: 'io', message: e.message || 'the converter stopped' });
      finish(false);
    };
    const options = { format };
    w.postMessage({
      type: 'convert', files: state.files, top: d.top, disk: d.disk, options, target,
      workers: Math.max(1, Number(PARAMS.get('workers')) || navigator.hardwareConcurrency || 2),
    });
  });
}

function showProgress(r, p, started, writeStart) {
  const measuring = p.phase === 'measure';
  let frac;
  let text;
  let rate = 0;
  let left = NaN;
  if (!measuring && p.output_len) {
    frac = p.bytes_out / p.output_len;
    const since = writeStart || { t: started, bytes: 0 };
    const secs = (performance.now() - since.t) / 1000;
    rate = secs > 0.2 ? (p.bytes_out - since.bytes) / secs : 0;
    left = rate > 0 ? (p.output_len - p.bytes_out) / rate : NaN;
    text = `${bytes(p.bytes_out)} of ${bytes(p.output_len)} written`;
  } else {
    frac = p.guest_total ? p.guest_done / p.guest_total : 0;
    const secs = (performance.now() - started) / 1000;
    rate = secs > 0.2 ? p.guest_done / secs : 0;
    left = rate > 0 ? (p.guest_total - p.guest_done) / rate : NaN;
    text = `${measuring ? 'measuring compressed sizes: ' : ''}${bytes(p.guest_done)} of ${bytes(p.guest_total)} read`;
  }
  r.bar.value = Math.min(1, frac);
  r.row.dataset.bytesOut = p.bytes_out;
  r.numbers.textContent = `${text} · ${bytes(rate)}/s · ${Number.isFinite(left) ? `${duration(left)} left` : 'estimating time left…'}`;
  r.status.textContent = `${measuring ? 'pass 1 of 2' : 'converting'} · ${Math.floor(Math.min(1, frac) * 100)}%`;
}

function cancel() {
  const run = state.running;
  if (!run) return;
  run.cancelled = true;
  if (run.current) {
    const { finish, target, row } = run.current;
    // Stops the converter and, with it, its decode workers, at once.
    if (run.worker) run.worker.terminate();
    markRow(row, 'cancelled', 'cancelled');
    if (target.kind === 'opfs') opfsRemove(target.name);
    finish(false);
  }
  // An upload of a finished file stops too (its image is deleted).
  if (run.send) run.send.abort();
}

// ---------------------------------------------------------------------------------------------
// Results

function imageNameFor(d) {
  const vm = d.input.inspection && d.input.inspection.vm;
  const base = d.outName.replace(/\.(qcow2|raw)$/, '');
  return vm && vm.name ? (d.input.inspection.disks.length > 1 ? `${vm.name}-disk${d.disk + 1}` : vm.name) : base;
}

function commandText(d, format) {
  const choice = choiceFor(d.inputIndex, d.input);
  return commands({
    input: d.input.inspection ? { kind: d.input.inspection.kind, name: d.input.name } : { kind: 'vmdk', name: d.input.name },
    disk: d.info, format, clusterSize: 65536, outName: d.outName, imageName: imageNameFor(d),
    suggestion: choice.shape, props: choice.props,
  });
}

function refreshCommands() {
  const run = state.lastRun;
  if (!run) return;
  for (const res of run.results) res.pre.textContent = commandText(res.d, run.format);
}

async function showResult(run, d, target, report, secs, format) {
  state.lastRun = run;
  const panel = $('result');
  const pre = h('pre', { class: 'cmd', 'aria-label': 'Equivalent commands' });
  run.results.push({ d, report, pre });
  pre.textContent = commandText(d, format);
  const copyBtn = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'copy-commands' }, 'Copy commands');
  copyBtn.addEventListener('click', async () => {
    const ok = await copyText(pre.textContent);
    copyBtn.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { copyBtn.textContent = 'Copy commands'; }, 2000);
  });
  const entry = h('div', { class: 'result-disk', dataset: { sha512: report.sha512, contentDigest: report.content_digest, output: d.outName } });
  entry.append(h('h3', {}, d.outName));
  let save;
  if (target.kind === 'opfs') {
    state.opfsMade.add(target.name);
    const file = await opfsFile(target.name);
    const url = URL.createObjectURL(file);
    state.objectUrls.push(url);
    const remove = h('button', { type: 'button', class: 'secondary small' }, 'Remove from browser storage');
    remove.addEventListener('click', async () => {
      URL.revokeObjectURL(url);
      await opfsRemove(target.name);
      state.opfsMade.delete(target.name);
      link.removeAttribute('href');
      link.textContent = `${d.outName} (removed from browser storage)`;
      remove.disabled = true;
    });
    const link = h('a', { href: url, download: d.outName, 'data-testid': 'download-link', class: 'button' }, `Download ${d.outName}`);
    save = h('div', { class: 'row wrap' }, link, remove, h('span', { class: 'hint' }, 'Kept in this browser’s storage until removed or the page is reloaded after 12 hours.'));
  } else if (target.kind === 'upload') {
    save = h('p', { class: 'ok' }, 'Streamed into OpenStack while converting (see section 5).');
  } else {
    save = h('p', { class: 'ok' }, `Saved as ${target.name}.`);
  }
  entry.append(save, kv([
    ['Format', report.format],
    ['Output size', `${bytes(report.output_len)} (${report.output_len} bytes)`],
    ['Virtual size', `${bytes(report.virtual_size)} (${report.virtual_size} bytes)`],
    ['Guest data', bytes(report.data_bytes)],
    ['Time', `${duration(secs)} (${bytes(report.data_bytes / Math.max(secs, 0.001))}/s of data)`],
  ]));
  entry.append(kv([
    ['Content digest', h('span', { class: 'mono', 'data-testid': 'content-digest' }, report.content_digest)],
    ['SHA-512 (Glance os_hash_value)', h('span', { class: 'mono', 'data-testid': 'sha512' }, report.sha512)],
  ]));
  entry.append(h('div', { class: 'row' }, h('strong', {}, 'The same by hand'), copyBtn), pre);
  $('result-disks').append(entry);
  const all = run.results.map((x) => x.report);
  panel.dataset.sha512 = all.map((x) => x.sha512).join(' ');
  panel.dataset.contentDigest = all.map((x) => x.content_digest).join(' ');
  panel.hidden = false;
  // Record on the VM's checklist.
  const vmKey = inputLabel(d.input);
  checklist.update(vmKey, (c) => {
    c.done.convert = true;
    c.digests = (c.digests || []).filter((x) => x.output !== d.outName).concat([{ output: d.outName, format: report.format, output_len: report.output_len, virtual_size: report.virtual_size, content_digest: report.content_digest, sha512: report.sha512 }]);
  });
  refreshChecklistVms(vmKey);
}

// ---------------------------------------------------------------------------------------------
// Checklist

function refreshChecklistVms(select) {
  const sel = $('checklist-vm');
  const current = select || sel.value;
  const names = new Set(checklist.vms());
  if (state.inspected) {
    for (const inp of state.inspected.inputs) if (inp.inspection) names.add(inputLabel(inp));
  }
  if (!names.size) names.add('My VM');
  const wanted = current && names.has(current) ? current
    : (state.inspected && state.inspected.inputs.find((i) => i.inspection) ? inputLabel(state.inspected.inputs.find((i) => i.inspection)) : [...names][0]);
  sel.replaceChildren(...[...names].sort().map((n) => h('option', { value: n, selected: n === wanted }, n)));
  sel.value = wanted;
  renderChecklist();
}

function renderChecklist() {
  const vm = $('checklist-vm').value;
  const c = checklist.get(vm);
  const ul = $('checklist');
  ul.replaceChildren(...checklist.ITEMS.map((it) => {
    const id = `check-${it.id}`;
    const cb = h('input', { type: 'checkbox', id, checked: !!c.done[it.id] });
    cb.addEventListener('change', () => checklist.update(vm, (x) => { x.done[it.id] = cb.checked; }));
    return h('li', {}, cb, h('label', { for: id }, it.text));
  }));
  $('checklist-notes').value = c.notes;
}

function setupChecklist() {
  $('checklist-vm').addEventListener('change', renderChecklist);
  $('checklist-notes').addEventListener('input', () => {
    const vm = $('checklist-vm').value;
    const notes = $('checklist-notes').value;
    checklist.update(vm, (x) => { x.notes = notes; });
  });
  $('checklist-export').addEventListener('click', () => {
    const vm = $('checklist-vm').value;
    downloadText(`checklist-${vm.replace(/[^A-Za-z0-9._-]+/g, '_')}.md`, checklist.markdown(vm));
  });
  $('checklist-copy').addEventListener('click', async (e) => {
    const ok = await copyText(checklist.markdown($('checklist-vm').value));
    e.target.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { e.target.textContent = 'Copy Markdown'; }, 2000);
  });
  refreshChecklistVms();
}

// ---------------------------------------------------------------------------------------------

function setup() {
  setupInputs();
  setupChecklist();
  const mode = $('save-mode');
  const wanted = new URLSearchParams(location.search).get('save');
  const picker = pickerAvailable();
  if (!picker) mode.querySelector('option[value=picker]').remove();
  if (!opfsAvailable()) mode.querySelector('option[value=opfs]').remove();
  // Automated browsers cannot answer a save dialog: they get browser storage and a download.
  mode.value = wanted && mode.querySelector(`option[value=${wanted}]`) ? wanted : (picker && !navigator.webdriver ? 'picker' : 'opfs');
  $('convert-button').addEventListener('click', startConvert);
  $('send-button').addEventListener('click', () => startConvert(null, true));
  osweb.setup({ onChange: () => updateConvertButton() });
  $('cancel-button').addEventListener('click', cancel);
  $('format-select').addEventListener('change', () => updateConvertButton());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.running) cancel();
  });
  $('caps').textContent = `${navigator.hardwareConcurrency || 1} decode workers · saving: ${picker ? 'File System Access' : ''}${picker && opfsAvailable() ? ' or ' : ''}${opfsAvailable() ? 'browser storage + download' : ''}`;
  opfsCleanup();
  renderInputs();
  document.body.dataset.ready = 'true';
}

setup();
