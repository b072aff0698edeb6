/**
 * With no quantizers a Q layer is its Keras layer: given the same weights, a Q layer and the matching
 * tf.layers layer produce the same outputs and the same gradients with respect to the input and to
 * every weight, bit for bit (both run the same tfjs ops on the same backend).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QActivation,
  QAveragePooling2D,
  QConv1D,
  QConv2D,
  QConv2DTranspose,
  QDense,
  QDepthwiseConv2D,
  QGlobalAveragePooling2D,
  QSeparableConv1D,
  QSeparableConv2D,
} from '../../src/layers/index.js';
import { makeRng } from '../backend/gradient-cases.js';

beforeAll(async () => {
  await ready();
});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => rng() * 2 - 1), shape);
}

interface Result {
  output: number[];
  grads: number[][];
}

/**
 * Runs `layer` on `x` and returns its output and the gradients of `sum(output * r)` (r fixed random)
 * with respect to the input and each trainable weight, in weight order.
 */
function run(layer: tf.layers.Layer, x: tf.Tensor, seed: number, gradients: boolean): Result {
  return tf.tidy(() => {
    const output = layer.apply(x) as tf.Tensor;
    if (!gradients) return { output: Array.from(output.dataSync()), grads: [] };
    const r = randomTensor(output.shape, seed);
    const xv = tf.variable(x);
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xv) as tf.Tensor, r)) as tf.Scalar, [xv, ...weights]);
    const ordered = [xv, ...weights].map((v) => Array.from(grads[v.name]!.dataSync()));
    xv.dispose();
    return { output: Array.from(output.dataSync()), grads: ordered };
  });
}

/**
 * Builds both layers for `inputShape`, gives the Q layer the Keras layer's weights, compares. tfjs has no
 * gradient for dilated convolutions (for its own layers as much as for these), so those compare outputs only.
 */
function compare(
  qLayer: tf.layers.Layer,
  kLayer: tf.layers.Layer,
  inputShape: number[],
  { seed = 7, gradients = true }: { seed?: number; gradients?: boolean } = {},
): void {
  const x = randomTensor(inputShape, seed);
  kLayer.apply(x);
  qLayer.apply(x);
  const kw = kLayer.getWeights();
  expect(qLayer.getWeights().map((w) => w.shape)).toEqual(kw.map((w) => w.shape));
  // Random biases, so that the bias path is exercised too (Keras initialises them to zero).
  qLayer.setWeights(kw.map((w, i) => (w.rank === 1 ? randomTensor(w.shape, seed + 100 + i) : w)));
  kLayer.setWeights(qLayer.getWeights());
  const q = run(qLayer, x, seed + 1, gradients);
  const k = run(kLayer, x, seed + 1, gradients);
  expect(q.output.length).toBeGreaterThan(0);
  expect(q.output).toEqual(k.output);
  expect(q.grads.length).toBe(gradients ? 1 + kLayer.trainableWeights.length : 0);
  q.grads.forEach((g, i) => expect(g, `gradient ${i}`).toEqual(k.grads[i]));
  expect((qLayer.apply(tf.zeros(inputShape)) as tf.Tensor).shape).toEqual(qLayer.computeOutputShape(inputShape));
  x.dispose();
}

