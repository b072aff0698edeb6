import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { QuantizedTanh } from '../../src/quantizers/quantized-tanh.js';
import { setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { buildQuantizer } from '../helpers/qkeras-vectors.js';
import { apply, gradient, mean, roundHalfEven, uniformValues } from '../helpers/activation-props.js';
import { itIsReproducible, itRebuildsFromConfig, itStaysOnGrid, roundedActivationSuite, type RoundedActivationCase } from '../helpers/rounded-activation-suite.js';

const tanh = (spec: string): QuantizedTanh => buildQuantizer(spec, [QuantizedTanh]) as QuantizedTanh;
const CASE: RoundedActivationCase = { name: 'quantized_tanh', cls: QuantizedTanh, realFlag: 'use_real_tanh', offset: 1 };

roundedActivationSuite(CASE, 2);

describe('quantized_tanh str() and config', () => {
  it.each([
    ['quantized_tanh(8)', 'quantized_tanh(8)'],
    ['quantized_tanh(4, symmetric=True)', 'quantized_tanh(4,1)'],
    ['quantized_tanh(4, use_real_tanh=True)', 'quantized_tanh(4,1)'],
    ['quantized_tanh(4,1,1,1)', 'quantized_tanh(4,1,1,1)'],
    ['quantized_tanh(4,True,False,True)', 'quantized_tanh(4,1,1)'],
  ])('%s prints %s', (spec, want) => expect(tanh(spec).toString()).toBe(want));

  it('the positional str() re-parses a lone symmetric as use_stochastic_rounding (QKeras quirk)', () => {
    const back = tanh(tanh('quantized_tanh(4, symmetric=True)').toString());
    expect(back.useStochasticRounding).toBe(1);
    expect(back.symmetric).toBe(false);
  });

  itRebuildsFromConfig(
    CASE,
    ['bits', 'symmetric', 'use_stochastic_rounding', 'use_real_tanh'],
    [{ bits: 4, symmetric: true }, { bits: 6, use_real_tanh: true }, { bits: 3 }] as QuantizerArgs[],
    uniformValues(2, 100, -3, 3),
  );

  it('min/max are -1 + symmetric/m and 1 - 1/m with m = 2^(bits-1)', () => {
    expect([tanh('quantized_tanh(4)').min(), tanh('quantized_tanh(4)').max()]).toEqual([-1, 0.875]);
    expect(tanh('quantized_tanh(4, symmetric=True)').min()).toBe(-0.875);
  });
});

describe('quantized_tanh properties', () => {
  const x = uniformValues(13, 3000, -8, 8).sort((a, b) => a - b);

  itStaysOnGrid(CASE, 'outputs lie on the 1/2^(bits-1) grid within [min, max], monotone, and reach both ends', x, [2, 8]);

  it('is idempotent with the hard internal sigmoid', () => {
    for (let bits = 2; bits <= 8; bits++) {
      const q = new QuantizedTanh({ bits });
      const y = apply(q, x);
      expect(apply(q, y), `${q}`).toEqual(y);
    }
  });

  it('equals a float32 reference of QKeras formula (hard sigmoid, ties to even)', () => {
    const f = Math.fround;
    const q = new QuantizedTanh({ bits: 4 });
    const want = x.map((v) => {
      const p = f(f(2 * Math.min(Math.max(f(f(0.5 * v) + 0.5), 0), 1)) - 1);
      const s = f(p * 8);
      const rounded = f(s + f(-s + roundHalfEven(s))); // x + stop_gradient(-x + round(x)): -0 becomes +0
      return Math.min(Math.max(rounded / 8, -1), 0.875);
    });
    expect(apply(q, x)).toEqual(want);
    // 0.0625 * 8 = 0.5 and 0.1875 * 8 = 1.5 are ties.
    expect(apply(q, [0.0625, 0.1875, -0.0625, -0.1875])).toEqual([0, 0.25, 0, -0.25]);
  });

  it('reads the internal sigmoid when called, not when built', () => {
    const q = new QuantizedTanh({ bits: 6 });
    expect(apply(q, [0.5])).toEqual([0.5]);
    setInternalSigmoid('smooth');
    expect(apply(q, [0.5])).toEqual([0.1875]);
  });

  it('handles any rank and returns float32', () => {
    const q = new QuantizedTanh({ bits: 4 });
    const y = tf.tidy(() => q.call(tf.tensor3d(x.slice(0, 12), [2, 3, 2])));
    expect(y.shape).toEqual([2, 3, 2]);
    expect(y.dtype).toBe('float32');
    y.dispose();
  });
});

describe('quantized_tanh gradients', () => {
  it('is straight through the rounding, times the tanh slope, zero where clipped', () => {
    // quantized_tanh(4): hard tanh has slope 1 on [-1, 1]; outputs above 0.875 are clipped (0.95 -> 1 -> 0.875).
    const pts = [-2, -1, -0.5, 0, 0.5, 0.9, 0.95, 2];
    expect(gradient(tanh('quantized_tanh(4)'), pts)).toEqual([0, 1, 1, 1, 1, 1, 0, 0]);
    // symmetric clips -1 to -0.875 as well.
    expect(gradient(tanh('quantized_tanh(4, symmetric=True)'), pts)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('uses the real tanh derivative with use_real_tanh', () => {
    const [g] = gradient(tanh('quantized_tanh(8, use_real_tanh=True)'), [0.3]);
    expect(Math.abs(g! - (1 - Math.tanh(0.3) ** 2))).toBeLessThan(1e-6);
  });
});

describe('quantized_tanh stochastic rounding', () => {
  const spec = 'quantized_tanh(4,1)';

  itIsReproducible(CASE, spec, 'quantized_tanh(4)', uniformValues(6, 300, -1, 1));

  it('is unbiased inside the range', () => {
    // 0.3 * 8 = 2.4 codes; precision 0.5 picks 2 or 2.5 codes (0.25 or 0.3125) with mean 0.3. One draw has
    // std 0.0625 * 0.4 = 0.025; 20000 draws give std 0.00018 for the mean.
    setSeed(2);
    const y = apply(tanh(spec), new Array<number>(20000).fill(0.3), { training: true });
    expect(new Set(y)).toEqual(new Set([0.25, 0.3125]));
    expect(Math.abs(mean(y) - 0.3)).toBeLessThan(0.0015);
  });
});
