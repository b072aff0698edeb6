import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bitLength,
  codeRange,
  fixedForRange,
  isCodeOf,
  range,
  roundReal,
  roundShift,
  roundShiftBig,
  saturate,
  storageBits,
  toDyadic,
  widthForRange,
} from '../../src/ir/fixed.js';
import { fixedType, po2Type } from '../../src/ir/nodes.js';

/** Reference rounding of a rational n / 2^s computed with exact BigInt arithmetic and a different method. */
function refRound(n: bigint, s: number, mode: 'half_even' | 'half_away'): bigint {
  const d = 1n << BigInt(s);
  const twice = 2n * n;
  // candidates: floor and floor+1
  const fl = n >= 0n ? n / d : -((-n + d - 1n) / d);
  const diffLow = twice - 2n * fl * d; // 2·(n - fl·d), in [0, 2d)
  if (diffLow < d) return fl;
  if (diffLow > d) return fl + 1n;
  if (mode === 'half_even') return fl % 2n === 0n ? fl : fl + 1n;
  return n < 0n ? fl : fl + 1n;
}

describe('roundShift', () => {
  it('rounds exact ties half to even, like tf.round', () => {
    // x / 4 for x = -10..10: ties at ±2 (0.5), ±6 (1.5), ±10 (2.5)
    expect([2, 6, 10, -2, -6, -10].map((x) => roundShift(x, 2, 'half_even'))).toEqual([0, 2, 2, 0, -2, -2]);
    expect([1, 3, 5, 7].map((x) => roundShift(x, 1, 'half_even'))).toEqual([0, 2, 2, 4]);
  });

  it('rounds exact ties away from zero, like floor(|x| + 0.5)·sign(x)', () => {
    expect([2, 6, 10, -2, -6, -10].map((x) => roundShift(x, 2, 'half_away'))).toEqual([1, 2, 3, -1, -2, -3]);
  });

  it('rounds non-ties to nearest under both rules', () => {
    for (const mode of ['half_even', 'half_away'] as const) {
      expect([5, 7, -5, -7, 3, -3].map((x) => roundShift(x, 2, mode))).toEqual([1, 2, -1, -2, 1, -1]);
    }
  });

  it('shifts left exactly and never returns -0', () => {
    expect(roundShift(-3, -4, 'half_even')).toBe(-48);
    expect(Object.is(roundShift(-1, 2, 'half_even'), -0)).toBe(false);
    expect(roundShift(-1, 3, 'half_away')).toBe(0);
  });

  it('handles shifts beyond the double range of codes', () => {
    expect(roundShift(2 ** 52, 60, 'half_away')).toBe(0);
    expect(roundShift(2 ** 52, 53, 'half_away')).toBe(1);
    expect(roundShift(2 ** 52, 53, 'half_even')).toBe(0);
  });

  it('rejects inputs that are not safe integers', () => {
    expect(() => roundShift(2 ** 53, 1, 'half_even')).toThrow(/not an integer below 2\^53/);
    expect(() => roundShift(0.5, 1, 'half_even')).toThrow(/not an integer/);
  });

  it('agrees with an independent BigInt reference on random values (both rules)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 45 }),
        fc.constantFrom('half_even' as const, 'half_away' as const),
        (x, s, mode) => {
          const want = refRound(BigInt(x), s, mode);
          expect(BigInt(roundShift(x, s, mode))).toBe(want);
          expect(roundShiftBig(BigInt(x), s, mode)).toBe(want);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('roundReal', () => {
  it('matches tf.round on halves and is exact for large doubles', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map((x) => roundReal(x, 'half_even'))).toEqual([0, 2, 2, 0, -2, -2]);
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map((x) => roundReal(x, 'half_away'))).toEqual([1, 2, 3, -1, -2, -3]);
    expect(roundReal(2 ** 52 + 1, 'half_away')).toBe(2 ** 52 + 1);
    expect(roundReal(0.49999999999999994, 'half_away')).toBe(0);
  });
});

describe('ranges and widths', () => {
  it('computes minimal two-complement and unsigned widths', () => {
    expect(widthForRange(range(-128, 127))).toEqual({ signed: true, width: 8 });
    expect(widthForRange(range(-129, 0))).toEqual({ signed: true, width: 9 });
    expect(widthForRange(range(-1, 128))).toEqual({ signed: true, width: 9 });
    expect(widthForRange(range(0, 255))).toEqual({ signed: false, width: 8 });
    expect(widthForRange(range(0, 0))).toEqual({ signed: false, width: 1 });
    expect(fixedForRange(range(-5, 3), 7)).toEqual(fixedType(true, 4, 7));
    expect(bitLength(2n ** 70n)).toBe(71);
  });

  it('saturates with open bounds', () => {
    expect(saturate(-9, -8, 7)).toBe(-8);
    expect(saturate(9, null, 7)).toBe(7);
    expect(saturate(-9, null, null)).toBe(-9);
  });

  it('knows the codes of each type', () => {
    expect(codeRange(fixedType(true, 4, 0))).toEqual(range(-8, 7));
    expect(codeRange(po2Type(true, -4, 3))).toEqual(range(-128, 128));
    expect(isCodeOf(-32, po2Type(true, -4, 3))).toBe(true);
    expect(isCodeOf(24, po2Type(true, -4, 3))).toBe(false);
    expect(isCodeOf(0, po2Type(true, -4, 3))).toBe(false);
    expect(isCodeOf(0, po2Type(true, -4, 3, true))).toBe(true);
    expect(isCodeOf(-1, po2Type(false, -4, 3))).toBe(false);
    expect(storageBits(po2Type(true, -4, 3))).toBe(4); // 8 exponents + sign, as quantized_po2(4)
    expect(storageBits(po2Type(false, -8, 7))).toBe(4); // relu_po2(4)
  });

  it('decomposes doubles into exact dyadic numbers', () => {
    expect(toDyadic(0.375)).toEqual({ code: 3, exp: -3 });
    expect(toDyadic(-40)).toEqual({ code: -5, exp: 3 });
    expect(toDyadic(Math.fround(0.33))).toEqual({ code: 11072963, exp: -25 });
    expect(toDyadic(0)).toEqual({ code: 0, exp: 0 });
  });
});
