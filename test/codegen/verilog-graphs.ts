/**
 * IR graphs for the Verilog back-end tests: together they use every node kind, both rounding rules,
 * saturation, ties, the negative slope, sign/ternary/threshold/table rules, int, po2, binary and ternary
 * weights, per-channel (auto_po2-style) exponents, ±1 and 0/1 activations and po2 activations. Weights
 * are seeded random codes; inputs are random codes over each input type's whole range.
 */
import { readFileSync } from 'node:fs';
import {
  GraphBuilder,
  PIPELINE,
  buildRuleFromFunction,
  buildRuleFromReference,
  codeRange,
  gridFrac,
  inputRequant,
  parseIR,
  planRequant,
  runPipeline,
  shiftRule,
  type Graph,
  type IntType,
  type IntWeights,
  type Po2Weights,
  type QuantMode,
  type Requant,
  type TensorType,
} from '../../src/ir/index.js';
import { rng } from '../ir/reference.js';

type Rand = () => number;

function randInt(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function exact(q: string | { className: string; config: Record<string, unknown> }): Requant {
  const spec = typeof q === 'string' ? { className: q, config: {} } : q;
  const p = planRequant(spec);
  if (p.kind !== 'exact' || p.requant === null) throw new Error(`expected an exact plan for ${JSON.stringify(q)}`);
  return p.requant;
}

const qb = (bits: number, integer: number, symmetric = 0, extra: Record<string, unknown> = {}): Requant =>
  exact({ className: 'quantized_bits', config: { bits, integer, symmetric, keep_negative: true, ...extra } });
const qrelu = (bits: number, integer: number, extra: Record<string, unknown> = {}): Requant =>
  exact({ className: 'quantized_relu', config: { bits, integer, ...extra } });
const inQb = (bits: number, integer: number): Requant =>
  inputRequant({ className: 'quantized_bits', config: { bits, integer, symmetric: 0, keep_negative: true } });

const FIXED = (bits: number): QuantMode => ({ mode: 'fixed', bits, signed: true });
const PO2: QuantMode = { mode: 'po2', bits: 4, signed: true };
const TERNARY: QuantMode = { mode: 'ternary', bits: 2, signed: true };
const BINARY: QuantMode = { mode: 'binary', bits: 1, signed: true };

function channels(shape: readonly number[], depthwise = false): number {
  return depthwise ? shape[2]! * shape[3]! : shape[shape.length - 1]!;
}

/** Random integer weights: codes of `bits` bits (a fifth of them zero), one exponent per channel. */
function intW(r: Rand, shape: number[], bits: number, expLo: number, expHi: number, depthwise = false): IntWeights {
  const n = shape.reduce((a, b) => a * b, 1);
  const m = 2 ** (bits - 1) - 1;
  const codes = Array.from({ length: n }, () => (r() < 0.2 ? 0 : randInt(r, -m, m)));
  const exps = Array.from({ length: channels(shape, depthwise) }, () => randInt(r, expLo, expHi));
  return { kind: 'int', shape, codes, exps, quant: FIXED(bits) };
}

/** Ternary (codes -1/0/1) or binary (±1) weights with per-channel exponents (the po2 alpha). */
function signW(r: Rand, shape: number[], zeros: boolean, expLo: number, expHi: number): IntWeights {
  const n = shape.reduce((a, b) => a * b, 1);
  const codes = Array.from({ length: n }, () => (zeros && r() < 0.3 ? 0 : r() < 0.5 ? -1 : 1));
  const exps = Array.from({ length: channels(shape) }, () => randInt(r, expLo, expHi));
  return { kind: 'int', shape, codes, exps, quant: zeros ? TERNARY : BINARY };
}

function po2W(r: Rand, shape: number[], expLo: number, expHi: number): Po2Weights {
  const n = shape.reduce((a, b) => a * b, 1);
  const signs = Array.from({ length: n }, () => (r() < 0.15 ? 0 : r() < 0.5 ? -1 : 1) as -1 | 0 | 1);
  const exps = Array.from({ length: n }, () => randInt(r, expLo, expHi));
  return { kind: 'po2', shape, signs, exps, quant: PO2 };
}

function bias(r: Rand, n: number, exp: number, mag = 20): { codes: number[]; exp: number } {
  return { codes: Array.from({ length: n }, () => randInt(r, -mag, mag)), exp };
}

function typeOf(b: GraphBuilder, id: string): TensorType {
  const t = b.current.nodes.find((n) => n.id === id)!.type;
  if (t === null) throw new Error(`%${id} is untyped`);
  return t;
}

/** A monotone step activation from a reference quantizer (quantized_sigmoid, hard form). */
function sigmoidRule(b: GraphBuilder, id: string, bits: number): Requant {
  const plan = planRequant({ className: 'quantized_sigmoid', config: { bits } });
  if (plan.kind !== 'evaluate') throw new Error('expected an evaluate plan');
  return buildRuleFromReference(plan, typeOf(b, id));
}

/** quantized_po2(4): a threshold rule with po2 outputs, from a plain JS model of the quantizer. */
function po2Rule(b: GraphBuilder, id: string): Requant {
  const plan = planRequant({ className: 'quantized_po2', config: { bits: 4, max_value: 4 } });
  if (plan.kind !== 'evaluate' || plan.out.kind !== 'po2') throw new Error('expected a po2 evaluate plan');
  const { expMin, expMax } = plan.out;
  const fn = (xs: Float64Array): number[] =>
    Array.from(xs, (x) => {
      const a = Math.abs(x);
      const e = a === 0 ? expMin : Math.min(expMax, Math.max(expMin, Math.round(Math.log2(a))));
      return (x < 0 ? -1 : 1) * 2 ** e;
    });
  return buildRuleFromFunction(plan, typeOf(b, id), fn);
}

/** A hand-made table (not monotone) over every code of a small fixed input type. */
function tableRule(inType: IntType, out: IntType, r: Rand): Requant {
  const range = codeRange(inType);
  const lo = Number(range.lo);
  const hi = Number(range.hi);
  const outRange = codeRange(out);
  const values = Array.from({ length: hi - lo + 1 }, () => randInt(r, Number(outRange.lo), Number(outRange.hi)));
  return { rule: { kind: 'table', inFrac: gridFrac(inType), inMin: lo, values, out }, residual: 'none', quantizer: 'hand-made table' };
}

export interface TestGraph {
  readonly name: string;
  readonly graph: Graph;
  /** Architectures the graph is tested in. */
  readonly archs: readonly ('parallel' | 'stream')[];
}

const origin = (layer: string, className = 'test') => ({ id: layer, origin: { layer, className } });

/** MLP: int weights with per-channel exponents, po2 weights, ternary weights, a sigmoid step, argmax. */
export function mlpMix(): Graph {
  const r = rng(101);
  const b = new GraphBuilder('mlp_mix');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [16], quant: inQb(8, 3) });
  const d1 = b.dense(x, { ...origin('fc1', 'QDense'), weights: intW(r, [16, 12], 6, -6, -3), bias: bias(r, 12, -6), requant: qb(6, 2, 1) });
  const d2 = b.dense(d1, {
    ...origin('fc2', 'QDense'),
    weights: po2W(r, [12, 10], -4, 0),
    bias: bias(r, 10, -4),
    requant: qb(4, 0, 1, { alpha: 'auto_po2', post_training_scale: [1] }),
  });
  const d3 = b.dense(d2, { ...origin('fc3', 'QDense'), weights: signW(r, [10, 8], true, -1, 0), requant: qrelu(4, 2, { negative_slope: 0.25 }) });
  const d4 = b.dense(d3, { ...origin('fc4', 'QDense'), weights: intW(r, [8, 6], 4, -3, -2), bias: bias(r, 6, -5) });
  const s = b.requantize(d4, { ...origin('sig', 'QActivation'), requant: sigmoidRule(b, d4, 4) });
  const d5 = b.dense(s, { ...origin('fc5', 'QDense'), weights: intW(r, [6, 5], 5, -4, -2), bias: bias(r, 5, -6) });
  const am = b.argmax(d5, origin('argmax', 'Softmax'));
  return runPipeline(b.build([d5, am])).graph;
}

