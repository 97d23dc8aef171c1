// The native stackferry CLI for tests: STACKFERRY_CLI, else the debug build (`cargo test` and
// web/test.sh build it), else a release one (`npm run build`). Undefined when none is built.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CLI = process.env.STACKFERRY_CLI
  || ['target/debug/stackferry', 'target/release/stackferry'].map((p) => path.join(ROOT, p)).find((p) => fs.existsSync(p));
