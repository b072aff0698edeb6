/**
 * The fused quantized_bits fixed-point path and quantized_po2 against the op chains on the wasm backend:
 * values and gradients bit for bit on ties, grid boundaries, saturation, ±0, NaN, ±Infinity, subnormals.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { FUSED_FIXED_BITS, FUSED_PO2 } from '../../src/quantizers/fused.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { bothPaths, edgeValues, expectFusedEqualsChain, gradientValues } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

const cases: Array<[string, number, number]> = [
  // spec, value range, grid step for ties
  ['quantized_bits(3)', 1.5, 0.125],
  ['quantized_bits(4,0,1)', 1.5, 0.0625],
  ['quantized_bits(8,3)', 12, 2 ** -5],
  ['quantized_bits(6,2,keep_negative=0)', 6, 2 ** -4],
  ['quantized_bits(2,1,1,qnoise_factor=0.5)', 3, 0.5],
  ['quantized_bits(5,-2)', 0.4, 2 ** -7],
  ['quantized_bits(4,1,use_ste=False)', 3, 0.125],
  ['quantized_bits(24,0)', 2, 2 ** -24],
  ['quantized_bits(4,0,1,use_stochastic_rounding=1)', 1.5, 0.0625],
  ['quantized_bits(4,200)', 1e30, 1e20],
  ['quantized_bits(4,-160)', 1e-30, 1e-40],
  ['quantized_po2(4)', 20, 2 ** -6],
  ['quantized_po2(8)', 1000, 2 ** -10],
  ['quantized_po2(3)', 4, 2 ** -3],
  ['quantized_po2(5,use_ste=False)', 50, 2 ** -8],
  ['quantized_po2(6,qnoise_factor=0.5)', 50, 2 ** -8],
  ['quantized_po2(16)', 1e6, 2 ** -20],
];

describe('fused quantized_bits (fixed) and quantized_po2', () => {
  for (const [spec, range, step] of cases) {
    it(`${spec}: values and gradients equal the op chain bit for bit`, () => {
      const q = getQuantizer(spec)!;
      const n = 3001;
      // Ties of po2 rounding sit at geometric means; log-spaced values cover them densely.
      const x = edgeValues(n, spec.length * 7, range, step).map((v, i) => (i % 5 === 4 ? Math.sign(v) * 2 ** ((i % 97) / 8 - 6) : v));
      expectFusedEqualsChain(bothPaths(() => q.call(tf.tensor1d(x), { training: false })), x, `${spec} forward`);
      for (const withNaN of [false, true]) {
        const dy = gradientValues(n, 3, withNaN);
        const grads = bothPaths(() => tf.grad((t: tf.Tensor) => q.call(t, { training: false }))(tf.tensor1d(x), tf.tensor1d(dy)));
        expectFusedEqualsChain(grads, x, `${spec} gradient${withNaN ? ' (NaN dy)' : ''}`);
      }
    });
  }

  it('takes the fused kernels only where they apply', async () => {
    const x = tf.tensor1d([0.3, -1.2, 0, 5]);
    const kernels = async (spec: string, training = false) =>
      (await tf.profile(() => getQuantizer(spec)!.call(x, { training }))).kernels.map((k) => k.name);
    expect(await kernels('quantized_bits(3)')).toEqual([FUSED_FIXED_BITS]);
    expect(await kernels('quantized_po2(4)')).toEqual([FUSED_PO2]);
    for (const spec of ['quantized_bits(1,0)', 'quantized_bits(4,0,1,alpha=0.5)', 'quantized_bits(4,0,1,alpha="auto")', 'quantized_bits(4,200)']) {
      expect(await kernels(spec), spec).not.toContain(FUSED_FIXED_BITS);
    }
    expect(await kernels('quantized_bits(4,0,1,use_stochastic_rounding=1)', true)).not.toContain(FUSED_FIXED_BITS);
    for (const spec of ['quantized_po2(4,2)', 'quantized_po2(4,quadratic_approximation=1)', 'quantized_po2(4,log2_rounding="floor")']) {
      expect(await kernels(spec), spec).not.toContain(FUSED_PO2);
    }
    expect(await kernels('quantized_po2(4,use_stochastic_rounding=1)', true)).not.toContain(FUSED_PO2);
    x.dispose();
  });
});
