/**
 * cloneModelAndFreezeAutoPo2Scale against QKeras's utils_test (`create_test_model_for_scale_freezing`,
 * `test_clone_model_and_freeze_auto_po2_scale`, `..._serialization`, `..._error` = vector 250), plus the
 * cases QKeras leaves unchecked: outputs unchanged, the original model untouched, graphs that are not a
 * chain, batch norms without a convolution before them, and the unsupported cases as typed errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QBatchNormalization, QConv1D, QConv2D, QDense, QDepthwiseConv2D } from '../../src/layers/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { QuantizedBits } from '../../src/quantizers/quantized-bits.js';
import { cloneModelAndFreezeAutoPo2Scale, FreezeAutoPo2Error } from '../../src/utils/freeze-auto-po2.js';
import type { WeightArray } from '../../src/utils/quantized-weights.js';
import { loadQmodel, saveQmodel } from '../../src/utils/save-load.js';
import { loadVectors } from '../helpers/qkeras-vectors.js';

const tmp = mkdtempSync(join(tmpdir(), 'qk-freeze-'));

beforeAll(async () => {
  await ready();
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** QKeras `create_test_model_for_scale_freezing(bias_quantizer)`, layers, arguments and weights as there. */
function createTestModelForScaleFreezing(biasQuantizer: string): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 1], name: 'input' });
  let x = new QConv2D({
    filters: 4,
    kernelSize: 2,
    strides: 2,
    kernelQuantizer: "quantized_bits(4,2,1,alpha='auto_po2')",
    biasQuantizer: 'quantized_bits(4,2,1)',
    useBias: false,
    name: 'conv',
  }).apply(input) as tf.SymbolicTensor;
  x = new QDepthwiseConv2D({
    kernelSize: 2,
    strides: 1,
    depthwiseQuantizer: "quantized_bits(6,3,1,alpha='auto_po2')",
    useBias: false,
    biasQuantizer: 'quantized_bits(4,2,1)',
    name: 'dw_conv',
  }).apply(x) as tf.SymbolicTensor;
  x = new QBatchNormalization({
    meanQuantizer: 'quantized_bits(4,2,1)',
    gammaQuantizer: null,
    varianceQuantizer: null,
    betaQuantizer: 'quantized_bits(4,0,1)',
    inverseQuantizer: "quantized_bits(8,0,1,alpha='auto_po2')",
    name: 'bn',
  }).apply(x) as tf.SymbolicTensor;
  x = new QActivation({ activation: 'quantized_bits(4,0)', name: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({
    units: 2,
    kernelQuantizer: "quantized_bits(4,2,1,alpha='auto_po2')",
    biasQuantizer,
    name: 'dense',
  }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });

  const set = (name: string, weights: [number[], number[]][]): void => {
    const ts = weights.map(([v, shape]) => tf.tensor(v, shape));
    model.getLayer(name).setWeights(ts);
    tf.dispose(ts);
  };
  set('conv', [[[0.23, 2.76, 0.1, 0.33, 0.53, 0.16, 0.3, 1.7, -0.9, 1.43, 2.31, -0.2, -1.7, 0.39, -2.03, 1.79], [2, 2, 1, 4]]]);
  set('dw_conv', [[[0.03, 3.6, 2.1, 1.2, 0.13, 1.3, -0.3, 1.2, -0.7, -10.3, 11.7, -0.92, -10.7, 0.59, -1.93, 2.8], [2, 2, 4, 1]]]);
  set('bn', [
    [[0.28, 1.33, 2.27, 3.36], [4]],
    [[0.31, 0.1, 0.03, 4.26], [4]],
    [[0.89, -0.21, 1.97, 2.06], [4]],
    [[1.2, 0.9, 13.2, 10.9], [4]],
  ]);
  set('dense', [
    [[0.13, 0.66, 0.21, 0.23, 1.07, -0.79, 1.83, 1.81], [4, 2]],
    [[-1.3, 0.7], [2]],
  ]);
  return model;
}

/** Deterministic inputs in [-4, 4) (a small LCG, so no global RNG state is involved). */
function randomInput(shape: number[], seed: number): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 8 - 4;
  });
  return tf.tensor(values, shape);
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function expectArray(actual: WeightArray | null | undefined, shape: number[], values: number[]): void {
  expect(actual).toBeDefined();
  expect(actual!.shape).toEqual(shape);
  expect(Array.from(actual!.data)).toEqual(values);
}

