/**
 * `npm run bench [suite...]`: runs the named benchmark suites (all by default), each in its own process so
 * one suite's memory and JIT state do not colour the next. Suites: train, kernels, c (when present).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const all = ['train', 'kernels', 'c'].filter((s) => existsSync(join(here, `${s}.ts`)));
const wanted = process.argv.slice(2);
for (const s of wanted) {
  if (!all.includes(s)) {
    console.error(`unknown bench suite ${JSON.stringify(s)}; available: ${all.join(', ')}`);
    process.exit(1);
  }
}
let failed = false;
for (const suite of wanted.length ? wanted : all) {
  console.log(`\n=== bench: ${suite}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${suite}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
