/**
 * A second simulator: Icarus Verilog (strict -g2005) runs a sample of vectors through parallel and
 * stream designs with back-pressure and must equal the golden model (and so Verilator) bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { IVERILOG, VVP, findOptionalTool } from '../../src/sim/tools.js';
import { runIverilog } from '../../src/sim/iverilog-runner.js';
import { randomCodes, testGraphs } from '../codegen/verilog-graphs.js';
import { firstDifference, goldenCodes } from './verilog-check.js';

const iverilog = findOptionalTool(IVERILOG);
const vvp = findOptionalTool(VVP);
const SAMPLES = 25;

describe.skipIf(iverilog === null || vvp === null)(`Icarus Verilog cross-check${iverilog === null || vvp === null ? ' (skipped: iverilog not installed)' : ''}`, () => {
  const cases: { name: string; arch: 'parallel' | 'stream'; reuse?: number }[] = [
    { name: 'mlp_mix', arch: 'parallel' },
    { name: 'binary_mlp', arch: 'parallel' },
    { name: 'all_kinds', arch: 'parallel' },
    { name: 'ties', arch: 'stream' },
    { name: 'cnn', arch: 'stream', reuse: 2 },
    { name: 'pools', arch: 'stream' },
  ];
  const graphs = new Map(testGraphs().map((t) => [t.name, t.graph]));
  for (const c of cases) {
    it(`${c.name} (${c.arch}${c.reuse === undefined ? '' : `, reuse ${c.reuse}`}): ${SAMPLES} samples`, async () => {
      const g = graphs.get(c.name)!;
      const samples = randomCodes(g, SAMPLES, 606);
      const run = await runIverilog(generateVerilog(g, { arch: c.arch, reuse: c.reuse }), samples, { seed: 3, inGap: 0.2, outStall: 0.2 });
      expect(firstDifference(g, run.outputs, goldenCodes(g, samples))).toBeNull();
    }, 300_000);
  }
});
