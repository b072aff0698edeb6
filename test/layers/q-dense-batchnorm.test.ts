/**
 * QDenseBatchnorm (an extension; QKeras has none): QKeras's conv + BN folding applied to a dense layer.
 * Equal to tf.layers.dense + batchNormalization without quantizers, the quantized folding by hand,
 * getFoldedWeights, ema_freeze_delay, rank-3 inputs, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QDense } from '../../src/layers/q-dense.js';
import { QDenseBatchnorm } from '../../src/layers/q-dense-batchnorm.js';
import { expectFoldedWeights, expectWeightOrder, itFoldsInBothModes, type FoldedCase } from '../helpers/folding-checks.js';

beforeAll(async () => {
  await ready();
});

const dense: FoldedCase = {
  make: (args) => new QDenseBatchnorm({ units: 4, ...args }),
  makeFloat: () => tf.layers.dense({ units: 4 }),
  inputShape: [6, 5],
  channels: 4,
  foldKernel: (k, inv) => tf.mul(k, inv),
  kernelName: 'kernel',
};

/** Rank-3 input: statistics over batch and time, as BatchNormalization after a Dense on sequences. */
const denseSeq: FoldedCase = { ...dense, inputShape: [3, 4, 5] };

describe('QDenseBatchnorm', () => {
  it('is a QDense with the folding of the conv layers, weight order and quantizer order', () => {
    const l = new QDenseBatchnorm({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(8,3,1)' });
    expect(l).toBeInstanceOf(QDense);
    expect(l.getClassName()).toBe('QDenseBatchnorm');
    expect(l.getQuantizers().map((q) => q?.toString())).toEqual(["quantized_bits(4,0,1,alpha='auto_po2')", 'quantized_bits(8,3,1)']);
    expect(l.getQuantizationConfig()['units']).toBe('3');
    expectWeightOrder(dense);
  });

  itFoldsInBothModes('dense', [dense, denseSeq], 21);

  it('getFoldedWeights by hand', () => {
    expectFoldedWeights(dense, 27);
  });

  it('trains in a model with fit (statistics move, weights change, iteration counts batches)', async () => {
    const model = tf.sequential({
      layers: [
        new QDenseBatchnorm({ units: 3, inputShape: [4], kernelQuantizer: 'quantized_bits(4,0,1)', activation: 'quantized_relu(4,2)', name: 'fold' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const fold = model.getLayer('fold');
    const before = fold.getWeights().map((w) => Array.from(w.dataSync()));
    await model.fit(tf.randomNormal([16, 4], 0, 1, 'float32', 3), tf.randomNormal([16, 1], 0, 1, 'float32', 4), { batchSize: 8, epochs: 2, verbose: 0 });
    const after = fold.getWeights().map((w) => Array.from(w.dataSync()));
    expect(after[4]).toEqual([3]);
    for (const i of [0, 2, 5, 6]) expect(after[i]).not.toEqual(before[i]);
  });
});
