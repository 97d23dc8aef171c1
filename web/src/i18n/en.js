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
  'files.list': 'Files given',
  'files.remove': 'Remove {name}',
  'files.drop.title': 'Drop the files of a VM anywhere on this page',
  'files.drop.title_touch': 'Choose the files of a VM',
  'files.drop.what': '— an .ova; an .ovf with its .vmdk and .mf files; a descriptor .vmdk with its extents; single .vmdk disks; or a whole folder.',
  'files.drop.help': 'Or press Enter to choose files.',
  'files.drop.help_touch': 'Tap here to choose files.',
  'files.drop.failed': 'Reading the dropped files',
  // ==== end files ====


  // ==== inputs: ui/inputs.js: inputs, disks, the VM summary, suggestions, the OS question ====
  'inputs.remove': 'Remove {name}',
  'inputs.files': 'Files: {names}',
  'inputs.unused': 'Not used by any disk: {names}',
  'inputs.disk.label': 'Disk {n}: {name}',
  'inputs.disk.line': '{format}, virtual size {size}, up to {data} of data',
  'inputs.disk.chain': { one: ', a chain of {count} snapshot', other: ', a chain of {count} snapshots' },
  'inputs.warning': 'Warning:',
  'inputs.note': 'Note:',
  'inputs.os.question': 'Which operating system is on this disk?',
  'inputs.os.linux': 'Linux',
  'inputs.os.windows': 'Windows',
  'inputs.os.other': 'Other',
  'inputs.os.hint': 'Your answer chooses the disk and network settings OpenStack needs to start it.',
  'inputs.vm.title': 'VM: {name}',
  'inputs.vm.os': 'Guest OS',
  'inputs.vm.os_bits': '{name}, {bits}-bit',
  'inputs.vm.os_cim': 'OS type {id}',
  'inputs.vm.os_unknown': 'not stated',
  'inputs.vm.vcpus': 'vCPUs',
  'inputs.vm.vcpus_cores': { one: '{count} ({cores} per socket)', other: '{count} ({cores} per socket)' },
  'inputs.vm.memory': 'Memory',
  'inputs.vm.firmware': 'Firmware',
  'inputs.vm.secure_boot': ', secure boot',
  'inputs.vm.hardware': 'Hardware version',
  'inputs.vm.networks': 'Networks',
  'inputs.vm.disks': 'Disks',
  'inputs.vm.disk': 'Disk',
  'inputs.vm.file': 'File',
  'inputs.vm.capacity': 'Capacity',
  'inputs.vm.controller': 'Controller',
  'inputs.vm.nics': 'Network adapters',
  'inputs.vm.nic': 'Adapter',
  'inputs.vm.model': 'Model',
  'inputs.vm.network': 'Network',
  'inputs.vm.mac': 'MAC address',
  'inputs.suggested.title': 'Suggested for OpenStack',
  'inputs.suggested.hint': 'Change a value to change the upload command below.',
  'inputs.prop.key': 'Glance property',
  'inputs.prop.value': 'Value',
  'inputs.prop.why': 'Why',
  'inputs.prop.unset': '(not set)',
  'inputs.prop.other': 'Other…',
  'inputs.prop.other_label': 'Other value for {key}',
  'inputs.flavor.title': 'Flavor',
  'inputs.flavor.vcpus': 'vCPUs',
  'inputs.flavor.ram': 'RAM',
  'inputs.flavor.disk': 'Disk',
  'inputs.invalid.chars': '“{value}” cannot be used: use only letters, digits and . _ : - (no spaces or quotes).',
  'inputs.invalid.one_of': '“{value}” is not allowed here: choose one of {values}.',
  'inputs.invalid.typo': '“{value}” is not a value OpenStack knows: did you mean “{known}”?',
  'inputs.invalid.number': 'Enter a whole number, {min} or more.',
  // ==== end inputs ====


  // ==== core: the converter core's codes: error.<code>, warn.<code>, why.<code> (converter-wasm/src, checked by its tests) ====
  // ==== end core ====


  // ==== errors: ui/errors.js and error.js: the page's own errors and how they are shown ====
  'errors.this_file': 'This file',
  'errors.generic': '{file} could not be used. The details below say why.',
  'errors.generic_nofile': 'Something went wrong. The details below say why.',
  'errors.details.kind': 'Kind',
  'errors.details.file': 'File',
  'errors.details.offset': 'Offset',
  'errors.details.message': 'Technical message',
  'errors.missing_files': {
    one: '{file} needs {names}, which was not given: add it too, to convert {file}.',
    other: '{file} needs {names}, which were not given: add them too, to convert {file}.',
  },
  'errors.no_space': 'The browser’s storage is full: remove earlier outputs, or save to “A file I choose”, and try again.',
  'errors.worker_stopped': 'The converter stopped unexpectedly (the browser may be short of memory): reload the page and try again.',
  'errors.upload': 'The upload to OpenStack stopped: check the connection and send again.',
  'errors.stream_failed': 'The upload to OpenStack broke off: send again.',
  // ==== end errors ====


  // ==== run: ui/convert.js, ui/progress.js, ui/results.js, save.js: review, convert, progress, results, stored outputs ====
  // ==== end run ====


  // ==== cloud: openstack/*.js: log in, send, launch; api.<code> for the edge worker's error codes ====
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
