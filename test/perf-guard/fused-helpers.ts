/**
 * Helpers for the fused-kernel guards: bit-level comparison of float32 results (NaN payloads aside) and
 * inputs rich in the cases where a reimplementation goes wrong (ties, grid boundaries, saturation,
 * signed zeros, NaN, infinities, subnormals).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { withSimd } from '../../src/backend/simd/heap.js';
import { withFusedKernels } from '../../src/quantizers/fused.js';
import { mulberry32 } from '../../src/utils/mulberry32.js';

/** The seeded generator of the cases (mulberry32). */
export const makeRng = mulberry32;

/** First index whose float32 bits differ (NaNs of any payload count as equal), or -1. */
export function firstBitMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return i;
  }
  return -1;
}

export function expectSameBits(got: Float32Array, want: Float32Array, inputs: Float32Array, what: string): void {
  const i = firstBitMismatch(got, want);
  const show = (v: number | undefined) => (Object.is(v, -0) ? '-0' : String(v));
  expect(i, `${what}: index ${i}, input ${show(inputs[i])}, fused ${show(got[i])}, op chain ${show(want[i])}`).toBe(-1);
}

/**
 * `count` float32 values: a third uniform in ±range, a third on the grid `k·step` and its midpoints (ties)
 * with ±1 ulp neighbours, the rest special values and values far outside the range.
 */
export function edgeValues(count: number, seed: number, range: number, step: number): Float32Array {
  const rng = makeRng(seed);
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, -1.1754942e-38, 3.4e38, -3.4e38];
  const out = new Float32Array(count);
  const ulp = (v: number, dir: number) => {
    const f = new Float32Array([v]);
    const u = new Int32Array(f.buffer);
    if (v === 0) return dir * 1e-45;
    u[0]! += (v > 0 ? 1 : -1) * dir;
    return f[0]!;
  };
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) out[i] = (rng() * 2 - 1) * range;
    else if (kind === 1) {
      const k = Math.round((rng() * 2 - 1) * (range / step)) + (rng() < 0.5 ? 0.5 : 0);
      const v = Math.fround(k * step);
      const pick = rng();
      out[i] = pick < 0.5 ? v : ulp(v, pick < 0.75 ? 1 : -1);
    } else {
      out[i] = rng() < 0.5 ? specials[Math.floor(rng() * specials.length)]! : (rng() * 2 - 1) * range * 50;
    }
  }
  return out;
}

/** Random upstream gradients including signed zeros, with a few NaNs when `withNaN`. */
export function gradientValues(count: number, seed: number, withNaN = false): Float32Array {
  const rng = makeRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = rng();
    out[i] = r < 0.05 ? 0 : r < 0.1 ? -0 : withNaN && r < 0.12 ? NaN : (rng() * 2 - 1) * 3;
  }
  return out;
}

/**
 * Runs `fn` with the fused kernels (SIMD and scalar JavaScript) and with the op chain, and returns the
 * results' data.
 */
export function bothPaths(fn: () => tf.Tensor): { fused: Float32Array; scalar: Float32Array; chain: Float32Array } {
  const run = (on: boolean, simd: boolean) =>
    withSimd(simd, () =>
      withFusedKernels(on, () => {
        const t = tf.tidy(fn);
        const data = t.dataSync() as Float32Array;
        t.dispose();
        return Float32Array.from(data);
      }),
    );
  return { fused: run(true, true), scalar: run(true, false), chain: run(false, true) };
}

/** Asserts both fused implementations equal the op chain. */
export function expectFusedEqualsChain(r: ReturnType<typeof bothPaths>, inputs: Float32Array, what: string): void {
  expectSameBits(r.fused, r.chain, inputs, `${what} (SIMD)`);
  expectSameBits(r.scalar, r.chain, inputs, `${what} (scalar)`);
}
