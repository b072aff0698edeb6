/**
 * The hardware-cost estimator's structure, without synthesis: the carry-save cell counts of small sums
 * (exact), the datapath and reuse factor of every layer equal to what the emitter's manifest reports,
 * the parallel latency equal to the manifest's for every pipeline depth, register bits equal to the
 * generated top's `qk_delay` bits, small cones costed as LUT tables and the cone-aware fit, shared
 * sub-expressions lowering the adder count, and option errors.
 */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { estimateHardware } from '../../src/ops/hw-cost/index.js';
import { maccBitCells, maccCells } from '../../src/ops/hw-cost/macc.js';
import { romInBlockRam } from '../../src/ops/hw-cost/stream.js';
import { fitCoefficients, fitWithCones, nnls } from '../../src/ops/hw-cost/fit.js';
import { partCells, tabledCones } from '../../src/ops/hw-cost/cost-model.js';
import { emptyFeatures, type Cone, type Features } from '../../src/ops/hw-cost/features.js';
import { testGraphs } from '../codegen/verilog-graphs.js';
import { buildDesign, calibrationGrid } from './hw-cost-grid.js';

describe('carry-save cells of a multi-operand sum (maccmap model)', () => {
  it('counts full adders, half adders and carry-propagate bits exactly', () => {
    // Two 4-bit operands in 8 bits: one carry-propagate adder and its carry out.
    expect(maccCells(8, [{ width: 4, shift: 0 }, { width: 4, shift: 0 }])).toEqual({ fa: 0, ha: 0, cpa2: 4, cpa1: 1 });
    // Three: one row of full adders first; its sum and carry rows overlap in bits 1..3.
    expect(maccCells(8, [{ width: 4, shift: 0 }, { width: 4, shift: 0 }, { width: 4, shift: 0 }])).toEqual({ fa: 4, ha: 0, cpa2: 3, cpa1: 3 });
    // A shifted operand only overlaps partly; bits at or above the width vanish.
    expect(maccCells(6, [{ width: 4, shift: 0 }, { width: 4, shift: 4 }])).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 0 });
    expect(maccCells(6, [{ width: 4, shift: 8 }])).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 0 });
    // A constant in other bits than the operand is wiring; overlapping, it needs a carry chain.
    expect(maccCells(8, [{ width: 4, shift: 2 }], 3n)).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 0 });
    expect(maccCells(8, [{ width: 4, shift: 0 }], 3n)).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 5 });
    // The carry runs on through constant one bits (0x33: bits 4 and 5).
    expect(maccCells(8, [{ width: 4, shift: 0 }], 0x33n)).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 7 });
    // Constants alone cost nothing.
    expect(maccCells(8, [], 5n)).toEqual({ fa: 0, ha: 0, cpa2: 0, cpa1: 0 });
  });

  it('sign-extended operands fill every column up to the sum width', () => {
    expect(maccCells(8, [{ width: 3, shift: 0 }, { width: 3, shift: 0 }], 0n, true)).toEqual({ fa: 0, ha: 0, cpa2: 8, cpa1: 0 });
  });

  it('full adders with the same inputs (sign-extension columns) are counted once', () => {
    // Three one-bit signed operands in 3 bits: the same full adder in every column, then the carry chain.
    expect(maccCells(3, [{ width: 1, shift: 0 }, { width: 1, shift: 0 }, { width: 1, shift: 0 }], 0n, true)).toEqual({ fa: 1, ha: 0, cpa2: 2, cpa1: 1 });
    expect(maccBitCells(3, [0, 1, 2].map((id) => ({ shift: 0, bits: [id, id, id] })))).toEqual({ fa: 1, ha: 0, cpa2: 2, cpa1: 1 });
    // Distinct signals: as many full adders as columns of three.
    expect(maccBitCells(3, [0, 3, 6].map((id) => ({ shift: 0, bits: [id, id + 1, id + 2] })))).toEqual({ fa: 3, ha: 0, cpa2: 2, cpa1: 1 });
    // 32 six-bit products sign-extended into 15 bits (a streamed MAC channel): half the full adders of
    // the column count.
    const products = Array.from({ length: 32 }, () => ({ width: 6, shift: 0 }));
    expect(maccCells(15, products, 0n, true).fa).toBeLessThan(maccCells(15, products.map(() => ({ width: 15, shift: 0 }))).fa / 2 + 1);
  });
});

describe('weight ROMs in block RAM (synth_xilinx memory_libmap costs)', () => {
  it('large ROMs go to block RAM, small ones to logic', () => {
    // The MNIST CNN's dense layer: 576 words of 960 bits (Yosys: 27 RAMB36); 256 x 120 bits stays logic.
    expect(romInBlockRam(576, 960)).toBe(true);
    expect(romInBlockRam(400, 240)).toBe(true);
    expect(romInBlockRam(256, 120)).toBe(false);
    expect(romInBlockRam(64, 480)).toBe(false);
  });
});

