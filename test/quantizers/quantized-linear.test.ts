import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { UnsupportedError } from '../../src/errors.js';
import { PyFloat, type QuantizerArgs } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { QuantizedLinear } from '../../src/quantizers/quantized-linear.js';
import { lookupQuantizer } from '../../src/quantizers/registry.js';
import { vectorsFor } from '../helpers/qkeras-vectors.js';
import { leakedTensors, makeRng, values } from '../helpers/quantizer-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setLearningPhase(0));

const run = (q: QuantizedLinear, xs: number[] | number[][], training?: boolean): number[] => {
  const x = tf.tensor(xs);
  const y = q.call(x, { training });
  const out = [...y.dataSync()].map((v) => v + 0); // -0 -> 0
  tf.dispose([x, y]);
  return out;
};

describe('quantized_linear: QKeras vectors', () => {
  it('has none (QKeras ships no tests for it): the cases below are derived from its code', () => {
    expect(vectorsFor('quantizer_call', ['quantized_linear']).length).toBe(0);
    expect(vectorsFor('quantizer_method', ['quantized_linear']).length).toBe(0);
  });
});

describe('quantized_linear: forward', () => {
  it('fixed scale 2**(integer - bits + 1), symmetric by default, half-to-even rounding', () => {
    const q = new QuantizedLinear({}, [8, 3]);
    expect(q.dataTypeScale).toBe(1 / 16);
    expect(run(q, [0, 0.5, 1, 1.5, 2, 100, -100, 1 / 32, 3 / 32])).toEqual([0, 0.5, 1, 1.5, 2, 127 / 16, -127 / 16, 0, 0.125]);
    const asym = new QuantizedLinear({ bits: 3, symmetric: 0 });
    expect(run(asym, [-5, -1, -0.3, 0.9])).toEqual([-1, -1, -0.25, 0.75]);
  });

  it('"auto" uses the smallest per-channel scale that does not clip max|x|', () => {
    const q = new QuantizedLinear({ bits: 2, alpha: 'auto' });
    expect(run(q, [[0], [0.5], [1], [1.5], [2]])).toEqual([0, 0, 0, 2, 2]);
    expect((q.quantizationScale as tf.Tensor).arraySync()).toEqual([[2]]);
    expect((q.scale as tf.Tensor).arraySync()).toEqual([[4]]);
    // A rank-1 input is one channel per element: every value is its own scale.
    expect(run(q, [0, 0.5, -1.5])).toEqual([0, 0.5, -1.5]);
  });

  it('"auto_po2" rounds the scale to a power of two and refines it by least squares', () => {
    const q = new QuantizedLinear({ bits: 4, alpha: 'auto_po2' });
    const x = [[0.3, -3.1], [0.21, 2.2], [-0.05, 0.4]];
    const out = run(q, x);
    const qs = [...(q.quantizationScale as tf.Tensor).dataSync()];
    for (const s of qs) expect(Number.isInteger(Math.log2(s))).toBe(true);
    out.forEach((v, i) => {
      const code = v / qs[i % 2]!;
      expect(Number.isInteger(code)).toBe(true);
      expect(Math.abs(code)).toBeLessThanOrEqual(7);
    });
    expect(qs).toEqual([2 ** -5, 0.5]);
  });

  it('one signed bit is a sign function: ±0.5 * scale, 0 -> +0.5', () => {
    const q = new QuantizedLinear({ bits: 1 });
    expect(q.useSignFunction).toBe(true);
    expect(run(q, [-3, -0.1, 0, 0.2, 5])).toEqual([-0.5, -0.5, 0.5, 0.5, 0.5]);
    expect(q.range()).toEqual([0.5, -0.5]);
    const auto = new QuantizedLinear({ bits: 1, alpha: 'auto_po2' });
    // Column 0: 8 from 2 max|x| = 6, one least-squares round gives 4; column 1: 2 stays 2.
    expect(run(auto, [[-3, 1], [2, -0.5]])).toEqual([-2, 1, 2, -1]);
    expect((auto.quantizationScale as tf.Tensor).arraySync()).toEqual([[4, 2]]);
  });

  it('keep_negative=False clips at 0 and uses all 2**bits codes', () => {
    const q = new QuantizedLinear({ bits: 3, keep_negative: false });
    expect(q.getClipBounds()).toEqual([-0, 7]);
    expect(run(q, [-1, 0.3, 0.5, 2])).toEqual([0, 0.25, 0.5, 0.875]);
  });

  it('numeric and list alphas multiply the data-type scale', () => {
    const q = new QuantizedLinear({ bits: 3, alpha: 2 });
    expect(q.scale).toBe(2);
    expect(q.max()).toBe(1.5);
    expect(run(q, [0.4, 0.6, 5])).toEqual([0.5, 0.5, 1.5]);
    const list = new QuantizedLinear({ bits: 3, alpha: [1, 4] });
    expect([list.min(), list.max()]).toEqual([-3, 3]);
    expect(run(list, [[0.3, 0.3], [5, 5]])).toEqual([0.25, 0, 0.75, 3]);
    expect((list.scale as tf.Tensor).arraySync()).toEqual([1, 4]);
  });

  const configs: QuantizerArgs[] = [
    { bits: 4 },
    { bits: 4, symmetric: 0 },
    { bits: 6, integer: 2 },
    { bits: 3, keep_negative: false },
    { bits: 5, integer: 1, alpha: 'auto_po2' },
  ];
  for (const cfg of configs) {
    it(`${JSON.stringify(cfg)}: on the grid, clipped, monotone, idempotent (200 seeded inputs)`, () => {
      const q = new QuantizedLinear(cfg);
      const xs = values(makeRng(cfg.bits as number), 200, -3, 3).sort((a, b) => a - b);
      const x = tf.tensor(xs, [200, 1]);
      const y = q.call(x);
      const qs = typeof q.quantizationScale === 'number' ? q.quantizationScale : q.quantizationScale.dataSync()[0]!;
      const [lo, hi] = q.getClipBounds();
      const out = [...y.dataSync()];
      out.forEach((v, i) => {
        expect(Number.isInteger(v / qs)).toBe(true);
        expect(v / qs).toBeGreaterThanOrEqual(lo);
        expect(v / qs).toBeLessThanOrEqual(hi);
        if (i > 0) expect(v).toBeGreaterThanOrEqual(out[i - 1]!);
      });
      const yy = q.call(y);
      expect([...yy.dataSync()]).toEqual(out);
      tf.dispose([x, y, yy]);
    });
  }
});

