/**
 * Quantization-aware training through tfjs's own `model.fit` on the default backend: gradients reach
 * every float weight through the quantizers (straight-through estimators), stochastic quantizers run in
 * their training mode, and the Clip constraints hold after every step with WeightConstraintsCallback.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv2D, QDense, QLayer, WeightConstraintsCallback } from '../../src/layers/index.js';
import { setSeed } from '../../src/quantizers/index.js';
import { makeRng } from '../backend/gradient-cases.js';

beforeAll(async () => {
  await ready();
});

/** 8×8 images, class 0 brighter on the left half, class 1 on the right, plus noise. */
function dataset(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D; labels: number[] } {
  const rng = makeRng(seed);
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels.push(label);
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) pixels.push((c < 4) === (label === 0) ? 0.8 + 0.2 * rng() : 0.2 * rng());
    }
  }
  return { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: tf.oneHot(labels, 2).toFloat() as tf.Tensor2D, labels };
}

describe('QAT with model.fit', () => {
  it('a small quantized CNN learns a separable task and keeps its weights in the Clip range', async () => {
    setSeed(1234);
    const model = tf.sequential({
      layers: [
        new QConv2D({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          kernelQuantizer: 'stochastic_ternary',
          biasQuantizer: 'quantized_po2(4)',
          kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
          name: 'conv',
        }),
        new QActivation({ activation: 'quantized_relu(3)', name: 'act' }),
        tf.layers.flatten(),
        new QDense({
          units: 2,
          kernelQuantizer: 'quantized_bits(4,0,1)',
          biasQuantizer: 'quantized_bits(4,2,1)',
          kernelInitializer: tf.initializers.heNormal({ seed: 2 }),
          name: 'dense',
        }),
        tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const train = dataset(64, 5);
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const history = await model.fit(train.x, train.y, {
      epochs: 8,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: [new WeightConstraintsCallback()],
    });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    // Every float weight moved: the gradients went through the quantizers.
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync()), `weight ${i}`).not.toEqual(before[i]));
    // The Clip constraints hold (kernels ±1, the po2(4) bias ±8, the bits(4,2,1) bias ±4).
    for (const layer of model.layers) {
      if (!(layer instanceof QLayer)) continue;
      for (const { variable, constraint } of layer.weightConstraints()) {
        const { minValue, maxValue } = constraint as unknown as { minValue: number; maxValue: number };
        const v = Array.from(variable.read().dataSync());
        expect(Math.min(...v)).toBeGreaterThanOrEqual(minValue);
        expect(Math.max(...v)).toBeLessThanOrEqual(maxValue);
      }
    }
    const test = dataset(40, 9);
    const predicted = Array.from((tf.argMax(model.predict(test.x) as tf.Tensor, 1) as tf.Tensor).dataSync());
    const correct = predicted.filter((p, i) => p === test.labels[i]).length;
    expect(correct / test.labels.length).toBeGreaterThanOrEqual(0.9);
  });
});
