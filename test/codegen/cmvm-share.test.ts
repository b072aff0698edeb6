/**
 * Sub-expression sharing in constant matrix–vector products (`planCmvm`): on random matrices of every
 * weight kind (ternary, po2, 4..8-bit integers, mostly-zero) over signed, unsigned and one-bit inputs,
 * the shared plan computes exactly the products the unshared plan and the plain matrix do (at the value
 * level and as the unsigned wire arithmetic the Verilog performs, which also checks that no word leaves
 * the range its width was sized from), with fewer adders; the greedy stops when a pattern saves nothing;
 * plans are deterministic; and the emitter's option reaches the layers (or is refused for streams).
 */
import { describe, expect, it } from 'vitest';
import {
  bitLength,
  cmvmAdderCount,
  cmvmAdders,
  evalCmvm,
  evalCmvmWires,
  evalProblem,
  planCmvm,
  type CmvmInput,
  type CmvmPlan,
  type CmvmProblem,
} from '../../src/codegen/cmvm.js';
import { cmvmProblemOf } from '../../src/codegen/cmvm-verilog.js';
import { layerAdders } from '../../src/codegen/cmvm-layer.js';
import { liveNodes } from '../../src/codegen/verilog-parallel.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { ConfigError } from '../../src/errors.js';
import { GraphBuilder, inputRequant, runPipeline, type Graph } from '../../src/ir/index.js';
import { rng } from '../ir/reference.js';
import { binaryMlp, mlpMix } from './verilog-graphs.js';

type Rand = () => number;
type Kind = 'ternary' | 'po2' | 'int4' | 'int6' | 'int8' | 'sparse';

function randInt(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A weight of a kind, scaled by the column's power of two (as the IR's alignment does). */
function weight(r: Rand, kind: Kind, colShift: number): bigint {
  let w: number;
  switch (kind) {
    case 'ternary':
      w = r() < 0.3 ? 0 : r() < 0.5 ? -1 : 1;
      break;
    case 'po2':
      w = r() < 0.15 ? 0 : (r() < 0.5 ? -1 : 1) * 2 ** randInt(r, 0, 4);
      break;
    case 'int4':
    case 'int6':
    case 'int8': {
      const m = 2 ** (Number(kind.slice(3)) - 1) - 1;
      w = r() < 0.2 ? 0 : randInt(r, -m, m);
      break;
    }
    case 'sparse':
      w = r() < 0.8 ? 0 : randInt(r, -31, 31);
      break;
  }
  return BigInt(w) << BigInt(colShift);
}

function inputOf(width: number, signed: boolean): CmvmInput {
  return signed
    ? { width, signed, lo: -(1n << BigInt(width - 1)), hi: (1n << BigInt(width - 1)) - 1n }
    : { width, signed, lo: 0n, hi: (1n << BigInt(width)) - 1n };
}

function randomProblem(seed: number, kind: Kind, n: number, m: number, input: CmvmInput, width: number): CmvmProblem {
  const r = rng(seed);
  const shifts = Array.from({ length: m }, () => randInt(r, 0, 3));
  const rows = Array.from({ length: m }, (_, j) => {
    const terms = [];
    for (let i = 0; i < n; i += 1) {
      const w = weight(r, kind, shifts[j]!);
      if (w !== 0n) terms.push({ input: i, weight: w });
    }
    return { terms, bias: BigInt(randInt(r, -500, 500)) };
  });
  return { inputs: Array.from({ length: n }, () => input), rows, width };
}

/** Input vectors: every input at its minimum, at its maximum, alternating, then random codes. */
function vectors(p: CmvmProblem, count: number, seed: number): bigint[][] {
  const r = rng(seed);
  const out: bigint[][] = [p.inputs.map((x) => x.lo), p.inputs.map((x) => x.hi), p.inputs.map((x, i) => (i % 2 === 0 ? x.lo : x.hi))];
  while (out.length < count) {
    out.push(p.inputs.map((x) => {
      const u = r();
      if (u < 0.1) return x.lo;
      if (u < 0.2) return x.hi;
      return x.lo + BigInt(Math.floor(r() * (Number(x.hi - x.lo) + 1)));
    }));
  }
  return out;
}

/** Every plan gives the matrix's products on every vector, as values and as wires (first difference reported). */
function expectSameProducts(p: CmvmProblem, plans: readonly CmvmPlan[], count: number, seed: number): void {
  let first: string | null = null;
  for (const xs of vectors(p, count, seed)) {
    const want = evalProblem(p, xs).join(',');
    plans.forEach((plan, k) => {
      const value = evalCmvm(plan, xs).join(',');
      const wires = evalCmvmWires(plan, xs).join(',');
      if (first === null && (value !== want || wires !== want)) first = `plan ${k}, inputs ${xs.join(',')}: ${value} / ${wires}, expected ${want}`;
    });
  }
  expect(first).toBeNull();
}

