/**
 * Runs one computation on the wasm backend and on the cpu backend (same process, data copied as plain
 * arrays) and checks the wasm result against a float32 rounding bound.
 *
 * The bound. Every output compared here is a sum of n products of inputs (a gradient is linear in dy and
 * in the other operand). Any float32 evaluation of such a sum, in any order and with any exact zero terms
 * added, is within gamma(n) * S of the exact value, where S is the sum of the terms' magnitudes and
 * gamma(n) = n*u / (1 - n*u), u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5).
 * Both backends are such evaluations (the cpu one is at least as accurate), so they differ by at most
 * 2*gamma(n)*S. S itself is computed on the cpu backend by running the same computation with the absolute
 * values of the inputs the output is linear in (the kernels are bilinear, so that is exactly the sum of
 * |terms|, itself within gamma(n) of exact). Hence |wasm - cpu| <= 2*gamma(n)*(1 + gamma(n)) * S_cpu
 * <= gamma(2n) * S_cpu per element. Elements whose terms are all zero must agree exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { registerWasmTrainingKernels } from '../../src/backend/wasm-kernels.js';
import { makeRng } from './gradient-cases.js';

/**
 * `ready()`, then the wasm backend with this package's kernels even where ready() chose another backend
 * (tfjs-node installed, QKERAS_BACKEND set): these tests are about the wasm kernels.
 */
export async function useWasm(): Promise<void> {
  await ready();
  registerWasmTrainingKernels();
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
}

const unitRoundoff = 2 ** -24;

/** gamma(n) = n*u / (1 - n*u). */
export function gamma(n: number): number {
  return (n * unitRoundoff) / (1 - n * unitRoundoff);
}

export interface Operand {
  readonly shape: readonly number[];
  readonly values: Float32Array | Int32Array;
  readonly dtype?: 'float32' | 'int32';
  /** Outputs are linear in this operand: it is replaced by its absolute values for the bound S. */
  readonly linear: boolean;
}

export interface Comparison {
  readonly label: string;
  readonly operands: readonly Operand[];
  /** The computation; returns the tensors to compare. */
  readonly run: (xs: tf.Tensor[]) => tf.Tensor[];
  /** Reduction length n of each output (see the bound above). */
  readonly reductions: readonly number[];
}

function evaluate(c: Comparison, absolute: boolean): Float32Array[] {
  return tf.tidy(() => {
    const xs = c.operands.map((o) => {
      const values = absolute && o.linear ? o.values.map(Math.abs) : o.values;
      return tf.tensor(values, [...o.shape], o.dtype ?? 'float32');
    });
    return c.run(xs).map((t) => Float32Array.from(t.dataSync()));
  });
}

/** The first element outside the bound, described, or null when all are inside. */
function firstViolation(got: Float32Array, ref: Float32Array, size: Float32Array, n: number): string | null {
  if (got.length !== ref.length) return `length ${got.length} != ${ref.length}`;
  const factor = gamma(2 * n);
  for (let i = 0; i < got.length; i++) {
    const diff = Math.abs(got[i]! - ref[i]!);
    const bound = factor * size[i]!;
    if (!(diff <= bound)) {
      return `element ${i}: wasm ${got[i]} cpu ${ref[i]} |diff| ${diff} > bound ${bound} (n=${n}, S=${size[i]})`;
    }
  }
  return null;
}

/** Runs `c` on wasm and cpu and asserts every output within the bound. Leaves the backend on wasm. */
export async function compareWithCpu(c: Comparison): Promise<void> {
  const got = evaluate(c, false);
  await tf.setBackend('cpu');
  let ref: Float32Array[];
  let size: Float32Array[];
  try {
    ref = evaluate(c, false);
    size = evaluate(c, true);
  } finally {
    await tf.setBackend('wasm');
  }
  expect(got.length).toBe(ref.length);
  for (let k = 0; k < got.length; k++) {
    const violation = firstViolation(got[k]!, ref[k]!, size[k]!, c.reductions[k]!);
    expect(violation, `${c.label}, output ${k}`).toBeNull();
  }
}

/** Seeded uniform values in [-1, 1). */
export function randomValues(seed: number, shape: readonly number[]): Float32Array {
  const rng = makeRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, () => 2 * rng() - 1);
}

/** A seeded integer in [lo, hi]. */
export function intIn(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}
