/**
 * The IR's requantization rules as C expressions over an accumulator value `a` (the kernels' `QK_RQ`
 * macro): rounding shifts with the rule's tie mode, saturation, sign / ternary comparisons, threshold
 * counting and table lookups, built from the helpers in templates/c/qk_common.h. Every constant is
 * computed here exactly (BigInt) from the input range the caller proves, so the expression is evaluated
 * in a type wide enough for every value it meets, and sides of a clip that can never bind are dropped.
 */
import type { Rule, RoundingMode, ShiftRule } from '../ir/nodes.js';
import { pow2, roundShiftBig, type Range } from '../ir/fixed.js';
import { UnsupportedError } from '../errors.js';
import { assertNever } from '../errors.js';
import { cConst, rangeMaxAbs, workTypeForBound, type CType, type WorkCType } from './c-types.js';

/** A constant array a rule needs (thresholds, lookup values), declared in weights.h. */
export interface RuleArray {
  readonly role: 'thr' | 'lut';
  readonly ctype: CType;
  readonly values: readonly bigint[];
}

export interface RuleExpr {
  /** The C expression of the output code, given the C text of the accumulator (a plain variable name). */
  readonly expr: (a: string, arrays: { thr: string; lut: string }) => string;
  readonly arrays: readonly RuleArray[];
  /** Type the expression computes in (null when it only compares). */
  readonly work: WorkCType | null;
}

function bits32(t: WorkCType): string {
  return t === 'int32_t' ? '32' : '64';
}

/** The smallest code c on the grid 2^-inFrac with c · 2^-inFrac >= t, as BigInt (±null for ±infinity). */
function thresholdCode(t: number, inFrac: number): bigint | null {
  const scaled = t * pow2(inFrac);
  if (!Number.isFinite(scaled)) return null;
  return BigInt(Math.ceil(scaled));
}

interface ShiftStep {
  readonly text: (a: string) => string;
  readonly range: Range;
}

/**
 * round(a · 2^-s) for a in `r`: a right shift with the tie rule, a left shift (multiplication), or the
 * constant 0 when 2^(s-1) exceeds every |a| (no tie is possible then either).
 */
function shiftStep(r: Range, s: number, mode: RoundingMode, work: WorkCType): ShiftStep {
  const range: Range = { lo: roundShiftBig(r.lo, s, mode), hi: roundShiftBig(r.hi, s, mode) };
  if (s === 0) return { text: (a) => `(${work})(${a})`, range };
  if (s < 0) {
    const k = 1n << BigInt(-s);
    return { text: (a) => `((${work})(${a}) * ${cConst(k, work)})`, range };
  }
  const m = rangeMaxAbs(r);
  if (s > 62 || (1n << BigInt(s - 1)) > m) {
    return { text: (a) => `((void)(${a}), ${cConst(0, work)})`, range: { lo: 0n, hi: 0n } };
  }
  const fn = mode === 'half_even' ? 'even' : 'away';
  return { text: (a) => `qk_rshift_${fn}${bits32(work)}((${work})(${a}), ${s})`, range };
}

function clampText(v: string, lo: bigint | null, hi: bigint | null, work: WorkCType): string {
  const b = bits32(work);
  if (lo !== null && hi !== null) return `qk_clamp${b}(${v}, ${cConst(lo, work)}, ${cConst(hi, work)})`;
  if (lo !== null) return `qk_max${b}(${v}, ${cConst(lo, work)})`;
  if (hi !== null) return `qk_min${b}(${v}, ${cConst(hi, work)})`;
  return v;
}

/** Bounds that can bind for values in `r` (null where the clip never changes a value). */
function bindingBounds(r: Range, lo: number | null, hi: number | null): { lo: bigint | null; hi: bigint | null } {
  const l = lo === null || BigInt(lo) <= r.lo ? null : BigInt(lo);
  const h = hi === null || BigInt(hi) >= r.hi ? null : BigInt(hi);
  return { lo: l, hi: h };
}

function shiftExpr(rule: ShiftRule, inFrac: number, r: Range, out: CType): RuleExpr {
  const fr = rule.frac ?? inFrac;
  const s = inFrac - fr;
  // Without negative inputs the negative-slope branch never runs.
  const sNeg = rule.negSlopeExp === null || r.lo >= 0n ? null : inFrac - (fr + rule.negSlopeExp);
  // The work type must hold the input, every shifted value and every bound that is applied.
  const probe = (shift: number): bigint => {
    const lo = roundShiftBig(r.lo, shift, rule.rounding);
    const hi = roundShiftBig(r.hi, shift, rule.rounding);
    return rangeMaxAbs({ lo, hi });
  };
  let need = rangeMaxAbs(r);
  for (const sh of [s, sNeg]) if (sh !== null) need = need > probe(sh) ? need : probe(sh);
  if (s < 0 || (sNeg !== null && sNeg < 0)) {
    // A left-shift multiplier must itself fit the work type.
    const k = 1n << BigInt(-Math.min(s, sNeg ?? 0));
    need = need > k ? need : k;
  }
  const work = workTypeForBound(need, 'requantization');
  const pos = shiftStep(r, s, rule.rounding, work);
  if (sNeg === null) {
    const { lo, hi } = bindingBounds(pos.range, rule.lo, rule.hi);
    return { expr: (a) => `(${out})${clampText(pos.text(a), lo, hi, work)}`, arrays: [], work };
  }
  // quantized_relu with a negative slope: negative inputs use their own shift and clip to [lo, 0].
  const posRange: Range = { lo: pos.range.lo < 0n ? 0n : pos.range.lo, hi: pos.range.hi < 0n ? 0n : pos.range.hi };
  const negIn: Range = { lo: r.lo, hi: r.hi < 0n ? r.hi : -1n };
  const neg = shiftStep(negIn, sNeg, rule.rounding, work);
  const pb = bindingBounds(posRange, rule.lo, rule.hi);
  const nb = bindingBounds(neg.range, rule.lo, 0);
  return {
    expr: (a) => `((${a}) < 0 ? (${out})${clampText(neg.text(a), nb.lo, nb.hi, work)} : (${out})${clampText(pos.text(a), pb.lo, pb.hi, work)})`,
    arrays: [],
    work,
  };
}

