import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { PyFloat } from '../../src/quantizers/base.js';
import { QuantizedBits } from '../../src/quantizers/quantized-bits.js';
import { QuantizedHswish } from '../../src/quantizers/quantized-hswish.js';
import { lookupQuantizer } from '../../src/quantizers/registry.js';
import { buildQuantizer, expectCallVector, vectorsFor } from '../helpers/qkeras-vectors.js';
import { makeRng, values } from '../helpers/quantizer-props.js';

beforeAll(async () => {
  await ready();
});

describe('quantized_hswish: QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['quantized_hswish']);
  it('matches both quantizer_call vectors', () => expect(calls.length).toBe(2));
  for (const v of calls) {
    // The string form (QKeras raises here) is the vector's own constructor call.
    it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, [QuantizedHswish], { check: (q) => expect(q.toString()).toBe(v.quantizer) }));
  }
});

describe('quantized_hswish: forward and gradient', () => {
  it('is quantized_bits applied to x * min(relu(x + 3), 6) / 6', () => {
    const xs = values(makeRng(12), 100, -6, 8);
    const x = tf.tensor(xs);
    const h = tf.div(tf.mul(x, tf.minimum(tf.relu(tf.add(x, 3)), 6)), 6);
    const q = new QuantizedHswish({ bits: 8, integer: 3, symmetric: 1 });
    const bits = new QuantizedBits({ bits: 8, integer: 3, symmetric: 1 });
    expect([...q.call(x).dataSync()]).toEqual([...bits.call(h).dataSync()]);
    tf.dispose([x, h]);
  });

  it('has the hard-swish derivative (straight through the rounding)', () => {
    const q = new QuantizedHswish({ bits: 8, integer: 3 });
    const xs = [-4, -1.5, 0, 1, 2.5, 4];
    const g = [...tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor(xs)).dataSync()];
    const expected = [0, 0, 0.5, 5 / 6, 8 / 6, 1];
    g.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('supports custom shift/upper bound and auto alpha (per-channel scale kept)', () => {
    const q = new QuantizedHswish({ bits: 4, relu_shift: 2, relu_upper_bound: 4, alpha: 'auto_po2' });
    const x = tf.tensor([[-1, 3], [0.5, 1]]);
    const y = q.call(x);
    expect((q.scale as tf.Tensor).shape).toEqual([1, 2]);
    expect(y.shape).toEqual([2, 2]);
    tf.dispose([x, y]);
  });
});

describe('quantized_hswish: string form, config, bounds', () => {
  it('prints the format QKeras builds (its __str__ always raises) and parses back', () => {
    const q = new QuantizedHswish({ alpha: 'auto', use_stochastic_rounding: true, relu_shift: new PyFloat(3) });
    const text = "quantized_hswish(8,0,1,relu_shift=3.0,relu_upper_bound=6,alpha='auto',use_stochastic_rounding=1)";
    expect(q.toString()).toBe(text);
    expect(buildQuantizer(text, [QuantizedHswish]).toString()).toBe(text);
  });

  it('get_config is quantized_bits config + relu_shift/relu_upper_bound and round-trips', () => {
    const q = new QuantizedHswish({ bits: 6, integer: 2, alpha: new PyFloat(1), relu_upper_bound: 5 });
    const cfg = q.getConfig();
    expect(Object.keys(cfg)).toEqual([
      'bits', 'integer', 'symmetric', 'alpha', 'keep_negative', 'use_stochastic_rounding', 'qnoise_factor', 'post_training_scale',
      'relu_shift', 'relu_upper_bound',
    ]);
    const back = new QuantizedHswish(cfg as Record<string, never>);
    expect(back.toString()).toBe('quantized_hswish(6,2,0,relu_shift=3,relu_upper_bound=5,alpha=1.0)');
    expect(back.toString()).toBe(q.toString());
    const x = tf.tensor(values(makeRng(1), 32, -4, 4));
    expect([...back.call(x).dataSync()]).toEqual([...q.call(x).dataSync()]);
    x.dispose();
  });

  it('max is quantized_bits max; min is the quantized parabola minimum when QKeras would crash', () => {
    const q = new QuantizedHswish({ bits: 6, integer: 2 });
    expect(q.max()).toBe(4);
    // -3^2 / (4 * 6) = -0.375 lies above -4: on the 1/8 grid it is -0.375 itself.
    expect(q.min()).toBe(-0.375);
    expect(new QuantizedHswish({ bits: 4, integer: 0 }).min()).toBe(-0.375);
    expect(new QuantizedHswish({ bits: 3, integer: 0 }).min()).toBe(-0.5);
    // A parabola below quantized_bits's min keeps QKeras's own answer.
    expect(new QuantizedHswish({ bits: 4, integer: 0, relu_shift: 6, relu_upper_bound: 1 }).min()).toBe(-1);
  });

  it('is registered, always signed, validates its own arguments', () => {
    expect(lookupQuantizer('quantized_hswish')).toBe(QuantizedHswish);
    expect(new QuantizedHswish().className).toBe('quantized_hswish');
    expect(() => new QuantizedHswish({ keep_negative: false })).toThrow(/keep_negative/);
    expect(() => new QuantizedHswish({ relu_upper_bound: 0 })).toThrow(/relu_upper_bound=0/);
    expect(() => new QuantizedHswish({ use_ste: false })).toThrow(/use_ste/);
  });
});
