/**
 * Generated quantizer arguments for the string and config round-trip tests.
 *
 * `roundTripArgs[name]` produces only arguments that QKeras's `str()` writes in a form that reads back as
 * the same quantizer: the parameters `str()` prints, in the combinations where its positional fields
 * stay in their constructor positions. The combinations that do not are listed in `lossyCases`, each
 * with the reason (reference §1.6–1.10 and the `__str__` methods of QKeras's quantizers.py).
 */
import * as fc from 'fast-check';
import { PyFloat, type ArgValue, type QuantizerArgs } from '../../src/quantizers/base.js';

const F = (v: number): PyFloat => new PyFloat(v);

/** A Python number written either as an int (`4`) or as an integral float (`4.0`). */
const intOrFloat = (min: number, max: number): fc.Arbitrary<ArgValue> =>
  fc.integer({ min, max }).chain((n) => fc.constantFrom<ArgValue>(n, F(n)));

const flag: fc.Arbitrary<ArgValue> = fc.constantFrom<ArgValue>(false, true, 0, 1);
const truthy: fc.Arbitrary<ArgValue> = fc.constantFrom<ArgValue>(true, 1);
const autoAlpha: fc.Arbitrary<ArgValue> = fc.constantFrom<ArgValue>('auto', 'auto_po2');
/** Alphas that `str()` prints (QKeras tests `if self.alpha`, so 0 is left out: see lossyCases). */
const numericAlpha: fc.Arbitrary<ArgValue> = fc.constantFrom<ArgValue>(1, F(1), 0.5, 0.75, F(2), 3);
const anyAlpha: fc.Arbitrary<ArgValue> = fc.oneof(fc.constant(null), autoAlpha, numericAlpha);
const temperature: fc.Arbitrary<ArgValue> = fc.constantFrom<ArgValue>(F(6), F(8), 2, 0.5, F(10), 12.5);

