/**
 * QBatchNormalization: QKeras's defaults, the quantized forward pass in inference and training (checked
 * against a hand computation and against QKeras's fused-BN test numbers), bit equality with
 * tf.layers.batchNormalization when every quantizer is null, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import { Clip } from '../../src/layers/constraints.js';
import { QBatchNormalization } from '../../src/layers/q-batch-normalization.js';
import { QConv2D } from '../../src/layers/q-conv.js';
import { loadVectors } from '../helpers/qkeras-vectors.js';
import { expectClose, expectRoundTrip, outputsAndGrads, seeded } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

const NO_QUANTIZERS = { gammaQuantizer: null, betaQuantizer: null, meanQuantizer: null, varianceQuantizer: null } as const;

/** Random gamma, beta, moving mean and (positive) moving variance for `n` features. */
function bnWeights(n: number, seed: number): tf.Tensor[] {
  return [seeded([n], seed, 0.5, 2), seeded([n], seed + 1), seeded([n], seed + 2), seeded([n], seed + 3, 0.2, 3)];
}

describe('QBatchNormalization defaults (QKeras qnormalization.py)', () => {
  it('quantizes gamma and variance with relu_po2 (variance quadratic), beta and mean with po2(5), no inverse', () => {
    const bn = new QBatchNormalization();
    expect(bn.getQuantizers().map((q) => (q === null ? null : q.toString()))).toEqual([
      'quantized_relu_po2(6,2048)',
      'quantized_po2(5)',
      'quantized_po2(5)',
      'quantized_relu_po2(6,quadratic_approximation=1)',
      null,
    ]);
    expect(bn.momentum).toBe(0.99);
    expect(bn.epsilon).toBe(1e-3);
    expect(bn.axis).toBe(-1);
    // get_auto_range_constraint_initializer: Clip(-max(1, q.max()), ...) on gamma and beta.
    const config = bn.getConfig();
    expect(config['gammaConstraint']).toEqual({ className: 'Clip', config: { minValue: -2048, maxValue: 2048 } });
    expect(config['betaConstraint']).toEqual({ className: 'Clip', config: { minValue: -128, maxValue: 128 } });
    expect(config['inverseQuantizer']).toBeNull();
    bn.apply(tf.zeros([1, 3]));
    expect(bn.weights.map((w) => [w.name.split('/').pop(), w.trainable])).toEqual([
      ['gamma', true],
      ['beta', true],
      ['moving_mean', false],
      ['moving_variance', false],
    ]);
    expect(bn.weightConstraints().map((c) => c.constraint instanceof Clip)).toEqual([true, true]);
  });

  it('null turns a default quantizer off, undefined keeps it', () => {
    const bn = new QBatchNormalization({ betaQuantizer: null, meanQuantizer: 'quantized_bits(8,2,1)' });
    expect(bn.getQuantizers().map((q) => (q === null ? null : q.toString()))).toEqual([
      'quantized_relu_po2(6,2048)',
      null,
      'quantized_bits(8,2,1)',
      'quantized_relu_po2(6,quadratic_approximation=1)',
      null,
    ]);
  });

  it('rejects an inverse quantizer while gamma or variance are quantized (QKeras asserts this)', () => {
    expect(() => new QBatchNormalization({ inverseQuantizer: 'quantized_bits(8,0,1)' })).toThrow(ConfigError);
    expect(() => new QBatchNormalization({ inverseQuantizer: 'quantized_bits(8,0,1)', gammaQuantizer: null })).toThrow(
      /inverseQuantizer.*gammaQuantizer and varianceQuantizer are both null/,
    );
    expect(() => new QBatchNormalization({ axis: [1, 2] })).toThrow(ConfigError);
  });
});

