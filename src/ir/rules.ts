/**
 * The requantization rules (nodes.ts `Rule`) as functions: on integer codes (every node after the input)
 * and on float32 reals (the input node, which emulates QKeras's float32 math op for op). One module so the
 * interpreter, the checker and the passes agree on what a rule means.
 */
import type {
  IntType,
  Requant,
  Rule,
  ShiftRule,
  TensorType,
} from './nodes.js';
import { fixedType } from './nodes.js';
import {
  codeRange,
  gridFrac,
  pow2,
  range,
  roundReal,
  makeRoundShift,
  roundShiftBig,
  saturate,
  widthForRange,
  type Range,
} from './fixed.js';
import { IRError } from './errors.js';
import { assertNever } from '../errors.js';

/** Applies a rule to one integer code of the input grid `2^-inFrac`, returning a code of the output type. */
export type CodeFn = (code: number) => number;

/** The exact input grid a rule rounds to (shift rules with `frac: null` keep the input grid). */
export function shiftFrac(rule: ShiftRule, inFrac: number): number {
  return rule.frac ?? inFrac;
}

/** Smallest integer code c on the grid `2^-inFrac` with `c · 2^-inFrac >= t`. */
function thresholdCode(t: number, inFrac: number): number {
  const scaled = t * pow2(inFrac);
  if (!Number.isFinite(scaled)) return scaled > 0 ? Infinity : -Infinity;
  return Math.ceil(scaled);
}

/** Compiles a rule for integer inputs on the grid `2^-inFrac`. */
export function compileRule(rule: Rule, inFrac: number): CodeFn {
  switch (rule.kind) {
    case 'shift': {
      const fr = shiftFrac(rule, inFrac);
      const { rounding, lo, hi, negSlopeExp } = rule;
      const shift = makeRoundShift(inFrac - fr, rounding);
      if (negSlopeExp !== null) {
        const shiftNeg = makeRoundShift(inFrac - (fr + negSlopeExp), rounding);
        return (c) => (c < 0 ? saturate(shiftNeg(c), lo, 0) : saturate(shift(c), lo, hi));
      }
      if (inFrac === fr) return (c) => saturate(c, lo, hi);
      return (c) => saturate(shift(c), lo, hi);
    }
    case 'sign': {
      const neg = rule.zeroOne ? 0 : -1;
      return (c) => (c >= 0 ? 1 : neg);
    }
    case 'ternary': {
      const t = thresholdCode(rule.threshold, inFrac);
      return (c) => (Math.abs(c) >= t ? Math.sign(c) + 0 : 0);
    }
    case 'thresholds': {
      const ts = rule.thresholds.map((t) => thresholdCode(t, inFrac));
      const values = rule.values;
      return (c) => {
        // Count thresholds <= c by binary search (they are ascending).
        let lo = 0;
        let hi = ts.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ts[mid]! <= c) lo = mid + 1;
          else hi = mid;
        }
        return values[lo]!;
      };
    }
    case 'table': {
      if (inFrac > rule.inFrac) {
        throw new IRError(`a table on the grid 2^-${rule.inFrac} cannot take inputs on the finer grid 2^-${inFrac}`);
      }
      const k = pow2(rule.inFrac - inFrac);
      const { inMin, values } = rule;
      return (c) => {
        const v = values[c * k - inMin];
        if (v === undefined) throw new IRError(`input code ${c} is outside the table (from ${inMin}, ${values.length} entries)`);
        return v;
      };
    }
    default:
      return assertNever(rule, 'rule');
  }
}

/**
 * Compiles a rule for float32 reals the way QKeras computes it in float32: scaling by powers of two is
 * exact, tf.round is half-to-even, the auto_po2 path rounds with `floor(fround(|y| + 0.5))`, comparisons
 * are against float32 thresholds. Returns the output code.
 */
export function compileRealRule(rule: Rule): (x: number) => number {
  switch (rule.kind) {
    case 'shift': {
      if (rule.frac === null || rule.lo === null || rule.hi === null) {
        throw new IRError('an input quantizer must round to a grid and clip (shift rule with frac, lo and hi)');
      }
      const scale = pow2(rule.frac);
      const negScale = rule.negSlopeExp === null ? scale : pow2(rule.frac + rule.negSlopeExp);
      const { lo, hi, rounding, negSlopeExp } = rule;
      const roundF32 = (y: number): number => {
        if (rounding === 'half_even') return roundReal(Math.fround(y), 'half_even');
        // QKeras's auto path: v = floor(|x|/s + 0.5) in float32, z = sign(x) · v.
        const v = Math.floor(Math.fround(Math.fround(Math.abs(y)) + 0.5));
        return y < 0 ? -v : y > 0 ? v : 0;
      };
      return (x) => {
        if (negSlopeExp !== null && x < 0) return saturate(roundF32(x * negScale), lo, 0);
        return saturate(roundF32(x * scale), lo, hi);
      };
    }
    case 'sign': {
      const neg = rule.zeroOne ? 0 : -1;
      return (x) => (x >= 0 ? 1 : neg);
    }
    case 'ternary': {
      const t = rule.threshold;
      return (x) => (Math.abs(x) >= t ? Math.sign(x) + 0 : 0);
    }
    case 'thresholds': {
      const ts = rule.thresholds;
      const values = rule.values;
      return (x) => {
        let k = 0;
        while (k < ts.length && x >= ts[k]!) k += 1;
        return values[k]!;
      };
    }
    case 'table':
      throw new IRError('a table rule needs integer inputs; it cannot quantize the float model input');
    default:
      return assertNever(rule, 'rule');
  }
}

