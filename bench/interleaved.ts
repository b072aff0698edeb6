/** Round-robin throughput measurement shared by the training benches (bench/train.ts, bench/train-parallel.ts). */
import type { Measurement } from './harness.js';

export interface InterleavedCase {
  readonly name: string;
  readonly fn: () => unknown | Promise<unknown>;
}

/**
 * Measures every case round-robin — one repetition of each in turn — so that load changes on the shared
 * machine hit all cases alike and the ratios stay meaningful; reports each case's median rate in samples/s,
 * where one call of a case processes `samplesPerCall` samples. Every case is called once first (warm-up).
 */
export async function measureInterleaved(
  cases: readonly InterleavedCase[],
  repetitions: number,
  calls: number,
  samplesPerCall: number,
): Promise<Measurement[]> {
  const rates = cases.map(() => [] as number[]);
  for (const c of cases) await c.fn(); // warm-up
  for (let r = 0; r < repetitions; r++) {
    for (const [i, c] of cases.entries()) {
      const t0 = performance.now();
      for (let k = 0; k < calls; k++) await c.fn();
      rates[i]!.push((samplesPerCall * calls) / ((performance.now() - t0) / 1000));
    }
  }
  return cases.map((c, i) => {
    const sorted = [...rates[i]!].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const rate = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { name: c.name, rate, unit: 'samples/s', repetitions };
  });
}
