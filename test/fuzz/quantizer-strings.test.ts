/**
 * Fuzz: the QKeras quantizer-string grammar. Random token soup, calls with hostile argument values (huge,
 * negative, NaN, infinite, lists, strings, unknown keywords), mutations of valid strings, and arbitrary
 * unicode. Every string either gives a quantizer that can be called (on 1-D, 2-D and 4-D tensors, in
 * training and inference), printed and re-read, or a typed error — and nothing is ever evaluated.
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QuantizerSpecError } from '../../src/errors.js';
import { getParams, parseQuantizerSpec } from '../../src/quantizers/parse.js';
import { getQuantizer, lookupQuantizer, registeredQuantizerNames, withLearningPhase, type Quantizer } from '../../src/quantizers/index.js';
import { roundTripArgs } from '../quantizers/quantizer-samples.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';

let inputs: tf.Tensor[] = [];

beforeAll(async () => {
  await ready();
  inputs = [
    tf.tensor1d([-1e30, -4.5, -1, -0.5, 0, 0.25, 0.5, 1.5, 3, 1e30, Number.NaN]),
    tf.tensor2d([[-3, -1, -0.5, 0], [0.1, 0.5, 1, 7], [-0.2, 0.3, 2.5, -9]]),
    tf.tensor4d(Array.from({ length: 2 * 3 * 3 * 4 }, (_, i) => Math.sin(i) * 3), [2, 3, 3, 4]),
  ];
});

afterAll(() => tf.dispose(inputs));

const NAMES = registeredQuantizerNames();
const KEYS = [
  'bits', 'integer', 'symmetric', 'alpha', 'keep_negative', 'max_value', 'negative_slope', 'use_stochastic_rounding',
  'threshold', 'scale_axis', 'elements_per_scale', 'use_01', 'u', 'temperature', 'relu_shift', 'relu_upper_bound',
  'min_po2_exponent', 'max_po2_exponent', 'qnoise_factor', 'quadratic_approximation', 'var_name', 'use_variables',
  'number_of_unrolls', 'use_real_sigmoid', 'use_sigmoid', 'post_training_scale', 'use_ste', 'foo', '__proto__', 'constructor',
];
const VALUES = [
  '0', '1', '2', '3', '4', '8', '16', '24', '31', '32', '33', '53', '54', '63', '64', '65', '1000', '1e9', '1e308', '1e-300', '-1', '-8',
  '0.5', '1.0', '-0.0', '2.5', 'nan', 'inf', '-inf', 'True', 'False', 'None', "'auto'", "'auto_po2'", "'x'", "'hard'", '[1 2]', '[]',
  '[0.5 1]', '[nan]', '[inf 1]', '[1, 2, 3]', '[0.5 1 2 4]', '"auto_po2"', 'auto_po2', 'true', 'x', "'", '[', '(1)',
];

/** `name(positional..., key=value...)` with values from the hostile list or random numbers. */
const call = fc
  .tuple(
    fc.constantFrom(...NAMES),
    fc.array(
      fc.tuple(
        fc.option(fc.constantFrom(...KEYS), { nil: null }),
        fc.oneof(fc.constantFrom(...VALUES), fc.integer({ min: -100, max: 100 }).map(String), fc.double().map(String)),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([name, args]) => {
    const positional = args.filter(([k]) => k === null).map(([, v]) => v);
    const keywords = [...new Map(args.filter(([k]) => k !== null) as [string, string][])].map(([k, v]) => `${k}=${v}`);
    return `${name}(${[...positional, ...keywords].join(',')})`;
  });

/** Token soup: names, punctuation, values and random bits of text glued together. */
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...NAMES, 'relu', 'tanh', 'softmax', 'linear', 'sigmoid', '(', ')', ',', '=', ' ', ...VALUES, ...KEYS),
      fc.constantFrom("__import__('os').system('ls')", 'eval(1)', "constructor.constructor('return process')()", '${1}', '`x`', '\\', '\n', '\u0000'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 14 },
  )
  .map((parts) => parts.join(''));