/** Binary network: ±1 inputs and weights (XNOR-popcount), ternary weights, 0/1 activations, a table. */
export function binaryMlp(): Graph {
  const r = rng(202);
  const b = new GraphBuilder('binary_mlp');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [32], quant: inputRequant({ className: 'binary', config: {} }) });
  const d1 = b.dense(x, { ...origin('bin1', 'QDense'), weights: signW(r, [32, 16], false, -2, 1), requant: exact('binary') });
  const d2 = b.dense(d1, { ...origin('ter2', 'QDense'), weights: signW(r, [16, 12], true, -1, 0), bias: bias(r, 12, -1, 4), requant: exact({ className: 'binary', config: { use_01: true } }) });
  const d3 = b.dense(d2, { ...origin('fix3', 'QDense'), weights: intW(r, [12, 10], 5, -3, -1), bias: bias(r, 10, -3), requant: qb(4, 1, 1) });
  const tIn = typeOf(b, d3) as IntType;
  const tab = b.requantize(d3, { ...origin('table', 'QActivation'), requant: tableRule(tIn, { kind: 'fixed', signed: true, width: 3, frac: 1 }, r) });
  const d4 = b.dense(tab, { ...origin('fix4', 'QDense'), weights: intW(r, [10, 6], 4, -2, -1), requant: exact({ className: 'ternary', config: { threshold: 0.5 } }) });
  const d5 = b.dense(d4, { ...origin('out', 'QDense'), weights: intW(r, [6, 4], 4, -2, -2), bias: bias(r, 4, -2) });
  return runPipeline(b.build([d5])).graph;
}

