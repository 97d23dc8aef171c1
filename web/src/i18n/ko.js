// 한국어: the page's strings by key (see index.js). Keys and {placeholders} match en.js.
// Korean has no plural forms: a plural entry in en.js is a plain string here only if the parity
// test allows it (it compares placeholders, not forms).
export default {
  // ==== common: shared words (buttons, units) any area may use ====
  'common.cancel': '취소',
  'common.back': '뒤로',
  'common.confirm': '확인',
  'common.remove': '삭제',
  'common.download': '다운로드',
  'common.details': '자세히',
  // ==== end common ====


  // ==== shell: index.html, the step indicator, the language switch, main.js ====
  'shell.title': 'stackferry — 브라우저에서 VMware 디스크를 OpenStack 이미지로',
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
