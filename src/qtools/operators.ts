/**
 * QTools's operator rules (QKeras `qtools/quantized_operators`): which hardware a multiply, an
 * accumulation, an addition, a division or a merge needs for given operand types, the type of its result,
 * and two energy factors — `gateFactor`, the gate's energy relative to an adder, and `gateBits`, the
 * width the energy polynomial is evaluated at.
 *
 * Every rule works on copies of its operands, as QKeras's factories deep-copy theirs.
 */
import { QKerasError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import {
  FLOATINGPOINT_BITS,
  QtQuantizer,
  autoPo2Scale,
  binaryPlain,
  blankFixed,
  blankPo2,
  floatType,
  ternaryType,
} from './quantizer-impl.js';

/** The hardware an operation is implemented with (QKeras `implemented_as()`). */
export type ImplementedAs = 'mul' | 'shifter' | 'mux' | 'xor' | 'and' | 'add';

/** An operation with a result type and energy factors. */
export interface QtOperation {
  output: QtQuantizer;
  readonly implementedAs: ImplementedAs;
  gateFactor: number;
  gateBits: number;
}

/** A QTools rule that cannot be applied (QKeras raises ValueError / UnacceptedQuantizerError there). */
export class QToolsOperatorError extends QKerasError {}

// ---- multipliers ----------------------------------------------------------------------------------------

type MulKind = 'fixed' | 'shifter' | 'mux' | 'and' | 'xor' | 'adder' | 'float';

/** Rows: weight mode, columns: input mode; each cell the implementation and the output type's template. */
const MUL_TABLE: readonly (readonly (readonly [MulKind, () => QtQuantizer])[])[] = [
  [['fixed', blankFixed], ['shifter', blankFixed], ['mux', blankFixed], ['mux', blankFixed], ['and', blankFixed], ['float', () => floatType(null)]],
  [['shifter', blankFixed], ['adder', blankPo2], ['mux', blankPo2], ['mux', blankPo2], ['and', blankPo2], ['float', () => floatType(null)]],
  [['mux', blankFixed], ['mux', blankPo2], ['mux', ternaryType], ['mux', ternaryType], ['and', ternaryType], ['float', () => floatType(null)]],
  [['mux', blankFixed], ['mux', blankPo2], ['mux', ternaryType], ['xor', () => binaryPlain(false)], ['and', ternaryType], ['float', () => floatType(null)]],
  [['and', blankFixed], ['and', blankPo2], ['and', ternaryType], ['and', ternaryType], ['and', () => binaryPlain(true)], ['float', () => floatType(null)]],
  Array.from({ length: 6 }, () => ['float', () => floatType(null)] as const),
];

function assertNotFloat(w: QtQuantizer, x: QtQuantizer, what: string): void {
  if (w.isFloatingPoint || x.isFloatingPoint) {
    throw new QToolsOperatorError(`qtools: a ${what} cannot take a floating-point operand (weight ${w.name}, input ${x.name})`);
  }
}

function setPo2Name(out: QtQuantizer): void {
  out.name = out.isSigned ? 'quantized_po2' : 'quantized_relu_po2';
}

/** The multiplier for a weight type and an input type (QKeras `MultiplierFactory.make_multiplier`). */
export function makeMultiplier(weight: QtQuantizer, input: QtQuantizer): QtOperation {
  const row = MUL_TABLE[weight.mode];
  const cell = row?.[input.mode];
  if (cell === undefined) throw new QToolsOperatorError(`qtools: no multiplier for modes ${weight.mode} x ${input.mode}`);
  const w = weight.clone();
  const x = input.clone();
  const out = cell[1]();
  switch (cell[0]) {
    case 'fixed': {
      assertNotFloat(w, x, 'fixed-point multiplier');
      out.intBits = x.intBits + w.intBits;
      const frac = x.bits - x.isSigned - x.intBits + (w.bits - w.isSigned - w.intBits);
      out.isSigned = x.isSigned | w.isSigned;
      out.bits = out.intBits + frac + out.isSigned;
      out.isFloatingPoint = false;
      return { output: out, implementedAs: 'mul', gateFactor: 1, gateBits: Math.sqrt(x.bits * w.bits) };
    }
    case 'shifter': {
      const [po2, qb] = w.mode === 1 ? [w, x] : [x, w];
      const [minExp, maxExp] = po2.minMaxExp();
      out.bits = Math.trunc(qb.bits + maxExp + minExp);
      if (!qb.isSigned && po2.isSigned) out.bits += 1;
      out.intBits = Math.trunc(qb.intBits + maxExp);
      out.isSigned = qb.isSigned | po2.isSigned;
      assertNotFloat(w, x, 'shifter');
      out.isFloatingPoint = false;
      if (po2.inferenceValueCounts > 0) {
        return { output: out, implementedAs: 'shifter', gateFactor: po2.inferenceValueCounts * 0.3, gateBits: qb.bits };
      }
      const b = Math.sqrt(2 ** po2.bits * qb.bits);
      return { output: out, implementedAs: 'shifter', gateFactor: 1, gateBits: b * Math.log10(b) };
    }
    case 'mux': {
      out.isSigned = x.isSigned | w.isSigned;
      let gateFactor: number;
      let gateBits: number;
      if (w.name.includes('binary') || w.name.includes('ternary')) {
        out.bits = x.bits;
        out.intBits = x.intBits;
        if (!x.isSigned && w.isSigned) out.bits += 1;
        gateFactor = w.name.includes('binary') ? 0.3 : 0.6;
        gateBits = x.bits;
      } else {
        out.bits = w.bits;
        out.intBits = w.intBits;
        if (!w.isSigned && x.isSigned) out.bits += 1;
        gateFactor = x.name === 'binary' ? 0.3 : 0.6;
        gateBits = w.bits;
      }
      if (out.name.includes('po2')) {
        setPo2Name(out);
        out.maxValPo2 = w.name.includes('po2') ? w.maxValPo2 : x.maxValPo2;
        out.intBits = out.bits;
      }
      return { output: out, implementedAs: 'mux', gateFactor, gateBits };
    }
    case 'xor': {
      if (out.name !== 'ternary') {
        out.bits = Math.max(x.bits, w.bits);
        out.intBits = Math.max(x.intBits, w.intBits);
        out.isSigned = x.isSigned | w.isSigned;
        assertNotFloat(w, x, 'xor gate');
        out.isFloatingPoint = false;
      }
      return { output: out, implementedAs: 'xor', gateFactor: 0.3, gateBits: 1 };
    }
    case 'and': {
      if (out.name !== 'ternary') {
        out.bits = Math.max(x.bits, w.bits);
        out.isSigned = x.isSigned | w.isSigned;
        out.isFloatingPoint = x.isFloatingPoint || w.isFloatingPoint;
        out.intBits = w.name === 'binary' && w.use01 ? x.intBits : w.intBits;
        if (out.name.includes('po2')) {
          setPo2Name(out);
          out.maxValPo2 = w.name.includes('po2') ? w.maxValPo2 : x.maxValPo2;
        }
      }
      return { output: out, implementedAs: 'and', gateFactor: 0.1, gateBits: out.bits };
    }
    case 'adder': {
      out.bits = Math.max(x.bits, w.bits) + 1;
      out.intBits = Math.max(x.intBits, w.intBits) + 1;
      out.isSigned = x.isSigned | w.isSigned;
      assertNotFloat(w, x, 'po2 adder');
      out.isFloatingPoint = false;
      out.isPo2 = 1;
      out.maxValPo2 = x.maxValPo2 === -1 || w.maxValPo2 === -1 ? -1 : x.maxValPo2 * w.maxValPo2;
      if (out.name.includes('po2')) setPo2Name(out);
      return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
    }
    case 'float': {
      out.bits = Math.max(x.isFloatingPoint ? x.bits : 0, w.isFloatingPoint ? w.bits : 0);
      out.intBits = -1;
      out.isSigned = 1;
      out.isFloatingPoint = true;
      return { output: out, implementedAs: 'mul', gateFactor: 1, gateBits: out.bits };
    }
  }
}

/**
 * Widens a multiplier of a `quantized_bits(alpha='auto_po2')` weight for its per-channel po2 scales
 * (QKeras `adjust_multiplier_for_auto_po2`): enough fraction bits for the smallest scale and integer bits
 * for the largest. Other quantizers, and auto_po2 quantizers never called (no scale yet), are left alone.
 */
export function adjustMultiplierForAutoPo2(mult: QtOperation, weightQuantizer: Quantizer | null): void {
  if (weightQuantizer === null) return;
  const alpha = (weightQuantizer as { alpha?: unknown }).alpha;
  if (!weightQuantizer.toString().includes('quantized_bits') || alpha !== 'auto_po2') return;
  const scale = autoPo2Scale(weightQuantizer);
  if (scale === null || scale.length === 0) return;
  const maxShift = Math.trunc(Math.log2(Math.max(...scale)));
  const minShift = Math.trunc(Math.log2(Math.min(...scale)));
  const out = mult.output;
  const maxFrac = out.bits - out.intBits - minShift;
  const maxInt = out.intBits + maxShift;
  out.bits = maxInt + maxFrac;
  out.intBits = maxInt;
}

// ---- accumulators ---------------------------------------------------------------------------------------

/** A po2 type as the fixed-point type holding all its values: `(bits, int_bits)` (QKeras `po2_to_qbits`). */
export function po2ToQbits(q: QtQuantizer): [number, number] {
  const [minExp, maxExp] = q.minMaxExp();
  return [Math.trunc(q.isSigned + minExp + maxExp), Math.trunc(maxExp)];
}

function po2AsFixed(q: QtQuantizer): QtQuantizer {
  const [bits, intBits] = po2ToQbits(q);
  const out = blankFixed();
  out.bits = bits;
  out.intBits = intBits;
  out.isSigned = q.isSigned;
  return out;
}

/**
 * The accumulator summing a kernel's products (QKeras `AccumulatorFactory.make_accumulator`):
 * `ceil(log2(prod(kernelShape[:-1]) + useBias))` extra bits over the multiplier's type.
 */
export function makeAccumulator(kernelShape: readonly number[], mult: QtOperation, useBias: boolean): QtOperation {
  const m = mult.output;
  if (m.isFloatingPoint) {
    const out = floatType(m.bits);
    out.isSigned = m.isSigned;
    return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
  }
  const addOps = kernelShape.slice(0, -1).reduce((a, b) => a * b, 1) + (useBias ? 1 : 0);
  const logAddOps = Math.ceil(Math.log2(addOps));
  const out = blankFixed();
  if (m.isPo2) {
    const [bits, intBits] = po2ToQbits(m);
    out.bits = logAddOps + bits;
    out.intBits = logAddOps + intBits;
  } else {
    out.bits = logAddOps + m.bits;
    out.intBits = logAddOps + m.intBits;
  }
  out.isSigned = m.isSigned;
  return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
}

// ---- adders ---------------------------------------------------------------------------------------------

function fixedPointAdd(a: QtQuantizer, b: QtQuantizer): QtQuantizer {
  const out = blankFixed();
  out.intBits = Math.max(a.intBits, b.intBits) + 1;
  const frac = Math.max(a.bits - a.isSigned - a.intBits, b.bits - b.isSigned - b.intBits);
  out.isSigned = a.isSigned | b.isSigned;
  out.bits = out.intBits + out.isSigned + frac;
  return out;
}

/**
 * The sum of two values (QKeras `IAdder.make_quantizer`): fixed point with one more integer bit and the
 * finer fraction; po2 operands are first widened to fixed point; any float operand gives a float.
 */
export function makeAdder(a: QtQuantizer, b: QtQuantizer): QtOperation {
  let out: QtQuantizer;
  if (a.mode === 5 || b.mode === 5) {
    out = floatType(Math.max(a.bits, b.bits));
  } else if (a.mode === 1 && b.mode === 1) {
    out = fixedPointAdd(po2AsFixed(a), po2AsFixed(b));
  } else if ((a.mode === 1 && b.mode !== 4) || b.mode === 1) {
    // QKeras's table is not symmetric: po2 + binary{0,1} goes to the plain fixed-point adder (on the
    // po2's raw fields), binary{0,1} + po2 widens the po2 operand first.
    const [po2, other] = a.isPo2 ? [a, b] : [b, a];
    out = fixedPointAdd(po2AsFixed(po2), other);
  } else {
    out = fixedPointAdd(a, b);
  }
  return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
}

// ---- dividers (batch normalisation) ---------------------------------------------------------------------

/**
 * `numerator / denominator` (QKeras `IDivider`): by a po2 denominator a shifter (or a subtractor of
 * exponents for a po2 numerator), by a fixed-point or float denominator a floating-point divider; a
 * ternary or binary denominator is refused.
 */
export function makeDivider(numerator: QtQuantizer, denominator: QtQuantizer): QtOperation {
  const n = numerator.clone();
  const d = denominator.clone();
  const nm = n.mode;
  const dm = d.mode;
  if (dm >= 2 && dm <= 4) {
    throw new QToolsOperatorError(`qtools: denominator quantizer ${denominator.name} not accepted (a ternary or binary value cannot be a divisor)`);
  }
  if (dm === 0 || dm === 5 || nm === 5) {
    const bits = dm === 0 && nm !== 5 ? FLOATINGPOINT_BITS : null;
    const out = floatType(bits);
    if (bits === null) out.bits = Math.max(n.isFloatingPoint ? n.bits : 0, d.isFloatingPoint ? d.bits : 0);
    return { output: out, implementedAs: 'mul', gateFactor: 1, gateBits: out.bits };
  }
  // Denominator po2.
  if (nm === 1) {
    const out = blankPo2();
    out.bits = Math.max(n.bits, d.bits) + 1;
    out.intBits = Math.max(n.intBits, d.intBits) + 1;
    out.isSigned = 1;
    out.isPo2 = 1;
    out.maxValPo2 = n.maxValPo2 === -1 || d.maxValPo2 === -1 ? -1 : n.maxValPo2 / d.maxValPo2;
    setPo2Name(out);
    return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
  }
  const out = nm === 3 || nm === 4 ? blankPo2() : blankFixed();
  // Dividing swaps the roles of the exponent range: small divisors shift left.
  const [minExpRaw, maxExpRaw] = d.minMaxExp();
  const [minExp, maxExp] = [maxExpRaw, minExpRaw];
  out.bits = Math.trunc(n.bits + maxExp + minExp);
  if (!n.isSigned && d.isSigned) out.bits += 1;
  out.intBits = Math.trunc(n.intBits + maxExp);
  out.isSigned = n.isSigned | d.isSigned;
  out.isFloatingPoint = false;
  if (d.inferenceValueCounts > 0) {
    return { output: out, implementedAs: 'shifter', gateFactor: d.inferenceValueCounts * 0.3, gateBits: n.bits };
  }
  const b = Math.sqrt(2 ** d.bits * n.bits);
  return { output: out, implementedAs: 'shifter', gateFactor: 1, gateBits: b * Math.log10(b) };
}

// ---- merge layers ---------------------------------------------------------------------------------------

/** The widest of several types (po2 ones as fixed point), or a float if any is float. */
function widest(inputs: readonly QtQuantizer[], extra: number): QtQuantizer {
  let maxBits = -1;
  let maxInt = -1;
  let signed = 0;
  let isFloat = false;
  let floatBits = 0;
  for (const q of inputs) {
    if (q.isFloatingPoint) {
      isFloat = true;
      floatBits = Math.max(floatBits, q.bits);
    } else {
      const f = q.isPo2 ? po2AsFixed(q) : q;
      maxBits = Math.max(maxBits, f.bits);
      maxInt = Math.max(maxInt, f.intBits);
    }
    signed |= q.isSigned;
  }
  if (isFloat) return floatType(floatBits);
  const out = blankFixed();
  out.bits = maxBits + extra;
  out.intBits = maxInt + extra;
  out.isSigned = signed;
  return out;
}

/** The type of a merge layer's output (QKeras `MergeFactory`): Add, Multiply, Maximum, Minimum, Average, Concatenate. */
export function makeMerge(inputs: readonly QtQuantizer[], layerClass: string): QtOperation {
  switch (layerClass) {
    case 'Add': {
      const out = widest(inputs, 1);
      return { output: out, implementedAs: 'add', gateFactor: 1, gateBits: out.bits };
    }
    case 'Multiply': {
      let q = inputs[0]!;
      let last: QtOperation | null = null;
      for (const cur of inputs.slice(1)) {
        last = makeMultiplier(q, cur);
        q = last.output;
      }
      if (last === null) throw new QToolsOperatorError('qtools: Multiply needs at least two inputs');
      return { output: q, implementedAs: last.implementedAs, gateFactor: last.gateFactor, gateBits: last.gateBits };
    }
    case 'Maximum':
    case 'Minimum':
    case 'Average':
    case 'Concatenate': {
      const first = inputs[0]!;
      const same = inputs.every(
        (q) => q.name === first.name && q.bits === first.bits && q.intBits === first.intBits && q.isSigned === first.isSigned,
      );
      const out = same ? first : widest(inputs, 0);
      const gateFactor = layerClass === 'Average' ? 1 : layerClass === 'Concatenate' ? 0 : 0.2;
      return { output: out, implementedAs: 'add', gateFactor, gateBits: out.bits };
    }
    default:
      throw new QToolsOperatorError(`qtools: no type rule for the merge layer ${layerClass} (QKeras has Add, Multiply, Maximum, Minimum, Average, Concatenate)`);
  }
}

// ---- batch normalisation --------------------------------------------------------------------------------

export interface QbnOperators {
  readonly divider: QtOperation;
  readonly multiplier: QtOperation | null;
  readonly accumulator: QtOperation | null;
  /** The operation whose output is the layer's output. */
  readonly output: QtOperation;
}

/**
 * Unfused batch normalisation `y = gamma / stddev * x + beta` (QKeras `QBNFactory`): the variance's po2
 * type becomes the standard deviation's (one bit less, max value square-rooted), then divider,
 * multiplier and adder.
 */
export function makeQbn(
  input: QtQuantizer,
  gamma: QtQuantizer,
  beta: QtQuantizer,
  variance: QtQuantizer,
  useScale: boolean,
  useCenter: boolean,
): QbnOperators {
  const stddev = variance.clone();
  if (stddev.isPo2) {
    stddev.maxValPo2 = variance.maxValPo2 >= 0 ? roundHalfEven(Math.sqrt(variance.maxValPo2)) : variance.maxValPo2;
    stddev.bits = variance.bits - 1;
    stddev.intBits = stddev.bits;
  }
  let divider: QtOperation;
  let multiplier: QtOperation | null = null;
  let accumulatorInput: QtOperation;
  if (useScale) {
    divider = makeDivider(gamma, stddev);
    let count = -1;
    if (gamma.isPo2 && gamma.inferenceValueCounts > 0) {
      count = stddev.isPo2 && stddev.inferenceValueCounts > 0 ? gamma.inferenceValueCounts * stddev.inferenceValueCounts : -1;
    }
    if (count > 0) divider.output.inferenceValueCounts = count;
    multiplier = makeMultiplier(divider.output, input);
    accumulatorInput = multiplier;
  } else {
    divider = makeDivider(input, stddev);
    accumulatorInput = divider;
  }
  const accumulator = useCenter ? makeAdder(accumulatorInput.output, beta) : null;
  return { divider, multiplier, accumulator, output: accumulator ?? accumulatorInput };
}

/** numpy's `round` (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * A convolution fused with the batch normalisation that follows it (QKeras `FusedBNFactory`):
 * `inv * x - (inv * bias + beta - inv * mean)`; the result is the layer's accumulator.
 */
export function makeFusedBn(options: {
  readonly prevOutput: QtQuantizer;
  readonly prevBias: QtQuantizer | null;
  readonly beta: QtQuantizer;
  readonly mean: QtQuantizer;
  readonly inverse: QtQuantizer;
  readonly useBeta: boolean;
  readonly useBias: boolean;
  readonly kerasInverseQuantizer: Quantizer | null;
}): QtOperation {
  if (options.inverse.isFloatingPoint) {
    throw new QToolsOperatorError('qtools: the batch normalisation inverse_quantizer has to be set for fused batch-norm inference in hardware');
  }
  const multX = makeMultiplier(options.inverse, options.prevOutput);
  adjustMultiplierForAutoPo2(multX, options.kerasInverseQuantizer);
  const multMean = makeMultiplier(options.inverse, options.mean);
  adjustMultiplierForAutoPo2(multMean, options.kerasInverseQuantizer);
  let adder1: QtOperation = multMean;
  if (options.useBias && options.prevBias !== null) {
    const multBias = makeMultiplier(options.inverse, options.prevBias);
    adjustMultiplierForAutoPo2(multBias, options.kerasInverseQuantizer);
    adder1 = makeAdder(multBias.output, multMean.output);
  }
  const adderBias = options.useBeta ? makeAdder(adder1.output, options.beta) : adder1;
  return makeAdder(multX.output, adderBias.output);
}