const KINDS: readonly Kind[] = ['ternary', 'po2', 'int4', 'int6', 'int8', 'sparse'];
const FORMATS: readonly { name: string; input: CmvmInput }[] = [
  { name: 'signed 8-bit', input: inputOf(8, true) },
  { name: 'unsigned 6-bit', input: inputOf(6, false) },
  { name: 'signed 16-bit', input: inputOf(16, true) },
  { name: 'one bit', input: inputOf(1, false) },
];

describe('planCmvm: shared sub-expressions compute the same products', () => {
  for (const kind of KINDS) {
    it(`${kind} weights over every input format, exact and truncated accumulators`, () => {
      let seed = 10;
      for (const f of FORMATS) {
        // 40 bits hold every product; 12 bits make the rows wrap and cap the widest shared terms.
        for (const width of [40, 12]) {
          seed += 1;
          const p = randomProblem(seed, kind, 16, 12, f.input, width);
          const plain = planCmvm(p);
          const shared = planCmvm(p, { share: true });
          const byGain = planCmvm(p, { share: true, select: 'gain' });
          expectSameProducts(p, [plain, shared, byGain], 100, seed);
          expect(plain.vars.length).toBe(plain.inputs);
          expect(cmvmAdderCount(shared)).toBeLessThanOrEqual(cmvmAdderCount(plain));
          expect(cmvmAdderCount(byGain)).toBeLessThanOrEqual(cmvmAdderCount(plain));
          // Every shared word is as wide as its largest value needs, at most the accumulator.
          for (const v of shared.vars.slice(shared.inputs)) expect(v.width).toBe(Math.min(width, bitLength(v.hi)));
        }
      }
    });
  }

  it('cuts the adders of dense integer layers by a large fraction', () => {
    const p = randomProblem(7, 'int6', 32, 32, inputOf(8, true), 24);
    const plain = cmvmAdderCount(planCmvm(p));
    const shared = cmvmAdderCount(planCmvm(p, { share: true }));
    expect(shared).toBeLessThan(plain * 0.8);
  });

  it('extracts a pattern common to several rows once: x0 + 2·x1 in three rows', () => {
    const x = inputOf(8, true);
    const p: CmvmProblem = {
      inputs: [x, x, x],
      rows: [
        { terms: [{ input: 0, weight: 1n }, { input: 1, weight: 2n }], bias: 0n },
        { terms: [{ input: 0, weight: 1n }, { input: 1, weight: 2n }, { input: 2, weight: 1n }], bias: 5n },
        { terms: [{ input: 0, weight: -4n }, { input: 1, weight: -8n }], bias: 0n },
      ],
      width: 16,
    };
    const plan = planCmvm(p, { share: true });
    expect(plan.vars.length).toBe(4);
    expect(plan.vars[3]!.sum).toEqual({ a: 0, b: { v: 1, shift: 1, neg: false } });
    // U_z = U_0 + U_1 << 1 over two 8-bit words: at most 255 + 510, ten bits.
    expect(plan.vars[3]).toMatchObject({ width: 10, lo: 0n, hi: 765n });
    expect(plan.outputs.map((o) => o.digits)).toEqual([
      [{ v: 3, shift: 0, neg: false }],
      [{ v: 2, shift: 0, neg: false }, { v: 3, shift: 0, neg: false }],
      [{ v: 3, shift: 2, neg: true }],
    ]);
    expect(cmvmAdderCount(planCmvm(p))).toBe(4);
    expect(cmvmAdderCount(plan)).toBe(2);
    expectSameProducts(p, [plan], 50, 3);
  });

  it('shares the digits of one weight across rows: 5·x = x + (x << 2) in every row', () => {
    const p: CmvmProblem = {
      inputs: [inputOf(6, false), inputOf(6, false)],
      rows: [5n, -5n, 10n, 20n].map((w, k) => ({ terms: [{ input: 0, weight: w }, { input: 1, weight: BigInt(k + 1) }], bias: 0n })),
      width: 14,
    };
    const plan = planCmvm(p, { share: true });
    expect(plan.vars[2]?.sum).toEqual({ a: 0, b: { v: 0, shift: 2, neg: false } });
    expectSameProducts(p, [plan], 50, 4);
  });

  it('stops when a pattern saves nothing: a pattern in one row only, or digits too far apart to overlap', () => {
    const x = inputOf(8, false);
    const once: CmvmProblem = {
      inputs: [x, x, x],
      rows: [
        { terms: [{ input: 0, weight: 3n }, { input: 1, weight: 1n }], bias: 0n },
        { terms: [{ input: 1, weight: 2n }, { input: 2, weight: 7n }], bias: 0n },
      ],
      width: 16,
    };
    expect(planCmvm(once, { share: true })).toEqual(planCmvm(once));
    // x0 + (x1 << 8) in both rows: the two 8-bit words do not overlap, their sum is a concatenation.
    const apart: CmvmProblem = {
      inputs: [x, x],
      rows: [0n, 1n].map((b) => ({ terms: [{ input: 0, weight: 1n }, { input: 1, weight: 256n }], bias: b })),
      width: 20,
    };
    expect(planCmvm(apart, { share: true }).vars.length).toBe(2);
    // Six bits apart they overlap in two columns: shared.
    const near: CmvmProblem = { ...apart, rows: apart.rows.map((r) => ({ ...r, terms: [r.terms[0]!, { input: 1, weight: 64n }] })) };
    expect(planCmvm(near, { share: true }).vars.length).toBe(3);
  });

  it('past its pair budget a layer pairs only inputs of one block, still exact', () => {
    const p = randomProblem(55, 'int6', 24, 16, inputOf(8, true), 24);
    const plain = planCmvm(p);
    const whole = planCmvm(p, { share: true });
    const blocked = planCmvm(p, { share: true, pairBudget: 1000 });
    expectSameProducts(p, [blocked], 60, 55);
    expect(cmvmAdderCount(blocked)).toBeLessThan(cmvmAdderCount(plain));
    expect(cmvmAdderCount(blocked)).toBeGreaterThanOrEqual(cmvmAdderCount(whole));
    // Every shared term reads inputs of one block only.
    const inputsOf = (v: number): number[] => {
      const s = blocked.vars[v]!.sum;
      return s === null ? [v] : [...inputsOf(s.a), ...inputsOf(s.b.v)];
    };
    const pairs = plain.outputs.reduce((a, o) => a + (o.digits.length * (o.digits.length - 1)) / 2, 0);
    const size = Math.ceil(24 / Math.ceil(pairs / 1000));
    expect(size).toBeLessThan(12);
    const blocks = new Set<number>();
    for (let v = blocked.inputs; v < blocked.vars.length; v += 1) {
      const ins = inputsOf(v);
      const block = Math.floor(ins[0]! / size);
      expect(ins.every((i) => Math.floor(i / size) === block)).toBe(true);
      blocks.add(block);
    }
    expect(blocks.size).toBeGreaterThan(1);
  });

  it('is deterministic and lists its adders with operand widths', () => {
    const p = randomProblem(99, 'int6', 24, 16, inputOf(8, true), 22);
    const a = planCmvm(p, { share: true });
    expect(planCmvm(p, { share: true })).toEqual(a);
    const adders = cmvmAdders(a);
    expect(adders.filter((x) => x.kind === 'shared').length).toBe(a.vars.length - a.inputs);
    expect(adders.filter((x) => x.kind === 'row').length).toBe(16);
    expect(adders.reduce((n, x) => n + x.operands.length - 1, 0)).toBe(cmvmAdderCount(a));
    for (const x of adders) {
      for (const o of x.operands) expect(o.width + o.shift).toBeLessThanOrEqual(x.width);
    }
  });

  it('rejects inputs outside their width and a row naming an input twice', () => {
    expect(() => planCmvm({ inputs: [{ width: 4, signed: true, lo: -9n, hi: 7n }], rows: [], width: 8 })).toThrow(/does not fit a 4-bit signed word/);
    const x = inputOf(4, true);
    const twice: CmvmProblem = { inputs: [x], rows: [{ terms: [{ input: 0, weight: 1n }, { input: 0, weight: 2n }], bias: 0n }], width: 8 };
    expect(() => planCmvm(twice)).toThrow(/appears twice/);
  });
});

