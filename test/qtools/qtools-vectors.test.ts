/**
 * QKeras's QTools vectors (kinds `qtools` and `qtools_energy`): each model is built as the QKeras test
 * builds it and the expected fields of the `map_to_json` output (or of the energy estimate) are compared
 * exactly (energies within the vector's `abs` tolerance). Vectors that need layers qkeras-ts does not have
 * yet (NEEDS_LAYER) run once the layer is registered and are skipped, visibly, until then.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QActivation,
  QAveragePooling2D,
  QConv2D,
  QDense,
  QDepthwiseConv2D,
  QGlobalAveragePooling2D,
} from '../../src/layers/index.js';
import { quantized_bits } from '../../src/quantizers/factories.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';
import { modelSaveQuantizedWeights } from '../../src/utils/quantized-weights.js';
import {
  QTools,
  WrongInputQuantizerError,
  adjustMultiplierForAutoPo2,
  makeAdder,
  makeMultiplier,
  makeQuantizer,
  qtools,
  type QToolsJson,
} from '../../src/qtools/index.js';
import { makeDivider, QToolsOperatorError } from '../../src/qtools/operators.js';
import { loadVectors, type Vector } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

const byId = new Map(loadVectors().map((v) => [Number(v.id), v]));
function vector(id: number): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`vector ${id} missing`);
  return v;
}

/**
 * Vectors whose models need layers that may not be registered yet: their tests run once the layer is
 * registered (imported through src/layers/index.js) and are skipped, visibly, until then.
 */
const NEEDS_LAYER: Readonly<Record<number, string>> = {
  176: 'QConv2DBatchnorm',
  177: 'QBatchNormalization',
  178: 'QBatchNormalization',
};
const HANDLED = [136, 179, 181, 183, 186, 187, 188, 189, 190, 191, 232, 233, 234, 176, 177, 178];

type LayerCtor = new (args: Record<string, unknown>) => tf.layers.Layer;
/** The registered class of a QKeras layer name, or undefined. */
function layerClass(name: string): LayerCtor | undefined {
  return tf.serialization.SerializationMap.getMap().classNameMap[name]?.[0] as unknown as LayerCtor | undefined;
}

const q = (s: string) => getQuantizer(s)!;

/** Every expected field of every expected entry equals the actual one (QKeras's tests assert fields). */
function expectFields(json: QToolsJson, expected: Record<string, Record<string, Record<string, unknown>>>): void {
  for (const [layer, entries] of Object.entries(expected)) {
    const actual = json[layer] as Record<string, unknown> | undefined;
    expect(actual, `layer ${layer}`).toBeDefined();
    for (const [key, fields] of Object.entries(entries)) {
      expect(actual![key], `${layer}.${key}`).toMatchObject(fields);
    }
  }
}