/** Valid strings (what QKeras's str() prints for generated arguments). */
const VALID = NAMES.flatMap((name) => {
  const cls = lookupQuantizer(name)!;
  return fc.sample(roundTripArgs[name]!, { seed: 7, numRuns: 8 }).map((args) => new cls(args).toString());
});

/** One edit of a valid string: delete, insert, duplicate or replace a slice, or swap in a hostile value. */
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.nat(), fc.nat(), fc.constantFrom('delete', 'insert', 'duplicate', 'value'), fc.oneof(fc.constantFrom(...VALUES, '(', ')', ',', '='), fc.string({ maxLength: 3 })))
  .map(([s, a, b, op, text]) => {
    const i = a % (s.length + 1);
    const j = Math.min(s.length, i + (b % 6));
    if (op === 'delete') return s.slice(0, i) + s.slice(j);
    if (op === 'insert') return s.slice(0, i) + text + s.slice(i);
    if (op === 'duplicate') return s.slice(0, j) + s.slice(i, j) + s.slice(j);
    return s.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/, text);
  });

const anyText = fc.oneof(fc.string({ maxLength: 40, unit: 'binary' }), fc.string({ minLength: 2000, maxLength: 10_000 }));

/** Calls, prints and re-reads a quantizer the way layers and model files use it. */
function exercise(q: Quantizer): void {
  for (const x of inputs) {
    for (const training of [false, true]) {
      withLearningPhase(training ? 1 : 0, () => {
        const y = q.call(x, { training });
        y.dataSync();
        y.dispose();
      });
    }
  }
  q.max();
  q.min();
  getQuantizer(q.toString());
}

describe('fuzz: quantizer strings', () => {
  it('every string gives a working quantizer or a typed error', () => {
    const plan = fuzzPlan('quantizer-strings', 800);
    const tally = new FuzzTally(plan);
    // The bare grammar too (QKeras's GetParams reads argument lists), on the same text: two checks per string.
    const grammar = new FuzzTally({ ...plan, surface: 'quantizer-grammar', runs: 2 * plan.runs });
    const arb = fc.oneof({ weight: 4, arbitrary: call }, { weight: 3, arbitrary: mutated }, { weight: 2, arbitrary: soup }, { weight: 1, arbitrary: anyText });
    fc.assert(
      fc.property(arb, (s) => {
        const input = (): string => JSON.stringify(s);
        tally.runSync(input, () => {
          const q = getQuantizer(s);
          if (q !== null) exercise(q);
        });
        grammar.runSync(input, () => parseQuantizerSpec(s));
        grammar.runSync(() => JSON.stringify(`(${s})`), () => getParams(`(${s})`));
      }),
      fcParams(plan),
    );
    tally.report();
    grammar.report();
  });

  it('names the position and what was expected, and never evaluates anything', () => {
    for (const spec of ["__import__('os').system('ls')", "quantized_bits(4,0,1,alpha=__import__('os'))", 'quantized_bits(eval(1))']) {
      expect(() => getQuantizer(spec)).toThrow(QuantizerSpecError);
    }
    expect(() => getQuantizer("quantized_bits(4,0,1,alpha=__import__('os'))")).toThrow(/at position 27: expected a number, .* found "__import__\('os'"/);
    expect(() => getQuantizer('quantized_bits(4,0,1')).toThrow(/expected "," or "\)" to close the "\(" at position 14, found end of spec/);
  });

  it('flags that enter the arithmetic are 0/1 (symmetric=24 built an inverted clip range inside tfjs)', () => {
    expect(() => getQuantizer('quantized_sigmoid(1,24)')).toThrow(/quantized_sigmoid: symmetric=24 is not allowed; expected True, False or a number \(0\/1\)/);
    expect(() => getQuantizer('quantized_linear(keep_negative=-84)')).toThrow(/keep_negative=-84 is not allowed/);
  });

  it('a per-channel alpha list of the wrong length is a typed error naming alpha and the shape', () => {
    const q = getQuantizer('ternary(alpha=[1 2])')!;
    expect(() => q.call(inputs[1]!)).toThrow(/alpha=\[1,2\] is not allowed; expected a number or a list broadcastable to the last axes .* shape \[3, 4\]/);
  });
});
