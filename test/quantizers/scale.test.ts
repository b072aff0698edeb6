import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import {
  getIntegerBits,
  getLeastSquaresScale,
  getRolledBackShape,
  getScalingAxis,
  getUnrolledShape,
  getWeightScale,
  meanOver,
  stdOver,
  validateAxisAndEps,
} from '../../src/quantizers/scale.js';
import { vectorsFor } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

const f32 = Math.fround;

/** Parses a Python literal used in the vectors' call strings: None, an int, or a list of ints. */
function pyArg(text: string): number | number[] | null {
  const t = text.trim();
  if (t === 'None') return null;
  if (t.startsWith('[')) return JSON.parse(t) as number[];
  return Number(t);
}

/** Keyword values from a call string such as `_get_scale('auto', x, q, elements_per_scale=[2, 2], scale_axis=[0, 1])`. */
function keywordArgs(call: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of call.matchAll(/(\w+)=(\[[^\]]*\]|[^,)]+)/g)) out[m[1]!] = m[2]!;
  return out;
}

describe('function_call vectors of the scale helpers', () => {
  const scaleVectors = vectorsFor('function_call', ['_get_scale']);
  const unrollVectors = vectorsFor('function_call', ['_get_unrolled_shape']);
  const intBitsVectors = vectorsFor('function_call', ['_get_integer_bits']);

  it('finds every vector (18 _get_scale, 8 unrolled shape, 4 integer bits)', () => {
    expect(scaleVectors.length).toBe(18);
    expect(unrollVectors.length).toBe(8);
    expect(intBitsVectors.length).toBe(4);
  });

  const perChannel = scaleVectors.filter((v) => v.test_name.startsWith('test_GetScale_PerChannelScale'));
  const eps = scaleVectors.filter((v) => v.test_name.startsWith('test_GetScale_ElementsPerScale'));
  it('splits the _get_scale vectors into 3 per-channel and 15 elements-per-scale cases', () => {
    expect(perChannel.length).toBe(3);
    expect(eps.length).toBe(15);
  });

  for (const v of perChannel) {
    it(`${v.test_name} (#${v.id})`, () => {
      const input = v.input as { x_shape: number[] };
      const expected = v.expected as Record<string, number[]>;
      const x = tf.ones(input.x_shape);
      const one = f32(1 / f32(1 + f32(1e-7)));
      for (const perChannelScale of [true, false]) {
        const s = getLeastSquaresScale('auto', x, x, { perChannelScale }) as tf.Tensor;
        expect(s.shape).toEqual(expected[`shape(per_channel_scale=${perChannelScale ? 'True' : 'False'})`]);
        expect([...s.dataSync()].every((e) => e === one)).toBe(true);
        s.dispose();
      }
      x.dispose();
    });
  }

  eps.forEach((v, i) => {
    it(`${v.test_name} (#${v.id})`, () => {
      const shape = JSON.parse((v.input as { x_shape: string }).x_shape.slice(1)) as number[];
      const kw = keywordArgs(v.quantizer);
      const expected = v.expected as { scale_shape: number[]; num_unique_scale_values: number };
      const x = tf.randomUniform(shape, 0, 1, 'float32', 1000 + i);
      const q = tf.randomUniform(shape, 0, 1, 'float32', 2000 + i);
      const s = getLeastSquaresScale('auto', x, q, {
        scaleAxis: pyArg(kw.scale_axis!),
        elementsPerScale: pyArg(kw.elements_per_scale!),
      }) as tf.Tensor;
      expect(s.shape).toEqual(expected.scale_shape);
      expect(new Set(s.dataSync()).size).toBe(expected.num_unique_scale_values);
      tf.dispose([x, q, s]);
    });
  });

  for (const v of unrollVectors) {
    it(`${v.test_name} (#${v.id})`, () => {
      const input = v.input as { input_shape: number[]; unroll_factor: number | number[]; unroll_axis: number | number[] };
      const expected = v.expected as { unrolled: [number[], number | number[]]; rolled_back: number[] };
      const unrolled = getUnrolledShape(input.input_shape, input.unroll_factor, input.unroll_axis);
      expect(unrolled).toEqual(expected.unrolled);
      expect(getRolledBackShape(unrolled[0], unrolled[1])).toEqual(expected.rolled_back);
    });
  }

  for (const v of intBitsVectors) {
    it(`${v.test_name} (#${v.id})`, () => {
      const input = v.input as { min_value: number[]; max_value: number[]; bits: number };
      const kw = keywordArgs(v.quantizer);
      const bits = getIntegerBits(input.min_value, input.max_value, {
        bits: input.bits,
        symmetric: kw.symmetric === 'True',
        keepNegative: kw.keep_negative === 'True',
        isClipping: kw.is_clipping === 'True',
      });
      expect(bits.dtype).toBe('int32');
      expect([...bits.dataSync()]).toEqual(v.expected);
      bits.dispose();
    });
  }
});

describe('getScalingAxis', () => {
  it('reduces over all but the last axis by default, nothing for rank 1', () => {
    expect(getScalingAxis(null, 4)).toEqual([0, 1, 2]);
    expect(getScalingAxis(null, 1)).toEqual([]);
    expect(getScalingAxis(null, 0)).toEqual([]);
  });
  it('keeps an integer axis or the listed axes', () => {
    expect(getScalingAxis(1, 4)).toEqual([0, 2, 3]);
    expect(getScalingAxis(0, 2)).toEqual([1]);
    expect(getScalingAxis([0, 3], 4)).toEqual([1, 2]);
  });
});