/**
 * Requantizers kept as separate nodes (no fusion) on small shifts, so exact ties are frequent: half to
 * even, half away, saturation on both sides, and the negative slope.
 */
export function ties(): Graph {
  const r = rng(303);
  const b = new GraphBuilder('ties');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [8], quant: inQb(6, 5) });
  const w: IntWeights = { kind: 'int', shape: [8, 6], codes: Array.from({ length: 48 }, () => [1, 2, 3, -1, -3, 0][randInt(r, 0, 5)]!), exps: [0, 0, 0, 0, -1, 0], quant: FIXED(3) };
  const d = b.dense(x, { ...origin('dense', 'QDense'), weights: w, bias: bias(r, 6, -2, 3) });
  const even = b.requantize(d, { ...origin('even', 'QActivation'), requant: { rule: shiftRule({ frac: -1, rounding: 'half_even', lo: -40, hi: 40 }), residual: 'x', quantizer: 'even' } });
  const away = b.requantize(d, { ...origin('away', 'QActivation'), requant: { rule: shiftRule({ frac: -2, rounding: 'half_away', lo: -9, hi: 9 }), residual: 'x', quantizer: 'away' } });
  const slope = b.requantize(d, {
    ...origin('slope', 'QActivation'),
    requant: { rule: shiftRule({ frac: -1, rounding: 'half_even', lo: -12, hi: 31, negSlopeExp: -2 }), residual: 'relu', quantizer: 'slope' },
  });
  const po2 = b.requantize(d, { ...origin('po2', 'QActivation'), requant: po2Rule(b, d) });
  const d2 = b.dense(po2, { ...origin('after_po2', 'QDense'), weights: intW(r, [6, 3], 4, -2, -1), requant: qb(6, 2, 1, { alpha: 'auto_po2', post_training_scale: [0.5] }) });
  const passes = PIPELINE.filter((p) => p.name !== 'fuse-requantize');
  return runPipeline(b.build([even, away, slope, d2]), { passes }).graph;
}

/** A small CNN: same-padded conv with per-channel exponents, max pooling, ternary conv, flatten, dense. */
export function cnn(): Graph {
  const r = rng(404);
  const b = new GraphBuilder('cnn');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [8, 8, 2], quant: inQb(8, 2) });
  const c1 = b.conv2d(x, { ...origin('conv1', 'QConv2D'), kernel: [3, 3], padding: 'same', weights: intW(r, [3, 3, 2, 4], 5, -5, -3), bias: bias(r, 4, -5), requant: qrelu(4, 2) });
  const p1 = b.maxpool(c1, { ...origin('pool1', 'MaxPooling2D'), pool: [2, 2] });
  const c2 = b.conv2d(p1, { ...origin('conv2', 'QConv2D'), kernel: [3, 3], weights: signW(r, [3, 3, 4, 6], true, -1, 0), bias: bias(r, 6, -2, 6), requant: qb(5, 2, 1) });
  const f = b.reshape(c2, { ...origin('flatten', 'Flatten'), shape: [24] });
  const d = b.dense(f, { ...origin('dense', 'QDense'), weights: intW(r, [24, 5], 4, -3, -2), bias: bias(r, 5, -4) });
  const am = b.argmax(d, origin('argmax', 'Softmax'));
  return runPipeline(b.build([d, am])).graph;
}

