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
  'shell.skip': 'Skip to content',
  'shell.tagline': 'Convert a VMware VM’s disks (OVA, OVF + VMDK, VMDK) into OpenStack images — in this browser tab. Nothing is installed and your files are not uploaded: they are read and written on this computer only.',
  'shell.steps.title': 'Steps',
  'shell.step.connect': 'Connect',
  'shell.step.files': 'Files',
  'shell.step.review': 'Review',
  'shell.step.convert': 'Convert or send',
  'shell.step.launch': 'Launch',
  'shell.step.verify': 'Verify',
  'shell.state.done': 'done',
  'shell.state.current': 'current step',
  'shell.state.next': 'next',
  'shell.state.later': 'later',
  'shell.state.optional': 'optional',
  'shell.state.unavailable': 'not available here',
  'shell.h.connect': 'Connect to OpenStack (optional)',
  'shell.h.files': 'Your VMware files',
  'shell.h.review': 'Review what is in them',
  'shell.h.convert': 'Convert or send',
  'shell.h.result': 'Result',
  'shell.h.launch': 'Launch a server',
  'shell.connect.why': 'Log in first if you want this page to send the image to Glance and launch a server. Without logging in you can still convert the disks and download the images.',
  'shell.connect.unavailable': 'Sending to OpenStack needs the stackferry edge worker serving this page (npm start); this server has none.',
  'shell.login.with': 'Log in with',
  'shell.login.password_method': 'Password',
  'shell.login.appcred_method': 'Application credential',
  'shell.login.username': 'User name',
  'shell.login.password': 'Password',
  'shell.login.project': 'Project',
  'shell.login.user_domain': 'User domain',
  'shell.login.project_domain': 'Project domain',
  'shell.login.appcred_id': 'Application credential ID',
  'shell.login.secret': 'Secret',
  'shell.login.other': 'Other cloud or region',
  'shell.login.auth_url': 'Keystone URL',
  'shell.login.auth_url_ph': 'the server’s default',
  'shell.login.region': 'Region',
  'shell.login.region_ph': 'the catalog’s',
  'shell.login.privacy': 'The password is sent once to Keystone through this site’s server and not kept: the session lives in a cookie this page cannot read.',
  'shell.login.submit': 'Log in',
  'shell.session.user': 'Logged in as',
  'shell.session.project': 'Project',
  'shell.session.region': 'Region',
  'shell.session.expiry': 'Session ends',
  'shell.session.logout': 'Log out',
  'shell.drop.title': 'Drop the files of a VM here',
  'shell.drop.what': 'An .ova; an .ovf with its .vmdk and .mf files; a descriptor .vmdk with its extents; single .vmdk disks; or a whole folder.',
  'shell.drop.help': 'Or press Enter to choose files.',
  'shell.files.choose': 'Choose files…',
  'shell.files.folder': 'Choose a folder…',
  'shell.files.clear': 'Clear',
  'shell.files.list': 'Files given',
  'shell.review.empty': 'Nothing to review yet: give the files of a VM in the step before.',
  'shell.convert.empty': 'Nothing to convert yet.',
  'shell.convert.format': 'Output format',
  'shell.convert.save': 'Save to',
  'shell.convert.convert': 'Convert',
  'shell.convert.send': 'Send to OpenStack',
  'shell.format.qcow2': 'QCOW2 (recommended)',
  'shell.format.qcow2_compressed': 'QCOW2, compressed (smaller, slower)',
  'shell.format.raw': 'Raw',
  'shell.save.picker': 'A file I choose',
  'shell.save.opfs': 'Browser storage, then download',
  'shell.launch.needs': 'To launch a server here, log in (step 1) and send the image (step 4). Without logging in, use the commands shown with the result.',
  'shell.launch.unavailable': 'Launching from this page needs the stackferry edge worker (npm start). Use the commands shown with the result instead.',
  'shell.launch.send_first': 'Send the image to OpenStack (step 4) first: the server is launched from it once Glance has it and its SHA-512 matches.',
  'shell.launch.name': 'Name',
  'shell.launch.image': 'Image',
  'shell.launch.flavor': 'Flavor',
  'shell.launch.network': 'Network',
  'shell.launch.keypair': 'Key pair',
  'shell.launch.groups': 'Security groups',
  'shell.launch.launch': 'Launch',
  'shell.launch.after': 'Before you call it done (from the migration checklist below):',
  'shell.footer': 'stackferry · the converter runs in WebAssembly in this browser',
  'shell.caps.both': 'Images are saved to a file you choose or to browser storage.',
  'shell.caps.picker': 'Images are saved to a file you choose.',
  'shell.caps.opfs': 'Images are saved to browser storage, then downloaded.',
  'shell.caps.none': 'This browser cannot save the images: use a current Chrome, Edge or Firefox.',
  'shell.reading': 'Reading the files’ metadata…',
  'shell.unreadable': 'These files could not be read',
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
  'checklist.title': 'Migration checklist',
  'checklist.kept': 'Kept in this browser only. One list per VM.',
  'checklist.vm': 'VM',
  'checklist.export': 'Export as Markdown',
  'checklist.copy': 'Copy Markdown',
  'checklist.copied': 'Copied',
  'checklist.copy_failed': 'Copy failed',
  'checklist.notes': 'Notes',
  'checklist.default_vm': 'My VM',
  'checklist.digests': 'Converted disks',
  'checklist.digest.content': 'Content digest',
  'checklist.digest.sha512': 'SHA-512 (Glance os_hash_value)',
  'checklist.disk': '{format}, {size} ({exact} bytes), virtual size {virtual}',
  'checklist.md.title': 'Migration checklist: {vm}',
  'checklist.md.updated': 'Updated {date}',
  'checklist.item.inventory': 'Inventory the VMs and decommission what is not needed',
  'checklist.item.low-crit': 'Start with a low-criticality VM',
  'checklist.item.downtime': 'Estimate the downtime and announce it',
  'checklist.item.dns-ttl': 'Lower the DNS TTL (e.g. to 5 minutes) days before the cutover',
  'checklist.item.shutdown': 'Shut the guest down cleanly before exporting it',
  'checklist.item.convert': 'Convert the disks (digests recorded below)',
  'checklist.item.upload': 'Upload the images to Glance and check that their SHA-512 matches the one recorded below',
  'checklist.item.power-off': 'After cutover, power the VMware original off and disable its autostart, so both copies never run at once (split brain)',
  'checklist.item.verify': 'Verify on the new instance (e.g. a known test file such as message.txt is present and unchanged)',
  // ==== end checklist ====

};
