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
  'error.io': '{file}을(를) 읽을 수 없습니다. 파일이 그대로 있는지 확인하고 다시 시도하세요.',
  'error.truncated': '{file}이(가) 완전하지 않습니다({needed} 이상이어야 하는데 {size}입니다). 파일을 다시 복사하세요.',
  'error.corrupt': '{file}이(가) 손상되었습니다. 다시 내보내거나 복사하세요.',
  'error.unsupported': '{file}은(는) 이 변환기가 읽을 수 없는 디스크 형식입니다. 먼저 VMware 도구나 qemu-img로 변환하세요.',
  'error.not_a_disk': '{file}은(는) VM 디스크가 아닙니다. .ova, .ovf 또는 .vmdk 파일을 선택하세요.',
  'error.missing_file': '{file}에 필요한 {name}이(가) 없습니다. 파일 목록에 추가하세요.',
  'error.no_descriptor': '{file}에 .ovf 디스크립터가 없습니다. 완전한 OVA 내보내기 파일을 선택하세요.',
  'error.unsafe_name': '{file}이(가) 안전하지 않은 파일 이름 {name}을(를) 참조합니다. VM을 다시 내보내세요.',
  'error.too_large': '{file}이(가) 이 변환기가 처리할 수 있는 크기보다 큽니다. 자세한 내용을 확인하세요.',
  'error.checksum': '{file}이(가) {name}에 기록된 다이제스트와 일치하지 않습니다. 파일이 손상되었거나 변경되었으니 다시 복사하세요.',
  'error.invalid_argument': '요청이 이 파일들과 맞지 않습니다. 자세한 내용을 확인하세요.',
  'error.cancelled': '취소되었습니다.',
  'warn.io': '{file}을(를) 읽을 수 없습니다. 읽을 수 있을 때까지 이 디스크는 변환할 수 없습니다.',
  'warn.truncated': '{file}이(가) 완전하지 않습니다({needed} 이상이어야 하는데 {size}입니다). 변환하기 전에 다시 복사하세요.',
  'warn.corrupt': '{file}이(가) 손상되어 이 디스크를 변환할 수 없습니다.',
  'warn.unsupported': '{file}은(는) 이 변환기가 읽을 수 없는 형식이라 이 디스크를 변환할 수 없습니다.',
  'warn.not_a_disk': '{file}은(는) VM 디스크가 아닙니다.',
  'warn.missing_file': '{file}에 필요한 {name}이(가) 없습니다. 파일 목록에 추가하세요.',
  'warn.no_descriptor': '{file}에 .ovf 디스크립터가 없습니다.',
  'warn.unsafe_name': '{file}이(가) 안전하지 않은 파일 이름 {name}을(를) 참조하므로 읽지 않습니다.',
  'warn.too_large': '{file}이(가) 이 변환기가 처리할 수 있는 크기보다 커서 이 디스크를 변환할 수 없습니다.',
  'warn.checksum': '{file}이(가) {name}에 기록된 다이제스트와 일치하지 않습니다. 파일이 손상되었거나 변경되었으니 다시 복사하세요.',
  'warn.invalid_argument': '이 파일들에 맞지 않는 부분이 있습니다. 자세한 내용을 확인하세요.',
  'warn.cancelled': '취소되었습니다.',
  'warn.no_manifest': '{file}에 매니페스트({name})가 없어 파일 다이제스트를 확인할 수 없습니다.',
  'warn.manifest_checked': '{file}의 디스크는 변환하는 동안 매니페스트와 대조하여 확인합니다.',
  'warn.certificate_not_verified': '{file}은(는) 서명 인증서입니다. 여기서는 서명을 확인하지 않습니다.',
  'warn.descriptor_not_listed': '{file}이(가) 매니페스트 {name}에 없어 확인하지 않습니다.',
  'warn.not_listed': '{file}이(가) 매니페스트 {name}에 없어 다이제스트를 확인하지 않습니다.',
  'warn.manifest_extra': '매니페스트 {file}에 변환에 필요 없는 {name}도 있습니다. 이 파일은 확인하지 않습니다.',
  'warn.algorithm_not_supported': '{file} {line}번째 줄: 다이제스트 알고리즘 {algorithm}을(를) 지원하지 않아 {name}을(를) 확인하지 않습니다.',
  'warn.size_mismatch': '{file}의 크기는 {size}이지만 OVF에는 {declared}바이트로 적혀 있습니다. 파일이 완전하지 않을 수 있습니다.',
  'warn.capacity_mismatch': '{file}의 디스크 {disk} 크기가 OVF에는 {declared}바이트, VMDK에는 {size}로 다릅니다. VMDK의 크기를 사용합니다.',
  'warn.units_not_understood': '{file}: 메모리 단위 {units}을(를) 이해할 수 없어 메모리 크기를 알 수 없습니다.',
  'warn.units_missing': '{file}: 메모리 크기에 단위가 없어 MiB로 간주합니다.',
  'warn.capacity_not_understood': '{file}: 디스크 {disk}의 용량을 이해할 수 없습니다.',
  'warn.several_systems': '{file}에 VM이 {count}개 있습니다. 요약에는 첫 번째 VM을 표시하고 디스크는 모두 나열합니다.',
  'warn.several_hardware_sections': '{file}에 하드웨어 섹션이 {count}개 있습니다. 첫 번째 섹션을 사용합니다.',
  'warn.controller_not_found': '{file}: 디스크 {disk}의 컨트롤러가 하드웨어 섹션에 없습니다.',
  'warn.blank_disk': '{file}: 디스크 {disk}에는 파일이 없습니다(VM 배포 시 빈 디스크로 만들어집니다). 변환할 것이 없습니다.',
  'warn.not_regular_file': '{file}: {name}은(는) 일반 파일이 아니므로 무시합니다.',
  'warn.descriptor_not_first': '{file}: OVF 디스크립터 {name}이(가) 표준과 달리 아카이브의 첫 번째 파일이 아닙니다.',
  'warn.unclean_shutdown': '{file}이(가) 정상적으로 닫히지 않았습니다. 내용이 일관되지 않을 수 있습니다.',
  'warn.redundant_unreadable': '{file}: 예비 그레인 디렉터리를 읽을 수 없어 기본 디렉터리를 사용합니다.',
  'warn.redundant_differs': '{file}: 예비 그레인 디렉터리가 기본 디렉터리와 달라 기본 디렉터리를 사용합니다.',
  'warn.embedded_size_mismatch': '{file}: 내장 디스크립터와 헤더의 디스크 크기가 달라 헤더를 사용합니다.',
  'warn.embedded_extents': '{file}: 내장 디스크립터에 익스텐트가 {count}개 있습니다. 이 파일의 데이터만 읽습니다.',
  'warn.empty_extent': '{file}: 크기가 0인 익스텐트 줄을 무시합니다.',
  'warn.extent_larger': '{file}: 익스텐트 {name}이(가) 디스크립터가 사용하는 것보다 큽니다. 사용하는 부분만 읽습니다.',
  'warn.parent_hint_not_relative': '{file}: 상위 디스크를 이 파일 옆의 {name}(으)로 찾습니다.',
  'warn.parent_changed': '{file}: 이 스냅샷을 만든 뒤 상위 디스크 {name}이(가) 바뀌었습니다. 디스크가 일관되지 않을 수 있습니다.',
  'why.basis_vmware': 'VMware 게스트 OS 유형이 {os_type}입니다.',
  'why.basis_virtualbox': 'VirtualBox OS 유형이 {os_type}입니다.',
  'why.basis_cim': 'OVF의 OS 유형 번호가 {id}입니다.',
  'why.basis_cim_described': 'OVF의 OS 유형 번호가 {id}({description})입니다.',
  'why.basis_description': 'OVF에 OS가 {description}(으)로 적혀 있습니다.',
  'why.basis_chosen': '{os}을(를) 선택했습니다.',
  'why.unrecognised': '게스트 OS {os_type}을(를) 인식할 수 없습니다.',
  'why.unrecognised_cim': '게스트 OS(OS 유형 번호 {id})를 인식할 수 없습니다.',
  'why.no_os_info': 'OVF에 게스트 OS 정보가 없습니다.',
  'why.chosen_other': 'Linux나 Windows가 아닌 다른 OS를 선택했습니다.',
  'why.linux_virtio_disk': '현재의 모든 Linux 커널에는 virtio 드라이버가 들어 있습니다.',
  'why.freebsd_virtio_disk': 'FreeBSD 10 이상에는 virtio 드라이버가 들어 있습니다.',
  'why.virtio_disk_names': '디스크 이름이 /dev/sdX 대신 /dev/vdX가 됩니다. /etc/fstab이나 부트 로더가 UUID나 레이블 대신 장치 이름을 쓴다면 hw_disk_bus=scsi와 hw_scsi_model=virtio-scsi를 사용하세요.',
  'why.windows_sata_disk': 'Windows에는 virtio-win을 설치하기 전까지 virtio 드라이버가 없으며, SATA(AHCI, Vista부터 기본 포함)로 부팅합니다.',
  'why.windows_virtio_later': '게스트에 virtio-win을 설치한 뒤 hw_disk_bus=virtio로 바꾸세요.',
  'why.windows_legacy_ide': 'Windows XP / Server 2003 이하에는 AHCI나 virtio 드라이버가 없어 IDE로만 부팅합니다.',
  'why.unknown_os_ide': 'IDE는 반가상화 드라이버 없이 동작합니다.',
  'why.unknown_os_sata': 'SATA는 반가상화 드라이버 없이 동작합니다(q35에는 IDE가 없습니다).',
  'why.virtio_if_drivers': '게스트에 virtio 드라이버가 있다면 virtio로 바꾸세요.',
  'why.virtio_scsi': '디스크 버스가 SCSI이며, virtio-scsi는 반가상화 SCSI 컨트롤러입니다.',
  'why.source_disk_on': '원본 디스크는 {controller}에 연결되어 있었습니다.',
  'why.no_disk_listed': 'OVF에 디스크가 없습니다.',
  'why.controller_unknown': 'OVF에 디스크가 연결된 컨트롤러 정보가 없습니다.',
  'why.lone_disk_controller': '디스크 파일만으로는 어떤 컨트롤러에 연결되어 있었는지 알 수 없습니다.',
  'why.linux_virtio_net': '현재의 모든 Linux 커널에는 virtio-net 드라이버가 들어 있습니다.',
  'why.freebsd_virtio_net': 'FreeBSD 10 이상에는 virtio-net 드라이버가 들어 있습니다.',
  'why.windows_e1000e': 'Windows 8 / Server 2012 이상에는 e1000e 드라이버가 들어 있고, virtio-win을 설치하기 전까지 virtio-net 드라이버는 없습니다.',
  'why.windows_vista_e1000': 'Vista / 7 / Server 2008에는 e1000 드라이버는 있지만 e1000e 드라이버는 없고, virtio-win을 설치하기 전까지 virtio-net 드라이버도 없습니다.',
  'why.virtio_net_later': 'virtio-win을 설치한 뒤 virtio로 바꾸세요.',
  'why.windows_legacy_e1000': '이 Windows 버전들에 드라이버가 들어 있는 NIC는 e1000입니다.',
  'why.unknown_os_e1000': 'e1000은 거의 모든 x86 OS에 드라이버가 있습니다.',
  'why.source_nic': '원본 NIC는 {nic}였습니다.',
  'why.source_nic_unknown_model': '원본 NIC의 모델을 알 수 없습니다.',
  'why.no_nic': '원본 VM에 NIC가 없습니다.',
  'why.lone_disk_nic': '디스크 파일만으로는 VM의 NIC를 알 수 없습니다.',
  'why.uefi': '원본 VM은 EFI 펌웨어로 부팅합니다. BIOS로 부팅하면 부트 로더를 찾지 못합니다.',
  'why.q35_for_uefi': 'UEFI 게스트에는 q35 머신 유형이 필요합니다(보안 부팅을 쓰는 OVMF에 필수).',
  'why.secure_boot': '원본 VM에서 보안 부팅이 켜져 있었습니다.',
  'why.bios': '원본 VM은 BIOS 펌웨어로 부팅합니다.',
  'why.windows_os_type': '이렇게 하면 Nova가 게스트 시계를 현지 시간으로 유지하고 임시 디스크를 Windows용으로 포맷합니다.',
  'why.libosinfo': '배포판의 libosinfo 이름입니다.',
  'why.vcpus': '원본 VM과 같은 vCPU {count}개입니다.',
  'why.no_vcpus': 'OVF에 CPU 수가 없습니다.',
  'why.lone_disk_vcpus': '디스크 파일만으로는 VM의 CPU 수를 알 수 없습니다.',
  'why.memory': '원본 VM과 같은 메모리 {ram_mib} MiB입니다.',
  'why.no_memory': 'OVF에 메모리 크기가 없습니다.',
  'why.lone_disk_memory': '디스크 파일만으로는 VM의 메모리 크기를 알 수 없습니다.',
  'why.root_disk': '첫 번째 디스크 용량에 맞춘 {disk_gib} GiB 루트 디스크입니다.',
  'why.other_disks': '나머지 디스크 {count}개는 볼륨이 됩니다.',
  'why.no_disk': 'VM에 디스크가 없습니다.',
  'why.capacity_unknown': '첫 번째 디스크의 용량을 알 수 없습니다.',
  'os.bits': '{bits}비트',
  'os.unknown': '알 수 없는 OS',
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
