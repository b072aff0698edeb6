/**
 * `modelSaveQuantizedWeights`: QKeras's hardware forms (values from QKeras's utils_test scale-freezing
 * model), the po2 and auto_po2 additions, pooling fields, write-back and the optional files.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QAveragePooling2D, QConv2D, QDense, QDepthwiseConv2D, QGlobalAveragePooling2D } from '../../src/layers/index.js';
import { importKeras } from '../../src/import/import-keras.js';
import { loadQmodel } from '../../src/utils/save-load.js';
import { modelSaveQuantizedWeights } from '../../src/utils/quantized-weights.js';

let dir: string;
beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qkeras-ts-qw-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The conv / depthwise / dense part of QKeras's `create_test_model_for_scale_freezing`, with its weights. */
function scaleFreezingModel(): tf.LayersModel {
  const x = tf.input({ shape: [4, 4, 1], name: 'input' });
  const conv = new QConv2D({ filters: 4, kernelSize: 2, strides: 2, kernelQuantizer: "quantized_bits(4, 2, 1, alpha='auto_po2')", biasQuantizer: 'quantized_bits(4, 2, 1)', useBias: false, name: 'conv' });
  const dw = new QDepthwiseConv2D({ kernelSize: 2, strides: 1, depthwiseQuantizer: "quantized_bits(6, 3, 1, alpha='auto_po2')", useBias: false, biasQuantizer: 'quantized_bits(4, 2, 1)', name: 'dw_conv' });
  const dense = new QDense({ units: 2, kernelQuantizer: "quantized_bits(4, 2, 1, alpha='auto_po2')", biasQuantizer: 'quantized_bits(4, 2, 1)', name: 'dense' });
  let y = conv.apply(x) as tf.SymbolicTensor;
  y = dw.apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  y = dense.apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: y });
  conv.setWeights([tf.tensor([0.23, 2.76, 0.1, 0.33, 0.53, 0.16, 0.3, 1.7, -0.9, 1.43, 2.31, -0.2, -1.7, 0.39, -2.03, 1.79], [2, 2, 1, 4])]);
  dw.setWeights([tf.tensor([0.03, 3.6, 2.1, 1.2, 0.13, 1.3, -0.3, 1.2, -0.7, -10.3, 11.7, -0.92, -10.7, 0.59, -1.93, 2.8], [2, 2, 4, 1])]);
  dense.setWeights([tf.tensor([0.13, 0.66, 0.21, 0.23, 1.07, -0.79, 1.83, 1.81], [4, 2]), tf.tensor([-1.3, 0.7])]);
  return model;
}

const values = (a: { data: ArrayLike<number> }): number[] => Array.from(a.data);