describe('QKeras qtools / qtools_energy vectors', () => {
  it('covers every qtools and qtools_energy vector', () => {
    const ids = loadVectors()
      .filter((v) => v.kind === 'qtools' || v.kind === 'qtools_energy')
      .map((v) => Number(v.id))
      .sort((a, b) => a - b);
    expect(ids).toEqual([...HANDLED].sort((a, b) => a - b));
  });

  it('136 QAveragePooling2D / QGlobalAveragePooling2D: sum accumulator, average multiplier, activation output', () => {
    const v = vector(136);
    const x = tf.input({ shape: [16, 16, 3] });
    let y = new QAveragePooling2D({ poolSize: [2, 2], averageQuantizer: 'binary()', activation: 'quantized_bits(4,0,1)', name: 'pooling' }).apply(x) as tf.SymbolicTensor;
    y = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(4,0,1)', activation: 'ternary()', name: 'global_pooling' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const json = qtools(model, { source_quantizers: [q('quantized_bits(8, 0, 1)')], is_inference: false });
    expectFields(json, v.expected as never);
  });

  it('179 wrong number of input quantizers', () => {
    const a = tf.input({ shape: [16] });
    const b = tf.input({ shape: [32] });
    const y = tf.layers.add().apply([
      new QDense({ units: 8, kernelQuantizer: 'quantized_bits(5,0,1)', biasQuantizer: 'quantized_bits(5,0,1)' }).apply(a) as tf.SymbolicTensor,
      new QDense({ units: 8, kernelQuantizer: 'quantized_bits(5,0,1)', biasQuantizer: 'quantized_bits(5,0,1)' }).apply(b) as tf.SymbolicTensor,
    ]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: y });
    const sources = (vector(179).input as { input_quantizers: string[] }).input_quantizers.map(q);
    expect(() => qtools(model, { sourceQuantizers: sources })).toThrow(WrongInputQuantizerError);
    expect(() => qtools(model, { sourceQuantizers: sources })).toThrow(/2 inputs but 3 source quantizers/);
  });

  it('181 qdense_model_fork: binary weight x unsigned 4-bit input is a mux', () => {
    const v = vector(181);
    const x = tf.input({ shape: [23], name: 'input' });
    let h = new QDense({ units: 10, kernelQuantizer: q('quantized_bits(5,0,1)'), biasQuantizer: q('quantized_bits(5,0,1)'), activation: q('quantized_po2(3,1)'), name: 'qdense_0' }).apply(x) as tf.SymbolicTensor;
    h = new QDense({ units: 20, kernelQuantizer: q('quantized_bits(5,0,1)'), biasQuantizer: q('quantized_bits(5,0,1)'), activation: q('quantized_relu(6,2)'), name: 'qdense_1' }).apply(h) as tf.SymbolicTensor;
    h = new QActivation({ activation: 'quantized_relu(4)', name: 'QA_2' }).apply(h) as tf.SymbolicTensor;
    const x1 = new QDense({ units: 30, kernelQuantizer: q('binary()'), biasQuantizer: q('binary()'), name: 'qdense_3' }).apply(h) as tf.SymbolicTensor;
    const x2 = new QActivation({ activation: 'quantized_relu(6,2)', name: 'QA_3' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: [x1, x2] });
    const json = qtools(model, { sourceQuantizers: [q('quantized_bits(4, 0, 1)')] });
    expectFields(json, v.expected as never);
  });

  function threeInputDense(activations: string[], merge: (xs: tf.SymbolicTensor[]) => tf.SymbolicTensor): tf.LayersModel {
    const inputs = [16, 32, 64].map((n, i) => tf.input({ shape: [n], name: `input_${i}` }));
    const outs = inputs.map(
      (inp, i) =>
        new QDense({ units: 8, kernelQuantizer: q('quantized_bits(5,0,1)'), biasQuantizer: q('quantized_bits(5,0,1)'), activation: q(activations[i]!), name: `dense_${i}` }).apply(inp) as tf.SymbolicTensor,
    );
    return tf.model({ inputs, outputs: merge(outs) });
  }

  const threeSources = (): ReturnType<typeof q>[] => ['quantized_bits(4, 0, 1)', 'quantized_bits(5, 0, 1)', 'quantized_bits(6, 0, 1)'].map(q);

  it('183 Add of three quantized Dense outputs: max bits + 1', () => {
    const model = threeInputDense(['quantized_bits(4,0,1)', 'quantized_bits(5,0,0)', 'quantized_bits(6,0,1)'], (xs) => tf.layers.add({ name: 'add' }).apply(xs) as tf.SymbolicTensor);
    expectFields(qtools(model, { sourceQuantizers: threeSources() }), vector(183).expected as never);
  });

  it('186 Concatenate of three QConv2D accumulators: widest input', () => {
    const qs = ['quantized_bits(4,0,1)', 'quantized_bits(5,0,0)', 'quantized_bits(6,0,1)'];
    const inputs = qs.map((_s, i) => tf.input({ shape: [16, 16, 1], name: `input_${i}` }));
    const outs = inputs.map(
      (inp, i) =>
        new QConv2D({ filters: [16, 32, 64][i]!, kernelSize: 2, strides: 2, kernelQuantizer: q(qs[i]!), biasQuantizer: q(qs[i]!), name: `conv2d_${i}` }).apply(inp) as tf.SymbolicTensor,
    );
    const model = tf.model({ inputs, outputs: tf.layers.concatenate({ axis: -1, name: 'concatenate' }).apply(outs) as tf.SymbolicTensor });
    expectFields(qtools(model, { sourceQuantizers: threeSources() }), vector(186).expected as never);
  });

  it('187 Keras AveragePooling2D / GlobalAveragePooling2D: input bits + ceil(log2(area))', () => {
    const x = tf.input({ shape: [16, 16, 3], name: 'input' });
    let y = tf.layers.averagePooling2d({ poolSize: [2, 2], padding: 'valid', name: 'avg_pooling' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.globalAveragePooling2d({ name: 'global_avg_pooling' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const json = qtools(model, { sourceQuantizers: [q('quantized_bits(8, 0, 1)')] });
    expectFields(json, vector(187).expected as never);
  });

  it('188 energy of the reference and trial models', () => {
    const v = vector(188);
    // The QKeras model's d1_qr4 is QAdaptiveActivation('quantized_relu', 4). Until that layer is
    // registered an equal-width QActivation stands in: every number here depends only on its 4-bit
    // unsigned output and its class's energy rule (outputs only), which QActivation shares.
    const Adaptive = layerClass('QAdaptiveActivation');
    const d1qr4 = Adaptive
      ? new Adaptive({ activation: 'quantized_relu', totalBits: 4, name: 'd1_qr4' })
      : new QActivation({ activation: 'quantized_relu(4,0)', name: 'd1_qr4' });
    const x = tf.input({ shape: [784], name: 'input' });
    let h = new QDense({ units: 300, kernelQuantizer: q('binary()'), biasQuantizer: q('binary()'), name: 'd0' }).apply(x) as tf.SymbolicTensor;
    h = new QActivation({ activation: 'quantized_relu(4,0)', name: 'd0_qr4' }).apply(h) as tf.SymbolicTensor;
    h = new QDense({ units: 100, kernelQuantizer: q('quantized_bits(4,0,1)'), biasQuantizer: q('quantized_bits(4,0,1)'), name: 'd1' }).apply(h) as tf.SymbolicTensor;
    h = d1qr4.apply(h) as tf.SymbolicTensor;
    h = new QDense({ units: 10, kernelQuantizer: q('quantized_bits(4,0,1)'), biasQuantizer: q('quantized_bits(4,0,1)'), name: 'd2' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: h });
    const input = v.input as { QTools: Record<string, unknown>; pe: Record<string, unknown> };
    const expected = v.expected as Record<string, Record<string, Record<string, number>>> & Record<string, number>;
    const tol = (v.tolerance as { abs: number }).abs;
    for (const [key, forReference, total] of [
      ['reference(for_reference=True)', true, expected['int(reference_size)']],
      ['trial(for_reference=False)', false, expected['int(trial_size)']],
    ] as const) {
      const tools = new QTools(model, { ...input.QTools, for_reference: forReference });
      const energy = tools.pe(input.pe);
      for (const [layer, terms] of Object.entries(expected[key] as Record<string, Record<string, number>>)) {
        for (const [term, value] of Object.entries(terms)) {
          const got = energy.layers[layer]!.energy[term as 'inputs'];
          expect(Math.abs(got - value), `${key} ${layer}.${term}: ${got} vs ${value}`).toBeLessThanOrEqual(tol);
        }
      }
      expect(tools.extractEnergySum(null, energy)).toBe(total);
    }
  });

  it('189 auto_po2 kernels: multiplier unadjusted, fused accumulator widened by the forced scales', () => {
    const v = vector(189);
    const x = tf.input({ shape: [32, 32, 3] });
    const conv = new QConv2D({ filters: 5, kernelSize: 4, strides: 4, kernelQuantizer: q("quantized_bits(8,3,alpha='auto_po2')"), biasQuantizer: q('quantized_bits(8,3)'), name: 'conv' });
    let y = conv.apply(x) as tf.SymbolicTensor;
    y = new QActivation({ activation: q('quantized_relu(4,0)'), name: 'act' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
    const dense = new QDense({ units: 5, kernelQuantizer: q("quantized_bits(8,0,alpha='auto_po2')"), biasQuantizer: q('quantized_bits(8,3)'), name: 'dense' });
    y = dense.apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    // As the QKeras test does, assign the scales directly.
    const forced = v.input as { forced_scales: { conv: number[][][][]; dense: number[][] } };
    conv.getQuantizers()[0]!.scale = tf.keep(tf.tensor(forced.forced_scales.conv));
    dense.getQuantizers()[0]!.scale = tf.keep(tf.tensor(forced.forced_scales.dense));
    const json = qtools(model, { sourceQuantizers: [q('quantized_bits(bits=8, integer=0, keep_negative=False)')] });
    expectFields(json, v.expected as never);
  });

  it('190 FixedPointAdder of quantized_bits(8,3) and quantized_bits(16,4)', () => {
    const r = makeAdder(makeQuantizer(q('quantized_bits(8, 3)'), 'fp32'), makeQuantizer(q('quantized_bits(16, 4)'), 'fp32'));
    const e = vector(190).expected as Record<string, number>;
    expect(r.output.bits).toBe(e['output.bits']);
    expect(r.output.intBits).toBe(e['output.int_bits']);
  });

  it('191 QDepthwiseConv2D accumulates only kh*kw products; the next layer reads its accumulator type', () => {
    const x = tf.input({ shape: [64, 64, 3], name: 'input' });
    let y = new QDepthwiseConv2D({ kernelSize: [1, 7], depthwiseQuantizer: q('quantized_bits(8,0,1,alpha=1.0)'), biasQuantizer: q('quantized_bits(12,6,1,alpha=1.0)'), name: 'dw_conv' }).apply(x) as tf.SymbolicTensor;
    y = new QConv2D({ filters: 16, kernelSize: [1, 1], biasQuantizer: q('quantized_bits(12,4,1,alpha=1.0)'), kernelQuantizer: q('quantized_bits(4,0,1,alpha=1.0)'), name: 'pw_conv' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    expectFields(qtools(model, { sourceQuantizers: [q('quantized_bits(8, 0, 1)')] }), vector(191).expected as never);
  });

  it('232-234 adjust_multiplier_for_auto_po2 (qtools-internal int bits, sign excluded)', () => {
    const weights = tf.tensor([[1.07, -1.7, 3.06, 1.93], [0.37, -2.43, 6.3, -2.9]]);
    for (const id of [232, 233, 234]) {
      const v = vector(id);
      const kind = (v.input as { weight_quantizer_scale_type: string }).weight_quantizer_scale_type;
      let weightQ: ReturnType<typeof q>;
      if (kind === '1.0') {
        weightQ = q('quantized_bits(8, 0)');
      } else {
        // The QKeras test's (w_bits, w_int_bits): (4, 2) for auto_po2, (4, 0) for post_training_scale.
        const integer = kind === 'auto_po2' ? 2 : 0;
        weightQ = q(`quantized_bits(bits=4, integer=${integer}, keep_negative=True, symmetric=True, alpha='auto_po2')`);
        weightQ.call(weights).dispose();
        if (kind === 'post_training_scale') {
          const scale = (weightQ.scale as tf.Tensor).arraySync() as number[][];
          weightQ = quantized_bits({ bits: 4, integer: 0, alpha: 'auto_po2', post_training_scale: scale });
        }
      }
      const mult = makeMultiplier(makeQuantizer(weightQ, 'fp32'), makeQuantizer(q('quantized_bits(4, 2, 1)'), 'fp32'));
      const e = v.expected as { before: { bits: number; int_bits: number }; after: { bits: number; int_bits: number } };
      expect([mult.output.bits, mult.output.intBits], `${id} before`).toEqual([e.before.bits, e.before.int_bits]);
      adjustMultiplierForAutoPo2(mult, weightQ);
      expect([mult.output.bits, mult.output.intBits], `${id} after`).toEqual([e.after.bits, e.after.int_bits]);
    }
    weights.dispose();
  });

  it('178 (rule only): a ternary variance cannot be a batch-norm divisor', () => {
    const ternary = makeQuantizer(q('ternary()'), 'fp32');
    const x = makeQuantizer(q('binary(use_01=0)'), 'fp32');
    expect(() => makeDivider(x, ternary)).toThrow(QToolsOperatorError);
    expect(() => makeDivider(x, ternary)).toThrow(/denominator quantizer ternary not accepted/);
  });

  it.runIf(layerClass(NEEDS_LAYER[177]!) !== undefined)('177 test_qbn_inference: fused accumulators of convolutions followed by QBatchNormalization', async () => {
    const QBN = layerClass('QBatchNormalization')!;
    const v = vector(177);
    const w = (v.input as { weights: Record<string, unknown[]> }).weights;
    const x = tf.input({ shape: [23, 23, 1] });
    const c1 = new QConv2D({ filters: 4, kernelSize: 2, strides: 23, kernelQuantizer: q('quantized_bits(4,0,1,alpha=1.0)'), biasQuantizer: q('quantized_bits(4,0,1,alpha=1.0)'), useBias: false, name: 'qconv2d_1' });
    const bnArgs = { meanQuantizer: 'quantized_bits(6,0,1)', gammaQuantizer: null, varianceQuantizer: null, betaQuantizer: 'quantized_bits(6,0,1)', scale: false, center: false, gammaRange: 8, betaRange: 4 };
    const bn2 = new QBN({ ...bnArgs, inverseQuantizer: 'quantized_bits(16,0,1)', name: 'qbn_2' });
    const c3 = new QConv2D({ filters: 2, kernelSize: 1, strides: 1, kernelQuantizer: q('quantized_bits(3,0)'), biasQuantizer: q('quantized_bits(3,2)'), name: 'qconv2d_3' });
    const bn4 = new QBN({ ...bnArgs, inverseQuantizer: "quantized_bits(8,0,1,alpha='auto_po2')", name: 'qbn_4' });
    let y = bn2.apply(c1.apply(x)) as tf.SymbolicTensor;
    y = new QActivation({ activation: 'quantized_bits(5, 0, 1)', name: 'act' }).apply(y) as tf.SymbolicTensor;
    y = bn4.apply(c3.apply(y)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const t = (a: unknown): tf.Tensor => tf.tensor(a as number[]);
    c1.setWeights(w['qconv2d_1']!.map(t));
    bn2.setWeights(w['qbn_2']!.map(t));
    c3.setWeights(w['qconv2d_3']!.map(t));
    bn4.setWeights(w['qbn_4']!.map(t));
    const hw = await modelSaveQuantizedWeights(model);
    // The QKeras test runs generate_layer_data_type_map directly, with settings.py's fp32 default.
    const json = qtools(model, { sourceQuantizers: [q('quantized_bits(4, 0, 1)')], isInference: true, hwWeightDict: hw, settings: { defaultIntermQuantizer: 'fp32' } });
    expectFields(json, v.expected as never);
  });

  it.runIf(layerClass(NEEDS_LAYER[178]!) !== undefined)('178 test_invalid_denominator_qbn: a ternary variance cannot be a divisor', () => {
    const QBN = layerClass('QBatchNormalization')!;
    const x = tf.input({ shape: [23, 23, 1] });
    let y = new QActivation({ activation: 'binary(use_01=0)', name: 'QA_0' }).apply(x) as tf.SymbolicTensor;
    y = new QBN({ gammaQuantizer: 'ternary()', varianceQuantizer: 'ternary()', betaQuantizer: null, meanQuantizer: null, gammaRange: 8, betaRange: 4, name: 'qbn_1' }).apply(y) as tf.SymbolicTensor;
    expect(() => qtools(tf.model({ inputs: x, outputs: y }))).toThrow(QToolsOperatorError);
  });

  it.runIf(layerClass(NEEDS_LAYER[176]!) !== undefined)('176 (QTools part): a folded conv without bias quantizer gets the MAC accumulator type as bias type', () => {
    const QConv2DBatchnorm = layerClass('QConv2DBatchnorm')!;
    const x = tf.input({ shape: [2, 2, 1] });
    const a = new QConv2D({ filters: 1, kernelSize: [1, 1], useBias: false, kernelQuantizer: 'quantized_bits(4, 0, 1)', name: 'conv2d_1' }).apply(x) as tf.SymbolicTensor;
    const b = new QConv2D({ filters: 1, kernelSize: [1, 1], useBias: false, kernelQuantizer: 'quantized_bits(4, 0, 1)', name: 'conv2d_2' }).apply(x) as tf.SymbolicTensor;
    let y = tf.layers.maximum().apply([a, b]) as tf.SymbolicTensor;
    y = new QActivation({ activation: 'quantized_relu(4, 1)' }).apply(y) as tf.SymbolicTensor;
    const fold = new QConv2DBatchnorm({ filters: 2, kernelSize: [2, 2], strides: [4, 4], useBias: false, kernelQuantizer: 'quantized_bits(4, 0, 1)', biasQuantizer: null, foldingMode: 'batch_stats_folding', emaFreezeDelay: 10, name: 'foldconv2d' });
    const f = fold.apply(y) as tf.SymbolicTensor;
    let z = tf.layers.flatten().apply(f) as tf.SymbolicTensor;
    z = new QDense({ units: 2, useBias: false, kernelQuantizer: 'quantized_bits(6, 2, 1)' }).apply(z) as tf.SymbolicTensor;
    const tools = new QTools(tf.model({ inputs: x, outputs: [f, z] }), { sourceQuantizers: [q('quantized_bits(8, 0, 1)')] });
    const bias = tools.layerMap.layerDataTypeMap.get(fold)!.biasQuantizer!;
    // QKeras's vector: the derived bias quantizer prints as quantized_bits(10,3,1).
    expect([bias.name, bias.bits, bias.intBits, bias.isSigned]).toEqual(['quantized_bits', 10, 3, 1]);
    expect(vector(176).expected).toMatchObject({ 'str(model.layers[5].get_quantizers()[1])': 'quantized_bits(10,3,1)' });
  });
});
