/**
 * Icarus Verilog as a second simulator: compiles a design with the hw-sim/iverilog testbench (strict
 * Verilog-2005, `-g2005`) and runs samples through it with the same protocol as the Verilator harness,
 * so a sample of vectors can be cross-checked against Verilator and the golden model. Slower than
 * Verilator by orders of magnitude: meant for tens of samples, not thousands.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerilogDesign } from '../codegen/verilog.js';
import { encodeSample, outputWordsPerSample } from '../codegen/verilog-manifest.js';
import { busHex } from '../codegen/verilog-format.js';
import { simAssetPath } from '../codegen/render.js';
import { IVERILOG, VVP, ToolError, findTool, runTool, type Tool } from './tools.js';
import { finishRun, parseTrace, type VerilogRun } from './verilog-trace.js';
import { writeDesignFiles } from './verilator-runner.js';

export interface IverilogOptions {
  readonly iverilog?: Tool;
  readonly vvp?: Tool;
  readonly seed?: number;
  /** Probability (0..1) of a gap cycle before each input word. */
  readonly inGap?: number;
  /** Probability (0..1) that out_ready is low on a cycle. */
  readonly outStall?: number;
  readonly maxCycles?: number;
  readonly timeoutMs?: number;
}

function permille(p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v < 1)) throw new RangeError(`a probability in [0, 1) is needed, got ${v}`);
  return Math.round(v * 1000);
}

/** Compiles the design with the Icarus testbench and runs `samples` (codes per graph input) through it. */
export async function runIverilog(design: VerilogDesign, samples: readonly (readonly (readonly number[])[])[], options: IverilogOptions = {}): Promise<VerilogRun> {
  const iverilog = options.iverilog ?? findTool(IVERILOG);
  const vvp = options.vvp ?? findTool(VVP);
  const m = design.manifest;
  const words = samples.flatMap((s) => encodeSample(m, s));
  const expected = outputWordsPerSample(m) * samples.length;
  const dir = writeDesignFiles(design, mkdtempSync(join(tmpdir(), 'qkeras-iv-')));
  try {
    writeFileSync(join(dir, 'tb.v'), readFileSync(simAssetPath('iverilog', 'tb.v'), 'utf8'));
    writeFileSync(join(dir, 'in.hex'), `${words.map(busHex).join('\n')}\n`);
    const params: Record<string, number> = {
      IN_W: m.ports.inWidth,
      OUT_W: m.ports.outWidth,
      N_IN: words.length,
      N_OUT: expected,
      IN_GAP: permille(options.inGap),
      OUT_STALL: permille(options.outStall),
      SEED: options.seed ?? 1,
      MAX_CYCLES: options.maxCycles ?? 1000 + 64 * (words.length + expected) * 1000,
    };
    const timeoutMs = options.timeoutMs ?? 600_000;
    await runTool(
      iverilog,
      [
        '-g2005',
        `-DQK_DUT=${m.top}`,
        ...Object.entries(params).map(([k, v]) => `-Pqk_tb.${k}=${v}`),
        '-s',
        'qk_tb',
        '-o',
        'sim.vvp',
        'tb.v',
        ...design.files.map((f) => f.name),
      ],
      { cwd: dir, timeoutMs, what: `compiling ${m.top} with Icarus Verilog` },
    );
    await runTool(vvp, ['-n', 'sim.vvp'], { cwd: dir, timeoutMs, what: `simulating ${m.top} with Icarus Verilog` });
    const trace = parseTrace(readFileSync(join(dir, 'out.txt'), 'utf8'));
    if (trace.outWords.length < expected) {
      throw new ToolError(`Icarus simulation of ${m.top} stopped after ${trace.cycles} cycles with ${trace.outWords.length} of ${expected} output words`);
    }
    return finishRun(m, trace, samples.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
