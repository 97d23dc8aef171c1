// English: the page's strings by key (see index.js). Keys and {placeholders} match ko.js.
// A value may be {one, other} (plural forms, chosen by params.count). One section per area of
// the page, so that areas can be worked on side by side.
export default {
  // ==== common: shared words (buttons, units) any area may use ====
  'common.cancel': 'Cancel',
  'common.back': 'Back',
  'common.confirm': 'Confirm',
  'common.remove': 'Remove',
  'common.download': 'Download',
  'common.details': 'Details',
  // ==== end common ====


  // ==== shell: index.html, the step indicator, the language switch, main.js ====
  'shell.title': 'stackferry — VMware disks to OpenStack images, in your browser',
  // ==== end shell ====


  // ==== files: ui/files.js: the drop zone, the file list ====
  // ==== end files ====


  // ==== inputs: ui/inputs.js: inputs, disks, the VM summary, suggestions, the OS question ====
  // ==== end inputs ====


  // ==== core: the converter core's codes: error.<code>, warn.<code>, why.<code> (converter-wasm/src, checked by its tests) ====
  // ==== end core ====


  // ==== errors: ui/errors.js and error.js: the page's own errors and how they are shown ====
  // ==== end errors ====


  // ==== run: ui/convert.js, ui/progress.js, ui/results.js, save.js: review, convert, progress, results, stored outputs ====
  // Progress rows (ui/progress.js)
  'run.row.waiting': 'Waiting',
  'run.row.starting': 'Starting…',
  'run.row.planning': 'Reading the disk’s layout…',
  'run.row.converting': 'Converting',
  'run.row.step1': 'step 1 of 2: measuring the compressed size',
  'run.row.step2': 'step 2 of 2: writing',
  'run.row.read': '{done} of {total} read',
  'run.row.written': '{done} of {total} written',
  'run.row.left': '{time} left',
  'run.row.estimating': 'estimating the time left…',
  'run.row.valueLeft': '{percent}, {time} left',
  'run.row.doneIn': 'Done in {time}',
  'run.row.doneNumbers': '{size} written · {rate} of disk data',
  'run.row.stoppedAt': 'Stopped at {percent}',
  'run.row.failed': 'Failed',
  'run.row.cancelled': 'Cancelled',
  'run.row.notSent': 'Not sent',
  'run.live.progress': '{name}: {percent} done',
  // Convert and Send (ui/convert.js)
  'run.blocked.invalid': 'Some values above are not valid. Correct the marked fields to convert or send.',
  'run.blocked.login': 'Log in to OpenStack first to send the image straight into Glance.',
  'run.context.choosing': 'Choosing where to save',
  'run.context.converting': 'Converting {file}',
  'run.context.sending': 'Sending {name}',
  'run.caps.both': 'Saves to a file you choose or keeps the result in this browser’s storage for download.',
  'run.caps.picker': 'Saves to a file you choose.',
  'run.caps.storage': 'Keeps the result in this browser’s storage for download.',
  'run.caps.none': 'This browser cannot save the result: use a recent Chrome, Edge or Firefox.',
  'run.caps.details': { one: 'Converts with {count} worker thread.', other: 'Converts with {count} worker threads in parallel.' },
  // Results (ui/results.js)
  'run.result.download': 'Download {name}',
  'run.result.remove': 'Remove from browser storage',
  'run.result.removed': '{name} (removed from browser storage)',
  'run.result.kept': 'Kept in this browser’s storage until you remove it, also after a reload.',
  'run.result.streamed': 'Sent into OpenStack while converting (see the upload below).',
  'run.result.savedAs': 'Saved as {name}.',
  'run.result.format': 'Format',
  'run.result.outputSize': 'Output size',
  'run.result.virtualSize': 'Virtual size',
  'run.result.guestData': 'Disk data',
  'run.result.time': 'Time',
  'run.result.timeValue': '{time} ({rate} of disk data)',
  'run.result.sizeExact': '{size} ({bytes} bytes)',
  'run.result.contentDigest': 'Content digest',
  'run.result.contentDigestHelp': 'A fingerprint of the disk’s contents, the same for any format: compare it with the stackferry command line’s digest of the source.',
  'run.result.sha512': 'SHA-512 (Glance os_hash_value)',
  'run.result.byHand': 'The same by hand',
  'run.result.copy': 'Copy commands',
  'run.result.copied': 'Copied',
  'run.result.copyFailed': 'Copy failed: select the text',
  'run.result.commandsLabel': 'Equivalent commands',
  // Outputs kept in browser storage (ui/stored.js)
  'run.stored.title': 'Kept in this browser',
  'run.stored.usage': 'Browser storage: {used} used, {available} still available.',
  'run.stored.cleaned': { one: 'Removed {count} unfinished file left by an interrupted conversion.', other: 'Removed {count} unfinished files left by interrupted conversions.' },
  'run.stored.from': 'from {name}',
  'run.stored.send': 'Send to OpenStack',
  'run.stored.sending': 'Sending…',
  'run.stored.removed': '{name} removed from browser storage.',
  'run.stored.removeFailed': '{name} could not be removed (is another tab using it?).',
  // ==== end run ====


  // ==== cloud: openstack/*.js: log in, send, launch; api.<code> for the edge worker's error codes ====
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