describe('quantized_linear: memory', () => {
  it('calls do not leak tensors', async () => {
    const x = tf.randomUniform([4, 3], -1, 1, 'float32', 2);
    for (const alpha of [null, 2, [1, 2, 3], 'auto', 'auto_po2']) {
      const q = new QuantizedLinear({ bits: 4, alpha, use_stochastic_rounding: true });
      expect(await leakedTensors(() => q.call(x))).toBe(0);
      expect(await leakedTensors(() => q.call(x, { training: true }))).toBe(0);
    }
    x.dispose();
  });
});

describe('quantized_linear: gradients', () => {
  it('1 inside [lo * qs, hi * qs] (ends included), 0 outside', () => {
    const q = new QuantizedLinear({ bits: 3 }); // qs 0.25, codes [-3, 3]: range [-0.75, 0.75]
    const xs = [-2, -0.76, -0.75, -0.1, 0, 0.6, 0.75, 0.8, 3];
    const g = tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor(xs));
    expect([...g.dataSync()]).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0]);
  });
  it('with qnoise_factor: 1 - qnoise outside, 1 inside', () => {
    const q = new QuantizedLinear({ bits: 3, qnoise_factor: 0.25 });
    const g = tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor([-2, 0.1, 2]));
    expect([...g.dataSync()]).toEqual([0.75, 1, 0.75]);
  });
  it('auto scales are constants for the gradient (stop_gradient): only the clip mask remains', () => {
    const q = new QuantizedLinear({ bits: 4, alpha: 'auto_po2' });
    // Scales 1/32 and 1/8 (po2 rounding down): 0.3 -> code 9.6 and -1 -> -8 are clipped at ±7.
    const g = tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor([[0.3, -1], [0.2, 0.5]]));
    expect((q.quantizationScale as tf.Tensor).arraySync()).toEqual([[1 / 32, 1 / 8]]);
    expect([...g.dataSync()].map((v) => v + 0)).toEqual([0, 0, 1, 1]);
  });
});

