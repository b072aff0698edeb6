/**
 * Multiply-accumulate ops: dense, conv1d, conv2d, depthwise and pointwise. Each output channel sums
 * integer products on its own natural grid; the node's accumulator aligns all channels (and the bias) to
 * one grid by exact left shifts, so a tensor keeps a single type.
 */
import type {
  Conv1dNode,
  Conv2dNode,
  DenseNode,
  DepthwiseNode,
  IntType,
  MacNode,
  PointwiseNode,
  TensorType,
} from '../ir/nodes.js';
import { outChannels } from '../ir/nodes.js';
import { F32_EXACT, codeRange, gridFrac, maxAbs, storageBits, unionRange } from '../ir/fixed.js';
import {
  alignMac,
  channelCodes,
  macChannelRanges,
  macFrac,
  nonzeroCount,
  numel,
  weightCodeBits,
  type AlignedMac,
} from '../ir/weights.js';
import { IRGraphError } from '../ir/errors.js';
import { assertNever } from '../errors.js';
import type { IRTensor } from '../ir/tensor.js';
import { axisGeometry, type AxisGeometry } from './geometry.js';
import { conv2dLoop, depthwiseLoop, matmulLast } from './kernels.js';
import { getOpType, opName, quantModeOfType } from './classify.js';
import {
  accTypeOf,
  accumulatingType,
  assertInterpretable,
  finishAccumulator,
  intTypes,
  memo,
  numelOf,
  requantFloat32,
  type AccInfo,
  type Classification,
  type OpCost,
  type OpDef,
  type Shapes,
} from './op-common.js';

function where(node: MacNode): string {
  return `%${node.id} (${node.kind}, layer ${JSON.stringify(node.origin.layer)})`;
}

/** Validates the weight and bias tensors' sizes against their declared shape. */
function checkWeights(node: MacNode): void {
  const w = node.weights;
  const n = numel(w.shape);
  const channels = outChannels(node.kind, w.shape);
  if (w.kind === 'int') {
    if (w.codes.length !== n) throw new IRGraphError(`${where(node)}: ${w.codes.length} weight codes for shape [${w.shape.join(', ')}]`);
    if (w.exps.length !== channels) {
      throw new IRGraphError(`${where(node)}: ${w.exps.length} channel exponents for ${channels} output channels`);
    }
    w.codes.forEach((c, i) => {
      if (!Number.isSafeInteger(c)) throw new IRGraphError(`${where(node)}: weight code ${c} at ${i} is not a safe integer`);
    });
  } else {
    if (w.signs.length !== n || w.exps.length !== n) {
      throw new IRGraphError(`${where(node)}: po2 weights need ${n} signs and exponents for shape [${w.shape.join(', ')}]`);
    }
  }
  if (w.exps.some((e) => !Number.isInteger(e))) throw new IRGraphError(`${where(node)}: weight exponents must be integers`);
  if (node.bias !== null && node.bias.codes.length !== channels) {
    throw new IRGraphError(`${where(node)}: bias has ${node.bias.codes.length} values for ${channels} output channels`);
  }
}

function expectRank(node: MacNode, shape: readonly number[], rank: number, layout: string): void {
  if (shape.length !== rank) {
    throw new IRGraphError(`${where(node)}: input shape [${shape.join(', ')}] is not ${layout}`);
  }
}