describe('a Q layer without quantizers equals its Keras layer (outputs and gradients)', () => {
  it('QDense = dense (linear and fused relu, rank 2 and rank 3 inputs)', () => {
    compare(new QDense({ units: 5 }), tf.layers.dense({ units: 5 }), [4, 6]);
    compare(new QDense({ units: 3, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'relu' }), [2, 4, 6]);
    compare(new QDense({ units: 3, useBias: false }), tf.layers.dense({ units: 3, useBias: false }), [3, 7]);
  });

  it('QConv1D = conv1d', () => {
    compare(new QConv1D({ filters: 4, kernelSize: 3 }), tf.layers.conv1d({ filters: 4, kernelSize: 3 }), [2, 9, 3]);
    compare(
      new QConv1D({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', activation: 'tanh' }),
      tf.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', activation: 'tanh' }),
      [2, 9, 3],
    );
    compare(
      new QConv1D({ filters: 2, kernelSize: 3, dilationRate: 2 }),
      tf.layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2 }),
      [1, 11, 2],
      { gradients: false },
    );
  });

  it('QConv2D = conv2d', () => {
    compare(new QConv2D({ filters: 4, kernelSize: 3 }), tf.layers.conv2d({ filters: 4, kernelSize: 3 }), [2, 7, 6, 3]);
    compare(
      new QConv2D({ filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same', activation: 'relu' }),
      [2, 7, 6, 2],
    );
    compare(
      new QConv2D({ filters: 2, kernelSize: 2, dilationRate: 2, useBias: false }),
      tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, useBias: false }),
      [1, 6, 6, 2],
      { gradients: false },
    );
  });

  it('QConv2DTranspose = conv2dTranspose', () => {
    compare(
      new QConv2DTranspose({ filters: 3, kernelSize: 3 }),
      tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3 }),
      [2, 4, 5, 2],
    );
    compare(
      new QConv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
      tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
      [1, 4, 4, 3],
    );
  });

  it('QDepthwiseConv2D = depthwiseConv2d', () => {
    compare(
      new QDepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
      [2, 6, 5, 3],
    );
    compare(
      new QDepthwiseConv2D({ kernelSize: 2, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.depthwiseConv2d({ kernelSize: 2, strides: 2, padding: 'same', activation: 'relu' }),
      [1, 5, 5, 2],
    );
  });

  it('QSeparableConv2D = separableConv2d', () => {
    compare(
      new QSeparableConv2D({ filters: 4, kernelSize: 3, depthMultiplier: 2 }),
      tf.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2 }),
      [2, 6, 5, 3],
    );
    compare(
      new QSeparableConv2D({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
      tf.layers.separableConv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
      [1, 5, 5, 2],
    );
  });

  it('QAveragePooling2D = averagePooling2d, QGlobalAveragePooling2D = globalAveragePooling2d', () => {
    compare(new QAveragePooling2D({ poolSize: 2 }), tf.layers.averagePooling2d({ poolSize: 2 }), [2, 6, 5, 3]);
    compare(
      new QAveragePooling2D({ poolSize: [3, 2], strides: 1, padding: 'same' }),
      tf.layers.averagePooling2d({ poolSize: [3, 2], strides: 1, padding: 'same' }),
      [1, 4, 5, 2],
    );
    compare(new QGlobalAveragePooling2D(), tf.layers.globalAveragePooling2d({}), [2, 4, 3, 5]);
  });

  it('QActivation with a Keras activation = activation', () => {
    for (const name of ['relu', 'tanh', 'sigmoid', 'softmax', 'linear'] as const) {
      compare(new QActivation({ activation: name }), tf.layers.activation({ activation: name }), [3, 5]);
    }
  });
});

describe('QSeparableConv1D = QSeparableConv2D on a height-1 image', () => {
  it('gives the 2-D layer’s outputs for the same weights', () => {
    const l1 = new QSeparableConv1D({ filters: 3, kernelSize: 2, depthMultiplier: 2, padding: 'same' });
    const l2 = new QSeparableConv2D({ filters: 3, kernelSize: [1, 2], depthMultiplier: 2, padding: 'same' });
    const x = randomTensor([2, 7, 4], 3);
    l1.apply(x);
    l2.apply(tf.expandDims(x, 1));
    const w = l1.getWeights();
    expect(w.map((t) => t.shape)).toEqual([
      [2, 4, 2],
      [1, 8, 3],
      [3],
    ]);
    const bias = randomTensor([3], 9);
    l1.setWeights([w[0]!, w[1]!, bias]);
    l2.setWeights([tf.expandDims(w[0]!, 0), tf.expandDims(w[1]!, 0), bias]);
    const y1 = l1.apply(x) as tf.Tensor;
    const y2 = tf.squeeze(l2.apply(tf.expandDims(x, 1)) as tf.Tensor, [1]);
    expect(y1.shape).toEqual([2, 7, 3]);
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y2.dataSync()));
  });
});
