/**
 * `npm run bench:train-parallel`: training throughput of the lab book's MNIST CNNs (float, QModel,
 * model_quantize twin) with 1 thread (`model.trainOnBatch`, as fitModel trains by default) and with
 * data-parallel workers (src/train/data-parallel.ts: batch split across the main thread and worker threads),
 * batch 128, real MNIST batches, in the same run and in interleaved rounds so the ratios survive load
 * changes on a shared machine. Prints samples/s, the 2-thread / 1-thread ratio per model, the tensor count
 * before and after (must be flat), and the full lab book time these rates imply. Writes
 * bench/results/train-parallel.json.
 *
 * Environment: BENCH_WORKERS (threads of the parallel case, 2), BENCH_STEPS (steps per repetition, 8),
 * BENCH_REPS (5), BENCH_MODELS (comma-separated name filters).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import { applyWeightConstraints } from '../src/layers/constraints.js';
import { withWeightGradientStep } from '../src/layers/weight-gradient-step.js';
import {
  compileForMnist,
  createFloatModel,
  createQModel,
  LABBOOK_ACTIVATION_BITS,
  LABBOOK_QUANTIZE_CONFIG,
  MNIST_INPUT_SHAPE,
} from '../src/models/labbook.js';
import { setSeed, withLearningPhase } from '../src/quantizers/phase.js';
import { DataParallelTrainer, liveDataParallelWorkers } from '../src/train/data-parallel.js';
import { modelQuantize } from '../src/utils/model-quantize.js';
import { printTable, writeResult } from './harness.js';
import { measureInterleaved, type InterleavedCase } from './interleaved.js';

const BATCH = 128;
const BATCHES = 4;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const REPETITIONS = Number(process.env.BENCH_REPS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);

const loadBefore = loadavg()[0]!;
const backend = await ready();
setSeed(1);
const mnist = loadMnist();
const data = prepareSplit(mnist.train, trainingMean(mnist.train), 0, BATCH * BATCHES);
const xOf = (b: number) => data.x.subarray(b * BATCH * 784, (b + 1) * BATCH * 784);
const yOf = (b: number) => data.y.subarray(b * BATCH * 10, (b + 1) * BATCH * 10);
const batches = Array.from({ length: BATCHES }, (_, b) => ({
  x: tf.tensor(xOf(b), [BATCH, ...MNIST_INPUT_SHAPE]),
  y: tf.tensor(yOf(b), [BATCH, 10]),
}));

const models: Array<[string, () => tf.LayersModel]> = [
  ['float CNN', createFloatModel],
  ['QModel (lab book run 2)', createQModel],
  ['model_quantize config (run 3)', () => modelQuantize(createFloatModel(), LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS)],
];
const ONLY = process.env.BENCH_MODELS?.split(',').map((s) => s.trim());
const selected = ONLY ? models.filter(([name]) => ONLY.some((o) => name.toLowerCase().includes(o.toLowerCase()))) : models;

const cases: InterleavedCase[] = [];
const trainers: DataParallelTrainer[] = [];
const owned: tf.LayersModel[] = [];
for (const [name, make] of selected) {
  const single = make();
  compileForMnist(single, 0.001);
  let s = 0;
  cases.push({
    name: `${name} [1 thread]`,
    fn: async () => {
      const b = batches[s++ % BATCHES]!;
      // As fitModel trains with one thread (only the weights' gradients: weight-gradient-step.ts).
      await withWeightGradientStep(single, () => withLearningPhase(1, () => single.trainOnBatch(b.x, b.y)));
      applyWeightConstraints(single);
    },
  });
  const parallel = make();
  compileForMnist(parallel, 0.001);
  const trainer = await DataParallelTrainer.create(parallel, { workers: WORKERS, seed: 1 });
  let p = 0;
  cases.push({
    name: `${name} [${WORKERS} threads]`,
    fn: () => {
      const b = p++ % BATCHES;
      return trainer.trainOnBatch(xOf(b), yOf(b), MNIST_INPUT_SHAPE, BATCH);
    },
  });
  trainers.push(trainer);
  owned.push(single, parallel);
}


for (const c of cases) await c.fn();
const tensorsBefore = tf.memory().numTensors;
const training = await measureInterleaved(cases, REPETITIONS, STEPS, BATCH);
const tensorsAfter = tf.memory().numTensors;
await Promise.all(trainers.map((t) => t.dispose()));
owned.forEach((m) => m.dispose());

const rate = (needle: string, threads: string) => training.find((t) => t.name.includes(needle) && t.name.includes(threads))?.rate;
const ratios = selected.map(([name]) => ({ name, ratio: rate(name, `[${WORKERS} threads]`)! / rate(name, '[1 thread]')! }));
/** The full lab book (float 3 epochs, QModel 10, model_quantize 10, on 60,000 images) at these rates. */
function labbookMinutes(threads: string): number | null {
  const [float, q, twin] = [rate('float', threads), rate('QModel', threads), rate('model_quantize', threads)];
  if (!float || !q || !twin) return null;
  return (60000 * (3 / float + 10 / q + 10 / twin)) / 60;
}

const loadAfter = loadavg()[0]!;
console.log(`backend ${backend}, batch ${BATCH}, ${STEPS} steps x ${REPETITIONS} interleaved repetitions (median), data-parallel threads ${WORKERS}`);
// The second thread only helps when a core is free: a 1-minute load average near or above the core count
// (other processes) means the parallel rows measure contention, not this scheme.
console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (this run adds up to ${WORKERS})`);
printTable('training throughput (ratio vs the first row)', training);
for (const r of ratios) console.log(`${r.name}: ${WORKERS} threads / 1 thread = ${r.ratio.toFixed(2)}x`);
console.log(`tensors during training: ${tensorsBefore} -> ${tensorsAfter}${tensorsAfter === tensorsBefore ? ' (flat)' : ' (GROWING)'}`);
console.log(`worker threads alive after dispose: ${liveDataParallelWorkers()}`);
const minutes = { oneThread: labbookMinutes('[1 thread]'), parallel: labbookMinutes(`[${WORKERS} threads]`) };
if (minutes.oneThread !== null && minutes.parallel !== null) {
  console.log(`full lab book at these training rates: ${minutes.oneThread.toFixed(1)} min with 1 thread, ${minutes.parallel.toFixed(1)} min with ${WORKERS} (training only)`);
}
writeResult('bench/results/train-parallel.json', {
  backend,
  batch: BATCH,
  workers: WORKERS,
  training,
  ratios,
  memory: { before: tensorsBefore, after: tensorsAfter },
  loadAverage: { before: loadBefore, after: loadAfter },
  labbookTrainingMinutes: minutes,
  date: new Date().toISOString(),
});
