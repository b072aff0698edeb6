/**
 * `getModelSparsity` (zeros of the quantized weights, model untouched) and `printModelSparsity`
 * (QKeras's text, zeros of the stored weights).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv2D, QDense } from '../../src/layers/index.js';
import { getModelSparsity, printModelSparsity } from '../../src/utils/sparsity.js';

beforeAll(async () => {
  await ready();
});

function model(kernel: string): { model: tf.LayersModel; dense: QDense } {
  const dense = new QDense({ inputShape: [4], units: 2, kernelQuantizer: kernel, biasQuantizer: 'quantized_bits(4,0,1)', name: 'fc' });
  const m = tf.sequential({ layers: [dense, new QActivation({ activation: 'quantized_relu(4)', name: 'act' }), tf.layers.dense({ units: 1, name: 'float_fc' })], name: 'sparse_net' });
  // Three weights quantize to 0 (two are exact zeros, 0.03 rounds to 0 at 1/8 steps), one bias is 0.
  dense.setWeights([tf.tensor([[0.5, 0], [0.03, -0.25], [0, 0.75], [0.125, -0.5]]), tf.tensor([0, 0.25])]);
  return { model: m, dense };
}

describe('sparsity', () => {
  it('getModelSparsity counts zeros of the quantized weights and biases of the Q layers, without changing them', () => {
    const { model: m, dense } = model('quantized_bits(4,0,1,alpha=1)');
    const before = Array.from(dense.getWeights()[0]!.dataSync());
    const s = getModelSparsity(m);
    expect(s.perLayer).toEqual([['fc', 4 / 10]]);
    expect(s.total).toBe(4 / 10);
    expect(Array.from(dense.getWeights()[0]!.dataSync())).toEqual(before);
    expect(getModelSparsity(m, { allowList: ['QConv2D'] })).toEqual({ total: 0, perLayer: [] });
  });

  it('po2 kernels never quantize to zero (QKeras test_get_po2_model_sparsity)', () => {
    const { model: m } = model('quantized_po2(4)');
    // Only the zero bias (quantized_bits) remains a zero: 1 of 10.
    expect(getModelSparsity(m).perLayer).toEqual([['fc', 1 / 10]]);
  });

  it("printModelSparsity prints QKeras's summary of the stored weights", () => {
    const { model: m } = model('quantized_bits(4,0,1,alpha=1)');
    const conv = tf.sequential({ layers: [new QConv2D({ inputShape: [3, 3, 1], filters: 1, kernelSize: 2, name: 'c' })], name: 'convnet' });
    conv.layers[0]!.setWeights([tf.tensor([1, 0, 0, 0], [2, 2, 1, 1]), tf.tensor([0])]);
    expect(printModelSparsity(conv, { print: false })).toBe('Model Sparsity Summary (convnet)\n--\nc: (c/kernel:0, 0.75)\n\n\n');
    // Stored (unquantized) weights: 2 exact zeros of 8 in fc's kernel; the float Dense is prunable too.
    const text = printModelSparsity(m, { print: false });
    const floatKernel = m.getLayer('float_fc').getWeights()[0]!.dataSync();
    const floatZeros = Array.from(floatKernel).filter((v) => v === 0).length;
    const pyStr = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));
    expect(text).toBe(
      `Model Sparsity Summary (sparse_net)\n--\nfc: (fc/kernel:0, 0.25)\nfloat_fc: (float_fc/kernel:0, ${pyStr(1 - (2 - floatZeros) / 2)})\n\n\n`,
    );
  });
});
