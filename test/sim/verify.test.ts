/**
 * verifyGraph: the C and Verilog back-ends equal the golden model on generated inputs (which reach
 * saturation and exact rounding ties of the input quantizer) and given ones; hardware built from a
 * graph with one changed weight is caught, with the first differing layer and element located.
 */
import { describe, expect, it } from 'vitest';
import { codeRange, gridFrac, replaceNode, rederive, type Graph, type IntType } from '../../src/ir/index.js';
import { C_COMPILER, VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { describeMismatch, generateInputs, verifyGraph } from '../../src/sim/verify.js';
import { reportFailure } from '../../src/cli/errors.js';
import { VerifyMismatchError } from '../../src/cli/commands/verify.js';
import { mlpMix } from '../codegen/verilog-graphs.js';

const verilator = findOptionalTool(VERILATOR);
const cc = findOptionalTool(C_COMPILER);

/** The graph with one weight of layer `id` changed by one code. */
function perturbed(g: Graph, id: string, index: number): Graph {
  const n = g.nodes.find((x) => x.id === id)!;
  if (n.kind !== 'dense' && n.kind !== 'conv2d') throw new Error('a MAC node expected');
  const w = n.weights;
  if (w.kind !== 'int') throw new Error('int weights expected');
  const codes = [...w.codes];
  codes[index] = codes[index]! + 1;
  return rederive(replaceNode(g, id, { ...n, weights: { ...w, codes } }));
}

describe('generated inputs', () => {
  it('cover saturation on both sides and exact ties between input codes', () => {
    const g = mlpMix();
    const input = g.nodes[0]!;
    const t = input.type as IntType;
    const step = 2 ** -gridFrac(t);
    const r = codeRange(t);
    const xs = generateInputs(g, 300, 9).flatMap((s) => s[0]!);
    expect(xs.filter((x) => x / step > Number(r.hi)).length).toBeGreaterThan(100);
    expect(xs.filter((x) => x / step < Number(r.lo)).length).toBeGreaterThan(100);
    expect(xs.filter((x) => Math.abs(x / step - Math.round(x / step)) === 0.5).length).toBeGreaterThan(1000);
  });
});

describe.skipIf(verilator === null)(`verify --target verilog${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
  it('a correct design: every code of 1,000 generated and 3 given inputs equals the golden model', async () => {
    const g = mlpMix();
    const given = [new Array<number>(16).fill(0), new Array<number>(16).fill(100), new Array<number>(16).fill(-0.03125)];
    const r = await verifyGraph(g, { target: 'verilog', arch: 'stream', reuse: 2, given });
    expect(r).toMatchObject({ target: 'verilog', arch: 'stream', samples: 1003, generated: 1000, given: 3, mismatchedSamples: 0, first: null });
    expect(r.codes).toBe(1003 * 6);
    expect(r.timing!.latency).toBeGreaterThan(0);
  }, 300_000);

  it('a design built from a changed weight: the first mismatch names the layer and element', async () => {
    const g = mlpMix();
    const bad = perturbed(g, 'fc4', 5);
    const r = await verifyGraph(g, { target: 'verilog', arch: 'parallel', designGraph: bad, generated: 200 });
    expect(r.mismatchedSamples).toBeGreaterThan(0);
    expect(r.first).not.toBeNull();
    expect(r.first!.firstLayer).toMatchObject({ node: 'fc4', layer: 'fc4' });
    expect(describeMismatch(r.first!)).toMatch(/^generated input \d+: output "(fc5|argmax)" \(%\w+\) element \d+: got code -?\d+, golden model -?\d+; first differing layer: "fc4" \(%fc4\) element \d+: got -?\d+, expected -?\d+$/);
  }, 300_000);
});

describe.skipIf(cc === null)(`verify --target c${cc === null ? ' (skipped: no C compiler)' : ''}`, () => {
  it('equals the golden model, and catches a changed weight in the right layer', async () => {
    const g = mlpMix();
    const ok = await verifyGraph(g, { target: 'c', generated: 500 });
    expect(ok).toMatchObject({ target: 'c', arch: null, mismatchedSamples: 0, first: null });
    const r = await verifyGraph(g, { target: 'c', designGraph: perturbed(g, 'fc1', 3), generated: 200 });
    expect(r.first!.firstLayer).toMatchObject({ node: 'fc1', layer: 'fc1' });
  }, 300_000);
});

describe('exit code of a mismatch', () => {
  it('is 1 with one line', () => {
    const lines: string[] = [];
    const code = reportFailure(new VerifyMismatchError('first mismatch: generated input 3: ...'), false, { error: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines).toEqual(['error: first mismatch: generated input 3: ...']);
  });
});
