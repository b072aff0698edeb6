/**
 * The lab-book models on the full MNIST test set: trains the QModel and the model_quantize model briefly
 * on real MNIST (runLabbook), lowers each with the input quantizer, and compares the ir engine (golden
 * integer model) with the tfjs engine on all 10,000 test images, value by value. Also reports how the
 * input quantizer changes predictions against the raw float input, and both accuracies.
 *
 *   npx tsx scripts/ir-parity-labbook.ts [--train 2000] [--epochs 1] [--test 10000] [--input-quantizer "quantized_bits(16,0,1)"]
 *
 * Exits 1 if any value differs.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { runLabbook, type LabbookRun } from '../src/train/labbook.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import { LoadedModel, irEngine, logitsModel, tfjsEngine } from '../src/engines/index.js';
import { MNIST_INPUT_SHAPE } from '../src/models/labbook.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < v.length; j += 1) if (v[j]! > v[best]!) best = j;
  return best;
}

await ready();
const trainCount = Number(flag('train', '2000'));
const epochs = Number(flag('epochs', '1'));
const testCount = Number(flag('test', '10000'));
const inputQuantizer = flag('input-quantizer', 'quantized_bits(16,0,1)');
const runs: LabbookRun[] = ['qmodel', 'quantize'];

const log = (line: string): void => console.log(line);
const results = await runLabbook({ runs, epochs, trainCount, testCount: 1000, seed: 1, log });
const mnist = loadMnist();
const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, testCount);
const xs = Array.from({ length: test.count }, (_, k) => Array.from(test.x.subarray(k * 784, (k + 1) * 784)));
let failed = false;

for (const r of results) {
  const lm = new LoadedModel(r.run, r.model, inputQuantizer);
  const t0 = performance.now();
  const lowered = lm.lowered();
  const tLower = performance.now() - t0;
  const t1 = performance.now();
  const want = await tfjsEngine.predict(lm, xs, { batchSize: 500 });
  const tTfjs = performance.now() - t1;
  const t2 = performance.now();
  const got = await irEngine.predict(lm, xs);
  const tIr = performance.now() - t2;
  let samplesDiffer = 0;
  let valuesDiffer = 0;
  let values = 0;
  got.forEach((g, k) => {
    let differs = false;
    g.forEach((v, j) => {
      values += 1;
      if (v !== want[k]![j]) {
        valuesDiffer += 1;
        differs = true;
      }
    });
    if (differs) samplesDiffer += 1;
  });
  // The raw float input (no input quantizer), to show what quantizing the input changes.
  const raw = tf.tidy(() => {
    const y = logitsModel(r.model).predict(tf.tensor(test.x, [test.count, ...MNIST_INPUT_SHAPE])) as tf.Tensor;
    return Array.from(tf.argMax(y, 1).dataSync());
  });
  const irClass = got.map(argmax);
  const agree = irClass.filter((c, k) => c === raw[k]).length;
  const accIr = irClass.filter((c, k) => c === test.labels[k]).length / test.count;
  const accRaw = raw.filter((c, k) => c === test.labels[k]).length / test.count;
  console.log(
    `${r.run}: ${test.count} images, ${values} logits: ${valuesDiffer} differ (${samplesDiffer} images); ` +
      `float32 warnings ${lowered.warnings.length}; accumulators ${lowered.final.proofs.map((p) => `${p.node}:${p.recorded?.width}b`).join(' ')}`,
  );
  console.log(
    `  accuracy with ${inputQuantizer} input ${(accIr * 100).toFixed(2)}%, raw float input ${(accRaw * 100).toFixed(2)}%; ` +
      `same class as the raw input on ${agree}/${test.count}`,
  );
  console.log(`  lowering ${(tLower / 1000).toFixed(1)} s, tfjs ${(tTfjs / 1000).toFixed(1)} s, ir ${(tIr / 1000).toFixed(1)} s (${(tIr / test.count).toFixed(2)} ms/image)`);
  if (valuesDiffer > 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
