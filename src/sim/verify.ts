/**
 * `verify`: runs a hardware back-end (the emitted C, or the emitted Verilog in Verilator) and the golden
 * model on the same inputs — generated ones that sweep each input quantizer's range (saturation and
 * rounding ties included) and any given ones — and compares every output code. On a difference it
 * rebuilds the design with every node as an output and reports the first layer (in graph order) and
 * element where the back-end departs from the golden model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import { withOutputs } from '../ir/graph.js';
import type { IntType, Node } from '../ir/nodes.js';
import { codeRange, gridFrac } from '../ir/fixed.js';
import { emitC } from '../codegen/c.js';
import { generateVerilog, type VerilogOptions } from '../codegen/verilog.js';
import type { VerilogArch } from '../codegen/verilog-manifest.js';
import { ConfigError } from '../errors.js';
import { buildC, locateMismatch } from './c-runner.js';
import { quantizeSample, runIRFromCodes, type CodeMatrix } from './codes.js';
import { buildVerilator, runVerilog, type SimOptions } from './verilator-runner.js';
import type { RunTiming } from './verilog-trace.js';
import { mulberry32 } from '../utils/mulberry32.js';

export type VerifyTarget = 'c' | 'verilog';
export const VERIFY_TARGETS: readonly VerifyTarget[] = ['c', 'verilog'];

export interface VerifyOptions {
  readonly target: VerifyTarget;
  /** Verilog: the architecture (default parallel), reuse factors and pipeline depth. */
  readonly arch?: VerilogArch;
  readonly reuse?: VerilogOptions['reuse'];
  readonly pipeline?: number;
  /** Verilog (parallel): share sub-expressions across each layer's constant products. */
  readonly share?: boolean;
  /** Real inputs to check besides the generated ones: one flat row-major array per sample (one-input graphs). */
  readonly given?: readonly (readonly number[])[];
  /** How many inputs to generate (default 1000). */
  readonly generated?: number;
  readonly seed?: number;
  /** Verilog: random input gaps and back-pressure during the run (default true). */
  readonly backpressure?: boolean;
  /**
   * The graph the back-end is built from, when it is not the verified graph itself: checks the hardware
   * of a modified or re-lowered graph against the model (its inputs and outputs must match).
   */
  readonly designGraph?: Graph;
}

/** Where a back-end's result first differs from the golden model. */
export interface Mismatch {
  readonly sample: number;
  readonly source: 'generated' | 'given';
  /** The graph output (node id and layer) and flat element index that differ. */
  readonly output: string;
  readonly outputLayer: string;
  readonly index: number;
  readonly got: number;
  readonly want: number;
  /** The earliest node in graph order whose value differs for that sample (null if not located). */
  readonly firstLayer: { readonly node: string; readonly layer: string; readonly index: number; readonly got: number; readonly want: number } | null;
}

export interface VerifyReport {
  readonly target: VerifyTarget;
  readonly arch: VerilogArch | null;
  readonly samples: number;
  readonly generated: number;
  readonly given: number;
  /** Output codes compared. */
  readonly codes: number;
  /** Samples with at least one differing code. */
  readonly mismatchedSamples: number;
  readonly first: Mismatch | null;
  /** Verilog: the measured timing of the run. */
  readonly timing: RunTiming | null;
  readonly seconds: number;
}

/**
 * Real inputs that exercise an input quantizer: uniform over 1.25 times its range (saturation on both
 * sides), a third of them exactly halfway between two codes (rounding ties).
 */
export function generateInputs(g: Graph, count: number, seed: number): number[][][] {
  const r = mulberry32(seed);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  return Array.from({ length: count }, () =>
    g.inputs.map((id) => {
      const n = byId.get(id)!;
      const t = n.type as IntType;
      const range = codeRange(t);
      const step = 2 ** -gridFrac(t);
      const lo = Number(range.lo);
      const hi = Number(range.hi);
      const span = Math.max(1, hi - lo);
      const size = n.shape.reduce((a, b) => a * b, 1);
      return Array.from({ length: size }, () => {
        const u = r();
        if (u < 1 / 3) return (Math.floor(lo + r() * span) + 0.5) * step;
        return (lo - span / 8 + r() * span * 1.25) * step;
      });
    }),
  );
}

