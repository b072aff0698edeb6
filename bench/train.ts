/**
 * `npm run bench:train`: training and inference throughput of the lab book's MNIST CNN — float, the
 * hand-quantized QModel and the model_quantize twin — on the selected backend, batch 128, measured in one
 * run so the ratios (quantized / float) are meaningful on a noisy machine. Real MNIST batches; the first
 * batches are warm-up (kernel setup, optimizer slots). Writes bench/results/train.json.
 *
 * Every case is measured in interleaved rounds (one repetition of each in turn) so load changes on the
 * shared machine hit all alike. Environment: BENCH_STEPS (steps per repetition, 8), BENCH_REPS (5),
 * BENCH_MODELS (comma-separated name filters), BENCH_COMPARE_CHAIN=1 (also train the quantized models
 * with the fused quantizer kernels off, in the same rounds), BENCH_COMPARE_GEMM=1 (also train every model
 * with the training kernels' GEMM routes off), BENCH_COMPARE_INPUT_GRAD=1 (also train every model by plain
 * trainOnBatch, computing the first layer's input gradient that fitModel skips), QKERAS_WASM_THREADS / QKERAS_FUSED (see
 * src/backend/index.ts and src/quantizers/fused.ts). Also prints the full lab book time these rates imply.
 *
 * Profile mode (`npm run bench:train -- --profile`, or BENCH_PROFILE=1) skips the throughput table and
 * prints, per model, where a training step's and an inference batch's time goes: wall time, time inside
 * backend kernels by kernel name and by (kernel, output shape), time outside kernels (engine, tape, JS),
 * and each layer's forward time. Writes bench/results/train-profile.json.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { setGemmRoutesEnabled } from '../src/backend/kernels/gemm-routes.js';
import { wasmThreadsInUse } from '../src/backend/wasm-threads.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import {
  compileForMnist,
  createFloatModel,
  createQModel,
  LABBOOK_ACTIVATION_BITS,
  LABBOOK_QUANTIZE_CONFIG,
  MNIST_INPUT_SHAPE,
} from '../src/models/labbook.js';
import { applyWeightConstraints } from '../src/layers/constraints.js';
import { withWeightGradientStep } from '../src/layers/weight-gradient-step.js';
import { setFusedKernelsEnabled } from '../src/quantizers/fused.js';
import { setSeed, withLearningPhase } from '../src/quantizers/phase.js';
import { modelQuantize } from '../src/utils/model-quantize.js';
import { printTable, writeResult } from './harness.js';
import { measureInterleaved } from './interleaved.js';
import { byKernel, formatBuckets, installKernelTimer, startKernelTimer, stopKernelTimer, type KernelBucket } from './kernel-timer.js';

const BATCH = 128;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);

const backend = await ready();
setSeed(1);
const mnist = loadMnist();
const data = prepareSplit(mnist.train, trainingMean(mnist.train), 0, BATCH * 4);
const batches = [0, 1, 2, 3].map((b) =>
  tf.tidy(() => ({
    x: tf.keep(tf.tensor(data.x.subarray(b * BATCH * 784, (b + 1) * BATCH * 784), [BATCH, ...MNIST_INPUT_SHAPE])),
    y: tf.keep(tf.tensor(data.y.subarray(b * BATCH * 10, (b + 1) * BATCH * 10), [BATCH, 10])),
  })),
);

const models: Array<[string, () => tf.LayersModel]> = [
  ['float CNN', createFloatModel],
  ['QModel (lab book run 2)', createQModel],
  ['model_quantize config (run 3)', () => modelQuantize(createFloatModel(), LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS)],
];

const PROFILE = process.argv.includes('--profile') || process.env.BENCH_PROFILE === '1';
const ONLY = process.env.BENCH_MODELS?.split(',').map((s) => s.trim());
const selected = ONLY ? models.filter(([name]) => ONLY.some((o) => name.toLowerCase().includes(o.toLowerCase()))) : models;

/** Wraps each layer's `call` to add its wall time (forward only, inclusive) to `times`. */
function timeLayers(model: tf.LayersModel, times: Map<string, number>): () => void {
  const restore: Array<() => void> = [];
  for (const layer of model.layers) {
    const original = layer.call.bind(layer);
    const patched = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => {
      const t0 = performance.now();
      try {
        return original(inputs, kwargs);
      } finally {
        times.set(layer.name, (times.get(layer.name) ?? 0) + performance.now() - t0);
      }
    };
    layer.call = patched as typeof layer.call;
    restore.push(() => {
      layer.call = original as typeof layer.call;
    });
  }
  return () => restore.forEach((r) => r());
}

