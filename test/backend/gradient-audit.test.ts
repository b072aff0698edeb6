/**
 * The gradient audit as a test: every op in gradient-cases.ts, value and gradients, on wasm (with this
 * package's kernels) against cpu. A missing kernel throws here; a wrong one shows as a mismatch.
 *
 * Tolerance: 8 * n * u * max|cpu output| per output tensor (u = 2^-24, n = the case's longest reduction).
 * The elementwise functions (exp, log, tanh, erf, ...) come from different implementations on the two
 * backends (wasm libm vs V8's Math), each within a couple of ulps, and a gradient chains up to four of
 * them; sums of n terms add up to n ulps of the largest term. The measured worst case is 3.6 (erf).
 * The convolution and matmul kernels have their own, per-element bound in wasm-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './compare.js';
import { drawInputs, gradCases, runGradCase, type GradResult } from './gradient-cases.js';

const unitRoundoff = 2 ** -24;

function maxAbsDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { diff, scale };
}

beforeAll(async () => {
  await useWasm();
  expect(tf.getBackend()).toBe('wasm');
});

describe('gradients of every audited op on wasm agree with cpu', () => {
  it.each(gradCases.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
    const c = gradCases[i]!;
    const data = drawInputs(c, 1000 + i);
    const got = runGradCase(c, data, 7 + i);
    let ref: GradResult;
    await tf.setBackend('cpu');
    try {
      ref = runGradCase(c, data, 7 + i);
    } finally {
      await tf.setBackend('wasm');
    }
    const pairs: Array<[string, Float32Array, Float32Array]> = [
      ['value', got.value, ref.value],
      ...got.grads.map((g, k): [string, Float32Array, Float32Array] => [`gradient ${k}`, g, ref.grads[k]!]),
    ];
    for (const [what, mine, theirs] of pairs) {
      expect(mine.length, what).toBe(theirs.length);
      const { diff, scale } = maxAbsDiff(theirs, mine);
      expect(diff, `${what}: max |wasm - cpu|`).toBeLessThanOrEqual(8 * c.reduction * unitRoundoff * scale);
    }
  });
});
