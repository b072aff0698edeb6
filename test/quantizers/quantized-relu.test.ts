import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { QuantizedRelu } from '../../src/quantizers/quantized-relu.js';
import { setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { applyQnoiseFactor, buildQuantizer, expectCallVector, expectMethodVector, vectorsFor } from '../helpers/qkeras-vectors.js';
import {
  apply,
  gradient,
  mean,
  nonDecreasing,
  onGrid,
  roundHalfEven,
  uniformValues,
} from '../helpers/activation-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  setLearningPhase(0);
  setInternalSigmoid('hard');
});

const relu = (spec: string): QuantizedRelu => buildQuantizer(spec, [QuantizedRelu]) as QuantizedRelu;


describe('quantized_relu QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['quantized_relu']);
  const methods = vectorsFor('quantizer_method', ['quantized_relu']);
  it('finds every vector', () => {
    expect(calls.length).toBe(9);
    expect(methods.length).toBe(4);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, [QuantizedRelu], { prepare: applyQnoiseFactor }));
  for (const v of methods) {
    it(`${v.test_name} (#${v.id})`, () => {
      expect(v.method).toBe('range');
      expectMethodVector(v, [QuantizedRelu]);
    });
  }
});

describe('quantized_relu str() and config', () => {
  it.each([
    ['quantized_relu(4)', 'quantized_relu(4,0)'],
    ['quantized_relu(6,2,0,0.25)', 'quantized_relu(6,2,0.25)'],
    ['quantized_relu(6,2,1,0.125)', 'quantized_relu(6,2,1,0.125)'],
    ['quantized_relu(6,2,1)', 'quantized_relu(6,2,1)'],
    ['quantized_relu(8,2,use_stochastic_rounding=True)', 'quantized_relu(8,2,0,1)'],
    ['quantized_relu(4,1,negative_slope=1.0)', 'quantized_relu(4,1,1.0)'],
    ['quantized_relu(4,1,negative_slope=2)', 'quantized_relu(4,1,2)'],
    ['quantized_relu(3,1,relu_upper_bound=1.5,is_quantized_clip=False)', 'quantized_relu(3,1)'],
    ['quantized_relu(6,2,0.25)', 'quantized_relu(6,2,0)'],
  ])('%s prints %s', (spec, want) => {
    expect(relu(spec).toString()).toBe(want);
  });

  it('re-parsing the ambiguous str() turns negative_slope into use_sigmoid (QKeras quirk)', () => {
    const reparsed = relu(relu('quantized_relu(6,2,0,0.25)').toString());
    expect(reparsed.useSigmoid).toBe(0.25);
    expect(reparsed.negativeSlope).toBe(0);
  });

  it("getConfig has QKeras's keys and rebuilds the same quantizer", () => {
    const cases: QuantizerArgs[] = [
      { bits: 6, integer: 2, negative_slope: 0.25 },
      { bits: 6, integer: 2, use_sigmoid: 1, negative_slope: 0.125 },
      { bits: 4, integer: 1, relu_upper_bound: 1.5, qnoise_factor: 0.5 },
      { bits: 8, integer: 3, use_stochastic_rounding: true },
    ];
    const x = uniformValues(7, 64, -6, 6);
    for (const args of cases) {
      const q = new QuantizedRelu(args);
      const config = q.getConfig();
      expect(Object.keys(config)).toEqual([
        'bits',
        'integer',
        'use_sigmoid',
        'negative_slope',
        'use_stochastic_rounding',
        'relu_upper_bound',
        'qnoise_factor',
      ]);
      const back = new QuantizedRelu(config as QuantizerArgs);
      expect(back.toString()).toBe(q.toString());
      expect(apply(back, x)).toEqual(apply(q, x));
    }
  });

  it('keeps a Python float negative_slope printable after a config round trip', () => {
    const q = relu('quantized_relu(4,1,negative_slope=1.0)');
    expect(new QuantizedRelu(q.getConfig() as QuantizerArgs).toString()).toBe('quantized_relu(4,1,1.0)');
  });
});

