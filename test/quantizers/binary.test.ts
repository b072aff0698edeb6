import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { PyFloat } from '../../src/quantizers/base.js';
import { Binary, StochasticBinary } from '../../src/quantizers/binary.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { lookupQuantizer } from '../../src/quantizers/registry.js';
import { setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { expectCallVector, expectMethodVector, vectorsFor } from '../helpers/qkeras-vectors.js';
import { leakedTensors, makeRng, values } from '../helpers/quantizer-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  setLearningPhase(0);
  setInternalSigmoid('hard');
});

const classes = [Binary, StochasticBinary];

const learningPhase = { prepare: (_q: unknown, setup: Record<string, unknown>) => setLearningPhase(setup.learning_phase === 1 ? 1 : 0) };

describe('binary / stochastic_binary: QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['binary', 'stochastic_binary']);
  const methods = vectorsFor('quantizer_method', ['binary', 'stochastic_binary']);
  it('matches all 5 quantizer_call vectors and 1 quantizer_method vector', () => {
    expect(calls.length).toBe(5);
    expect(methods.length).toBe(1);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, classes, learningPhase));
  for (const v of methods) it(`${v.test_name} ${v.method} (#${v.id})`, () => expectMethodVector(v, classes));
});

describe('binary: string form and config', () => {
  const cases: [string, Binary][] = [
    ['binary()', new Binary()],
    ["binary(alpha='auto_po2')", new Binary({ alpha: 'auto_po2' })],
    ['binary(alpha=1.0)', new Binary({ alpha: new PyFloat(1) })],
    ['binary(use_01=1,alpha=5)', new Binary({}, [true, 5])],
    ['binary(alpha=0)', new Binary({ alpha: 0 })],
    [
      "binary(alpha='auto',elements_per_scale=[2,4],scale_axis=[2,3],min_po2_exponent=-3,max_po2_exponent=2,use_stochastic_rounding=True)",
      new Binary({ alpha: 'auto', elementsPerScale: [2, 4], scaleAxis: [2, 3], minPo2Exponent: -3, maxPo2Exponent: 2, useStochasticRounding: true }),
    ],
    ['binary(elements_per_scale=2,scale_axis=1,use_stochastic_rounding=1)', new Binary({ elements_per_scale: 2, scale_axis: 1, use_stochastic_rounding: 1 })],
  ];
  for (const [text, q] of cases) it(`prints ${text}`, () => expect(q.toString()).toBe(text));
  for (const [text, q] of cases.slice(0, 5)) {
    it(`round-trips ${text} through getConfig`, () => {
      expect(new Binary(q.getConfig() as Record<string, never>).toString()).toBe(text);
    });
  }

  it('stochastic_binary prints QKeras flags', () => {
    expect(new StochasticBinary().toString()).toBe('stochastic_binary()');
    expect(new StochasticBinary({ alpha: 'auto_po2', temperature: new PyFloat(8), use_real_sigmoid: false }).toString()).toBe(
      "stochastic_binary(alpha='auto_po2',temperature=8.0,use_real_sigmoid=0)",
    );
    expect(new StochasticBinary({}, [new PyFloat(1)]).toString()).toBe('stochastic_binary(alpha=1.0)');
    const q = new StochasticBinary({ alpha: new PyFloat(2), temperature: 3 });
    expect(new StochasticBinary(q.getConfig() as Record<string, never>).toString()).toBe('stochastic_binary(alpha=2.0,temperature=3)');
  });

  it('has exactly QKeras get_config keys', () => {
    expect(Object.keys(new Binary().getConfig())).toEqual(['use_01', 'alpha', 'use_stochastic_rounding']);
    expect(Object.keys(new StochasticBinary().getConfig())).toEqual(['alpha', 'temperature', 'use_real_sigmoid']);
  });

  it('registers both classes and sets bits = 1', () => {
    expect(lookupQuantizer('binary')).toBe(Binary);
    expect(lookupQuantizer('stochastic_binary')).toBe(StochasticBinary);
    expect(new StochasticBinary().bits).toBe(1);
    expect(new StochasticBinary().className).toBe('stochastic_binary');
  });

  it('min/max follow QKeras', () => {
    expect([new Binary().min(), new Binary().max()]).toEqual([-1, 1]);
    expect([new Binary({ use_01: true }).min(), new Binary({ use_01: true }).max()]).toEqual([0, 1]);
    expect([new Binary({ alpha: 5 }).min(), new Binary({ alpha: 5 }).max()]).toEqual([-5, 5]);
    expect([new Binary({ alpha: 0.5 }).min(), new Binary({ alpha: 'auto' }).max()]).toEqual([-1, 1]);
  });

  it('setTrainableParameter turns alpha=None into auto_po2', () => {
    const q = new Binary();
    q.setTrainableParameter();
    expect(q.toString()).toBe("binary(alpha='auto_po2')");
    const s = new StochasticBinary();
    s.setTrainableParameter();
    expect(s.toString()).toBe("stochastic_binary(alpha='auto_po2')");
  });

  it('rejects bad arguments', () => {
    expect(() => new Binary({ alpha: 'po2' })).toThrow(/binary: alpha="po2"/);
    expect(() => new Binary({ elements_per_scale: 0 })).toThrow(/elements_per_scale/);
    expect(() => new StochasticBinary({ use_01: true })).toThrow(/use_01/);
  });
});