function expectWeightShape(node: MacNode, expected: readonly number[]): void {
  const got = node.weights.shape;
  if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
    throw new IRGraphError(`${where(node)}: weights have shape [${got.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

function spatialGeometry(node: Conv1dNode | Conv2dNode | DepthwiseNode, inShape: readonly number[]): [AxisGeometry, AxisGeometry] {
  const w = where(node);
  if (node.kind !== 'conv1d' && node.padding === 'causal') throw new IRGraphError(`${w}: causal padding exists for conv1d only`);
  if (node.kind === 'conv1d') {
    return [
      axisGeometry(1, 1, 1, 1, 'valid', w),
      axisGeometry(inShape[0]!, node.kernel, node.stride, node.dilation, node.padding, w),
    ];
  }
  return [
    axisGeometry(inShape[0]!, node.kernel[0], node.strides[0], node.dilation[0], node.padding, w),
    axisGeometry(inShape[1]!, node.kernel[1], node.strides[1], node.dilation[1], node.padding, w),
  ];
}

function macShape(node: MacNode, inShapes: Shapes): number[] {
  checkWeights(node);
  const x = inShapes[0]!;
  const ws = node.weights.shape;
  switch (node.kind) {
    case 'dense':
    case 'pointwise': {
      if (x.length < (node.kind === 'pointwise' ? 2 : 1)) {
        throw new IRGraphError(`${where(node)}: input shape [${x.join(', ')}] has no ${node.kind === 'pointwise' ? 'spatial and ' : ''}channel axis`);
      }
      const n = x[x.length - 1]!;
      expectWeightShape(node, [n, ws[1] ?? 0]);
      return [...x.slice(0, -1), ws[1]!];
    }
    case 'conv1d': {
      expectRank(node, x, 2, '[steps, channels]');
      expectWeightShape(node, [node.kernel, x[1]!, ws[2] ?? 0]);
      const [, g] = spatialGeometry(node, x);
      return [g.outSize, ws[2]!];
    }
    case 'conv2d':
    case 'depthwise': {
      expectRank(node, x, 3, '[height, width, channels]');
      expectWeightShape(node, [node.kernel[0], node.kernel[1], x[2]!, ws[3] ?? 0]);
      const [gh, gw] = spatialGeometry(node, x);
      return [gh.outSize, gw.outSize, node.kind === 'conv2d' ? ws[3]! : x[2]! * ws[3]!];
    }
    default:
      return assertNever(node, 'MAC node');
  }
}

const shapeCache = new WeakMap<MacNode, { key: string; value: number[] }>();

/** The output shape, validated once per node and input shape (evaluation runs it for every sample). */
function macShapeMemo(node: MacNode, inShape: readonly number[]): number[] {
  return memo(shapeCache, node, inShape.join(','), () => macShape(node, [inShape]));
}

const accCache = new WeakMap<MacNode, { key: string; value: { info: AccInfo; aligned: AlignedMac } }>();
const runCache = new WeakMap<MacNode, { key: string; value: AlignedMac }>();

function macAccumulator(node: MacNode, inType: IntType): { info: AccInfo; aligned: AlignedMac } {
  const fi = gridFrac(inType);
  return memo(accCache, node, JSON.stringify(inType), () => {
    const frac = macFrac(node, fi);
    const aligned = alignMac(node, fi, frac);
    const channels = macChannelRanges(aligned, codeRange(inType));
    const range = channels.reduce(unionRange, { lo: 0n, hi: 0n });
    return { info: { frac, range, channels }, aligned };
  });
}

function classifyMac(node: MacNode, inTypes: readonly TensorType[]): Classification {
  const weight = node.weights.quant;
  const input = quantModeOfType(inTypes[0]!);
  const op = getOpType(weight.mode, input.mode);
  return { op, weight, input, name: opName(op, weight, input) };
}

function macCost(node: MacNode, inShapes: Shapes, inTypes: readonly TensorType[]): OpCost {
  const out = macShape(node, inShapes);
  const ws = node.weights.shape;
  const channels = outChannels(node.kind, ws);
  const perChannel = numel(ws) / Math.max(1, channels);
  const positions = numelOf(out) / Math.max(1, channels);
  const macs = positions * channels * perChannel;
  const nonzero = nonzeroCount(node.weights);
  const inType = inTypes[0]!;
  let accWidth: number | null = null;
  let outputBits = 0;
  if (inType.kind !== 'float') {
    const { info } = macAccumulator(node, inType);
    accWidth = accTypeOf(node, info).width;
    const t = accumulatingType(node, info);
    outputBits = t.kind === 'float' ? 32 * numelOf(out) : storageBits(t) * numelOf(out);
  }
  return {
    macs,
    activeMacs: node.pruned ? positions * nonzero : macs,
    adds: node.bias === null ? 0 : numelOf(out),
    compares: 0,
    weights: numel(ws),
    nonzeroWeights: nonzero,
    weightBits: numel(ws) * weightCodeBits(node.kind, node.weights),
    biases: node.bias === null ? 0 : node.bias.codes.length,
    accWidth,
    outputBits,
    classification: classifyMac(node, inTypes),
  };
}

/**
 * tfjs sums each channel's float32 products on the channel's own grid `2^-(inFrac - e_c)` and adds the
 * bias afterwards; both are exact while the proven magnitudes stay within 2^24 units of those grids.
 */
function macFloat32(node: MacNode, inType: IntType): string[] {
  const { codes, exps } = channelCodes(node.kind, node.weights);
  const channels = exps.length;
  const sums = new Array<bigint>(channels).fill(0n);
  codes.forEach((c, i) => {
    sums[i % channels] = sums[i % channels]! + BigInt(Math.abs(c));
  });
  const xm = maxAbs(codeRange(inType));
  const fi = gridFrac(inType);
  const limit = BigInt(F32_EXACT);
  let worst: { c: number; units: bigint; grid: number; what: string } | null = null;
  for (let c = 0; c < channels; c += 1) {
    const natural = fi - exps[c]!;
    const products = sums[c]! * xm;
    let units = products;
    let grid = natural;
    let what = 'sum of |w|·max|x|';
    if (node.bias !== null && node.bias.codes[c] !== 0) {
      grid = Math.max(natural, -node.bias.exp);
      units = (products << BigInt(grid - natural)) + (BigInt(Math.abs(node.bias.codes[c]!)) << BigInt(grid + node.bias.exp));
      what = 'sum of |w|·max|x| plus |bias|';
    }
    if (units > limit && (worst === null || units > worst.units)) worst = { c, units, grid, what };
  }
  const msgs: string[] = [];
  if (worst !== null) {
    msgs.push(
      `output channel ${worst.c}: ${worst.what} reaches ${worst.units} units of 2^-${worst.grid}, above 2^24, ` +
        'so tfjs float32 accumulation may round',
    );
  }
  if (node.requant !== null) {
    const { info } = macAccumulator(node, inType);
    msgs.push(...requantFloat32(node.requant, accTypeOf(node, info)));
  }
  return msgs;
}

function macEvaluate(node: MacNode, inputs: readonly IRTensor[]): IRTensor {
  const x = inputs[0]!;
  if (x.type.kind === 'float') throw new IRGraphError(`${where(node)}: float input`);
  const inType = x.type;
  const { info } = macAccumulator(node, inType);
  const acc = accTypeOf(node, info);
  assertInterpretable(node, info, acc);
  const fi = gridFrac(inType);
  const aligned = memo(runCache, node, `${fi}/${acc.frac}`, () => alignMac(node, fi, acc.frac));
  const shape = macShapeMemo(node, x.shape);
  let data: Float64Array;
  switch (node.kind) {
    case 'dense':
    case 'pointwise': {
      const n = x.shape[x.shape.length - 1]!;
      data = matmulLast(x.data, x.data.length / n, n, aligned.weights, aligned.channels, aligned.bias);
      break;
    }
    case 'conv1d':
    case 'conv2d': {
      const [gh, gw] = spatialGeometry(node, x.shape);
      const channels = x.shape[x.shape.length - 1]!;
      data = conv2dLoop(x.data, channels, aligned.weights, aligned.channels, gh, gw, aligned.bias);
      break;
    }
    case 'depthwise': {
      const [gh, gw] = spatialGeometry(node, x.shape);
      data = depthwiseLoop(x.data, x.shape[2]!, aligned.weights, node.weights.shape[3]!, gh, gw, aligned.bias);
      break;
    }
    default:
      return assertNever(node, 'MAC node');
  }
  return finishAccumulator(node, acc, shape, data);
}

function macDef<N extends MacNode>(kind: N['kind']): OpDef<N> {
  return {
    kind,
    arity: [1, 1],
    shape: (node, inShapes) => macShape(node, inShapes),
    accumulator: (node, inTypes) => macAccumulator(node, inTypes[0]!).info,
    type: (node, inTypes) => accumulatingType(node, macAccumulator(node, intTypes(node, inTypes)[0]!).info),
    classify: (node, inTypes) => classifyMac(node, inTypes),
    cost: (node, inShapes, inTypes) => macCost(node, inShapes, inTypes),
    float32: (node, inTypes) => macFloat32(node, inTypes[0]!),
    evaluate: (node, inputs) => macEvaluate(node, inputs),
  };
}

export const denseOp: OpDef<DenseNode> = macDef<DenseNode>('dense');
export const conv1dOp: OpDef<Conv1dNode> = macDef<Conv1dNode>('conv1d');
export const conv2dOp: OpDef<Conv2dNode> = macDef<Conv2dNode>('conv2d');
export const depthwiseOp: OpDef<DepthwiseNode> = macDef<DepthwiseNode>('depthwise');
export const pointwiseOp: OpDef<PointwiseNode> = macDef<PointwiseNode>('pointwise');
