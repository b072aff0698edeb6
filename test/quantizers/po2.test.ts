import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { clipPowerOfTwo, QuantizedPo2, QuantizedReluPo2 } from '../../src/quantizers/po2.js';
import { buildQuantizer, expectCallVector, expectMethodVector, vectorsFor } from '../helpers/qkeras-vectors.js';
import { apply, gradient, mean, uniformValues } from '../helpers/activation-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setLearningPhase(0));

const CLASSES = [QuantizedPo2, QuantizedReluPo2];
const build = (spec: string): QuantizedPo2 | QuantizedReluPo2 =>
  buildQuantizer(spec, CLASSES) as QuantizedPo2 | QuantizedReluPo2;

/** The exponent of a power of two, or NaN when v is not ±2^k. */
function exponentOf(v: number): number {
  const k = Math.log2(Math.abs(v));
  return Number.isInteger(k) && 2 ** k === Math.abs(v) ? k : Number.NaN;
}

describe('po2 QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['quantized_po2', 'quantized_relu_po2']);
  const methods = vectorsFor('quantizer_method', ['quantized_po2', 'quantized_relu_po2']);
  it('finds every vector', () => {
    expect(calls.filter((v) => v.quantizer.startsWith('quantized_po2')).length).toBe(5);
    expect(calls.filter((v) => v.quantizer.startsWith('quantized_relu_po2')).length).toBe(8);
    expect(methods.length).toBe(18);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, CLASSES));
  for (const v of methods) {
    it(`${v.test_name} (#${v.id})`, () => {
      expect(v.method).toBe('min_max');
      expectMethodVector(v, CLASSES);
    });
  }
});

describe('po2 str() and config', () => {
  it.each([
    ['quantized_po2(4)', 'quantized_po2(4)'],
    ['quantized_po2(4,8)', 'quantized_po2(4,8)'],
    ['quantized_po2(4,0.5)', 'quantized_po2(4,0)'],
    ['quantized_po2(4,2.7)', 'quantized_po2(4,2)'],
    ['quantized_po2(4,8.0)', 'quantized_po2(4,8)'],
    ['quantized_po2(5,quadratic_approximation=True)', 'quantized_po2(5,quadratic_approximation=1)'],
    ['quantized_po2(8,4,1)', 'quantized_po2(8,4,1)'],
    ['quantized_po2(3,0.5,0,0,"floor")', 'quantized_po2(3,0)'],
    // QKeras raises TypeError here (int(None)); None parses back to the same quantizer.
    ['quantized_po2(8,use_stochastic_rounding=True)', 'quantized_po2(8,None,1)'],
    ['quantized_relu_po2(4)', 'quantized_relu_po2(4)'],
    ['quantized_relu_po2(4,4)', 'quantized_relu_po2(4,4)'],
    ['quantized_relu_po2(8,4,0.25)', 'quantized_relu_po2(8,4,0.25)'],
    ['quantized_relu_po2(8, negative_slope=0.0625)', 'quantized_relu_po2(8,0.0625)'],
    ['quantized_relu_po2(8,2.5,0,1,1)', 'quantized_relu_po2(8,2,1,quadratic_approximation=1)'],
  ])('%s prints %s', (spec, want) => {
    expect(build(spec).toString()).toBe(want);
  });

  it("getConfig has QKeras's keys and rebuilds the same quantizer", () => {
    const x = uniformValues(3, 200, -50, 50);
    const cases: [typeof QuantizedPo2 | typeof QuantizedReluPo2, QuantizerArgs, string[]][] = [
      [
        QuantizedPo2,
        { bits: 5, max_value: 4, quadratic_approximation: true, log2_rounding: 'floor', qnoise_factor: 0.5 },
        ['bits', 'max_value', 'use_stochastic_rounding', 'quadratic_approximation', 'qnoise_factor', 'log2_rounding'],
      ],
      [
        QuantizedReluPo2,
        { bits: 6, max_value: 8, negative_slope: 0.5 },
        [
          'bits',
          'max_value',
          'negative_slope',
          'use_stochastic_rounding',
          'quadratic_approximation',
          'qnoise_factor',
          'log2_rounding',
        ],
      ],
    ];
    for (const [Cls, args, keys] of cases) {
      const q = new Cls(args);
      expect(Object.keys(q.getConfig())).toEqual(keys);
      const back = new Cls(q.getConfig() as QuantizerArgs);
      expect(back.toString()).toBe(q.toString());
      expect(apply(back, x)).toEqual(apply(q, x));
    }
  });
});