describe('binary: forward', () => {
  it('sign with 0 -> +1, {0,1} with use_01, any rank', () => {
    const x = tf.tensor([[-2, 0], [0.5, -0.1]]);
    expect(new Binary().call(x).arraySync()).toEqual([[-1, 1], [1, -1]]);
    expect(new Binary({ use_01: true }).call(x).arraySync()).toEqual([[0, 1], [1, 0]]);
    x.dispose();
  });

  it('auto / auto_po2 give ±scale with a least-squares scale per channel', () => {
    const x = tf.tensor([[0.3, -2], [-0.5, 1], [0.1, 3]]);
    const auto = new Binary({ alpha: 'auto' });
    const y = auto.call(x);
    const s = [...(auto.scale as tf.Tensor).dataSync()];
    const f32 = Math.fround;
    const d = f32(1 + f32(1e-7));
    const sum0 = f32(f32(f32(0.3) + f32(0.5)) + f32(0.1));
    expect(s).toEqual([f32(f32(sum0 / 3) / d), f32(f32(6 / 3) / d)]);
    expect([...y.dataSync()]).toEqual([s[0], -s[1]!, -s[0]!, s[1], s[0], s[1]]);
    const po2 = new Binary({ alpha: 'auto_po2' });
    po2.call(x).dispose();
    expect([...(po2.scale as tf.Tensor).dataSync()]).toEqual([0.25, 2]);
    tf.dispose([x, y]);
  });

  // The five examples of QKeras's binary docstring: number of distinct scales for a [1, 8, 8, 16] input.
  const examples: [Record<string, unknown>, number][] = [
    [{}, 16],
    [{ scale_axis: 1 }, 8],
    [{ scale_axis: 1, elements_per_scale: 2 }, 4],
    [{ scale_axis: [2, 3], elements_per_scale: 2 }, 32],
    [{ scale_axis: [2, 3], elements_per_scale: [2, 4] }, 16],
  ];
  for (const [args, n] of examples) {
    it(`auto alpha with ${JSON.stringify(args)} gives ${n} scales`, () => {
      const x = tf.randomUniform([1, 8, 8, 16], -1, 1, 'float32', 17);
      const q = new Binary({ alpha: 'auto', ...(args as Record<string, number>) });
      q.call(x).dispose();
      expect(new Set((q.scale as tf.Tensor).dataSync()).size).toBe(n);
      x.dispose();
    });
  }

  it('gradient: 1 - tanh(x)^2 with alpha None, 1 with a numeric or auto alpha', () => {
    const xs = [-3, -0.5, 0, 0.25, 2];
    const x = tf.tensor(xs);
    const g = tf.grad((t: tf.Tensor) => new Binary().call(t))(x);
    expect([...g.dataSync()]).toEqual([...tf.sub(1, tf.square(tf.tanh(x))).dataSync()]);
    for (const alpha of [1, 'auto_po2']) {
      const g1 = tf.grad((t: tf.Tensor) => new Binary({ alpha }).call(t))(tf.tensor([xs]));
      expect([...g1.dataSync()]).toEqual(xs.map(() => 1));
    }
  });

  it('the straight-through output equals QKeras float32 arithmetic tanh(x) + (-tanh(x) + k)', () => {
    const xs = values(makeRng(3), 64, -2, 2);
    const x = tf.tensor(xs);
    const t = tf.tanh(x);
    const k = tf.where(tf.greaterEqual(x, 0), tf.onesLike(x), tf.neg(tf.onesLike(x)));
    const expected = tf.add(t, tf.add(tf.neg(t), k));
    expect([...new Binary().call(x).dataSync()]).toEqual([...expected.dataSync()]);
    tf.dispose([x, t, k, expected]);
  });
});

describe('binary / stochastic_binary: memory', () => {
  it('calls do not leak tensors (inference and training, every alpha kind)', async () => {
    const x = tf.randomUniform([4, 3], -1, 1, 'float32', 2);
    for (const alpha of [null, 2, [1, 2, 3], 'auto', 'auto_po2']) {
      for (const q of [new Binary({ alpha, use_stochastic_rounding: true }), new StochasticBinary({ alpha })]) {
        expect(await leakedTensors(() => q.call(x))).toBe(0);
        expect(await leakedTensors(() => q.call(x, { training: true }))).toBe(0);
      }
    }
    x.dispose();
  });
});

