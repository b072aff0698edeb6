/**
 * Sub-expression sharing (`share: true`, parallel) in Verilator equals the golden model bit for bit:
 * the hls4ml jet tagger (QKeras 16-64-32-32-5, input quantized_bits(16,6,1)) on 1,000 generated inputs
 * (the input quantizer's whole range, saturating extremes included) with back-pressure, and a chain of
 * generated layers — ±1 inputs into 5-bit weights, then 4-bit, ternary, po2, mostly-zero 8-bit and 6-bit
 * weights — and the all-kinds test graph (two inputs; conv1d, conv2d, depthwise and average pooling share;
 * batch-norm, add and concat beside them) on 1,000 vectors each, starting with every input at its
 * minimum, its maximum and alternating. Every
 * design lints clean under `verilator --lint-only -Wall`; Icarus Verilog cross-checks a sample.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { importKeras } from '../../src/import/import-keras.js';
import { lowerModelDetailed } from '../../src/lower/lower-model.js';
import { GraphBuilder, codeRange, inputRequant, planRequant, runPipeline, type Graph, type IntType, type Requant } from '../../src/ir/index.js';
import { generateVerilog, type VerilogDesign } from '../../src/codegen/verilog.js';
import { IVERILOG, VERILATOR, VVP, findOptionalTool } from '../../src/sim/tools.js';
import { buildVerilator, lintDesign, runVerilog } from '../../src/sim/verilator-runner.js';
import { runIverilog } from '../../src/sim/iverilog-runner.js';
import { quantizeSample } from '../../src/sim/codes.js';
import { generateInputs } from '../../src/sim/verify.js';
import { rng } from '../ir/reference.js';
import { allKinds, randomCodes } from '../codegen/verilog-graphs.js';
import { firstDifference, goldenCodes } from './verilog-check.js';

const verilator = findOptionalTool(VERILATOR);
const iverilog = findOptionalTool(IVERILOG) !== null && findOptionalTool(VVP) !== null;
const SKIP = verilator === null ? ' (skipped: Verilator not installed)' : '';
const FIXTURES = new URL('../fixtures/models/', import.meta.url);
const VECTORS = 1000;

/** Layers of the design whose module declares shared terms. */
function sharedLayers(d: VerilogDesign): string[] {
  return d.manifest.layers.filter((l) => d.files.find((f) => f.name === `${l.module}.v`)!.text.includes('u_mv_s0 =')).map((l) => l.layer);
}

async function expectCleanLint(d: VerilogDesign): Promise<void> {
  const lint = await lintDesign(d);
  expect(lint.messages).toBe('');
  expect(lint.ok).toBe(true);
}

/** Samples with every input at its minimum, at its maximum and alternating, then random codes. */
function extremesThenRandom(g: Graph, count: number, seed: number): number[][][] {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const pick = (f: (lo: number, hi: number, i: number) => number): number[][] =>
    g.inputs.map((id) => {
      const n = byId.get(id)!;
      const t = n.type as IntType;
      const pm = t.kind === 'binary' && !t.zeroOne;
      const r = codeRange(t);
      const size = n.shape.reduce((a, c) => a * c, 1);
      return Array.from({ length: size }, (_, i) => (pm ? (f(-1, 1, i) < 0 ? -1 : 1) : f(Number(r.lo), Number(r.hi), i)));
    });
  const edges = [pick((lo) => lo), pick((_, hi) => hi), pick((lo, hi, i) => (i % 2 === 0 ? lo : hi)), pick((lo, hi, i) => (i % 2 === 0 ? hi : lo))];
  return [...edges, ...randomCodes(g, count - edges.length, seed)];
}

function requant(className: string, config: Record<string, unknown>): Requant {
  const p = planRequant({ className, config });
  if (p.kind !== 'exact' || p.requant === null) throw new Error(`expected an exact plan for ${className}`);
  return p.requant;
}

/** Integer weight codes of `bits` bits, a fraction of them zero. */
function codes(r: () => number, n: number, bits: number, zeros: number): number[] {
  const m = 2 ** (bits - 1) - 1;
  return Array.from({ length: n }, () => (r() < zeros ? 0 : Math.floor(r() * (2 * m + 1)) - m));
}