function sizeOf(n: Node): number {
  return n.shape.reduce((a, b) => a * b, 1);
}

/** Runs the back-end on input codes; returns `[sample][output][element]` codes. */
async function runTarget(g: Graph, codes: readonly (readonly (readonly number[])[])[], options: VerifyOptions, dir: string): Promise<{ outputs: number[][][]; timing: RunTiming | null }> {
  if (options.target === 'verilog') {
    const design = generateVerilog(g, { arch: options.arch ?? 'parallel', reuse: options.reuse, pipeline: options.pipeline, share: options.share });
    const model = await buildVerilator(design);
    const sim: SimOptions = options.backpressure === false ? {} : { seed: options.seed ?? 1, inGap: 0.2, outStall: 0.2 };
    const run = await runVerilog(model, codes, sim);
    return { outputs: run.outputs, timing: run.timing };
  }
  const emitted = emitC(g, join(dir, 'model'));
  const exe = await buildC(emitted, { buildDir: join(dir, 'build') });
  const width = codes[0]?.reduce((a, c) => a + c.length, 0) ?? 0;
  const data = new Float64Array(codes.length * width);
  codes.forEach((s, k) => data.set(s.flat(), k * width));
  const res = await exe.run({ count: codes.length, width, data });
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const outs = res.outputs;
  return {
    outputs: Array.from({ length: outs.count }, (_, k) => {
      let off = k * outs.width;
      return g.outputs.map((id) => {
        const size = sizeOf(byId.get(id)!);
        const v = Array.from(outs.data.subarray(off, off + size));
        off += size;
        return v;
      });
    }),
    timing: null,
  };
}

/** Both graphs with every non-input node as an output (same node ids: the design graph mirrors the model). */
function probes(g: Graph, hw: Graph): { nodes: Node[]; want: Graph; got: Graph } {
  const ids = new Set(hw.nodes.map((n) => n.id));
  const nodes = g.nodes.filter((n) => n.kind !== 'input' && ids.has(n.id));
  const outs = nodes.map((n) => n.id);
  return { nodes, want: withOutputs(g, outs), got: withOutputs(hw, outs) };
}

/** The earliest node (graph order) whose value differs on one sample, for the Verilog back-end. */
async function locateVerilog(g: Graph, hw: Graph, sample: readonly (readonly number[])[], options: VerifyOptions): Promise<Mismatch['firstLayer']> {
  const { nodes, want: wantGraph, got: gotGraph } = probes(g, hw);
  const design = generateVerilog(gotGraph, { arch: 'parallel', pipeline: options.pipeline, share: options.share });
  const run = await runVerilog(await buildVerilator(design), [sample]);
  const want = runIRFromCodes(wantGraph, sample);
  for (let o = 0; o < nodes.length; o += 1) {
    const got = run.outputs[0]![o]!;
    const w = want[o]!.data;
    for (let i = 0; i < w.length; i += 1) {
      if (got[i] !== w[i]) return { node: nodes[o]!.id, layer: nodes[o]!.origin.layer, index: i, got: got[i]!, want: w[i]! };
    }
  }
  return null;
}

/** As locateVerilog, for C built from a different graph than the verified one. */
async function locateC(g: Graph, hw: Graph, m: CodeMatrix, dir: string): Promise<Mismatch['firstLayer']> {
  const { nodes, want: wantGraph, got: gotGraph } = probes(g, hw);
  const emitted = emitC(gotGraph, join(dir, 'model'));
  const exe = await buildC(emitted, { buildDir: join(dir, 'build') });
  const got = (await exe.run(m)).outputs.data;
  const want = runIRFromCodes(wantGraph, [Array.from(m.data)]);
  let off = 0;
  for (let o = 0; o < nodes.length; o += 1) {
    const w = want[o]!.data;
    for (let i = 0; i < w.length; i += 1) {
      if (got[off + i] !== w[i]) return { node: nodes[o]!.id, layer: nodes[o]!.origin.layer, index: i, got: got[off + i]!, want: w[i]! };
    }
    off += w.length;
  }
  return null;
}

