/**
 * Batch-norm fusing in `modelSaveQuantizedWeights` and QTools, checked against QKeras's own numbers
 * (utils_test `test_find_bn_fusing_layer_pair`, qtools_model_test `test_qbn_inference` = vector 177).
 *
 * QBatchNormalization is not written yet, so these tests use a stand-in with QKeras's interface — the
 * class name, `getQuantizers()` = [gamma, beta, mean, variance, inverse], `scale`/`center`/`epsilon`, and
 * weights [gamma?, beta?, moving_mean, moving_variance] — and an identity forward pass (neither function
 * runs the model). When the real layer lands, the same tests should pass with it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv2D } from '../../src/layers/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';
import { qtools } from '../../src/qtools/index.js';
import { modelSaveQuantizedWeights } from '../../src/utils/quantized-weights.js';
import { loadVectors } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

interface StubArgs {
  name: string;
  gamma?: string | null;
  beta?: string | null;
  mean?: string | null;
  variance?: string | null;
  inverse?: string | null;
  scale?: boolean;
  center?: boolean;
}

/** A stand-in for QBatchNormalization with QKeras's interface (see the module comment). */
class StubQBatchNormalization extends tf.layers.Layer {
  static className = 'QBatchNormalization';
  readonly scale: boolean;
  readonly center: boolean;
  readonly epsilon = 1e-3;
  private readonly quantizers: (Quantizer | null)[];

  constructor(args: StubArgs) {
    super({ name: args.name });
    this.scale = args.scale ?? true;
    this.center = args.center ?? true;
    this.quantizers = [args.gamma, args.beta, args.mean, args.variance, args.inverse].map((s) => (s ? getQuantizer(s) : null));
  }

  getQuantizers(): (Quantizer | null)[] {
    return this.quantizers;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = (inputShape as number[])[(inputShape as number[]).length - 1]!;
    if (this.scale) this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    if (this.center) this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.addWeight('moving_mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
    this.addWeight('moving_variance', [c], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0]! : inputs;
  }
}

describe('batch-norm fusing', () => {
  it("modelSaveQuantizedWeights adds QKeras's fused weights (test_find_bn_fusing_layer_pair)", async () => {
    const x = tf.input({ shape: [23, 23, 1] });
    const conv = new QConv2D({ filters: 2, kernelSize: 2, strides: 1, kernelQuantizer: 'quantized_bits(4, 0, 1)', biasQuantizer: 'quantized_bits(4, 0, 1)', useBias: false, name: 'conv1' });
    const bn = new StubQBatchNormalization({ name: 'bn1', mean: 'quantized_bits(4, 0, 1)', beta: 'quantized_bits(4, 0, 1)', inverse: 'quantized_bits(8, 0, 1)' });
    const y = bn.apply(conv.apply(x)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    conv.setWeights([tf.tensor([[[[0.5, 0.75]], [[1.5, -0.625]]], [[[-0.875, 1.25]], [[-1.25, -2.5]]]])]);
    bn.setWeights([tf.tensor([1, 0.25]), tf.tensor([0.5, 1.0]), tf.tensor([0.5, 2.5]), tf.tensor([1.5, 1])]);
    const saved = await modelSaveQuantizedWeights(model);
    const d = saved['conv1']!;
    expect(d.enable_bn_fusing).toBe(true);
    expect(d.fused_bn_layer_name).toBe('bn1');
    expect(Array.from(d.bn_inv!.data)).toEqual([0.8125, 0.25]);
    expect(Array.from(d.fused_bias!.data)).toEqual([0.09375, 0.65625]);
    expect(saved['bn1']!.enable_bn_fusing).toBe(true);
  });

  it('QTools fused accumulators of vector 177 (test_qbn_inference)', async () => {
    const v = loadVectors().find((e) => Number(e.id) === 177)!;
    const w = (v.input as { weights: Record<string, unknown[]> }).weights;
    const x = tf.input({ shape: [23, 23, 1] });
    const c1 = new QConv2D({ filters: 4, kernelSize: 2, strides: 23, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)', biasQuantizer: 'quantized_bits(4,0,1,alpha=1.0)', useBias: false, name: 'qconv2d_1' });
    const bnArgs = { mean: 'quantized_bits(6,0,1)', beta: 'quantized_bits(6,0,1)', scale: false, center: false };
    const bn2 = new StubQBatchNormalization({ ...bnArgs, name: 'qbn_2', inverse: 'quantized_bits(16,0,1)' });
    const act = new QActivation({ activation: 'quantized_bits(5, 0, 1)', name: 'act' });
    const c3 = new QConv2D({ filters: 2, kernelSize: 1, strides: 1, kernelQuantizer: 'quantized_bits(3,0)', biasQuantizer: 'quantized_bits(3,2)', name: 'qconv2d_3' });
    const bn4 = new StubQBatchNormalization({ ...bnArgs, name: 'qbn_4', inverse: "quantized_bits(8,0,1,alpha='auto_po2')" });
    let y = c1.apply(x) as tf.SymbolicTensor;
    y = bn2.apply(y) as tf.SymbolicTensor;
    y = act.apply(y) as tf.SymbolicTensor;
    y = c3.apply(y) as tf.SymbolicTensor;
    y = bn4.apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const t = (a: unknown): tf.Tensor => tf.tensor(a as number[]);
    c1.setWeights(w['qconv2d_1']!.map(t));
    bn2.setWeights(w['qbn_2']!.map(t));
    c3.setWeights(w['qconv2d_3']!.map(t));
    bn4.setWeights(w['qbn_4']!.map(t));
    const hw = await modelSaveQuantizedWeights(model);
    // The test comment's scales of the auto_po2 kernel of qconv2d_3.
    expect(Array.from((c3.kernelQuantizer!.scale as tf.Tensor).dataSync())).toEqual([16, 2]);
    const json = qtools(model, {
      sourceQuantizers: [getQuantizer('quantized_bits(4, 0, 1)')!],
      isInference: true,
      hwWeightDict: hw,
      settings: { defaultIntermQuantizer: 'fp32' },
    });
    for (const [layer, entries] of Object.entries(v.expected as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [key, fields] of Object.entries(entries)) expect(json[layer]![key as never], `${layer}.${key}`).toMatchObject(fields);
    }
  });
});
