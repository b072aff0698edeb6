/**
 * C integer types for IR tensors and constants: the narrowest `<stdint.h>` type holding a range of codes,
 * the accumulator types the kernels compute in, and C literals that compile warning-free under
 * `-Wconversion -pedantic` on any C99 compiler.
 */
import type { IntType } from '../ir/nodes.js';
import { codeRange, type Range } from '../ir/fixed.js';
import { UnsupportedError } from '../errors.js';

export type CType = 'int8_t' | 'uint8_t' | 'int16_t' | 'uint16_t' | 'int32_t' | 'uint32_t' | 'int64_t' | 'uint64_t';

/** Signed types the kernels accumulate in (16 bits when the proven bound allows: twice the SIMD lanes). */
export type AccCType = 'int16_t' | 'int32_t' | 'int64_t';

/** Types the requantization helpers of qk_common.h work in. */
export type WorkCType = 'int32_t' | 'int64_t';

interface TypeInfo {
  readonly bytes: number;
  readonly signed: boolean;
  readonly min: bigint;
  readonly max: bigint;
  /** Union member name in the activation buffers. */
  readonly field: string;
}

function info(bits: number, signed: boolean, field: string): TypeInfo {
  const b = BigInt(bits);
  return signed
    ? { bytes: bits / 8, signed, min: -(1n << (b - 1n)), max: (1n << (b - 1n)) - 1n, field }
    : { bytes: bits / 8, signed, min: 0n, max: (1n << b) - 1n, field };
}

export const C_TYPES: Readonly<Record<CType, TypeInfo>> = {
  int8_t: info(8, true, 'i8'),
  uint8_t: info(8, false, 'u8'),
  int16_t: info(16, true, 'i16'),
  uint16_t: info(16, false, 'u16'),
  int32_t: info(32, true, 'i32'),
  uint32_t: info(32, false, 'u32'),
  int64_t: info(64, true, 'i64'),
  uint64_t: info(64, false, 'u64'),
};

/** Deterministic order of types (union members, reports). */
export const C_TYPE_ORDER: readonly CType[] = ['int8_t', 'uint8_t', 'int16_t', 'uint16_t', 'int32_t', 'uint32_t', 'int64_t', 'uint64_t'];

export function typeBytes(t: CType): number {
  return C_TYPES[t].bytes;
}

/** The narrowest type holding every integer of `[lo, hi]` (unsigned when lo >= 0). */
export function cTypeForRange(lo: bigint, hi: bigint, what: string): CType {
  const order: CType[] = lo >= 0n ? ['uint8_t', 'uint16_t', 'uint32_t', 'uint64_t'] : ['int8_t', 'int16_t', 'int32_t', 'int64_t'];
  for (const t of order) {
    if (lo >= C_TYPES[t].min && hi <= C_TYPES[t].max) return t;
  }
  throw new UnsupportedError(`${what}: values in [${lo}, ${hi}] do not fit a 64-bit C integer`);
}

/** The C element type of a tensor of IR type `t` (its codes). */
export function cTypeOf(t: IntType, what: string): CType {
  const r = codeRange(t);
  return cTypeForRange(r.lo, r.hi, what);
}

/**
 * The narrowest accumulator type for values of magnitude at most `bound`. 16-bit accumulators only when
 * `allow16`: gcc 12.2 at -O2 miscompiles reductions into pairs of int16 accumulators (4-byte vectors), so
 * the kernels use them only where the accumulator row is long (the padded filter row of a convolution).
 */
export function accTypeForBound(bound: bigint, what: string, allow16 = false): AccCType {
  if (allow16 && bound <= C_TYPES.int16_t.max) return 'int16_t';
  if (bound <= C_TYPES.int32_t.max) return 'int32_t';
  if (bound <= C_TYPES.int64_t.max) return 'int64_t';
  throw new UnsupportedError(`${what}: intermediate values can reach ${bound}, beyond 64-bit integers`);
}

/** The requantization work type for values of magnitude at most `bound` (at least 32 bits). */
export function workTypeForBound(bound: bigint, what: string): WorkCType {
  if (bound <= C_TYPES.int32_t.max) return 'int32_t';
  if (bound <= C_TYPES.int64_t.max) return 'int64_t';
  throw new UnsupportedError(`${what}: requantization needs values up to ${bound}, beyond 64-bit integers`);
}

export function wider<T extends CType>(a: T, b: T): T {
  return C_TYPES[a].bytes >= C_TYPES[b].bytes ? a : b;
}

/** Largest magnitude of a range. */
export function rangeMaxAbs(r: Range): bigint {
  const a = r.lo < 0n ? -r.lo : r.lo;
  const b = r.hi < 0n ? -r.hi : r.hi;
  return a > b ? a : b;
}

/**
 * A constant in an expression of type `t`: INT32_C/INT64_C give the literal the right type on every
 * platform (a bare `100000` is `long` where int has 16 bits); the most negative value is written as a
 * difference because `-2147483648` is the negation of a literal too large for its type.
 */
export function cConst(value: bigint | number, t: WorkCType | AccCType): string {
  const v = BigInt(value);
  const inf = C_TYPES[t];
  if (v < inf.min || v > inf.max) throw new UnsupportedError(`constant ${v} does not fit ${t}`);
  if (t === 'int16_t') return v < 0n ? `(${v})` : `${v}`;
  const macro = t === 'int32_t' ? 'INT32_C' : 'INT64_C';
  if (v === inf.min) return `(${macro}(${v + 1n}) - 1)`;
  return v < 0n ? `(${macro}(${v}))` : `${macro}(${v})`;
}

/** An array initializer element of type `t` (plain decimal; the most negative value as a difference). */
export function cElement(value: bigint | number, t: CType): string {
  const v = BigInt(value);
  const inf = C_TYPES[t];
  if (v < inf.min || v > inf.max) throw new UnsupportedError(`array element ${v} does not fit ${t}`);
  if (inf.signed && v === inf.min && (t === 'int32_t' || t === 'int64_t')) {
    return t === 'int32_t' ? `(-2147483647 - 1)` : `(-9223372036854775807LL - 1)`;
  }
  if (t === 'int64_t' && (v > 2147483647n || v < -2147483647n)) return `${v}LL`;
  if (t === 'uint64_t' && v > 4294967295n) return `${v}ULL`;
  if (t === 'uint32_t' && v > 2147483647n) return `${v}UL`;
  return `${v}`;
}
