/**
 * The battery of IR graphs the C back-end is checked on: every node kind, both rounding rules,
 * saturation, ties, binary / ternary / po2 / auto_po2 weights, strides, dilation and padding, every rule
 * kind, wide (64-bit) accumulators, several inputs and outputs. Graphs are built with the IR builders
 * (weights from a seeded generator) and then passed through the IR pipeline, as lowering does.
 */
import {
  GraphBuilder,
  buildRuleFromFunction,
  buildRuleFromReference,
  inputRequant,
  intWeightsFromValues,
  planRequant,
  po2WeightsFromValues,
  runPipeline,
  shiftRule,
  type Graph,
  type IntType,
  type Requant,
  type Rule,
} from '../../src/ir/index.js';
import { rng, randInts } from '../ir/reference.js';

export interface NamedGraph {
  readonly name: string;
  readonly graph: Graph;
}

const FIXED = (bits: number) => ({ mode: 'fixed', bits, signed: true }) as const;
const TERNARY = { mode: 'ternary', bits: 2, signed: true } as const;
const BINARY = { mode: 'binary', bits: 1, signed: true } as const;
const PO2 = { mode: 'po2', bits: 4, signed: true } as const;

function exact(className: string, config: Record<string, unknown>): Requant {
  const p = planRequant({ className, config });
  if (p.kind !== 'exact' || p.requant === null) throw new Error(`${className}: expected an exact plan`);
  return p.requant;
}

/** Input quantizers (rules on real inputs). */
export const IN = {
  q8_3: inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3, symmetric: 0, keep_negative: true } }),
  q6_2: inputRequant({ className: 'quantized_bits', config: { bits: 6, integer: 2, symmetric: 1, keep_negative: true } }),
  u8: inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 0, keep_negative: false } }),
  q16_8: inputRequant({ className: 'quantized_bits', config: { bits: 16, integer: 8, keep_negative: true } }),
  relu4: inputRequant({ className: 'quantized_relu', config: { bits: 4, integer: 1 } }),
  binary: inputRequant({ className: 'binary', config: {} }),
  binary01: inputRequant({ className: 'binary', config: { use_01: true } }),
  ternary: inputRequant({ className: 'ternary', config: { threshold: 0.5 } }),
};

