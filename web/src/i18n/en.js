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
  'cloud.unavailable': 'OpenStack is not available here: this page is served without the stackferry server that talks to OpenStack. You can still convert and download images; to send them, open the page through that server (npm start).',
  'cloud.alert.context': '{what}:',
  'cloud.do.logout': 'Logging out',
  'cloud.do.createImage': 'Creating the image {name}',
  'cloud.do.send': 'Sending {name}',
  'cloud.do.list': 'Listing the {what}',
  'cloud.do.launch': 'Launching the server {name}',
  'cloud.list.flavors': 'flavors',
  'cloud.list.networks': 'networks',
  'cloud.list.keypairs': 'key pairs',
  'cloud.list.groups': 'security groups',
  'cloud.login.failed': 'Login failed:',
  'cloud.session.line': 'Logged in as {user} in project {project} (region {region}); the session ends {expiry}.',
  'cloud.session.expiry': '{when} (in {left})',
  'cloud.session.expiryUnknown': 'at a time OpenStack did not say',
  'cloud.upload.title': '{file} → image {name}',
  'cloud.upload.bar': 'Upload of {name}',
  'cloud.upload.state.creating': 'creating the image…',
  'cloud.upload.state.streaming': 'converting and uploading…',
  'cloud.upload.state.converting': 'converting…',
  'cloud.upload.state.uploadStart': 'uploading…',
  'cloud.upload.state.uploading': 'uploading · {percent}',
  'cloud.upload.state.cancelled': 'cancelled',
  'cloud.upload.state.done': 'sent in {time}',
  'cloud.upload.state.mismatch': 'checksum mismatch',
  'cloud.upload.state.failed': 'failed',
  'cloud.upload.sent': '{sent} of {total} sent',
  'cloud.upload.left': '{time} left',
  'cloud.upload.how.stream': 'Sent into Glance while converting ({why}).',
  'cloud.upload.how.file': 'Converted into browser storage first, then sent from there ({why}).',
  'cloud.upload.why.forced': 'as chosen in the page address',
  'cloud.upload.why.no_streams': 'this browser cannot send while converting',
  'cloud.upload.why.fast_connection': 'this connection allows it',
  'cloud.upload.why.slow_connection': 'this connection cannot send while converting',
  'cloud.upload.why.stream_refused': 'the browser refused to send while converting',
  'cloud.image.title': 'Image {name}',
  'cloud.image.summary': '({id}): {status}, {size}.',
  'cloud.image.status.active': 'active',
  'cloud.image.status.queued': 'waiting for data',
  'cloud.image.status.saving': 'saving',
  'cloud.image.status.importing': 'importing',
  'cloud.image.status.killed': 'failed in Glance',
  'cloud.image.status.deleted': 'deleted',
  'cloud.image.status.unknown': 'status unknown',
  'cloud.image.hashOk': 'Glance’s checksum (os_hash_value) equals the SHA-512 computed in this browser: the image holds exactly the converted bytes.',
  'cloud.image.hashBad': 'Glance’s checksum ({algo}) {glance} differs from the SHA-512 computed here. Do not launch it: send it again.',
  'cloud.image.hashMissing': '(none)',
  'cloud.launch.flavorOption': '{name} — {vcpus} vCPU, {ram} RAM, {disk} GiB disk',
  'cloud.launch.net.external': 'external',
  'cloud.launch.net.shared': 'shared',
  'cloud.launch.net.noSubnet': 'no subnet',
  'cloud.launch.net.withNotes': '{name} ({notes})',
  'cloud.launch.net.auto': 'None chosen: let Nova pick',
  'cloud.launch.noKeypair': 'No key pair',
  'cloud.launch.noGroups': 'none listed (Nova uses the project’s default group)',
  'cloud.launch.want': '{vcpus} vCPU, {ram}, {disk} GiB disk',
  'cloud.launch.wantRam': '{ram} RAM',
  'cloud.launch.anyRam': 'any RAM',
  'cloud.launch.chosen': 'Chosen: {flavor}.',
  'cloud.launch.suggested': 'Suggested: {name}, the closest flavor with at least {want}.',
  'cloud.launch.noFit': 'No flavor has at least {want}; pick one (Nova refuses a flavor smaller than the image’s min_disk / min_ram).',
  'cloud.server.state.REQUESTED': 'REQUESTED',
  'cloud.server.state.BUILD': 'BUILD',
  'cloud.server.state.ACTIVE': 'ACTIVE',
  'cloud.server.state.ERROR': 'ERROR',
  'cloud.server.state.UNKNOWN': 'UNKNOWN',
  'cloud.server.asking': 'asking Nova…',
  'cloud.server.refused': 'Nova refused to create the server.',
  'cloud.server.unreadable': 'the server’s status could not be read.',
  'cloud.server.running': 'server {name} ({id}) is running.',
  'cloud.server.runningAt': 'server {name} ({id}) is running; addresses {addresses}.',
  'cloud.server.failed': 'Nova could not start the server {name} ({id}); Nova’s reason is in the details.',
  'cloud.server.failedNoReason': 'Nova could not start the server {name} ({id}) and gave no reason.',
  'cloud.server.waiting': 'waiting for it to run… {time}',
  'cloud.server.timeout': 'still not running after {time}; check the server in OpenStack.',
  'cloud.console.open': 'Open the server’s console (new tab)',
  'cloud.console.unsafe': 'Nova’s console address is not a web address, so it is not offered as a link.',
  'cloud.console.none': 'No console is available for this server.',
  'cloud.after.powerOff': 'After cutover, power the VMware original off and disable its autostart, so both copies never run at once (split brain)',
  'cloud.after.verify': 'Verify on the new instance (e.g. a known test file such as message.txt is present and unchanged)',
  'cloud.review.send.title': 'Review before sending',
  'cloud.review.send.intro': { one: 'This image will be created in Glance and the converted disk sent into it. Nothing is created until you confirm.', other: 'These {count} images will be created in Glance and the converted disks sent into them. Nothing is created until you confirm.' },
  'cloud.review.send.confirm': 'Confirm and send',
  'cloud.review.image': 'image {name}',
  'cloud.review.size': 'virtual size {size}',
  'cloud.review.facts': '({facts})',
  'cloud.review.target': '→ project {project} (region {region})',
  'cloud.review.launch.title': 'Review before launching',
  'cloud.review.launch.intro': 'This server will be created in project {project} (region {region}). Nothing is created until you confirm.',
  'cloud.review.launch.confirm': 'Confirm and launch',
  'cloud.review.server': 'server {name}',
  'cloud.review.serverFacts': 'from image {image}, flavor {flavor}, network {network}, key pair {keypair}, security groups {groups}',
  'cloud.review.auto': 'chosen by Nova',
  'cloud.review.none': 'none',
  'cloud.review.defaultGroup': 'the project’s default',
  // api.<code>: the edge worker's error codes (edge-worker/src: ApiError; web/tests/unit/api.test.mjs checks every one has an entry) and the client's own (network, aborted, http_<status> → api.http).
  'api.bad_request': 'OpenStack refused the request as it was made. The details name the reason: change what they name (for example a property, the flavor or the network) and try again.',
  'api.unauthorized': 'The user name, password or project was not accepted. Check them (and the domains) and log in again.',
  'api.no_session': 'You are not logged in to OpenStack. Log in first.',
  'api.session_expired': 'Your OpenStack session has expired. Log in again, then repeat the last step.',
  'api.forbidden': 'OpenStack refused: your account may not do this in this project, or the project’s quota is used up. Ask your OpenStack administrator.',
  'api.not_found': 'OpenStack no longer has this item (it may have been deleted). Reload the page and try again.',
  'api.method_not_allowed': 'The stackferry server did not accept this request. Reload the page; if it happens again, report it with the details.',
  'api.conflict': 'OpenStack cannot do this now: the item is busy or in another state (for example an image that already holds data). Start the step again.',
  'api.too_large': 'Too large: the image exceeds what OpenStack or this server accepts, or the project’s storage quota. Free space in the project or ask your administrator.',
  'api.unsupported_media_type': 'Glance refused the image: it did not pass Glance’s checks of its format. Convert it again (QCOW2) and send it again; if it is refused again, ask your administrator.',
  'api.length_required': 'The upload was sent without its size, which the server needs. Try again, or use another browser.',
  'api.too_many_attempts': 'Too many login attempts. Wait a minute, then try again.',
  'api.upload_aborted': 'The upload stopped before the whole image was sent (the connection broke). Send it again.',
  'api.internal_error': 'The stackferry server ran into an internal error. Try again; if it happens again, report it with the details.',
  'api.misconfigured': 'The stackferry server is not set up correctly. Ask the person who runs it to check its settings.',
  'api.upstream_error': 'OpenStack had a problem and could not finish this step. Try again in a few minutes.',
  'api.upstream_unreachable': 'The stackferry server could not reach OpenStack. Check the Keystone URL, or try again later.',
  'api.no_endpoint': 'This OpenStack region does not offer the service needed. Log in with another region, or ask your administrator.',
  'api.origin_not_allowed': 'This page may not use the stackferry server from this address. Open the page from the server’s own address.',
  'api.cors_closed': 'This page may not call the stackferry server from another site. Open the page from the server’s own address.',
  'api.csrf': 'The request was refused as a safety measure. Reload the page and try again.',
  'api.network': 'The stackferry server could not be reached. Check your network connection and try again.',
  'api.aborted': 'The upload was stopped.',
  'api.http': 'The server answered with an error (HTTP {status}). Try again; if it happens again, report it with the details.',
  'api.unknown': 'Something went wrong; the details say what.',
  'api.image_deleted': 'The unfinished image was deleted.',
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
