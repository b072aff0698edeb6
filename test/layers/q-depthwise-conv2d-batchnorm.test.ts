/**
 * QDepthwiseConv2DBatchnorm: QKeras's depthwise conv + BN folding (factors reshaped to [channels,
 * depthMultiplier]), equal to tf.layers.depthwiseConv2d + batchNormalization without quantizers, QKeras's
 * quantized folding by hand, QKeras's folded-constants vector, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QDepthwiseConv2D } from '../../src/layers/q-depthwise-conv2d.js';
import { QDepthwiseConv2DBatchnorm } from '../../src/layers/q-depthwise-conv2d-batchnorm.js';
import { expectFoldedWeights, expectWeightOrder, itFoldsInBothModes, type FoldedCase } from '../helpers/folding-checks.js';
import { expectMatches, flatten, loadVectors } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

const C = 2;
const M = 2;
const depthwise: FoldedCase = {
  make: (args) => new QDepthwiseConv2DBatchnorm({ kernelSize: 3, depthMultiplier: M, padding: 'same', ...args }),
  makeFloat: () => tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: M, padding: 'same' }),
  inputShape: [4, 5, 5, C],
  channels: C * M,
  foldKernel: (k, inv) => tf.mul(k, tf.reshape(inv, [C, M])),
  kernelName: 'depthwise_kernel',
};

describe('QDepthwiseConv2DBatchnorm', () => {
  it('is a QDepthwiseConv2D with QKeras defaults, weight order and quantizer order', () => {
    const l = new QDepthwiseConv2DBatchnorm({ kernelSize: 2, depthwiseQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(8,3,1)' });
    expect(l).toBeInstanceOf(QDepthwiseConv2D);
    expect(l.getClassName()).toBe('QDepthwiseConv2DBatchnorm');
    expect(l.batchnorm.foldingMode).toBe('ema_stats_folding');
    expect(l.getQuantizers().map((q) => q?.toString())).toEqual(["quantized_bits(4,0,1,alpha='auto_po2')", 'quantized_bits(8,3,1)']);
    expect(l.getQuantizationConfig()).toEqual({
      depthwise_quantizer: "quantized_bits(4,0,1,alpha='auto_po2')",
      bias_quantizer: 'quantized_bits(8,3,1)',
      activation: 'None',
      filters: 'None',
    });
    expectWeightOrder(depthwise);
  });

  itFoldsInBothModes('depthwiseConv2d', [depthwise], 11);

  it('getFoldedWeights by hand (output channel c·M + m is kernel slice [:, :, c, m])', () => {
    expectFoldedWeights(depthwise, 15);
  });

  it("QKeras's folded constants (bn_folding_test test_same_training_and_prediction)", () => {
    const vs = loadVectors().filter((v) => v.kind === 'function_call' && v.quantizer.startsWith('QDepthwiseConv2DBatchnorm.get_folded_weights'));
    expect(vs.length).toBe(1);
    const v = vs[0]!;
    const input = v.input as Record<string, unknown>;
    const want = v.expected as { folded_depthwise_kernel: unknown; folded_bias: unknown };
    const kernel = flatten(input['depthwise_kernel']);
    const layer = new QDepthwiseConv2DBatchnorm({ kernelSize: [2, 2], useBias: false, epsilon: input['epsilon'] as number });
    layer.apply(tf.zeros([1, 2, 2, 1]));
    const vec = (k: string): tf.Tensor => tf.tensor1d(input[k] as number[]);
    layer.setWeights([tf.tensor(kernel.values, kernel.shape), vec('gamma'), vec('beta'), tf.scalar(-1), vec('moving_mean'), vec('moving_variance')]);
    const [k, b] = layer.getFoldedWeights();
    expectMatches({ values: k.dataSync(), shape: k.shape }, want.folded_depthwise_kernel, v.tolerance, 'folded kernel');
    expectMatches({ values: b.dataSync(), shape: b.shape }, want.folded_bias, v.tolerance, 'folded bias');
  });
});
