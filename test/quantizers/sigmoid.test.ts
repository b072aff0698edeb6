import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import {
  binarySigmoid,
  binaryTanh,
  getInternalSigmoid,
  hardSigmoid,
  hardTanh,
  type InternalSigmoidMode,
  internalSigmoid,
  setInternalSigmoid,
  smoothSigmoid,
  smoothTanh,
} from '../../src/quantizers/sigmoid.js';
import { expectMatches, vectorsFor } from '../helpers/qkeras-vectors.js';
import { uniformValues } from '../helpers/activation-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setInternalSigmoid('hard'));

type Fn = (x: tf.Tensor) => tf.Tensor;

function run(fn: Fn, xs: readonly number[]): number[] {
  return tf.tidy(() => Array.from(fn(tf.tensor1d(xs as number[])).dataSync()));
}

function grad(fn: Fn, xs: readonly number[]): number[] {
  return tf.tidy(() => Array.from(tf.grad(fn)(tf.tensor1d(xs as number[])).dataSync()));
}

describe('hard_sigmoid QKeras vector', () => {
  const vectors = vectorsFor('function_call', ['hard_sigmoid']);
  it('finds the vector', () => expect(vectors.length).toBe(1));
  for (const v of vectors) {
    it(`${v.test_name} (#${v.id})`, () => {
      const y = tf.tidy(() => hardSigmoid(tf.tensor(v.input as number[])));
      expectMatches({ values: y.dataSync(), shape: y.shape }, v.expected, v.tolerance, `#${v.id}`);
      y.dispose();
    });
  }
});

describe('sigmoid and tanh helpers', () => {
  const pts = [-4, -3, -2, -1, -0.5, 0, 0.25, 0.5, 1, 2, 3, 4];

  it('hard_sigmoid has slope 0.5 (not Keras 0.2) and saturates at +-1', () => {
    expect(run(hardSigmoid, pts)).toEqual([0, 0, 0, 0, 0.25, 0.5, 0.625, 0.75, 1, 1, 1, 1]);
  });

  it('smooth_sigmoid has slope 0.1875 and saturates at +-8/3', () => {
    expect(run(smoothSigmoid, pts)).toEqual([0, 0, 0.125, 0.3125, 0.40625, 0.5, 0.546875, 0.59375, 0.6875, 0.875, 1, 1]);
  });

  it('hard_tanh is clip(x, -1, 1) and smooth_tanh is 2*smooth_sigmoid - 1', () => {
    expect(run(hardTanh, pts)).toEqual([-1, -1, -1, -1, -0.5, 0, 0.25, 0.5, 1, 1, 1, 1]);
    expect(run(smoothTanh, pts)).toEqual([-1, -1, -0.75, -0.375, -0.1875, 0, 0.09375, 0.1875, 0.375, 0.75, 1, 1]);
  });

  it('binary_sigmoid rounds half to even, so x <= 0 gives 0; binary_tanh is +-1', () => {
    const xs = [-2, -0.5, -1e-6, 0, 1e-6, 0.5, 2];
    expect(run(binarySigmoid, xs)).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(run(binaryTanh, xs)).toEqual([-1, -1, -1, -1, 1, 1, 1]);
  });

  it('computes in float32 op by op (0.5x + 0.5 rounds for tiny x, as in QKeras)', () => {
    expect(run(hardTanh, [1e-9])).toEqual([0]);
    const xs = uniformValues(4, 500, -3, 3);
    const f = Math.fround;
    expect(run(hardSigmoid, xs)).toEqual(xs.map((v) => Math.min(Math.max(f(f(0.5 * v) + 0.5), 0), 1)));
    expect(run(smoothSigmoid, xs)).toEqual(xs.map((v) => Math.min(Math.max(f(f(0.1875 * v) + 0.5), 0), 1)));
  });

  it('casts integer tensors to float32', () => {
    const y = tf.tidy(() => hardSigmoid(tf.tensor1d([-1, 0, 1], 'int32')));
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.dataSync())).toEqual([0, 0.5, 1]);
    y.dispose();
  });

  it('gradients: linear slope inside the clip range (ends included), 0 outside; binary ones are straight-through', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
    expect(grad(hardSigmoid, xs)).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0.5, 0]);
    expect(grad(hardTanh, xs)).toEqual([0, 1, 1, 1, 1, 1, 0]);
    expect(grad(smoothSigmoid, xs)).toEqual([0, 0.1875, 0.1875, 0.1875, 0.1875, 0.1875, 0]);
    expect(grad(smoothTanh, xs)).toEqual([0, 0.375, 0.375, 0.375, 0.375, 0.375, 0]);
    expect(grad(binarySigmoid, xs)).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0.5, 0]);
    expect(grad(binaryTanh, xs)).toEqual([0, 1, 1, 1, 1, 1, 0]);
  });

  it('do not leak tensors', () => {
    const x = tf.tensor1d(pts);
    for (const fn of [hardSigmoid, smoothSigmoid, binarySigmoid, hardTanh, smoothTanh, binaryTanh]) {
      const before = tf.memory().numTensors;
      const y = fn(x);
      expect(tf.memory().numTensors).toBe(before + 1);
      y.dispose();
    }
    x.dispose();
  });
});

describe('internal sigmoid', () => {
  it('defaults to hard and switches at call time', () => {
    expect(getInternalSigmoid()).toBe('hard');
    expect(run(internalSigmoid, [1])).toEqual([1]);
    setInternalSigmoid('smooth');
    expect(getInternalSigmoid()).toBe('smooth');
    expect(run(internalSigmoid, [1])).toEqual([0.6875]);
    setInternalSigmoid('real');
    const [y] = run(internalSigmoid, [1]);
    expect(Math.abs(y! - 1 / (1 + Math.exp(-1)))).toBeLessThan(1e-6);
  });

  it('rejects other modes with a clear error', () => {
    expect(() => setInternalSigmoid('fast' as InternalSigmoidMode)).toThrow(ConfigError);
    expect(() => setInternalSigmoid('fast' as InternalSigmoidMode)).toThrow(/mode="fast".*'real', 'hard' or 'smooth'/);
    expect(getInternalSigmoid()).toBe('hard');
  });
});
