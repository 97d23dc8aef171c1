// An HTTP/2 TLS front for workerd, as Cloudflare or a TLS proxy would be: Chromium streams a
// request body only over HTTP/2 or HTTP/3. Shared by the page's OpenStack tests
// (web/tests/openstack.test.mjs) and the page benchmark's streamed-upload case (web/bench.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1, its files written into `dir`. */
function selfSigned(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/**
 * Flow-control windows the front advertises. With HTTP/2's default (64 KiB, which Node keeps)
 * the browser may send only 64 KiB of a streamed body before the front's WINDOW_UPDATE comes
 * back: the page bench's 2.4 GB upload took 62-69 s, Chromium's network thread 14-16 CPU s;
 * with these windows 49 s and 9-10 CPU s (web/bench.mjs, upload case, 2 runs each). A front
 * for uploads grants more than the default; how much is the deployment's setting.
 */
const STREAM_WINDOW = 4 << 20;
const SESSION_WINDOW = 8 << 20;

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'http2-settings', 'host']);

/**
 * An HTTP/2-only TLS server on 127.0.0.1 passing every stream on to `target` (an http:// base)
 * over HTTP/1.1; its certificate goes into `dir`. Resolves to {server, stats, base}:
 * `stats.streamedPuts` counts PUTs without Content-Length (streamed bodies).
 */
export async function h2Proxy(target, dir) {
  const t = new URL(target);
  const server = http2.createSecureServer({
    ...selfSigned(dir),
    allowHTTP1: false,
    settings: { initialWindowSize: STREAM_WINDOW },
    // Megabytes: what the windows let the browser send ahead is held here until passed on.
    maxSessionMemory: 64,
  });
  server.on('session', (session) => session.setLocalWindowSize(SESSION_WINDOW));
  const stats = { streamedPuts: 0 };
  server.on('stream', (stream, headers) => {
    const h = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && !HOP.has(k)) h[k] = v;
    // The Host the browser used, as a reverse proxy passes it on (the worker compares it with Origin).
    h.host = headers[':authority'] || t.host;
    const method = headers[':method'];
    if (method === 'PUT' && !h['content-length']) stats.streamedPuts++;
    const up = http.request({ host: t.hostname, port: t.port, method, path: headers[':path'], headers: h }, (res) => {
      const rh = { ':status': res.statusCode };
      for (const [k, v] of Object.entries(res.headers)) if (!HOP.has(k)) rh[k] = v;
      if (stream.destroyed || stream.closed) {
        res.resume();
        return;
      }
      try {
        stream.respond(rh);
      } catch {
        res.resume();
        return;
      }
      res.pipe(stream);
    });
    up.on('error', () => { try { stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR); } catch { /* gone */ } });
    stream.on('error', () => up.destroy());
    stream.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, stats, base: `https://127.0.0.1:${server.address().port}/` };
}
