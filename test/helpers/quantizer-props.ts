import { mulberry32 } from '../../src/utils/mulberry32.js';

/** Seeded inputs for the quantizer property tests (mulberry32: small, fast, reproducible). */
export const makeRng = mulberry32;

/** `n` float32 values uniform in [lo, hi). */
export function values(rng: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * rng()));
}

/** Number of live tensors a second call leaves behind (the first call may keep a new scale). */
export async function leakedTensors(call: () => { dispose(): void }): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  call().dispose();
  const before = tf.memory().numTensors;
  call().dispose();
  return tf.memory().numTensors - before;
}
