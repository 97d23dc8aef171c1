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
  // ==== end run ====


  // ==== cloud: openstack/*.js: log in, send, launch; api.<code> for the edge worker's error codes ====
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
