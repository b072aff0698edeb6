/**
 * Data-parallel training (src/train/data-parallel.ts): a step split across the main thread and a worker
 * thread is the full-batch trainOnBatch step up to float rounding; training with 2 threads learns; worker
 * failures and unsupported models surface as DataParallelError; no worker thread outlives its trainer.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { applyWeightConstraints } from '../../src/layers/constraints.js';
import { QActivation } from '../../src/layers/q-activation.js';
import { QConv2D } from '../../src/layers/q-conv.js';
import { QDense } from '../../src/layers/q-dense.js';
import { withLearningPhase } from '../../src/quantizers/phase.js';
import { DataParallelError, DataParallelTrainer, liveDataParallelWorkers, splitSizes } from '../../src/train/data-parallel.js';
import { fitModel, type Dataset } from '../../src/train/fit.js';
import { mulberry32 } from '../../src/utils/mulberry32.js';

const SHAPE = [8, 8, 1];
const SAMPLE = 64;
const CLASSES = 3;

/** Deterministic quantizers only, so both paths run the same forward pass (no random draws). */
function smallQModel(): tf.LayersModel {
  const input = tf.input({ shape: SHAPE });
  let x = new QConv2D({ filters: 4, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)' }).apply(input) as tf.SymbolicTensor;
  x = new QActivation({ activation: 'quantized_relu(4,2)' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = new QDense({ units: CLASSES, kernelQuantizer: 'quantized_bits(6,0,1)', biasQuantizer: 'quantized_bits(6,2,1)' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

/** Three classes told apart by which third of the image is bright, plus noise. */
function blobs(count: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const x = new Float32Array(count * SAMPLE);
  const y = new Float32Array(count * CLASSES);
  const labels = new Uint8Array(count);
  for (let s = 0; s < count; s++) {
    const label = s % CLASSES;
    labels[s] = label;
    y[s * CLASSES + label] = 1;
    for (let p = 0; p < SAMPLE; p++) {
      const column = p % 8;
      x[s * SAMPLE + p] = (Math.floor(column / 3) === label ? 1 : 0) + 0.3 * (rand() - 0.5);
    }
  }
  return { x, y, labels, count };
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
}

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  expect(liveDataParallelWorkers()).toBe(0);
});

describe('data-parallel training', () => {
  it('splits batches into contiguous parts, the first ones larger', () => {
    expect(splitSizes(128, 2)).toEqual([64, 64]);
    expect(splitSizes(15, 2)).toEqual([8, 7]);
    expect(splitSizes(10, 3)).toEqual([4, 3, 3]);
  });

  it('makes the same update as trainOnBatch on the full batch, up to float rounding', async () => {
    const reference = smallQModel();
    const split = smallQModel();
    split.setWeights(reference.getWeights());
    reference.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.sgd(0.5), metrics: ['accuracy'] });
    split.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.sgd(0.5), metrics: ['accuracy'] });
    const trainer = await DataParallelTrainer.create(split, { workers: 2 });
    try {
      const data = blobs(31, 7);
      // 16 samples: two equal halves, (g0 + g1) / 2; then 15 samples: parts of 8 and 7, weighted 8/15 and 7/15.
      for (const [start, n] of [[0, 16], [16, 15]] as const) {
        const x = data.x.slice(start * SAMPLE, (start + n) * SAMPLE);
        const y = data.y.slice(start * CLASSES, (start + n) * CLASSES);
        const before = weightsOf(reference);
        const xs = tf.tensor(x, [n, ...SHAPE]);
        const ys = tf.tensor(y, [n, CLASSES]);
        const [refLoss, refAcc] = (await withLearningPhase(1, () => reference.trainOnBatch(xs, ys))) as number[];
        applyWeightConstraints(reference);
        tf.dispose([xs, ys]);
        const [loss, acc] = await trainer.trainOnBatch(x, y, SHAPE, n);
        // Same forward pass per sample, so the accuracy (a count over n) is exact and the loss is the same mean
        // summed in a different order.
        expect(acc).toBe(refAcc);
        expect(Math.abs(loss! - refLoss!)).toBeLessThanOrEqual(1e-6 * Math.abs(refLoss!));
        const refAfter = weightsOf(reference);
        const splitAfter = weightsOf(split);
        let largestStep = 0;
        refAfter.forEach((w, i) => w.forEach((v, k) => (largestStep = Math.max(largestStep, Math.abs(v - before[i]![k]!)))));
        expect(largestStep).toBeGreaterThan(1e-3); // the step is real, so the comparison below means something
        // The mean over the parts is mathematically the full-batch mean; only the order of the float32 sums over
        // the batch differs (a few ulps of the gradient's terms, ~1e-7 relative per add). 1e-5 of the largest
        // step allows for sums over ≤ 16 samples and the 36-term convolution reductions, and is 100x smaller
        // than the step itself, so a wrongly weighted or missing part could not pass.
        const tolerance = 1e-5 * largestStep;
        refAfter.forEach((w, i) => w.forEach((v, k) => expect(Math.abs(splitAfter[i]![k]! - v)).toBeLessThanOrEqual(tolerance)));
        split.setWeights(reference.getWeights()); // the next step starts from the same weights again
      }
    } finally {
      await trainer.dispose();
      reference.dispose();
      split.dispose();
    }
  });

  it('trains with fitModel({ workers: 2 }): the loss falls and tensors stay flat', async () => {
    const model = smallQModel();
    model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0.01), metrics: ['accuracy'] });
    const tensors: number[] = [];
    const logs = await fitModel(model, blobs(192, 3), {
      epochs: 4,
      batchSize: 32,
      sampleShape: SHAPE,
      workers: 2,
      seed: 5,
      progress: { start() {}, update() {}, stop() {} },
      onEpoch: () => tensors.push(tf.memory().numTensors),
    });
    // Adam's slots exist from the first step on; after that every epoch ends with the same tensors.
    expect(new Set(tensors).size).toBe(1);
    expect(logs[3]!.loss).toBeLessThan(logs[0]!.loss * 0.7);
    expect(logs[3]!.accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('refuses models with non-trainable (batch-statistics) weights before starting a thread', async () => {
    const input = tf.input({ shape: [4] });
    const bn = tf.layers.batchNormalization({ name: 'bn_here' }).apply(tf.layers.dense({ units: 3 }).apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.activation({ activation: 'softmax' }).apply(bn) as tf.SymbolicTensor });
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'sgd' });
    await expect(DataParallelTrainer.create(model, { workers: 2 })).rejects.toThrow(DataParallelError);
    await expect(DataParallelTrainer.create(model, { workers: 2 })).rejects.toThrow(/bn_here \(BatchNormalization: .*moving_mean/);
    model.dispose();
  });

  it('refuses fewer than 2 threads and uncompiled models', async () => {
    const model = smallQModel();
    await expect(DataParallelTrainer.create(model, { workers: 2 })).rejects.toThrow(/not compiled/);
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'sgd' });
    await expect(DataParallelTrainer.create(model, { workers: 1 })).rejects.toThrow(/workers=1 is not allowed/);
    model.dispose();
  });

  it('surfaces an error thrown in the worker as DataParallelError and stops the threads', async () => {
    // Registered in this thread only: the worker cannot rebuild the model.
    class MainThreadOnly extends tf.layers.Layer {
      static className = 'MainThreadOnlyForDataParallelTest';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return Array.isArray(inputs) ? inputs[0]! : inputs;
      }
    }
    tf.serialization.registerClass(MainThreadOnly);
    const input = tf.input({ shape: [4] });
    const hidden = new MainThreadOnly({}).apply(tf.layers.dense({ units: 3 }).apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.activation({ activation: 'softmax' }).apply(hidden) as tf.SymbolicTensor });
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'sgd' });
    const failure = await DataParallelTrainer.create(model, { workers: 2 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DataParallelError);
    expect((failure as Error).message).toMatch(/data-parallel worker: .*MainThreadOnlyForDataParallelTest/);
    model.dispose();
  });

  it('handles batches smaller than the thread count, rejects mis-sized batches, and stops its threads on dispose', async () => {
    const model = smallQModel();
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'sgd' });
    const trainer = await DataParallelTrainer.create(model, { workers: 2 });
    expect(liveDataParallelWorkers()).toBe(1);
    const data = blobs(4, 1);
    // 1 sample on 2 threads: one part of 1 on this thread, the worker idle (an empty part's mean would be NaN).
    const [loss] = await trainer.trainOnBatch(data.x.subarray(0, SAMPLE), data.y.subarray(0, CLASSES), SHAPE, 1);
    expect(Number.isFinite(loss)).toBe(true);
    expect(model.getWeights().every((w) => w.dataSync().every(Number.isFinite))).toBe(true);
    await expect(trainer.trainOnBatch(data.x, data.y, SHAPE, 3)).rejects.toThrow(/n=3 samples of shape \[8, 8, 1\] needs x.length 192/);
    await trainer.dispose();
    await trainer.dispose();
    expect(liveDataParallelWorkers()).toBe(0);
    await expect(trainer.trainOnBatch(data.x, data.y, SHAPE, 4)).rejects.toThrow(/after dispose/);
    model.dispose();
  });
});
