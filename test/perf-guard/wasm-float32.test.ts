/**
 * The scalar float32 helpers of the fused kernels against the wasm backend's own kernels, on edge values
 * at every position of arrays of several lengths (SIMD bodies and scalar tails).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { clipWasm, relu, roundHalfEven, signKeep, step } from '../../src/backend/kernels/wasm-float32.js';
import { edgeValues, expectSameBits } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

const cases: Array<[string, (x: tf.Tensor) => tf.Tensor, (v: number) => number]> = [
  ['round', (x) => tf.round(x), roundHalfEven],
  ['relu', (x) => tf.relu(x), relu],
  ['step', (x) => tf.step(x), step],
  ['sign', (x) => tf.sign(x), signKeep],
  ['clip(0, 0.75)', (x) => tf.clipByValue(x, 0, 0.75), (v) => clipWasm(v, 0, 0.75)],
  ['clip(-1, 0)', (x) => tf.clipByValue(x, -1, 0), (v) => clipWasm(v, -1, 0)],
  ['clip(-4, 3)', (x) => tf.clipByValue(x, -4, 3), (v) => clipWasm(v, -4, 3)],
  ['clip(-0.5, -0.25)', (x) => tf.clipByValue(x, -0.5, -0.25), (v) => clipWasm(v, -0.5, -0.25)],
];

describe('wasm float32 semantics', () => {
  for (const [name, op, scalar] of cases) {
    it(`${name} matches the wasm kernel bit for bit`, () => {
      for (const len of [1, 3, 5, 8, 17, 1001]) {
        const x = edgeValues(len, len * 13 + name.length, 4, 0.25);
        const got = Float32Array.from(x, scalar);
        const want = tf.tidy(() => op(tf.tensor1d(x)).dataSync() as Float32Array);
        expectSameBits(got, want, x, `${name} length ${len}`);
      }
    });
  }
});
