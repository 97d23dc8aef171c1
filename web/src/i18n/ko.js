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
  // ==== end checklist ====

};
