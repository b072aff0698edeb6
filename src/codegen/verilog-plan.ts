/**
 * What every accumulating node computes, as plain integer dot products: for each output element, the
 * input elements it reads, the integer weight each is multiplied by on the accumulator grid, and a
 * constant. Dense and convolution weights come from the IR's own alignment (`alignMac`); pooling,
 * batch-norm and add reduce to the same form with the factors the op registry uses, so one datapath
 * (shift-add dot products, modulo 2^accWidth) serves every accumulating op, and the result equals
 * `runIR`'s accumulator code by construction.
 */
import type {
  AccumulatingNode,
  AvgPoolNode,
  BatchNormNode,
  Dyadic,
  FixedType,
  IntType,
  MacNode,
  MaxPoolNode,
  Node,
  Conv1dNode,
  Conv2dNode,
  DepthwiseNode,
} from '../ir/nodes.js';
import { outChannels } from '../ir/nodes.js';
import { gridFrac } from '../ir/fixed.js';
import { alignMac } from '../ir/weights.js';
import { assertNever } from '../errors.js';
import { opOf } from '../ops/registry.js';
import { accTypeOf } from '../ops/op-common.js';
import { dyadicRatio } from '../ops/pool-ops.js';
import { axisGeometry, type AxisGeometry } from '../ops/geometry.js';
import { UnsupportedError } from '../errors.js';

/** One product: input `slot` (position in the node's inputs), flat element `index`, integer weight. */
export interface DotTerm {
  readonly slot: number;
  readonly index: number;
  readonly weight: bigint;
}

/** One output element: `bias + Σ weight · x[slot][index]`, exactly the accumulator code. */
export interface DotPlan {
  readonly terms: readonly DotTerm[];
  readonly bias: bigint;
}

export interface AccPlan {
  /** The accumulator type (its width bounds every result, so the datapath may compute modulo 2^width). */
  readonly acc: FixedType;
  /** One plan per output element, row-major. */
  readonly dots: readonly DotPlan[];
}

function pow2n(e: number): bigint {
  if (e < 0) throw new Error(`internal: negative exponent ${e} in an integer weight`);
  return 1n << BigInt(e);
}

/** The accumulator type a node uses (its recorded type, else the proven one), as the interpreter does. */
export function accumulatorType(node: AccumulatingNode, inputs: readonly Node[]): FixedType {
  const types = inputs.map((n) => n.type as IntType);
  const info = opOf(node).accumulator(node, types, inputs.map((n) => n.shape));
  if (info === null) throw new Error(`internal: %${node.id} has no accumulator`);
  return accTypeOf(node, info);
}

/** The two window axes of a convolution or pooling node (a 1-D op has a trivial first axis). */
export function windowAxes(node: Conv1dNode | Conv2dNode | DepthwiseNode | MaxPoolNode | AvgPoolNode, inShape: readonly number[]): [AxisGeometry, AxisGeometry] {
  const where = `%${node.id}`;
  const one = axisGeometry(1, 1, 1, 1, 'valid', where);
  switch (node.kind) {
    case 'conv1d':
      return [one, axisGeometry(inShape[0]!, node.kernel, node.stride, node.dilation, node.padding, where)];
    case 'conv2d':
    case 'depthwise':
      return [
        axisGeometry(inShape[0]!, node.kernel[0], node.strides[0], node.dilation[0], node.padding, where),
        axisGeometry(inShape[1]!, node.kernel[1], node.strides[1], node.dilation[1], node.padding, where),
      ];
    case 'maxpool':
    case 'avgpool':
      if (node.pool.length === 1) {
        return [one, axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, where)];
      }
      return [
        axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, where),
        axisGeometry(inShape[1]!, node.pool[1]!, node.strides[1]!, 1, node.padding, where),
      ];
    default:
      return assertNever(node, 'window node');
  }
}

