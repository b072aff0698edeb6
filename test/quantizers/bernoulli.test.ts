import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { Bernoulli } from '../../src/quantizers/bernoulli.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { buildQuantizer, vectorsFor } from '../helpers/qkeras-vectors.js';
import { apply, gradient, mean, uniformValues } from '../helpers/activation-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setLearningPhase(0));

const bernoulli = (spec: string): Bernoulli => buildQuantizer(spec, [Bernoulli]) as Bernoulli;

/** x + (-x + s*q) in float32, QKeras's straight-through output. */
const steOut = (x: number, y: number): number => {
  const xf = Math.fround(x);
  return Math.fround(xf + Math.fround(-xf + y));
};

describe('bernoulli', () => {
  it('has no QKeras vectors (QKeras has no test for it)', () => {
    expect(vectorsFor('quantizer_call', ['bernoulli']).length).toBe(0);
  });

  it.each([
    ['bernoulli', 'bernoulli()'],
    ['bernoulli()', 'bernoulli()'],
    ["bernoulli(alpha='auto_po2')", "bernoulli(alpha='auto_po2')"],
    ['bernoulli(alpha=1.0)', 'bernoulli(alpha=1.0)'],
    ['bernoulli(alpha=0.5,temperature=8)', 'bernoulli(alpha=0.5,temperature=8)'],
    ["bernoulli('auto',8.0,False)", "bernoulli(alpha='auto',temperature=8.0,use_real_sigmoid=0)"],
  ])('%s prints %s', (spec, want) => expect(bernoulli(spec).toString()).toBe(want));

  it('getConfig has only alpha, as in QKeras, and rebuilds the same alpha', () => {
    for (const spec of ["bernoulli(alpha='auto_po2')", 'bernoulli(alpha=1.0)', 'bernoulli()']) {
      const q = bernoulli(spec);
      expect(Object.keys(q.getConfig())).toEqual(['alpha']);
      expect(new Bernoulli(q.getConfig() as QuantizerArgs).toString()).toBe(q.toString());
    }
    // temperature and use_real_sigmoid are not in QKeras's config, so they do not survive a round trip.
    expect(new Bernoulli(bernoulli('bernoulli(temperature=2.0)').getConfig() as QuantizerArgs).toString()).toBe(
      'bernoulli()',
    );
  });

  it('rejects a string alpha other than auto/auto_po2', () => {
    expect(() => new Bernoulli({ alpha: 'max' })).toThrow(ConfigError);
  });

  it('becomes auto_po2 when a layer makes it trainable (alpha None only)', () => {
    const q = new Bernoulli();
    q.setTrainableParameter();
    expect(q.toString()).toBe("bernoulli(alpha='auto_po2')");
    const fixed = new Bernoulli({ alpha: 2 });
    fixed.setTrainableParameter();
    expect(fixed.toString()).toBe('bernoulli(alpha=2)');
  });

  it('min is 0, max is max(1, alpha) for a numeric alpha, else 1', () => {
    expect([new Bernoulli().min(), new Bernoulli().max()]).toEqual([0, 1]);
    expect(new Bernoulli({ alpha: 3 }).max()).toBe(3);
    expect(new Bernoulli({ alpha: 'auto' }).max()).toBe(1);
  });

  it('in inference is the deterministic step x >= 0 (times alpha), through the STE sum', () => {
    const x = uniformValues(8, 500, -2, 2).concat([0, -0]);
    expect(apply(new Bernoulli(), x)).toEqual(x.map((v) => steOut(v, v >= 0 ? 1 : 0)));
    expect(apply(new Bernoulli({ alpha: 0.5 }), x)).toEqual(x.map((v) => steOut(v, v >= 0 ? 0.5 : 0)));
  });

  it('auto_po2 fits a per-channel power-of-two scale by least squares on the step', () => {
    const rows = 64;
    const x = uniformValues(12, rows * 3, -1, 1).map((v, i) => Math.fround(v * [0.1, 1, 7][i % 3]!));
    const q = new Bernoulli({ alpha: 'auto_po2' });
    const y = apply(q, x, {}, [rows, 3]);
    const scale = Array.from((q.scale as tf.Tensor).dataSync());
    expect((q.scale as tf.Tensor).shape).toEqual([1, 3]);
    for (let c = 0; c < 3; c++) {
      let xq = 0;
      let qq = 0;
      for (let r = 0; r < rows; r++) {
        const v = x[r * 3 + c]!;
        xq += v >= 0 ? v : 0;
        qq += v >= 0 ? 1 : 0;
      }
      expect(scale[c]).toBe(2 ** Math.round(Math.log2(xq / rows / (qq / rows + 1e-7))));
    }
    y.forEach((v, i) => expect(v).toBe(steOut(x[i]!, x[i]! >= 0 ? scale[i % 3]! : 0)));
  });

  it('samples 1 with probability sigmoid(temperature * x) while training', () => {
    // n = 20000 draws per value: the frequency has std sqrt(p(1-p)/n) <= 0.0036; 0.02 is > 5 std.
    const n = 20000;
    setSeed(7);
    for (const v of [-0.3, -0.05, 0, 0.1, 0.4]) {
      const y = apply(new Bernoulli(), new Array<number>(n).fill(v), { training: true });
      const ones = y.filter((e) => e === steOut(v, 1)).length;
      expect(ones + y.filter((e) => e === steOut(v, 0)).length).toBe(n);
      expect(Math.abs(ones / n - 1 / (1 + Math.exp(-6 * v))), `x=${v}`).toBeLessThan(0.02);
    }
  });

  it('uses the internal (hard) sigmoid with use_real_sigmoid=False', () => {
    const n = 20000;
    setSeed(8);
    const y = apply(new Bernoulli({ use_real_sigmoid: false }), new Array<number>(n).fill(0.1), { training: true });
    // hard_sigmoid(6 * 0.1) = 0.8.
    expect(Math.abs(mean(y.map((e) => (e > 0.5 ? 1 : 0))) - 0.8)).toBeLessThan(0.02);
  });

  it('normalises by the per-channel std for auto alphas (so tiny weights still sample sharply)', () => {
    // One channel of +-1e-3: std = 1e-3, so p(+1e-3) = sigmoid(6) = 0.9975; without the std it would be 0.5015.
    const n = 20000;
    const x = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1e-3 : -1e-3));
    setSeed(4);
    const q = new Bernoulli({ alpha: 'auto' });
    const y = apply(q, x, { training: true }, [n, 1]);
    const scale = (q.scale as tf.Tensor).dataSync()[0]!;
    const positives = y.filter((_, i) => i % 2 === 0);
    const ones = positives.filter((e) => Math.abs(e - scale) < Math.abs(e)).length / positives.length;
    expect(ones).toBeGreaterThan(0.99);
    const plain = apply(new Bernoulli(), x, { training: true }).filter((_, i) => i % 2 === 0);
    expect(Math.abs(mean(plain.map((e) => (e > 0.5 ? 1 : 0))) - 0.5015)).toBeLessThan(0.03);
  });

  it('is reproducible with setSeed and has a straight-through gradient', () => {
    const x = uniformValues(3, 300, -1, 1);
    setSeed(11);
    const a = apply(new Bernoulli(), x, { training: true });
    setSeed(11);
    expect(apply(new Bernoulli(), x, { training: true })).toEqual(a);
    expect(gradient(new Bernoulli(), [-2, 0, 0.5], { training: true })).toEqual([1, 1, 1]);
    expect(gradient(new Bernoulli({ alpha: 'auto_po2' }), [-2, 0, 0.5])).toEqual([1, 1, 1]);
  });

  it('does not leak tensors (the kept scale replaces the previous one)', () => {
    const q = new Bernoulli({ alpha: 'auto_po2' });
    const input = tf.tensor2d(uniformValues(5, 12, -1, 1), [4, 3]);
    q.call(input).dispose();
    const before = tf.memory().numTensors;
    const y = q.call(input, { training: true });
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([input, y]);
  });
});
