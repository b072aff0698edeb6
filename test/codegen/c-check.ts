/**
 * Emit → compile → run → compare for the C back-end tests: random input codes over each input type's full
 * range (and the all-minimum / all-maximum samples), the emitted model built once with the harness, all
 * vectors run in one process, and the outputs compared code for code with the golden interpreter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph, IntType } from '../../src/ir/index.js';
import { codeRange } from '../../src/ir/index.js';
import { emitC, type EmitCOptions, type EmitCResult } from '../../src/codegen/c.js';
import { buildC, locateMismatch, type CBuildOptions, type NodeMismatch } from '../../src/sim/c-runner.js';
import { firstMismatch, goldenOutputs, inputWidth, type CodeMatrix } from '../../src/sim/codes.js';
import { rng } from '../ir/reference.js';

/** Every code a value of type `t` can take (fixed types: the interval; po2: signed powers of two). */
function codeSampler(t: IntType): (r: () => number) => number {
  switch (t.kind) {
    case 'fixed': {
      const { lo, hi } = codeRange(t);
      const l = Number(lo);
      const span = Number(hi) - l + 1;
      return (r) => l + Math.floor(r() * span);
    }
    case 'binary':
      return t.zeroOne ? (r) => (r() < 0.5 ? 0 : 1) : (r) => (r() < 0.5 ? -1 : 1);
    case 'ternary':
      return (r) => Math.floor(r() * 3) - 1;
    case 'po2': {
      const codes: number[] = [];
      for (let e = 0; e <= t.expMax - t.expMin; e += 1) {
        codes.push(2 ** e);
        if (t.signed) codes.push(-(2 ** e));
      }
      if (t.zero) codes.push(0);
      return (r) => codes[Math.floor(r() * codes.length)]!;
    }
    default:
      throw new Error('float input');
  }
}

function extremes(t: IntType): [number, number] {
  if (t.kind === 'binary') return t.zeroOne ? [0, 1] : [-1, 1];
  if (t.kind === 'ternary') return [-1, 1];
  const { lo, hi } = codeRange(t);
  if (t.kind === 'po2' && !t.signed) return [t.zero ? 0 : 1, Number(hi)];
  return [Number(lo), Number(hi)];
}

/**
 * `count` samples of input codes: sample 0 all minimum codes, sample 1 all maximum, samples 2 and 3
 * alternating extremes, the rest uniformly random over each input type's codes.
 */
export function inputCodes(graph: Graph, count: number, seed = 1): CodeMatrix {
  const r = rng(seed);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const cells: { sample: (r: () => number) => number; lo: number; hi: number }[] = [];
  for (const id of graph.inputs) {
    const n = byId.get(id)!;
    const t = n.type as IntType;
    const [lo, hi] = extremes(t);
    const sample = codeSampler(t);
    const size = n.shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < size; i += 1) cells.push({ sample, lo, hi });
  }
  const width = inputWidth(graph);
  const data = new Float64Array(count * width);
  for (let k = 0; k < count; k += 1) {
    for (let i = 0; i < width; i += 1) {
      const c = cells[i]!;
      data[k * width + i] =
        k === 0 ? c.lo : k === 1 ? c.hi : k === 2 ? (i % 2 === 0 ? c.lo : c.hi) : k === 3 ? (i % 2 === 0 ? c.hi : c.lo) : c.sample(r);
    }
  }
  return { count, width, data };
}

export interface CheckResult {
  readonly emitted: EmitCResult;
  readonly count: number;
  readonly mismatch: ReturnType<typeof firstMismatch>;
  /** Output codes compared (samples × codes per sample). */
  readonly compared: number;
  /** On a mismatch: the first node (graph order) whose values differ. */
  readonly located: NodeMismatch | null;
}

export interface CheckOptions extends CBuildOptions {
  readonly count?: number;
  readonly seed?: number;
  readonly emit?: EmitCOptions;
}

/** Emits `graph`, builds it once, runs `count` vectors and compares every output code with runIR. */
export async function checkC(graph: Graph, options: CheckOptions = {}): Promise<CheckResult> {
  const dir = mkdtempSync(join(tmpdir(), 'qk-ctest-'));
  try {
    const emitted = emitC(graph, join(dir, 'model'), options.emit ?? {});
    const exe = await buildC(emitted, { ...options, buildDir: join(dir, 'build') });
    const inputs = inputCodes(graph, options.count ?? 1000, options.seed ?? 1);
    const got = await exe.run(inputs);
    const want = goldenOutputs(graph, inputs);
    const mismatch = firstMismatch(got.outputs, want);
    const located = mismatch === null ? null : await locateMismatch(graph, inputs, options);
    return { emitted, count: inputs.count, mismatch, compared: want.data.length, located };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