function quantizerOf(model: tf.LayersModel, layer: string, index: number): Quantizer | null {
  return (model.getLayer(layer) as unknown as { getQuantizers(): (Quantizer | null)[] }).getQuantizers()[index] ?? null;
}

function postTrainingScale(q: Quantizer | null): unknown {
  expect(q).toBeInstanceOf(QuantizedBits);
  return (q as QuantizedBits).postTrainingScale;
}

describe('cloneModelAndFreezeAutoPo2Scale (QKeras utils_test)', () => {
  it('test_clone_model_and_freeze_auto_po2_scale: hw weights and scales of the frozen model', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const { model, hwWeights } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(hwWeights).not.toBeNull();
    const hw = hwWeights!;

    expectArray(hw['conv']!.weights[0], [2, 2, 1, 4], [0.5, 6, 0, 0.5, 1, 0, 0.5, 3.5, -2, 3, 3.5, -0.5, -3.5, 1, -3.5, 3.5]);
    expectArray(hw['conv']!.scales?.[0], [1, 1, 1, 4], [0.25, 0.5, 0.25, 0.25]);
    expectArray(hw['dw_conv']!.weights[0], [2, 2, 4, 1], [0, 14, 8, 4, 0, 6, -2, 4, -2, -42, 46, -4, -42, 2, -8, 12]);
    expectArray(hw['dense']!.scales?.[0], [1, 2], [0.25, 0.25]);

    // Every auto_po2 quantizer of the new model has a fixed scale: q.scale of the original's quantizers.
    // (q.scale = scales · m / m_i, i.e. twice the hw scales for quantized_bits(4,2,1).)
    expect(postTrainingScale(quantizerOf(model, 'conv', 0))).toEqual([[[[0.5, 1, 0.5, 0.5]]]]);
    expect(postTrainingScale(quantizerOf(model, 'dense', 0))).toEqual([[0.5, 0.5]]);
    expect(postTrainingScale(quantizerOf(model, 'dw_conv', 0))).not.toBeNull();
    expect(postTrainingScale(quantizerOf(model, 'bn', 4))).not.toBeNull();
    for (const [layer, index] of [['conv', 0], ['dw_conv', 0], ['bn', 4], ['dense', 0]] as const) {
      const q = quantizerOf(model, layer, index) as QuantizedBits;
      expect(q.freezeScale).toBe(true);
      expect(q.toString()).toBe(quantizerOf(original, layer, index)!.toString());
    }
    // Other quantizers are cloned unchanged.
    expect(quantizerOf(model, 'dense', 1)!.toString()).toBe('quantized_bits(4,2,1)');
    expect(quantizerOf(model, 'bn', 1)!.toString()).toBe('quantized_bits(4,0,1)');
    model.dispose();
    original.dispose();
  });

  it('test_clone_model_and_freeze_auto_po2_scale_serialization: saveQmodel/loadQmodel keep the frozen scales', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const { model } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    const dir = join(tmp, 'serialization');
    await saveQmodel(model, dir);
    const loaded = await loadQmodel(dir);

    for (const [layer, index] of [['conv', 0], ['dw_conv', 0], ['bn', 4], ['dense', 0]] as const) {
      const before = quantizerOf(model, layer, index) as QuantizedBits;
      const after = quantizerOf(loaded, layer, index) as QuantizedBits;
      expect(after.toString()).toBe(before.toString());
      expect(after.getConfig()['post_training_scale']).toEqual(before.getConfig()['post_training_scale']);
      expect(after.postTrainingScale).toEqual(before.postTrainingScale);
      expect(after.freezeScale).toBe(true);
    }
    const x = randomInput([16, 4, 4, 1], 7);
    expect(predict(loaded, x)).toEqual(predict(model, x));
    x.dispose();
    loaded.dispose();
    model.dispose();
    original.dispose();
  });

  it('test_clone_model_and_freeze_auto_po2_scale_error: two auto_po2 quantizers in a layer (vector 250)', async () => {
    const vector = loadVectors().find((v) => v.id === 250);
    expect(vector).toBeDefined();
    expect(vector!.test_name).toBe('test_clone_model_and_freeze_auto_po2_scale_error');
    expect(vector!.quantizer).toBe('clone_model_and_freeze_auto_po2_scale');
    expect(JSON.stringify(vector!.expected)).toContain('more than one auto_po2 quantizer');
    // The vector's input: the same model with dense bias_quantizer=quantized_bits(4,2,1,alpha='auto_po2').
    const biasSpec = /bias_quantizer=(quantized_bits\(.*\))$/.exec(String(vector!.input))?.[1];
    expect(biasSpec).toBe("quantized_bits(4,2,1,alpha='auto_po2')");

    const original = createTestModelForScaleFreezing(biasSpec!);
    const error = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeAutoPo2Error);
    const issues = (error as FreezeAutoPo2Error).issues;
    expect(issues.map((i) => [i.layer, i.className])).toEqual([['dense', 'QDense']]);
    expect((error as Error).message).toContain('layer "dense" (QDense) has more than one auto_po2 quantizer');
    expect((error as Error).message).toContain("kernel=quantized_bits(4,2,1,alpha='auto_po2'), bias=quantized_bits(4,2,1,alpha='auto_po2')");
    original.dispose();
  });
});