/** ±1 inputs → 5-bit, 4-bit, ternary, po2, mostly-zero 8-bit and 6-bit weights (every layer shares). */
function shareChain(): Graph {
  const r = rng(1201);
  const b = new GraphBuilder('share_chain');
  const origin = (layer: string, className = 'QDense') => ({ id: layer, origin: { layer, className } });
  const int = (shape: [number, number], bits: number, zeros: number, exp: number) => ({
    kind: 'int' as const,
    shape,
    codes: codes(r, shape[0] * shape[1], bits, zeros),
    exps: Array.from({ length: shape[1] }, (_, j) => exp - (j % 2)),
    quant: { mode: 'fixed' as const, bits, signed: true },
  });
  const bias = (n: number, exp: number) => ({ codes: codes(r, n, 6, 0), exp });
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [24], quant: inputRequant({ className: 'binary', config: {} }) });
  const d1 = b.dense(x, { ...origin('pm_int5'), weights: int([24, 16], 5, 0.1, -3), bias: bias(16, -3), requant: requant('quantized_bits', { bits: 8, integer: 3, keep_negative: true }) });
  const d2 = b.dense(d1, { ...origin('int4'), weights: int([16, 14], 4, 0.2, -2), bias: bias(14, -4), requant: requant('quantized_bits', { bits: 6, integer: 2, symmetric: 1, keep_negative: true }) });
  const ternary = { kind: 'int' as const, shape: [14, 12], codes: codes(r, 14 * 12, 2, 0.3), exps: new Array<number>(12).fill(0), quant: { mode: 'ternary' as const, bits: 2, signed: true } };
  const d3 = b.dense(d2, { ...origin('ternary'), weights: ternary, requant: requant('quantized_relu', { bits: 5, integer: 3 }) });
  const po2 = {
    kind: 'po2' as const,
    shape: [12, 12],
    signs: Array.from({ length: 144 }, () => (r() < 0.15 ? 0 : r() < 0.5 ? -1 : 1) as -1 | 0 | 1),
    exps: Array.from({ length: 144 }, () => -Math.floor(r() * 5)),
    quant: { mode: 'po2' as const, bits: 4, signed: true },
  };
  const d4 = b.dense(d3, { ...origin('po2'), weights: po2, bias: bias(12, -5), requant: requant('quantized_bits', { bits: 7, integer: 3, keep_negative: true }) });
  const d5 = b.dense(d4, { ...origin('sparse_int8'), weights: int([12, 10], 8, 0.7, -6), bias: bias(10, -6), requant: requant('quantized_relu', { bits: 6, integer: 3 }) });
  const d6 = b.dense(d5, { ...origin('int6'), weights: int([10, 8], 6, 0.1, -4), bias: bias(8, -5) });
  return runPipeline(b.build([d6])).graph;
}

describe.skipIf(verilator === null)(`the jet tagger with sub-expression sharing${SKIP}`, () => {
  let g: Graph;

  beforeAll(async () => {
    await ready();
    const model = await importKeras(new URL('qkeras_3layer.json', FIXTURES).pathname, new URL('qkeras_3layer_weights.h5', FIXTURES).pathname);
    g = lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(16,6,1)' }).graph;
  });

  it(`parallel --share: lint clean, ${VECTORS} inputs with back-pressure equal the golden model, II = 1`, async () => {
    const design = generateVerilog(g, { arch: 'parallel', share: true });
    expect(sharedLayers(design)).toEqual(['fc1', 'fc2', 'fc3', 'output']);
    await expectCleanLint(design);
    // generateInputs sweeps the input quantizer's range: saturation on both sides and exact ties.
    const codes = generateInputs(g, VECTORS, 42).map((s) => quantizeSample(g, s).map((a) => Array.from(a)));
    const model = await buildVerilator(design);
    const run = await runVerilog(model, codes, { seed: 8, inGap: 0.2, outStall: 0.2 });
    expect(firstDifference(g, run.outputs, goldenCodes(g, codes))).toBeNull();
    const free = await runVerilog(model, codes.slice(0, 100));
    expect(free.timing).toMatchObject({ latency: 5, minInterval: 1, meanInterval: 1 });
  }, 600_000);
});

describe.skipIf(verilator === null)(`generated layers with sub-expression sharing${SKIP}`, () => {
  const cases: { name: string; graph: () => Graph; shared: string[] }[] = [
    // A pair of one-bit addends is a two-bit word: ±1 inputs save nothing by sharing, pm_int5 stays plain.
    { name: 'share_chain', graph: shareChain, shared: ['int4', 'ternary', 'po2', 'sparse_int8', 'int6'] },
    { name: 'all_kinds', graph: allKinds, shared: ['conv', 'dw', 'ap', 'c1'] },
  ];
  for (const c of cases) {
    it(`${c.name}: lint clean, ${VECTORS} vectors (extremes first) with back-pressure equal the golden model`, async () => {
      const g = c.graph();
      const design = generateVerilog(g, { arch: 'parallel', share: true });
      expect(sharedLayers(design)).toEqual(c.shared);
      await expectCleanLint(design);
      const samples = extremesThenRandom(g, VECTORS, 77);
      const run = await runVerilog(await buildVerilator(design), samples, { seed: 12, inGap: 0.2, outStall: 0.2 });
      expect(firstDifference(g, run.outputs, goldenCodes(g, samples))).toBeNull();
      if (iverilog && c.name === 'share_chain') {
        const few = samples.slice(0, 25);
        const iv = await runIverilog(design, few, { seed: 3, inGap: 0.2, outStall: 0.2 });
        expect(firstDifference(g, iv.outputs, goldenCodes(g, few))).toBeNull();
      }
    }, 600_000);
  }
});