describe('quantized_relu arguments', () => {
  it.each([0.1, -0.25, 3, Number.POSITIVE_INFINITY])('rejects negative_slope=%s with a clear error', (slope) => {
    expect(() => new QuantizedRelu({ bits: 4, negative_slope: slope })).toThrow(ConfigError);
    expect(() => new QuantizedRelu({ bits: 4, negative_slope: slope })).toThrow(/negative_slope.*power of two/);
  });

  it('accepts 0 and powers of two as negative_slope', () => {
    for (const slope of [0, 0.5, 0.25, 2 ** -10, 1, 4]) {
      expect(new QuantizedRelu({ bits: 4, negative_slope: slope }).negativeSlope).toBe(slope);
    }
  });

  it('rejects unknown arguments and bad bits', () => {
    expect(() => new QuantizedRelu({ bitz: 4 })).toThrow(/quantized_relu.*bitz/);
    expect(() => new QuantizedRelu({ bits: 0 })).toThrow(ConfigError);
    expect(() => new QuantizedRelu({ bits: 2.5 })).toThrow(ConfigError);
  });

  it('max/min follow QKeras (max is max(1, 2^integer), min is the leaky bound)', () => {
    expect([relu('quantized_relu(4,0)').min(), relu('quantized_relu(4,0)').max()]).toEqual([0, 1]);
    expect(relu('quantized_relu(4,2)').max()).toBe(4);
    expect(relu('quantized_relu(4,-2)').max()).toBe(1);
    expect(relu('quantized_relu(6,2,0,0.25)').min()).toBe(-1);
    expect(relu('quantized_relu(1,2,0,0.25)').min()).toBe(-1);
    expect(relu('quantized_relu(1,2,0,0.25)').max()).toBe(1);
  });

  it('range() is refused with sigmoid or negative slope, as QKeras asserts', () => {
    expect(() => relu('quantized_relu(4,0,1)').range()).toThrow(ConfigError);
    expect(() => relu('quantized_relu(4,0,0,0.5)').range()).toThrow(ConfigError);
  });
});

describe('quantized_relu properties', () => {
  const x = uniformValues(11, 2000, -20, 20).sort((a, b) => a - b);

  it('outputs lie on the 2^integer/2^bits grid within [0, 2^integer - step], monotone, idempotent', () => {
    for (let bits = 1; bits <= 8; bits++) {
      for (let integer = -2; integer <= 4; integer++) {
        const q = new QuantizedRelu({ bits, integer });
        const step = 2 ** (integer - bits);
        const y = apply(q, x);
        expect(onGrid(y, step), `${q} grid`).toBe(true);
        expect(Math.min(...y), `${q} min`).toBe(0);
        expect(Math.max(...y), `${q} max`).toBe(2 ** integer - step);
        expect(nonDecreasing(y), `${q} monotone`).toBe(true);
        expect(apply(q, y), `${q} idempotent`).toEqual(y);
      }
    }
  });

  it('matches a round-half-to-even reference exactly (ties included)', () => {
    const q = new QuantizedRelu({ bits: 4, integer: 1 });
    // Step 0.125: 0.0625 and 0.1875 are ties that go to the even code (0 and 0.25).
    expect(apply(q, [0.0625, 0.1875, 0.3125, 1.8125, 1.9375, -0.0625])).toEqual([0, 0.25, 0.25, 1.75, 1.875, 0]);
  });

  it('leaky outputs lie on the same grid, floored at -negative_slope * 2^integer', () => {
    for (const [bits, integer, slope] of [
      [4, 1, 0.5],
      [6, 2, 0.25],
      [8, 0, 0.125],
    ] as const) {
      const q = new QuantizedRelu({ bits, integer, negative_slope: slope });
      const step = 2 ** (integer - (bits - 1));
      const y = apply(q, x);
      expect(onGrid(y, step)).toBe(true);
      expect(Math.min(...y)).toBe(-slope * 2 ** integer);
      expect(Math.max(...y)).toBe(2 ** integer - step);
      expect(nonDecreasing(y)).toBe(true);
    }
  });

  it("the sigmoid form equals a float32 step-by-step reference of QKeras's formula", () => {
    // quantized_relu(6,2,1): p = hard_sigmoid(x/4)*64, xq = 4*clip(2*round(p)/64 - 1, 0, 1 - 1/64), and the
    // output is x_u + (xq - x_u) with x_u = relu(x) clipped at 4 - 4/64, all rounded to float32 per op.
    const f = Math.fround;
    const q = new QuantizedRelu({ bits: 6, integer: 2, use_sigmoid: 1 });
    const y = apply(q, x);
    const top = 4 - 4 / 64;
    const want = x.map((v) => {
      const hs = Math.min(Math.max(f(f(0.5 * f(v / 4)) + 0.5), 0), 1);
      const p = f(hs * 64);
      const xq = 4 * Math.min(Math.max(f(f(2 * (roundHalfEven(p) / 64)) - 1), 0), 1 - 1 / 64);
      const xu = v <= top ? Math.max(v, 0) : top;
      return f(xu + f(-xu + xq));
    });
    expect(y).toEqual(want);
  });

  it('fast inference gives the same values as the full path', () => {
    for (const [bits, integer] of [
      [4, 0],
      [6, 2],
      [8, 3],
    ] as const) {
      const slow = new QuantizedRelu({ bits, integer });
      const fast = new QuantizedRelu({ bits, integer, enable_fast_inference: true });
      expect(apply(fast, x)).toEqual(apply(slow, x));
    }
  });

  it('handles any rank and returns float32', () => {
    const q = new QuantizedRelu({ bits: 4, integer: 1 });
    const y = tf.tidy(() => q.call(tf.tensor4d(x.slice(0, 24), [2, 2, 3, 2])));
    expect(y.shape).toEqual([2, 2, 3, 2]);
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.dataSync())).toEqual(apply(q, x.slice(0, 24)));
    const yi = tf.tidy(() => q.call(tf.tensor1d([-1, 0, 1, 2, 3], 'int32')));
    expect(yi.dtype).toBe('float32');
    expect(Array.from(yi.dataSync())).toEqual([0, 0, 1, 1.875, 1.875]);
    tf.dispose([y, yi]);
  });

  it('does not leak tensors', () => {
    const q = new QuantizedRelu({ bits: 4, integer: 1, negative_slope: 0.5, use_sigmoid: 1 });
    const input = tf.tensor1d(x);
    const before = tf.memory().numTensors;
    const y = q.call(input);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([input, y]);
  });
});

