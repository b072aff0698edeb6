/**
 * QTools's own description of a data type (QKeras `qtools/quantized_operators/quantizer_impl.py` and
 * `quantizer_factory.py`): a mode (0 fixed point, 1 power of two, 2 ternary, 3 binary ±1, 4 binary {0,1},
 * 5 float), a width, integer bits **without** the sign bit, a sign flag, and for po2 the largest value.
 *
 * Keras quantizers are converted by exact class name, as QKeras's factory looks them up by exact type:
 * a subclass such as `quantized_hswish` or a quantizer QTools has no model for (`quantized_linear`,
 * `quantized_sigmoid`, a Keras activation) is "unsupported". Where QTools needs a type and finds none it
 * uses a default named by a mode string: `fp32`, `fp16`, `int8`, `int16`, `int32`, or a QKeras quantizer
 * string such as `"quantized_bits(8, 0, 1)"`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import '../quantizers/index.js';

/** The QTools class a data type belongs to (QKeras's Python class of the qtools quantizer). */
export type QtImpl =
  | 'QuantizedBits'
  | 'QuantizedTanh'
  | 'QuantizedUlaw'
  | 'Binary'
  | 'StochasticBinary'
  | 'Bernoulli'
  | 'QuantizedRelu'
  | 'Ternary'
  | 'StochasticTernary'
  | 'FloatingPoint'
  | 'PowerOfTwo'
  | 'ReluPowerOfTwo';

export const FLOATINGPOINT_BITS = 32;

/** A QTools data type. Mutable on purpose: the operator rules widen copies of it step by step. */
export class QtQuantizer {
  /** 0 fixed, 1 po2, 2 ternary, 3 binary ±1, 4 binary {0,1}, 5 float. */
  mode = -1;
  bits = -1;
  /** Integer bits excluding the sign bit (QTools's internal convention). */
  intBits = -1;
  /** 0 or 1. */
  isSigned = 0;
  isFloatingPoint = false;
  /** Largest po2 value, -1 when unbounded. */
  maxValPo2 = -1;
  isPo2 = 0;
  /** QKeras's `name`: the quantizer name the JSON reports (`quantized_bits`, `binary`, `floating_point`...). */
  name: string;
  /** Distinct constant values (po2 weights at inference), -1 when unknown. */
  inferenceValueCounts = -1;
  use01 = false;

  constructor(
    readonly impl: QtImpl,
    name: string,
  ) {
    this.name = name;
  }

  clone(): QtQuantizer {
    const q = new QtQuantizer(this.impl, this.name);
    Object.assign(q, this);
    return q;
  }

  /** `(min_exp, max_exp)` of a po2 type (QKeras `get_exp`): right and left shift ranges, both >= 0. */
  minMaxExp(): [number, number] {
    const nonSignBits = this.isSigned ? this.bits - 1 : this.bits;
    const minExp = -(2 ** (nonSignBits - 1));
    const maxExpOrig = 2 ** (nonSignBits - 1) - 1;
    let maxExp = maxExpOrig;
    if (this.maxValPo2 !== -1) {
      maxExp = this.maxValPo2 <= 0 ? 0 : Math.min(Math.ceil(Math.log2(this.maxValPo2)), maxExpOrig);
    }
    return [-minExp, Math.max(0, maxExp)];
  }

  /** Records how many distinct values a constant po2 tensor holds (QKeras `update_inference_values`). */
  updateInferenceValues(values: ArrayLike<number>): void {
    this.inferenceValueCounts = new Set(Array.from(values)).size;
  }
}

function fixed(impl: QtImpl, name: string, bits: number, intBits: number, signed: number): QtQuantizer {
  const q = new QtQuantizer(impl, name);
  q.mode = 0;
  q.bits = bits;
  q.intBits = intBits;
  q.isSigned = signed;
  return q;
}

function binaryType(impl: QtImpl, name: string, use01: boolean): QtQuantizer {
  const q = new QtQuantizer(impl, name);
  q.mode = use01 ? 4 : 3;
  q.isSigned = use01 ? 0 : 1;
  q.bits = 1;
  q.intBits = 1;
  q.use01 = use01;
  return q;
}

