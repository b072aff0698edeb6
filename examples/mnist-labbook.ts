/**
 * The QKeras lab book on real MNIST: float CNN (3 epochs), QModel (10 epochs), model_quantize config
 * (10 epochs, transferred float weights). Run with `npx tsx examples/mnist-labbook.ts [runs] [--epochs N]
 * [--train N] [--save DIR]`, e.g. `npx tsx examples/mnist-labbook.ts qmodel --epochs 1 --train 6000`.
 * `--save DIR` writes each trained model to `DIR/<run>/` (tfjs layers format, loadable by `loadQmodel` and the CLI).
 */
import { ready } from '../src/backend/index.js';
import { saveQmodel } from '../src/utils/save-load.js';
import { createProgress } from '../src/train/progress.js';
import { LABBOOK_RUNS, runLabbook, type LabbookRun } from '../src/train/labbook.js';

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

function stringFlag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = process.argv.slice(2).filter((a) => (LABBOOK_RUNS as readonly string[]).includes(a)) as LabbookRun[];
const backend = await ready();
console.log(`backend: ${backend}`);
const results = await runLabbook({
  runs: runs.length ? runs : LABBOOK_RUNS,
  epochs: flag('--epochs'),
  trainCount: flag('--train'),
  progress: createProgress(),
  log: (line) => console.log(line),
});
console.log('\nrun        test accuracy   training time   ms/sample');
const saveDir = stringFlag('--save');
for (const r of results) {
  if (saveDir) await saveQmodel(r.model, `${saveDir}/${r.run}`);
  console.log(`${r.run.padEnd(10)} ${(r.testAccuracy * 100).toFixed(2).padStart(10)}%   ${r.seconds.toFixed(1).padStart(10)} s   ${r.msPerSample.toFixed(3).padStart(9)}`);
}
