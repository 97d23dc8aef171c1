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
  'shell.skip': '본문으로 건너뛰기',
  'shell.tagline': 'VMware VM의 디스크(OVA, OVF + VMDK, VMDK)를 이 브라우저 탭에서 OpenStack 이미지로 변환합니다. 설치할 것이 없고 파일은 업로드되지 않습니다. 파일은 이 컴퓨터에서만 읽고 씁니다.',
  'shell.steps.title': '진행 단계',
  'shell.step.connect': '연결',
  'shell.step.files': '파일',
  'shell.step.review': '검토',
  'shell.step.convert': '변환 또는 전송',
  'shell.step.launch': '서버 생성',
  'shell.step.verify': '확인',
  'shell.state.done': '완료',
  'shell.state.current': '현재 단계',
  'shell.state.next': '다음',
  'shell.state.later': '이후',
  'shell.state.optional': '선택 사항',
  'shell.state.unavailable': '여기서는 사용할 수 없음',
  'shell.h.connect': 'OpenStack 연결(선택 사항)',
  'shell.h.files': 'VMware 파일',
  'shell.h.review': '파일 내용 검토',
  'shell.h.convert': '변환 또는 전송',
  'shell.h.result': '결과',
  'shell.h.launch': '서버 생성',
  'shell.connect.why': '이 페이지에서 이미지를 Glance로 보내고 서버를 생성하려면 먼저 로그인하십시오. 로그인하지 않아도 디스크를 변환하고 이미지를 다운로드할 수 있습니다.',
  'shell.connect.unavailable': 'OpenStack으로 보내려면 stackferry 에지 워커가 이 페이지를 제공해야 합니다(npm start). 이 서버에는 없습니다.',
  'shell.login.with': '로그인 방법',
  'shell.login.password_method': '비밀번호',
  'shell.login.appcred_method': '애플리케이션 자격 증명',
  'shell.login.username': '사용자 이름',
  'shell.login.password': '비밀번호',
  'shell.login.project': '프로젝트',
  'shell.login.user_domain': '사용자 도메인',
  'shell.login.project_domain': '프로젝트 도메인',
  'shell.login.appcred_id': '애플리케이션 자격 증명 ID',
  'shell.login.secret': '시크릿',
  'shell.login.other': '다른 클라우드 또는 리전',
  'shell.login.auth_url': 'Keystone 주소',
  'shell.login.auth_url_ph': '서버 기본값',
  'shell.login.region': '리전',
  'shell.login.region_ph': '카탈로그 기본값',
  'shell.login.privacy': '비밀번호는 이 사이트의 서버를 거쳐 Keystone에 한 번만 전송되며 저장되지 않습니다. 세션은 이 페이지가 읽을 수 없는 쿠키에 보관됩니다.',
  'shell.login.submit': '로그인',
  'shell.session.user': '로그인 사용자',
  'shell.session.project': '프로젝트',
  'shell.session.region': '리전',
  'shell.session.expiry': '세션 만료',
  'shell.session.logout': '로그아웃',
  'shell.drop.title': 'VM 파일을 여기에 끌어다 놓으십시오',
  'shell.drop.what': '.ova 파일, .vmdk 및 .mf 파일이 있는 .ovf 파일, 익스텐트가 있는 디스크립터 .vmdk 파일, 단일 .vmdk 디스크 또는 폴더 전체를 사용할 수 있습니다.',
  'shell.drop.help': 'Enter 키를 눌러 파일을 선택할 수도 있습니다.',
  'shell.files.choose': '파일 선택…',
  'shell.files.folder': '폴더 선택…',
  'shell.files.clear': '모두 지우기',
  'shell.files.list': '선택한 파일',
  'shell.review.empty': '아직 검토할 내용이 없습니다. 이전 단계에서 VM 파일을 선택하십시오.',
  'shell.convert.empty': '아직 변환할 디스크가 없습니다.',
  'shell.convert.format': '출력 형식',
  'shell.convert.save': '저장 위치',
  'shell.convert.convert': '변환',
  'shell.convert.send': 'OpenStack으로 보내기',
  'shell.format.qcow2': 'QCOW2(권장)',
  'shell.format.qcow2_compressed': 'QCOW2 압축(더 작지만 더 느림)',
  'shell.format.raw': 'RAW(원시 이미지)',
  'shell.save.picker': '직접 선택한 파일',
  'shell.save.opfs': '브라우저 저장소에 저장한 뒤 다운로드',
  'shell.launch.needs': '여기서 서버를 생성하려면 로그인(1단계)한 뒤 이미지를 보내십시오(4단계). 로그인하지 않는 경우 결과와 함께 표시되는 명령을 사용하십시오.',
  'shell.launch.unavailable': '이 페이지에서 서버를 생성하려면 stackferry 에지 워커가 필요합니다(npm start). 대신 결과와 함께 표시되는 명령을 사용하십시오.',
  'shell.launch.send_first': '먼저 이미지를 OpenStack으로 보내십시오(4단계). Glance에 이미지가 올라가고 SHA-512 해시가 일치하면 그 이미지로 서버를 생성합니다.',
  'shell.launch.name': '이름',
  'shell.launch.image': '이미지',
  'shell.launch.flavor': '플레이버',
  'shell.launch.network': '네트워크',
  'shell.launch.keypair': '키 페어',
  'shell.launch.groups': '보안 그룹',
  'shell.launch.launch': '서버 생성',
  'shell.launch.after': '완료하기 전에 확인하십시오(아래 마이그레이션 체크리스트 참고):',
  'shell.footer': 'stackferry · 변환기는 이 브라우저의 WebAssembly에서 실행됩니다',
  'shell.caps.both': '이미지는 직접 선택한 파일이나 브라우저 저장소에 저장됩니다.',
  'shell.caps.picker': '이미지는 직접 선택한 파일에 저장됩니다.',
  'shell.caps.opfs': '이미지는 브라우저 저장소에 저장한 뒤 다운로드됩니다.',
  'shell.caps.none': '이 브라우저에서는 이미지를 저장할 수 없습니다. 최신 Chrome, Edge 또는 Firefox를 사용하십시오.',
  'shell.reading': '파일의 메타데이터를 읽는 중입니다…',
  'shell.unreadable': '이 파일을 읽을 수 없습니다',
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
  'run.row.waiting': '대기 중',
  'run.row.starting': '시작하는 중…',
  'run.row.planning': '디스크 구조를 읽는 중…',
  'run.row.converting': '변환 중',
  'run.row.step1': '2단계 중 1단계: 압축 크기 측정',
  'run.row.step2': '2단계 중 2단계: 쓰기',
  'run.row.read': '{total} 중 {done} 읽음',
  'run.row.written': '{total} 중 {done} 씀',
  'run.row.left': '{time} 남음',
  'run.row.estimating': '남은 시간을 계산하는 중…',
  'run.row.valueLeft': '{percent}, {time} 남음',
  'run.row.doneIn': '{time} 만에 완료',
  'run.row.doneNumbers': '{size} 씀 · 디스크 데이터 {rate}',
  'run.row.stoppedAt': '{percent}에서 중지됨',
  'run.row.failed': '실패',
  'run.row.cancelled': '취소됨',
  'run.row.notSent': '보내지 않음',
  'run.live.progress': '{name}: {percent} 완료',
  // Convert and Send (ui/convert.js)
  'run.blocked.invalid': '위 값 중 올바르지 않은 것이 있습니다. 표시된 항목을 고치면 변환하거나 보낼 수 있습니다.',
  'run.blocked.login': '이미지를 Glance로 바로 보내려면 먼저 OpenStack에 로그인하십시오.',
  'run.context.choosing': '저장할 위치 선택',
  'run.context.converting': '{file} 변환',
  'run.context.sending': '{name} 보내기',
  'run.caps.both': '선택한 파일에 저장하거나, 결과를 이 브라우저의 저장소에 보관해 다운로드할 수 있습니다.',
  'run.caps.picker': '선택한 파일에 저장합니다.',
  'run.caps.storage': '결과를 이 브라우저의 저장소에 보관해 다운로드할 수 있습니다.',
  'run.caps.none': '이 브라우저에서는 결과를 저장할 수 없습니다. 최신 Chrome, Edge 또는 Firefox를 사용하십시오.',
  'run.caps.details': '작업 스레드 {count}개로 동시에 변환합니다.',
  // Results (ui/results.js)
  'run.result.download': '{name} 다운로드',
  'run.result.remove': '브라우저 저장소에서 삭제',
  'run.result.removed': '{name} (브라우저 저장소에서 삭제됨)',
  'run.result.kept': '삭제할 때까지 이 브라우저의 저장소에 보관되며, 새로 고침해도 남아 있습니다.',
  'run.result.streamed': '변환하면서 OpenStack으로 보냈습니다(아래 업로드 참고).',
  'run.result.savedAs': '{name}(으)로 저장했습니다.',
  'run.result.format': '형식',
  'run.result.outputSize': '출력 크기',
  'run.result.virtualSize': '가상 크기',
  'run.result.guestData': '디스크 데이터',
  'run.result.time': '소요 시간',
  'run.result.timeValue': '{time} (디스크 데이터 {rate})',
  'run.result.sizeExact': '{size} ({bytes}바이트)',
  'run.result.contentDigest': '내용 다이제스트',
  'run.result.contentDigestHelp': '디스크 내용의 지문으로, 형식과 관계없이 같습니다. stackferry 명령줄로 원본에서 구한 다이제스트와 비교하십시오.',
  'run.result.sha512': 'SHA-512 (Glance os_hash_value)',
  'run.result.byHand': '직접 실행하는 명령',
  'run.result.copy': '명령 복사',
  'run.result.copied': '복사했습니다',
  'run.result.copyFailed': '복사하지 못했습니다. 텍스트를 직접 선택하십시오',
  'run.result.commandsLabel': '같은 작업을 하는 명령',
  // Outputs kept in browser storage (ui/stored.js)
  'run.stored.title': '이 브라우저에 보관된 이미지',
  'run.stored.usage': '브라우저 저장소: {used} 사용 중, {available} 더 사용 가능.',
  'run.stored.cleaned': '중단된 변환이 남긴 미완성 파일 {count}개를 삭제했습니다.',
  'run.stored.from': '{name}에서',
  'run.stored.send': 'OpenStack으로 보내기',
  'run.stored.sending': '보내는 중…',
  'run.stored.removed': '{name}을(를) 브라우저 저장소에서 삭제했습니다.',
  'run.stored.removeFailed': '{name}을(를) 삭제하지 못했습니다(다른 탭에서 사용 중인지 확인하십시오).',
  // ==== end run ====


  // ==== cloud: openstack/*.js: log in, send, launch; api.<code> for the edge worker's error codes ====
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  'checklist.title': '마이그레이션 체크리스트',
  'checklist.kept': '이 브라우저에만 보관됩니다. VM마다 목록이 하나씩 있습니다.',
  'checklist.vm': '대상 VM',
  'checklist.export': 'Markdown으로 내보내기',
  'checklist.copy': 'Markdown 복사',
  'checklist.copied': '복사했습니다',
  'checklist.copy_failed': '복사하지 못했습니다',
  'checklist.notes': '메모',
  'checklist.default_vm': '내 VM',
  'checklist.digests': '변환한 디스크',
  'checklist.digest.content': '콘텐츠 다이제스트',
  'checklist.digest.sha512': 'SHA-512 해시(Glance os_hash_value)',
  'checklist.disk': '{format}, {size}({exact}바이트), 가상 크기 {virtual}',
  'checklist.md.title': '마이그레이션 체크리스트: {vm}',
  'checklist.md.updated': '마지막 수정: {date}',
  'checklist.item.inventory': 'VM 목록을 정리하고 필요 없는 VM은 폐기합니다',
  'checklist.item.low-crit': '중요도가 낮은 VM부터 시작합니다',
  'checklist.item.downtime': '중단 시간을 산정하고 미리 공지합니다',
  'checklist.item.dns-ttl': '전환 며칠 전에 DNS TTL을 낮춥니다(예: 5분)',
  'checklist.item.shutdown': '내보내기 전에 게스트 운영 체제를 정상적으로 종료합니다',
  'checklist.item.convert': '디스크를 변환합니다(다이제스트는 아래에 기록됩니다)',
  'checklist.item.upload': '이미지를 Glance에 업로드하고 SHA-512 해시가 아래에 기록된 값과 같은지 확인합니다',
  'checklist.item.power-off': '전환 후 VMware 원본의 전원을 끄고 자동 시작을 해제하여 두 사본이 동시에 실행되지 않게 합니다(스플릿 브레인 방지)',
  'checklist.item.verify': '새 인스턴스에서 확인합니다(예: message.txt 같은 알려진 테스트 파일이 그대로 있는지)',
  // ==== end checklist ====

};