describe('binary: stochastic rounding', () => {
  const q = new Binary({ alpha: 1, use_stochastic_rounding: true });
  it('is the plain sign (zeros to +1) when not training', () => {
    const x = tf.tensor([[-0.01, 0, 0.02]]);
    expect(q.call(x).arraySync()).toEqual([[-1, 1, 1]]);
    x.dispose();
  });
  it('is reproducible with setSeed and unbiased in the sign probability while training', () => {
    // x/f is rounded stochastically on a 1/8 grid: for x/f = 1/32 the result is 1/8 (sign +1) with
    // probability 1/4, else 0, whose sign is then drawn ±1 with probability 1/2 each: P(+1) = 5/8.
    const n = 20000;
    const xs = tf.concat([tf.fill([n - 1, 1], 1 / 16), tf.fill([1, 1], 1)]); // max|x| = 1 -> f = 2
    setSeed(99);
    const a = [...q.call(xs, { training: true }).dataSync()];
    setSeed(99);
    const b = [...q.call(xs, { training: true }).dataSync()];
    expect(b).toEqual(a);
    const mean = a.slice(0, n - 1).reduce((s, v) => s + v, 0) / (n - 1);
    // E[q] = 2 * 5/8 - 1 = 0.25; the standard error is sqrt(1 - 0.25^2) / sqrt(n) < 0.0071.
    expect(Math.abs(mean - 0.25)).toBeLessThan(6 * 0.0071);
    xs.dispose();
  });
});

describe('stochastic_binary', () => {
  it('in inference is binary', () => {
    const x = tf.tensor([[-1, 0, 0.2]]);
    for (const alpha of [null, 2, 'auto_po2']) {
      const s = new StochasticBinary({ alpha });
      const b = new Binary({ alpha });
      expect([...s.call(x).dataSync()]).toEqual([...b.call(x).dataSync()]);
    }
    x.dispose();
  });

  it('training: reproducible with setSeed, E[q] = 2 sigmoid(T x) - 1 within 6 standard errors', () => {
    const n = 20000;
    const targets = [-0.2, 0.05, 0.3];
    const x = tf.tensor(targets.flatMap((t) => Array<number>(n).fill(t)));
    const q = new StochasticBinary();
    setSeed(1);
    setLearningPhase(1);
    const a = [...q.call(x).dataSync()];
    setSeed(1);
    const b = [...q.call(x).dataSync()];
    expect(b).toEqual(a);
    // x + (-x + q) in float32 may land one ulp off ±1, exactly as in QKeras.
    expect(a.every((v) => Math.abs(Math.abs(v) - 1) <= 2 ** -23)).toBe(true);
    targets.forEach((t, i) => {
      const mean = a.slice(i * n, (i + 1) * n).reduce((s, v) => s + v, 0) / n;
      const expected = 2 / (1 + Math.exp(-6 * t)) - 1;
      const stderr = Math.sqrt(1 - expected * expected) / Math.sqrt(n);
      expect(Math.abs(mean - expected)).toBeLessThan(6 * stderr);
    });
    x.dispose();
  });

  it('training with auto alpha keeps the scale of the deterministic sign', () => {
    const x = tf.randomUniform([6, 3], -1, 1, 'float32', 4);
    const s = new StochasticBinary({ alpha: 'auto_po2' });
    const b = new Binary({ alpha: 'auto_po2' });
    const y = s.call(x, { training: true });
    b.call(x).dispose();
    expect([...(s.scale as tf.Tensor).dataSync()]).toEqual([...(b.scale as tf.Tensor).dataSync()]);
    const scale = (s.scale as tf.Tensor).dataSync();
    const out = y.arraySync() as number[][];
    // ±scale up to the float32 rounding of x + (-x + scale * q).
    for (const row of out) row.forEach((v, c) => expect(Math.abs(Math.abs(v) - scale[c]!)).toBeLessThanOrEqual(2 ** -22));
    tf.dispose([x, y]);
  });

  it('use_real_sigmoid=False reads the internal sigmoid at call time', () => {
    const q = new StochasticBinary({ use_real_sigmoid: false });
    const x = tf.tensor([-1, -0.5, 0.5, 1]);
    // hard sigmoid(6x) saturates for |x| >= 1/6: deterministic signs.
    expect([...q.call(x, { training: true }).dataSync()]).toEqual([-1, -1, 1, 1]);
    setInternalSigmoid('smooth'); // 0.1875 * 6x + 0.5 saturates only for |x| >= 0.444...: still saturated here
    expect([...q.call(x, { training: true }).dataSync()]).toEqual([-1, -1, 1, 1]);
    x.dispose();
  });

  it('training gradient is 1 (straight through)', () => {
    const q = new StochasticBinary({ alpha: 'auto' });
    const g = tf.grad((t: tf.Tensor) => q.call(t, { training: true }))(tf.tensor([[0.3, -0.2], [0.1, 0.5]]));
    expect([...g.dataSync()]).toEqual([1, 1, 1, 1]);
  });
});
