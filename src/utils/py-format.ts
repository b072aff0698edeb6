/**
 * The few pieces of Python's `str.format` mini-language that QKeras's printed reports use, so that
 * `printQstats`, `printModelSparsity` and `quantizedModelDebug` print the same characters as QKeras:
 * `{:30}` on a string (left-aligned, padded), `{:5}` on an int (right-aligned), `{:.4f}` / `{: 8.4f}`
 * (fixed point, Python's rounding) and `str()` of a Python float.
 */

/** `'{:N}'.format(s)` for a string: left-aligned, padded with spaces to at least `width`. */
export function pyPadString(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/** `'{:N}'.format(n)` for an int: right-aligned, padded with spaces to at least `width`. */
export function pyPadInt(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/**
 * The digits of `Math.abs(x)` with `digits` decimals, rounded the way Python does: to the nearest
 * decimal of the exact binary value, ties to even. JS's `toFixed` picks the larger candidate on an exact
 * tie (`(0.03125).toFixed(4)` is `0.0313`, Python prints `0.0312`), so ties are detected and fixed here.
 */
function fixedDigits(ax: number, digits: number): string {
  const plain = ax.toFixed(digits);
  // An exact decimal tie needs the expansion to stop at digit `digits + 1` with a 5; 100 digits are plenty
  // for the dyadic values where that can happen at the precisions used here.
  const long = ax.toFixed(Math.min(100, digits + 60));
  const dot = long.indexOf('.');
  const tail = long.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return plain;
  // Tie: keep the truncated value when its last digit is even, else round up (what toFixed did).
  const truncated = long.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const last = truncated[truncated.length - 1]!;
  return Number(last) % 2 === 0 ? truncated : plain;
}

export interface PyFloatFormat {
  /** Minimum field width (right-aligned, as Python does for numbers). */
  readonly width?: number;
  /** Digits after the point (`f` presentation). */
  readonly precision: number;
  /** `' '`: a space in front of non-negative numbers (Python's `{: f}`); `'-'` (default): no sign. */
  readonly sign?: ' ' | '-';
}

/** `'{:[sign][width].[precision]f}'.format(x)`, including Python's `nan`/`inf` spellings and `-0.0000`. */
export function pyFormatFloat(x: number, format: PyFloatFormat): string {
  const negative = x < 0 || Object.is(x, -0);
  let body: string;
  if (Number.isNaN(x)) body = 'nan';
  else if (!Number.isFinite(x)) body = 'inf';
  else body = fixedDigits(Math.abs(x), format.precision);
  const signChar = negative && !Number.isNaN(x) ? '-' : format.sign === ' ' ? ' ' : '';
  const s = signChar + body;
  const width = format.width ?? 0;
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/**
 * Python's `str()` of a float (the shortest repr): `0.1`, `1.0`, `1e-05`, `nan`. JS's shortest
 * round-trip digits are the same as Python's; only the exponent form and the `.0` differ.
 */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax < 1e-4 || ax >= 1e16) {
    const [mant, exp] = x.toExponential().split('e') as [string, string];
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}