/** A window cell: kernel offsets and the flat index of its pixel (channel 0), or null in padding. */
export interface WindowCell {
  readonly ki: number;
  readonly kj: number;
  readonly pixel: number;
}

/** The valid cells of output position (oh, ow), in kernel order. */
export function windowCells(gh: AxisGeometry, gw: AxisGeometry, oh: number, ow: number): WindowCell[] {
  const cells: WindowCell[] = [];
  for (let ki = 0; ki < gh.kernel; ki += 1) {
    const ih = oh * gh.stride - gh.padBefore + ki * gh.dilation;
    if (ih < 0 || ih >= gh.inSize) continue;
    for (let kj = 0; kj < gw.kernel; kj += 1) {
      const iw = ow * gw.stride - gw.padBefore + kj * gw.dilation;
      if (iw < 0 || iw >= gw.inSize) continue;
      cells.push({ ki, kj, pixel: ih * gw.inSize + iw });
    }
  }
  return cells;
}

/** Aligned integer weights and bias of a MAC node on its accumulator grid, as bigints. */
export function alignedMac(node: MacNode, inType: IntType, acc: FixedType): { weights: bigint[]; bias: bigint[]; channels: number } {
  const a = alignMac(node, gridFrac(inType), acc.frac);
  const big = bigintOf();
  return { weights: Array.from(a.weights, big), bias: Array.from(a.bias, big), channels: a.channels };
}

/**
 * `BigInt` of safe integers, each distinct value converted once: a layer's weights take few distinct
 * values (quantized codes), and converting hundreds of thousands of them one by one is most of the
 * time a large layer's plan takes.
 */
function bigintOf(): (v: number) => bigint {
  const seen = new Map<number, bigint>();
  return (v) => {
    let b = seen.get(v);
    if (b === undefined) {
      b = BigInt(v);
      seen.set(v, b);
    }
    return b;
  };
}

function macDots(node: MacNode, input: Node, acc: FixedType): DotPlan[] {
  const inType = input.type as IntType;
  const { weights, bias, channels } = alignedMac(node, inType, acc);
  const x = input.shape;
  const dots: DotPlan[] = [];
  switch (node.kind) {
    case 'dense':
    case 'pointwise': {
      const n = x[x.length - 1]!;
      const rows = x.reduce((a, b) => a * b, 1) / n;
      for (let r = 0; r < rows; r += 1) {
        for (let j = 0; j < channels; j += 1) {
          const terms: DotTerm[] = [];
          for (let i = 0; i < n; i += 1) {
            const w = weights[i * channels + j]!;
            if (w !== 0n) terms.push({ slot: 0, index: r * n + i, weight: w });
          }
          dots.push({ terms, bias: bias[j]! });
        }
      }
      return dots;
    }
    case 'conv1d':
    case 'conv2d':
    case 'depthwise': {
      const [gh, gw] = windowAxes(node, x);
      const C = x[x.length - 1]!;
      const dm = node.kind === 'depthwise' ? node.weights.shape[3]! : 1;
      const kw = gw.kernel;
      for (let oh = 0; oh < gh.outSize; oh += 1) {
        for (let ow = 0; ow < gw.outSize; ow += 1) {
          const cells = windowCells(gh, gw, oh, ow);
          for (let f = 0; f < channels; f += 1) {
            const terms: DotTerm[] = [];
            for (const cell of cells) {
              const k = cell.ki * kw + cell.kj;
              if (node.kind === 'depthwise') {
                const c = Math.floor(f / dm);
                const w = weights[k * channels + f]!;
                if (w !== 0n) terms.push({ slot: 0, index: cell.pixel * C + c, weight: w });
              } else {
                for (let c = 0; c < C; c += 1) {
                  const w = weights[(k * C + c) * channels + f]!;
                  if (w !== 0n) terms.push({ slot: 0, index: cell.pixel * C + c, weight: w });
                }
              }
            }
            dots.push({ terms, bias: bias[f]! });
          }
        }
      }
      return dots;
    }
    default:
      return assertNever(node, 'MAC node');
  }
}

