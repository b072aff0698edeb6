/**
 * Fixed-point arithmetic for the IR, exact by construction: rounding shifts with QKeras's two tie rules,
 * saturation, ranges and widths of sums and products, and the grid of every tensor type.
 *
 * Values the interpreter computes are JS numbers holding integers; every function here asserts that its
 * inputs are safe integers (|x| < 2^53) so a result is either exact or an error, never silently rounded.
 * Bounds that prove accumulator widths use BigInt, so the proof itself cannot overflow.
 */
import type { Dyadic, FixedType, IntType, RoundingMode, TensorType } from './nodes.js';
import { IRError } from './errors.js';
import { assertNever } from '../errors.js';

/** float32 has a 24-bit significand: integer codes up to this magnitude are exact in tfjs. */
export const F32_EXACT = 2 ** 24;
/** The interpreter computes with doubles: every code, product and partial sum stays below this. */
export const SAFE_LIMIT = Number.MAX_SAFE_INTEGER;

export function assertSafeInt(x: number, what: string): void {
  if (!Number.isSafeInteger(x)) {
    throw new IRError(`${what}: ${x} is not an integer below 2^53 in magnitude; the IR computes exactly or not at all`);
  }
}

/** 2^e as an exact double (e integer, within the double range). */
export function pow2(e: number): number {
  return 2 ** e;
}

/**
 * A compiled `x ↦ round(x · 2^-s)` for integers x: an arithmetic right shift by `s` with the tie rule
 * (`s <= 0` is an exact left shift). half_even is tf.round; half_away is QKeras's `floor(|x| + 0.5)·sign(x)`.
 * The scale factors are computed once, so the hot loop is a multiply, a floor and two compares.
 */
export function makeRoundShift(s: number, mode: RoundingMode): (x: number) => number {
  if (s <= 0) {
    const k = pow2(-s);
    return (x) => {
      const y = x * k;
      if (!Number.isSafeInteger(y)) assertSafeInt(y, `roundShift left shift by ${-s} of ${x}`);
      return y;
    };
  }
  // |x| < 2^53 <= 2^(s-1) means |x·2^-s| < 1/2: rounds to zero under both rules.
  if (s > 53) {
    return (x) => {
      assertSafeInt(x, 'roundShift input');
      return 0;
    };
  }
  const d = pow2(s);
  const inv = pow2(-s);
  const half = d / 2;
  const even = mode === 'half_even';
  return (x) => {
    if (!Number.isSafeInteger(x)) assertSafeInt(x, 'roundShift input');
    const q = Math.floor(x * inv); // exact: scaling by a power of two, then floor
    const r = x - q * d; // exact integer in [0, d)
    if (r < half) return q + 0; // + 0 turns -0 into 0
    if (r > half) return q + 1;
    // An exact tie: half-to-even keeps an even quotient; half-away moves away from zero. With a floored
    // quotient, "away" is q + 1 for positive x and q (already the lower neighbour) for negative x.
    if (even) return q % 2 === 0 ? q + 0 : q + 1;
    return x < 0 ? q + 0 : q + 1;
  };
}

/** `round(x · 2^-s)` for one integer x (see makeRoundShift). */
export function roundShift(x: number, s: number, mode: RoundingMode): number {
  return makeRoundShift(s, mode)(x);
}

/** BigInt twin of `roundShift`, for bounds. */
export function roundShiftBig(x: bigint, s: number, mode: RoundingMode): bigint {
  if (s <= 0) return x << BigInt(-s);
  const d = 1n << BigInt(s);
  let q = x / d; // truncates toward zero
  if (x < 0n && q * d !== x) q -= 1n; // floor
  const r = x - q * d;
  const twice = 2n * r;
  if (twice < d) return q;
  if (twice > d) return q + 1n;
  if (mode === 'half_even') return q % 2n === 0n ? q : q + 1n;
  return x < 0n ? q : q + 1n;
}

/** Rounds a real (double) to an integer with the tie rule; exact for every double. */
export function roundReal(y: number, mode: RoundingMode): number {
  if (!Number.isFinite(y)) return y;
  const q = Math.floor(y);
  const r = y - q; // exact: y and floor(y) share their binade's grid
  const twice = 2 * r;
  if (twice < 1) return q + 0;
  if (twice > 1) return q + 1;
  if (mode === 'half_even') return q % 2 === 0 ? q + 0 : q + 1;
  return y < 0 ? q + 0 : q + 1;
}

/** Clips to `[lo, hi]`; a null bound is open. */
export function saturate(x: number, lo: number | null, hi: number | null): number {
  if (lo !== null && x < lo) return lo;
  if (hi !== null && x > hi) return hi;
  return x;
}

// ---- widths and ranges ---------------------------------------------------------------------------------

/** Number of bits of a non-negative integer (0 → 0). */
export function bitLength(n: bigint | number): number {
  let v = typeof n === 'bigint' ? n : BigInt(n);
  if (v < 0n) throw new IRError(`bitLength of a negative number ${v}`);
  let bits = 0;
  while (v > 0n) {
    v >>= 1n;
    bits += 1;
  }
  return bits;
}

/** An inclusive integer range, exact. */
export interface Range {
  readonly lo: bigint;
  readonly hi: bigint;
}

export function range(lo: bigint | number, hi: bigint | number): Range {
  return { lo: BigInt(lo), hi: BigInt(hi) };
}

/** The smallest two's-complement (or unsigned, if lo >= 0) width holding every integer of the range. */
export function widthForRange(r: Range): { signed: boolean; width: number } {
  if (r.lo >= 0n) return { signed: false, width: Math.max(1, bitLength(r.hi)) };
  // Signed w bits hold [-2^(w-1), 2^(w-1) - 1].
  const neg = bitLength(-r.lo - 1n) + 1;
  const pos = bitLength(r.hi < 0n ? 0n : r.hi) + 1;
  return { signed: true, width: Math.max(neg, pos) };
}

