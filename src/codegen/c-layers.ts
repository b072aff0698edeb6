/**
 * One IR node → the instances of hand-written C kernels (templates/c/qk_*.h) that compute it: the kernel
 * file, the values of its parameters, the constant arrays it reads (weights transposed or padded for
 * contiguous inner loops, biases and factors on the accumulator grid, rule tables), and the stack and
 * ROM it uses. All numbers are exact: integer constants are derived with BigInt from the same grids the
 * interpreter uses, and every accumulator type is chosen from a bound proven from the actual constants.
 */
import type {
  AccumulatingNode,
  AddNode,
  ArgmaxNode,
  AvgPoolNode,
  BatchNormNode,
  ConcatNode,
  FixedType,
  GlobalAvgPoolNode,
  IntType,
  MacNode,
  MaxPoolNode,
  Node,
  RequantizeNode,
  Rule,
} from '../ir/nodes.js';
import { codeRange, fixedForRange, gridFrac, type Range } from '../ir/fixed.js';
import { channelCodes } from '../ir/weights.js';
import { opOf } from '../ops/registry.js';
import { axisGeometry, windowCounts, type AxisGeometry } from '../ops/geometry.js';
import { dyadicRatio } from '../ops/pool-ops.js';
import { UnsupportedError, assertNever } from '../errors.js';
import {
  C_TYPES,
  accTypeForBound,
  cConst,
  cElement,
  cTypeForRange,
  rangeMaxAbs,
  typeBytes,
  type AccCType,
  type CType,
} from './c-types.js';
import { ruleExpr } from './c-rules.js';

/** A `static const` array of weights.h. */
export interface CArray {
  readonly name: string;
  readonly ctype: CType;
  /** Array dimensions (row-major); the values are flat. */
  readonly dims: readonly number[];
  readonly values: readonly bigint[];
  readonly comment: string;
}

/** One inclusion of a kernel file with its parameters, defining one static function. */
export interface KernelInstance {
  readonly kernel: string;
  readonly fn: string;
  readonly defines: readonly (readonly [string, string])[];
  /** Graph node ids the function reads, in argument order (the output is the last argument). */
  readonly args: readonly string[];
}

export interface LayerCode {
  readonly kernels: readonly KernelInstance[];
  readonly arrays: readonly CArray[];
  /** Bytes of kernel-local arrays (accumulator rows, packed signs) on the stack. */
  readonly stackBytes: number;
  /** Which kernel family computes it, for the report. */
  readonly variant: string;
}

