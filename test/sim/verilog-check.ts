/**
 * Shared checks of the Verilog simulation tests: runs a graph's design in Verilator and compares every
 * output code of every sample with the golden model, reporting the first difference by sample, output
 * and element.
 */
import { expect } from 'vitest';
import type { Graph } from '../../src/ir/index.js';
import { generateVerilog, type VerilogOptions } from '../../src/codegen/verilog.js';
import { buildVerilator, runVerilog, type SimOptions, type VerilogRun } from '../../src/sim/verilator-runner.js';
import { runIRFromCodes } from '../../src/sim/codes.js';

/** The golden outputs of each sample, `[sample][output][element]`. */
export function goldenCodes(g: Graph, samples: readonly (readonly (readonly number[])[])[]): number[][][] {
  return samples.map((s) => runIRFromCodes(g, s).map((t) => Array.from(t.data)));
}

/** First difference between simulated and golden codes, as readable text, or null. */
export function firstDifference(g: Graph, got: readonly (readonly (readonly number[])[])[], want: readonly (readonly (readonly number[])[])[]): string | null {
  if (got.length !== want.length) return `${got.length} samples simulated, ${want.length} expected`;
  for (let s = 0; s < want.length; s += 1) {
    for (let o = 0; o < want[s]!.length; o += 1) {
      const a = got[s]![o]!;
      const b = want[s]![o]!;
      for (let i = 0; i < b.length; i += 1) {
        if (a[i] !== b[i]) return `sample ${s}, output %${g.outputs[o]}, element ${i}: Verilog ${a[i]}, golden ${b[i]}`;
      }
      if (a.length !== b.length) return `sample ${s}, output %${g.outputs[o]}: ${a.length} elements, expected ${b.length}`;
    }
  }
  return null;
}

/** Builds the design, runs the samples, and expects every code to equal the golden model's. */
export async function expectBitExact(
  g: Graph,
  options: VerilogOptions,
  samples: readonly (readonly (readonly number[])[])[],
  sim: SimOptions,
): Promise<VerilogRun> {
  const model = await buildVerilator(generateVerilog(g, options));
  const run = await runVerilog(model, samples, sim);
  expect(firstDifference(g, run.outputs, goldenCodes(g, samples))).toBeNull();
  return run;
}
