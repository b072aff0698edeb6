/**
 * End-to-end use of the wasm training kernels: a small convolutional model (conv2d, depthwise, separable,
 * transposed conv, max pooling, dense) trains with model.fit and its loss goes down, and repeated gradient
 * steps leave the number of tensors, bytes and wasm data buffers unchanged (no leaked intermediates).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './compare.js';
import { makeRng } from './gradient-cases.js';

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

/** Uses every registered gradient kernel: conv (filter/input), depthwise, transposed conv, pooling, dense. */
function buildModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({ inputShape: [10, 10, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1) }),
  );
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, depthwiseInitializer: seeded(2) }));
  model.add(tf.layers.separableConv2d({ filters: 6, kernelSize: [1, 3], padding: 'same', depthwiseInitializer: seeded(3), pointwiseInitializer: seeded(4) }));
  model.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid', kernelInitializer: seeded(5) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(6) }));
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return model;
}

/** 64 seeded samples whose class is decided by which quadrant of channel 0 has the largest mean. */
function dataset(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = makeRng(99);
  const count = 64;
  const xs = new Float32Array(count * 10 * 10 * 2);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const label = n % 3;
    labels.push(label);
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) {
        const inRegion = label === 0 ? r < 5 && c < 5 : label === 1 ? r >= 5 && c >= 5 : r < 5 && c >= 5;
        for (let ch = 0; ch < 2; ch++) {
          xs[((n * 10 + r) * 10 + c) * 2 + ch] = rng() - 0.5 + (ch === 0 && inRegion ? 1 : 0);
        }
      }
    }
  }
  return tf.tidy(() => ({
    x: tf.tensor4d(xs, [count, 10, 10, 2]),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat() as tf.Tensor2D,
  }));
}

beforeAll(async () => {
  await useWasm();
  expect(tf.getBackend()).toBe('wasm');
});

describe('training on wasm', () => {
  it('fits a small conv model and its loss decreases', async () => {
    const model = buildModel();
    const { x, y } = dataset();
    const history = await model.fit(x, y, { epochs: 6, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('does not leak tensors, bytes or wasm buffers over repeated gradient steps', async () => {
    const model = buildModel();
    const { x, y } = dataset();
    const backend = tf.backend() as BackendWasm;
    const step = () => model.trainOnBatch(x, y);
    const snapshot = () => {
      const m = tf.memory();
      return { tensors: m.numTensors, bytes: m.numBytes, buffers: backend.numDataIds() };
    };
    // The first steps create the optimizer's slots; the steady state starts after them.
    await step();
    await step();
    const before = snapshot();
    for (let i = 0; i < 5; i++) await step();
    expect(snapshot()).toEqual(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('each registered kernel releases its intermediates', () => {
    const backend = tf.backend() as BackendWasm;
    const rng = makeRng(5);
    const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), shape);
    const x = rand([2, 7, 6, 3]) as tf.Tensor4D;
    const w = rand([3, 2, 3, 4]) as tf.Tensor4D;
    const dw = rand([3, 3, 3, 2]) as tf.Tensor4D;
    const a = rand([5, 4]);
    const b = rand([5, 3]);
    const calls = () =>
      tf.tidy(() => {
        const results: tf.Tensor[] = [
          ...tf.grads((t: tf.Tensor, f: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'))([x, w]),
          ...tf.grads((t: tf.Tensor, f: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, f as tf.Tensor4D, [1, 3], [[0, 0], [4, 0], [0, 1], [0, 0]]))([x, w]),
          ...tf.grads((t: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(t as tf.Tensor4D, f as tf.Tensor4D, [2, 1], 'valid'))([x, dw]),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, true, false))([a, b]),
          tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'same'))(x),
          tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d([0, 2, 2], 'int32')))(a),
        ];
        return results.map((r) => r.sum());
      });
    tf.dispose(calls());
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() };
    for (let i = 0; i < 3; i++) tf.dispose(calls());
    expect({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() }).toEqual(before);
    tf.dispose([x, w, dw, a, b]);
  });
});
