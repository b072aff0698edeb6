import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import { PyFloat } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { QuantizedBits } from '../../src/quantizers/quantized-bits.js';
import { lookupQuantizer } from '../../src/quantizers/registry.js';
import { applyQnoiseFactor, expectCallVector, expectMatches, expectMethodVector, vectorsFor, type Vector } from '../helpers/qkeras-vectors.js';
import { leakedTensors, makeRng, values } from '../helpers/quantizer-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setLearningPhase(0));

const f32 = Math.fround;

function callVector(v: Vector): void {
  expectCallVector(v, [QuantizedBits], {
    prepare: (q, setup) => {
      applyQnoiseFactor(q, setup);
      setLearningPhase(setup.learning_phase === 1 ? 1 : 0);
    },
    check: (q) => {
      if (!('expected_scale' in v)) return;
      const s = q.scale as tf.Tensor;
      expectMatches({ values: s.dataSync(), shape: s.shape }, v.expected_scale, v.tolerance, `#${v.id} scale`);
    },
  });
}

describe('quantized_bits: QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['quantized_bits']);
  const methods = vectorsFor('quantizer_method', ['quantized_bits']);
  it('matches all 8 quantizer_call and 16 quantizer_method vectors', () => {
    expect(calls.length).toBe(8);
    expect(methods.length).toBe(16);
    expect(methods.filter((v) => v.method === 'range').length).toBe(2);
    expect(methods.filter((v) => v.method === 'min_max').length).toBe(14);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => callVector(v));
  for (const v of methods) it(`${v.test_name} ${v.method} (#${v.id})`, () => expectMethodVector(v, [QuantizedBits]));

  it('qnoise_factor=0.5 mixes x and xq as x + 0.5 * (xq - x) (qnoise_test, third case)', () => {
    const q = new QuantizedBits({ bits: 4, integer: 1, symmetric: true, keep_negative: true, alpha: 1, use_variables: true });
    q.updateQnoiseFactor(0.5);
    const x = [0, 0.5, -0.5, 0.6, -0.6, 2, -2].map(f32);
    const xq = [0, 0.5, -0.5, 0.5, -0.5, 1.75, -1.75];
    const y = q.call(tf.tensor(x));
    expect([...y.dataSync()]).toEqual(x.map((v, i) => f32(0.5 * f32(v + xq[i]!))));
    y.dispose();
  });
});

