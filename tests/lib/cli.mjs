// Native tools the tests check outputs with.
//   CLI                 the stackferry CLI: STACKFERRY_CLI, else the debug build (`cargo test`
//                       and web/test.sh build it), else a release one (`npm run build`)
//   formatInspector(f)  OpenStack's own image check of a file (tests/format-inspector/check.py,
//                       the Python of `scripts/ensure.sh format-inspector`): {format, virtual_size,
//                       safe, error}
//   sha512File(f)       the SHA-512 (hex) of a file, read as a stream: no whole file in memory
//                       and no blocked process (tests run side by side in one)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CLI = process.env.STACKFERRY_CLI
  || ['target/debug/stackferry', 'target/release/stackferry'].map((p) => path.join(ROOT, p)).find((p) => fs.existsSync(p));

export function formatInspector(file) {
  const out = execFileSync(path.join(ROOT, 'target/format-inspector/bin/python'),
    [path.join(ROOT, 'tests/format-inspector/check.py'), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out);
}

export async function sha512File(file) {
  const h = crypto.createHash('sha512');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest('hex');
}
