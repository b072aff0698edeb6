import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import { PyFloat } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { lookupQuantizer } from '../../src/quantizers/registry.js';
import { StochasticTernary, Ternary } from '../../src/quantizers/ternary.js';
import { expectCallVector, expectMethodVector, vectorsFor } from '../helpers/qkeras-vectors.js';
import { leakedTensors, makeRng, values } from '../helpers/quantizer-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setLearningPhase(0));

const classes = [Ternary, StochasticTernary];

const learningPhase = { prepare: (_q: unknown, setup: Record<string, unknown>) => setLearningPhase(setup.learning_phase === 1 ? 1 : 0) };

describe('ternary / stochastic_ternary: QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['ternary', 'stochastic_ternary']);
  const methods = vectorsFor('quantizer_method', ['ternary', 'stochastic_ternary']);
  it('matches all 2 quantizer_call vectors and 2 quantizer_method vectors', () => {
    expect(calls.length).toBe(2);
    expect(methods.length).toBe(2);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, classes, learningPhase));
  for (const v of methods) it(`${v.test_name} ${v.method} (#${v.id})`, () => expectMethodVector(v, classes));
});

describe('ternary: string form and config', () => {
  const cases: [string, Ternary][] = [
    ['ternary()', new Ternary()],
    ["ternary(alpha='auto_po2')", new Ternary({ alpha: 'auto_po2' })],
    ['ternary(alpha=1.0,threshold=0.33)', new Ternary({}, [new PyFloat(1), 0.33])],
    ['ternary(threshold=5.0)', new Ternary({ threshold: new PyFloat(5) })],
    ["ternary(alpha='auto',use_stochastic_rounding=1,number_of_unrolls=3)", new Ternary({ alpha: 'auto', use_stochastic_rounding: true, number_of_unrolls: 3 })],
  ];
  for (const [text, q] of cases) {
    it(`prints ${text}`, () => expect(q.toString()).toBe(text));
    it(`round-trips ${text} through getConfig`, () => {
      expect(new Ternary(q.getConfig() as Record<string, never>).toString()).toBe(text);
    });
  }

  it('stochastic_ternary prints QKeras flags and round-trips', () => {
    const cases2: [string, StochasticTernary][] = [
      ['stochastic_ternary()', new StochasticTernary()],
      ['stochastic_ternary(alpha=1.0,threshold=0.33)', new StochasticTernary({}, [new PyFloat(1), 0.33])],
      ["stochastic_ternary(alpha='auto_po2',temperature=6,use_real_sigmoid=0,number_of_unrolls=2)", new StochasticTernary({ alpha: 'auto_po2', temperature: 6, use_real_sigmoid: false, number_of_unrolls: 2 })],
    ];
    for (const [text, q] of cases2) {
      expect(q.toString()).toBe(text);
      expect(new StochasticTernary(q.getConfig() as Record<string, never>).toString()).toBe(text);
    }
  });

  it('has exactly QKeras get_config keys', () => {
    expect(Object.keys(new Ternary().getConfig())).toEqual(['alpha', 'threshold', 'use_stochastic_rounding', 'number_of_unrolls']);
    expect(Object.keys(new StochasticTernary().getConfig())).toEqual(['alpha', 'threshold', 'temperature', 'use_real_sigmoid', 'number_of_unrolls']);
  });

  it('registers both classes; bits = 2; min/max follow QKeras', () => {
    expect(lookupQuantizer('ternary')).toBe(Ternary);
    expect(lookupQuantizer('stochastic_ternary')).toBe(StochasticTernary);
    expect(new Ternary().bits).toBe(2);
    expect([new Ternary().min(), new Ternary().max()]).toEqual([-1, 1]);
    expect([new Ternary({ alpha: 10 }).min(), new Ternary({ alpha: 10 }).max()]).toEqual([-10, 10]);
    expect([new Ternary({ alpha: 'auto' }).min(), new StochasticTernary({ alpha: 0.5 }).max()]).toEqual([-1, 1]);
  });

  it('rejects invalid combinations (construction or call, where QKeras asserts)', () => {
    expect(() => new StochasticTernary({ threshold: 1 })).toThrow(/threshold=1 is not allowed/);
    expect(() => new Ternary({ alpha: 'po2' })).toThrow(ConfigError);
    expect(() => new Ternary({ threshold: 'auto' })).toThrow(/threshold/);
    const x = tf.tensor([[0.5, -0.5]]);
    expect(() => new Ternary({ alpha: 'auto', threshold: 0.5 }).call(x)).toThrow(/threshold=0.5 is not allowed; expected None when alpha='auto'/);
    expect(() => new Ternary({ use_stochastic_rounding: true }).call(x)).toThrow(/use_stochastic_rounding/);
    expect(() => new Ternary({ alpha: 'auto', number_of_unrolls: 0 }).call(x)).toThrow(/number_of_unrolls/);
    expect(() => new StochasticTernary().call(x, { training: true })).toThrow(/stochastic_ternary/);
    // A weight layer switching alpha to auto_po2 makes stochastic rounding valid.
    const w = new Ternary({ use_stochastic_rounding: true });
    w.setTrainableParameter();
    expect(w.toString()).toBe("ternary(alpha='auto_po2',use_stochastic_rounding=1)");
    w.call(x).dispose();
    x.dispose();
  });
});

