/**
 * QConv2DBatchnorm: QKeras's conv + BN folding (both folding modes, ema_freeze_delay), equal to
 * tf.layers.conv2d + tf.layers.batchNormalization without quantizers, QKeras's quantized folding by hand,
 * getFoldedWeights, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError, UnsupportedError } from '../../src/errors.js';
import { QConv2D } from '../../src/layers/q-conv.js';
import { QConv2DBatchnorm } from '../../src/layers/q-conv2d-batchnorm.js';
import { expectFoldedWeights, expectWeightOrder, itFoldsInBothModes, type FoldedCase } from '../helpers/folding-checks.js';
import { expectClose } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

const conv: FoldedCase = {
  make: (args) => new QConv2DBatchnorm({ filters: 3, kernelSize: 3, strides: 1, padding: 'same', ...args }),
  makeFloat: () => tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 1, padding: 'same' }),
  inputShape: [4, 5, 5, 2],
  channels: 3,
  foldKernel: (k, inv) => tf.mul(k, inv),
  kernelName: 'kernel',
};

describe('QConv2DBatchnorm', () => {
  it('is a QConv2D with QKeras defaults, weight order and quantizer order', () => {
    const l = new QConv2DBatchnorm({ filters: 2, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_po2(8)' });
    expect(l).toBeInstanceOf(QConv2D);
    expect(l.getClassName()).toBe('QConv2DBatchnorm');
    expect(l.batchnorm.foldingMode).toBe('ema_stats_folding');
    expect(l.batchnorm.emaFreezeDelay).toBeNull();
    expect(l.batchnorm.momentum).toBe(0.99);
    expect(l.batchnorm.epsilon).toBe(0.001);
    expect(l.getQuantizers().map((q) => q?.toString())).toEqual(["quantized_bits(4,0,1,alpha='auto_po2')", 'quantized_po2(8)']);
    expect(l.getQuantizationConfig()).toEqual({
      kernel_quantizer: "quantized_bits(4,0,1,alpha='auto_po2')",
      bias_quantizer: 'quantized_po2(8)',
      activation: 'None',
      filters: '2',
    });
    expectWeightOrder(conv);
  });

  it('rejects what QKeras cannot fold', () => {
    expect(() => new QConv2DBatchnorm({ filters: 2, kernelSize: 3, foldingMode: 'fold_it' })).toThrow(ConfigError);
    expect(() => new QConv2DBatchnorm({ filters: 2, kernelSize: 1, mask: [[1]] })).toThrow(/mask/);
    expect(() => new QConv2DBatchnorm({ filters: 2, kernelSize: 1, groups: 2 })).toThrow(/groups/);
    expect(() => new QConv2DBatchnorm({ filters: 2, kernelSize: 1, renorm: true })).toThrow(UnsupportedError);
    const l = new QConv2DBatchnorm({ filters: 2, kernelSize: 1, axis: 1 });
    expect(() => l.apply(tf.zeros([1, 3, 3, 2]))).toThrow(/axis/);
  });

  itFoldsInBothModes('conv2d', [conv], 1);

  it('getFoldedWeights: gamma·kernel/sqrt(var+eps) and gamma·(bias−mean)/sqrt(var+eps)+beta, by hand', () => {
    expectFoldedWeights(conv, 5);
    // Explicit numbers: 1x1 kernel [2, -1], bias [0.5, 1], gamma [2, 0.5], beta [0.1, -0.2],
    // moving mean [1, -1], moving variance [3, 0.999].
    const l = new QConv2DBatchnorm({ filters: 2, kernelSize: 1 });
    l.apply(tf.zeros([1, 1, 1, 1]));
    l.setWeights([tf.tensor4d([2, -1], [1, 1, 1, 2]), tf.tensor1d([0.5, 1]), tf.tensor1d([2, 0.5]), tf.tensor1d([0.1, -0.2]), tf.scalar(-1), tf.tensor1d([1, -1]), tf.tensor1d([3, 0.999])]);
    const [k, b] = l.getFoldedWeights();
    const inv0 = 2 / Math.sqrt(3.001);
    expectClose(Array.from(k.dataSync()), [2 * inv0, -0.5], 1e-6, 0, 'kernel');
    expectClose(Array.from(b.dataSync()), [inv0 * -0.5 + 0.1, 0.5 * 2 - 0.2], 1e-6, 0, 'bias');
  });

  it('without a bias the folded bias is beta − inv·mean', () => {
    const l = new QConv2DBatchnorm({ filters: 1, kernelSize: 1, useBias: false });
    l.apply(tf.zeros([1, 1, 1, 1]));
    expect(l.weights.map((w) => w.name.split('/').pop())).toEqual(['kernel', 'gamma', 'beta', 'iteration', 'moving_mean', 'moving_variance']);
    l.setWeights([tf.tensor4d([1], [1, 1, 1, 1]), tf.tensor1d([1]), tf.tensor1d([0.25]), tf.scalar(-1), tf.tensor1d([2]), tf.tensor1d([0.999])]);
    expect(Array.from(l.getFoldedWeights()[1].dataSync())).toEqual([0.25 - 2]);
    expect(Array.from((l.apply(tf.tensor4d([3], [1, 1, 1, 1])) as tf.Tensor).dataSync())).toEqual([3 - 2 + 0.25]);
  });
});
