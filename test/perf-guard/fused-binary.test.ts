/**
 * The fused `binary` activation (alpha None: ±1 with the tanh straight-through base) against the op chain
 * on the wasm backend: values and gradients bit for bit, including ±0, NaN, ±Infinity and saturation.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { FUSED_BINARY_TANH } from '../../src/quantizers/fused.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { bothPaths, edgeValues, expectFusedEqualsChain, gradientValues } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

describe('fused binary activation', () => {
  for (const range of [0.05, 1, 6]) {
    it(`values and gradients equal the op chain bit for bit (range ±${range})`, () => {
      const q = getQuantizer('binary')!;
      const n = 5003;
      const x = edgeValues(n, Math.round(range * 100), range, range / 16);
      expectFusedEqualsChain(bothPaths(() => q.call(tf.tensor1d(x))), x, 'binary forward');
      for (const withNaN of [false, true]) {
        const dy = gradientValues(n, 5, withNaN);
        const grads = bothPaths(() => tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor1d(x), tf.tensor1d(dy)));
        expectFusedEqualsChain(grads, x, `binary gradient${withNaN ? ' (NaN dy)' : ''}`);
      }
    });
  }

  it('is one kernel for binary() and the op chain for other binary configurations', async () => {
    const x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 2);
    const kernels = async (spec: string) => (await tf.profile(() => getQuantizer(spec)!.call(x))).kernels.map((k) => k.name);
    expect(await kernels('binary')).toEqual([FUSED_BINARY_TANH]);
    for (const spec of ['binary(alpha=1)', 'binary(use_01=1)', 'binary(use_stochastic_rounding=1)']) {
      expect(await kernels(spec), spec).not.toContain(FUSED_BINARY_TANH);
    }
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grad((t: tf.Tensor) => getQuantizer('binary')!.call(t))(x);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
