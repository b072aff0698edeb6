/**
 * Shared machinery of the fuzz suites: how many cases and which seed each surface runs, and the property
 * every surface checks — an input either works or raises one of the project's typed errors (a
 * `QKerasError` with a message), never a raw TypeError/RangeError from tfjs, h5wasm or our own code.
 *
 * `npm test` runs each surface with a small fixed number of cases and a fixed seed per surface, so CI is
 * reproducible. `npm run fuzz` sets `FUZZ_SCALE` (a multiplier of every case count) and, unless
 * `FUZZ_SEED` is given, draws a fresh seed per surface. Each surface prints one line,
 * `fuzz <surface>: <n> cases (<ok> worked, <typed> typed errors), seed <s>`; a failure names the seed, the
 * fast-check replay path and the input, so `FUZZ_SEED=<s>` reproduces it. `FUZZ_TRACE=1` prints each
 * input before it runs, so the last line printed names a case that hangs.
 */
import { expect } from 'vitest';
import { QKerasError } from '../../src/errors.js';

export interface FuzzPlan {
  readonly surface: string;
  readonly runs: number;
  readonly seed: number;
}

/** FNV-1a: a stable default seed per surface name. */
function stableSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

/** The plan of a surface: `baseRuns` cases in `npm test`, times FUZZ_SCALE in `npm run fuzz`. */
export function fuzzPlan(surface: string, baseRuns: number): FuzzPlan {
  const rawScale = Number(process.env['FUZZ_SCALE'] ?? '1');
  const scale = Number.isFinite(rawScale) && rawScale > 0 ? rawScale : 1;
  const fixed = process.env['FUZZ_SEED'];
  const seed = fixed !== undefined && fixed !== '' ? Number(fixed) : scale > 1 ? Math.floor(Math.random() * 0x7fffffff) : stableSeed(surface);
  return { surface, runs: Math.max(1, Math.round(baseRuns * scale)), seed };
}

/** Counts outcomes of one surface and enforces the typed-error property on every case. */
export class FuzzTally {
  ok = 0;
  typed = 0;
  /** Typed errors by class name (printed with the counts). */
  readonly classes = new Map<string, number>();

  constructor(readonly plan: FuzzPlan) {
    // In long runs, say the seed up front: a run that hangs or is killed can still be reproduced.
    if (Number(process.env['FUZZ_SCALE'] ?? '1') > 1) console.log(`fuzz ${plan.surface}: running ${plan.runs} cases, seed ${plan.seed}`);
  }

  /**
   * Runs one case. Returns the result when it works and undefined after a typed error (checked by
   * `checkTyped` too, when given); rethrows anything else with the surface, seed and input.
   */
  async run<T>(input: () => string, fn: () => T | Promise<T>, checkTyped?: (e: QKerasError) => void): Promise<T | undefined> {
    this.trace(input);
    try {
      const value = await fn();
      this.ok += 1;
      return value;
    } catch (e) {
      return this.failed(e, input, checkTyped);
    }
  }

  /** Sync variant of `run` (fast-check sync properties). */
  runSync<T>(input: () => string, fn: () => T, checkTyped?: (e: QKerasError) => void): T | undefined {
    this.trace(input);
    try {
      const value = fn();
      this.ok += 1;
      return value;
    } catch (e) {
      return this.failed(e, input, checkTyped);
    }
  }

  /** FUZZ_TRACE=1 prints every input before it runs: the last line names a case that hangs. */
  private trace(input: () => string): void {
    if (process.env['FUZZ_TRACE'] === '1') process.stderr.write(`fuzz ${this.plan.surface} case ${this.ok + this.typed}: ${input().slice(0, 500)}\n`);
  }

  private failed(e: unknown, input: () => string, checkTyped?: (e: QKerasError) => void): undefined {
    if (e instanceof QKerasError && e.message.trim() !== '' && !e.message.includes('[object Object]')) {
      checkTyped?.(e);
      this.typed += 1;
      this.classes.set(e.constructor.name, (this.classes.get(e.constructor.name) ?? 0) + 1);
      return undefined;
    }
    const what = e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-error thrown: ${String(e)}`;
    throw new Error(`fuzz ${this.plan.surface} (seed ${this.plan.seed}): an untyped error escaped: ${what}\n  input: ${input().slice(0, 2000)}`, { cause: e });
  }

  /** Prints and returns the surface's line; expects every planned case to have run. */
  report(): string {
    const total = this.ok + this.typed;
    const classes = [...this.classes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    const line =
      `fuzz ${this.plan.surface}: ${total} cases (${this.ok} worked, ${this.typed} typed errors` +
      `${classes === '' ? '' : `: ${classes}`}), seed ${this.plan.seed}`;
    console.log(line);
    expect(total).toBeGreaterThanOrEqual(this.plan.runs);
    return line;
  }
}

/** fast-check parameters of a plan: its seed and count, no shrinking (a failure reports its input). */
export function fcParams(plan: FuzzPlan): { seed: number; numRuns: number; endOnFailure: true } {
  return { seed: plan.seed, numRuns: plan.runs, endOnFailure: true };
}
