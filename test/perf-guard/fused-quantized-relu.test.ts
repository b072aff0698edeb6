/**
 * The fused quantized_relu kernel against the quantizer's op chain on the wasm backend: forward values and
 * gradients bit for bit (ties, grid boundaries, saturation, ±0, NaN, ±Infinity, subnormals), for several
 * configurations, plus the selection rules (which configurations take the fused path).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { FUSED_QUANTIZED_RELU, hasFusedKernel } from '../../src/quantizers/fused.js';
import { bothPaths, edgeValues, expectFusedEqualsChain, gradientValues } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

const specs = [
  'quantized_relu(2)',
  'quantized_relu(3)',
  'quantized_relu(4,2)',
  'quantized_relu(8,0)',
  'quantized_relu(1,0)',
  'quantized_relu(6,-1)',
  'quantized_relu(5,3,qnoise_factor=0.5)',
  'quantized_relu(4,1,use_ste=False)',
  'quantized_relu(4,1,use_ste=False,qnoise_factor=0.25)',
  'quantized_relu(3,1,use_stochastic_rounding=1)',
];

describe('fused quantized_relu', () => {
  it('is registered on wasm', () => {
    expect(hasFusedKernel(FUSED_QUANTIZED_RELU)).toBe(true);
  });

  for (const spec of specs) {
    it(`${spec}: values and gradients equal the op chain bit for bit`, () => {
      const q = getQuantizer(spec)!;
      const integer = (q as unknown as { integer: number }).integer;
      const bits = q.bits;
      const range = 2 ** integer * 1.5;
      const step = 2 ** (integer - bits) / 2;
      const n = 4099;
      const x = edgeValues(n, bits * 31 + integer, range, step);
      const values = bothPaths(() => q.call(tf.tensor1d(x), { training: false }));
      expectFusedEqualsChain(values, x, `${spec} forward`);
      for (const withNaN of [false, true]) {
        const dy = gradientValues(n, 7 + bits, withNaN);
        const grads = bothPaths(() => {
          const g = tf.grad((t: tf.Tensor) => q.call(t, { training: false }));
          return g(tf.tensor1d(x), tf.tensor1d(dy));
        });
        expectFusedEqualsChain(grads, x, `${spec} gradient${withNaN ? ' (NaN dy)' : ''}`);
      }
    });
  }

  it('keeps a 4-d activation shape and leaks no tensors', () => {
    const q = getQuantizer('quantized_relu(2)')!;
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const y = q.call(x);
    expect(y.shape).toEqual([2, 5, 5, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('takes the op chain exactly where the fused form does not apply', async () => {
    const x = tf.tensor1d([0.1, 0.6, -0.3]);
    const kernelsOf = async (spec: string, training: boolean) =>
      (await tf.profile(() => getQuantizer(spec)!.call(x, { training }))).kernels.map((k) => k.name);
    // Stochastic rounding while training, sigmoid, leaky and unclipped variants keep the op chain.
    for (const spec of [
      'quantized_relu(4,0,use_sigmoid=1)',
      'quantized_relu(4,0,negative_slope=0.25)',
      'quantized_relu(4,0,is_quantized_clip=False)',
    ]) {
      expect(await kernelsOf(spec, false), spec).not.toContain(FUSED_QUANTIZED_RELU);
    }
    expect(await kernelsOf('quantized_relu(3,1,use_stochastic_rounding=1)', true)).not.toContain(FUSED_QUANTIZED_RELU);
    expect(await kernelsOf('quantized_relu(3,1,use_stochastic_rounding=1)', false)).toEqual([FUSED_QUANTIZED_RELU]);
    expect(await kernelsOf('quantized_relu(2)', true)).toEqual([FUSED_QUANTIZED_RELU]);
    x.dispose();
  });
});
