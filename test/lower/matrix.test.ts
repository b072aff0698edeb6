/**
 * The quantizer × layer matrix: every weight quantizer of the menu in every weight layer the lowering
 * supports (QDense, QConv1D, QConv2D, QDepthwiseConv2D, QSeparableConv1D/2D, and the three folded
 * *Batchnorm layers), with the bias quantizers, activations, input quantizers, strides and paddings
 * cycling through their menus, so each combination is lowered and compared with tfjs (=== on every
 * value) on 1,000 inputs. The random multi-layer models of battery.test.ts cover compositions.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QConv1D,
  QConv2D,
  QConv2DBatchnorm,
  QDense,
  QDenseBatchnorm,
  QDepthwiseConv2D,
  QDepthwiseConv2DBatchnorm,
  QSeparableConv1D,
  QSeparableConv2D,
} from '../../src/layers/index.js';
import { ACTIVATIONS, BIAS_QUANTIZERS, INPUT_QUANTIZERS, KERNEL_QUANTIZERS, randomizeWeights, rng, type ZooModel } from './zoo.js';
import { INPUTS_PER_MODEL, checkModel } from './check-model.js';

beforeAll(async () => {
  await ready();
});

interface Combo {
  readonly kernel: string;
  readonly bias: string;
  readonly activation: string;
  readonly strides: number;
  readonly padding: string;
}

type Builder = (c: Combo) => { shape: number[]; layer: tf.layers.Layer };

const LAYERS: Readonly<Record<string, Builder>> = {
  QDense: (c) => ({ shape: [12], layer: new QDense({ units: 5, kernelQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }) }),
  QConv1D: (c) => ({
    shape: [10, 2],
    layer: new QConv1D({ filters: 3, kernelSize: 3, strides: c.strides, padding: c.strides === 1 ? 'causal' : c.padding, kernelQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QConv2D: (c) => ({
    shape: [6, 6, 2],
    layer: new QConv2D({ filters: 3, kernelSize: 3, strides: c.strides, padding: c.padding, kernelQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QDepthwiseConv2D: (c) => ({
    shape: [6, 6, 2],
    layer: new QDepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, strides: c.strides, padding: c.padding, depthwiseQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QSeparableConv1D: (c) => ({
    shape: [10, 2],
    layer: new QSeparableConv1D({ filters: 3, kernelSize: 3, strides: c.strides, padding: c.padding, depthwiseQuantizer: c.kernel, pointwiseQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QSeparableConv2D: (c) => ({
    shape: [6, 6, 2],
    layer: new QSeparableConv2D({ filters: 3, kernelSize: 3, strides: c.strides, padding: c.padding, depthwiseQuantizer: c.kernel, pointwiseQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QConv2DBatchnorm: (c) => ({
    shape: [6, 6, 2],
    layer: new QConv2DBatchnorm({ filters: 3, kernelSize: 3, strides: c.strides, padding: c.padding, kernelQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QDepthwiseConv2DBatchnorm: (c) => ({
    shape: [6, 6, 2],
    layer: new QDepthwiseConv2DBatchnorm({ kernelSize: 3, strides: c.strides, padding: c.padding, depthwiseQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }),
  }),
  QDenseBatchnorm: (c) => ({ shape: [12], layer: new QDenseBatchnorm({ units: 5, kernelQuantizer: c.kernel, biasQuantizer: c.bias, activation: c.activation, name: 'layer' }) }),
};

let models = 0;
const seenActivations = new Set<string>();

describe('every weight quantizer in every weight layer: ir === tfjs', () => {
  Object.entries(LAYERS).forEach(([className, build], li) => {
    it(`${className} × ${KERNEL_QUANTIZERS.length} kernel quantizers`, async () => {
      for (let k = 0; k < KERNEL_QUANTIZERS.length; k += 1) {
        const i = li * KERNEL_QUANTIZERS.length + k;
        const combo: Combo = {
          kernel: KERNEL_QUANTIZERS[k]!,
          bias: BIAS_QUANTIZERS[i % BIAS_QUANTIZERS.length]!,
          activation: ACTIVATIONS[i % ACTIVATIONS.length]!,
          strides: 1 + (i % 2),
          padding: Math.floor(i / 2) % 2 === 0 ? 'same' : 'valid',
        };
        const { shape, layer } = build(combo);
        const input = tf.input({ shape, name: 'x' });
        const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor, name: `${className}_${k}` });
        expect(layer.getClassName()).toBe(className);
        randomizeWeights(model, rng(1000 + i));
        const z: ZooModel = { name: `${className} ${JSON.stringify(combo)}`, model, inputQuantizer: INPUT_QUANTIZERS[i % INPUT_QUANTIZERS.length]! };
        try {
          const r = await checkModel(z, 2000 + i);
          expect(r.inputs).toBe(INPUTS_PER_MODEL);
          models += 1;
          seenActivations.add(combo.activation);
        } finally {
          model.dispose();
        }
      }
    });
  });

  it('covered every layer × kernel quantizer pair and every activation', () => {
    expect(models).toBe(Object.keys(LAYERS).length * KERNEL_QUANTIZERS.length);
    expect([...seenActivations].sort()).toEqual([...ACTIVATIONS].sort());
    console.log(`lowering matrix: ${models} models × ${INPUTS_PER_MODEL} inputs`);
  });
});
