import { describe, expect, it } from 'vitest';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { QuantizedSigmoid } from '../../src/quantizers/quantized-sigmoid.js';
import { setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { buildQuantizer } from '../helpers/qkeras-vectors.js';
import { apply, gradient, mean, roundHalfEven, uniformValues } from '../helpers/activation-props.js';
import { itIsReproducible, itRebuildsFromConfig, itStaysOnGrid, roundedActivationSuite, type RoundedActivationCase } from '../helpers/rounded-activation-suite.js';

const sigmoid = (spec: string): QuantizedSigmoid => buildQuantizer(spec, [QuantizedSigmoid]) as QuantizedSigmoid;
const CASE: RoundedActivationCase = { name: 'quantized_sigmoid', cls: QuantizedSigmoid, realFlag: 'use_real_sigmoid', offset: 0 };

roundedActivationSuite(CASE, 3);

describe('quantized_sigmoid str() and config', () => {
  it.each([
    ['quantized_sigmoid(8)', 'quantized_sigmoid(8)'],
    ['quantized_sigmoid(6, symmetric=True, use_real_sigmoid=False)', 'quantized_sigmoid(6,1)'],
    ['quantized_sigmoid(6, use_real_sigmoid=True)', 'quantized_sigmoid(6,1)'],
    ['quantized_sigmoid(6, use_stochastic_rounding=True)', 'quantized_sigmoid(6,1)'],
    ['quantized_sigmoid(4,1,1,1)', 'quantized_sigmoid(4,1,1,1)'],
  ])('%s prints %s', (spec, want) => expect(sigmoid(spec).toString()).toBe(want));

  itRebuildsFromConfig(
    CASE,
    ['bits', 'symmetric', 'use_real_sigmoid', 'use_stochastic_rounding'],
    [{ bits: 6, symmetric: true }, { bits: 5, use_real_sigmoid: true }, { bits: 3 }] as QuantizerArgs[],
    uniformValues(2, 100, -6, 6),
  );

  it('min/max are symmetric/m and 1 - 1/m with m = 2^bits', () => {
    expect([sigmoid('quantized_sigmoid(4)').min(), sigmoid('quantized_sigmoid(4)').max()]).toEqual([0, 0.9375]);
    expect(sigmoid('quantized_sigmoid(4,1)').min()).toBe(0.0625);
  });
});

describe('quantized_sigmoid properties', () => {
  const x = uniformValues(17, 3000, -12, 12).sort((a, b) => a - b);

  itStaysOnGrid(CASE, 'outputs lie on the 1/2^bits grid within [min, max], monotone, and reach both ends', x, [1, 8]);

  it('equals a float32 reference of QKeras formula (hard sigmoid, ties to even)', () => {
    const f = Math.fround;
    const q = new QuantizedSigmoid({ bits: 4 });
    const want = x.map((v) => {
      const s = f(Math.min(Math.max(f(f(0.5 * v) + 0.5), 0), 1) * 16);
      const rounded = f(s + f(-s + roundHalfEven(s)));
      return Math.min(Math.max(rounded / 16, 0), 0.9375);
    });
    expect(apply(q, x)).toEqual(want);
    // hard_sigmoid(0.0625) * 16 = 8.5 and hard_sigmoid(0.1875) * 16 = 9.5 are ties.
    expect(apply(q, [0.0625, 0.1875])).toEqual([0.5, 0.625]);
  });

  it('reads the internal sigmoid when called, and ignores it with use_real_sigmoid', () => {
    const q = new QuantizedSigmoid({ bits: 8 });
    const real = new QuantizedSigmoid({ bits: 8, use_real_sigmoid: true });
    const before = apply(real, [1]);
    expect(apply(q, [1])).toEqual([0.99609375]); // 1 - 1/256: hard_sigmoid(1) = 1 is clipped
    setInternalSigmoid('smooth');
    expect(apply(q, [1])).toEqual([0.6875]);
    expect(apply(real, [1])).toEqual(before);
    expect(before[0]).toBe(Math.round(256 / (1 + Math.exp(-1))) / 256);
  });
});

describe('quantized_sigmoid gradients', () => {
  it('is straight through the rounding, times the sigmoid slope, zero where clipped', () => {
    // quantized_sigmoid(4): hard sigmoid slope 0.5 on [-1, 1]; outputs round to 16ths and clip to [0, 15/16].
    const pts = [-2, -1, -0.5, 0, 0.5, 0.85, 0.95, 2];
    expect(gradient(sigmoid('quantized_sigmoid(4)'), pts)).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0]);
    // symmetric: 0 is below the 1/16 floor, so -1 is clipped too.
    expect(gradient(sigmoid('quantized_sigmoid(4,1)'), pts)).toEqual([0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0]);
  });
});

describe('quantized_sigmoid stochastic rounding', () => {
  const spec = 'quantized_sigmoid(4, use_stochastic_rounding=True)';

  itIsReproducible(CASE, spec, 'quantized_sigmoid(4)', uniformValues(6, 300, -2, 2));

  it('is unbiased inside the range', () => {
    // hard_sigmoid(0.1) = 0.55 = 8.8 codes; precision 0.5 picks 8.5 or 9 codes, mean 0.55. One draw has std
    // 0.03125 * sqrt(0.6 * 0.4) = 0.0153; the mean of 20000 draws has std 0.00011.
    setSeed(2);
    const y = apply(sigmoid(spec), new Array<number>(20000).fill(0.1), { training: true });
    expect(new Set(y)).toEqual(new Set([8.5 / 16, 9 / 16]));
    expect(Math.abs(mean(y) - 0.55)).toBeLessThan(0.001);
  });
});
