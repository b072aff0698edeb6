/**
 * Benchmark harness: every figure is a rate measured in the same run as its baseline, and tables print
 * ratios against that baseline, because absolute numbers on a shared 2-core machine are noise.
 */
import { writeFileAtomic } from '../src/utils/atomic-file.js';

export interface Measurement {
  readonly name: string;
  /** Work items per second (samples, vectors, ...), median over repetitions. */
  readonly rate: number;
  readonly unit: string;
  readonly repetitions: number;
}

export interface MeasureOptions {
  /** Items processed by one call of the measured function. */
  itemsPerCall: number;
  unit?: string;
  warmupCalls?: number;
  /** Repetitions; the median rate is reported so one noisy repetition does not decide. */
  repetitions?: number;
  /** Calls per repetition. */
  callsPerRepetition?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function measure(name: string, fn: () => unknown | Promise<unknown>, options: MeasureOptions): Promise<Measurement> {
  const reps = options.repetitions ?? 5;
  const calls = options.callsPerRepetition ?? 1;
  for (let i = 0; i < (options.warmupCalls ?? 1); i++) await fn();
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) await fn();
    const seconds = (performance.now() - t0) / 1000;
    rates.push((options.itemsPerCall * calls) / seconds);
  }
  return { name, rate: median(rates), unit: options.unit ?? 'items/s', repetitions: reps };
}

/** Prints a table with each row's rate and its ratio to the baseline row (the first by default). */
export function printTable(title: string, rows: Measurement[], baseline: Measurement = rows[0]!): string {
  const lines = [`\n${title}`, `${'case'.padEnd(44)} ${'rate'.padStart(14)}  ratio vs ${baseline.name}`];
  for (const row of rows) {
    lines.push(
      `${row.name.padEnd(44)} ${row.rate.toFixed(1).padStart(10)} ${row.unit.padEnd(10)} ${(row.rate / baseline.rate).toFixed(2)}x`,
    );
  }
  const text = lines.join('\n');
  console.log(text);
  return text;
}

/** Writes a JSON result file atomically (temp file, then rename). */
export function writeResult(path: string, data: unknown): void {
  writeFileAtomic(path, JSON.stringify(data, null, 2));
}