export function ternaryType(impl: 'Ternary' | 'StochasticTernary' = 'Ternary'): QtQuantizer {
  const q = new QtQuantizer(impl, impl === 'Ternary' ? 'ternary' : 'stochastic_ternary');
  q.mode = 2;
  q.bits = 2;
  q.intBits = 2;
  q.isSigned = 1;
  return q;
}

export function floatType(bits: number | null): QtQuantizer {
  const q = new QtQuantizer('FloatingPoint', 'floating_point');
  q.mode = 5;
  q.bits = bits ?? -1;
  q.intBits = -1;
  q.isSigned = 1;
  q.isFloatingPoint = true;
  return q;
}

/** An empty fixed-point type (QKeras `QuantizedBits()`), filled in by the operator rules. */
export function blankFixed(): QtQuantizer {
  return fixed('QuantizedBits', 'quantized_bits', -1, -1, 1);
}

/** An empty signed po2 type (QKeras `PowerOfTwo()`). */
export function blankPo2(): QtQuantizer {
  const q = new QtQuantizer('PowerOfTwo', 'quantized_po2');
  q.mode = 1;
  q.isPo2 = 1;
  q.isSigned = 1;
  return q;
}

export function binaryPlain(use01: boolean): QtQuantizer {
  return binaryType('Binary', 'binary', use01);
}

function flag(v: unknown): number {
  return v === true || (typeof v === 'number' && v !== 0) ? 1 : 0;
}

interface QuantizerFields {
  readonly bits?: number;
  readonly integer?: number;
  readonly keepNegative?: boolean | number;
  readonly use01?: boolean | number;
  readonly negativeSlope?: number;
  readonly maxValue?: number | null;
}

/** The classes QTools models, by QKeras class name. */
const CONVERTERS: Readonly<Record<string, (q: Quantizer & QuantizerFields) => QtQuantizer>> = {
  quantized_bits: (q) => fixed('QuantizedBits', 'quantized_bits', q.bits, q.integer ?? 0, flag(q.keepNegative)),
  quantized_tanh: (q) => fixed('QuantizedTanh', 'quantized_tanh', q.bits, -1, 1),
  quantized_ulaw: (q) => fixed('QuantizedUlaw', 'quantized_ulaw', q.bits, q.integer ?? 0, 1),
  binary: (q) => binaryType('Binary', 'binary', flag(q.use01) === 1),
  stochastic_binary: () => binaryType('StochasticBinary', 'stochastic_binary', false),
  bernoulli: () => binaryType('Bernoulli', 'bernoulli', true),
  quantized_relu: (q) => {
    const intBits = q.integer ?? 0;
    const t = fixed('QuantizedRelu', 'quantized_relu', q.bits, intBits, 0);
    t.mode = q.bits === 1 && intBits === 1 ? 4 : 0;
    if ((q.negativeSlope ?? 0) !== 0) t.isSigned = 1;
    return t;
  },
  ternary: () => ternaryType('Ternary'),
  stochastic_ternary: () => ternaryType('StochasticTernary'),
  quantized_po2: (q) => po2Type(true, q.bits, q.maxValue ?? null),
  quantized_relu_po2: (q) => po2Type(false, q.bits, q.maxValue ?? null),
};

function po2Type(signed: boolean, bits: number, maxValue: number | null): QtQuantizer {
  const q = new QtQuantizer(signed ? 'PowerOfTwo' : 'ReluPowerOfTwo', signed ? 'quantized_po2' : 'quantized_relu_po2');
  q.mode = 1;
  q.isPo2 = 1;
  q.isSigned = signed ? 1 : 0;
  q.bits = bits;
  q.intBits = bits;
  // QKeras treats a falsy max_value (None or 0) as unbounded.
  q.maxValPo2 = maxValue ? maxValue : -1;
  return q;
}