describe('cloneModelAndFreezeAutoPo2Scale (beyond QKeras)', () => {
  it('leaves the outputs unchanged, with float or quantized weights, and does not touch the original', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const floatWeights = original.getWeights().map((w) => Array.from(w.dataSync()));
    const x = randomInput([64, 4, 4, 1], 11);
    const expected = predict(original, x);

    const plain = await cloneModelAndFreezeAutoPo2Scale(original);
    expect(plain.hwWeights).toBeNull();
    // Float weights are copied as they are.
    expect(plain.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(floatWeights);
    expect(predict(plain.model, x)).toEqual(expected);

    const quantized = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(predict(quantized.model, x)).toEqual(expected);
    // The conv kernel now holds q(w): hw weight * m_i / m.
    const conv = Array.from(quantized.model.getLayer('conv').getWeights()[0]!.dataSync());
    expect(conv).toEqual(Array.from(quantized.hwWeights!['conv']!.weights[0]!.data, (v) => (v * 4) / 8));

    // The original keeps its float weights and its adaptive quantizers.
    expect(original.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(floatWeights);
    expect((quantizerOf(original, 'conv', 0) as QuantizedBits).postTrainingScale).toBeNull();
    expect((quantizerOf(original, 'conv', 0) as QuantizedBits).freezeScale).toBe(false);
    expect(predict(original, x)).toEqual(expected);

    // A frozen model freezes to the same model.
    const again = await cloneModelAndFreezeAutoPo2Scale(plain.model, { quantizeModelWeights: true });
    expect(postTrainingScale(quantizerOf(again.model, 'conv', 0))).toEqual(postTrainingScale(quantizerOf(plain.model, 'conv', 0)));
    expect(predict(again.model, x)).toEqual(expected);

    x.dispose();
    for (const m of [plain.model, quantized.model, again.model, original]) m.dispose();
  });

  it('keeps the scales fixed when the weights change (retraining)', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const { model } = await cloneModelAndFreezeAutoPo2Scale(original);
    const frozenScale = postTrainingScale(quantizerOf(model, 'conv', 0));
    // Doubling the kernel doubles the adaptive scale of the original, not the frozen one.
    for (const m of [original, model]) {
      const k = m.getLayer('conv').getWeights()[0]!;
      const doubled = tf.mul(k, 2);
      m.getLayer('conv').setWeights([doubled]);
      doubled.dispose();
    }
    const x = randomInput([4, 4, 4, 1], 3);
    predict(original, x);
    predict(model, x);
    const scaleOf = (m: tf.LayersModel): number[] => Array.from((quantizerOf(m, 'conv', 0)!.scale as tf.Tensor).dataSync());
    expect(scaleOf(original)).toEqual([1, 2, 1, 1]);
    expect(scaleOf(model)).toEqual([0.5, 1, 0.5, 0.5]);
    expect(frozenScale).toEqual([[[[0.5, 1, 0.5, 0.5]]]]);
    x.dispose();
    model.dispose();
    original.dispose();
  });

  it('loads the original from a saved model directory', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const dir = join(tmp, 'from-path');
    await saveQmodel(original, dir);
    const fromPath = await cloneModelAndFreezeAutoPo2Scale(dir, { quantizeModelWeights: true });
    const fromModel = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(fromPath.hwWeights).toEqual(fromModel.hwWeights);
    const x = randomInput([8, 4, 4, 1], 5);
    expect(predict(fromPath.model, x)).toEqual(predict(fromModel.model, x));
    x.dispose();
    for (const m of [fromPath.model, fromModel.model, original]) m.dispose();
  });

  it('rebuilds branching graphs and freezes a batch norm that follows a dense layer', async () => {
    const input = tf.input({ shape: [6], name: 'in' });
    const shared = new QDense({ units: 6, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'shared' });
    const a = shared.apply(input) as tf.SymbolicTensor;
    const bn = new QBatchNormalization({
      gammaQuantizer: null,
      varianceQuantizer: null,
      inverseQuantizer: "quantized_bits(6,2,1,alpha='auto_po2')",
      name: 'bn',
    }).apply(a) as tf.SymbolicTensor;
    const b = shared.apply(bn) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'add' }).apply([a, b]) as tf.SymbolicTensor;
    const head = new QDense({ units: 2, kernelQuantizer: "quantized_bits(5,1,1,alpha='auto_po2')", useBias: true, name: 'head' }).apply(sum) as tf.SymbolicTensor;
    const original = tf.model({ inputs: input, outputs: [head, b], name: 'branchy' });
    const seeds = original.getWeights().map((w, i) => randomInput(w.shape, 100 + i));
    const positiveVariance = seeds.map((w, i) => (original.weights[i]!.name.includes('moving_variance') ? tf.abs(w) : w));
    original.setWeights(positiveVariance);
    tf.dispose([...seeds, ...positiveVariance]);

    const { model, hwWeights } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(model.name).toBe('branchy');
    expect(model.layers.map((l) => l.name)).toEqual(original.layers.map((l) => l.name));
    // The kernel quantizer of `shared` (alpha=None) became auto_po2 in the layer, so it is frozen too.
    expect(postTrainingScale(quantizerOf(model, 'shared', 0))).not.toBeNull();
    expect(postTrainingScale(quantizerOf(model, 'head', 0))).not.toBeNull();
    const inverse = postTrainingScale(quantizerOf(model, 'bn', 4)) as number[];
    expect(inverse).toHaveLength(6);
    expect(inverse.every((s) => Number.isInteger(Math.log2(s)))).toBe(true);
    // No batch-norm fusing here: the inverse scale is the one inference uses.
    expect(hwWeights!['bn']!.enable_bn_fusing).toBe(false);

    const x = randomInput([32, 6], 9);
    const before = tf.tidy(() => (original.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync())));
    const after = tf.tidy(() => (model.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync())));
    expect(after).toEqual(before);
    x.dispose();
    model.dispose();
    original.dispose();
  });

  it('rebuilds a tf.sequential model', async () => {
    const original = tf.sequential({
      name: 'seq',
      layers: [
        new QDense({ units: 4, inputShape: [5], kernelQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", name: 's1' }),
        new QActivation({ activation: 'quantized_relu(3)', name: 's2' }),
        new QDense({ units: 2, kernelQuantizer: "quantized_bits(6,1,1,alpha='auto_po2')", name: 's3' }),
      ],
    });
    const seeds = original.getWeights().map((w, i) => randomInput(w.shape, 40 + i));
    original.setWeights(seeds);
    tf.dispose(seeds);
    const { model } = await cloneModelAndFreezeAutoPo2Scale(original);
    expect(model.layers.map((l) => l.name)).toEqual(['s1_input', 's1', 's2', 's3']);
    expect(postTrainingScale(quantizerOf(model, 's1', 0))).not.toBeNull();
    expect(postTrainingScale(quantizerOf(model, 's3', 0))).not.toBeNull();
    const x = randomInput([16, 5], 21);
    expect(predict(model, x)).toEqual(predict(original, x));
    x.dispose();
    model.dispose();
    original.dispose();
  });

  it('freezes an auto_po2 bias quantizer in the bias slot (QKeras would move it to the kernel)', async () => {
    const input = tf.input({ shape: [3], name: 'in' });
    const out = new QDense({
      units: 2,
      kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)',
      biasQuantizer: "quantized_bits(4,2,1,alpha='auto_po2')",
      name: 'd',
    }).apply(input) as tf.SymbolicTensor;
    const original = tf.model({ inputs: input, outputs: out });
    const k = tf.tensor([0.1, -0.4, 0.3, 0.7, -0.2, 0.5], [3, 2]);
    const bias = tf.tensor([1.3, -2.6]);
    original.setWeights([k, bias]);
    tf.dispose([k, bias]);
    const { model } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(quantizerOf(model, 'd', 0)!.toString()).toBe('quantized_bits(4,0,1,alpha=1)');
    expect((quantizerOf(model, 'd', 0) as QuantizedBits).postTrainingScale).toBeNull();
    expect(postTrainingScale(quantizerOf(model, 'd', 1))).not.toBeNull();
    model.dispose();
    original.dispose();
  });

  it('lists every unsupported layer at once', async () => {
    const input = tf.input({ shape: [8, 2], name: 'in' });
    let x = new QConv1D({ filters: 2, kernelSize: 3, kernelQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", name: 'c1' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.flatten({ name: 'f' }).apply(x) as tf.SymbolicTensor;
    x = new QDense({ units: 2, kernelQuantizer: "binary(alpha='auto_po2')", name: 'bin' }).apply(x) as tf.SymbolicTensor;
    x = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", useBias: false, name: 'nobias' }).apply(x) as tf.SymbolicTensor;
    const original = tf.model({ inputs: input, outputs: x });
    const error = await cloneModelAndFreezeAutoPo2Scale(original).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeAutoPo2Error);
    const issues = (error as FreezeAutoPo2Error).issues;
    expect(issues.map((i) => [i.layer, i.className])).toEqual([
      ['c1', 'QConv1D'],
      ['bin', 'QDense'],
    ]);
    expect(issues[0]!.detail).toContain("kernel=quantized_bits(4,0,1,alpha='auto_po2')) whose scale cannot be frozen; supported: QConv2D");
    expect(issues[1]!.detail).toContain("binary(alpha='auto_po2'); only quantized_bits takes a post_training_scale");

    // Once those are fixed, a quantizer that never quantizes a weight is reported.
    const input2 = tf.input({ shape: [4], name: 'in' });
    const y = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", useBias: false, name: 'nobias' }).apply(input2) as tf.SymbolicTensor;
    const model2 = tf.model({ inputs: input2, outputs: y });
    const error2 = await cloneModelAndFreezeAutoPo2Scale(model2).catch((e: unknown) => e);
    expect(error2).toBeInstanceOf(FreezeAutoPo2Error);
    expect((error2 as Error).message).toContain('layer "nobias" (QDense) has the auto_po2 bias quantizer');
    expect((error2 as Error).message).toContain('which quantizes no weight');
    model2.dispose();
    original.dispose();
  });

  it('rejects auto_po2 quantizers inside a nested model', async () => {
    const innerIn = tf.input({ shape: [4], name: 'inner_in' });
    const innerOut = new QDense({ units: 2, kernelQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", name: 'inner_dense' }).apply(innerIn);
    const inner = tf.model({ inputs: innerIn, outputs: innerOut as tf.SymbolicTensor, name: 'inner' });
    const input = tf.input({ shape: [4], name: 'outer_in' });
    const original = tf.model({ inputs: input, outputs: inner.apply(input) as tf.SymbolicTensor });
    const error = await cloneModelAndFreezeAutoPo2Scale(original).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeAutoPo2Error);
    expect((error as Error).message).toContain('layer "inner" (Model) is a nested model with auto_po2 quantizers');
    original.dispose();
  });

  it('does not leak tensors', async () => {
    const original = createTestModelForScaleFreezing('quantized_bits(4,2,1)');
    const first = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    first.model.dispose();
    const before = tf.memory().numTensors;
    const { model } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    // The new model's auto_po2 quantizers keep their scales after their calls; dispose() frees them too.
    const kept = model.layers
      .flatMap((l) => (l as unknown as { getQuantizers?: () => (Quantizer | null)[] }).getQuantizers?.() ?? [])
      .filter((q) => q !== null && q.scale instanceof tf.Tensor).length;
    expect(kept).toBe(4);
    model.dispose();
    expect(tf.memory().numTensors - before).toBe(0);
    original.dispose();
  });
});
