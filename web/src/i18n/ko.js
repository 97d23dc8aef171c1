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
  'cloud.unavailable': '여기서는 OpenStack을 사용할 수 없습니다. 이 페이지는 OpenStack과 통신하는 stackferry 서버 없이 제공되고 있습니다. 이미지 변환과 다운로드는 할 수 있으며, 보내려면 그 서버를 통해 페이지를 여십시오(npm start).',
  'cloud.alert.context': '{what}:',
  'cloud.do.logout': '로그아웃',
  'cloud.do.createImage': '이미지 {name} 만들기',
  'cloud.do.send': '{name} 보내기',
  'cloud.do.list': '{what} 목록 가져오기',
  'cloud.do.launch': '서버 {name} 시작',
  'cloud.list.flavors': '플레이버',
  'cloud.list.networks': '네트워크',
  'cloud.list.keypairs': '키 페어',
  'cloud.list.groups': '보안 그룹',
  'cloud.login.failed': '로그인하지 못했습니다:',
  'cloud.session.line': '{user} 계정으로 프로젝트 {project}(리전 {region})에 로그인했습니다. 세션 만료: {expiry}.',
  'cloud.session.expiry': '{when}({left} 남음)',
  'cloud.session.expiryUnknown': '알 수 없음',
  'cloud.upload.title': '{file} → 이미지 {name}',
  'cloud.upload.bar': '{name} 업로드',
  'cloud.upload.state.creating': '이미지를 만드는 중…',
  'cloud.upload.state.streaming': '변환하면서 업로드하는 중…',
  'cloud.upload.state.converting': '변환하는 중…',
  'cloud.upload.state.uploadStart': '업로드하는 중…',
  'cloud.upload.state.uploading': '업로드하는 중 · {percent}',
  'cloud.upload.state.cancelled': '취소됨',
  'cloud.upload.state.done': '{time} 만에 보냈습니다',
  'cloud.upload.state.mismatch': '체크섬 불일치',
  'cloud.upload.state.failed': '실패',
  'cloud.upload.sent': '{total} 중 {sent} 보냄',
  'cloud.upload.left': '{time} 남음',
  'cloud.upload.how.stream': '변환하면서 바로 Glance로 보냅니다({why}).',
  'cloud.upload.how.file': '먼저 브라우저 저장소에 변환한 뒤 거기서 보냅니다({why}).',
  'cloud.upload.why.forced': '페이지 주소에서 지정함',
  'cloud.upload.why.no_streams': '이 브라우저는 변환하면서 보낼 수 없습니다',
  'cloud.upload.why.fast_connection': '이 연결에서 가능합니다',
  'cloud.upload.why.slow_connection': '이 연결로는 변환하면서 보낼 수 없습니다',
  'cloud.upload.why.stream_refused': '브라우저가 변환 중 전송을 거부했습니다',
  'cloud.image.title': '이미지 {name}',
  'cloud.image.summary': '({id}): {status}, {size}.',
  'cloud.image.status.active': '사용 가능',
  'cloud.image.status.queued': '데이터 대기 중',
  'cloud.image.status.saving': '저장 중',
  'cloud.image.status.importing': '가져오는 중',
  'cloud.image.status.killed': 'Glance에서 실패함',
  'cloud.image.status.deleted': '삭제됨',
  'cloud.image.status.unknown': '상태 알 수 없음',
  'cloud.image.hashOk': 'Glance의 체크섬(os_hash_value)이 이 브라우저에서 계산한 SHA-512와 같습니다. 이미지에 변환한 바이트가 그대로 들어 있습니다.',
  'cloud.image.hashBad': 'Glance의 체크섬({algo}) {glance}이(가) 여기서 계산한 SHA-512와 다릅니다. 이 이미지로 서버를 시작하지 말고 다시 보내십시오.',
  'cloud.image.hashMissing': '(없음)',
  'cloud.launch.flavorOption': '{name} — vCPU {vcpus}개, RAM {ram}, 디스크 {disk} GiB',
  'cloud.launch.net.external': '외부',
  'cloud.launch.net.shared': '공유',
  'cloud.launch.net.noSubnet': '서브넷 없음',
  'cloud.launch.net.withNotes': '{name} ({notes})',
  'cloud.launch.net.auto': '선택 안 함: Nova가 고릅니다',
  'cloud.launch.noKeypair': '키 페어 없음',
  'cloud.launch.noGroups': '목록에 없습니다(Nova가 프로젝트의 기본 그룹을 사용합니다)',
  'cloud.launch.want': 'vCPU {vcpus}개, {ram}, 디스크 {disk} GiB',
  'cloud.launch.wantRam': 'RAM 용량 {ram}',
  'cloud.launch.anyRam': 'RAM 제한 없음',
  'cloud.launch.chosen': '선택한 플레이버: {flavor}.',
  'cloud.launch.suggested': '추천: {name}. 최소 {want}을(를) 갖춘 가장 가까운 플레이버입니다.',
  'cloud.launch.noFit': '최소 {want}을(를) 갖춘 플레이버가 없습니다. 직접 고르십시오(Nova는 이미지의 min_disk / min_ram보다 작은 플레이버를 거부합니다).',
  'cloud.server.state.REQUESTED': '요청함',
  'cloud.server.state.BUILD': '만드는 중',
  'cloud.server.state.ACTIVE': '실행 중',
  'cloud.server.state.ERROR': '오류',
  'cloud.server.state.UNKNOWN': '알 수 없음',
  'cloud.server.asking': 'Nova에 요청하는 중…',
  'cloud.server.refused': 'Nova가 서버 생성을 거부했습니다.',
  'cloud.server.unreadable': '서버 상태를 읽지 못했습니다.',
  'cloud.server.running': '서버 {name}({id})이(가) 실행 중입니다.',
  'cloud.server.runningAt': '서버 {name}({id})이(가) 실행 중입니다. 주소: {addresses}.',
  'cloud.server.failed': 'Nova가 서버 {name}({id})을(를) 시작하지 못했습니다. Nova가 밝힌 이유는 자세히에 있습니다.',
  'cloud.server.failedNoReason': 'Nova가 서버 {name}({id})을(를) 시작하지 못했고 이유를 밝히지 않았습니다.',
  'cloud.server.waiting': '실행되기를 기다리는 중… {time}',
  'cloud.server.timeout': '{time}이 지나도 실행되지 않습니다. OpenStack에서 서버를 확인하십시오.',
  'cloud.console.open': '서버 콘솔 열기(새 탭)',
  'cloud.console.unsafe': 'Nova가 준 콘솔 주소가 웹 주소가 아니어서 링크로 제공하지 않습니다.',
  'cloud.console.none': '이 서버에는 사용할 수 있는 콘솔이 없습니다.',
  'cloud.after.powerOff': '전환 후에는 VMware 원본의 전원을 끄고 자동 시작을 해제하여 두 사본이 동시에 실행되지 않게 하십시오(스플릿 브레인 방지)',
  'cloud.after.verify': '새 인스턴스에서 확인하십시오(예: message.txt 같은 알려진 테스트 파일이 바뀌지 않고 그대로 있는지)',
  'cloud.review.send.title': '보내기 전에 확인하십시오',
  'cloud.review.send.intro': 'Glance에 이미지 {count}개를 만들고 변환한 디스크를 보냅니다. 확인을 누르기 전에는 아무것도 만들지 않습니다.',
  'cloud.review.send.confirm': '확인하고 보내기',
  'cloud.review.image': '이미지 {name}',
  'cloud.review.size': '가상 크기 {size}',
  'cloud.review.facts': '({facts})',
  'cloud.review.target': '→ 프로젝트 {project}(리전 {region})',
  'cloud.review.launch.title': '서버를 시작하기 전에 확인하십시오',
  'cloud.review.launch.intro': '이 서버를 프로젝트 {project}(리전 {region})에 만듭니다. 확인을 누르기 전에는 아무것도 만들지 않습니다.',
  'cloud.review.launch.confirm': '확인하고 시작하기',
  'cloud.review.server': '서버 {name}',
  'cloud.review.serverFacts': '이미지 {image}, 플레이버 {flavor}, 네트워크 {network}, 키 페어 {keypair}, 보안 그룹 {groups}',
  'cloud.review.auto': 'Nova가 선택',
  'cloud.review.none': '없음',
  'cloud.review.defaultGroup': '프로젝트 기본값',
  // api.<code>: the edge worker's error codes (see en.js).
  'api.bad_request': 'OpenStack이 요청을 그대로 받아들이지 않았습니다. 자세히에 이유가 있습니다. 거기서 말하는 값(예: 속성, 플레이버, 네트워크)을 바꾼 뒤 다시 시도하십시오.',
  'api.unauthorized': '사용자 이름, 비밀번호 또는 프로젝트가 맞지 않습니다. 도메인까지 확인한 뒤 다시 로그인하십시오.',
  'api.no_session': 'OpenStack에 로그인되어 있지 않습니다. 먼저 로그인하십시오.',
  'api.session_expired': 'OpenStack 세션이 만료되었습니다. 다시 로그인한 뒤 마지막 단계를 다시 하십시오.',
  'api.forbidden': 'OpenStack이 거부했습니다. 이 프로젝트에서 이 작업을 할 권한이 없거나 프로젝트 할당량을 다 썼습니다. OpenStack 관리자에게 문의하십시오.',
  'api.not_found': 'OpenStack에 해당 항목이 없습니다(삭제되었을 수 있습니다). 페이지를 새로 고친 뒤 다시 시도하십시오.',
  'api.method_not_allowed': 'stackferry 서버가 이 요청을 받아들이지 않았습니다. 페이지를 새로 고치십시오. 다시 일어나면 자세한 내용과 함께 알려 주십시오.',
  'api.conflict': '지금은 OpenStack에서 이 작업을 할 수 없습니다. 항목이 사용 중이거나 다른 상태입니다(예: 이미 데이터가 있는 이미지). 이 단계를 처음부터 다시 하십시오.',
  'api.too_large': '너무 큽니다. 이미지가 OpenStack 또는 이 서버가 받는 크기나 프로젝트의 저장 할당량을 넘습니다. 프로젝트의 공간을 비우거나 관리자에게 문의하십시오.',
  'api.unsupported_media_type': 'Glance가 이미지를 거부했습니다. 이미지 형식 검사를 통과하지 못했습니다. QCOW2로 다시 변환해서 다시 보내십시오. 또 거부되면 관리자에게 문의하십시오.',
  'api.length_required': '업로드에 서버가 필요로 하는 크기 정보가 없었습니다. 다시 시도하거나 다른 브라우저를 사용하십시오.',
  'api.too_many_attempts': '로그인 시도가 너무 많습니다. 1분 정도 기다린 뒤 다시 시도하십시오.',
  'api.upload_aborted': '이미지를 모두 보내기 전에 업로드가 중단되었습니다(연결이 끊김). 다시 보내십시오.',
  'api.internal_error': 'stackferry 서버에 내부 오류가 발생했습니다. 다시 시도하십시오. 다시 일어나면 자세한 내용과 함께 알려 주십시오.',
  'api.misconfigured': 'stackferry 서버가 올바르게 설정되어 있지 않습니다. 서버 운영자에게 설정 확인을 요청하십시오.',
  'api.upstream_error': 'OpenStack에 문제가 있어 이 단계를 마치지 못했습니다. 몇 분 뒤에 다시 시도하십시오.',
  'api.upstream_unreachable': 'stackferry 서버가 OpenStack에 연결하지 못했습니다. Keystone 주소를 확인하거나 나중에 다시 시도하십시오.',
  'api.no_endpoint': '이 OpenStack 리전에는 필요한 서비스가 없습니다. 다른 리전으로 로그인하거나 관리자에게 문의하십시오.',
  'api.origin_not_allowed': '이 주소의 페이지는 stackferry 서버를 사용할 수 없습니다. 서버 자체 주소에서 페이지를 여십시오.',
  'api.cors_closed': '다른 사이트의 페이지는 stackferry 서버를 호출할 수 없습니다. 서버 자체 주소에서 페이지를 여십시오.',
  'api.csrf': '보안을 위해 요청이 거부되었습니다. 페이지를 새로 고친 뒤 다시 시도하십시오.',
  'api.network': 'stackferry 서버에 연결할 수 없습니다. 네트워크 연결을 확인하고 다시 시도하십시오.',
  'api.aborted': '업로드를 중지했습니다.',
  'api.http': '서버가 오류로 응답했습니다(HTTP {status}). 다시 시도하십시오. 다시 일어나면 자세한 내용과 함께 알려 주십시오.',
  'api.unknown': '문제가 발생했습니다. 자세한 내용을 확인하십시오.',
  'api.image_deleted': '완성되지 않은 이미지는 삭제했습니다.',
  // ==== end cloud ====


  // ==== checklist: ui/checklist.js, checklist.js: the migration checklist and its Markdown ====
  // ==== end checklist ====

};
