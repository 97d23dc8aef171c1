// The page the file-reading measurements run in (bench/file-reads.mjs, bench/read-blocks.mjs):
// `dir` (an index.html with an `<input type=file id=f>` and its scripts) served on 127.0.0.1
// and opened in headless Chromium as the bench runs it, `file` put into the input; then
// `fn(page)`. Everything is closed and `dir` removed afterwards, whatever `fn` did.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { serve } from '../web/serve.mjs';
import { ARGS, CHROMIUM } from '../web/bench.mjs';

export async function withFilePage(dir, file, fn) {
  const server = await serve(dir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.locator('#f').setInputFiles([file]);
    return await fn(page);
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