/** A constant output that still reads `a` (so no set-but-unused warning). */
function constantExpr(value: bigint | number, out: CType): (a: string) => string {
  return (a) => `((void)(${a}), (${out})${BigInt(value) < 0n ? `(${value})` : value})`;
}

/**
 * The expression of `rule` (or the identity when null) for accumulator values in `r` on the grid
 * `2^-inFrac`, producing codes of the C type `out`.
 */
export function ruleExpr(rule: Rule | null, inFrac: number, r: Range, out: CType, lutType: CType | null): RuleExpr {
  if (rule === null) return { expr: (a) => `(${out})(${a})`, arrays: [], work: null };
  switch (rule.kind) {
    case 'shift':
      return shiftExpr(rule, inFrac, r, out);
    case 'sign': {
      const neg = rule.zeroOne ? 0 : -1;
      if (r.lo >= 0n) return { expr: constantExpr(1, out), arrays: [], work: null };
      if (r.hi < 0n) return { expr: constantExpr(neg, out), arrays: [], work: null };
      return { expr: (a) => `(${out})((${a}) >= 0 ? 1 : ${neg})`, arrays: [], work: null };
    }
    case 'ternary': {
      const t = thresholdCode(rule.threshold, inFrac);
      const m = rangeMaxAbs(r);
      // |a| >= t with a != 0 (sign(0) = 0): the effective threshold is at least 1.
      const T = t === null ? (rule.threshold > 0 ? m + 1n : 1n) : t < 1n ? 1n : t;
      if (T > m) return { expr: constantExpr(0, out), arrays: [], work: null };
      const work = workTypeForBound(m, 'ternary rule');
      const c = cConst(T, work);
      const cn = cConst(-T, work);
      return { expr: (a) => `(${out})((${work})(${a}) >= ${c} ? 1 : ((${work})(${a}) <= ${cn} ? -1 : 0))`, arrays: [], work };
    }
    case 'thresholds': {
      if (lutType === null) throw new UnsupportedError('a threshold rule needs the C type of its output values');
      // Thresholds below every input always count, those above never: clip them to [lo, hi + 1].
      const codes = rule.thresholds.map((t) => {
        const c = thresholdCode(t, inFrac);
        if (c === null) return t > 0 ? r.hi + 1n : r.lo;
        if (c < r.lo) return r.lo;
        if (c > r.hi + 1n) return r.hi + 1n;
        return c;
      });
      const bound = [r.lo, r.hi + 1n].map((v) => (v < 0n ? -v : v)).reduce((a, b) => (a > b ? a : b));
      const work = workTypeForBound(bound, 'threshold rule');
      const arrays: RuleArray[] = [
        { role: 'thr', ctype: work, values: codes },
        { role: 'lut', ctype: lutType, values: rule.values.map((v) => BigInt(v)) },
      ];
      const n = codes.length;
      return {
        expr: (a, names) => `(${names.lut}[qk_count_le${bits32(work)}((${work})(${a}), ${names.thr}, ${n})])`,
        arrays,
        work,
      };
    }
    case 'table': {
      if (lutType === null) throw new UnsupportedError('a table rule needs the C type of its output values');
      if (inFrac > rule.inFrac) {
        throw new UnsupportedError(`a table on the grid 2^-${rule.inFrac} cannot take inputs on the finer grid 2^-${inFrac}`);
      }
      const k = 1n << BigInt(rule.inFrac - inFrac);
      const inMin = BigInt(rule.inMin);
      const first = r.lo * k - inMin;
      const last = r.hi * k - inMin;
      if (first < 0n || last >= BigInt(rule.values.length)) {
        throw new UnsupportedError(
          `a table over codes ${rule.inMin}..${rule.inMin + rule.values.length - 1} does not cover inputs ${r.lo * k}..${r.hi * k}`,
        );
      }
      const bound = [r.lo * k, r.hi * k, inMin].map((v) => (v < 0n ? -v : v)).reduce((a, b) => (a > b ? a : b)) * 2n;
      const work = workTypeForBound(bound, 'table rule');
      const arrays: RuleArray[] = [{ role: 'lut', ctype: lutType, values: rule.values.map((v) => BigInt(v)) }];
      const scaled = (a: string): string => (k === 1n ? `(${work})(${a})` : `(${work})(${a}) * ${cConst(k, work)}`);
      return {
        expr: (a, names) => `(${names.lut}[(qk_index)(${scaled(a)} - ${cConst(inMin, work)})])`,
        arrays,
        work,
      };
    }
    default:
      return assertNever(rule, 'rule');
  }
}