describe('quantized_relu gradients', () => {
  const pts = [-3, -1, -0.25, 0, 0.3, 1, 1.875, 1.9, 2, 5];

  it('is the derivative of the ReLU clipped at the top of the grid', () => {
    // quantized_relu(4,1): grid top 2 - 2^-3 = 1.875; derivative 1 on (0, 1.875], 0 elsewhere.
    expect(gradient(relu('quantized_relu(4,1)'), pts)).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
  });

  it('is the leaky derivative with a negative slope (slope at and below 0)', () => {
    // negative_slope steals a bit: top 2 - 2^-2 = 1.75.
    expect(gradient(relu('quantized_relu(4,1,0,0.25)'), pts)).toEqual([0.25, 0.25, 0.25, 0.25, 1, 1, 0, 0, 0, 0]);
  });

  it('uses relu_upper_bound when is_quantized_clip is off, and no bound without either', () => {
    const bounded = new QuantizedRelu({ bits: 4, integer: 1, relu_upper_bound: 1.5, is_quantized_clip: false });
    expect(gradient(bounded, pts)).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
    const open = new QuantizedRelu({ bits: 4, integer: 1, is_quantized_clip: false });
    expect(gradient(open, pts)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('is scaled by 1 - qnoise_factor without use_ste, and unchanged by qnoise with use_ste', () => {
    const noSte = new QuantizedRelu({ bits: 4, integer: 1, use_ste: false, qnoise_factor: 0.25 });
    expect(gradient(noSte, pts)).toEqual([0, 0, 0, 0, 0.75, 0.75, 0.75, 0, 0, 0]);
    const ste = new QuantizedRelu({ bits: 4, integer: 1, qnoise_factor: 0.25 });
    expect(gradient(ste, pts)).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
  });
});

describe('quantized_relu stochastic rounding', () => {
  const spec = 'quantized_relu(4,1,use_stochastic_rounding=True)';

  it('is deterministic in inference (same as round-to-nearest)', () => {
    const x = uniformValues(5, 500, -1, 3);
    expect(apply(relu(spec), x)).toEqual(apply(relu('quantized_relu(4,1)'), x));
    setLearningPhase(1);
    expect(apply(relu(spec), x, { training: false })).toEqual(apply(relu('quantized_relu(4,1)'), x));
  });

  // QKeras rounds stochastically with precision 0.5 (`_round_through(p, True)`), i.e. to half codes: the
  // candidates around 0.3 = 2.4 codes are 2 and 2.5 codes, 0.25 and 0.3125.
  it('is reproducible from setSeed and lands on the two neighbouring half codes', () => {
    const x = new Array<number>(2000).fill(0.3);
    setSeed(42);
    const a = apply(relu(spec), x, { training: true });
    setSeed(42);
    const b = apply(relu(spec), x, { training: true });
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([0.25, 0.3125]));
    setSeed(43);
    expect(apply(relu(spec), x, { training: true })).not.toEqual(a);
  });

  it('is unbiased: the mean of many draws is the input', () => {
    // 0.3 sits 80% of the way from 0.25 to 0.3125: one draw has std 0.0625*sqrt(0.8*0.2) = 0.025, the mean
    // of 20000 draws has std 0.00018; 0.0015 is 8 standard deviations.
    setSeed(1);
    const y = apply(relu(spec), new Array<number>(20000).fill(0.3), { training: true });
    expect(Math.abs(mean(y) - 0.3)).toBeLessThan(0.0015);
  });

  it('follows the global learning phase when no training flag is given', () => {
    setLearningPhase(1);
    setSeed(3);
    const y = apply(relu(spec), new Array<number>(200).fill(0.3));
    expect(new Set(y).size).toBe(2);
  });
});