/** Activation requantizers. */
export const ACT = {
  bits6_2: exact('quantized_bits', { bits: 6, integer: 2, symmetric: 1 }),
  bits4_0: exact('quantized_bits', { bits: 4, integer: 0, symmetric: 0 }),
  bits3_1: exact('quantized_bits', { bits: 3, integer: 1 }),
  relu4_2: exact('quantized_relu', { bits: 4, integer: 2 }),
  relu3_0: exact('quantized_relu', { bits: 3, integer: 0 }),
  leaky: exact('quantized_relu', { bits: 5, integer: 2, negative_slope: 0.25 }),
  autoPo2: exact('quantized_bits', { bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2', post_training_scale: [1] }),
  autoPo2Fine: exact('quantized_bits', { bits: 6, integer: 1, symmetric: 1, alpha: 'auto_po2', post_training_scale: [0.25] }),
  binary: exact('binary', {}),
  binary01: exact('binary', { use_01: true }),
  ternary: exact('ternary', { threshold: 0.4 }),
  alpha2: exact('quantized_bits', { bits: 4, integer: 0, symmetric: 1, alpha: 2 }),
};

function ruleOf(rule: Rule, quantizer: string): Requant {
  return { rule, residual: 'none', quantizer };
}

function values(r: () => number, n: number, pick: readonly number[]): number[] {
  return Array.from({ length: n }, () => pick[Math.floor(r() * pick.length)]!);
}

/** Fixed-point weight values with per-channel power-of-two scales (auto_po2-like). */
function channelScaled(r: () => number, n: number, channels: number, bits: number, scales: readonly number[]): number[] {
  const m = 2 ** (bits - 1);
  return Array.from({ length: n }, (_, i) => (randInts(r, 1, -m + 1, m - 1)[0]! / m) * scales[i % channels]!);
}

function pipeline(b: GraphBuilder, outputs: readonly string[]): Graph {
  return runPipeline(b.build(outputs)).graph;
}

export function batteryGraphs(): NamedGraph[] {
  const r = rng(2024);
  const graphs: NamedGraph[] = [];
  const add = (name: string, build: (b: GraphBuilder) => readonly string[]): void => {
    const b = new GraphBuilder(name);
    graphs.push({ name, graph: pipeline(b, build(b)) });
  };

  add('dense-half-even', (b) => {
    const x = b.input({ id: 'x', shape: [12], quant: IN.q8_3 });
    const w = intWeightsFromValues('dense', channelScaled(r, 12 * 7, 7, 4, [1, 1, 1, 1, 1, 1, 1]), [12, 7], FIXED(4));
    const bias = { codes: randInts(r, 7, -8, 8), exp: -3 };
    return [b.dense(x, { id: 'd', weights: w, bias, requant: ACT.bits6_2 })];
  });
  add('dense-auto-po2-half-away', (b) => {
    const x = b.input({ id: 'x', shape: [10], quant: IN.q6_2 });
    const w = intWeightsFromValues('dense', channelScaled(r, 10 * 6, 6, 4, [1, 0.5, 0.25, 2, 0.125, 4]), [10, 6], FIXED(4));
    return [b.dense(x, { id: 'd', weights: w, bias: { codes: randInts(r, 6, -4, 4), exp: -4 }, requant: ACT.autoPo2 })];
  });
  add('dense-saturate-ties', (b) => {
    // A coarse output grid: many exact ties, and outputs beyond the 3-bit range saturate on both sides.
    const x = b.input({ id: 'x', shape: [6], quant: IN.q8_3 });
    const w = intWeightsFromValues('dense', values(r, 6 * 5, [-2, -1, -0.5, 0.5, 1, 2]), [6, 5], FIXED(3));
    return [b.dense(x, { id: 'd', weights: w, requant: ACT.bits3_1 })];
  });
  add('dense-accumulator-out', (b) => {
    const x = b.input({ id: 'x', shape: [3, 9], quant: IN.relu4 });
    const w = intWeightsFromValues('dense', channelScaled(r, 9 * 4, 4, 6, [1, 2, 0.5, 1]), [9, 4], FIXED(6));
    return [b.dense(x, { id: 'd', weights: w, bias: { codes: [3, -5, 0, 7], exp: -6 } })];
  });
  add('dense-xnor', (b) => {
    // ±1 inputs and weights: XNOR-popcount over 70 inputs (a partial last word), per-channel scales.
    const x = b.input({ id: 'x', shape: [3, 70], quant: IN.binary });
    const wv = Array.from({ length: 70 * 9 }, (_, i) => (r() < 0.5 ? -1 : 1) * [1, 1, 0.5, 1, 2, 1, 1, 0.25, 1][i % 9]!);
    const weights = intWeightsFromValues('dense', wv, [70, 9], BINARY);
    return [b.dense(x, { id: 'd', weights, bias: { codes: randInts(r, 9, -6, 6), exp: -2 }, requant: ACT.binary })];
  });
  add('dense-ternary-addsub', (b) => {
    const x = b.input({ id: 'x', shape: [40], quant: IN.q8_3 });
    const wv = Array.from({ length: 40 * 6 }, (_, i) => (i % 6 === 3 ? 0 : values(r, 1, [-1, 0, 0, 1])[0]!) * [0.5, 0.5, 0.5, 1, 0.25, 0.5][i % 6]!);
    const weights = intWeightsFromValues('dense', wv, [40, 6], TERNARY);
    return [b.dense(x, { id: 'd', weights, bias: { codes: randInts(r, 6, -9, 9), exp: -4 }, requant: ACT.relu4_2 })];
  });
  add('dense-binary01-input-po2-weights', (b) => {
    const x = b.input({ id: 'x', shape: [20], quant: IN.binary01 });
    const wv = Array.from({ length: 20 * 5 }, () => values(r, 1, [-1, 1])[0]! * 2 ** randInts(r, 1, -4, 2)[0]!);
    const weights = po2WeightsFromValues(wv, [20, 5], PO2);
    return [b.dense(x, { id: 'd', weights, requant: ACT.bits6_2 })];
  });
  add('dense-wide-64bit', (b) => {
    // 16-bit inputs and 12-bit weights over 96 terms: accumulators beyond 32 bits, shifts beyond 31.
    const x = b.input({ id: 'x', shape: [96], quant: IN.q16_8 });
    const wv = Array.from({ length: 96 * 4 }, () => randInts(r, 1, -2047, 2047)[0]! * 2 ** 3);
    const weights = intWeightsFromValues('dense', wv, [96, 4], FIXED(12));
    const d1 = b.dense(x, { id: 'wide', weights, bias: { codes: [1, -1, 12345, -99999], exp: -8 } });
    const d2 = b.dense(x, { id: 'wide_q', weights, requant: exact('quantized_bits', { bits: 8, integer: 7, symmetric: 1 }) });
    const tiny = b.dense(x, { id: 'wide_zero', weights, requant: exact('quantized_bits', { bits: 4, integer: 40, symmetric: 1 }) });
    return [d1, d2, tiny];
  });
  add('pointwise', (b) => {
    const x = b.input({ id: 'x', shape: [4, 5, 6], quant: IN.q6_2 });
    const weights = intWeightsFromValues('pointwise', channelScaled(r, 6 * 5, 5, 4, [1, 0.5, 1, 2, 1]), [6, 5], FIXED(4));
    return [b.pointwise(x, { id: 'pw', weights, bias: { codes: randInts(r, 5, -3, 3), exp: -2 }, requant: ACT.leaky })];
  });
  add('conv2d-valid-f18-int16', (b) => {
    // 18 filters padded to 24: the 16-bit accumulator path of the seed CNN's convolutions.
    const x = b.input({ id: 'x', shape: [9, 8, 1], quant: IN.u8 });
    const wv = Array.from({ length: 3 * 3 * 1 * 18 }, () => values(r, 1, [-1, 0, 1])[0]! * 0.5);
    const weights = intWeightsFromValues('conv2d', wv, [3, 3, 1, 18], TERNARY);
    return [b.conv2d(x, { id: 'c', weights, kernel: [3, 3], bias: { codes: randInts(r, 18, -8, 8), exp: -4 }, requant: ACT.relu3_0 })];
  });
  add('conv2d-same-stride2', (b) => {
    const x = b.input({ id: 'x', shape: [7, 9, 3], quant: IN.q8_3 });
    const weights = intWeightsFromValues('conv2d', channelScaled(r, 3 * 3 * 3 * 5, 5, 4, [1, 0.5, 0.25, 1, 2]), [3, 3, 3, 5], FIXED(4));
    return [b.conv2d(x, { id: 'c', weights, kernel: [3, 3], strides: [2, 2], padding: 'same', bias: { codes: randInts(r, 5, -6, 6), exp: -3 }, requant: ACT.bits6_2 })];
  });
  add('conv2d-dilated-same-f32', (b) => {
    const x = b.input({ id: 'x', shape: [8, 8, 2], quant: IN.relu4 });
    const wv = Array.from({ length: 2 * 3 * 2 * 32 }, () => values(r, 1, [-1, 0, 1])[0]!);
    const weights = intWeightsFromValues('conv2d', wv, [2, 3, 2, 32], TERNARY);
    return [b.conv2d(x, { id: 'c', weights, kernel: [2, 3], dilation: [2, 2], padding: 'same', requant: ACT.relu4_2 })];
  });
  add('conv2d-blocks-and-borders', (b) => {
    // Rows of 13 with 'same' padding: four-output blocks in the interior, single outputs at the borders;
    // 16 filters with 16-bit accumulators, and a strided dilated conv1d over a long sequence.
    const x = b.input({ id: 'x', shape: [5, 13, 3], quant: IN.relu4 });
    const w = intWeightsFromValues('conv2d', Array.from({ length: 3 * 3 * 3 * 16 }, () => values(r, 1, [-1, 0, 1])[0]!), [3, 3, 3, 16], TERNARY);
    const c = b.conv2d(x, { id: 'c', weights: w, kernel: [3, 3], padding: 'same', bias: { codes: randInts(r, 16, -4, 4), exp: -2 }, requant: ACT.relu4_2 });
    const s1 = b.input({ id: 's', shape: [40, 2], quant: IN.q6_2 });
    const w1 = intWeightsFromValues('conv1d', channelScaled(r, 3 * 2 * 12, 12, 4, Array(12).fill(1) as number[]), [3, 2, 12], FIXED(4));
    const c1 = b.conv1d(s1, { id: 'c1', weights: w1, kernel: 3, stride: 2, dilation: 2, padding: 'same', requant: ACT.bits6_2 });
    return [c, c1];
  });
  add('conv2d-small-c2-f2', (b) => {
    const x = b.input({ id: 'x', shape: [4, 4, 2], quant: IN.q8_3 });
    const weights = intWeightsFromValues('conv2d', channelScaled(r, 2 * 2 * 2 * 2, 2, 3, [1, 1]), [2, 2, 2, 2], FIXED(3));
    return [b.conv2d(x, { id: 'c', weights, kernel: [2, 2], requant: ACT.autoPo2Fine })];
  });
  add('conv1d-causal-same-strided', (b) => {
    const x = b.input({ id: 'x', shape: [17, 3], quant: IN.q6_2 });
    const w1 = intWeightsFromValues('conv1d', channelScaled(r, 3 * 3 * 4, 4, 4, [1, 1, 0.5, 1]), [3, 3, 4], FIXED(4));
    const c1 = b.conv1d(x, { id: 'causal', weights: w1, kernel: 3, dilation: 2, padding: 'causal', requant: ACT.bits6_2 });
    const w2 = intWeightsFromValues('conv1d', channelScaled(r, 4 * 4 * 10, 10, 4, Array(10).fill(0.5) as number[]), [4, 4, 10], FIXED(4));
    const c2 = b.conv1d(c1, { id: 'same', weights: w2, kernel: 4, stride: 2, padding: 'same', bias: { codes: randInts(r, 10, -3, 3), exp: -2 }, requant: ACT.relu4_2 });
    return [c2];
  });
  add('depthwise-dm2-same-stride2', (b) => {
    const x = b.input({ id: 'x', shape: [7, 6, 3], quant: IN.q8_3 });
    const weights = intWeightsFromValues('depthwise', channelScaled(r, 3 * 3 * 3 * 2, 6, 4, [1, 0.5, 1, 2, 0.25, 1]), [3, 3, 3, 2], FIXED(4));
    return [b.depthwise(x, { id: 'dw', weights, kernel: [3, 3], strides: [2, 2], padding: 'same', bias: { codes: randInts(r, 6, -5, 5), exp: -3 }, requant: ACT.bits6_2 })];
  });
  add('depthwise-po2-valid-dilated', (b) => {
    const x = b.input({ id: 'x', shape: [6, 6, 4], quant: IN.relu4 });
    const wv = Array.from({ length: 2 * 2 * 4 }, () => values(r, 1, [-1, 1])[0]! * 2 ** randInts(r, 1, -3, 1)[0]!);
    const weights = po2WeightsFromValues(wv, [2, 2, 4, 1], PO2);
    return [b.depthwise(x, { id: 'dw', weights, kernel: [2, 2], dilation: [2, 1] })];
  });
  add('maxpool-2d-same-1d', (b) => {
    const x = b.input({ id: 'x', shape: [7, 5, 3], quant: IN.q8_3 });
    const m1 = b.maxpool(x, { id: 'mp', pool: [3, 2], strides: [2, 1], padding: 'same' });
    const s = b.input({ id: 's', shape: [11, 2], quant: IN.relu4 });
    const m2 = b.maxpool(s, { id: 'mp1', pool: [3], strides: [2], padding: 'valid' });
    return [m1, m2];
  });
  add('avgpool-q-same-and-plain', (b) => {
    const x = b.input({ id: 'x', shape: [7, 7, 2], quant: IN.q8_3 });
    // QAveragePooling2D form: sum·area/count·q(1/area); 'same' edges have 4 and 6 valid cells.
    const a1 = b.avgpool(x, { id: 'qavg', pool: [3, 3], strides: [2, 2], padding: 'same', preScale: 9, mult: { code: 7, exp: -6 }, requant: ACT.bits6_2 });
    const a2 = b.avgpool(x, { id: 'avg', pool: [2, 2], strides: [2, 2], padding: 'valid' });
    const a3 = b.avgpool(x, { id: 'avg_same', pool: [2, 2], strides: [2, 2], padding: 'same', requant: ACT.autoPo2 });
    return [a1, a2, a3];
  });
  add('globalavgpool', (b) => {
    const x = b.input({ id: 'x', shape: [4, 4, 3], quant: IN.q6_2 });
    const g1 = b.globalAvgPool(x, { id: 'gap', divisor: 16 });
    const g2 = b.globalAvgPool(x, { id: 'qgap', divisor: 1, mult: { code: 5, exp: -7 }, requant: ACT.bits4_0 });
    return [g1, g2];
  });
  add('batchnorm', (b) => {
    const x = b.input({ id: 'x', shape: [3, 4, 5], quant: IN.q8_3 });
    return [b.batchnorm(x, { id: 'bn', scale: { codes: [3, -5, 1, 0, 7], exp: -3 }, offset: { codes: [1, -9, 0, 4, -2], exp: -4 }, requant: ACT.bits6_2 })];
  });
  add('add-three-grids', (b) => {
    const x = b.input({ id: 'x', shape: [4, 6], quant: IN.q8_3 });
    const y = b.input({ id: 'y', shape: [4, 6], quant: IN.relu4 });
    const z = b.input({ id: 'z', shape: [4, 6], quant: IN.ternary });
    const s1 = b.addition([x, y, z], { id: 'sum3', requant: ACT.bits4_0 });
    const s2 = b.addition([x, x], { id: 'twice' });
    return [s1, s2];
  });
  add('concat-mixed', (b) => {
    const x = b.input({ id: 'x', shape: [2, 3, 4], quant: IN.q8_3 });
    const y = b.input({ id: 'y', shape: [2, 3, 2], quant: IN.relu4 });
    const z = b.input({ id: 'z', shape: [1, 3, 4], quant: IN.q6_2 });
    const c1 = b.concat([x, y], { id: 'last', axis: -1 });
    const c2 = b.concat([x, z], { id: 'first', axis: 0 });
    return [c1, c2];
  });
  add('requantize-rules', (b) => {
    const x = b.input({ id: 'x', shape: [64], quant: IN.q8_3 });
    const sign = b.requantize(x, { id: 'sign', requant: ACT.binary });
    const sign01 = b.requantize(x, { id: 'sign01', requant: ACT.binary01 });
    const tern = b.requantize(x, { id: 'tern', requant: ACT.ternary });
    const leaky = b.requantize(x, { id: 'leaky', requant: ACT.leaky });
    const alpha = b.requantize(x, { id: 'alpha', requant: ACT.alpha2 });
    const away = b.requantize(x, { id: 'away', requant: ACT.autoPo2 });
    // Left shift: the rule's grid is finer than the input's.
    const fine = b.requantize(x, { id: 'fine', requant: ruleOf(shiftRule({ frac: 7, lo: -5000, hi: 5000 }), 'fine') });
    const relu = b.requantize(x, { id: 'relu', requant: ruleOf(shiftRule({ frac: null, lo: 0 }), 'relu') });
    return [sign, sign01, tern, leaky, alpha, away, fine, relu];
  });
  add('lookup-rules', (b) => {
    const x = b.input({ id: 'x', shape: [32], quant: IN.q8_3 });
    const inType = { kind: 'fixed', signed: true, width: 8, frac: 4 } as IntType;
    const tanhPlan = planRequant({ className: 'quantized_tanh', config: { bits: 4 } });
    if (tanhPlan.kind !== 'evaluate') throw new Error('tanh should be evaluated');
    const tanh = b.requantize(x, { id: 'tanh', requant: buildRuleFromReference(tanhPlan, inType) });
    const sigPlan = planRequant({ className: 'quantized_sigmoid', config: { bits: 6 } });
    if (sigPlan.kind !== 'evaluate') throw new Error('sigmoid should be evaluated');
    const sig = b.requantize(x, { id: 'sigmoid', requant: buildRuleFromReference(sigPlan, inType) });
    // A non-monotone function becomes a table: |x| on a 3-bit unsigned grid, wrapped.
    const tablePlan = { kind: 'evaluate', quantizer: 'wrap', out: { kind: 'fixed', signed: false, width: 3, frac: 1 }, residual: 'none', monotone: false, reference: null } as const;
    const table = b.requantize(x, { id: 'table', requant: buildRuleFromFunction(tablePlan, inType, (xs) => Array.from(xs, (v) => (Math.floor(Math.abs(v) * 2) % 8) / 2)) });
    // A monotone po2 staircase: threshold rule with a po2 output type.
    const po2Plan = { kind: 'evaluate', quantizer: 'po2-steps', out: { kind: 'po2', signed: true, expMin: -2, expMax: 2, zero: true }, residual: 'none', monotone: true, reference: null } as const;
    const po2 = b.requantize(x, {
      id: 'po2',
      requant: buildRuleFromFunction(po2Plan, inType, (xs) =>
        Array.from(xs, (v) => (Math.abs(v) < 0.2 ? 0 : Math.sign(v) * 2 ** Math.max(-2, Math.min(2, Math.round(Math.log2(Math.abs(v))))))),
      ),
    });
    return [tanh, sig, table, po2];
  });
  add('cnn-flatten-argmax', (b) => {
    const x = b.input({ id: 'x', shape: [8, 8, 1], quant: IN.u8 });
    const w1 = intWeightsFromValues('conv2d', Array.from({ length: 9 * 8 }, () => values(r, 1, [-1, 0, 1])[0]! * 0.25), [3, 3, 1, 8], TERNARY);
    const c1 = b.conv2d(x, { id: 'conv', weights: w1, kernel: [3, 3], bias: { codes: randInts(r, 8, -4, 4), exp: -4 }, requant: ACT.relu3_0 });
    const p = b.maxpool(c1, { id: 'pool', pool: [2, 2] });
    const f = b.reshape(p, { id: 'flat', shape: [72] });
    const w2 = intWeightsFromValues('dense', channelScaled(r, 72 * 10, 10, 3, Array(10).fill(1) as number[]), [72, 10], FIXED(3));
    const d = b.dense(f, { id: 'logits', weights: w2, bias: { codes: randInts(r, 10, -3, 3), exp: -2 } });
    const am = b.argmax(d, { id: 'class' });
    return [d, am];
  });
  add('outputs-that-copy', (b) => {
    // Graph outputs that are an input, a reshape of an input, and the same node twice.
    const x = b.input({ id: 'x', shape: [2, 3], quant: IN.q8_3 });
    const f = b.reshape(x, { id: 'flat', shape: [6] });
    const q = b.requantize(f, { id: 'q', requant: ACT.bits4_0 });
    const f2 = b.reshape(q, { id: 'back', shape: [3, 2] });
    return [x, f, q, q, f2];
  });
  return graphs;
}
