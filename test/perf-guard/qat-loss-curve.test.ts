/**
 * Guard for the training-speed work (issue 11 §3): the first steps of lab book training with fixed seeds
 * must give the same loss sequence, the same trained weights and the same inference outputs, to the bit,
 * as before any optimisation. The expected values were recorded from the unoptimised code (composite-op
 * quantizers, original kernels) into test/fixtures/qat-loss-curve.json; set RECORD_QAT_CURVE=1 to
 * re-record (only when a change of values is intended and explained).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { loadMnist, prepareSplit, trainingMean, type PreparedSplit } from '../../src/data/mnist.js';
import { applyWeightConstraints } from '../../src/layers/constraints.js';
import {
  compileForMnist,
  createFloatModel,
  createQModel,
  LABBOOK_ACTIVATION_BITS,
  LABBOOK_QUANTIZE_CONFIG,
  MNIST_INPUT_SHAPE,
} from '../../src/models/labbook.js';
import { setSeed, withLearningPhase } from '../../src/quantizers/phase.js';
import { fitModel } from '../../src/train/fit.js';
import { modelQuantize } from '../../src/utils/model-quantize.js';

const FIXTURE = new URL('../fixtures/qat-loss-curve.json', import.meta.url);
const RECORD = process.env.RECORD_QAT_CURVE === '1';
const BATCH = 64;
const STEPS = 6;

interface CurveRecord {
  /** tf.memory().numTensors after each step and after the fitModel epoch (not part of the fixture). */
  tensorCounts?: number[];
  /** Loss of each trainOnBatch step, as the float32 value tfjs returned. */
  losses: number[];
  /** FNV-1a over the float32 bits of every weight after the steps. */
  weightsHash: string;
  /** FNV-1a over the float32 bits of the inference outputs on one batch after the steps. */
  predictHash: string;
  /** A fitModel epoch over 4 batches after the steps: its mean loss and the weights hash after it. */
  fitLoss: number;
  fitWeightsHash: string;
}

function fnv1a(arrays: ArrayLike<number>[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const f = Float32Array.from(a as ArrayLike<number>);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < u.length; i++) {
      h = Math.imul(h ^ u[i]!, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

function weightsHash(model: tf.LayersModel): string {
  return fnv1a(model.getWeights().map((w) => w.dataSync()));
}

/** Seeded weights (glorot-uniform-like kernels, small uniform biases) so the run does not depend on Math.random. */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const values = model.getWeights().map((w, i) => {
    const shape = w.shape;
    const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    const fanOut = shape[shape.length - 1]!;
    const limit = shape.length > 1 ? Math.sqrt(6 / (fanIn + fanOut)) : 0.05;
    return tf.randomUniform(shape, -limit, limit, 'float32', seed + i);
  });
  model.setWeights(values);
  tf.dispose(values);
}

function batchTensors(data: PreparedSplit, b: number): { x: tf.Tensor; y: tf.Tensor } {
  return {
    x: tf.tensor(data.x.subarray(b * BATCH * 784, (b + 1) * BATCH * 784), [BATCH, ...MNIST_INPUT_SHAPE]),
    y: tf.tensor(data.y.subarray(b * BATCH * 10, (b + 1) * BATCH * 10), [BATCH, 10]),
  };
}

function predictBatch(model: tf.LayersModel, data: PreparedSplit): string {
  const { x, y } = batchTensors(data, 4);
  const hash = tf.tidy(() => fnv1a([withLearningPhase(0, () => model.predict(x) as tf.Tensor).dataSync()]));
  tf.dispose([x, y]);
  return hash;
}

async function runCurve(make: () => tf.LayersModel, data: PreparedSplit): Promise<CurveRecord> {
  setSeed(7);
  const model = make();
  seedWeights(model, 1000);
  compileForMnist(model, 0.001);
  // tfjs-layers caches a few constant tensors on the first predict; do it first so the counts below are flat.
  predictBatch(model, data);
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const { x, y } = batchTensors(data, s % 4);
    const result = await withLearningPhase(1, () => model.trainOnBatch(x, y));
    applyWeightConstraints(model);
    tf.dispose([x, y]);
    losses.push((Array.isArray(result) ? result[0] : result) as number);
    tensorCounts.push(tf.memory().numTensors);
  }
  const wHash = weightsHash(model);
  const predictHash = predictBatch(model, data);
  const fitData = { x: data.x.subarray(0, 4 * BATCH * 784), y: data.y.subarray(0, 4 * BATCH * 10), labels: data.labels.subarray(0, 4 * BATCH), count: 4 * BATCH };
  const silent = { start: () => undefined, update: () => undefined, stop: () => undefined };
  const logs = await fitModel(model, fitData, { epochs: 1, batchSize: BATCH, sampleShape: MNIST_INPUT_SHAPE, seed: 3, progress: silent });
  tensorCounts.push(tf.memory().numTensors);
  const record = { tensorCounts, losses, weightsHash: wHash, predictHash, fitLoss: logs[0]!.loss, fitWeightsHash: weightsHash(model) };
  model.optimizer.dispose();
  model.dispose();
  return record;
}

const cases: Array<[string, () => tf.LayersModel]> = [
  ['float', createFloatModel],
  ['qmodel', createQModel],
  ['twin', () => modelQuantize(createFloatModel(), LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS)],
];

let data: PreparedSplit;
beforeAll(async () => {
  await ready();
  const mnist = loadMnist();
  data = prepareSplit(mnist.train, trainingMean(mnist.train), 0, 5 * BATCH);
});

describe('QAT loss curve is unchanged by the speed work', () => {
  const recorded: Record<string, CurveRecord> = RECORD || !existsSync(FIXTURE) ? {} : JSON.parse(readFileSync(FIXTURE, 'utf8'));
  for (const [name, make] of cases) {
    it(`${name}: ${STEPS} steps, weights, predictions and one fitModel epoch agree bit for bit`, async () => {
      const got = await runCurve(make, data);
      // Flat from the first step on (the first step creates the optimizer slots and quantizer scales).
      const counts = got.tensorCounts!;
      expect(counts, `tensor counts ${counts.join(",")}`).toEqual(counts.map(() => counts[0]));
      delete got.tensorCounts;
      if (RECORD) {
        recorded[name] = got;
        writeFileSync(FIXTURE, JSON.stringify(recorded, null, 2) + '\n');
        return;
      }
      const want = recorded[name];
      expect(want, `no recorded curve for ${name}; run with RECORD_QAT_CURVE=1 on the unoptimised code`).toBeDefined();
      expect(got.losses).toEqual(want!.losses);
      expect(got.weightsHash).toBe(want!.weightsHash);
      expect(got.predictHash).toBe(want!.predictHash);
      expect(got.fitLoss).toBe(want!.fitLoss);
      expect(got.fitWeightsHash).toBe(want!.fitWeightsHash);
    });
  }
});
