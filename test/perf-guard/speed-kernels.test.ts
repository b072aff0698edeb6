/**
 * The kernels replaced for speed only: Sum over the leading axes (SIMD column walk) equals the backend's
 * own Sum bit for bit, and Identity shares data without changing values, shapes or memory accounting.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { originalKernel } from '../../src/backend/kernels/wasm-ops.js';
import { reducesLeadingAxes } from '../../src/backend/kernels/sum-columns.js';
import { wasmFusedQuantizerKernelNames, wasmSpeedKernelNames } from '../../src/backend/wasm-kernels.js';
import { edgeValues, expectSameBits } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

/** The backend's own Sum, called directly. */
function originalSum(x: tf.Tensor, axis: number[], keepDims: boolean): Float32Array {
  const backend = tf.backend();
  const info = originalKernel(tf.Sum)!.kernelFunc({ inputs: { x }, backend, attrs: { axis, keepDims } }) as tf.TensorInfo;
  const values = Float32Array.from(backend.readSync(info.dataId) as Float32Array);
  backend.disposeData(info.dataId);
  return values;
}

describe('speed-only kernel replacements', () => {
  it('registers them and the fused quantizer kernels on wasm', () => {
    for (const name of [...wasmSpeedKernelNames, ...wasmFusedQuantizerKernelNames]) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  });

  it('recognises exactly the leading-axes reductions', () => {
    expect(reducesLeadingAxes([0, 1, 2], 4)).toBe(true);
    expect(reducesLeadingAxes([2, 0, 1], 4)).toBe(true);
    expect(reducesLeadingAxes([-4, -3, -2], 4)).toBe(true);
    expect(reducesLeadingAxes([0], 2)).toBe(true);
    expect(reducesLeadingAxes([0, 1], 4)).toBe(false);
    expect(reducesLeadingAxes([1, 2, 3], 4)).toBe(false);
    expect(reducesLeadingAxes([0], 1)).toBe(false);
  });

  const shapes = [[128, 24, 24, 32], [128, 26, 26, 18], [128, 10], [7, 5], [3, 3, 18, 32], [1, 1], [33, 1], [2, 3, 4, 5, 6]];
  for (const shape of shapes) {
    it(`Sum over the leading axes of ${JSON.stringify(shape)} equals the backend's own bit for bit`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const axes = shape.slice(0, -1).map((_, i) => i);
      for (const [seed, special] of [[1, false], [2, true]] as const) {
        const values = special ? edgeValues(n, seed, 3, 0.25) : Float32Array.from(edgeValues(n, seed, 3, 0.25), (v) => (Number.isFinite(v) ? v : 0.5));
        const x = tf.tensor(values, shape);
        for (const keepDims of [true, false]) {
          const got = tf.tidy(() => Float32Array.from(tf.sum(x, axes, keepDims).dataSync()));
          expectSameBits(got, originalSum(x, axes, keepDims), values, `sum ${JSON.stringify(shape)} keepDims ${keepDims}`);
          expect(tf.sum(x, axes, keepDims).shape).toEqual(keepDims ? shape.map((d, i) => (i === shape.length - 1 ? d : 1)) : [shape[shape.length - 1]]);
        }
        x.dispose();
      }
    });
  }

  it('Sum over other axes and of int32 is still the backend own', () => {
    const x = tf.tensor(edgeValues(60, 3, 2, 0.5).map((v) => (Number.isFinite(v) ? v : 1)), [3, 4, 5]);
    expectSameBits(tf.sum(x, [1, 2]).dataSync() as Float32Array, originalSum(x, [1, 2], false), new Float32Array(0), 'sum [1, 2]');
    expect(Array.from(tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), 0).dataSync())).toEqual([4, 6]);
    x.dispose();
  });

  it('Identity (clone) shares data: same values, independent lifetimes, exact accounting', () => {
    const before = tf.memory();
    const x = tf.tensor([1.5, -0, NaN, 3], [2, 2]);
    const y = x.clone();
    expect(Array.from(y.dataSync())).toEqual([1.5, -0, NaN, 3]);
    expect(y.shape).toEqual([2, 2]);
    expect(tf.memory().numTensors).toBe(before.numTensors + 2);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -0, NaN, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    const s = tf.tensor(['a', 'b']);
    expect(s.clone().dataSync()).toEqual(['a', 'b']);
  });

  it('a variable assigned from a clone does not change the clone', () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const snapshot = v.clone();
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });
});