describe('QBatchNormalization with every quantizer null equals tf.layers.batchNormalization', () => {
  const cases: Array<{ name: string; shape: number[]; args: Record<string, unknown> }> = [
    { name: 'rank 2', shape: [6, 5], args: {} },
    { name: 'rank 4, channels last', shape: [3, 4, 4, 3], args: {} },
    { name: 'other momentum and epsilon', shape: [4, 3], args: { momentum: 0.9, epsilon: 0.01 } },
  ];
  for (const c of cases) {
    it(`${c.name}: outputs, gradients and moving statistics, inference and training`, () => {
      const q = new QBatchNormalization({ ...NO_QUANTIZERS, ...c.args });
      const k = tf.layers.batchNormalization(c.args);
      const x = seeded(c.shape, 3, -2, 2);
      q.apply(x);
      k.apply(x);
      const w = bnWeights(c.shape.at(-1)!, 10);
      q.setWeights(w);
      k.setWeights(w);
      for (const training of [false, true]) {
        const a = outputsAndGrads(q, x, { training });
        const b = outputsAndGrads(k, x, { training });
        expect(a.output).toEqual(b.output);
        expect(a.grads.length).toBe(3);
        expect(a.grads).toEqual(b.grads);
        expect(q.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(k.getWeights().map((t) => Array.from(t.dataSync())));
      }
      // The training step moved the statistics.
      expect(Array.from(q.getWeights()[2]!.dataSync())).not.toEqual(Array.from(w[2]!.dataSync()));
    });
  }

  // tfjs's own layer fails in these two configurations (its batchNorm gradient breaks on broadcast-shaped
  // statistics and without gamma/beta; without them it cannot even run a training step), so the layer is
  // compared with tfjs where tfjs works and with tfjs's layer on an equivalent configuration otherwise.
  it('feature axis 1 of a rank-4 input: tfjs statistics; outputs and gradients of tfjs on the transposed input', () => {
    const q = new QBatchNormalization({ ...NO_QUANTIZERS, axis: 1 });
    const k = tf.layers.batchNormalization({ axis: 1 });
    const x = seeded([2, 3, 4, 2], 4, -2, 2);
    q.apply(x);
    k.apply(x);
    const w = bnWeights(3, 50);
    q.setWeights(w);
    k.setWeights(w);
    // Reference: channels-last tfjs BN between two transposes. (tfjs's own axis-1 layer is wrong here:
    // its batchNorm op pairs element i with statistic i mod 3, not with the element's feature.)
    const last = tf.layers.batchNormalization({});
    const perm = [0, 3, 2, 1];
    last.apply(tf.transpose(x, perm));
    last.setWeights(w);
    const wrapped = {
      trainableWeights: last.trainableWeights,
      apply: (t: tf.Tensor, kw: Record<string, unknown>) => tf.transpose(last.apply(tf.transpose(t, perm), kw) as tf.Tensor, perm),
    } as unknown as tf.layers.Layer;
    expect(Array.from((q.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from((wrapped.apply(x, {}) as tf.Tensor).dataSync()));
    const hand = tf.tidy(() => {
      const r = (t: tf.Tensor): tf.Tensor => tf.reshape(t, [1, 3, 1, 1]);
      return Array.from(tf.add(tf.div(tf.mul(tf.sub(x, r(w[2]!)), r(w[0]!)), tf.sqrt(tf.add(r(w[3]!), 1e-3))), r(w[1]!)).dataSync());
    });
    expectClose(Array.from((q.apply(x) as tf.Tensor).dataSync()), hand, 1e-5, 1e-6, 'hand');
    // Training: statistics equal tfjs's layer's (same tf.moments); outputs and gradients equal the
    // reference up to the summation order of the moments.
    const a = outputsAndGrads(q, x, { training: true });
    k.apply(x, { training: true });
    expect(q.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(k.getWeights().map((t) => Array.from(t.dataSync())));
    const b = outputsAndGrads(wrapped, x, { training: true });
    expectClose(a.output, b.output, 1e-5, 1e-6, 'training output');
    expect(a.grads.length).toBe(3);
    a.grads.forEach((g, i) => expectClose(g, b.grads[i]!, 1e-4, 1e-5, `gradient ${i}`));
  });

  it('no scale, no center: tfjs inference output; training as tfjs with gamma 1 and beta 0', () => {
    const q = new QBatchNormalization({ ...NO_QUANTIZERS, scale: false, center: false });
    const k = tf.layers.batchNormalization({ scale: false, center: false });
    const full = tf.layers.batchNormalization({});
    const x = seeded([5, 4], 6, -2, 2);
    for (const l of [q, k, full]) l.apply(x);
    const w = bnWeights(4, 60);
    q.setWeights([w[2]!, w[3]!]);
    k.setWeights([w[2]!, w[3]!]);
    full.setWeights([tf.ones([4]), tf.zeros([4]), w[2]!, w[3]!]);
    expect(Array.from((q.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from((k.apply(x) as tf.Tensor).dataSync()));
    const a = outputsAndGrads(q, x, { training: true });
    const b = outputsAndGrads(full, x, { training: true });
    expect(a.output).toEqual(b.output);
    expect(a.grads.length).toBe(1);
    expect(a.grads[0]).toEqual(b.grads[0]);
    expect(q.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(full.getWeights().slice(2).map((t) => Array.from(t.dataSync())));
  });

  it('runs in inference mode when not trainable (Keras 2)', () => {
    const q = new QBatchNormalization({ ...NO_QUANTIZERS });
    const x = seeded([4, 3], 5);
    q.apply(x);
    q.setWeights(bnWeights(3, 20));
    q.trainable = false;
    const before = q.getWeights().map((t) => Array.from(t.dataSync()));
    const trained = Array.from((q.apply(x, { training: true }) as tf.Tensor).dataSync());
    expect(trained).toEqual(Array.from((q.apply(x) as tf.Tensor).dataSync()));
    expect(q.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
  });
});

describe('QBatchNormalization quantized forward pass', () => {
  /** QKeras's formula with the layer's own quantizers: x·inv + (β_q − μ_q·inv), inv = γ_q·rsqrt(σ²_q + ε). */
  function expected(bn: QBatchNormalization, x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): number[] {
    return tf.tidy(() => {
      const [gq, bq, mq, vq] = bn.getQuantizers();
      const inv = tf.mul(tf.rsqrt(tf.add(vq!.call(variance), bn.epsilon)), gq!.call(bn.gamma!.read()));
      const offset = tf.sub(bq!.call(bn.beta!.read()), tf.mul(mq!.call(mean), inv));
      return Array.from(tf.add(tf.mul(x, inv), offset).dataSync());
    });
  }

  it('inference uses the quantized moving statistics and parameters', () => {
    const bn = new QBatchNormalization();
    const x = seeded([5, 4], 1, -3, 3);
    bn.apply(x);
    bn.setWeights(bnWeights(4, 30));
    const out = Array.from((bn.apply(x) as tf.Tensor).dataSync());
    expect(out).toEqual(expected(bn, x, bn.movingMean!.read(), bn.movingVariance!.read()));
    // Quantized parameters really are powers of two.
    const gq = Array.from(bn.gammaQuantizer!.call(bn.gamma!.read()).dataSync());
    for (const g of gq) expect(Number.isInteger(Math.log2(Math.abs(g)))).toBe(true);
  });

  it('training uses the quantized batch statistics and moves the averages with the float ones', () => {
    const bn = new QBatchNormalization();
    const x = seeded([6, 3], 2, -3, 3);
    bn.apply(x);
    bn.setWeights(bnWeights(3, 40));
    const [mm0, mv0] = [bn.movingMean!.read().clone(), bn.movingVariance!.read().clone()];
    const { mean, variance } = tf.moments(x, [0]);
    const out = Array.from((bn.apply(x, { training: true }) as tf.Tensor).dataSync());
    expect(out).toEqual(expected(bn, x, mean, variance));
    const ema = (old: tf.Tensor, v: tf.Tensor): number[] => Array.from(tf.sub(old, tf.mul(tf.sub(old, v), 1 - 0.99)).dataSync());
    expect(Array.from(bn.movingMean!.read().dataSync())).toEqual(ema(mm0, mean));
    expect(Array.from(bn.movingVariance!.read().dataSync())).toEqual(ema(mv0, variance));
  });

  it('gradients reach the input, gamma and beta through the straight-through quantizers', () => {
    const bn = new QBatchNormalization();
    const x = seeded([6, 3], 7, -2, 2);
    bn.apply(x);
    const { grads } = outputsAndGrads(bn, x, { training: true });
    expect(grads.length).toBe(3);
    for (const g of grads) {
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((v) => v !== 0)).toBe(true);
    }
  });

  it('QKeras fused-BN numbers (utils_test test_find_bn_fusing_layer_pair): inverse quantizer, quantized beta/mean', () => {
    const v = loadVectors().find((e) => e.test_name === 'test_find_bn_fusing_layer_pair')!;
    const input = v.input as { bn1_weights: Record<string, number[]>; epsilon: number };
    const want = v.expected as { bn_inv: number[]; fused_bias: number[] };
    const bn = new QBatchNormalization({
      meanQuantizer: 'quantized_bits(4,0,1)',
      gammaQuantizer: null,
      varianceQuantizer: null,
      betaQuantizer: 'quantized_bits(4,0,1)',
      inverseQuantizer: 'quantized_bits(8,0,1)',
      epsilon: input.epsilon,
    });
    const w = input.bn1_weights;
    bn.apply(tf.zeros([1, 2]));
    bn.setWeights([w['gamma']!, w['beta']!, w['moving_mean']!, w['moving_variance']!].map((a) => tf.tensor1d(a)));
    // With a zero input the output is the fused bias; with ones, inv + fused bias.
    const y0 = Array.from((bn.apply(tf.zeros([1, 2])) as tf.Tensor).dataSync());
    const y1 = Array.from((bn.apply(tf.ones([1, 2])) as tf.Tensor).dataSync());
    expect(y0).toEqual(want.fused_bias);
    expect(y1.map((y, i) => y - y0[i]!)).toEqual(want.bn_inv);
  });
});

describe('QBatchNormalization in model.fit', () => {
  it('trains: statistics move, gamma and beta change, the loss stays finite', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 3, inputShape: [4] }), new QBatchNormalization({ name: 'bn' }), tf.layers.dense({ units: 1 })],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const bn = model.getLayer('bn');
    const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const h = await model.fit(seeded([16, 4], 1), seeded([16, 1], 2), { epochs: 2, batchSize: 8, verbose: 0 });
    expect(h.history['loss']!.every((v) => Number.isFinite(v as number))).toBe(true);
    const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
    after.forEach((w, i) => expect(w, `weight ${i}`).not.toEqual(before[i]));
  });
});

describe('QBatchNormalization serialization', () => {
  it('round-trips through saveQmodel/loadQmodel with identical predictions and quantizers', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    let y = new QConv2D({ filters: 3, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
    y = new QBatchNormalization({ name: 'bn_default' }).apply(y) as tf.SymbolicTensor;
    y = new QBatchNormalization({ ...NO_QUANTIZERS, axis: 1, momentum: 0.9, name: 'bn_plain' }).apply(y) as tf.SymbolicTensor;
    y = new QBatchNormalization({
      gammaQuantizer: null,
      varianceQuantizer: null,
      inverseQuantizer: 'quantized_bits(8,2,1)',
      meanQuantizer: 'quantized_bits(8,2,1)',
      name: 'bn_inverse',
    }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    for (const [name, n] of [
      ['bn_default', 3],
      ['bn_plain', 4],
      ['bn_inverse', 3],
    ] as const) {
      model.getLayer(name).setWeights(bnWeights(n, n * 7));
    }
    const loaded = await expectRoundTrip(model, seeded([2, 6, 6, 2], 9));
    const bn = loaded.getLayer('bn_inverse') as QBatchNormalization;
    expect(bn).toBeInstanceOf(QBatchNormalization);
    expect(bn.inverseQuantizer!.toString()).toBe('quantized_bits(8,2,1)');
    expect((loaded.getLayer('bn_plain') as QBatchNormalization).getQuantizers()).toEqual([null, null, null, null, null]);
  });
});