const ONE: Dyadic = { code: 1, exp: 0 };

function avgDots(node: AvgPoolNode, input: Node, acc: FixedType): DotPlan[] {
  const fi = gridFrac(input.type as IntType);
  const m = node.mult ?? ONE;
  const [gh, gw] = windowAxes(node, input.shape);
  const C = input.shape[input.shape.length - 1]!;
  const dots: DotPlan[] = [];
  for (let oh = 0; oh < gh.outSize; oh += 1) {
    for (let ow = 0; ow < gw.outSize; ow += 1) {
      const cells = windowCells(gh, gw, oh, ow);
      const r = dyadicRatio(node.preScale, cells.length);
      if (r === null) throw new UnsupportedError(`%${node.id}: average over ${cells.length} cells is not dyadic`);
      // acc code = S · p · m.code · 2^(acc.frac - fi + m.exp - k) for the window sum S of input codes.
      const w = BigInt(r.p) * BigInt(m.code) * pow2n(acc.frac - fi + m.exp - r.k);
      for (let c = 0; c < C; c += 1) {
        dots.push({ terms: w === 0n ? [] : cells.map((cell) => ({ slot: 0, index: cell.pixel * C + c, weight: w })), bias: 0n });
      }
    }
  }
  return dots;
}

function bnDots(node: BatchNormNode, input: Node, acc: FixedType): DotPlan[] {
  const fi = gridFrac(input.type as IntType);
  const C = node.scale.codes.length;
  const n = input.shape.reduce((a, b) => a * b, 1);
  const dots: DotPlan[] = [];
  for (let i = 0; i < n; i += 1) {
    const c = i % C;
    const s = BigInt(node.scale.codes[c]!);
    const o = BigInt(node.offset.codes[c]!);
    const w = s === 0n ? 0n : s * pow2n(acc.frac - fi + node.scale.exp);
    const b = o === 0n ? 0n : o * pow2n(acc.frac + node.offset.exp);
    dots.push({ terms: w === 0n ? [] : [{ slot: 0, index: i, weight: w }], bias: b });
  }
  return dots;
}

/** The dot-product plan of an accumulating node (`inputs` are its input nodes, typed). */
export function accumulatorPlan(node: AccumulatingNode, inputs: readonly Node[]): AccPlan {
  const acc = accumulatorType(node, inputs);
  let dots: DotPlan[];
  switch (node.kind) {
    case 'dense':
    case 'pointwise':
    case 'conv1d':
    case 'conv2d':
    case 'depthwise':
      dots = macDots(node, inputs[0]!, acc);
      break;
    case 'avgpool':
      dots = avgDots(node, inputs[0]!, acc);
      break;
    case 'globalavgpool': {
      const input = inputs[0]!;
      const fi = gridFrac(input.type as IntType);
      const r = dyadicRatio(1, node.divisor);
      if (r === null) throw new UnsupportedError(`%${node.id}: division by ${node.divisor} is not dyadic`);
      const m = node.mult ?? ONE;
      const w = BigInt(m.code) * pow2n(acc.frac - fi + m.exp - r.k);
      const C = input.shape[input.shape.length - 1]!;
      const cells = input.shape.reduce((a, b) => a * b, 1) / C;
      dots = [];
      for (let c = 0; c < C; c += 1) {
        const terms: DotTerm[] = [];
        if (w !== 0n) for (let p = 0; p < cells; p += 1) terms.push({ slot: 0, index: p * C + c, weight: w });
        dots.push({ terms, bias: 0n });
      }
      break;
    }
    case 'batchnorm':
      dots = bnDots(node, inputs[0]!, acc);
      break;
    case 'add': {
      const n = node.shape.reduce((a, b) => a * b, 1);
      const ws = inputs.map((x) => pow2n(acc.frac - gridFrac(x.type as IntType)));
      dots = [];
      for (let i = 0; i < n; i += 1) dots.push({ terms: ws.map((w, slot) => ({ slot, index: i, weight: w })), bias: 0n });
      break;
    }
    default:
      return assertNever(node, 'accumulating node');
  }
  return { acc, dots };
}

