// The OpenStack API client (web/src/openstack/api.js) under node, against a stand-in `fetch`
// that records each request and answers as the edge worker does: the headers every call
// carries, how errors and a lost session come back, how the page finds out whether the API is
// there; and the decisions the panels take (the image to create, the upload path, the flavor,
// the server). The same client runs against the real worker and OpenStack in
// web/tests/openstack.test.mjs.
//
// usage: node --test web/tests/unit/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiError, apiErrorText, apiMessage, closestFlavor, createApi, flavorWant, imageBody, serverBody, uploadMode,
} from '../../src/openstack/api.js';
import { CATALOGUES, setLang } from '../../src/i18n/index.js';

const WORKER_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../edge-worker/src');

const BASE = 'http://127.0.0.1:8787/api/';

/** A fetch answering from `answer(url, init)` (`{status, body, type}`), recording each call. */
function fakeFetch(answer) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url, ...init });
    const a = await answer(url, init);
    const text = typeof a.body === 'string' ? a.body : a.body === undefined ? '' : JSON.stringify(a.body);
    return new Response(a.status === 204 ? null : text, {
      status: a.status || 200,
      headers: { 'content-type': a.type || (typeof a.body === 'string' ? 'text/html' : 'application/json') },
    });
  };
  return { fetch, calls };
}

function client(answer, more = {}) {
  const f = fakeFetch(answer);
  const ended = [];
  const api = createApi({ base: BASE, origin: 'http://127.0.0.1:8787/tools/', fetch: f.fetch, onUnauthorized: () => ended.push(true), ...more });
  return { api, calls: f.calls, ended };
}

test('reads are plain GETs; state changes carry X-Stackferry and JSON', async () => {
  const { api, calls } = client(() => ({ body: { id: 'img-1' } }));
  assert.deepEqual(await api.image('img-1'), { id: 'img-1' });
  await api.createImage({ name: 'vm' });
  await api.deleteImage('img-1');
  await api.logout();
  const [get, post, del, logout] = calls;
  assert.equal(get.url, `${BASE}images/img-1`);
  assert.equal(get.method, 'GET');
  assert.deepEqual(get.headers, { Accept: 'application/json' });
  assert.equal(get.body, undefined);
  assert.equal(get.credentials, 'same-origin');
  assert.equal(get.cache, 'no-store');
  assert.equal(post.url, `${BASE}images`);
  assert.deepEqual(post.headers, { Accept: 'application/json', 'X-Stackferry': '1', 'Content-Type': 'application/json' });
  assert.equal(post.body, '{"name":"vm"}');
  assert.equal(del.method, 'DELETE');
  assert.deepEqual(del.headers, { Accept: 'application/json', 'X-Stackferry': '1' });
  assert.equal(logout.url, `${BASE}logout`);
  assert.equal(logout.method, 'POST');
  assert.equal(logout.body, undefined);
});

