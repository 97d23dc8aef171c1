// Native tools the tests check outputs with.
//   CLI                 the stackferry CLI: STACKFERRY_CLI, else the debug build (`cargo test`
//                       and web/test.sh build it), else a release one (`npm run build`)
//   formatInspector(f)  OpenStack's own image check of a file (tests/format-inspector/check.py,
//                       the Python of `scripts/ensure.sh format-inspector`): {format, virtual_size,
//                       safe, error}
import { execFileSync } from 'node:child_process';
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
