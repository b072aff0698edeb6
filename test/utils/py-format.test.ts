/** Python `str.format` pieces used by the QKeras reports. */
import { describe, expect, it } from 'vitest';
import { pyFloatStr, pyFormatFloat, pyPadInt, pyPadString } from '../../src/utils/py-format.js';

describe('py-format', () => {
  it('pads strings left-aligned and ints right-aligned, never truncating', () => {
    expect(pyPadString('dense', 8)).toBe('dense   ');
    expect(pyPadString('184320', 5)).toBe('184320');
    expect(pyPadInt(0, 5)).toBe('    0');
    expect(pyPadInt(749730, 5)).toBe('749730');
  });

  it("rounds like Python's '{:.4f}': exact binary ties go to even, JS's toFixed would not", () => {
    // 0.03125 and 0.15625 are exact in binary: Python prints 0.0312 and 0.1562.
    expect(pyFormatFloat(0.03125, { precision: 4 })).toBe('0.0312');
    expect((0.03125).toFixed(4)).toBe('0.0313');
    expect(pyFormatFloat(0.15625, { precision: 4 })).toBe('0.1562');
    expect(pyFormatFloat(0.09375, { precision: 4 })).toBe('0.0938');
    // Not a tie in binary (0.1 + 0.00005 is not exact): nearest wins.
    expect(pyFormatFloat(0.10005, { precision: 4 })).toBe((0.10005).toFixed(4));
    expect(pyFormatFloat(2.5, { precision: 0 })).toBe('2');
    expect(pyFormatFloat(3.5, { precision: 0 })).toBe('4');
  });

  it("formats '{: 8.4f}', '{:8.4f}' and '{: 10.6f}' with sign column, width, nan/inf and -0", () => {
    expect(pyFormatFloat(0.625, { sign: ' ', width: 8, precision: 4 })).toBe('  0.6250');
    expect(pyFormatFloat(-1.3125, { sign: ' ', width: 8, precision: 4 })).toBe(' -1.3125');
    expect(pyFormatFloat(0.5, { width: 8, precision: 4 })).toBe('  0.5000');
    expect(pyFormatFloat(0.5, { sign: ' ', width: 10, precision: 6 })).toBe('  0.500000');
    expect(pyFormatFloat(-0, { sign: ' ', width: 8, precision: 4 })).toBe(' -0.0000');
    expect(pyFormatFloat(Number.NaN, { sign: ' ', width: 8, precision: 4 })).toBe('     nan');
    expect(pyFormatFloat(-Infinity, { precision: 2 })).toBe('-inf');
    expect(pyFormatFloat(123456.5, { precision: 2, width: 4 })).toBe('123456.50');
  });

  it("prints str(float) as Python does", () => {
    expect(pyFloatStr(0.75)).toBe('0.75');
    expect(pyFloatStr(1)).toBe('1.0');
    expect(pyFloatStr(0)).toBe('0.0');
    expect(pyFloatStr(1e-5)).toBe('1e-05');
    expect(pyFloatStr(1.5e16)).toBe('1.5e+16');
    expect(pyFloatStr(0.1 + 0.2)).toBe('0.30000000000000004');
  });
});
