/**
 * Checks shared by the tests of the BN-folded layers (QConv2DBatchnorm, QDepthwiseConv2DBatchnorm,
 * QDenseBatchnorm). Each test file describes its layer as a `FoldedCase` (how to build it, the tfjs layer
 * it folds, how the per-channel factors multiply its kernel) and calls these checks:
 *
 * - without quantizers the folded layer is the float layer followed by tf.layers.batchNormalization (to
 *   float32 rounding: folding reorders the arithmetic), in inference and in training for both folding
 *   modes, with the same gradients and exactly the same moving statistics;
 * - with quantizers, outputs equal a hand computation of QKeras's folding with the layer's quantizers;
 * - ema_freeze_delay freezes the statistics after the right number of steps;
 * - getFoldedWeights, the weight order, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import type { Quantizer } from '../../src/quantizers/base.js';
import { expectClose, expectRoundTrip, outputsAndGrads, seeded } from './layer-checks.js';

/** What the checks need of a folded layer. */
export interface FoldedLayer extends tf.layers.Layer {
  getFoldedWeights(): [tf.Tensor, tf.Tensor];
  getQuantizers(): (Quantizer | null)[];
}

export interface FoldedCase {
  /** The folded layer with these extra arguments. */
  make(args: Record<string, unknown>): FoldedLayer;
  /** The tfjs layer that is folded (same geometry, with a bias). */
  makeFloat(): tf.layers.Layer;
  inputShape: number[];
  /** Output channels. */
  channels: number;
  /** The kernel multiplied by per-output-channel factors `inv` (QKeras reshapes for depthwise). */
  foldKernel(kernel: tf.Tensor, inv: tf.Tensor): tf.Tensor;
  /** The kernel's weight name (`kernel` or `depthwise_kernel`). */
  kernelName: string;
}

const EPS = 1e-3;

/** BN parameters and statistics for `n` channels: gamma, beta, moving mean, moving variance. */
export function bnParams(n: number, seed: number): tf.Tensor[] {
  return [seeded([n], seed, 0.5, 2), seeded([n], seed + 1), seeded([n], seed + 2), seeded([n], seed + 3, 0.2, 3)];
}

/** Builds the folded layer and the float layer + BN with the same random weights. */
export function twins(c: FoldedCase, args: Record<string, unknown>, seed: number) {
  const folded = c.make(args);
  const float = c.makeFloat();
  const bn = tf.layers.batchNormalization({ epsilon: EPS });
  const x = seeded(c.inputShape, seed, -2, 2);
  folded.apply(x);
  bn.apply(float.apply(x) as tf.Tensor);
  // getWeights returns the variables themselves: copy, since op() below writes other kernels into them.
  const kernel = float.getWeights()[0]!.clone();
  const bias = seeded([c.channels], seed + 1);
  const p = bnParams(c.channels, seed + 10);
  float.setWeights([kernel, bias]);
  bn.setWeights(p);
  folded.setWeights([kernel, bias, p[0]!, p[1]!, tf.scalar(-1), p[2]!, p[3]!]);
  const unfolded = {
    trainableWeights: [...float.trainableWeights, ...bn.trainableWeights],
    apply: (t: tf.Tensor, kw: Record<string, unknown>) => bn.apply(float.apply(t, kw) as tf.Tensor, kw),
  } as unknown as tf.layers.Layer;
  return { folded, float, bn, unfolded, x, kernel, bias, params: p };
}

const data = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Weight names (without scope) and trainability, in order. */
export function expectWeightOrder(c: FoldedCase): void {
  const layer = c.make({});
  layer.apply(seeded(c.inputShape, 1));
  expect(layer.weights.map((w) => [w.name.split('/').pop(), w.trainable])).toEqual([
    [c.kernelName, true],
    ['bias', true],
    ['gamma', true],
    ['beta', true],
    ['iteration', false],
    ['moving_mean', false],
    ['moving_variance', false],
  ]);
  expect(data(layer.getWeights()[4]!)).toEqual([-1]);
}

