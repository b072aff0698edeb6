/** Seeded inputs for the quantizer property tests (mulberry32: small, fast, reproducible). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