test('every route the panels use', async () => {
  const { api, calls } = client(() => ({ body: {} }));
  await api.login({ username: 'u' });
  await api.list('security-groups');
  await api.createServer({ name: 's' });
  await api.server('s1');
  await api.console('s1');
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url.slice(BASE.length)}`),
    ['POST login', 'GET security-groups', 'POST servers', 'GET servers/s1', 'GET servers/s1/console']);
  assert.equal(api.imageFileUrl('abc'), 'http://127.0.0.1:8787/api/images/abc/file');
  const relative = createApi({ base: '/api/', origin: 'https://h.example/tools/stackferry/' });
  assert.equal(relative.imageFileUrl('abc'), 'https://h.example/api/images/abc/file', 'the API is at the origin\'s root');
});

test('errors: the API\'s error and detail, a page that is not JSON, no network', async () => {
  const { api } = client((url) => {
    if (url.endsWith('images')) return { status: 502, body: { error: 'upstream', detail: 'Glance said no', upstream_status: 500 } };
    if (url.endsWith('flavors')) return { status: 500, body: `<html>${'x'.repeat(1000)}</html>` };
    throw new TypeError('fetch failed');
  });
  const e1 = await api.createImage({}).catch((e) => e);
  assert.ok(e1 instanceof ApiError);
  assert.equal(e1.status, 502);
  assert.equal(e1.error, 'upstream');
  assert.equal(e1.detail, 'Glance said no');
  assert.equal(apiErrorText(e1), 'upstream: Glance said no (OpenStack answered HTTP 500)');
  const e2 = await api.list('flavors').catch((e) => e);
  assert.equal(e2.error, 'http_500');
  assert.equal(e2.detail.length, 300, 'a page that is not JSON is cut short');
  const e3 = await api.list('networks').catch((e) => e);
  assert.equal(e3.status, 0);
  assert.equal(e3.error, 'network');
  assert.match(e3.detail, /could not be reached: fetch failed/);
  assert.equal(apiErrorText(new ApiError(409, { error: 'conflict', detail: 'x', image_deleted: true })), 'conflict: x — the image was deleted');
  assert.equal(apiErrorText({ kind: 'upload', file: 'd.qcow2', offset: 4096, message: 'stopped' }), 'upload: d.qcow2: offset 4096 (0x1000): stopped');
  assert.equal(apiErrorText(new Error('plain')), 'plain');
});

test('a 401 ends the session, except on the login itself', async () => {
  const { api, ended } = client(() => ({ status: 401, body: { error: 'unauthenticated', detail: 'no session' } }));
  await assert.rejects(api.login({}), (e) => e.status === 401);
  assert.equal(ended.length, 0, 'a refused login is not a lost session');
  await assert.rejects(api.list('flavors'), (e) => e.error === 'unauthenticated');
  assert.equal(ended.length, 1);
});

test('probe: whether the API is there, and the session', async () => {
  const probe = (answer) => client(answer).api.probe();
  assert.deepEqual(await probe(() => ({ body: { user: { name: 'admin' } } })), { available: true, session: { user: { name: 'admin' } } });
  assert.deepEqual(await probe(() => ({ status: 401, body: { error: 'unauthenticated' } })), { available: true, session: null });
  // A static server: 404, or its page, or a 401 that is not the API's.
  assert.deepEqual(await probe(() => ({ status: 404, body: 'not found' })), { available: false, session: null });
  assert.deepEqual(await probe(() => ({ status: 401, body: 'go away' })), { available: false, session: null });
  assert.deepEqual(await probe(() => { throw new TypeError('offline'); }), { available: false, session: null });
});

test('uploadMode: stream only over HTTP/2 or HTTP/3 with request streams, unless forced', () => {
  const mode = (o) => uploadMode({ forced: null, streams: true, protocol: 'http/1.1', ...o }).mode;
  assert.equal(mode({}), 'file');
  assert.equal(mode({ protocol: 'h2' }), 'stream');
  assert.equal(mode({ protocol: 'h3' }), 'stream');
  assert.equal(mode({ protocol: '' }), 'file');
  assert.equal(mode({ protocol: 'h2', streams: false }), 'file');
  assert.equal(mode({ forced: 'stream' }), 'stream');
  assert.equal(mode({ forced: 'stream', streams: false }), 'file', 'a browser without request streams cannot be forced');
  assert.equal(mode({ forced: 'file', protocol: 'h2' }), 'file');
  assert.equal(uploadMode({ streams: true, protocol: '' }).reason, 'slow_connection');
  assert.equal(uploadMode({ streams: true, protocol: 'h2' }).reason, 'fast_connection');
  assert.equal(uploadMode({ streams: false, protocol: 'h2' }).reason, 'no_streams');
  assert.equal(uploadMode({ forced: 'file', streams: true, protocol: 'h2' }).reason, 'forced');
  for (const r of ['forced', 'no_streams', 'fast_connection', 'slow_connection', 'stream_refused']) {
    assert.ok(CATALOGUES.en[`cloud.upload.why.${r}`] && CATALOGUES.ko[`cloud.upload.why.${r}`], `cloud.upload.why.${r}`);
  }
});

test('imageBody: min_disk from the virtual size unless suggested, non-empty properties', () => {
  const GIB = 1024 ** 3;
  const body = (o) => imageBody({ name: 'vm', format: 'qcow2', shape: null, props: [], virtualSize: 1, ...o });
  assert.deepEqual(body({}), { name: 'vm', disk_format: 'qcow2', container_format: 'bare', min_disk: 1, properties: {} });
  assert.equal(body({ virtualSize: GIB }).min_disk, 1);
  assert.equal(body({ virtualSize: GIB + 1 }).min_disk, 2);
  assert.equal(body({ format: 'raw' }).disk_format, 'raw');
  assert.equal(body({ format: 'qcow2-compressed' }).disk_format, 'qcow2');
  const edited = body({ shape: { min_disk: 0, min_ram: 512 }, virtualSize: 5 * GIB, props: [{ key: 'hw_disk_bus', value: 'sata' }, { key: 'os_distro', value: '' }, { key: 'x', value: null }, { key: '', value: 'y' }, { key: 'n', value: 3 }] });
  assert.equal(edited.min_disk, 0, 'the edited value, even 0');
  assert.equal(edited.min_ram, 512);
  assert.deepEqual(edited.properties, { hw_disk_bus: 'sata', n: '3' });
  assert.ok(!('min_ram' in body({ shape: { min_disk: 1, min_ram: null } })));
});

test('closestFlavor: at least as large in every dimension, then the closest', () => {
  const fl = [
    { id: 'a', name: 'a', vcpus: 1, ram: 512, disk: 10 }, { id: 'b', name: 'b', vcpus: 2, ram: 2048, disk: 20 },
    { id: 'c', name: 'c', vcpus: 2, ram: 4096, disk: 40 }, { id: 'd', name: 'd', vcpus: 8, ram: 2048, disk: 20 },
    { id: 'e', name: 'e', vcpus: 4, ram: 8192, disk: 80 },
  ];
  const pick = (w) => (closestFlavor(fl, w) || { id: null }).id;
  assert.deepEqual([pick({ vcpus: 1, ram: 0, disk: 1 }), pick({ vcpus: 2, ram: 2048, disk: 20 }), pick({ vcpus: 2, ram: 3000, disk: 20 }),
    pick({ vcpus: 3, ram: 1024, disk: 10 }), pick({ vcpus: 16, ram: 1024, disk: 10 })], ['a', 'b', 'c', 'd', null]);
  // The wanted shape never goes below the image's own minimums.
  assert.deepEqual(flavorWant({ flavor: { vcpus: 2, ram_mib: 1024, disk_gib: 4 }, minRam: 2048, minDisk: 1 }), { vcpus: 2, ram: 2048, disk: 4 });
  assert.deepEqual(flavorWant({ minDisk: 1 }), { vcpus: 1, ram: 0, disk: 1 });
});

test('serverBody: empty choices are left to Nova', () => {
  assert.deepEqual(serverBody({ name: '', imageId: 'i', flavorId: 'f', networkId: '', keyName: '', groups: [] }),
    { name: 'stackferry', image_id: 'i', flavor_id: 'f' });
  assert.deepEqual(serverBody({ name: 'vm', imageId: 'i', flavorId: 'f', networkId: 'n', keyName: 'k', groups: ['default'] }),
    { name: 'vm', image_id: 'i', flavor_id: 'f', network_id: 'n', key_name: 'k', security_groups: ['default'] });
});

test('serverBody: volumes in the given order; a boot volume replaces the image', () => {
  const data = { id: 'v-data', boot: false, delete_on_termination: false };
  assert.deepEqual(serverBody({ name: 'vm', imageId: 'i', flavorId: 'f', volumes: [data] }),
    { name: 'vm', image_id: 'i', flavor_id: 'f', volumes: [data] });
  const body = serverBody({ name: 'vm', imageId: 'i', flavorId: 'f', volumes: [{ id: 'v-boot', boot: true, delete_on_termination: 1 }, { id: 'v2' }] });
  assert.deepEqual(body, {
    name: 'vm', flavor_id: 'f',
    volumes: [{ id: 'v-boot', boot: true, delete_on_termination: true }, { id: 'v2', boot: false, delete_on_termination: false }],
  });
  assert.ok(!('image_id' in body), 'no image with a boot volume');
  assert.ok(!('volumes' in serverBody({ name: 'vm', imageId: 'i', flavorId: 'f', volumes: [] })), 'no volumes: the key is left out');
});

test('the Cinder and quota calls: their paths, methods and bodies', async () => {
  const { api, calls } = client(() => ({ body: { ok: true } }));
  await api.volumeTypes();
  await api.limits();
  await api.stores();
  await api.createVolume({ name: 'vm-disk2', image_id: 'img', size_gib: 2, volume_type: null });
  await api.volume('vol-1');
  await api.deleteVolume('vol-1');
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url.slice(BASE.length)}`),
    ['GET volume-types', 'GET limits', 'GET stores', 'POST volumes', 'GET volumes/vol-1', 'DELETE volumes/vol-1']);
  assert.equal(calls[3].body, '{"name":"vm-disk2","image_id":"img","size_gib":2,"volume_type":null}');
  assert.equal(calls[3].headers['X-Stackferry'], '1');
  assert.equal(calls[5].headers['X-Stackferry'], '1');
  assert.equal(calls[4].headers['X-Stackferry'], undefined);
});