/** Without quantizers: float layer + BN, inference and one training step in `mode`. */
export function expectEqualsUnfolded(c: FoldedCase, mode: string, seed: number): void {
  const t = twins(c, { foldingMode: mode }, seed);
  const inf = outputsAndGrads(t.folded, t.x, {});
  const ref = outputsAndGrads(t.unfolded, t.x, {});
  expectClose(inf.output, ref.output, 1e-5, 1e-5, `${mode} inference output`);
  const tr = outputsAndGrads(t.folded, t.x, { training: true });
  const trRef = outputsAndGrads(t.unfolded, t.x, { training: true });
  expectClose(tr.output, trRef.output, 1e-4, 1e-5, `${mode} training output`);
  expect(tr.grads.length).toBe(5);
  tr.grads.forEach((g, i) => expectClose(g, trRef.grads[i]!, 2e-3, 2e-4, `${mode} gradient ${i}`));
  // Same moments of the same float output: the moving statistics are identical.
  const w = t.folded.getWeights();
  expect(data(w[5]!)).toEqual(data(t.bn.getWeights()[2]!));
  expect(data(w[6]!)).toEqual(data(t.bn.getWeights()[3]!));
  expect(data(w[4]!)).toEqual([0]);
}

/** With quantizers: QKeras's folding by hand, in inference and in a training step of `mode`. */
export function expectQuantizedFolding(c: FoldedCase, mode: string, seed: number): void {
  const args = { foldingMode: mode, ...quantizerArgs(c) };
  const t = twins(c, args, seed);
  const [kq, bq] = t.folded.getQuantizers() as [Quantizer, Quantizer];
  const op = (kernel: tf.Tensor): tf.Tensor => {
    t.float.setWeights([kernel, tf.zeros([c.channels])]);
    return t.float.apply(t.x) as tf.Tensor;
  };
  const [gamma, beta, mm, mv] = t.params as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const inv = (v: tf.Tensor): tf.Tensor => tf.mul(gamma, tf.rsqrt(tf.add(v, EPS)));
  // Inference: moving statistics.
  const movingInv = inv(mv);
  const expectedInf = tf.add(op(kq.call(c.foldKernel(t.kernel, movingInv))), bq.call(tf.add(tf.mul(movingInv, tf.sub(t.bias, mm)), beta)));
  expect(data(t.folded.apply(t.x) as tf.Tensor)).toEqual(data(expectedInf));
  // Training: the float output's batch statistics, moving averages updated first.
  t.float.setWeights([t.kernel, t.bias]);
  const { mean, variance } = tf.moments(t.float.apply(t.x) as tf.Tensor, [...Array(c.inputShape.length - 1).keys()]);
  const mm1 = tf.sub(mm, tf.mul(tf.sub(mm, mean), 1 - 0.99));
  const mv1 = tf.sub(mv, tf.mul(tf.sub(mv, variance), 1 - 0.99));
  const batchInv = inv(variance);
  const foldedBias = bq.call(tf.add(tf.mul(batchInv, tf.sub(t.bias, mean)), beta));
  let expectedTr: tf.Tensor;
  if (mode === 'batch_stats_folding') {
    expectedTr = tf.add(op(kq.call(c.foldKernel(t.kernel, batchInv))), foldedBias);
  } else {
    const corr = tf.mul(tf.sqrt(tf.add(mv1, EPS)), tf.rsqrt(tf.add(variance, EPS)));
    expectedTr = tf.add(tf.mul(op(kq.call(c.foldKernel(t.kernel, inv(mv1)))), corr), foldedBias);
  }
  expect(data(t.folded.apply(t.x, { training: true }) as tf.Tensor)).toEqual(data(expectedTr));
  expect(data(t.folded.getWeights()[5]!)).toEqual(data(mm1));
  expect(data(t.folded.getWeights()[6]!)).toEqual(data(mv1));
}

