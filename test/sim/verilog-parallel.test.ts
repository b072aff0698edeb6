/**
 * The parallel architecture in Verilator equals the golden model bit for bit: every test graph (every
 * node kind, both rounding rules, saturation, ties, the negative slope, sign/ternary/threshold/table
 * rules, int/po2/binary/ternary weights, per-channel exponents) over 1,000 random input vectors with
 * random gaps and back-pressure; and the measured initiation interval is one clock.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINE, gridFrac, withOutputs, type IntType } from '../../src/ir/index.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { buildVerilator, runVerilog } from '../../src/sim/verilator-runner.js';
import { runIRFromCodes } from '../../src/sim/codes.js';
import { randomCodes, testGraphs, ties } from '../codegen/verilog-graphs.js';
import { firstDifference, goldenCodes } from './verilog-check.js';

const verilator = findOptionalTool(VERILATOR);
const VECTORS = 1000;

describe.skipIf(verilator === null)(`parallel Verilog === runIR${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
  for (const tg of testGraphs().filter((t) => t.archs.includes('parallel'))) {
    it(`${tg.name}: ${VECTORS} vectors with random back-pressure, then II = 1`, async () => {
      const design = generateVerilog(tg.graph, { arch: 'parallel' });
      const model = await buildVerilator(design);
      const samples = randomCodes(tg.graph, VECTORS, 1234);
      const run = await runVerilog(model, samples, { seed: 99, inGap: 0.25, outStall: 0.25 });
      expect(firstDifference(tg.graph, run.outputs, goldenCodes(tg.graph, samples))).toBeNull();
      // Without gaps or stalls a result leaves every clock, the design's latency after its input.
      const free = await runVerilog(model, samples.slice(0, 100));
      expect(free.timing.minInterval).toBe(1);
      expect(free.timing.meanInterval).toBe(1);
      const ports = design.manifest.ports;
      if (ports.kind !== 'parallel') throw new Error('parallel ports expected');
      expect(free.timing.latency).toBe(ports.latency);
    }, 300_000);
  }

  it('pipeline depth option: no inner registers still equals runIR, with latency 1', async () => {
    const tg = testGraphs()[0]!;
    const design = generateVerilog(tg.graph, { arch: 'parallel', pipeline: 0 });
    expect(design.manifest.ports).toMatchObject({ kind: 'parallel', latency: 1 });
    const model = await buildVerilator(design);
    const samples = randomCodes(tg.graph, 300, 4321);
    const run = await runVerilog(model, samples, { seed: 5, outStall: 0.3 });
    expect(firstDifference(tg.graph, run.outputs, goldenCodes(tg.graph, samples))).toBeNull();
  }, 300_000);

  it('the ties graph really meets exact ties of both signs and both tie rules', () => {
    // The requantizers of the ties graph read the dense node: count samples whose codes sit on a tie.
    const g = ties();
    const dense = g.nodes.find((n) => n.id === 'dense')!;
    const fi = gridFrac(dense.type as IntType);
    const probe = withOutputs(g, ['dense']);
    const shifts = g.nodes
      .filter((n) => n.kind === 'requantize' && n.inputs[0] === 'dense' && n.requant.rule.kind === 'shift')
      .map((n) => (n.kind === 'requantize' && n.requant.rule.kind === 'shift' ? fi - (n.requant.rule.frac ?? fi) : 0));
    expect(shifts.length).toBe(3);
    let pos = 0;
    let neg = 0;
    for (const s of randomCodes(g, VECTORS, 1234)) {
      for (const v of runIRFromCodes(probe, s)[0]!.data) {
        for (const sh of shifts.filter((k) => k > 0)) {
          if (((v % 2 ** sh) + 2 ** sh) % 2 ** sh === 2 ** (sh - 1)) {
            if (v > 0) pos += 1;
            else neg += 1;
          }
        }
      }
    }
    expect(pos).toBeGreaterThan(500);
    expect(neg).toBeGreaterThan(500);
    expect(PIPELINE.some((p) => p.name === 'fuse-requantize')).toBe(true);
  });
});