describe('po2 arguments', () => {
  it('rejects a negative max_value, an unknown log2_rounding and a bad negative_slope', () => {
    expect(() => new QuantizedPo2({ bits: 4, max_value: -1 })).toThrow(/quantized_po2: max_value=-1/);
    expect(() => new QuantizedPo2({ log2_rounding: 'ceil' })).toThrow(/log2_rounding="ceil".*'rnd' or 'floor'/);
    expect(() => new QuantizedReluPo2({ negative_slope: 0.3 })).toThrow(ConfigError);
    expect(() => new QuantizedReluPo2({ negative_slope: 0.3 })).toThrow(/power of two/);
  });

  it('rejects a bit width that leaves no exponent bits', () => {
    expect(() => new QuantizedPo2({ bits: 1 })).toThrow(/quantized_po2: bits=1/);
    expect(new QuantizedPo2({ bits: 1, max_value: 1 }).maxExp).toBe(0);
  });

  it('exponent ranges follow QKeras (value sign bit in po2 only, exponent sign bit unless max_value <= 1)', () => {
    const ranges = (q: QuantizedPo2 | QuantizedReluPo2): [number, number] => [q.minExp, q.maxExp];
    expect(ranges(new QuantizedPo2({ bits: 4 }))).toEqual([-4, 3]);
    expect(ranges(new QuantizedPo2({ bits: 4, max_value: 1 }))).toEqual([-8, 7]);
    expect(ranges(new QuantizedPo2({ bits: 5, quadratic_approximation: true }))).toEqual([-8, 6]);
    expect(ranges(new QuantizedReluPo2({ bits: 4 }))).toEqual([-8, 7]);
    expect(ranges(new QuantizedReluPo2({ bits: 4, max_value: 0.5 }))).toEqual([-16, 15]);
  });

  it('relu_po2 min() is the positive 2^min_exp without slope, the leaky bound with one', () => {
    expect(new QuantizedReluPo2({ bits: 4 }).min()).toBe(2 ** -8);
    expect(new QuantizedReluPo2({ bits: 4, negative_slope: 0.25 }).min()).toBe(-2);
  });
});