/** The quantizers the checks use: a 4-bit kernel (auto_po2 after the weight default) and an 8-bit bias. */
export function quantizerArgs(c: FoldedCase): Record<string, unknown> {
  const kernelKey = c.kernelName === 'depthwise_kernel' ? 'depthwiseQuantizer' : 'kernelQuantizer';
  return { [kernelKey]: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(8,3,1)' };
}

/**
 * emaFreezeDelay=1: the statistics move on the first three training calls (iteration -1, 0 and 1 are
 * <= 1), then stay, and training then folds with them exactly as inference does.
 */
export function expectFreeze(c: FoldedCase, mode: string, seed: number): void {
  const t = twins(c, { foldingMode: mode, emaFreezeDelay: 1 }, seed);
  const stats = (): number[] => [...data(t.folded.getWeights()[5]!), ...data(t.folded.getWeights()[6]!)];
  const seen: number[][] = [stats()];
  for (let i = 0; i < 4; i++) {
    t.folded.apply(t.x, { training: true });
    seen.push(stats());
  }
  expect(seen.slice(1, 4).every((s, i) => JSON.stringify(s) !== JSON.stringify(seen[i]))).toBe(true);
  expect(seen[4]).toEqual(seen[3]);
  expect(data(t.folded.getWeights()[4]!)).toEqual([3]);
  expect(data(t.folded.apply(t.x, { training: true }) as tf.Tensor)).toEqual(data(t.folded.apply(t.x) as tf.Tensor));
  // Inference calls count nothing.
  expect(data(t.folded.getWeights()[4]!)).toEqual([4]);
}

/** getFoldedWeights = [inv·kernel, inv·(bias − mean) + beta] from the moving statistics. */
export function expectFoldedWeights(c: FoldedCase, seed: number): void {
  const t = twins(c, quantizerArgs(c), seed);
  const [gamma, beta, mm, mv] = t.params.map(data) as [number[], number[], number[], number[]];
  const bias = data(t.bias);
  const inv = gamma.map((g, i) => g / Math.sqrt(mv[i]! + EPS));
  const [fk, fb] = t.folded.getFoldedWeights();
  expectClose(data(fb), inv.map((v, i) => v * (bias[i]! - mm[i]!) + beta[i]!), 1e-6, 1e-6, 'folded bias');
  const expectedKernel = data(c.foldKernel(t.kernel, tf.tensor1d(inv)));
  expectClose(data(fk), expectedKernel, 1e-6, 1e-7, 'folded kernel');
  expect(fk.shape).toEqual(t.kernel.shape);
}

/** A model with the folded layer (after a training step) round-trips with identical predictions. */
export async function expectFoldedRoundTrip(c: FoldedCase, mode: string, seed: number): Promise<void> {
  const input = tf.input({ shape: c.inputShape.slice(1) });
  const layer = c.make({ foldingMode: mode, emaFreezeDelay: 5, name: 'folded', ...quantizerArgs(c), activation: 'quantized_relu(4,2)' });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const x = seeded(c.inputShape, seed, -2, 2);
  const kernel = layer.getWeights()[0]!.clone();
  const p = bnParams(c.channels, seed);
  layer.setWeights([kernel, seeded([c.channels], seed + 5), p[0]!, p[1]!, tf.scalar(-1), p[2]!, p[3]!]);
  layer.apply(x, { training: true });
  const loaded = await expectRoundTrip(model, x);
  const again = loaded.getLayer('folded') as unknown as { batchnorm: { foldingMode: string; emaFreezeDelay: number | null } };
  expect(again.batchnorm.foldingMode).toBe(mode);
  expect(again.batchnorm.emaFreezeDelay).toBe(5);
  expect(data((loaded.getLayer('folded') as tf.layers.Layer).getWeights()[4]!)).toEqual([0]);
}

/**
 * The per-mode tests of a folded layer, in both folding modes: `cases` without quantizers equal `op` +
 * batchNormalization, with quantizers follow QKeras's folding; the first case freezes its statistics and
 * round-trips. Seeds count up from `seed` in that order.
 */
export function itFoldsInBothModes(op: string, cases: readonly FoldedCase[], seed: number): void {
  const n = cases.length;
  for (const mode of ['ema_stats_folding', 'batch_stats_folding']) {
    it(`${mode}: without quantizers equals ${op} + batchNormalization (outputs, gradients, statistics)`, () => {
      cases.forEach((c, i) => expectEqualsUnfolded(c, mode, seed + i));
    });
    it(`${mode}: with quantizers follows QKeras's folding exactly (inference and training)`, () => {
      cases.forEach((c, i) => expectQuantizedFolding(c, mode, seed + n + i));
    });
    it(`${mode}: emaFreezeDelay freezes the statistics after delay + 2 training calls`, () => {
      expectFreeze(cases[0]!, mode, seed + 2 * n);
    });
    it(`${mode}: round-trips through saveQmodel/loadQmodel`, async () => {
      await expectFoldedRoundTrip(cases[0]!, mode, seed + 2 * n + 1);
    });
  }
}