describe('quantized_bits: string form and config', () => {
  const cases: [string, QuantizedBits][] = [
    ['quantized_bits(4,0,1)', new QuantizedBits({}, [4, 0, 1])],
    ["quantized_bits(4,0,1,alpha='auto_po2')", new QuantizedBits({ alpha: 'auto_po2' }, [4, 0, 1])],
    ['quantized_bits(1,0,1,alpha=1.0)', new QuantizedBits({ alpha: new PyFloat(1) }, [1, 0, 1])],
    ['quantized_bits(1,0,1,alpha=1)', new QuantizedBits({ alpha: 1 }, [1, 0, 1])],
    ['quantized_bits(10,3,1)', new QuantizedBits({ bits: 10, integer: 3, symmetric: 1 })],
    ['quantized_bits(8,0,0)', new QuantizedBits()],
    ['quantized_bits(4,0,0)', new QuantizedBits({ bits: 4, alpha: 0 })],
    ['quantized_bits(4,1,1,keep_negative=False,use_stochastic_rounding=1)', new QuantizedBits({ bits: 4, integer: 1, symmetric: true, keepNegative: false, useStochasticRounding: true })],
    ["quantized_bits(4,0,1,alpha='auto')", new QuantizedBits({ bits: 4, alpha: 'auto' })],
    ['quantized_bits(4,0,0,alpha=[0.5, 2.0])', new QuantizedBits({ bits: 4, alpha: [0.5, new PyFloat(2)] })],
    ['quantized_bits(4.0,0,0)', new QuantizedBits({ bits: new PyFloat(4) })],
  ];
  for (const [text, q] of cases) {
    it(`prints ${text}`, () => expect(q.toString()).toBe(text));
    it(`round-trips ${text} through getConfig`, () => {
      const back = new QuantizedBits(q.getConfig() as Record<string, never>);
      expect(back.toString()).toBe(text);
      expect(back.getConfig()).toEqual(q.getConfig());
    });
  }

  it('has exactly QKeras get_config keys', () => {
    expect(Object.keys(new QuantizedBits().getConfig())).toEqual([
      'bits', 'integer', 'symmetric', 'alpha', 'keep_negative', 'use_stochastic_rounding', 'qnoise_factor', 'post_training_scale',
    ]);
  });

  it('serialises integral floats as plain JSON numbers', () => {
    const q = new QuantizedBits({ alpha: new PyFloat(1) }, [1, 0, 1]);
    expect(JSON.parse(JSON.stringify(q.serialize()))).toEqual({
      class_name: 'quantized_bits',
      config: { bits: 1, integer: 0, symmetric: 1, alpha: 1, keep_negative: true, use_stochastic_rounding: false, qnoise_factor: 1, post_training_scale: null },
    });
  });

  it('is registered under quantized_bits', () => {
    expect(lookupQuantizer('quantized_bits')).toBe(QuantizedBits);
  });

  it('turns alpha=None into symmetric auto_po2 for weight layers', () => {
    const q = new QuantizedBits({}, [4, 0, 0]);
    q.setTrainableParameter();
    expect(q.toString()).toBe("quantized_bits(4,0,1,alpha='auto_po2')");
    const fixed = new QuantizedBits({ alpha: new PyFloat(1) }, [4, 0, 0]);
    fixed.setTrainableParameter();
    expect(fixed.toString()).toBe('quantized_bits(4,0,0,alpha=1.0)');
  });

  it('rejects invalid arguments with ConfigErrors naming the field', () => {
    expect(() => new QuantizedBits({ bits: 0 })).toThrow(/quantized_bits: bits=0 is not allowed/);
    expect(() => new QuantizedBits({ bits: 2.5 })).toThrow(ConfigError);
    expect(() => new QuantizedBits({ alpha: 'max' })).toThrow(/alpha="max"/);
    expect(() => new QuantizedBits({ post_training_scale: [1] })).toThrow(/post_training_scale/);
    expect(() => new QuantizedBits({ scale_axis: 'x' })).toThrow(/scale_axis/);
    expect(() => new QuantizedBits({ nope: 1 })).toThrow(/nope/);
    const q = new QuantizedBits({ elements_per_scale: 2 });
    expect(() => q.call(tf.ones([2, 2]))).toThrow(/elements_per_scale=2 is not allowed; expected None unless alpha='auto_po2'/);
  });

  it('range() requires QKeras preconditions', () => {
    expect(() => new QuantizedBits({ bits: 3, symmetric: 1 }).range()).toThrow(ConfigError);
    expect(new QuantizedBits({ bits: 2, integer: 1, alpha: 1 }).range()).toEqual([0, 1, -2, -1]);
  });
});

