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
  'error.io': '{file} could not be read: check that the file is still there and try again.',
  'error.truncated': '{file} is incomplete ({size} of at least {needed}): copy it again.',
  'error.corrupt': '{file} is damaged: export or copy it again.',
  'error.unsupported': '{file} uses a disk format this converter cannot read: convert it with VMware tools or qemu-img first.',
  'error.not_a_disk': '{file} is not a VM disk: choose the .ova, .ovf or .vmdk files.',
  'error.missing_file': '{file} needs {name}, which was not given: add it to the files.',
  'error.no_descriptor': '{file} holds no .ovf descriptor: choose a complete OVA export.',
  'error.unsafe_name': '{file} refers to the file name {name}, which is not safe to use: export the VM again.',
  'error.too_large': '{file} is larger than this converter accepts: see the details.',
  'error.checksum': '{file} does not match its digest in {name}: the file is damaged or changed; copy it again.',
  'error.invalid_argument': 'The request does not fit these files: see the details.',
  'error.cancelled': 'Cancelled.',
  'warn.io': '{file} could not be read; the disk cannot be converted until it can.',
  'warn.truncated': '{file} is incomplete ({size} of at least {needed}): copy it again before converting.',
  'warn.corrupt': '{file} is damaged: this disk cannot be converted.',
  'warn.unsupported': '{file} uses a disk format this converter cannot read: this disk cannot be converted.',
  'warn.not_a_disk': '{file} is not a VM disk.',
  'warn.missing_file': '{file} needs {name}, which was not given: add it to the files.',
  'warn.no_descriptor': '{file} holds no .ovf descriptor.',
  'warn.unsafe_name': '{file} refers to the unsafe file name {name}; it is not read.',
  'warn.too_large': '{file} is larger than this converter accepts: this disk cannot be converted.',
  'warn.checksum': '{file} does not match its digest in {name}: the file is damaged or changed; copy it again.',
  'warn.invalid_argument': 'Something about these files does not fit: see the details.',
  'warn.cancelled': 'Cancelled.',
  'warn.no_manifest': '{file} comes without its manifest ({name}): the files\' digests cannot be checked.',
  'warn.manifest_checked': 'The disks of {file} are checked against its manifest during the conversion.',
  'warn.certificate_not_verified': '{file} is a signing certificate; its signature is not verified here.',
  'warn.descriptor_not_listed': '{file} is not listed in the manifest {name}, so it is not checked.',
  'warn.not_listed': '{file} is not listed in the manifest {name}, so its digest is not checked.',
  'warn.manifest_extra': 'The manifest {file} also lists {name}, which the conversion does not need; it is not checked.',
  'warn.algorithm_not_supported': '{file}, line {line}: the digest algorithm {algorithm} is not supported, so {name} is not checked.',
  'warn.size_mismatch': '{file} is {size}, but the OVF says {declared} bytes: the file may be incomplete.',
  'warn.capacity_mismatch': 'Disk {disk} in {file} is {declared} bytes according to the OVF but {size} according to its VMDK; the VMDK\'s size is used.',
  'warn.units_not_understood': '{file}: the memory units {units} are not understood, so the memory size is unknown.',
  'warn.units_missing': '{file}: the memory size has no units; MiB is assumed.',
  'warn.capacity_not_understood': '{file}: the capacity of disk {disk} is not understood.',
  'warn.several_systems': '{file} describes {count} VMs; the summary shows the first, and all disks are listed.',
  'warn.several_hardware_sections': '{file} has {count} hardware sections; the first is used.',
  'warn.controller_not_found': '{file}: the controller of disk {disk} is not in the hardware section.',
  'warn.blank_disk': '{file}: disk {disk} has no file (it is created empty when the VM is deployed); nothing to convert.',
  'warn.not_regular_file': '{file}: {name} is not a regular file and is ignored.',
  'warn.descriptor_not_first': '{file}: the OVF descriptor {name} is not the first file in the archive, as the standard requires.',
  'warn.unclean_shutdown': '{file} was not closed cleanly: its contents may be inconsistent.',
  'warn.redundant_unreadable': '{file}: the backup grain directory cannot be read; the primary one is used.',
  'warn.redundant_differs': '{file}: the backup grain directory differs from the primary one; the primary one is used.',
  'warn.embedded_size_mismatch': '{file}: the embedded descriptor and the header disagree on the disk size; the header is used.',
  'warn.embedded_extents': '{file}: the embedded descriptor lists {count} extents; only this file\'s own data is read.',
  'warn.empty_extent': '{file}: an empty extent line is ignored.',
  'warn.extent_larger': '{file}: the extent {name} is larger than the descriptor uses; only the part it uses is read.',
  'warn.parent_hint_not_relative': '{file}: the parent disk is looked up as {name} beside this file.',
  'warn.parent_changed': '{file}: the parent disk {name} changed after this snapshot was taken; the disk may be inconsistent.',
  'why.basis_vmware': 'The VMware guest OS type is {os_type}.',
  'why.basis_virtualbox': 'The VirtualBox OS type is {os_type}.',
  'why.basis_cim': 'The OVF\'s OS type number is {id}.',
  'why.basis_cim_described': 'The OVF\'s OS type number is {id} ({description}).',
  'why.basis_description': 'The OVF describes the OS as {description}.',
  'why.basis_chosen': 'You chose {os}.',
  'why.unrecognised': 'The guest OS {os_type} is not recognised.',
  'why.unrecognised_cim': 'The guest OS (OS type number {id}) is not recognised.',
  'why.no_os_info': 'The OVF says nothing about the guest OS.',
  'why.chosen_other': 'You chose an OS other than Linux or Windows.',
  'why.linux_virtio_disk': 'All current Linux kernels include virtio drivers.',
  'why.freebsd_virtio_disk': 'FreeBSD 10 and later include virtio drivers.',
  'why.virtio_disk_names': 'Disks appear as /dev/vdX instead of /dev/sdX: if /etc/fstab or the boot loader names devices rather than UUIDs or labels, use hw_disk_bus=scsi with hw_scsi_model=virtio-scsi instead.',
  'why.windows_sata_disk': 'Windows has no virtio drivers until virtio-win is installed, and boots from SATA (AHCI, included since Vista).',
  'why.windows_virtio_later': 'After installing virtio-win in the guest, switch to hw_disk_bus=virtio.',
  'why.windows_legacy_ide': 'Windows XP / Server 2003 and older include no AHCI or virtio driver and boot only from IDE.',
  'why.unknown_os_ide': 'IDE works without paravirtual drivers.',
  'why.unknown_os_sata': 'SATA works without paravirtual drivers (q35 has no IDE).',
  'why.virtio_if_drivers': 'Switch to virtio if the guest has virtio drivers.',
  'why.virtio_scsi': 'The disk bus is SCSI; virtio-scsi is the paravirtual SCSI controller.',
  'why.source_disk_on': 'The source disk was on {controller}.',
  'why.no_disk_listed': 'The OVF lists no disk.',
  'why.controller_unknown': 'The OVF does not say which controller the disk was on.',
  'why.lone_disk_controller': 'A disk on its own does not say which controller it was on.',
  'why.linux_virtio_net': 'All current Linux kernels include the virtio-net driver.',
  'why.freebsd_virtio_net': 'FreeBSD 10 and later include the virtio-net driver.',
  'why.windows_e1000e': 'Windows 8 / Server 2012 and later include an e1000e driver, and have no virtio-net driver until virtio-win is installed.',
  'why.windows_vista_e1000': 'Vista / 7 / Server 2008 include an e1000 driver but no e1000e driver, and have no virtio-net driver until virtio-win is installed.',
  'why.virtio_net_later': 'Switch to virtio after installing virtio-win.',
  'why.windows_legacy_e1000': 'e1000 is the NIC these Windows versions include a driver for.',
  'why.unknown_os_e1000': 'e1000 has drivers in nearly every x86 OS.',
  'why.source_nic': 'The source NIC was {nic}.',
  'why.source_nic_unknown_model': 'The source NIC\'s model is unknown.',
  'why.no_nic': 'The source VM has no NIC.',
  'why.lone_disk_nic': 'A disk on its own does not say which NIC its VM had.',
  'why.uefi': 'The source VM boots with EFI firmware; a BIOS boot would find no boot loader.',
  'why.q35_for_uefi': 'UEFI guests need the q35 machine type (OVMF with secure boot requires it).',
  'why.secure_boot': 'Secure boot was enabled in the source VM.',
  'why.bios': 'The source VM boots with BIOS firmware.',
  'why.windows_os_type': 'Nova then keeps the guest clock in local time and formats ephemeral disks for Windows.',
  'why.libosinfo': 'This is the libosinfo name of the distribution.',
  'why.vcpus': { one: '{count} vCPU, as in the source VM.', other: '{count} vCPUs, as in the source VM.' },
  'why.no_vcpus': 'The OVF states no CPU count.',
  'why.lone_disk_vcpus': 'A disk on its own does not say how many CPUs its VM had.',
  'why.memory': '{ram_mib} MiB of memory, as in the source VM.',
  'why.no_memory': 'The OVF states no memory size.',
  'why.lone_disk_memory': 'A disk on its own does not say how much memory its VM had.',
  'why.root_disk': 'A {disk_gib} GiB root disk for the first disk\'s capacity.',
  'why.other_disks': { one: 'The other disk becomes a volume.', other: 'The other {count} disks become volumes.' },
  'why.no_disk': 'The VM has no disk.',
  'why.capacity_unknown': 'The first disk\'s capacity is unknown.',
  'os.bits': '{bits}-bit',
  'os.unknown': 'Unknown OS',
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