export function fixedForRange(r: Range, frac: number): FixedType {
  const { signed, width } = widthForRange(r);
  return { kind: 'fixed', signed, width, frac };
}

export function addRanges(a: Range, b: Range): Range {
  return { lo: a.lo + b.lo, hi: a.hi + b.hi };
}

export function mulRanges(a: Range, b: Range): Range {
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  return { lo: p.reduce((m, v) => (v < m ? v : m)), hi: p.reduce((m, v) => (v > m ? v : m)) };
}

/** The range of `w · x` for a constant w and x in r, always including 0 (padding cells contribute 0). */
export function scaleRange(w: bigint, r: Range): Range {
  const a = w * r.lo;
  const b = w * r.hi;
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  return { lo: lo < 0n ? lo : 0n, hi: hi > 0n ? hi : 0n };
}

/** Largest magnitude in a range. */
export function maxAbs(r: Range): bigint {
  const a = r.lo < 0n ? -r.lo : r.lo;
  const b = r.hi < 0n ? -r.hi : r.hi;
  return a > b ? a : b;
}

/** Shifts a range to a finer grid (`by >= 0` extra fraction bits). */
export function shiftRange(r: Range, by: number): Range {
  if (by < 0) throw new IRError(`shiftRange to a coarser grid (${by}) is not exact`);
  const k = 1n << BigInt(by);
  return { lo: r.lo * k, hi: r.hi * k };
}

export function unionRange(a: Range, b: Range): Range {
  return { lo: a.lo < b.lo ? a.lo : b.lo, hi: a.hi > b.hi ? a.hi : b.hi };
}

export function fitsRange(inner: Range, outer: Range): boolean {
  return inner.lo >= outer.lo && inner.hi <= outer.hi;
}

export function formatRange(r: Range): string {
  return `[${r.lo}, ${r.hi}]`;
}

// ---- grids of tensor types -----------------------------------------------------------------------------

/** The grid exponent of a type: a code c means c · 2^-gridFrac. */
export function gridFrac(t: TensorType): number {
  switch (t.kind) {
    case 'fixed':
      return t.frac;
    case 'po2':
      return -t.expMin;
    case 'binary':
    case 'ternary':
      return -t.exp;
    case 'float':
      throw new IRError('a float tensor has no integer grid (only the model input is float)');
    default:
      return assertNever(t, 'tensor type');
  }
}

/** The interval of codes a type can hold (po2 types: the interval spanned by their values). */
export function codeRange(t: IntType): Range {
  switch (t.kind) {
    case 'fixed':
      return t.signed
        ? range(-(1n << BigInt(t.width - 1)), (1n << BigInt(t.width - 1)) - 1n)
        : range(0n, (1n << BigInt(t.width)) - 1n);
    case 'po2': {
      const top = 1n << BigInt(t.expMax - t.expMin);
      if (t.signed) return range(-top, top);
      return range(t.zero ? 0n : 1n, top);
    }
    case 'binary':
      return t.zeroOne ? range(0, 1) : range(-1, 1);
    case 'ternary':
      return range(-1, 1);
    default:
      return assertNever(t, 'tensor type');
  }
}

/** Whether a code is a value of the type (po2: a signed power of two in range, or an allowed zero). */
export function isCodeOf(code: number, t: IntType): boolean {
  if (!Number.isInteger(code)) return false;
  switch (t.kind) {
    case 'fixed': {
      const r = codeRange(t);
      return BigInt(code) >= r.lo && BigInt(code) <= r.hi;
    }
    case 'po2': {
      if (code === 0) return t.zero;
      if (code < 0 && !t.signed) return false;
      const a = Math.abs(code);
      return a <= pow2(t.expMax - t.expMin) && Number.isInteger(Math.log2(a));
    }
    case 'binary':
      return t.zeroOne ? code === 0 || code === 1 : code === -1 || code === 1;
    case 'ternary':
      return code === -1 || code === 0 || code === 1;
    default:
      return assertNever(t, 'tensor type');
  }
}

/** Bits needed to store a type's codes (po2: sign plus exponent index, as hardware stores it). */
export function storageBits(t: IntType): number {
  switch (t.kind) {
    case 'fixed':
      return t.width;
    case 'po2': {
      const count = t.expMax - t.expMin + 1 + (t.zero ? 1 : 0);
      return Math.max(1, bitLength(count - 1)) + (t.signed ? 1 : 0);
    }
    case 'binary':
      return 1;
    case 'ternary':
      return 2;
    default:
      return assertNever(t, 'tensor type');
  }
}

// ---- dyadic numbers ------------------------------------------------------------------------------------

/** Exact decomposition of a finite double into `code · 2^exp` with `code` odd (or 0 with exp 0). */
export function toDyadic(x: number): Dyadic {
  if (!Number.isFinite(x)) throw new IRError(`${x} is not a finite number`);
  if (x === 0) return { code: 0, exp: 0 };
  let code = x;
  let exp = 0;
  while (!Number.isInteger(code)) {
    code *= 2;
    exp -= 1;
  }
  while (code % 2 === 0) {
    code /= 2;
    exp += 1;
  }
  return { code, exp };
}

export function dyadicValue(d: Dyadic): number {
  return d.code * pow2(d.exp);
}

/** The exponent of the lowest set bit of a double's value (Infinity for 0). */
export function lowestBitExp(x: number): number {
  return x === 0 ? Infinity : toDyadic(x).exp;
}

/** Whether a double is exactly a float32 value. */
export function isFloat32(x: number): boolean {
  return Math.fround(x) === x;
}