/** Whether QTools has a model of this Keras quantizer (QKeras `is_quantizer_supported`; null is). */
export function isSupportedQuantizer(q: Quantizer | null): boolean {
  return q === null || Object.hasOwn(CONVERTERS, q.className);
}

/** The QTools type of a supported Keras quantizer, or null for an unsupported one. */
export function fromKerasQuantizer(q: Quantizer): QtQuantizer | null {
  const convert = CONVERTERS[q.className];
  return convert === undefined ? null : convert(q as Quantizer & QuantizerFields);
}

/**
 * A default type from a mode string (QKeras `make_default_quantizer`): `fp32`, `fp16`, `int8`
 * (`quantized_bits(8,0,1)`), `int16` (`(16,7,1)`), `int32` (`(32,10,1)`), or any QKeras quantizer
 * string of a supported class.
 */
export function defaultQuantizer(mode: string): QtQuantizer {
  switch (mode) {
    case 'fp32':
      return floatType(32);
    case 'fp16':
      return floatType(16);
    case 'int8':
      return fixed('QuantizedBits', 'quantized_bits', 8, 0, 1);
    case 'int16':
      return fixed('QuantizedBits', 'quantized_bits', 16, 7, 1);
    case 'int32':
      return fixed('QuantizedBits', 'quantized_bits', 32, 10, 1);
  }
  let q: Quantizer | null;
  try {
    q = getQuantizer(mode);
  } catch (e) {
    throw new ConfigError('qtools', 'quantizer mode', mode, `fp32, fp16, int8, int16, int32 or a QKeras quantizer string (${(e as Error).message})`);
  }
  const t = q === null ? null : fromKerasQuantizer(q);
  if (t === null) {
    throw new ConfigError('qtools', 'quantizer mode', mode, `a quantizer QTools can model (${Object.keys(CONVERTERS).join(', ')})`);
  }
  return t;
}

/** A Keras activation function QTools has no model of (e.g. `relu` on a Dense layer). */
export class KerasActivation {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

/** What a QTools graph edge carries: a Keras quantizer, a QTools type, an unmodelled activation, or nothing. */
export type EdgeValue = Quantizer | QtQuantizer | KerasActivation | null;

/** Whether a value on an edge is something QTools models (QKeras `is_quantizer_supported`; null is). */
export function isSupported(q: EdgeValue): boolean {
  if (q === null || q instanceof QtQuantizer) return true;
  return q instanceof Quantizer && isSupportedQuantizer(q);
}

/**
 * QKeras `make_quantizer`: the QTools type of a Keras quantizer, a QTools type (copied), or a mode
 * string; anything unsupported (or null) becomes the default intermediate type.
 *
 * QKeras's lookup table maps the QTools classes StochasticBinary, Bernoulli, QuantizedTanh and
 * QuantizedUlaw to a fresh StochasticTernary when a QTools type is re-read from a graph edge (after a
 * pass-through layer such as Flatten), which turns e.g. an 8-bit tanh activation into a 2-bit ternary
 * input of the next layer. That table entry is a slip; here every QTools type is copied as it is.
 */
export function makeQuantizer(q: EdgeValue | string, defaultInterm: string): QtQuantizer {
  if (typeof q === 'string') return defaultQuantizer(q);
  if (q instanceof QtQuantizer) return q.clone();
  if (q instanceof Quantizer) {
    const t = fromKerasQuantizer(q);
    if (t !== null) return t;
  }
  return defaultQuantizer(defaultInterm);
}

/** QKeras's per-channel scale of a `quantized_bits(alpha='auto_po2')` quantizer, or null if unknown. */
export function autoPo2Scale(q: Quantizer): number[] | null {
  const s = q.scale;
  if (s instanceof tf.Tensor && !s.isDisposed) return Array.from(s.dataSync());
  const pts = (q as { postTrainingScale?: unknown }).postTrainingScale;
  if (s === null && pts !== undefined && pts !== null) return flattenNumbers(pts);
  return null;
}

function flattenNumbers(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.flatMap(flattenNumbers);
  return [];
}