describe('validateAxisAndEps', () => {
  it('broadcasts an integer eps over a list of axes', () => {
    expect(validateAxisAndEps([16, 32, 4], [0, 1], 2)).toEqual([[0, 1], [2, 2]]);
    expect(validateAxisAndEps([16, 32, 4], 0, 4)).toEqual([0, 4]);
  });
  it('rejects ambiguous or non-dividing combinations with a ConfigError', () => {
    expect(() => validateAxisAndEps([16, 32, 4], 0, 3)).toThrow(ConfigError);
    expect(() => validateAxisAndEps([16, 32, 4], 0, [2, 4])).toThrow(/single axis/);
    expect(() => validateAxisAndEps([16, 32, 4], [0, 1], [1, 2, 4])).toThrow(/one entry per scale axis/);
    expect(() => validateAxisAndEps([16, 32, 4], null, 2)).toThrow(/scale_axis/);
  });
});

describe('getLeastSquaresScale', () => {
  it('returns 1 for None, the number itself, and a tensor alpha unchanged', () => {
    const x = tf.tensor([[1, 2]]);
    expect(getLeastSquaresScale(null, x, x)).toBe(1);
    expect(getLeastSquaresScale(2.5, x, x)).toBe(2.5);
    const a = tf.tensor([1, 2]);
    expect(getLeastSquaresScale(a, x, x)).toBe(a);
    tf.dispose([x, a]);
  });

  it('computes mean(x*q) / (mean(q*q) + eps) per channel in float32', () => {
    const x = tf.tensor([[0.5, -3], [1.5, 1]]);
    const q = tf.tensor([[1, -1], [1, 1]]);
    const s = getLeastSquaresScale('auto', x, q) as tf.Tensor;
    expect(s.shape).toEqual([1, 2]);
    const expected = [f32(f32(f32(0.5 + 1.5) / 2) / f32(1 + f32(1e-7))), f32(f32(f32(3 + 1) / 2) / f32(1 + f32(1e-7)))];
    expect([...s.dataSync()]).toEqual(expected);
    tf.dispose([x, q, s]);
  });

  it('rounds to powers of two for auto_po2 and clips to the exponent range', () => {
    const x = tf.tensor([[0.3, 3, 100, 0.001]]);
    const q = tf.ones([1, 4]);
    const s = getLeastSquaresScale('auto_po2', x, q) as tf.Tensor;
    expect([...s.dataSync()]).toEqual([0.25, 4, 128, 2 ** -10]);
    const clipped = getLeastSquaresScale('auto_po2', x, q, { minPo2Exponent: -3, maxPo2Exponent: 2 }) as tf.Tensor;
    expect([...clipped.dataSync()]).toEqual([0.25, 4, 4, 0.125]);
    tf.dispose([x, q, s, clipped]);
  });

  it('gives one scale per group of elements_per_scale along the scale axis, repeated back', () => {
    const x = tf.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const q = tf.onesLike(x);
    const s = getLeastSquaresScale('auto', x, q, { scaleAxis: 1, elementsPerScale: 2 }) as tf.Tensor;
    expect(s.shape).toEqual([1, 4]);
    const d = f32(1 + f32(1e-7));
    const g0 = f32(f32(14) / 4 / d);
    const g1 = f32(f32(22) / 4 / d);
    expect([...s.dataSync()]).toEqual([g0, g0, g1, g1]);
    tf.dispose([x, q, s]);
  });

  it('rejects an alpha string other than auto/auto_po2', () => {
    const x = tf.ones([2]);
    expect(() => getLeastSquaresScale('max' as 'auto', x, x)).toThrow(ConfigError);
    x.dispose();
  });
});

describe('meanOver / stdOver', () => {
  it('matches Keras mean and std with keepdims', () => {
    const x = tf.tensor([[1, 2], [3, 6]]);
    expect(meanOver(x, [0]).arraySync()).toEqual([[2, 4]]);
    expect(stdOver(x, [0]).arraySync()).toEqual([[1, 2]]);
    expect(meanOver(x, []).arraySync()).toEqual([[1, 2], [3, 6]]);
    x.dispose();
  });
});

describe('getWeightScale', () => {
  it('returns 1 without a scale, the number, or a copy of the tensor', () => {
    expect(getWeightScale({ scale: null })).toBe(1);
    expect(getWeightScale({ scale: 0.5 })).toBe(0.5);
    const t = tf.tensor([[0.25, 0.5]]);
    const copy = getWeightScale({ scale: t }) as tf.Tensor;
    expect(copy).not.toBe(t);
    expect(copy.arraySync()).toEqual([[0.25, 0.5]]);
    tf.dispose([t, copy]);
  });
});

describe('getIntegerBits', () => {
  it('accepts tensors and caps at bits - keep_negative', () => {
    const lo = tf.tensor([-100]);
    const hi = tf.tensor([1000]);
    const b = getIntegerBits(lo, hi, { bits: 4, keepNegative: true });
    expect([...b.dataSync()]).toEqual([3]);
    tf.dispose([lo, hi, b]);
  });
});