describe('ternary: forward', () => {
  it('activations: dead band at the threshold (0.33 by default, compared in float32)', () => {
    const x = tf.tensor([-0.33, -0.3299, 0, 0.32, 0.33, 2]);
    expect([...new Ternary({ alpha: 1 }).call(x).dataSync()].map((v) => v + 0)).toEqual([-1, 0, 0, 0, 1, 1]);
    expect([...new Ternary({ alpha: 2, threshold: 1 }).call(x).dataSync()].map((v) => v + 0)).toEqual([0, 0, 0, 0, 0, 2]);
    x.dispose();
  });

  it('alpha None: tanh straight-through base, gradient 1 - tanh^2', () => {
    const xs = [-2, -0.2, 0, 0.5, 1.5];
    const x = tf.tensor(xs);
    const g = tf.grad((t: tf.Tensor) => new Ternary().call(t))(x);
    expect([...g.dataSync()]).toEqual([...tf.sub(1, tf.square(tf.tanh(x))).dataSync()]);
    const g1 = tf.grad((t: tf.Tensor) => new Ternary({ alpha: 3 }).call(t))(x);
    expect([...g1.dataSync()]).toEqual(xs.map(() => 1));
    x.dispose();
  });

  it('auto: per-channel {-s, 0, s}; the scale of U[-1, 1] weights converges to 2/3', () => {
    const n = 20000;
    const x = tf.randomUniform([n, 3], -1, 1, 'float32', 11);
    const q = new Ternary({ alpha: 'auto' });
    const y = q.call(x);
    const s = [...(q.scale as tf.Tensor).dataSync()];
    expect(s.length).toBe(3);
    // E[|x| | |x| > s/2] = (1 + s/2) / 2 has the fixed point 2/3; the sampling error is ~0.002.
    for (const v of s) expect(Math.abs(v - 2 / 3)).toBeLessThan(0.01);
    const out = y.arraySync() as number[][];
    for (const row of out.slice(0, 200)) {
      row.forEach((v, c) => expect([0, 1]).toContain(Math.round(Math.abs(v) / s[c]!)));
    }
    const po2 = new Ternary({ alpha: 'auto_po2' });
    po2.call(x).dispose();
    expect([...(po2.scale as tf.Tensor).dataSync()]).toEqual([0.5, 0.5, 0.5]);
    tf.dispose([x, y]);
  });

  it('auto with stochastic rounding: deterministic in inference, seeded in training', () => {
    const x = tf.tensor(values(makeRng(8), 48, -1, 1), [16, 3]);
    const q = new Ternary({ alpha: 'auto', use_stochastic_rounding: true });
    const plain = new Ternary({ alpha: 'auto' });
    expect([...q.call(x).dataSync()]).toEqual([...plain.call(x).dataSync()]);
    setSeed(5);
    const a = [...q.call(x, { training: true }).dataSync()];
    setSeed(5);
    const b = [...q.call(x, { training: true }).dataSync()];
    expect(b).toEqual(a);
    x.dispose();
  });
});

describe('ternary / stochastic_ternary: memory', () => {
  it('calls do not leak tensors', async () => {
    const x = tf.randomUniform([4, 3], -1, 1, 'float32', 2);
    const qs = [new Ternary(), new Ternary({ alpha: [1, 2, 3] }), new Ternary({ alpha: 'auto_po2', use_stochastic_rounding: 1 }), new StochasticTernary({ alpha: 'auto' })];
    for (const q of qs) {
      expect(await leakedTensors(() => q.call(x))).toBe(0);
      expect(await leakedTensors(() => q.call(x, { training: true }))).toBe(0);
    }
    x.dispose();
  });
});

describe('stochastic_ternary', () => {
  it('in inference is ternary', () => {
    const x = tf.tensor([[-1, -0.2, 0, 0.4, 0.9]]);
    for (const args of [{}, { alpha: 2, threshold: 0.5 }]) {
      expect([...new StochasticTernary(args).call(x).dataSync()]).toEqual([...new Ternary(args).call(x).dataSync()]);
    }
    x.dispose();
  });

  it('training: seeded, values in {-s, 0, s}, E[q] = p0 + p1 - 1 within 6 standard errors', () => {
    const n = 20000;
    const groups = [-0.6, 0.1, 0.9];
    const xs = groups.flatMap((g) => Array<number>(n).fill(g));
    const x = tf.tensor(xs, [xs.length, 1]);
    const q = new StochasticTernary({ alpha: 'auto' });
    setSeed(21);
    const a = [...q.call(x, { training: true }).dataSync()];
    setSeed(21);
    expect([...q.call(x, { training: true }).dataSync()]).toEqual(a);
    const s = (q.scale as tf.Tensor).dataSync()[0]!;
    const mean = xs.reduce((acc, v) => acc + v, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((acc, v) => acc + (v - mean) ** 2, 0) / xs.length);
    const t = s / (2 * (std + 1e-7));
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    groups.forEach((g, i) => {
      const codes = a.slice(i * n, (i + 1) * n).map((v) => Math.round(v / s));
      expect(codes.every((c) => c === -1 || c === 0 || c === 1)).toBe(true);
      const xn = g / (std + 1e-7);
      const p0 = sig(8 * (xn - t));
      const p1 = sig(8 * (xn + t));
      const expected = p0 + p1 - 1;
      // q = (q0 + q1) / 2 with independent ±1 draws: Var = (Var q0 + Var q1) / 4.
      const variance = (1 - (2 * p0 - 1) ** 2 + 1 - (2 * p1 - 1) ** 2) / 4;
      const got = codes.reduce((acc, c) => acc + c, 0) / n;
      expect(Math.abs(got - expected)).toBeLessThan(6 * Math.sqrt(variance / n) + 1e-4);
    });
    x.dispose();
  });

  it('training gradient is 1 (straight through)', () => {
    const q = new StochasticTernary({ alpha: 'auto_po2' });
    const g = tf.grad((t: tf.Tensor) => q.call(t, { training: true }))(tf.tensor([[0.3, -0.2], [0.1, 0.5]]));
    expect([...g.dataSync()]).toEqual([1, 1, 1, 1]);
  });
});