describe('quantized_bits: fixed-point properties', () => {
  const configs = [
    { bits: 4, integer: 0, symmetric: 1 },
    { bits: 4, integer: 0, symmetric: 0 },
    { bits: 6, integer: 2, symmetric: 0 },
    { bits: 8, integer: 3, symmetric: 1 },
    { bits: 3, integer: 0, symmetric: 0, keep_negative: false },
    { bits: 5, integer: -1, symmetric: 0 },
    { bits: 2, integer: 1, symmetric: 1 },
  ];
  for (const cfg of configs) {
    const name = JSON.stringify(cfg);
    it(`${name}: on the grid, inside the clip range, monotone and idempotent (200 seeded inputs)`, () => {
      const q = new QuantizedBits(cfg);
      const keepNeg = cfg.keep_negative !== false;
      const m = 2 ** (cfg.bits - (keepNeg ? 1 : 0));
      const step = 2 ** cfg.integer / m;
      const lo = keepNeg ? (-m + cfg.symmetric) * step : 0;
      const hi = (m - 1) * step;
      const xs = values(makeRng(cfg.bits * 31 + cfg.integer), 200, -3 * 2 ** cfg.integer, 3 * 2 ** cfg.integer).sort((a, b) => a - b);
      const x = tf.tensor(xs);
      const y = q.call(x);
      const yy = q.call(y);
      const out = [...y.dataSync()];
      for (let i = 0; i < out.length; i++) {
        expect(Number.isInteger(out[i]! / step)).toBe(true);
        expect(out[i]!).toBeGreaterThanOrEqual(lo);
        expect(out[i]!).toBeLessThanOrEqual(hi);
        if (i > 0) expect(out[i]!).toBeGreaterThanOrEqual(out[i - 1]!);
        // Inside the range the error is at most half a step.
        if (xs[i]! >= lo && xs[i]! <= hi) expect(Math.abs(out[i]! - f32(xs[i]!))).toBeLessThanOrEqual(step / 2);
      }
      expect([...yy.dataSync()]).toEqual(out);
      tf.dispose([x, y, yy]);
    });
  }

  it('rounds ties to even (tf.round)', () => {
    const q = new QuantizedBits({ bits: 4, integer: 3, symmetric: 0 }); // step 1
    const y = q.call(tf.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5]));
    expect([...y.dataSync()].map((v) => v + 0)).toEqual([0, 2, 2, 0, -2, -2]);
    y.dispose();
  });

  it('one signed bit is a sign function with 0 -> +1 (integer ignored), times alpha', () => {
    const x = tf.tensor([-2, -0.1, 0, 0.1, 3]);
    const q = new QuantizedBits({ bits: 1, integer: 3, symmetric: 1 });
    expect([...q.call(x).dataSync()]).toEqual([-1, -1, 1, 1, 1]);
    const scaled = new QuantizedBits({ bits: 1, alpha: 0.5 });
    expect([...scaled.call(x).dataSync()]).toEqual([-0.5, -0.5, 0.5, 0.5, 0.5]);
    expect(scaled.scale).toBe(0.5);
    x.dispose();
  });

  it('keeps the rank of any input and returns float32', () => {
    const q = new QuantizedBits({ bits: 4 });
    for (const shape of [[], [3], [2, 3], [2, 1, 3], [1, 2, 2, 3]]) {
      const x = tf.fill(shape, 3, 'int32');
      const y = q.call(x);
      expect(y.shape).toEqual(shape);
      expect(y.dtype).toBe('float32');
      tf.dispose([x, y]);
    }
  });

  it('does not leak tensors (every alpha kind, inference and training)', async () => {
    const x = tf.randomUniform([4, 3], -1, 1, 'float32', 3);
    const qs = [null, 0.5, [1, 2, 3], 'auto', 'auto_po2'].map((alpha) => new QuantizedBits({ bits: 4, alpha, use_stochastic_rounding: 1 }));
    qs.push(new QuantizedBits({ bits: 4, alpha: 'auto_po2', post_training_scale: [[0.5, 1, 2]] }));
    for (const q of qs) {
      expect(await leakedTensors(() => q.call(x))).toBe(0);
      expect(await leakedTensors(() => q.call(x, { training: true }))).toBe(0);
    }
    x.dispose();
  });

  it('flushes float32 subnormal outputs to zero as TF does', () => {
    const q = new QuantizedBits({ bits: 8, integer: -130, symmetric: 0 });
    const y = q.call(tf.tensor([2 ** -131, -(2 ** -133)]));
    expect([...y.dataSync()].map((v) => v + 0)).toEqual([0, 0]);
    y.dispose();
  });
});