describe('non-negative least squares', () => {
  it('recovers non-negative coefficients and clamps a negative one to zero', () => {
    const A = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const x = nnls(A, [2, 3, 5]);
    expect(x.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([2, 3]);
    const y = nnls(A, [2, -3, -1]);
    expect(y[1]).toBe(0);
    expect(y[0]!).toBeGreaterThan(0);
  });
});

describe('small cones as tables', () => {
  const model = { logic: { ...emptyFeatures(), fa: 2, ha: 1 }, memFlipFlops: 0 };
  const feats = (fa: number, ha: number): Features => ({ ...emptyFeatures(), fa, ha });

  it('a cone costs its table when that is cheaper than its adders, else its adders', () => {
    // 2 output bits of a 7-input function: 2 × 2 LUT6; its 5 full adders would cost 10.
    const small: Cone = { features: feats(5, 0), support: 7, bits: 2, count: 1 };
    expect(tabledCones(model, [small])).toEqual({ features: feats(5, 0), luts: 4 });
    expect(partCells(model, feats(10, 0), [small])).toBe(2 * 5 + 4);
    // 3 bits of a 10-input function: 48 LUTs, more than its adders.
    const wide: Cone = { features: feats(5, 0), support: 10, bits: 3, count: 2 };
    expect(tabledCones(model, [wide]).luts).toBe(0);
    expect(partCells(model, feats(10, 0), [wide])).toBe(20);
  });

  it('the fit recovers the coefficients of data built with tabled cones', () => {
    const cone: Cone = { features: feats(8, 0), support: 6, bits: 2, count: 1 };
    const rows = [
      { features: feats(10, 4), cones: [], measured: 24 },
      { features: feats(20, 10), cones: [cone], measured: 2 * 12 + 10 + 2 },
      { features: feats(5, 20), cones: [], measured: 30 },
    ];
    // A plain fit is thrown off by the tabled cone; the cone-aware fit is exact.
    expect(fitCoefficients(rows, 1).fa).not.toBeCloseTo(2, 2);
    const fit = fitWithCones(rows, 1);
    expect(fit.fa).toBeCloseTo(2, 3);
    expect(fit.ha).toBeCloseTo(1, 3);
  });
});

describe('the estimator follows the emitter', () => {
  it('datapath and reuse of every layer equal the manifest (every node kind, both architectures, reuse 1 and 3)', () => {
    const cases: { name: string; graph: Graph; arch: 'parallel' | 'stream'; reuse: number | Record<string, number> }[] = testGraphs().flatMap((t) =>
      t.archs.flatMap((arch) => (arch === 'stream' ? [1, 3] : [1]).map((reuse) => ({ name: t.name, graph: t.graph, arch, reuse }))),
    );
    cases.push({ name: 'mlp_mix', graph: testGraphs()[0]!.graph, arch: 'stream', reuse: { fc1: 2, fc4: 4 } });
    for (const c of cases) {
      const design = generateVerilog(c.graph, { arch: c.arch, reuse: c.reuse });
      const est = estimateHardware(c.graph, { arch: c.arch, reuse: c.reuse });
      const where = `${c.name} ${c.arch} reuse ${JSON.stringify(c.reuse)}`;
      expect(est.layers.map((l) => l.name), where).toEqual(design.manifest.layers.map((l) => l.layer));
      expect(est.layers.map((l) => l.datapath ?? undefined), where).toEqual(design.manifest.layers.map((l) => l.datapath));
      if (c.arch === 'stream') expect(est.layers.map((l) => l.reuse ?? undefined), where).toEqual(design.manifest.layers.map((l) => l.reuse));
    }
  });

  it('parallel latency equals the manifest for pipeline depths 0..2, and flip-flops equal the register bits', () => {
    for (const t of testGraphs()) {
      for (const pipeline of [0, 1, 2]) {
        const design = generateVerilog(t.graph, { arch: 'parallel', pipeline });
        const est = estimateHardware(t.graph, { arch: 'parallel', pipeline });
        const ports = design.manifest.ports;
        if (ports.kind !== 'parallel') throw new Error('expected parallel ports');
        expect(est.total.latency_cycles, `${t.name} pipeline ${pipeline}`).toBe(ports.latency);
        expect(est.total.ii).toBe(1);
        const top = design.files[0]!.text;
        const bits = [...top.matchAll(/qk_delay #\(\.W\((\d+)\), \.D\((\d+)\)/g)].reduce((a, m) => a + Number(m[1]) * Number(m[2]), 0);
        expect(est.total.ffs, `${t.name} pipeline ${pipeline}`).toBe(bits);
      }
    }
  });

  it('sharing sub-expressions gives fewer additions and fewer estimated LUTs on a dense layer', () => {
    const spec = calibrationGrid().find((s) => s.name === 'mlp_b4_12x6_in4')!;
    const g = buildDesign(spec);
    const plain = estimateHardware(g, { arch: 'parallel' });
    const shared = estimateHardware(g, { arch: 'parallel', share: true });
    expect(shared.layers[0]!.additions).toBeLessThan(plain.layers[0]!.additions);
    expect(shared.total.luts).toBeLessThan(plain.total.luts);
  });

  it('refuses bad options with the field and the allowed values', () => {
    const g = testGraphs()[0]!.graph;
    expect(() => estimateHardware(g, { arch: 'systolic' as 'parallel' })).toThrow(/arch.*"parallel" or "stream"/);
    expect(() => estimateHardware(g, { arch: 'parallel', family: 'ice40' as 'xilinx' })).toThrow(/family.*"xilinx", "generic"/);
    expect(() => estimateHardware(g, { arch: 'stream', share: true })).toThrow(/share/);
    expect(() => estimateHardware(g, { arch: 'stream', reuse: 0 })).toThrow(/reuse factor 0 must be a positive integer/);
    expect(() => estimateHardware(g, { arch: 'parallel', pipeline: -1 })).toThrow(/pipeline/);
  });
});