interface PhaseProfile {
  wallMs: number;
  kernelMs: number;
  kernelCalls: number;
  layersMs: Record<string, number>;
  kernels: KernelBucket[];
  buckets: KernelBucket[];
}

async function profilePhase(label: string, model: tf.LayersModel, steps: number, fn: () => Promise<void> | void): Promise<PhaseProfile> {
  await fn(); // warm-up outside the timer
  const layerTimes = new Map<string, number>();
  const restore = timeLayers(model, layerTimes);
  startKernelTimer();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await fn();
  const wallMs = (performance.now() - t0) / steps;
  const rows = stopKernelTimer();
  restore();
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0) / steps;
  const kernelCalls = rows.reduce((s, r) => s + r.calls, 0) / steps;
  const layersMs = Object.fromEntries([...layerTimes].map(([k, v]) => [k, v / steps]));
  console.log(`\n${label}: ${wallMs.toFixed(1)} ms/batch wall (${((BATCH * 1000) / wallMs).toFixed(0)} samples/s), ` +
    `${kernelMs.toFixed(1)} ms in ${kernelCalls} kernel calls, ${(wallMs - kernelMs).toFixed(1)} ms outside kernels`);
  console.log(`  layer forward (inclusive): ${Object.entries(layersMs).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  console.log(formatBuckets('by kernel', byKernel(rows), steps, 18));
  console.log(formatBuckets('by kernel and output shape', rows, steps, 25));
  return { wallMs, kernelMs, kernelCalls, layersMs, kernels: byKernel(rows), buckets: rows };
}

if (PROFILE) {
  installKernelTimer();
  const profiles: Record<string, { train: PhaseProfile; predict: PhaseProfile }> = {};
  for (const [name, make] of selected) {
    const model = make();
    compileForMnist(model, 0.001);
    let step = 0;
    const trainStep = async () => {
      const b = batches[step++ % batches.length]!;
      await withWeightGradientStep(model, () => withLearningPhase(1, () => model.trainOnBatch(b.x, b.y)));
      applyWeightConstraints(model);
    };
    const infer = () => {
      const b = batches[step++ % batches.length]!;
      tf.tidy(() => (model.predict(b.x) as tf.Tensor).dataSync());
    };
    const train = await profilePhase(`train step: ${name}`, model, STEPS, trainStep);
    const predict = await profilePhase(`predict: ${name}`, model, STEPS, infer);
    profiles[name] = { train, predict };
    model.dispose();
  }
  writeResult('bench/results/train-profile.json', { backend, batch: BATCH, steps: STEPS, profiles, date: new Date().toISOString() });
  process.exit(0);
}

const REPETITIONS = Number(process.env.BENCH_REPS ?? 5);
// BENCH_COMPARE_CHAIN=1 adds each quantized model once more with the fused quantizer kernels switched off
// (their op chains), measured in the same interleaved rounds: the same-run effect of the fused kernels.
const compareChain = process.env.BENCH_COMPARE_CHAIN === '1';
// BENCH_COMPARE_GEMM=1 adds each model once more with the training kernels' GEMM routes switched off
// (src/backend/kernels/gemm-routes.ts): the forward-conv filter gradient instead of the blocked SIMD kernel
// (filter-grad-direct.ts), Transpose + GEMM instead of row updates for xᵀ·dy.
const compareGemm = process.env.BENCH_COMPARE_GEMM === '1';
// BENCH_COMPARE_INPUT_GRAD=1 adds each model once more trained by plain trainOnBatch, which also computes the
// first layer's input gradient (fitModel's steps skip it: src/layers/weight-gradient-step.ts).
const compareInputGrad = process.env.BENCH_COMPARE_INPUT_GRAD === '1';
const variants = selected.flatMap(([name, make]) => [
  { name, make, fused: true, gemm: true, weightStep: true },
  ...(compareChain && !name.startsWith('float') ? [{ name: `${name} [op chains]`, make, fused: false, gemm: true, weightStep: true }] : []),
  ...(compareGemm ? [{ name: `${name} [no GEMM routes]`, make, fused: true, gemm: false, weightStep: true }] : []),
  ...(compareInputGrad ? [{ name: `${name} [input gradient]`, make, fused: true, gemm: true, weightStep: false }] : []),
]);
const built = variants.map(({ name, make, fused, gemm, weightStep }) => {
  const model = make();
  compileForMnist(model, 0.001);
  let step = 0;
  const trainStep = async () => {
    const b = batches[step++ % batches.length]!;
    const previous = setFusedKernelsEnabled(fused);
    const previousGemm = setGemmRoutesEnabled(gemm);
    try {
      const run = () => withLearningPhase(1, () => model.trainOnBatch(b.x, b.y));
      await (weightStep ? withWeightGradientStep(model, run) : run());
    } finally {
      setFusedKernelsEnabled(previous);
      setGemmRoutesEnabled(previousGemm);
    }
    applyWeightConstraints(model);
  };
  // model.predict's default batch size is 32: each call runs 4 batches of 32 (as measured before the speed
  // work), so the weight quantizers run 4 times per 128 samples.
  const infer = () => {
    const b = batches[step++ % batches.length]!;
    const previous = setFusedKernelsEnabled(fused);
    try {
      tf.tidy(() => {
        (model.predict(b.x) as tf.Tensor).dataSync();
      });
    } finally {
      setFusedKernelsEnabled(previous);
    }
  };
  return { name, model, trainStep, infer };
});
const memory: Record<string, { before: number; after: number }> = {};
for (const m of built) await m.trainStep(); // optimizer slots, kernel setup
const tensorsBefore = tf.memory().numTensors;
const training = await measureInterleaved(built.map((m) => ({ name: `train: ${m.name}`, fn: m.trainStep })), REPETITIONS, STEPS, BATCH);
const tensorsAfter = tf.memory().numTensors;
memory['all models'] = { before: tensorsBefore, after: tensorsAfter };
const inference = await measureInterleaved(built.map((m) => ({ name: `predict: ${m.name}`, fn: m.infer })), REPETITIONS, STEPS, BATCH);
for (const m of built) m.model.dispose();

/** The full lab book (float 3 epochs, QModel 10, model_quantize 10, on 60,000 images) at these rates. */
function labbookMinutes(): number | null {
  const rate = (needle: string) => training.find((t) => t.name.includes(needle) && !t.name.includes('['))?.rate;
  const [float, q, twin] = [rate('float'), rate('QModel'), rate('model_quantize')];
  if (!float || !q || !twin) return null;
  return (60000 * (3 / float + 10 / q + 10 / twin)) / 60;
}

const threads = wasmThreadsInUse();
console.log(`backend ${backend} (${threads} thread${threads > 1 ? 's' : ''}), batch ${BATCH}, ${STEPS} steps x ${REPETITIONS} interleaved repetitions (median)`);
printTable('training throughput (ratio vs float)', training);
printTable('inference throughput (ratio vs float)', inference);
for (const [name, m] of Object.entries(memory)) {
  console.log(`tensors during training of ${name}: ${m.before} -> ${m.after}${m.after === m.before ? ' (flat)' : ' (GROWING)'}`);
}
const minutes = labbookMinutes();
if (minutes !== null) console.log(`full lab book at these training rates: ${minutes.toFixed(1)} min (training only; plus ~1 min data and evaluation)`);
writeResult('bench/results/train.json', {
  backend,
  threads,
  fusedQuantizerKernels: process.env.QKERAS_FUSED ?? 'on',
  batch: BATCH,
  training,
  inference,
  quantizedOverFloat: training.slice(1).map((t) => ({ name: t.name, ratio: t.rate / training[0]!.rate })),
  memory,
  labbookTrainingMinutes: minutes,
  date: new Date().toISOString(),
});
