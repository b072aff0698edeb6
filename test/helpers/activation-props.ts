/**
 * Helpers for the property and gradient tests of the activation-style quantizers (relu, po2, tanh,
 * sigmoid, ulaw, bernoulli): seeded inputs, quantizer outputs and gradients as plain arrays.
 */
import * as tf from '@tensorflow/tfjs';
import type { CallOptions, Quantizer } from '../../src/quantizers/base.js';
import { mulberry32 } from '../../src/utils/mulberry32.js';

/** A seeded uniform [0, 1) generator (mulberry32), so property cases are the same on every run. */
export const seededRandom = mulberry32;

/** `n` float32 values uniform in [lo, hi), from `seed`. */
export function uniformValues(seed: number, n: number, lo: number, hi: number): number[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * rnd()));
}

/** Calls the quantizer on a float32 tensor of `values` (with `shape` if given) and returns the outputs. */
export function apply(q: Quantizer, values: readonly number[], options: CallOptions = {}, shape?: number[]): number[] {
  return tf.tidy(() => Array.from(q.call(tf.tensor(values as number[], shape, 'float32'), options).dataSync()));
}

/** d(sum q(x))/dx at `values`. */
export function gradient(q: Quantizer, values: readonly number[], options: CallOptions = {}): number[] {
  return tf.tidy(() => {
    const g = tf.grad((x: tf.Tensor) => q.call(x, options))(tf.tensor1d(values as number[], 'float32'));
    return Array.from(g.dataSync());
  });
}

/** True when every element of `xs` is a multiple of `step` (exactly, in double arithmetic). */
export function onGrid(xs: readonly number[], step: number): boolean {
  return xs.every((v) => Number.isInteger(v / step));
}

/** True when `ys` never decreases. */
export function nonDecreasing(ys: readonly number[]): boolean {
  return ys.every((v, i) => i === 0 || v >= ys[i - 1]!);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}

/** Round half to even on doubles (tf.round), for float32 reference computations in tests. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
