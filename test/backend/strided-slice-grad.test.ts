/**
 * The StridedSlice gradient registered by ready() (tfjs-core has none). Exact check: with x holding its own
 * flat indices, stridedSlice(x) says which element each output came from, so the expected gradient is dy
 * scattered to those indices (summed; an index is picked at most once, so no rounding).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './compare.js';
import { makeRng } from './gradient-cases.js';

interface SliceSpec {
  readonly shape: number[];
  readonly begin: number[];
  readonly end: number[];
  readonly strides: number[];
  readonly beginMask?: number;
  readonly endMask?: number;
  readonly ellipsisMask?: number;
  readonly newAxisMask?: number;
  readonly shrinkAxisMask?: number;
}

const specs: SliceSpec[] = [
  { shape: [6, 5], begin: [0, 1], end: [6, 5], strides: [2, 2] },
  { shape: [6, 5], begin: [5, 4], end: [0, 0], strides: [-2, -1] },
  { shape: [6, 5], begin: [-1, 0], end: [-7, 5], strides: [-1, 3] },
  { shape: [7, 4, 3], begin: [1, 0, 0], end: [7, 4, 3], strides: [3, 1, 2], beginMask: 2 },
  { shape: [6, 5, 4], begin: [1], end: [2], strides: [1], shrinkAxisMask: 1 },
  { shape: [6, 5, 4], begin: [0, 0], end: [0, 3], strides: [1, 2], ellipsisMask: 1 },
  { shape: [6, 5], begin: [0, 0, 0], end: [0, 2, 5], strides: [1, 1, 2], newAxisMask: 1 },
  { shape: [2, 8], begin: [0, 6], end: [2, 1], strides: [1, -3], endMask: 1 },
  { shape: [5], begin: [3], end: [3], strides: [1] },
];

function sliced(x: tf.Tensor, s: SliceSpec): tf.Tensor {
  return tf.stridedSlice(x, s.begin, s.end, s.strides, s.beginMask, s.endMask, s.ellipsisMask, s.newAxisMask, s.shrinkAxisMask);
}

beforeAll(async () => {
  await useWasm();
});

describe('StridedSlice gradient', () => {
  it.each(specs.map((s, i) => [i, JSON.stringify(s), s] as const))('case %i: %s', async (i, _label, s) => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      try {
        const { dx, expected } = tf.tidy(() => {
          const size = s.shape.reduce((a, b) => a * b, 1);
          const indices = tf.tensor(Float32Array.from({ length: size }, (_, k) => k), s.shape);
          const picked = Array.from(sliced(indices, s).dataSync());
          const rng = makeRng(30 + i);
          const dyValues = picked.map(() => Math.round(rng() * 64) - 32);
          const dy = tf.tensor(dyValues, sliced(indices, s).shape);
          const want = new Array<number>(size).fill(0);
          picked.forEach((k, j) => (want[k] = want[k]! + dyValues[j]!));
          const x = tf.randomUniform(s.shape, -1, 1, 'float32', 3);
          const grad = tf.grad((t: tf.Tensor) => sliced(t, s))(x, dy);
          expect(grad.shape).toEqual(s.shape);
          return { dx: Array.from(grad.dataSync()), expected: want };
        });
        expect(dx, backend).toEqual(expected);
      } finally {
        await tf.setBackend('wasm');
      }
    }
  });
});