/** Leaves out the keys whose generated value is `undefined` (the parameter is not passed at all). */
function record(parts: Record<string, fc.Arbitrary<ArgValue | undefined>>): fc.Arbitrary<QuantizerArgs> {
  return fc.record(parts).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

/** Flags printed positionally in constructor order round-trip only when the set ones form a prefix. */
function prefixFlags(names: readonly string[]): fc.Arbitrary<QuantizerArgs> {
  return fc.integer({ min: 0, max: names.length }).chain((k) =>
    fc.tuple(...names.slice(0, k).map(() => truthy)).map((vals) => Object.fromEntries(vals.map((v, i) => [names[i]!, v]))),
  );
}

const fixedBits = {
  bits: intOrFloat(1, 12),
  integer: intOrFloat(-2, 4),
  symmetric: maybe(flag),
  keep_negative: maybe(flag),
  use_stochastic_rounding: maybe(flag),
};

export const roundTripArgs: Readonly<Record<string, fc.Arbitrary<QuantizerArgs>>> = {
  quantized_bits: record({ ...fixedBits, alpha: maybe(anyAlpha) }),
  quantized_linear: record({ ...fixedBits, alpha: maybe(anyAlpha) }),
  quantized_hswish: record({
    bits: intOrFloat(2, 12),
    integer: intOrFloat(0, 4),
    symmetric: maybe(flag),
    alpha: maybe(anyAlpha),
    use_stochastic_rounding: maybe(flag),
    relu_shift: maybe(fc.constantFrom<ArgValue>(3, 1, F(2), 1.5)),
    relu_upper_bound: maybe(fc.constantFrom<ArgValue>(6, F(4), 2.5)),
  }),
  binary: fc.oneof(
    record({
      use_01: maybe(flag),
      alpha: maybe(fc.oneof(fc.constant(null), autoAlpha, numericAlpha)),
      scale_axis: maybe(fc.constantFrom<ArgValue>(0, 1, [0, 1])),
      use_stochastic_rounding: maybe(flag),
    }),
    // The po2 options exist for the auto_po2 scale only.
    record({
      alpha: fc.constant('auto_po2'),
      min_po2_exponent: maybe(fc.integer({ min: -4, max: -1 })),
      max_po2_exponent: maybe(fc.integer({ min: 0, max: 3 })),
    }),
  ),
  stochastic_binary: record({
    alpha: maybe(anyAlpha),
    temperature: maybe(temperature),
    use_real_sigmoid: maybe(flag),
  }),
  ternary: fc.oneof(
    // Activation form: numeric or no alpha, with a threshold; stochastic rounding needs a string alpha.
    record({ alpha: maybe(fc.oneof(fc.constant(null), numericAlpha)), threshold: maybe(fc.constantFrom<ArgValue>(0.33, 0.5, F(1), 0.1)) }),
    record({
      alpha: autoAlpha,
      use_stochastic_rounding: maybe(flag),
      number_of_unrolls: maybe(fc.integer({ min: 1, max: 8 })),
    }),
  ),
  stochastic_ternary: fc.oneof(
    record({
      alpha: maybe(fc.oneof(fc.constant(null), numericAlpha)),
      threshold: maybe(fc.constantFrom<ArgValue>(0.33, 0.5, 0.1)),
      temperature: maybe(temperature),
      use_real_sigmoid: maybe(flag),
    }),
    record({
      alpha: autoAlpha,
      temperature: maybe(temperature),
      use_real_sigmoid: maybe(flag),
      number_of_unrolls: maybe(fc.integer({ min: 1, max: 8 })),
    }),
  ),
  bernoulli: record({ alpha: maybe(anyAlpha), temperature: maybe(temperature), use_real_sigmoid: maybe(flag) }),
  quantized_relu: fc.oneof(
    // Without a negative slope the optional third field is use_sigmoid itself (stochastic rounding
    // would land in negative_slope's position, see lossyCases).
    record({ bits: intOrFloat(1, 10), integer: intOrFloat(-1, 4), use_sigmoid: maybe(flag) }),
    // With a slope, use_sigmoid must be printed (it is when set, or when stochastic rounding is on).
    fc.oneof(
      record({
        bits: intOrFloat(2, 10),
        integer: intOrFloat(0, 4),
        use_sigmoid: truthy,
        negative_slope: fc.constantFrom<ArgValue>(0.5, 0.25, 0.125, F(1)),
        use_stochastic_rounding: maybe(flag),
      }),
      record({
        bits: intOrFloat(2, 10),
        integer: intOrFloat(0, 4),
        use_sigmoid: maybe(fc.constantFrom<ArgValue>(0, false)),
        negative_slope: fc.constantFrom<ArgValue>(0.5, 0.25, 0.125),
        use_stochastic_rounding: truthy,
      }),
    ),
  ),
  quantized_ulaw: record({
    bits: intOrFloat(2, 10),
    integer: intOrFloat(0, 3),
    symmetric: maybe(flag),
    u: maybe(fc.constantFrom<ArgValue>(F(255), 255, F(100), 87.6, 8)),
  }),
  quantized_tanh: fc
    .tuple(intOrFloat(1, 10), prefixFlags(['use_stochastic_rounding', 'symmetric', 'use_real_tanh']))
    .map(([bits, flags]) => ({ bits, ...flags })),
  quantized_sigmoid: fc
    .tuple(intOrFloat(1, 10), prefixFlags(['symmetric', 'use_real_sigmoid', 'use_stochastic_rounding']))
    .map(([bits, flags]) => ({ bits, ...flags })),
  quantized_po2: record({
    bits: intOrFloat(2, 8),
    // str() prints int(max_value): integral values only (fractional ones are in lossyCases).
    max_value: maybe(fc.oneof(fc.constant(null), intOrFloat(0, 16))),
    use_stochastic_rounding: maybe(flag),
    quadratic_approximation: maybe(flag),
  }),
  quantized_relu_po2: fc.oneof(
    // Without a slope, stochastic rounding would be printed in negative_slope's position (lossyCases).
    record({
      bits: intOrFloat(2, 8),
      max_value: maybe(fc.oneof(fc.constant(null), intOrFloat(1, 16))),
      quadratic_approximation: maybe(flag),
    }),
    // A slope is printed after max_value, so max_value must be printed too.
    record({
      bits: intOrFloat(2, 8),
      max_value: intOrFloat(1, 16),
      negative_slope: fc.constantFrom<ArgValue>(0.5, 0.25, 0.125),
      use_stochastic_rounding: maybe(flag),
      quadratic_approximation: maybe(flag),
    }),
  ),
};

/** A QKeras `str()` that does not read back as the same quantizer, and why. */
export interface LossyCase {
  readonly name: string;
  readonly args: QuantizerArgs;
  readonly reason: string;
  /** What the re-read quantizer prints (QKeras's behaviour, quirk included). */
  readonly reread: string;
}

export const lossyCases: readonly LossyCase[] = [
  {
    name: 'quantized_relu',
    args: { bits: 6, integer: 2, negative_slope: 0.25 },
    reason: 'negative_slope is printed in third position, where use_sigmoid is read (reference §1.6)',
    reread: 'quantized_relu(6,2,0)',
  },
  {
    name: 'quantized_relu',
    args: { bits: 4, integer: 0, use_stochastic_rounding: 1 },
    reason: 'use_stochastic_rounding without a slope is printed in negative_slope\'s position (§1.6)',
    reread: 'quantized_relu(4,0,1)',
  },
  {
    name: 'quantized_tanh',
    args: { bits: 4, symmetric: 1 },
    reason: 'symmetric alone prints as the second positional field, read as use_stochastic_rounding (§1.7)',
    reread: 'quantized_tanh(4,1)',
  },
  {
    name: 'quantized_tanh',
    args: { bits: 4, use_real_tanh: 1 },
    reason: 'use_real_tanh alone prints as the second positional field, read as use_stochastic_rounding (§1.7)',
    reread: 'quantized_tanh(4,1)',
  },
  {
    name: 'quantized_sigmoid',
    args: { bits: 4, use_real_sigmoid: 1 },
    reason: 'use_real_sigmoid alone prints as the second positional field, read as symmetric (§1.8)',
    reread: 'quantized_sigmoid(4,1)',
  },
  {
    name: 'quantized_sigmoid',
    args: { bits: 4, use_stochastic_rounding: 1 },
    reason: 'use_stochastic_rounding alone prints as the second positional field, read as symmetric (§1.8)',
    reread: 'quantized_sigmoid(4,1)',
  },
  {
    name: 'quantized_po2',
    args: { bits: 4, max_value: 0.5 },
    reason: 'str() prints int(max_value), truncating 0.5 to 0 (§1.10)',
    reread: 'quantized_po2(4,0)',
  },
  {
    name: 'quantized_relu_po2',
    args: { bits: 4, max_value: 1.5 },
    reason: 'str() prints int(max_value), truncating 1.5 to 1 (§1.10)',
    reread: 'quantized_relu_po2(4,1)',
  },
  {
    name: 'quantized_relu_po2',
    args: { bits: 4, negative_slope: 0.25 },
    reason: 'without max_value the slope is printed in max_value\'s position (§1.10)',
    reread: 'quantized_relu_po2(4,0)',
  },
  {
    name: 'quantized_relu_po2',
    args: { bits: 4, max_value: 2, use_stochastic_rounding: 1 },
    reason: 'use_stochastic_rounding without a slope is printed in negative_slope\'s position (§1.10)',
    reread: 'quantized_relu_po2(4,2,1)',
  },
  {
    name: 'quantized_bits',
    args: { bits: 4, integer: 0, symmetric: 1, alpha: 0 },
    reason: 'alpha is printed only when truthy, so alpha=0 reads back as alpha=None (§1.1)',
    reread: 'quantized_bits(4,0,1)',
  },
];

/**
 * Parameters `str()` never prints: any non-default value is lost in the string form (the dict form
 * keeps the ones that `get_config` writes).
 */
export const unprintedCases: ReadonlyArray<{ readonly name: string; readonly args: QuantizerArgs }> = [
  { name: 'quantized_bits', args: { bits: 4, qnoise_factor: 0.5 } },
  { name: 'quantized_bits', args: { bits: 4, alpha: 'auto_po2', scale_axis: 0 } },
  { name: 'quantized_relu', args: { bits: 4, integer: 1, qnoise_factor: 0.5 } },
  { name: 'quantized_po2', args: { bits: 4, log2_rounding: 'floor' } },
  { name: 'quantized_linear', args: { bits: 4, qnoise_factor: 0.25 } },
];