/** Depthwise (stride 2, same, po2 weights), pointwise, batch-norm, same-padded average pooling, GAP. */
export function pools(): Graph {
  const r = rng(505);
  const b = new GraphBuilder('pools');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [6, 6, 3], quant: inputRequant({ className: 'quantized_relu', config: { bits: 6, integer: 2 } }) });
  const dw = b.depthwise(x, { ...origin('dw', 'QDepthwiseConv2D'), kernel: [3, 3], strides: [2, 2], padding: 'same', weights: po2W(r, [3, 3, 3, 2], -3, 0), requant: qb(6, 3, 1) });
  const pw = b.pointwise(dw, { ...origin('pw', 'QSeparableConv2D'), weights: intW(r, [6, 4], 5, -4, -2), bias: bias(r, 4, -4), requant: qrelu(5, 2) });
  const bn = b.batchnorm(pw, { ...origin('bn', 'QBatchNormalization'), scale: { codes: [3, -5, 7, 2], exp: -2 }, offset: { codes: [1, -3, 5, 0], exp: -3 }, requant: qb(6, 2, 1) });
  const ap = b.avgpool(bn, { ...origin('avg', 'QAveragePooling2D'), pool: [3, 3], strides: [1, 1], padding: 'same', preScale: 9, mult: { code: 7, exp: -6 }, requant: qb(6, 2, 1) });
  const mp = b.maxpool(ap, { ...origin('mp', 'MaxPooling2D'), pool: [2, 2], strides: [1, 1], padding: 'same' });
  const gap = b.globalAvgPool(mp, { ...origin('gap', 'QGlobalAveragePooling2D'), divisor: 1, mult: { code: 1, exp: -3 }, requant: qb(8, 3, 1) });
  return runPipeline(b.build([gap])).graph;
}

/** Conv1D: causal with dilation, then strided same padding with po2 weights, 1-D pooling, dense. */
export function conv1d(): Graph {
  const r = rng(606);
  const b = new GraphBuilder('conv_1d');
  const x = b.input({ ...origin('x', 'InputLayer'), shape: [12, 3], quant: inQb(6, 2) });
  const c1 = b.conv1d(x, { ...origin('c1', 'QConv1D'), kernel: 3, dilation: 2, padding: 'causal', weights: intW(r, [3, 3, 4], 5, -4, -3), bias: bias(r, 4, -4), requant: qrelu(4, 1) });
  const c2 = b.conv1d(c1, { ...origin('c2', 'QConv1D'), kernel: 2, stride: 2, padding: 'same', weights: po2W(r, [2, 4, 3], -2, 0), requant: qb(5, 2, 1) });
  const p = b.maxpool(c2, { ...origin('pool', 'MaxPooling1D'), pool: [2] });
  const f = b.reshape(p, { ...origin('flat', 'Flatten'), shape: [9] });
  const d = b.dense(f, { ...origin('fc', 'QDense'), weights: intW(r, [9, 4], 5, -3, -2), bias: bias(r, 4, -3), requant: qb(8, 3, 1) });
  return runPipeline(b.build([d])).graph;
}

/** The IR golden graph with every node kind (two inputs, add, concat): parallel only. */
export function allKinds(): Graph {
  const text = readFileSync(new URL('../golden/ir/all-kinds.ir', import.meta.url), 'utf8');
  return runPipeline(parseIR(text)).graph;
}

export function testGraphs(): TestGraph[] {
  return [
    { name: 'mlp_mix', graph: mlpMix(), archs: ['parallel', 'stream'] },
    { name: 'binary_mlp', graph: binaryMlp(), archs: ['parallel', 'stream'] },
    { name: 'ties', graph: ties(), archs: ['parallel', 'stream'] },
    { name: 'cnn', graph: cnn(), archs: ['parallel', 'stream'] },
    { name: 'pools', graph: pools(), archs: ['parallel', 'stream'] },
    { name: 'conv_1d', graph: conv1d(), archs: ['parallel', 'stream'] },
    { name: 'all_kinds', graph: allKinds(), archs: ['parallel'] },
  ];
}

/** `count` random samples of input codes covering each input type's whole range (±1 for binary). */
export function randomCodes(g: Graph, count: number, seed: number): number[][][] {
  const r = rng(seed);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  return Array.from({ length: count }, () =>
    g.inputs.map((id) => {
      const n = byId.get(id)!;
      const t = n.type as IntType;
      const range = codeRange(t);
      const size = n.shape.reduce((a, c) => a * c, 1);
      return Array.from({ length: size }, () => {
        if (t.kind === 'binary' && !t.zeroOne) return r() < 0.5 ? -1 : 1;
        return randInt(r, Number(range.lo), Number(range.hi));
      });
    }),
  );
}
