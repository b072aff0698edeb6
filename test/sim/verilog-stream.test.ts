/**
 * The stream architecture in Verilator equals the golden model bit for bit: every streamable test graph
 * (dense chains, convolutions with same/valid/causal padding, strides and dilation, depthwise and
 * pointwise, max/average/global pooling, flatten into dense, forks to several outputs) over 1,000 random
 * input vectors with random input gaps and random back-pressure, with reuse 1 (constant weights
 * unrolled) and, for the dense chain, the CNN and conv1d, with reuse 3 (weight ROMs, three cycles per word).
 */
import { describe, expect, it } from 'vitest';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { buildVerilator, runVerilog } from '../../src/sim/verilator-runner.js';
import { randomCodes, testGraphs } from '../codegen/verilog-graphs.js';
import { firstDifference, goldenCodes } from './verilog-check.js';

const verilator = findOptionalTool(VERILATOR);
const VECTORS = 1000;

describe.skipIf(verilator === null)(`stream Verilog === runIR${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
  // Reuse 3 (weight ROMs) on the graphs whose MAC layers differ most: dense chain, CNN, conv1d.
  const withRom = new Set(['mlp_mix', 'cnn', 'conv_1d']);
  for (const tg of testGraphs().filter((t) => t.archs.includes('stream'))) {
    for (const reuse of withRom.has(tg.name) ? [1, 3] : [1]) {
      it(`${tg.name}, reuse ${reuse}: ${VECTORS} vectors with random gaps and back-pressure`, async () => {
        const design = generateVerilog(tg.graph, { arch: 'stream', reuse });
        const macs = design.manifest.layers.filter((l) => l.reuse !== undefined);
        expect(macs.length).toBeGreaterThan(0);
        if (reuse === 3) expect(macs.every((l) => l.datapath === 'rom')).toBe(true);
        const model = await buildVerilator(design);
        const samples = randomCodes(tg.graph, VECTORS, 2024 + reuse);
        const run = await runVerilog(model, samples, { seed: 7 + reuse, inGap: 0.3, outStall: 0.3 });
        expect(firstDifference(tg.graph, run.outputs, goldenCodes(tg.graph, samples))).toBeNull();
      }, 300_000);
    }
  }

  it('a streamed design keeps its throughput without back-pressure and slows down with it', async () => {
    const tg = testGraphs().find((t) => t.name === 'cnn')!;
    const model = await buildVerilator(generateVerilog(tg.graph, { arch: 'stream' }));
    const samples = randomCodes(tg.graph, 50, 11);
    const free = await runVerilog(model, samples);
    const pressed = await runVerilog(model, samples, { seed: 2, outStall: 0.5, inGap: 0.5 });
    expect(pressed.outputs).toEqual(free.outputs);
    // 64 input pixels per image: a free-running stream takes them at about one per clock.
    expect(free.timing.meanInterval).toBeLessThan(2 * 64);
    expect(pressed.timing.meanInterval).toBeGreaterThan(free.timing.meanInterval);
  }, 300_000);
});