describe('quantized_linear: stochastic rounding', () => {
  const q = new QuantizedLinear({ bits: 4, use_stochastic_rounding: true }); // step 1/8
  it('is deterministic when not training and seeded when training', () => {
    const xs = values(makeRng(2), 64, -1, 1);
    expect(run(q, xs)).toEqual(run(new QuantizedLinear({ bits: 4 }), xs));
    setSeed(3);
    const a = run(q, xs, true);
    setSeed(3);
    expect(run(q, xs, true)).toEqual(a);
  });
  it('is unbiased: the mean of 20000 draws is within 6 standard errors (<= 0.0625 / sqrt(n)) of x', () => {
    setSeed(4);
    for (const t of [0.3, -0.41]) {
      const out = run(q, Array<number>(20000).fill(t), true);
      const mean = out.reduce((s, v) => s + v, 0) / out.length;
      expect(Math.abs(mean - Math.fround(t))).toBeLessThan((6 * 0.0625) / Math.sqrt(20000));
    }
  });
});

describe('quantized_linear: string form, config, bounds', () => {
  const cases: [string, QuantizedLinear][] = [
    ['quantized_linear(8,0,1)', new QuantizedLinear()],
    ["quantized_linear(4,1,1,keep_negative=False,alpha='auto',use_stochastic_rounding=1)", new QuantizedLinear({ bits: 4, integer: 1, keep_negative: false, alpha: 'auto', use_stochastic_rounding: true })],
    ["quantized_linear(4,0,0,alpha='auto_po2')", new QuantizedLinear({ bits: 4, symmetric: false, alpha: 'auto_po2' })],
    // QKeras's __str__ raises for numeric alphas; these print parseable forms instead.
    ['quantized_linear(4,0,1,alpha=2.0)', new QuantizedLinear({ bits: 4, alpha: new PyFloat(2) })],
    ['quantized_linear(4,0,1,alpha=[1.0 0.5])', new QuantizedLinear({ bits: 4, alpha: [new PyFloat(1), 0.5] })],
  ];
  for (const [text, q] of cases) {
    it(`prints ${text} and round-trips through getConfig`, () => {
      expect(q.toString()).toBe(text);
      expect(new QuantizedLinear(q.getConfig() as Record<string, never>).toString()).toBe(text);
    });
  }

  it('has exactly QKeras get_config keys and is registered', () => {
    expect(Object.keys(new QuantizedLinear().getConfig())).toEqual([
      'bits', 'integer', 'symmetric', 'alpha', 'keep_negative', 'use_stochastic_rounding', 'qnoise_factor',
    ]);
    expect(lookupQuantizer('quantized_linear')).toBe(QuantizedLinear);
  });

  it('max/min/range are clip bounds times the quantization scale', () => {
    const q = new QuantizedLinear({ bits: 3 });
    expect([q.min(), q.max()]).toEqual([-0.75, 0.75]);
    expect(q.range()).toEqual([0, 0.25, 0.5, 0.75, -0.75, -0.5, -0.25]);
    const asym = new QuantizedLinear({ bits: 2, integer: 1, symmetric: 0 });
    expect(asym.range()).toEqual([0, 1, -2, -1]);
  });

  it('range() after a per-channel auto call asks for one scale', () => {
    const q = new QuantizedLinear({ bits: 3, alpha: 'auto' });
    run(q, [[1, 2]]);
    expect(() => q.range()).toThrow(UnsupportedError);
    expect(q.max()).toBe(2);
  });

  it('setTrainableParameter turns alpha=None into symmetric auto_po2', () => {
    const q = new QuantizedLinear({ symmetric: 0 });
    q.setTrainableParameter();
    expect(q.toString()).toBe("quantized_linear(8,0,1,alpha='auto_po2')");
  });

  it('rejects bits <= 0 and unknown alphas', () => {
    expect(() => new QuantizedLinear({ bits: 0 })).toThrow(/quantized_linear: bits=0/);
    expect(() => new QuantizedLinear({ alpha: 'best' })).toThrow(/alpha="best"/);
  });
});