describe('po2 properties', () => {
  const x = uniformValues(21, 4000, -300, 300).concat(uniformValues(22, 1000, -0.01, 0.01));

  it('quantized_po2 outputs are ±2^k, k in [minExp, maxExp], sign of x (0 -> +), magnitude monotone, idempotent', () => {
    for (const args of [{ bits: 4 }, { bits: 5 }, { bits: 6, max_value: 16 }, { bits: 3, max_value: 1 }, { bits: 8 }]) {
      const q = new QuantizedPo2(args);
      const y = apply(q, x);
      y.forEach((v, i) => {
        const k = exponentOf(v);
        expect(k >= q.minExp && k <= q.maxExp, `${q}(${x[i]}) = ${v}`).toBe(true);
        expect(Math.sign(v)).toBe(x[i]! < 0 ? -1 : 1);
      });
      const order = x.map((v, i) => [Math.abs(v), Math.abs(y[i]!)] as const).sort((a, b) => a[0] - b[0]);
      expect(order.every(([, v], i) => i === 0 || v >= order[i - 1]![1]), `${q} monotone`).toBe(true);
      expect(apply(q, y), `${q} idempotent`).toEqual(y);
    }
  });

  it('rounds in the log domain: the boundary between 2^k and 2^(k+1) is their geometric mean', () => {
    const q = new QuantizedPo2({ bits: 6 });
    expect(apply(q, [1.41, 1.42, 2.82, 2.84, -0.707, -0.708, 0.3535, 0.3536])).toEqual([1, 2, 2, 4, -0.5, -1, 0.25, 0.5]);
  });

  it('maps zero and values below K.epsilon to 2^minExp (never 0)', () => {
    const q = new QuantizedPo2({ bits: 4 });
    expect(apply(q, [0, -0, 5e-8, -5e-8])).toEqual([2 ** -4, 2 ** -4, 2 ** -4, -(2 ** -4)]);
    expect(apply(new QuantizedReluPo2({ bits: 3 }), [0, -1, -100])).toEqual([2 ** -4, 2 ** -4, 2 ** -4]);
  });

  it('flushes subnormal powers of two to zero, as TF does', () => {
    // quantized_relu_po2(8): min exponent -128, and 2^-128 is a float32 subnormal.
    expect(apply(new QuantizedReluPo2({ bits: 8 }), [0, -3])).toEqual([0, 0]);
    expect(apply(new QuantizedReluPo2({ bits: 6 }), [0])).toEqual([2 ** -32]);
  });

  it('quadratic approximation gives even exponents only', () => {
    const q = new QuantizedPo2({ bits: 5, quadratic_approximation: true });
    const y = apply(q, x);
    for (const v of y) {
      const k = exponentOf(v);
      expect(k % 2 === 0 && k >= 2 * q.minExp && k <= 2 * q.maxExp, `${v}`).toBe(true);
    }
  });

  it('floor rounding never exceeds |x| within range', () => {
    const q = new QuantizedPo2({ bits: 8, log2_rounding: 'floor' });
    const inside = x.filter((v) => Math.abs(v) > 1e-3);
    apply(q, inside).forEach((v, i) => expect(Math.abs(v)).toBeLessThanOrEqual(Math.abs(inside[i]!)));
    // QKeras floors float32 log(x) / float32(ln 2); for 2^13 that quotient is 12.999999, so 8192 floors to
    // 4096 in QKeras too. Exact powers with an exact quotient (2^4 here) stay put.
    expect(apply(q, [16, 8192])).toEqual([16, 4096]);
  });

  it('relu_po2 maps negatives to 2^minExp without slope and to -2^k of slope*|x| with one', () => {
    const plain = new QuantizedReluPo2({ bits: 4 });
    expect(apply(plain, [-5, -0.1, 0.1, 5])).toEqual([2 ** -8, 2 ** -8, 0.125, 4]);
    const leaky = new QuantizedReluPo2({ bits: 4, negative_slope: 0.25 });
    expect(apply(leaky, [-5, -0.5, 0.5, 5])).toEqual([-1, -0.125, 0.5, 4]);
  });

  it('relu_po2 with max_value holds values at or above it (rounded in the log domain)', () => {
    const q = new QuantizedReluPo2({ bits: 4, max_value: 3 });
    // 3 is not a power of two: log2(3) = 1.58 rounds to 2, so the output is 4 (QKeras behaves the same).
    expect(apply(q, [2, 3, 100])).toEqual([2, 4, 4]);
  });

  it('handles any rank, returns float32 and does not leak', () => {
    const q = new QuantizedReluPo2({ bits: 5, negative_slope: 0.5 });
    const input = tf.tensor3d(x.slice(0, 24), [2, 3, 4]);
    const before = tf.memory().numTensors;
    const y = q.call(input);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.dataSync())).toEqual(apply(q, x.slice(0, 24)));
    tf.dispose([input, y]);
  });

  it('clipPowerOfTwo returns exponents', () => {
    const e = tf.tidy(() =>
      Array.from(
        clipPowerOfTwo(tf.tensor1d([0, 0.3, 1, 6, 1000]), {
          minExp: -3,
          maxExp: 4,
          maxValue: 100,
          quadraticApproximation: false,
          useStochasticRounding: false,
          log2Rounding: 'rnd',
        }).dataSync(),
      ),
    );
    expect(e).toEqual([-3, -2, 0, 3, 4]);
  });
});

