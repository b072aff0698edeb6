import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  GraphBuilder,
  IRCheckError,
  assertValid,
  check,
  inputRequant,
  intWeightsFromValues,
  mapNodes,
  parseIR,
  shiftRule,
  type Graph,
  type Node,
} from '../../src/ir/index.js';

const GOLDEN = fileURLToPath(new URL('../golden/ir/', import.meta.url));
const FIXED = (bits: number) => ({ mode: 'fixed', bits, signed: true }) as const;
const IN_Q8_3 = inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3 } });

function dense43(): Graph {
  const b = new GraphBuilder('dense43');
  const x = b.input({ id: 'x', shape: [4], quant: IN_Q8_3 });
  const w = intWeightsFromValues('dense', [1, -2, 3, 0.5, 0, -1, 2, 2, 1, -3, 1, 0.25], [4, 3], FIXED(4));
  const d = b.dense(x, { id: 'd', weights: w, bias: { codes: [1, 2, -3], exp: -3 } });
  return b.build([d]);
}

const messages = (g: Graph, opts = {}): string[] => check(g, opts).diagnostics.map((d) => `${d.severity} ${d.code} ${d.node ?? 'graph'}: ${d.message}`);

describe('accumulator proof', () => {
  it('is computed from the actual weights: dense 4→3 by hand', () => {
    // Inputs [-128, 127] on 2^-4. Channel grids 2^-5, 2^-4, 2^-6 and the bias on 2^-3 align on 2^-6:
    // channel 0 reaches [-3308, 3322], channel 1 [-2536, 2564], channel 2 [-2708, 2647].
    const report = check(dense43());
    expect(report.ok).toBe(true);
    expect(report.proofs).toEqual([
      { node: 'd', frac: 6, range: { lo: -3308n, hi: 3322n }, required: { kind: 'fixed', signed: true, width: 13, frac: 6 }, recorded: null },
    ]);
  });

  it('rejects a recorded accumulator one bit too narrow, and accepts the proven width', () => {
    const withAcc = (width: number): Graph =>
      mapNodes(dense43(), (n) => (n.kind === 'dense' ? ({ ...n, acc: { kind: 'fixed', signed: true, width, frac: 6 } } as Node) : n));
    expect(messages(withAcc(12))).toEqual([
      'error accumulator d: accumulator fixed<s12,6> holds codes [-2048, 2047] but the weights and input ranges reach [-3308, 3322] (needs fixed<s13,6>)',
      'error type d: recorded type fixed<s13,6> but the inputs and contents give fixed<s12,6>',
    ]);
    expect(check(withAcc(13), { complete: true }).ok).toBe(true);
  });

  it('requires sized accumulators and inferred types when asked for a complete graph', () => {
    const g = parseIR(readFileSync(GOLDEN + 'prune-zeros.in.ir', 'utf8'));
    expect(check(g).ok).toBe(true);
    expect(messages(g, { complete: true })).toEqual([
      'error untyped fc: accumulator not sized; the proven range needs fixed<s5,5>',
      'error untyped fc: node type not inferred (run the infer-widths pass)',
      'error untyped unused: node type not inferred (run the infer-widths pass)',
    ]);
  });

  it('flags accumulators the interpreter cannot compute exactly (beyond 2^53)', () => {
    const b = new GraphBuilder('huge');
    const x = b.input({ id: 'x', shape: [4], quant: inputRequant({ className: 'quantized_bits', config: { bits: 24, integer: 0 } }) });
    const d = b.dense(x, { id: 'd', weights: intWeightsFromValues('dense', [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], [4, 1], FIXED(32)) });
    const g = b.build([d]);
    const errs = check(g).diagnostics.filter((x) => x.severity === 'error');
    expect(errs.map((e) => e.code)).toEqual(['interpreter-range']);
    expect(errs[0]!.message).toMatch(/the accumulator reaches 72057594004373504, beyond the interpreter's exact 2\^53/);
  });
});

describe('float32 exactness warnings (tfjs evaluates the same graph in float32)', () => {
  it('a small model has none', () => {
    expect(check(dense43()).diagnostics).toEqual([]);
  });

  it('warns when an accumulation can exceed 2^24 units of its grid', () => {
    const b = new GraphBuilder('wide');
    const x = b.input({ id: 'x', shape: [64], quant: inputRequant({ className: 'quantized_bits', config: { bits: 16, integer: 5 } }) });
    const codes = Array.from({ length: 64 }, (_, i) => ((i * 37) % 255) - 127);
    const w = intWeightsFromValues('dense', codes.map((c) => c / 128), [64, 1], FIXED(8));
    const d = b.dense(x, { id: 'd', weights: w, origin: { layer: 'fc1', className: 'QDense' } });
    const g = b.build([d]);
    const report = check(g);
    expect(report.ok).toBe(true); // exact in the IR: only tfjs may differ
    // inputs up to 2^15 codes on 2^-10, weights on 2^-7: products on 2^-17
    const units = codes.reduce((a, c) => a + Math.abs(c), 0) * 2 ** 15;
    expect(units).toBeGreaterThan(2 ** 24);
    expect(messages(g)).toEqual([
      `warning float32 d: output channel 0: sum of |w|·max|x| reaches ${units} units of 2^-17, above 2^24, so tfjs float32 accumulation may round`,
    ]);
  });

  it("warns when QKeras's x + (xq - x) residual needs more than 24 bits", () => {
    const b = new GraphBuilder('res');
    const x = b.input({ id: 'x', shape: [1], quant: inputRequant({ className: 'quantized_bits', config: { bits: 24, integer: 23 } }) });
    const q = b.requantize(x, { id: 'q', requant: { rule: shiftRule({ frac: 4, lo: -8, hi: 7 }), residual: 'x', quantizer: 'quantized_bits(4,0,1)' } });
    const g = b.build([q]);
    expect(messages(g)).toEqual([
      'warning float32 q: quantized_bits(4,0,1): QKeras computes x + (xq - x) in float32; |x| + |xq| can reach 134217736 units of 2^-4, above 2^24, so tfjs may be off by an ulp for inputs that large',
    ]);
  });

  it('warns about values below the float32 normal range', () => {
    const b = new GraphBuilder('tiny');
    const x = b.input({ id: 'x', shape: [1], quant: { rule: shiftRule({ frac: 130, lo: -8, hi: 7 }), residual: 'none', quantizer: 'q' } });
    expect(messages(b.build([x]))).toEqual([
      "warning float32 x: values on the grid 2^-130 are below float32's normal range; TensorFlow flushes such subnormals to zero",
    ]);
  });
});

describe('structure, shapes, types and rules', () => {
  it('reports every problem at once, each with its node', () => {
    const text = readFileSync(GOLDEN + 'infer-widths.out.ir', 'utf8')
      .replace('node %mp = maxpool(%x) : fixed<u6,4> [2, 2, 2]', 'node %mp = maxpool(%x) : fixed<u6,4> [2, 2, 3]')
      .replace('node %sum = add(%mp, %ap) : fixed<u9,6> [2, 2, 2]', 'node %sum = add(%mp, %ap) : fixed<u8,6> [2, 2, 2]')
      .replace('outputs [%flat, %gap, %am]', 'outputs [%flat, %gap, %am, %nope]');
    const g = parseIR(text);
    expect(messages(g)).toEqual([
      'error structure graph: graph output %nope is not a node',
      'error shape mp: recorded shape [2, 2, 3] but the maxpool rule gives [2, 2, 2]',
      'error type sum: recorded type fixed<u8,6> but the inputs and contents give fixed<u9,6>',
    ]);
    expect(() => assertValid(g)).toThrow(IRCheckError);
    expect(() => assertValid(g)).toThrow(/failed its check \(3 errors\):\n {2}graph: graph output %nope is not a node\n {2}%mp: recorded shape/);
  });

  it('checks ids, definition order and graph inputs', () => {
    const g = dense43();
    const [x, d] = g.nodes as [Node, Node];
    const bad: Graph = { ...g, nodes: [d, x, { ...x, id: 'bad id' }], inputs: ['x', 'd'] };
    expect(messages(bad).filter((m) => m.startsWith('error structure'))).toEqual([
      'error structure d: input %x is not defined before this node',
      'error structure bad id: id "bad id" may only use letters, digits, _ . -',
      'error structure graph: graph input %d is not an input node',
      'error structure bad id: input node missing from the graph inputs',
    ]);
  });

  it('checks requantization rules', () => {
    const b = new GraphBuilder('rules');
    const x = b.input({ id: 'x', shape: [2], quant: IN_Q8_3 });
    const t = b.requantize(x, {
      id: 't',
      requant: { rule: { kind: 'thresholds', thresholds: [1, 0.5], values: [0, 1, 9], out: { kind: 'fixed', signed: false, width: 2, frac: 0 } }, residual: 'none', quantizer: 'thr' },
    });
    const tab = b.requantize(x, {
      id: 'tab',
      requant: { rule: { kind: 'table', inFrac: 4, inMin: -8, values: [0, 1, 2], out: { kind: 'fixed', signed: false, width: 2, frac: 0 } }, residual: 'none', quantizer: 'tab' },
    });
    const g = b.build([t, tab]);
    expect(messages(g)).toEqual([
      'error rule t: thr: thresholds must be ascending',
      'error rule t: thr: value 9 (entry 2) is not a code of fixed<u2,0>',
      'error rule tab: tab: the table covers codes [-8, -6] but inputs reach [-128, 127]',
    ]);
  });
});
