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
  'files.list': '추가한 파일',
  'files.remove': '{name} 삭제',
  'files.drop.title': 'VM 파일을 이 페이지 아무 곳에나 끌어다 놓으십시오',
  'files.drop.title_touch': 'VM 파일을 선택하십시오',
  'files.drop.what': '— .ova 파일, .vmdk·.mf 파일과 함께 있는 .ovf 파일, 익스텐트와 함께 있는 디스크립터 .vmdk 파일, 단일 .vmdk 디스크 또는 폴더 전체를 사용할 수 있습니다.',
  'files.drop.help': '또는 Enter 키를 눌러 파일을 선택하십시오.',
  'files.drop.help_touch': '여기를 눌러 파일을 선택하십시오.',
  'files.drop.failed': '끌어다 놓은 파일 읽기',
  // ==== end files ====


  // ==== inputs: ui/inputs.js: inputs, disks, the VM summary, suggestions, the OS question ====
  'inputs.remove': '{name} 삭제',
  'inputs.files': '파일: {names}',
  'inputs.unused': '어느 디스크에도 쓰이지 않는 파일: {names}',
  'inputs.disk.label': '디스크 {n}: {name}',
  'inputs.disk.line': '{format}, 가상 크기 {size}, 데이터 최대 {data}',
  'inputs.disk.chain': ', 스냅샷 {count}개로 이어진 체인',
  'inputs.warning': '경고:',
  'inputs.note': '참고:',
  'inputs.os.question': '이 디스크에는 어떤 운영 체제가 설치되어 있습니까?',
  'inputs.os.linux': 'Linux',
  'inputs.os.windows': 'Windows',
  'inputs.os.other': '기타',
  'inputs.os.hint': '선택한 운영 체제에 맞춰 OpenStack에서 부팅하는 데 필요한 디스크·네트워크 설정을 정합니다.',
  'inputs.vm.title': 'VM: {name}',
  'inputs.vm.os': '게스트 OS',
  'inputs.vm.os_bits': '{name}, {bits}비트',
  'inputs.vm.os_cim': 'OS 유형 {id}',
  'inputs.vm.os_unknown': '명시되지 않음',
  'inputs.vm.vcpus': 'vCPU 수',
  'inputs.vm.vcpus_cores': '{count}개 (소켓당 {cores}개)',
  'inputs.vm.memory': '메모리',
  'inputs.vm.firmware': '펌웨어',
  'inputs.vm.secure_boot': ', 보안 부팅',
  'inputs.vm.hardware': '하드웨어 버전',
  'inputs.vm.networks': '네트워크',
  'inputs.vm.disks': '디스크',
  'inputs.vm.disk': '디스크',
  'inputs.vm.file': '파일',
  'inputs.vm.capacity': '용량',
  'inputs.vm.controller': '컨트롤러',
  'inputs.vm.nics': '네트워크 어댑터',
  'inputs.vm.nic': '어댑터',
  'inputs.vm.model': '모델',
  'inputs.vm.network': '네트워크',
  'inputs.vm.mac': 'MAC 주소',
  'inputs.suggested.title': 'OpenStack 권장 설정',
  'inputs.suggested.hint': '값을 바꾸면 아래 업로드 명령도 바뀝니다.',
  'inputs.prop.key': 'Glance 속성',
  'inputs.prop.value': '값',
  'inputs.prop.why': '이유',
  'inputs.prop.unset': '(설정 안 함)',
  'inputs.prop.other': '기타…',
  'inputs.prop.other_label': '{key}의 다른 값',
  'inputs.flavor.title': 'Flavor',
  'inputs.flavor.vcpus': 'vCPU 수',
  'inputs.flavor.ram': 'RAM',
  'inputs.flavor.disk': '디스크',
  'inputs.invalid.chars': '“{value}”은(는) 사용할 수 없습니다. 영문자, 숫자와 . _ : - 만 쓰십시오(공백·따옴표 불가).',
  'inputs.invalid.one_of': '“{value}”은(는) 여기에 쓸 수 없습니다. {values} 중에서 고르십시오.',
  'inputs.invalid.typo': '“{value}”은(는) OpenStack이 모르는 값입니다. “{known}”을(를) 뜻하셨습니까?',
  'inputs.invalid.number': '{min} 이상의 정수를 입력하십시오.',
  // ==== end inputs ====


  // ==== core: the converter core's codes: error.<code>, warn.<code>, why.<code> (converter-wasm/src, checked by its tests) ====
  // ==== end core ====


  // ==== errors: ui/errors.js and error.js: the page's own errors and how they are shown ====
  'errors.this_file': '이 파일',
  'errors.generic': '{file}을(를) 사용할 수 없습니다. 아래 자세히에서 이유를 확인하십시오.',
  'errors.generic_nofile': '문제가 발생했습니다. 아래 자세히에서 이유를 확인하십시오.',
  'errors.details.kind': '종류',
  'errors.details.file': '파일',
  'errors.details.offset': '오프셋',
  'errors.details.message': '기술 메시지',
  'errors.missing_files': '{file}에 필요한 {names} 파일이 없습니다. {file}을(를) 변환하려면 이 파일도 추가하십시오.',
  'errors.no_space': '브라우저 저장 공간이 가득 찼습니다. 이전 결과를 삭제하거나 “직접 고른 파일”에 저장한 뒤 다시 시도하십시오.',
  'errors.worker_stopped': '변환기가 예기치 않게 멈췄습니다(브라우저 메모리가 부족할 수 있습니다). 페이지를 새로 고친 뒤 다시 시도하십시오.',
  'errors.upload': 'OpenStack으로 업로드하던 중 멈췄습니다. 연결을 확인한 뒤 다시 보내십시오.',
  'errors.stream_failed': 'OpenStack으로 업로드하던 중 끊겼습니다. 다시 보내십시오.',
  // ==== end errors ====


  // ==== run: ui/convert.js, ui/progress.js, ui/results.js, save.js: review, convert, progress, results, stored outputs ====
  // ==== end run ====


  // ==== cloud: openstack/*.js: log in, send, launch; api.<code> for the edge worker's error codes ====
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
