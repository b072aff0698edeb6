import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { QuantizedUlaw } from '../../src/quantizers/quantized-ulaw.js';
import { setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { buildQuantizer, vectorsFor } from '../helpers/qkeras-vectors.js';
import { apply, gradient, nonDecreasing, roundHalfEven, uniformValues } from '../helpers/activation-props.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => setInternalSigmoid('hard'));

const ulaw = (spec: string): QuantizedUlaw => buildQuantizer(spec, [QuantizedUlaw]) as QuantizedUlaw;

/** QKeras's formula in double precision, with the hard sigmoid. */
function reference(x: number, bits: number, integer: number, symmetric: number, u: number): number {
  const m = 2 ** (bits - 1);
  const mi = 2 ** integer;
  const p = Math.min(Math.max(0.5 * (x / mi) + 0.5, 0), 1) * m;
  const rp = (2 * roundHalfEven(p)) / m - 1;
  const y = (Math.sign(rp) * Math.log(1 + u * Math.abs(rp))) / Math.log(1 + u);
  return mi * Math.min(Math.max(y, -1 + symmetric / m), 1 - 1 / m);
}

describe('quantized_ulaw', () => {
  it('has no QKeras vectors (QKeras has no test for it)', () => {
    expect(vectorsFor('quantizer_call', ['quantized_ulaw']).length).toBe(0);
  });

  it.each([
    ['quantized_ulaw(8)', 'quantized_ulaw(8,0)'],
    ['quantized_ulaw(8,0,1)', 'quantized_ulaw(8,0,1)'],
    ['quantized_ulaw(8,0,0,100.0)', 'quantized_ulaw(8,0,0,100.0)'],
    ['quantized_ulaw(8,2,u=100)', 'quantized_ulaw(8,2,0,100)'],
    ['quantized_ulaw(6,1,True,255.0)', 'quantized_ulaw(6,1,1)'],
  ])('%s prints %s', (spec, want) => expect(ulaw(spec).toString()).toBe(want));

  it("getConfig has QKeras's keys and rebuilds the same quantizer (Python floats kept)", () => {
    const x = uniformValues(1, 100, -4, 4);
    for (const spec of ['quantized_ulaw(8,0,0,100.0)', 'quantized_ulaw(5,1,1)', 'quantized_ulaw(4)']) {
      const q = ulaw(spec);
      expect(Object.keys(q.getConfig())).toEqual(['bits', 'integer', 'symmetric', 'u']);
      const back = new QuantizedUlaw(q.getConfig() as QuantizerArgs);
      expect(back.toString()).toBe(q.toString());
      expect(apply(back, x)).toEqual(apply(q, x));
    }
  });

  it('rejects a non-positive u', () => {
    expect(() => new QuantizedUlaw({ u: 0 })).toThrow(ConfigError);
    expect(() => new QuantizedUlaw({ u: -1 })).toThrow(/quantized_ulaw: u=-1/);
  });

  it('min/max are -+max(1, 2^integer) (QKeras bounds, not the largest output)', () => {
    expect([ulaw('quantized_ulaw(8,2)').min(), ulaw('quantized_ulaw(8,2)').max()]).toEqual([-4, 4]);
    expect([ulaw('quantized_ulaw(8,-1)').min(), ulaw('quantized_ulaw(8,-1)').max()]).toEqual([-1, 1]);
    expect(ulaw('quantized_ulaw(1,3)').max()).toBe(1);
  });

  it('follows the mu-law formula (float32 vs a double reference), monotone, within bounds, at most m + 1 levels', () => {
    const x = uniformValues(5, 3000, -6, 6).sort((a, b) => a - b);
    for (const [bits, integer, symmetric, u] of [
      [8, 0, 0, 255],
      [6, 1, 1, 255],
      [4, 2, 0, 100],
      [8, -1, 1, 10],
    ] as const) {
      const q = new QuantizedUlaw({ bits, integer, symmetric, u });
      const y = apply(q, x);
      const m = 2 ** (bits - 1);
      y.forEach((v, i) => {
        const want = reference(x[i]!, bits, integer, symmetric, u);
        expect(Math.abs(v - want), `${q}(${x[i]})`).toBeLessThanOrEqual(4e-7 * 2 ** integer);
      });
      expect(nonDecreasing(y), `${q}`).toBe(true);
      expect(Math.max(...y)).toBeLessThanOrEqual(2 ** integer * (1 - 1 / m));
      expect(Math.min(...y)).toBeGreaterThanOrEqual(2 ** integer * (-1 + symmetric / m) - 1e-6);
      expect(new Set(y).size).toBeLessThanOrEqual(m + 1);
    }
  });

  it('maps 0 to 0 and is odd on the rounding grid', () => {
    const q = ulaw('quantized_ulaw(8)');
    expect(apply(q, [0])).toEqual([0]);
    const x = [0.25, 0.5, 0.75];
    expect(apply(q, x.map((v) => -v))).toEqual(apply(q, x).map((v) => -v));
  });

  it('reads the internal sigmoid when called', () => {
    const q = ulaw('quantized_ulaw(8)');
    const hard = apply(q, [0.5]);
    setInternalSigmoid('smooth');
    expect(apply(q, [0.5])).not.toEqual(hard);
  });

  it('lets the gradient through the mu-law curve (only the rounding is straight-through)', () => {
    // quantized_ulaw(8) at x = 0.5: p = 96 codes, rp = 0.5; d/dx = u / ((1 + u*rp) * ln(1 + u)) (the 2/m, m
    // and 0.5 slope factors cancel).
    const [g] = gradient(ulaw('quantized_ulaw(8)'), [0.5]);
    expect(Math.abs(g! - 255 / ((1 + 127.5) * Math.log(256)))).toBeLessThan(1e-6);
    // Saturated hard sigmoid: no gradient.
    expect(gradient(ulaw('quantized_ulaw(8)'), [3, -3])).toEqual([0, 0]);
  });

  it('handles any rank, returns float32, does not leak', () => {
    const q = ulaw('quantized_ulaw(6,1)');
    const input = tf.tensor2d(uniformValues(3, 12, -2, 2), [3, 4]);
    const before = tf.memory().numTensors;
    const y = q.call(input);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(y.shape).toEqual([3, 4]);
    expect(y.dtype).toBe('float32');
    tf.dispose([input, y]);
  });
});
