/**
 * Scalar float32 arithmetic exactly as the tfjs wasm backend's elementwise kernels compute it, for the fused
 * quantizer kernels, which replace chains of those kernels by one JavaScript loop and must reproduce every
 * bit (test/backend/fused-quantizers.test.ts compares them with the op chains they replace).
 *
 * `+ - * /` on float32 values are done in double and rounded once with Math.fround: for float32 operands
 * that equals the float32 IEEE operation (double has more than 2·24+2 bits, so the double rounding is
 * innocuous). The rest follows what the backend's kernels do, measured on 4.22 (bench/_probe.ts style
 * probes over every position of short and long arrays, so SIMD bodies and scalar tails agree):
 *   - Round: half to even, keeping the sign of zero (-0.5 → -0; the cpu backend gives +0);
 *   - ClipByValue: `min(max(x, lo), hi)` with x compared first, so NaN → lo and -0 → +0 for lo = 0
 *     (the cpu backend keeps NaN and -0);
 *   - Relu: NaN → NaN, -0 → +0; Step: NaN → NaN, else x > 0;
 *   - Sign (this package's kernel): NaN and ±0 kept.
 */

export const f32 = Math.fround;

/** Round half to even with the sign of zero kept (the wasm Round kernel). */
export function roundHalfEven(v: number): number {
  let r = Math.round(v); // half up; NaN and ±Infinity pass through
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
}

/** The wasm ClipByValue kernel for float32 bounds `lo <= hi`. */
export function clipWasm(v: number, lo: number, hi: number): number {
  const a = v > lo ? v : lo;
  return a < hi ? a : hi;
}

/** The wasm Relu kernel. */
export function relu(v: number): number {
  return v > 0 ? v : v !== v ? v : 0;
}

/** The Step kernel with alpha 0 (tfjs's Relu gradient multiplies by it). */
export function step(v: number): number {
  return v > 0 ? 1 : v !== v ? v : 0;
}

/** This package's Sign kernel (kernels/sign.ts): -1, +1, or the input itself for ±0 and NaN. */
export function signKeep(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : v;
}

/**
 * The sign of a zero gradient after the engine adds the contributions of every op on the tape: a sum of
 * zeros is -0 only when every term is -0. The fused kernels' gradients stand for op chains in which at
 * least one contribution is +0 (a comparison's or stop_gradient's zeros), so a zero becomes +0.
 */
export function withPositiveZero(v: number): number {
  return v === 0 ? 0 : v;
}
