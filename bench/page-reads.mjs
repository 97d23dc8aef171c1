// How often the page's converter reads the dropped file synchronously, and how much: a copy of
// web/dist whose wasm-bindgen glue logs every `Blob.slice` the core's page source makes (each
// is one `FileReaderSync` read: bench/file-reads.mjs says what one costs), then one VMDK →
// QCOW2 conversion in headless Chromium. Prints the reads of the converter worker while the
// page inspects the file and while it converts it (planning included), by size. A measurement
// for bench/RESULTS.md, not a test.
//
// usage: node bench/page-reads.mjs [DIST=web/dist] VMDK
import { chromium } from 'playwright-core';
import { serve } from '../web/serve.mjs';
import { ARGS, CHROMIUM } from '../web/bench.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const [dist, src] = args.length > 1 ? args.map((a) => path.resolve(a)) : [path.resolve('web/dist'), path.resolve(args[0] || '')];
if (!fs.existsSync(path.join(dist, 'pkg/stackferry.js')) || !fs.existsSync(src)) {
  console.error('usage: node bench/page-reads.mjs [DIST=web/dist] VMDK');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'page-reads-'));
const copy = path.join(tmp, 'dist');
fs.cpSync(dist, copy, { recursive: true });
const glue = path.join(copy, 'pkg/stackferry.js');
const text = fs.readFileSync(glue, 'utf8');
const at = /(const ret = arg0\.slice\(arg1, arg2\);)/;
if (!at.test(text)) throw new Error(`no Blob.slice import in ${glue}`);
fs.writeFileSync(glue, text.replace(at, "$1 if (self.name === 'converter') console.log(`READ ${arg1} ${arg2 - arg1}`);"));

const server = await serve(copy);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
const phases = { inspect: [], convert: [] };
let phase = 'inspect';
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    const r = /^READ (\d+) (\d+)$/.exec(m.text());
    if (r) phases[phase].push(Number(r[2]));
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.locator('[data-testid=file-input]').setInputFiles([src]);
  await page.waitForFunction(() => Number(document.body.dataset.inspected || 0) > 0);
  phase = 'convert';
  await page.locator('[data-testid=convert-button]').click();
  await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state), null, { timeout: 3600e3, polling: 200 });
  console.log(`${path.basename(src)}, ${dist}:`);
  console.log('| phase | synchronous reads | bytes | under 4 KiB | 4 KiB-1 MiB | 4 MiB blocks |\n|---|---|---|---|---|---|');
  for (const [p, sizes] of Object.entries(phases)) {
    const n = (f) => sizes.filter(f).length;
    console.log(`| ${p} | ${sizes.length} | ${sizes.reduce((a, b) => a + b, 0)} | ${n((s) => s < 4096)} | ${n((s) => s >= 4096 && s < 1 << 20)} | ${n((s) => s >= 4 << 20)} |`);
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