describe('modelSaveQuantizedWeights', () => {
  it("QKeras's auto_po2 forms: q(w)*m/m_i and scale*m_i/m (utils_test values), plus integer codes", async () => {
    const model = scaleFreezingModel();
    const saved = await modelSaveQuantizedWeights(model);
    expect(Object.keys(saved)).toEqual(['conv', 'dw_conv', 'dense']);
    const conv = saved['conv']!;
    expect(conv.weights[0]!.shape).toEqual([2, 2, 1, 4]);
    expect(values(conv.weights[0]!)).toEqual([0.5, 6, 0, 0.5, 1, 0, 0.5, 3.5, -2, 3, 3.5, -0.5, -3.5, 1, -3.5, 3.5]);
    expect(conv.scales![0]!.shape).toEqual([1, 1, 1, 4]);
    expect(values(conv.scales![0]!)).toEqual([0.25, 0.5, 0.25, 0.25]);
    expect(conv.enable_bn_fusing).toBe(false);
    expect(conv.signs).toBeUndefined();
    expect(values(saved['dw_conv']!.weights[0]!)).toEqual([0, 14, 8, 4, 0, 6, -2, 4, -2, -42, 46, -4, -42, 2, -8, 12]);
    expect(values(saved['dense']!.scales![0]!)).toEqual([0.25, 0.25]);
    expect(saved['dense']!.scales![1]).toBeNull();

    // The additions: integer codes with q(w) = codes * scale, and q(w) written back into the model.
    const written = model.getLayer('conv').getWeights()[0]!.dataSync();
    const auto = conv.auto_po2[0]!;
    expect(values(auto.scale)).toEqual([0.25, 0.5, 0.25, 0.25]);
    const codes = Array.from(auto.codes.data);
    expect(codes.every((c) => Number.isInteger(c) && Math.abs(c) <= 7)).toBe(true);
    expect(codes.map((c, i) => c * auto.scale.data[i % 4]!)).toEqual(Array.from(written));
    expect(conv.po2).toEqual([null]);
    // Bias of dense is not auto_po2: no codes for it.
    expect(saved['dense']!.auto_po2[1]).toBeNull();
  });

  it('po2 weights: exponents, signs for quantized_po2 only, and sign/exponent pairs for both', async () => {
    const layer = new QDense({ inputShape: [2], units: 2, kernelQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_relu_po2(4)', name: 'p' });
    const model = tf.sequential({ layers: [layer], name: 'po2' });
    layer.setWeights([tf.tensor([[0.5, -0.26], [2.1, -0.124]]), tf.tensor([0.25, -1])]);
    const saved = await modelSaveQuantizedWeights(model);
    const e = saved['p']!;
    expect(values(e.weights[0]!)).toEqual([-1, -2, 1, -3]);
    expect(values(e.signs![0]!)).toEqual([1, -1, 1, -1]);
    expect(values(e.po2[0]!.sign)).toEqual([1, -1, 1, -1]);
    expect(values(e.po2[0]!.exponent)).toEqual([-1, -2, 1, -3]);
    // The layer has a quantized_po2 weight, so QKeras emits `signs` for every po2 weight of it, the
    // relu_po2 bias included (sign with 0 -> +1); its hardware weight is the exponent too.
    const bias = Array.from(layer.getWeights()[1]!.dataSync());
    expect(values(e.signs![1]!)).toEqual(bias.map((v) => (v < 0 ? -1 : 1)));
    expect(values(e.weights[1]!)).toEqual(bias.map((v) => Math.round(Math.log2(Math.abs(v)))));
    expect(values(e.po2[1]!.sign)).toEqual(bias.map((v) => (v > 0 ? 1 : v < 0 ? -1 : 0)));
    expect(e.scales).toBeUndefined();
  });

  it('pooling layers report the quantized reciprocal of the pool area', async () => {
    const x = tf.input({ shape: [3, 3, 2] });
    const avg = new QAveragePooling2D({ poolSize: [2, 2], strides: 1, averageQuantizer: 'quantized_bits(4,0,1)', name: 'avg' }).apply(x) as tf.SymbolicTensor;
    const gap = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(8,1,1)', name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: [avg, gap] });
    const saved = await modelSaveQuantizedWeights(model);
    expect(saved['avg']).toMatchObject({ weights: [], q_mult_factor: 0.25, mult_factor: 0.25, pool_area: 4, enable_bn_fusing: false });
    // QKeras's example: quantized_bits(8,1,1)(1/9) = 0.109375.
    expect(saved['gap']).toMatchObject({ q_mult_factor: 0.109375, mult_factor: 1 / 9, pool_area: 9 });
  });

  it('saves the quantized model: a directory gets model.json + weights.bin, a .h5 path a Keras file', async () => {
    const model = scaleFreezingModel();
    const out = join(dir, 'tfjs');
    await modelSaveQuantizedWeights(model, out);
    expect(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin'))).toBe(true);
    const loaded = await loadQmodel(out);
    expect(Array.from(loaded.getLayer('conv').getWeights()[0]!.dataSync())).toEqual(Array.from(model.getLayer('conv').getWeights()[0]!.dataSync()));
    const h5 = join(dir, 'q.h5');
    await modelSaveQuantizedWeights(model, h5);
    const imported = await importKeras(h5);
    expect(Array.from(imported.getLayer('dense').getWeights()[0]!.dataSync())).toEqual(Array.from(model.getLayer('dense').getWeights()[0]!.dataSync()));
  });
});
