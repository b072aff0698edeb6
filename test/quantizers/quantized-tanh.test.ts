import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { QuantizerArgs } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import { QuantizedTanh } from '../../src/quantizers/quantized-tanh.js';
import { type InternalSigmoidMode, setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { buildQuantizer, expectMatches, vectorsFor, type Vector } from '../helpers/qkeras-vectors.js';
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
  setInternalSigmoid('hard');
  setLearningPhase(0);
});

const tanh = (spec: string): QuantizedTanh => buildQuantizer(spec, [QuantizedTanh]) as QuantizedTanh;

function runCall(v: Vector): void {
  setInternalSigmoid(((v.setup ?? {}).set_internal_sigmoid as InternalSigmoidMode | undefined) ?? 'hard');
  const q = tanh(v.quantizer);
  const x = tf.tensor(v.input as number[]);
  const y = q.call(x);
  expectMatches({ values: y.dataSync(), shape: y.shape }, v.expected, v.tolerance, `#${v.id}`);
  if ('expected_min_max' in v) {
    expectMatches({ values: [q.min(), q.max()], shape: [2] }, v.expected_min_max, v.tolerance, `#${v.id} min/max`);
  }
  tf.dispose([x, y]);
}

describe('quantized_tanh QKeras vectors', () => {
  const calls = vectorsFor('quantizer_call', ['quantized_tanh']);
  it('finds every vector', () => {
    expect(calls.length).toBe(2);
    expect(vectorsFor('quantizer_method', ['quantized_tanh']).length).toBe(0);
  });
  for (const v of calls) it(`${v.test_name} (#${v.id})`, () => runCall(v));
});

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

  it("getConfig has QKeras's keys and rebuilds the same quantizer", () => {
    const x = uniformValues(2, 100, -3, 3);
    for (const args of [{ bits: 4, symmetric: true }, { bits: 6, use_real_tanh: true }, { bits: 3 }] as QuantizerArgs[]) {
      const q = new QuantizedTanh(args);
      expect(Object.keys(q.getConfig())).toEqual(['bits', 'symmetric', 'use_stochastic_rounding', 'use_real_tanh']);
      const back = new QuantizedTanh(q.getConfig() as QuantizerArgs);
      expect(back.toString()).toBe(q.toString());
      expect(apply(back, x)).toEqual(apply(q, x));
    }
  });

  it('min/max are -1 + symmetric/m and 1 - 1/m with m = 2^(bits-1)', () => {
    expect([tanh('quantized_tanh(4)').min(), tanh('quantized_tanh(4)').max()]).toEqual([-1, 0.875]);
    expect(tanh('quantized_tanh(4, symmetric=True)').min()).toBe(-0.875);
  });
});

describe('quantized_tanh properties', () => {
  const x = uniformValues(13, 3000, -8, 8).sort((a, b) => a - b);

  it('outputs lie on the 1/2^(bits-1) grid within [min, max], monotone, and reach both ends', () => {
    for (const mode of ['hard', 'smooth', 'real'] as const) {
      setInternalSigmoid(mode);
      for (let bits = 2; bits <= 8; bits++) {
        for (const symmetric of [false, true]) {
          for (const useRealTanh of [false, true]) {
            const q = new QuantizedTanh({ bits, symmetric, use_real_tanh: useRealTanh });
            const y = apply(q, x);
            const label = `${q} ${mode}`;
            expect(onGrid(y, 2 ** -(bits - 1)), label).toBe(true);
            expect(Math.min(...y), label).toBe(q.min());
            expect(Math.max(...y), label).toBe(q.max());
            expect(nonDecreasing(y), label).toBe(true);
          }
        }
      }
    }
  });

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

  it('is deterministic in inference and reproducible with setSeed in training', () => {
    const x = uniformValues(6, 300, -1, 1);
    expect(apply(tanh(spec), x)).toEqual(apply(tanh('quantized_tanh(4)'), x));
    setSeed(9);
    const a = apply(tanh(spec), x, { training: true });
    setSeed(9);
    expect(apply(tanh(spec), x, { training: true })).toEqual(a);
  });

  it('is unbiased inside the range', () => {
    // 0.3 * 8 = 2.4 codes; precision 0.5 picks 2 or 2.5 codes (0.25 or 0.3125) with mean 0.3. One draw has
    // std 0.0625 * 0.4 = 0.025; 20000 draws give std 0.00018 for the mean.
    setSeed(2);
    const y = apply(tanh(spec), new Array<number>(20000).fill(0.3), { training: true });
    expect(new Set(y)).toEqual(new Set([0.25, 0.3125]));
    expect(Math.abs(mean(y) - 0.3)).toBeLessThan(0.0015);
  });
});
