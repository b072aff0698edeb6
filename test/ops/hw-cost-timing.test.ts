/**
 * Latency and initiation interval from `estimateHardware` equal what Verilator measures on the emitted
 * design (32 samples, no gaps or stalls, as `qkeras synth` measures them) in the stream architecture:
 * a dense chain unrolled (reuse 1), a CNN on line buffers and weight ROMs (reuse 3), pooling (strides,
 * same padding, average and global pooling) and forks to several outputs through the merge. Four
 * Verilator builds keep the test short. (Parallel latency for every pipeline depth equals the
 * manifest's in hw-cost-structure; test/sim/verilog-parallel holds the manifest to Verilator.)
 */
import { describe, expect, it } from 'vitest';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { estimateHardware } from '../../src/ops/hw-cost/index.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { buildVerilator, runVerilog } from '../../src/sim/verilator-runner.js';
import { randomCodes, testGraphs } from '../codegen/verilog-graphs.js';

const verilator = findOptionalTool(VERILATOR);
const SAMPLES = 32;

type Case = { name: string; arch: 'parallel' | 'stream'; reuse?: number | Record<string, number>; pipeline?: number };

const CASES: Case[] = [
  { name: 'mlp_mix', arch: 'stream', reuse: 1 },
  { name: 'cnn', arch: 'stream', reuse: 3 },
  { name: 'pools', arch: 'stream', reuse: 3 },
  { name: 'ties', arch: 'stream', reuse: 3 },
];

describe.skipIf(verilator === null)(`estimated latency and II === Verilator${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
  const graphs = new Map(testGraphs().map((t) => [t.name, t.graph]));
  for (const c of CASES) {
    it(`${c.name} ${c.arch} ${JSON.stringify(c.reuse ?? { pipeline: c.pipeline })}`, async () => {
      const g = graphs.get(c.name)!;
      const options = { arch: c.arch, ...(c.reuse === undefined ? {} : { reuse: c.reuse }), ...(c.pipeline === undefined ? {} : { pipeline: c.pipeline }) };
      const est = estimateHardware(g, { ...options, samples: SAMPLES });
      const run = await runVerilog(await buildVerilator(generateVerilog(g, options)), randomCodes(g, SAMPLES, 9));
      expect(est.total.latency_cycles).toBe(run.timing.latency);
      expect(est.total.ii).toBe(run.timing.meanInterval);
    }, 300_000);
  }
});