/** Integer weights of a MAC node as a `[inputs, outputs]` matrix (for streamed layers), with its geometry. */
export interface MacMatrix {
  /** Inputs per output: `KH·KW·C` window elements (kernel order, channels last) or the dense input size. */
  readonly rows: number;
  readonly cols: number;
  /** Row-major `[rows, cols]` integer codes (depthwise: zeros outside each channel's block). */
  readonly codes: readonly bigint[];
  /** Per output column: left shift aligning `Σ code · x` to the accumulator grid. */
  readonly shifts: readonly number[];
  /** Per output column: bias on the accumulator grid. */
  readonly bias: readonly bigint[];
}

/**
 * The weights of a MAC node as integer codes per output channel plus one shift per channel (the aligned
 * weight is `code << shift`), so a weight ROM stores narrow codes and the shift is a wire.
 */
export function macMatrix(node: MacNode, input: Node, acc: FixedType): MacMatrix {
  // The aligned weights are safe integers (alignMac checks): shifts and codes are computed on doubles,
  // exactly, and only the codes become bigints (layers have up to hundreds of thousands of weights).
  const a = alignMac(node, gridFrac(input.type as IntType), acc.frac);
  const { weights, channels } = a;
  const big = bigintOf();
  const bias = Array.from(a.bias, big);
  // Per channel, the largest shift that keeps every aligned weight an integer multiple of 2^shift.
  const shifts = new Array<number>(channels).fill(Infinity);
  for (let i = 0; i < weights.length; i += 1) {
    const w = weights[i]!;
    if (w === 0) continue;
    let t = 0;
    let v = Math.abs(w);
    while (v % 2 === 0) {
      v /= 2;
      t += 1;
    }
    const c = i % channels;
    if (t < shifts[c]!) shifts[c] = t;
  }
  const sh = shifts.map((s) => (s === Infinity ? 0 : s));
  const scale = sh.map((s) => 2 ** s);
  const code = (w: number, c: number): bigint => big(w / scale[c]!);
  if (node.kind === 'depthwise') {
    const ws = node.weights.shape;
    const cells = ws[0]! * ws[1]!;
    const C = ws[2]!;
    const dm = ws[3]!;
    const O = outChannels('depthwise', ws);
    const rows = cells * C;
    const codes = new Array<bigint>(rows * O).fill(0n);
    for (let k = 0; k < cells; k += 1) {
      for (let c = 0; c < C; c += 1) {
        for (let m = 0; m < dm; m += 1) {
          const o = c * dm + m;
          codes[(k * C + c) * O + o] = code(weights[k * O + o]!, o);
        }
      }
    }
    return { rows, cols: O, codes, shifts: sh, bias };
  }
  const rows = weights.length / channels;
  const codes = new Array<bigint>(weights.length);
  for (let i = 0; i < weights.length; i += 1) codes[i] = code(weights[i]!, i % channels);
  return { rows, cols: channels, codes, shifts: sh, bias };
}

/** The dot products of an unrolled MAC over one input word (reuse 1): per output, its nonzero aligned weights. */
export function macPlans(m: MacMatrix): DotPlan[] {
  const F = m.cols;
  const plans: DotPlan[] = [];
  for (let f = 0; f < F; f += 1) {
    const terms = [];
    for (let i = 0; i < m.rows; i += 1) {
      const c = m.codes[i * F + f]!;
      if (c !== 0n) terms.push({ slot: 0, index: i, weight: c << BigInt(m.shifts[f]!) });
    }
    plans.push({ terms, bias: m.bias[f]! });
  }
  return plans;
}