describe('po2 gradients', () => {
  const pts = [-10, -2, -0.5, 0, 0.5, 2, 3, 10];

  it('quantized_po2 is straight through (1), or 1 - qnoise without use_ste', () => {
    expect(gradient(new QuantizedPo2({ bits: 4 }), pts)).toEqual(pts.map(() => 1));
    expect(gradient(new QuantizedPo2({ bits: 4, use_ste: false, qnoise_factor: 0.75 }), pts)).toEqual(
      pts.map(() => 0.25),
    );
  });

  it('quantized_relu_po2 has the (leaky) ReLU derivative, zero above max_value', () => {
    expect(gradient(new QuantizedReluPo2({ bits: 4, max_value: 2 }), pts)).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
    expect(gradient(new QuantizedReluPo2({ bits: 4, negative_slope: 0.5 }), pts)).toEqual([
      0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1,
    ]);
  });
});

describe('po2 stochastic rounding', () => {
  const cases: [string, number][] = [
    ['quantized_po2(8,None,1)', 42],
    ['quantized_po2(8,None,1)', 100],
    ['quantized_po2(8,None,1)', -141],
    ['quantized_po2(8,None,1)', 10031],
    ['quantized_po2(8,None,1)', 32],
    ['quantized_relu_po2(8,None,0,1)', 48],
    ['quantized_relu_po2(8,None,0,1)', 0.3],
  ];

  it.each(cases)('%s(%d) is unbiased over many draws', (spec, v) => {
    // A draw is 2^lo or 2^hi around |v| with variance (2^hi - |v|)(|v| - 2^lo); the mean of n draws is
    // checked to 6 standard deviations (QKeras's own test allows 10% over 100000 draws).
    const n = 20000;
    const lo = 2 ** Math.floor(Math.log2(Math.abs(v)));
    const sd = Math.sqrt(((2 * lo - Math.abs(v)) * (Math.abs(v) - lo)) / n);
    setSeed(666);
    const y = apply(build(spec), new Array<number>(n).fill(v), { training: true });
    expect(new Set(y.map((e) => exponentOf(e))).size).toBeLessThanOrEqual(2);
    expect(Math.abs(mean(y) - Math.fround(v))).toBeLessThanOrEqual(6 * sd + 1e-9);
  });

  it('negative inputs of quantized_relu_po2 without slope average to (almost) 0', () => {
    setSeed(1);
    const y = apply(build('quantized_relu_po2(8,None,0,1)'), new Array<number>(1000).fill(-42), { training: true });
    expect(Math.abs(mean(y))).toBeLessThan(1e-6);
  });

  it('is deterministic in inference and reproducible with setSeed in training', () => {
    const q = build('quantized_po2(6,None,1)');
    const x = uniformValues(9, 500, -20, 20);
    expect(apply(q, x)).toEqual(apply(build('quantized_po2(6)'), x));
    setSeed(5);
    const a = apply(q, x, { training: true });
    setSeed(5);
    expect(apply(q, x, { training: true })).toEqual(a);
    expect(a).not.toEqual(apply(build('quantized_po2(6)'), x));
  });

  it('floor rounding stays deterministic even with stochastic rounding on (QKeras checks floor first)', () => {
    const q = new QuantizedPo2({ bits: 6, use_stochastic_rounding: true, log2_rounding: 'floor' });
    const x = uniformValues(10, 200, -20, 20);
    expect(apply(q, x, { training: true })).toEqual(apply(new QuantizedPo2({ bits: 6, log2_rounding: 'floor' }), x));
  });
});