/** What a layer planner knows about the graph around a node. */
export interface LayerContext {
  /** The node's identifier in generated code (array and function names derive from it). */
  readonly ident: string;
  readonly inputs: readonly Node[];
  /** C element type of each node's tensor. */
  readonly ctypeOf: (node: Node) => CType;
  /** A describing comment for arrays. */
  readonly label: string;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function intTypeOf(node: Node): IntType {
  const t = node.type;
  if (t === null) throw new UnsupportedError(`%${node.id}: the node has no type; run inferWidths (or runPipeline) before emitting C`);
  if (t.kind === 'float') throw new UnsupportedError(`%${node.id}: float tensors exist only before the input quantizer`);
  return t;
}

function pow2n(e: number): bigint {
  if (e < 0) throw new Error(`negative power of two ${e}`);
  return 1n << BigInt(e);
}

function maxBig(xs: Iterable<bigint>): bigint {
  let m = 0n;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function absBig(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function minMax(values: readonly bigint[]): Range {
  let lo = 0n;
  let hi = 0n;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

function arrayOf(name: string, values: readonly bigint[], dims: readonly number[], comment: string, ctype?: CType): CArray {
  const r = minMax(values);
  return { name, ctype: ctype ?? cTypeForRange(r.lo, r.hi, name), dims, values, comment };
}

export function arrayBytes(a: CArray): number {
  return a.values.length * typeBytes(a.ctype);
}

/** What a layer computed by one kernel instance adds to the kernel's defines. */
interface KernelLayerCode {
  readonly arrays: readonly CArray[];
  readonly stackBytes: number;
  readonly variant: string;
  /** Default `${ident}__fn`. */
  readonly fn?: string;
  /** Default the node's first input. */
  readonly args?: readonly string[];
}

/** A layer computed by one instance of `kernel`: `QK_FN` (the function's name) is defined first. */
function kernelLayer(ctx: LayerContext, kernel: string, defines: readonly (readonly [string, string])[], code: KernelLayerCode): LayerCode {
  const fn = code.fn ?? `${ctx.ident}__fn`;
  return {
    kernels: [{ kernel, fn, defines: [['QK_FN', fn], ...defines], args: code.args ?? [ctx.inputs[0]!.id] }],
    arrays: code.arrays,
    stackBytes: code.stackBytes,
    variant: code.variant,
  };
}

/** The element types of a kernel reading X, accumulating in ACC and writing Y. */
function ioTypes(xT: CType, accT: CType, yT: CType): [string, string][] {
  return [
    ['QK_X_T', xT],
    ['QK_ACC_T', accT],
    ['QK_Y_T', yT],
  ];
}

/** The exact accumulator of an accumulating node: its type (recorded or tightest) and proven range on it. */
function accumulatorOf(node: AccumulatingNode, inputs: readonly Node[]): { acc: FixedType; natural: number; range: Range } {
  const inTypes = inputs.map(intTypeOf);
  const info = opOf(node).accumulator(node as never, inTypes, inputs.map((n) => n.shape));
  if (info === null) throw new Error(`%${node.id}: no accumulator`);
  const acc: FixedType = node.acc ?? fixedForRange(info.range, info.frac);
  if (acc.frac < info.frac) {
    throw new UnsupportedError(`%${node.id}: the recorded accumulator grid 2^-${acc.frac} is coarser than the exact 2^-${info.frac}`);
  }
  const k = pow2n(acc.frac - info.frac);
  return { acc, natural: info.frac, range: { lo: info.range.lo * k, hi: info.range.hi * k } };
}

/** `#define QK_RQ(a, ch) ...` plus the arrays the rule reads. */
function requantDefines(
  ctx: LayerContext,
  rule: Rule | null,
  inFrac: number,
  r: Range,
  out: CType,
  suffix = '',
): { define: readonly [string, string]; arrays: CArray[] } {
  const e = ruleExpr(rule, inFrac, r, out, out);
  const names = { thr: `${ctx.ident}__thr${suffix}`, lut: `${ctx.ident}__lut${suffix}` };
  const arrays = e.arrays.map((a) =>
    arrayOf(names[a.role], a.values, [a.values.length], `${ctx.label}: ${a.role === 'thr' ? 'rule thresholds (input codes)' : 'rule output codes'}`, a.ctype),
  );
  return { define: ['QK_RQ(a, ch)', e.expr('a', names)], arrays };
}

function geometry2d(
  node: { id: string },
  inShape: readonly number[],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilation: readonly [number, number],
  padding: 'valid' | 'same' | 'causal',
): [AxisGeometry, AxisGeometry] {
  const w = `%${node.id}`;
  return [
    axisGeometry(inShape[0]!, kernel[0], strides[0], dilation[0], padding, w),
    axisGeometry(inShape[1]!, kernel[1], strides[1], dilation[1], padding, w),
  ];
}

function geometryDefines(gh: AxisGeometry, gw: AxisGeometry, dilation: boolean): [string, string][] {
  const d: [string, string][] = [
    ['QK_H', `${gh.inSize}`],
    ['QK_W', `${gw.inSize}`],
    ['QK_OH', `${gh.outSize}`],
    ['QK_OW', `${gw.outSize}`],
    ['QK_KH', `${gh.kernel}`],
    ['QK_KW', `${gw.kernel}`],
    ['QK_SH', `${gh.stride}`],
    ['QK_SW', `${gw.stride}`],
  ];
  if (dilation) d.push(['QK_DH', `${gh.dilation}`], ['QK_DW', `${gw.dilation}`]);
  d.push(['QK_PH', `${gh.padBefore}`], ['QK_PW', `${gw.padBefore}`]);
  return d;
}

/**
 * Filters padded to a count the vectoriser handles without a scalar epilogue: gcc's -O2 cost model
 * vectorises only loops whose trip count is a multiple of the vector length, which for a row of int8
 * weights is 16 (8 for int16, 4 for int32). The extra weights are 0 and their sums are never stored.
 */
export function paddedFilters(f: number, weightBytes = 1): number {
  const lanes = 16 / weightBytes;
  if (f < 8) return f;
  return Math.ceil(f / lanes) * lanes;
}

// ---- multiply-accumulate layers -------------------------------------------------------------------------

function macLayer(node: MacNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const inType = intTypeOf(xNode);
  const inShape = xNode.shape;
  const { acc, range } = accumulatorOf(node, ctx.inputs);
  const inFrac = gridFrac(inType);
  const { codes, exps } = channelCodes(node.kind, node.weights);
  const channels = exps.length;
  const bigCodes = codes.map((c) => BigInt(c));
  const live = new Array<boolean>(channels).fill(false);
  codes.forEach((c, i) => {
    if (c !== 0) live[i % channels] = true;
  });
  // Each channel sums x·code on its own grid, then moves to the accumulator grid by 2^shift.
  const muls = exps.map((e, c) => {
    const s = acc.frac + e - inFrac;
    if (!live[c]) return 1n;
    if (s < 0) throw new UnsupportedError(`%${node.id}: the accumulator grid 2^-${acc.frac} is coarser than channel ${c}'s products`);
    return pow2n(s);
  });
  const bias = new Array<bigint>(channels).fill(0n);
  if (node.bias !== null) {
    const s = acc.frac + node.bias.exp;
    node.bias.codes.forEach((b, c) => {
      if (b === 0) return;
      if (s < 0) throw new UnsupportedError(`%${node.id}: the accumulator grid 2^-${acc.frac} is coarser than the bias`);
      bias[c] = BigInt(b) * pow2n(s);
    });
  }
  const xMax = rangeMaxAbs(codeRange(inType));
  const absSum = new Array<bigint>(channels).fill(0n);
  bigCodes.forEach((c, i) => {
    absSum[i % channels] = absSum[i % channels]! + absBig(c) * xMax;
  });
  const bound = maxBig(absSum.map((p, c) => p * muls[c]! + absBig(bias[c]!)));
  // 16-bit accumulators double the SIMD lanes of a convolution's filter row (see accTypeForBound).
  const wide = (node.kind === 'conv1d' || node.kind === 'conv2d') && exps.length >= 8;
  const accT: AccCType = accTypeForBound(bound, `%${node.id} accumulator`, wide);
  const xT = ctx.ctypeOf(xNode);
  const yT = ctx.ctypeOf(node);
  const rq = requantDefines(ctx, node.requant === null ? null : node.requant.rule, acc.frac, range, yT);
  const arrays: CArray[] = [];
  const common: [string, string][] = [];
  if (muls.some((m) => m !== 1n)) {
    arrays.push(arrayOf(`${ctx.ident}__m`, muls, [channels], `${ctx.label}: per-channel power-of-two grid factors`, accT));
    common.push(['QK_CHMUL', `${ctx.ident}__m`]);
  }
  if (bias.some((b) => b !== 0n)) {
    arrays.push(arrayOf(`${ctx.ident}__b`, bias, [channels], `${ctx.label}: bias on the accumulator grid 2^-${acc.frac}`, accT));
    common.push(['QK_BIAS', `${ctx.ident}__b`]);
  }
  const types = ioTypes(xT, accT, yT);
  const ws = node.weights.shape;
  switch (node.kind) {
    case 'dense':
    case 'pointwise': {
      const n = inShape[inShape.length - 1]!;
      const m = ws[1]!;
      const rows = numel(inShape) / n;
      const dims: [string, string][] = [
        ['QK_ROWS', `${rows}`],
        ['QK_N', `${n}`],
        ['QK_M', `${m}`],
      ];
      const unitCodes = (j: number): bigint[] => Array.from({ length: n }, (_, i) => bigCodes[i * m + j]!);
      const isSign = (c: bigint): boolean => c === 1n || c === -1n;
      if (inType.kind === 'binary' && !inType.zeroOne && bigCodes.every(isSign)) {
        const words = Math.ceil(n / 32);
        const packed: bigint[] = [];
        for (let j = 0; j < m; j += 1) {
          const u = unitCodes(j);
          for (let w = 0; w < words; w += 1) {
            let bits = 0n;
            for (let b = 0; b < 32 && w * 32 + b < n; b += 1) if (u[w * 32 + b]! < 0n) bits |= 1n << BigInt(b);
            packed.push(bits);
          }
        }
        arrays.unshift(arrayOf(`${ctx.ident}__w`, packed, [m, words], `${ctx.label}: packed weight signs (bit set = -1), 32 inputs per word`, 'uint32_t'));
        const defines = [...types, ...dims, ['QK_WORDS', `${words}`], ['QK_WBITS', `${ctx.ident}__w`], ...common, rq.define] as const;
        return kernelLayer(ctx, 'qk_dense_xnor.h', defines, {
          arrays: [...arrays, ...rq.arrays],
          stackBytes: words * 4,
          variant: 'xnor-popcount',
        });
      }
      if (bigCodes.every((c) => c === 0n || isSign(c))) {
        const pos: bigint[] = [];
        const neg: bigint[] = [];
        const posAt: bigint[] = [0n];
        const negAt: bigint[] = [0n];
        for (let j = 0; j < m; j += 1) {
          unitCodes(j).forEach((c, i) => {
            if (c > 0n) pos.push(BigInt(i));
            else if (c < 0n) neg.push(BigInt(i));
          });
          posAt.push(BigInt(pos.length));
          negAt.push(BigInt(neg.length));
        }
        const idxT = cTypeForRange(0n, BigInt(Math.max(0, n - 1)), 'index');
        // An empty index list still needs one element: C has no zero-length arrays.
        const nonEmpty = (xs: bigint[]): bigint[] => (xs.length === 0 ? [0n] : xs);
        arrays.unshift(
          arrayOf(`${ctx.ident}__pos`, nonEmpty(pos), [Math.max(1, pos.length)], `${ctx.label}: input indices of the +1 weights, unit by unit`, idxT),
          arrayOf(`${ctx.ident}__neg`, nonEmpty(neg), [Math.max(1, neg.length)], `${ctx.label}: input indices of the -1 weights, unit by unit`, idxT),
          arrayOf(`${ctx.ident}__pa`, posAt, [m + 1], `${ctx.label}: start of each unit's +1 indices`),
          arrayOf(`${ctx.ident}__na`, negAt, [m + 1], `${ctx.label}: start of each unit's -1 indices`),
        );
        const defines: (readonly [string, string])[] = [
          ...types,
          ...dims,
          ['QK_POS', `${ctx.ident}__pos`],
          ['QK_NEG', `${ctx.ident}__neg`],
          ['QK_POS_AT', `${ctx.ident}__pa`],
          ['QK_NEG_AT', `${ctx.ident}__na`],
          ...common,
          rq.define,
        ];
        return kernelLayer(ctx, 'qk_dense_addsub.h', defines, { arrays: [...arrays, ...rq.arrays], stackBytes: 0, variant: 'add-sub' });
      }
      const transposed: bigint[] = [];
      for (let j = 0; j < m; j += 1) transposed.push(...unitCodes(j));
      const w = arrayOf(`${ctx.ident}__w`, transposed, [m, n], `${ctx.label}: weight codes, one row per unit`);
      arrays.unshift(w);
      const defines = [...types, ['QK_W_T', w.ctype], ...dims, ['QK_WEIGHTS', w.name], ...common, rq.define] as const;
      return kernelLayer(ctx, 'qk_dense.h', defines, { arrays: [...arrays, ...rq.arrays], stackBytes: 0, variant: 'multiply' });
    }
    case 'conv1d':
    case 'conv2d': {
      const is1d = node.kind === 'conv1d';
      const [gh, gw] = is1d
        ? [axisGeometry(1, 1, 1, 1, 'valid', node.id), axisGeometry(inShape[0]!, node.kernel, node.stride, node.dilation, node.padding, `%${node.id}`)]
        : geometry2d(node, inShape, node.kernel, node.strides, node.dilation, node.padding);
      const c = inShape[inShape.length - 1]!;
      const f = ws[ws.length - 1]!;
      const wr = minMax(bigCodes);
      const fp = paddedFilters(f, typeBytes(cTypeForRange(wr.lo, wr.hi, 'weights')));
      const rowsW = gh.kernel * gw.kernel * c;
      const padded: bigint[] = [];
      for (let r = 0; r < rowsW; r += 1) {
        for (let k = 0; k < fp; k += 1) padded.push(k < f ? bigCodes[r * f + k]! : 0n);
      }
      const w = arrayOf(`${ctx.ident}__w`, padded, [rowsW, fp], `${ctx.label}: weight codes [kh*kw*C][F${fp === f ? '' : ` padded to ${fp}`}]`);
      arrays.unshift(w);
      const defines: (readonly [string, string])[] = [
        ...types,
        ['QK_W_T', w.ctype],
        ...geometryDefines(gh, gw, true),
        ['QK_C', `${c}`],
        ['QK_F', `${f}`],
        ['QK_FP', `${fp}`],
        ['QK_WEIGHTS', w.name],
        ...common,
        rq.define,
      ];
      return kernelLayer(ctx, 'qk_conv2d.h', defines, { arrays: [...arrays, ...rq.arrays], stackBytes: fp * typeBytes(accT), variant: 'multiply' });
    }
    case 'depthwise': {
      const [gh, gw] = geometry2d(node, inShape, node.kernel, node.strides, node.dilation, node.padding);
      const c = inShape[2]!;
      const dm = ws[3]!;
      const w = arrayOf(`${ctx.ident}__w`, bigCodes, [gh.kernel * gw.kernel, c * dm], `${ctx.label}: weight codes [kh*kw][C*dm]`);
      arrays.unshift(w);
      const geometry = geometryDefines(gh, gw, true);
      const defines = [...types, ['QK_W_T', w.ctype], ...geometry, ['QK_C', `${c}`], ['QK_DM', `${dm}`], ['QK_WEIGHTS', w.name], ...common, rq.define] as const;
      return kernelLayer(ctx, 'qk_depthwise.h', defines, { arrays: [...arrays, ...rq.arrays], stackBytes: c * dm * typeBytes(accT), variant: 'multiply' });
    }
    default:
      return assertNever(node, 'MAC node');
  }
}

// ---- pooling --------------------------------------------------------------------------------------------

function poolGeometry(node: MaxPoolNode | AvgPoolNode, inShape: readonly number[]): [AxisGeometry, AxisGeometry] {
  const w = `%${node.id}`;
  if (node.pool.length === 1) {
    return [axisGeometry(1, 1, 1, 1, 'valid', w), axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, w)];
  }
  return [
    axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, w),
    axisGeometry(inShape[1]!, node.pool[1]!, node.strides[1]!, 1, node.padding, w),
  ];
}

function maxPoolLayer(node: MaxPoolNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const [gh, gw] = poolGeometry(node, xNode.shape);
  const t = ctx.ctypeOf(node);
  const c = xNode.shape[xNode.shape.length - 1]!;
  const defines = [['QK_T', t], ['QK_T_MIN', `((${t})${cElement(C_TYPES[t].min, t)})`], ...geometryDefines(gh, gw, false), ['QK_C', `${c}`]] as const;
  return kernelLayer(ctx, 'qk_maxpool.h', defines, { arrays: [], stackBytes: 0, variant: 'compare' });
}

function avgPoolLayer(node: AvgPoolNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const inType = intTypeOf(xNode);
  const [gh, gw] = poolGeometry(node, xNode.shape);
  const { acc, natural, range } = accumulatorOf(node, ctx.inputs);
  const m = node.mult ?? { code: 1, exp: 0 };
  const counts = windowCounts([gh, gw]);
  const kmax = natural - gridFrac(inType) + m.exp;
  const area = gh.kernel * gw.kernel;
  const factors = new Array<bigint>(area + 1).fill(0n);
  for (const n of counts) {
    const r = dyadicRatio(node.preScale, n);
    if (r === null) throw new UnsupportedError(`%${node.id}: the average over ${n} cells is not dyadic`);
    factors[n] = BigInt(r.p) * BigInt(m.code) * pow2n(kmax - r.k) * pow2n(acc.frac - natural);
  }
  const xMax = rangeMaxAbs(codeRange(inType));
  const maxCount = BigInt(Math.max(...counts));
  const bound = xMax * maxCount * (maxBig(factors.map(absBig)) > 1n ? maxBig(factors.map(absBig)) : 1n);
  const accT = accTypeForBound(bound, `%${node.id} accumulator`);
  const yT = ctx.ctypeOf(node);
  const rq = requantDefines(ctx, node.requant === null ? null : node.requant.rule, acc.frac, range, yT);
  const f = arrayOf(`${ctx.ident}__f`, factors, [area + 1], `${ctx.label}: factor per valid-cell count (accumulator grid 2^-${acc.frac})`, accT);
  const c = xNode.shape[xNode.shape.length - 1]!;
  const defines = [...ioTypes(ctx.ctypeOf(xNode), accT, yT), ...geometryDefines(gh, gw, false), ['QK_C', `${c}`], ['QK_FACTORS', f.name], rq.define] as const;
  return kernelLayer(ctx, 'qk_avgpool.h', defines, { arrays: [f, ...rq.arrays], stackBytes: c * typeBytes(accT), variant: 'sum' });
}

function globalAvgPoolLayer(node: GlobalAvgPoolNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const inType = intTypeOf(xNode);
  const { acc, natural, range } = accumulatorOf(node, ctx.inputs);
  const m = node.mult ?? { code: 1, exp: 0 };
  const k = BigInt(m.code) * pow2n(acc.frac - natural);
  const c = xNode.shape[xNode.shape.length - 1]!;
  const cells = numel(xNode.shape) / c;
  const sum = rangeMaxAbs(codeRange(inType)) * BigInt(cells);
  const bound = sum * (absBig(k) > 1n ? absBig(k) : 1n);
  const accT = accTypeForBound(bound, `%${node.id} accumulator`);
  const yT = ctx.ctypeOf(node);
  const rq = requantDefines(ctx, node.requant === null ? null : node.requant.rule, acc.frac, range, yT);
  const defines = [...ioTypes(ctx.ctypeOf(xNode), accT, yT), ['QK_CELLS', `${cells}`], ['QK_C', `${c}`], ['QK_K', cConst(k, accT)], rq.define] as const;
  return kernelLayer(ctx, 'qk_gap.h', defines, { arrays: rq.arrays, stackBytes: c * typeBytes(accT), variant: 'sum' });
}

// ---- element-wise and structural ------------------------------------------------------------------------

function batchNormLayer(node: BatchNormNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const inType = intTypeOf(xNode);
  const { acc, range } = accumulatorOf(node, ctx.inputs);
  const fi = gridFrac(inType);
  const scale = node.scale.codes.map((s) => (s === 0 ? 0n : BigInt(s) * pow2n(acc.frac - fi + node.scale.exp)));
  const offset = node.offset.codes.map((o) => (o === 0 ? 0n : BigInt(o) * pow2n(acc.frac + node.offset.exp)));
  const xMax = rangeMaxAbs(codeRange(inType));
  const bound = maxBig(scale.map((s, c) => absBig(s) * xMax + absBig(offset[c]!)));
  const accT = accTypeForBound(bound, `%${node.id} accumulator`);
  const yT = ctx.ctypeOf(node);
  const rq = requantDefines(ctx, node.requant === null ? null : node.requant.rule, acc.frac, range, yT);
  const c = scale.length;
  const s = arrayOf(`${ctx.ident}__s`, scale, [c], `${ctx.label}: scale on the accumulator grid 2^-${acc.frac} per input unit`, accT);
  const o = arrayOf(`${ctx.ident}__o`, offset, [c], `${ctx.label}: offset on the accumulator grid 2^-${acc.frac}`, accT);
  const defines: (readonly [string, string])[] = [
    ...ioTypes(ctx.ctypeOf(xNode), accT, yT),
    ['QK_POS', `${numel(xNode.shape) / c}`],
    ['QK_C', `${c}`],
    ['QK_SCALE', s.name],
    ['QK_OFFSET', o.name],
    rq.define,
  ];
  return kernelLayer(ctx, 'qk_affine.h', defines, { arrays: [s, o, ...rq.arrays], stackBytes: 0, variant: 'multiply' });
}

const MAX_ADD_INPUTS = 8;

function addLayer(node: AddNode, ctx: LayerContext): LayerCode {
  if (ctx.inputs.length > MAX_ADD_INPUTS) {
    throw new UnsupportedError(
      `%${node.id} (add, layer ${JSON.stringify(node.origin.layer)}): ${ctx.inputs.length} inputs; the C kernel sums at most ` +
        `${MAX_ADD_INPUTS} (split the Add layer into a tree of smaller ones)`,
    );
  }
  const { acc, range } = accumulatorOf(node, ctx.inputs);
  const ks = ctx.inputs.map((x) => pow2n(acc.frac - gridFrac(intTypeOf(x))));
  const bound = ctx.inputs.reduce((s, x, j) => s + rangeMaxAbs(codeRange(intTypeOf(x))) * ks[j]!, 0n);
  const accT = accTypeForBound(bound, `%${node.id} accumulator`);
  const yT = ctx.ctypeOf(node);
  const rq = requantDefines(ctx, node.requant === null ? null : node.requant.rule, acc.frac, range, yT);
  const defines: (readonly [string, string])[] = [
    ['QK_ACC_T', accT],
    ['QK_Y_T', yT],
    ['QK_SIZE', `${numel(node.shape)}`],
    ['QK_NIN', `${ctx.inputs.length}`],
  ];
  ctx.inputs.forEach((x, j) => {
    defines.push([`QK_X${j}_T`, ctx.ctypeOf(x)], [`QK_K${j}`, cConst(ks[j]!, accT)]);
  });
  defines.push(rq.define);
  return kernelLayer(ctx, 'qk_add.h', defines, { arrays: rq.arrays, stackBytes: 0, variant: 'sum', args: ctx.inputs.map((x) => x.id) });
}

function concatLayer(node: ConcatNode, ctx: LayerContext): LayerCode {
  const shape = node.shape;
  const axis = node.axis < 0 ? node.axis + shape.length : node.axis;
  const outer = numel(shape.slice(0, axis));
  const innerOut = numel(shape.slice(axis));
  const outType = intTypeOf(node);
  const frac = gridFrac(outType);
  const yT = ctx.ctypeOf(node);
  const outMax = rangeMaxAbs(codeRange(outType));
  let offset = 0;
  const kernels = ctx.inputs.map((x, j): KernelInstance => {
    const inner = numel(x.shape.slice(axis));
    const k = pow2n(frac - gridFrac(intTypeOf(x)));
    const kt: AccCType = accTypeForBound(outMax > k ? outMax : k, `%${node.id} concatenation`);
    const fn = `${ctx.ident}__fn${j}`;
    const inst: KernelInstance = {
      kernel: 'qk_concat.h',
      fn,
      defines: [
        ['QK_FN', fn],
        ['QK_X_T', ctx.ctypeOf(x)],
        ['QK_Y_T', yT],
        ['QK_OUTER', `${outer}`],
        ['QK_INNER_IN', `${inner}`],
        ['QK_INNER_OUT', `${innerOut}`],
        ['QK_OFFSET', `${offset}`],
        ['QK_K', k === 1n ? '1' : cConst(k, kt)],
      ],
      args: [x.id],
    };
    offset += inner;
    return inst;
  });
  return { kernels, arrays: [], stackBytes: 0, variant: 'copy' };
}

/** An element-wise kernel applying `rule` to a tensor (a requantize node, or a typed copy when null). */
export function mapLayer(ctx: LayerContext, x: Node, yT: CType, rule: Rule | null, size: number, fn: string): LayerCode {
  const inType = intTypeOf(x);
  const r = codeRange(inType);
  const accT = accTypeForBound(rangeMaxAbs(r), `%${x.id} values`);
  const rq = requantDefines(ctx, rule, gridFrac(inType), r, yT);
  return kernelLayer(ctx, 'qk_map.h', [...ioTypes(ctx.ctypeOf(x), accT, yT), ['QK_SIZE', `${size}`], rq.define], {
    arrays: rq.arrays,
    stackBytes: 0,
    variant: rule === null ? 'copy' : rule.kind === 'table' || rule.kind === 'thresholds' ? 'lookup' : 'requantize',
    fn,
    args: [x.id],
  });
}

function requantizeLayer(node: RequantizeNode, ctx: LayerContext): LayerCode {
  return mapLayer(ctx, ctx.inputs[0]!, ctx.ctypeOf(node), node.requant.rule, numel(node.shape), `${ctx.ident}__fn`);
}

function argmaxLayer(node: ArgmaxNode, ctx: LayerContext): LayerCode {
  const xNode = ctx.inputs[0]!;
  const n = xNode.shape[xNode.shape.length - 1]!;
  const defines = [['QK_X_T', ctx.ctypeOf(xNode)], ['QK_Y_T', ctx.ctypeOf(node)], ['QK_ROWS', `${numel(xNode.shape) / n}`], ['QK_N', `${n}`]] as const;
  return kernelLayer(ctx, 'qk_argmax.h', defines, { arrays: [], stackBytes: 0, variant: 'compare' });
}

/** The kernels computing `node` (none for the input, which the caller passes, and reshape, an alias). */
export function planLayer(node: Node, ctx: LayerContext): LayerCode {
  switch (node.kind) {
    case 'input':
    case 'reshape':
      return { kernels: [], arrays: [], stackBytes: 0, variant: node.kind === 'input' ? 'argument' : 'alias' };
    case 'dense':
    case 'conv1d':
    case 'conv2d':
    case 'depthwise':
    case 'pointwise':
      return macLayer(node, ctx);
    case 'maxpool':
      return maxPoolLayer(node, ctx);
    case 'avgpool':
      return avgPoolLayer(node, ctx);
    case 'globalavgpool':
      return globalAvgPoolLayer(node, ctx);
    case 'batchnorm':
      return batchNormLayer(node, ctx);
    case 'add':
      return addLayer(node, ctx);
    case 'concat':
      return concatLayer(node, ctx);
    case 'requantize':
      return requantizeLayer(node, ctx);
    case 'argmax':
      return argmaxLayer(node, ctx);
    default:
      return assertNever(node, 'node');
  }
}
