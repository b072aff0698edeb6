/**
 * The tests quantized_sigmoid and quantized_tanh share (both are src/quantizers/rounded-activation.ts):
 * the QKeras vectors, the getConfig round trip, the grid/range/monotonicity property and reproducible
 * stochastic rounding. Each function registers its tests in the caller's `describe`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { QuantizerArgs, QuantizerClass } from '../../src/quantizers/base.js';
import { setLearningPhase, setSeed } from '../../src/quantizers/phase.js';
import type { RoundedActivation } from '../../src/quantizers/rounded-activation.js';
import { type InternalSigmoidMode, setInternalSigmoid } from '../../src/quantizers/sigmoid.js';
import { apply, nonDecreasing, onGrid } from './activation-props.js';
import { buildQuantizer, expectCallVector, vectorsFor } from './qkeras-vectors.js';

export interface RoundedActivationCase {
  readonly name: string;
  readonly cls: QuantizerClass;
  /** The flag selecting the real function (`use_real_sigmoid`, `use_real_tanh`). */
  readonly realFlag: string;
  /** The grid step is `2^-(bits - offset)`. */
  readonly offset: number;
}

function build(c: RoundedActivationCase, spec: string): RoundedActivation {
  return buildQuantizer(spec, [c.cls]) as RoundedActivation;
}

/** A vector's internal sigmoid (the hard one unless it names another). */
function internalSigmoidSetup(_q: unknown, setup: Record<string, unknown>): void {
  setInternalSigmoid((setup.set_internal_sigmoid as InternalSigmoidMode | undefined) ?? 'hard');
}

/**
 * The test file's hooks (the backend, and the internal sigmoid and learning phase reset after each test)
 * and the activation's QKeras vectors.
 */
export function roundedActivationSuite(c: RoundedActivationCase, vectorCount: number): void {
  beforeAll(async () => {
    await ready();
  });
  afterEach(() => {
    setInternalSigmoid('hard');
    setLearningPhase(0);
  });
  describeQKerasVectors(c, vectorCount);
}

/** The QKeras call vectors of the activation (`count` of them, and no method vectors). */
function describeQKerasVectors(c: RoundedActivationCase, count: number): void {
  describe(`${c.name} QKeras vectors`, () => {
    const calls = vectorsFor('quantizer_call', [c.name]);
    it('finds every vector', () => {
      expect(calls.length).toBe(count);
      expect(vectorsFor('quantizer_method', [c.name]).length).toBe(0);
    });
    for (const v of calls) it(`${v.test_name} (#${v.id})`, () => expectCallVector(v, [c.cls], { prepare: internalSigmoidSetup }));
  });
}

/** getConfig has exactly `keys` and rebuilds a quantizer with the same str() and outputs on `x`. */
export function itRebuildsFromConfig(c: RoundedActivationCase, keys: string[], cases: QuantizerArgs[], x: number[]): void {
  it("getConfig has QKeras's keys and rebuilds the same quantizer", () => {
    for (const args of cases) {
      const q = new c.cls(args);
      expect(Object.keys(q.getConfig())).toEqual(keys);
      const back = new c.cls(q.getConfig() as QuantizerArgs);
      expect(back.toString()).toBe(q.toString());
      expect(apply(back, x)).toEqual(apply(q, x));
    }
  });
}

/**
 * For every internal sigmoid, `bits` in `[from, to]`, symmetric and real flag: the outputs on the sorted
 * inputs `x` are multiples of the step, reach min() and max() and never decrease.
 */
export function itStaysOnGrid(c: RoundedActivationCase, title: string, x: number[], [from, to]: [number, number]): void {
  it(title, () => {
    for (const mode of ['hard', 'smooth', 'real'] as const) {
      setInternalSigmoid(mode);
      for (let bits = from; bits <= to; bits++) {
        for (const symmetric of [false, true]) {
          for (const useReal of [false, true]) {
            const q = new c.cls({ bits, symmetric, [c.realFlag]: useReal });
            const y = apply(q, x);
            const label = `${q} ${mode}`;
            expect(onGrid(y, 2 ** -(bits - c.offset)), label).toBe(true);
            expect(Math.min(...y), label).toBe(q.min());
            expect(Math.max(...y), label).toBe(q.max());
            expect(nonDecreasing(y), label).toBe(true);
          }
        }
      }
    }
  });
}

/** The stochastic `spec` equals the deterministic `plain` in inference and repeats with setSeed in training. */
export function itIsReproducible(c: RoundedActivationCase, spec: string, plain: string, x: number[]): void {
  it('is deterministic in inference and reproducible with setSeed in training', () => {
    expect(apply(build(c, spec), x)).toEqual(apply(build(c, plain), x));
    setSeed(9);
    const a = apply(build(c, spec), x, { training: true });
    setSeed(9);
    expect(apply(build(c, spec), x, { training: true })).toEqual(a);
  });
}