/**
 * The error codes the edge worker can answer with (`{error: <code>}`), read from its source
 * (tests left out): `ApiError::new(status, "code", …)`, `Self::new(status, "code", …)` in its
 * constructors, `forbidden("code", …)` and the upstream status mapping `=> (status, "code")`.
 */
function workerErrorCodes() {
  const codes = new Set();
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.rs') ? [path.join(dir, d.name)] : []));
  for (const file of walk(WORKER_SRC)) {
    const src = fs.readFileSync(file, 'utf8').split('#[cfg(test)]')[0];
    const patterns = [
      /(?:ApiError|Self)::new\(\s*\w+,\s*"([a-z_]+)"/g,
      /forbidden\(\s*"([a-z_]+)"/g,
      /=>\s*\(\s*\w+,\s*"([a-z_]+)"\s*\)/g,
    ];
    for (const re of patterns) for (const m of src.matchAll(re)) codes.add(m[1]);
  }
  return codes;
}

test('every error code the edge worker sends has a plain sentence in both catalogues', () => {
  const codes = workerErrorCodes();
  // The extraction finds the codes the page's flows meet (a wrong password, an expired session,
  // quota, Glance refusing the image, a lost connection to OpenStack, the login limit).
  for (const c of ['unauthorized', 'session_expired', 'no_session', 'forbidden', 'too_large', 'unsupported_media_type', 'upstream_unreachable', 'too_many_attempts', 'csrf', 'no_endpoint', 'upload_aborted']) {
    assert.ok(codes.has(c), `${c} found in edge-worker/src (found: ${[...codes].join(', ')})`);
  }
  assert.ok(codes.size >= 20, `codes found: ${[...codes].join(', ')}`);
  // And the client's own: no network, an aborted upload, an answer that is not the API's.
  for (const c of [...codes, 'network', 'aborted', 'http', 'unknown']) {
    // The staged uploads' codes have theirs under `staged.api.` (openstack/staged.js; apiMessage looks there too).
    const key = /^(staged_|staging_|signed_url_)/.test(c) ? `staged.api.${c}` : `api.${c}`;
    for (const l of ['en', 'ko']) assert.ok(typeof CATALOGUES[l][key] === 'string', `${l}: ${key}`);
  }
});

test('a staged route\'s error code reads as its staged.api sentence', () => {
  setLang('en');
  const m = apiMessage(new ApiError(403, { error: 'staged_token_expired', detail: 'the upload token is older than STAGING_MAX_AGE_SECONDS' }));
  assert.equal(typeof CATALOGUES.en['staged.api.staged_token_expired'], 'string');
  assert.equal(m.text, CATALOGUES.en['staged.api.staged_token_expired']);
  assert.match(m.details, /^staged_token_expired: the upload token is older/);
});

test('apiMessage: the plain sentence in the page\'s language, the worker\'s words as details', () => {
  try {
    const e = new ApiError(401, { error: 'unauthorized', detail: 'The request you have made requires authentication.', upstream_status: 401 });
    setLang('en');
    const en = apiMessage(e);
    assert.equal(en.code, 'unauthorized');
    assert.equal(en.text, CATALOGUES.en['api.unauthorized']);
    assert.match(en.text, /password/);
    assert.equal(en.details, 'unauthorized: The request you have made requires authentication. (OpenStack answered HTTP 401)');
    setLang('ko');
    const ko = apiMessage(e);
    assert.equal(ko.text, CATALOGUES.ko['api.unauthorized']);
    assert.match(ko.text, /비밀번호/);
    assert.equal(ko.details, en.details, 'the details stay the worker\'s words');
    assert.match(apiMessage(new ApiError(500, '<html>')).text, /HTTP 500/, 'a page that is not the API\'s: its status');
    assert.equal(apiMessage(new ApiError(400, { error: 'surely_new_code', detail: 'x' })).text, CATALOGUES.ko['api.unknown']);
    assert.ok(apiMessage(new ApiError(409, { error: 'conflict', detail: 'x', image_deleted: true })).text.endsWith(CATALOGUES.ko['api.image_deleted']));
    const core = apiMessage({ kind: 'upload', file: 'd.qcow2', offset: 4096, message: 'stopped' });
    assert.equal(core.details, 'upload: d.qcow2: offset 4096 (0x1000): stopped');
  } finally {
    setLang('en');
  }
});

test('a console URL becomes a link only if it is http: or https:', async () => {
  const { safeConsoleUrl } = await import('../../src/openstack/launch.js');
  assert.equal(safeConsoleUrl('https://nova.example:6080/vnc_auto.html?token=x'), 'https://nova.example:6080/vnc_auto.html?token=x');
  assert.equal(safeConsoleUrl('http://127.0.0.1:6080/'), 'http://127.0.0.1:6080/');
  for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<script>x</script>', 'vbscript:x', 'ws://h/', '/relative', '', null]) {
    assert.equal(safeConsoleUrl(bad), null, String(bad));
  }
});