describe('cmvmProblemOf: a layer of dot plans as a problem', () => {
  it('±1 inputs enter as their bit (c = 2b - 1) and the products stay exact', () => {
    const ins = [
      { name: 'x0', fmt: { width: 2, signed: true }, pm: true, count: 4 },
      { name: 'x1', fmt: { width: 5, signed: true }, pm: false, count: 3 },
    ];
    const plans = [
      { terms: [{ slot: 0, index: 0, weight: 3n }, { slot: 0, index: 2, weight: -2n }, { slot: 1, index: 1, weight: 5n }], bias: 7n },
      { terms: [{ slot: 0, index: 2, weight: 6n }, { slot: 1, index: 0, weight: -1n }, { slot: 1, index: 2, weight: 12n }], bias: -3n },
    ];
    const { problem, sources } = cmvmProblemOf(plans, ins, 12);
    expect(sources).toEqual([
      { slot: 0, index: 0, pm: true },
      { slot: 0, index: 2, pm: true },
      { slot: 1, index: 0, pm: false },
      { slot: 1, index: 1, pm: false },
      { slot: 1, index: 2, pm: false },
    ]);
    const r = rng(5);
    for (let k = 0; k < 200; k += 1) {
      const pm = [r() < 0.5 ? -1n : 1n, r() < 0.5 ? -1n : 1n];
      const codes = [BigInt(randInt(r, -16, 15)), BigInt(randInt(r, -16, 15)), BigInt(randInt(r, -16, 15))];
      const value = (slot: number, index: number): bigint => (slot === 0 ? pm[index === 0 ? 0 : 1]! : codes[index]!);
      const want = plans.map((p) => p.terms.reduce((a, t) => a + t.weight * value(t.slot, t.index), p.bias) & 0xfffn);
      const xs = sources.map((s) => (s.pm ? (value(s.slot, s.index) + 1n) / 2n : value(s.slot, s.index)));
      expect(evalProblem(problem, xs)).toEqual(want);
      expect(evalCmvmWires(planCmvm(problem, { share: true }), xs)).toEqual(want);
    }
  });
});