describe('quantized_bits: auto alpha', () => {
  it('keeps a per-channel q.scale and outputs s * m_i * z', () => {
    const q = new QuantizedBits({ bits: 4, integer: 0, alpha: 'auto_po2' });
    const x = tf.tensor([[0.23, 2.76, 0.1, 0.33], [0.53, 0.16, 0.3, 1.43]]);
    const y = q.call(x);
    const s = q.scale as tf.Tensor;
    expect(s.shape).toEqual([1, 4]);
    // Output does not depend on integer; the scale does (2x per integer bit).
    const q2 = new QuantizedBits({ bits: 4, integer: 2, alpha: 'auto_po2' });
    expect([...q2.call(x).dataSync()]).toEqual([...y.dataSync()]);
    expect([...(q2.scale as tf.Tensor).dataSync()]).toEqual([...s.dataSync()].map((v) => v / 4));
    tf.dispose([x, y]);
  });

  it('auto uses the float scale 2 max|x| / levels per channel', () => {
    const q = new QuantizedBits({ bits: 3, alpha: 'auto' });
    const x = tf.tensor([[0.5, -3], [1.5, 1]]);
    const y = q.call(x);
    const levels = 6;
    const s = [f32(f32(1.5 * 2) / levels), f32(f32(3 * 2) / levels)];
    expect([...(q.scale as tf.Tensor).dataSync()]).toEqual(s.map((v) => f32(v * 4)));
    // Codes floor(|x|/s + 0.5) saturated at 3: 0.5/0.5=1, 3/1=3, 1.5/0.5=3, 1/1=1.
    expect([...y.dataSync()]).toEqual([0.5, -3, 1.5, 1]);
    tf.dispose([x, y]);
  });

  it('rank-1 inputs get one initial scale but per-element least squares', () => {
    const q = new QuantizedBits({ bits: 4, alpha: 'auto_po2' });
    const x = tf.tensor([0.3, -0.7, 0.05]);
    const y = q.call(x);
    expect((q.scale as tf.Tensor).shape).toEqual([3]);
    expect(y.shape).toEqual([3]);
    tf.dispose([x, y]);
  });

  it('post_training_scale reproduces the auto_po2 result it was taken from', () => {
    const x = tf.randomUniform([7, 5, 3], -2, 2, 'float32', 42);
    const auto = new QuantizedBits({ bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2' });
    const y = auto.call(x);
    const scale = (auto.scale as tf.Tensor).arraySync() as number[][][];
    const frozen = new QuantizedBits({ bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2', post_training_scale: scale });
    const y2 = frozen.call(x);
    expect([...y2.dataSync()]).toEqual([...y.dataSync()]);
    expect((frozen.scale as tf.Tensor).arraySync()).toEqual(scale);
    expect(frozen.getConfig().post_training_scale).toEqual(scale);
    tf.dispose([x, y, y2]);
  });

  it('elements_per_scale and po2 exponent bounds shape and clip the scale', () => {
    const x = tf.randomUniform([4, 8], -1, 1, 'float32', 9);
    const q = new QuantizedBits({ bits: 4, alpha: 'auto_po2', scale_axis: 1, elements_per_scale: 4, min_po2_exponent: -2, max_po2_exponent: -1 });
    q.call(x).dispose();
    const s = [...(q.scale as tf.Tensor).dataSync()].map((v) => v / 8);
    expect(s.length).toBe(8);
    expect(new Set(s.slice(0, 4)).size).toBe(1);
    expect(new Set(s.slice(4)).size).toBe(1);
    for (const v of s) expect([0.25, 0.5]).toContain(v);
    x.dispose();
  });
});

describe('quantized_bits: gradients', () => {
  const xs = [-3, -1, -0.3, 0, 0.2, 0.9, 5];
  it('use_ste: identity everywhere, even outside the clip range', () => {
    for (const q of [new QuantizedBits({ bits: 4 }), new QuantizedBits({ bits: 4, alpha: 'auto_po2' }), new QuantizedBits({ bits: 1 })]) {
      const g = tf.grad((x: tf.Tensor) => q.call(x))(tf.tensor(xs));
      expect([...g.dataSync()]).toEqual(xs.map(() => 1));
    }
  });
  it('use_ste=False: gradient 1 - qnoise_factor', () => {
    const q = new QuantizedBits({ bits: 4, use_ste: false, qnoise_factor: 0.25 });
    const g = tf.grad((x: tf.Tensor) => q.call(x))(tf.tensor(xs));
    expect([...g.dataSync()]).toEqual(xs.map(() => 0.75));
  });
});

describe('quantized_bits: stochastic rounding', () => {
  const q = new QuantizedBits({ bits: 4, integer: 0, symmetric: 1, use_stochastic_rounding: 1 });
  const plain = new QuantizedBits({ bits: 4, integer: 0, symmetric: 1 });

  it('is deterministic (tf.round) when not training', () => {
    const x = tf.tensor(values(makeRng(5), 100, -1, 1));
    expect([...q.call(x).dataSync()]).toEqual([...plain.call(x).dataSync()]);
    expect([...q.call(x, { training: false }).dataSync()]).toEqual([...plain.call(x).dataSync()]);
    x.dispose();
  });

  it('is reproducible with setSeed while training', () => {
    const x = tf.tensor(values(makeRng(6), 100, -1, 1));
    setSeed(123);
    const a = [...q.call(x, { training: true }).dataSync()];
    setSeed(123);
    setLearningPhase(1);
    const b = [...q.call(x).dataSync()];
    expect(b).toEqual(a);
    x.dispose();
  });

  it('is unbiased: the mean of 20000 draws is within 6 standard errors of x', () => {
    // Each draw is floor or ceil of x on a 1/8 grid, so its deviation from x lies in a step of 0.125:
    // variance <= 0.125^2 / 4, standard error of the mean <= 0.0625 / sqrt(20000) = 4.4e-4.
    setSeed(7);
    const targets = [0.3, -0.55, 0.0625 + 0.01];
    for (const t of targets) {
      const x = tf.fill([20000], t);
      const y = q.call(x, { training: true });
      const mean = tf.mean(y).dataSync()[0]!;
      expect(Math.abs(mean - t)).toBeLessThan(6 * 0.0625 / Math.sqrt(20000));
      const grid = new Set([...y.dataSync()]);
      expect(grid.size).toBe(2);
      tf.dispose([x, y]);
    }
  });
});