/** Verifies a back-end against the golden model (see the module comment). */
export async function verifyGraph(g: Graph, options: VerifyOptions): Promise<VerifyReport> {
  if (!VERIFY_TARGETS.includes(options.target)) throw new ConfigError('verify', 'target', options.target, '"c" or "verilog"');
  const started = Date.now();
  const seed = options.seed ?? 1;
  const gen = generateInputs(g, options.generated ?? 1000, seed);
  const given = (options.given ?? []).map((s) => [Array.from(s)]);
  const reals = [...gen, ...given];
  const codes = reals.map((s) => quantizeSample(g, s).map((a) => Array.from(a)));
  const dir = mkdtempSync(join(tmpdir(), 'qk-verify-'));
  try {
    const hw = options.designGraph ?? g;
    const { outputs, timing } = await runTarget(hw, codes, options, dir);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    let first: Mismatch | null = null;
    let mismatched = 0;
    let compared = 0;
    for (let k = 0; k < codes.length; k += 1) {
      const want = runIRFromCodes(g, codes[k]!);
      let bad = false;
      for (let o = 0; o < want.length; o += 1) {
        const t = want[o]!;
        const got = outputs[k]?.[o] ?? [];
        for (let i = 0; i < t.data.length; i += 1) {
          compared += 1;
          if (got[i] === t.data[i]) continue;
          bad = true;
          if (first === null) {
            const id = g.outputs[o]!;
            first = {
              sample: k < gen.length ? k : k - gen.length,
              source: k < gen.length ? 'generated' : 'given',
              output: id,
              outputLayer: byId.get(id)!.origin.layer,
              index: i,
              got: got[i] ?? NaN,
              want: t.data[i]!,
              firstLayer: null,
            };
          }
        }
      }
      if (bad) mismatched += 1;
    }
    if (first !== null) {
      const f = first as Mismatch;
      const k = f.source === 'generated' ? f.sample : f.sample + gen.length;
      let located: Mismatch['firstLayer'] = null;
      try {
        if (options.target === 'verilog') {
          located = await locateVerilog(g, hw, codes[k]!, options);
        } else {
          const m: CodeMatrix = { count: 1, width: codes[k]!.flat().length, data: Float64Array.from(codes[k]!.flat()) };
          const c = hw === g ? await locateMismatch(g, m, { buildDir: join(dir, 'locate') }) : await locateC(g, hw, m, join(dir, 'locate'));
          located = c === null ? null : { node: c.node, layer: c.layer, index: c.index, got: c.got, want: c.want };
        }
      } catch {
        located = null; // the comparison result stands even when localisation cannot run
      }
      first = { ...f, firstLayer: located };
    }
    return {
      target: options.target,
      arch: options.target === 'verilog' ? options.arch ?? 'parallel' : null,
      samples: codes.length,
      generated: gen.length,
      given: given.length,
      codes: compared,
      mismatchedSamples: mismatched,
      first,
      timing,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line describing a mismatch for people. */
export function describeMismatch(m: Mismatch): string {
  const where =
    m.firstLayer === null
      ? ''
      : `; first differing layer: ${JSON.stringify(m.firstLayer.layer)} (%${m.firstLayer.node}) element ${m.firstLayer.index}: got ${m.firstLayer.got}, expected ${m.firstLayer.want}`;
  return (
    `${m.source} input ${m.sample}: output ${JSON.stringify(m.outputLayer)} (%${m.output}) element ${m.index}: ` +
    `got code ${m.got}, golden model ${m.want}${where}`
  );
}