/** Two dense layers whose weights repeat patterns (sharing finds work) and one where nothing repeats. */
function denseGraph(codes: number[], n: number, m: number): Graph {
  const b = new GraphBuilder('share_probe');
  const x = b.input({ id: 'x', origin: { layer: 'x', className: 'InputLayer' }, shape: [n], quant: inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3 } }) });
  const d = b.dense(x, {
    id: 'fc',
    origin: { layer: 'fc', className: 'QDense' },
    weights: { kind: 'int', shape: [n, m], codes, exps: new Array<number>(m).fill(-3), quant: { mode: 'fixed', bits: 6, signed: true } },
  });
  return runPipeline(b.build([d])).graph;
}

describe('emitVerilog share option', () => {
  it('a layer with shared terms becomes explicit wires; one with nothing to share keeps its bytes', () => {
    const r = rng(8);
    const rep = denseGraph(Array.from({ length: 8 * 6 }, () => randInt(r, -31, 31)), 8, 6);
    const shared = generateVerilog(rep, { arch: 'parallel', share: true });
    const plain = generateVerilog(rep, { arch: 'parallel' });
    const layer = (d: typeof plain): string => d.files.find((f) => f.name === `${d.manifest.layers[0]!.module}.v`)!.text;
    expect(layer(plain)).toContain('qk_const_matvec');
    expect(layer(shared)).not.toContain('qk_const_matvec');
    expect(layer(shared)).toMatch(/wire \[\d+:0\] u_mv_s0 = /);
    expect(generateVerilog(rep, { arch: 'parallel', share: true }).files).toEqual(shared.files);
    // One output: no pattern occurs twice.
    const single = denseGraph([5, -3, 7, 1], 4, 1);
    expect(generateVerilog(single, { arch: 'parallel', share: true }).files).toEqual(generateVerilog(single, { arch: 'parallel' }).files);
  });

  it('is refused with the stream architecture and must be a boolean', () => {
    expect(() => generateVerilog(mlpMix(), { arch: 'stream', share: true })).toThrow(ConfigError);
    expect(() => generateVerilog(mlpMix(), { arch: 'stream', share: true })).toThrow(/share=true .*arch "stream"/);
    expect(() => generateVerilog(mlpMix(), { arch: 'parallel', share: 'yes' as unknown as boolean })).toThrow(ConfigError);
    expect(generateVerilog(mlpMix(), { arch: 'stream', share: false }).manifest.arch).toBe('stream');
  });
});

describe('layerAdders: the plan the emitter builds, for cost models', () => {
  it('names the datapath of every accumulating node and plans exactly the shared terms the Verilog declares', () => {
    for (const g of [mlpMix(), binaryMlp()]) {
      const design = generateVerilog(g, { arch: 'parallel', share: true });
      const nodes = liveNodes(g);
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const l of design.manifest.layers) {
        const node = byId.get(l.node)!;
        const ins = node.inputs.map((id) => byId.get(id)!);
        const shared = layerAdders(node, ins, { share: true });
        const plain = layerAdders(node, ins);
        if (shared === null) {
          expect(l.datapath).toBeUndefined();
          continue;
        }
        expect(shared.datapath).toBe(l.datapath);
        const text = design.files.find((f) => f.name === `${l.module}.v`)!.text;
        const declared = text.match(/wire \[\d+:0\] u_mv_s\d+ = /g)?.length ?? 0;
        expect(shared.plan === null ? 0 : shared.plan.vars.length - shared.plan.inputs).toBe(declared);
        if (shared.plan !== null && plain?.plan) expect(cmvmAdderCount(shared.plan)).toBeLessThanOrEqual(cmvmAdderCount(plain.plan));
      }
      expect(design.manifest.layers.some((l) => l.datapath === 'shiftadd')).toBe(true);
    }
  });
});
