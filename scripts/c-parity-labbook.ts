/**
 * The lab-book models as emitted C on the full MNIST test set: trains the QModel and the model_quantize
 * model briefly on real MNIST (runLabbook), lowers each with the input quantizer, and compares the c
 * engine (emitted C, built with the strict flags) with the ir engine (golden integer model) on all 10,000
 * test images, value by value; also the c engine with the tfjs engine.
 *
 *   npx tsx scripts/c-parity-labbook.ts [--train 2000] [--epochs 1] [--test 10000] [--input-quantizer "quantized_bits(16,0,1)"] [--no-tfjs]
 *
 * Exits 1 if any value differs. The ir engine interprets ~150-200 images/s here, so a full run takes minutes.
 */
import { ready } from '../src/backend/index.js';
import { runLabbook, type LabbookRun } from '../src/train/labbook.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import { LoadedModel, irEngine, tfjsEngine } from '../src/engines/index.js';
import { cEngine } from '../src/engines/c.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

function differences(a: readonly number[][], b: readonly number[][]): { values: number; differ: number; images: number } {
  let values = 0;
  let differ = 0;
  let images = 0;
  a.forEach((row, k) => {
    let d = false;
    row.forEach((v, j) => {
      values += 1;
      if (v !== b[k]![j]) {
        differ += 1;
        d = true;
      }
    });
    if (d) images += 1;
  });
  return { values, differ, images };
}

await ready();
const trainCount = Number(flag('train', '2000'));
const epochs = Number(flag('epochs', '1'));
const testCount = Number(flag('test', '10000'));
const inputQuantizer = flag('input-quantizer', 'quantized_bits(16,0,1)');
const withTfjs = !process.argv.includes('--no-tfjs');
const runs: LabbookRun[] = ['qmodel', 'quantize'];

const results = await runLabbook({ runs, epochs, trainCount, testCount: 1000, seed: 1, log: (line) => console.log(line) });
const mnist = loadMnist();
const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, testCount);
const xs = Array.from({ length: test.count }, (_, k) => Array.from(test.x.subarray(k * 784, (k + 1) * 784)));
let failed = false;

for (const r of results) {
  const lm = new LoadedModel(r.run, r.model, inputQuantizer);
  lm.lowered();
  const t0 = performance.now();
  const c = await cEngine.predict(lm, xs);
  const tC = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const ir = await irEngine.predict(lm, xs);
  const tIr = (performance.now() - t1) / 1000;
  const vsIr = differences(c, ir);
  let line = `${r.run}: ${test.count} images, ${vsIr.values} logits: c vs ir ${vsIr.differ} differ (${vsIr.images} images)`;
  if (vsIr.differ > 0) failed = true;
  if (withTfjs) {
    const tf = await tfjsEngine.predict(lm, xs, { batchSize: 500 });
    const vsTf = differences(c, tf);
    line += `; c vs tfjs ${vsTf.differ} differ (${vsTf.images} images)`;
    if (vsTf.differ > 0) failed = true;
  }
  const correct = c.filter((o, k) => o.indexOf(Math.max(...o)) === test.labels[k]).length;
  console.log(`${line}; accuracy ${(correct / test.count).toFixed(4)}; c engine ${tC.toFixed(1)} s (emit, build, run), ir ${tIr.toFixed(1)} s`);
}
process.exit(failed ? 1 : 0);