/** Range of codes after rounding the input range to the rule's grid and clipping (shift rules). */
function shiftOutRange(rule: ShiftRule, inRange: Range | null, inFrac: number | null): Range {
  let pos: Range;
  let neg: Range | null = null;
  if (inRange === null || inFrac === null) {
    if (rule.lo === null || rule.hi === null) {
      throw new IRError('a shift rule on a float input needs both clip bounds');
    }
    pos = range(rule.negSlopeExp === null ? rule.lo : 0, rule.hi);
    if (rule.negSlopeExp !== null) neg = range(rule.lo, 0);
  } else {
    const fr = shiftFrac(rule, inFrac);
    const clip = (v: bigint, lo: number | null, hi: number | null): bigint => {
      if (lo !== null && v < BigInt(lo)) return BigInt(lo);
      if (hi !== null && v > BigInt(hi)) return BigInt(hi);
      return v;
    };
    const rl = roundShiftBig(inRange.lo, inFrac - fr, rule.rounding);
    const rh = roundShiftBig(inRange.hi, inFrac - fr, rule.rounding);
    if (rule.negSlopeExp === null) {
      pos = range(clip(rl, rule.lo, rule.hi), clip(rh, rule.lo, rule.hi));
    } else {
      const posLo = inRange.lo < 0n ? 0n : rl;
      pos = range(clip(posLo, rule.lo, rule.hi), clip(rh > 0n ? rh : 0n, rule.lo, rule.hi));
      if (inRange.lo < 0n) {
        const nl = roundShiftBig(inRange.lo, inFrac - (fr + rule.negSlopeExp), rule.rounding);
        neg = range(clip(nl, rule.lo, 0), 0n);
      }
    }
  }
  if (neg === null) return pos;
  return range(neg.lo < pos.lo ? neg.lo : pos.lo, pos.hi > neg.hi ? pos.hi : neg.hi);
}

/**
 * The output type of a rule applied to an input of type `inType` (float for the input node). Shift rules
 * give the tightest fixed type holding every reachable code, so a narrow input keeps a narrow output.
 */
export function ruleOutType(rule: Rule, inType: TensorType): IntType {
  switch (rule.kind) {
    case 'shift': {
      const isFloat = inType.kind === 'float';
      const inFrac = isFloat ? null : gridFrac(inType);
      const fr = rule.frac ?? inFrac;
      if (fr === null) throw new IRError('a shift rule without frac needs an integer input');
      const r = shiftOutRange(rule, isFloat ? null : codeRange(inType), inFrac);
      const { signed, width } = widthForRange(r);
      return fixedType(signed, width, fr - rule.scaleExp);
    }
    case 'sign':
      return { kind: 'binary', zeroOne: rule.zeroOne, exp: rule.scaleExp };
    case 'ternary':
      return { kind: 'ternary', exp: rule.scaleExp };
    case 'thresholds':
    case 'table':
      return rule.out;
    default:
      return assertNever(rule, 'rule');
  }
}

/** The grid exponent of a rule's output codes, for a given input type. */
export function ruleOutFrac(rule: Rule, inType: TensorType): number {
  return gridFrac(ruleOutType(rule, inType));
}

/** Whether a requantizer is the identity on exact values (no rounding, no clipping, no scaling). */
export function isIdentity(rq: Requant): boolean {
  const r = rq.rule;
  return r.kind === 'shift' && r.frac === null && r.lo === null && r.hi === null && r.negSlopeExp === null && r.scaleExp === 0;
}

/** Whether a requantizer is an exact relu (Keras `relu`): keeps the grid, clips below at 0 only. */
export function isExactRelu(rq: Requant): boolean {
  const r = rq.rule;
  return r.kind === 'shift' && r.frac === null && r.lo === 0 && r.hi === null && r.negSlopeExp === null && r.scaleExp === 0;
}

/**
 * `second ∘ first` as one requantizer when that is exact, else null: the identity composes with anything,
 * and an exact relu followed by a shift rule with `lo >= 0` (every input <= 0 already maps to `lo`) is the
 * second rule alone — Keras `activation='relu'` followed by a `quantized_relu` QActivation.
 */
export function composeRequant(first: Requant, second: Requant): Requant | null {
  if (isIdentity(first)) return second;
  if (isIdentity(second)) return first;
  if (isExactRelu(first)) {
    const r = second.rule;
    if (r.kind === 'shift' && r.negSlopeExp === null && r.lo !== null && r.lo >= 0) {
      // relu(x) = 0 for x < 0 and the shift maps every x <= 0 to max(lo, 0) = lo: same as without relu.
      return second;
    }
  }
  return null;
}
