/**
 * The remaining ops: the model input (float32 → codes through the input quantizer), batch-norm as a
 * per-channel affine map, element-wise add, concatenation, standalone requantization, reshape, argmax.
 */
import type {
  AddNode,
  ArgmaxNode,
  BatchNormNode,
  ConcatNode,
  InputNode,
  FixedType,
  IntType,
  RequantizeNode,
  ReshapeNode,
  ShiftRule,
  TensorType,
} from '../ir/nodes.js';
import { FLOAT, fixedType, typesEqual } from '../ir/nodes.js';
import {
  F32_EXACT,
  bitLength,
  codeRange,
  fixedForRange,
  gridFrac,
  maxAbs,
  mulRanges,
  pow2,
  range,
  shiftRange,
  storageBits,
  unionRange,
  addRanges,
} from '../ir/fixed.js';
import { compileRealRule, compileRule, ruleOutType } from '../ir/rules.js';
import { IRGraphError, IRRuntimeError } from '../ir/errors.js';
import {
  accTypeOf,
  accumulatingType,
  assertInterpretable,
  emptyCost,
  finishAccumulator,
  intTypes,
  memo,
  numelOf,
  requantFloat32,
  type AccInfo,
  type OpDef,
} from './op-common.js';

function where(node: { id: string; kind: string; origin: { layer: string } }): string {
  return `%${node.id} (${node.kind}, layer ${JSON.stringify(node.origin.layer)})`;
}

function bitsOf(t: TensorType, n: number): number {
  return t.kind === 'float' ? 32 * n : storageBits(t) * n;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---- input ---------------------------------------------------------------------------------------------

const inputCache = new WeakMap<InputNode, { key: string; value: (x: number) => number }>();

/** The value QKeras's straight-through form builds on: x itself, or quantized_relu's clipped relu of x. */
function residualBase(node: InputNode, x: number): number {
  if (node.quant.residual === 'x') return x;
  const rule = node.quant.rule as ShiftRule;
  const top = (rule.hi ?? Infinity) * pow2(-(rule.frac ?? 0));
  if (x > top) return top;
  if (x >= 0) return x;
  return rule.negSlopeExp === null ? 0 : Math.fround(x * pow2(rule.negSlopeExp));
}

export const inputOp: OpDef<InputNode> = {
  kind: 'input',
  arity: [0, 0],
  shape: (node) => {
    if (node.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new IRGraphError(`${where(node)}: input shape [${node.shape.join(', ')}] must be positive integers`);
    }
    if (node.quant.residual === 'relu' && node.quant.rule.kind !== 'shift') {
      throw new IRGraphError(`${where(node)}: a relu residual needs a shift rule`);
    }
    return [...node.shape];
  },
  accumulator: () => null,
  type: (node) => ruleOutType(node.quant.rule, FLOAT),
  classify: () => null,
  cost: (node) => emptyCost(bitsOf(ruleOutType(node.quant.rule, FLOAT), numelOf(node.shape))),
  float32: () => [],
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    const n = numelOf(node.shape);
    if (x.data.length !== n) {
      throw new IRRuntimeError(node.id, `expected ${n} input values for shape [${node.shape.join(', ')}], got ${x.data.length}`);
    }
    const type = ruleOutType(node.quant.rule, FLOAT);
    const step = pow2(-gridFrac(type));
    const fn = memo(inputCache, node, '', () => compileRealRule(node.quant.rule));
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 1) {
      const raw = x.data[i]!;
      if (Number.isNaN(raw)) throw new IRRuntimeError(node.id, `input value at index ${i} is NaN`);
      const xf = Math.fround(raw);
      const code = fn(xf);
      if (node.quant.residual !== 'none') {
        const xq = code * step;
        const b = residualBase(node, xf);
        const r = Math.fround(b + Math.fround(xq - b));
        if (r !== xq) {
          throw new IRRuntimeError(
            node.id,
            `input value ${raw} at index ${i} is so large that ${node.quant.quantizer}, computed as ` +
              `x + (xq - x) in float32, gives ${r} instead of ${xq}; no fixed-point value matches tfjs there ` +
              '(clip inputs to a few times the quantizer range)',
          );
        }
      }
      out[i] = code;
    }
    return { shape: [...node.shape], type, data: out };
  },
};

// ---- batch-norm ----------------------------------------------------------------------------------------

interface BnPlan {
  readonly info: AccInfo;
  readonly scale: Float64Array;
  readonly offset: Float64Array;
}

function bnPlan(node: BatchNormNode, inType: IntType, accFrac: number | null): BnPlan {
  const fi = gridFrac(inType);
  const se = node.scale.exp;
  const oe = node.offset.exp;
  let frac = -Infinity;
  if (node.scale.codes.some((c) => c !== 0)) frac = Math.max(frac, fi - se);
  if (node.offset.codes.some((c) => c !== 0)) frac = Math.max(frac, -oe);
  if (frac === -Infinity) frac = fi;
  const f = accFrac ?? frac;
  const xr = codeRange(inType);
  const channels = node.scale.codes.map((s, c) => {
    const sv = BigInt(s) << BigInt(frac - fi + se);
    const ov = BigInt(node.offset.codes[c]!) << BigInt(Math.max(0, frac + oe));
    const r = mulRanges(xr, range(sv, sv));
    return range(r.lo + ov, r.hi + ov);
  });
  const total = channels.reduce(unionRange, range(0, 0));
  const scale = Float64Array.from(node.scale.codes, (s) => s * pow2(f - fi + se));
  const offset = Float64Array.from(node.offset.codes, (o) => o * pow2(f + oe));
  return { info: { frac, range: total, channels }, scale, offset };
}

const bnCache = new WeakMap<BatchNormNode, { key: string; value: BnPlan }>();

function bnInfo(node: BatchNormNode, inType: IntType): AccInfo {
  return memo(bnCache, node, `${JSON.stringify(inType)}/natural`, () => bnPlan(node, inType, null)).info;
}

export const batchNormOp: OpDef<BatchNormNode> = {
  kind: 'batchnorm',
  arity: [1, 1],
  shape: (node, inShapes) => {
    const x = inShapes[0]!;
    const c = x[x.length - 1];
    if (c === undefined || node.scale.codes.length !== c || node.offset.codes.length !== c) {
      throw new IRGraphError(
        `${where(node)}: ${node.scale.codes.length} scales and ${node.offset.codes.length} offsets for input shape [${x.join(', ')}]`,
      );
    }
    return [...x];
  },
  accumulator: (node, inTypes) => bnInfo(node, inTypes[0]!),
  type: (node, inTypes) => accumulatingType(node, bnInfo(node, intTypes(node, inTypes)[0]!)),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const n = numelOf(inShapes[0]!);
    const inType = inTypes[0]!;
    if (inType.kind === 'float') return emptyCost(32 * n);
    const info = bnInfo(node, inType);
    return {
      ...emptyCost(bitsOf(accumulatingType(node, info), n)),
      macs: n,
      activeMacs: n,
      adds: n,
      biases: node.offset.codes.length,
      weights: node.scale.codes.length,
      nonzeroWeights: node.scale.codes.filter((s) => s !== 0).length,
      accWidth: accTypeOf(node, info).width,
    };
  },
  float32: (node, inTypes) => {
    const inType = inTypes[0]!;
    const xm = maxAbs(codeRange(inType));
    const fi = gridFrac(inType);
    const limit = BigInt(F32_EXACT);
    const msgs: string[] = [];
    node.scale.codes.forEach((s, c) => {
      if (msgs.length > 0) return;
      const product = xm * BigInt(Math.abs(s));
      const grid = fi - node.scale.exp;
      const g = Math.max(grid, -node.offset.exp);
      const total = (product << BigInt(g - grid)) + (BigInt(Math.abs(node.offset.codes[c]!)) << BigInt(g + node.offset.exp));
      if (product > limit) msgs.push(`channel ${c}: x·scale needs ${product} units of 2^-${grid}, above 2^24`);
      else if (total > limit) msgs.push(`channel ${c}: x·scale + offset needs ${total} units of 2^-${g}, above 2^24`);
    });
    if (node.requant !== null) msgs.push(...requantFloat32(node.requant, accTypeOf(node, bnInfo(node, inType))));
    return msgs;
  },
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    const inType = intTypes(node, [x.type])[0]!;
    const info = bnInfo(node, inType);
    const acc = accTypeOf(node, info);
    assertInterpretable(node, info, acc);
    const plan = memo(bnCache, node, `${JSON.stringify(inType)}/${acc.frac}`, () => bnPlan(node, inType, acc.frac));
    const c = plan.scale.length;
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i += 1) out[i] = x.data[i]! * plan.scale[i % c]! + plan.offset[i % c]!;
    return finishAccumulator(node, acc, [...x.shape], out);
  },
};

// ---- add -----------------------------------------------------------------------------------------------

function addInfo(inTypes: readonly IntType[]): AccInfo {
  const frac = Math.max(...inTypes.map(gridFrac));
  const total = inTypes
    .map((t) => shiftRange(codeRange(t), frac - gridFrac(t)))
    .reduce(addRanges, range(0, 0));
  return { frac, range: total, channels: null };
}

export const addOp: OpDef<AddNode> = {
  kind: 'add',
  arity: [2, Infinity],
  shape: (node, inShapes) => {
    const first = inShapes[0]!;
    if (inShapes.some((s) => !sameShape(s, first))) {
      throw new IRGraphError(`${where(node)}: inputs have different shapes ${inShapes.map((s) => `[${s.join(', ')}]`).join(', ')}`);
    }
    return [...first];
  },
  accumulator: (_node, inTypes) => addInfo(inTypes),
  type: (node, inTypes) => accumulatingType(node, addInfo(intTypes(node, inTypes))),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const n = numelOf(inShapes[0]!);
    if (inTypes.some((t) => t.kind === 'float')) return emptyCost(32 * n);
    const info = addInfo(intTypes(node, inTypes));
    return { ...emptyCost(bitsOf(accumulatingType(node, info), n)), adds: n * (inShapes.length - 1), accWidth: accTypeOf(node, info).width };
  },
  float32: (node, inTypes) => {
    const info = addInfo(inTypes);
    const units = inTypes.map((t) => maxAbs(codeRange(t)) << BigInt(info.frac - gridFrac(t))).reduce((a, b) => a + b, 0n);
    const msgs = units > BigInt(F32_EXACT) ? [`the sum reaches ${units} units of 2^-${info.frac}, above 2^24`] : [];
    if (node.requant !== null) msgs.push(...requantFloat32(node.requant, accTypeOf(node, info)));
    return msgs;
  },
  evaluate: (node, inputs) => {
    const types = intTypes(node, inputs.map((t) => t.type));
    const info = addInfo(types);
    const acc = accTypeOf(node, info);
    assertInterpretable(node, info, acc);
    const out = new Float64Array(inputs[0]!.data.length);
    inputs.forEach((t, j) => {
      const k = pow2(acc.frac - gridFrac(types[j]!));
      for (let i = 0; i < out.length; i += 1) out[i] += t.data[i]! * k;
    });
    return finishAccumulator(node, acc, [...inputs[0]!.shape], out);
  },
};

// ---- concat --------------------------------------------------------------------------------------------

function concatAxis(node: ConcatNode, rank: number): number {
  const a = node.axis < 0 ? node.axis + rank : node.axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new IRGraphError(`${where(node)}: axis ${node.axis} for rank ${rank}`);
  return a;
}

function concatType(node: ConcatNode, inTypes: readonly TensorType[]): IntType {
  const types = intTypes(node, inTypes);
  const first = types[0]!;
  if (types.every((t) => typesEqual(t, first))) return first;
  const frac = Math.max(...types.map(gridFrac));
  const r = types.map((t) => shiftRange(codeRange(t), frac - gridFrac(t))).reduce(unionRange);
  return fixedForRange(r, frac);
}

export const concatOp: OpDef<ConcatNode> = {
  kind: 'concat',
  arity: [1, Infinity],
  shape: (node, inShapes) => {
    const first = inShapes[0]!;
    const a = concatAxis(node, first.length);
    let size = 0;
    for (const s of inShapes) {
      if (s.length !== first.length || s.some((d, i) => i !== a && d !== first[i])) {
        throw new IRGraphError(`${where(node)}: shapes ${inShapes.map((x) => `[${x.join(', ')}]`).join(', ')} do not concatenate on axis ${a}`);
      }
      size += s[a]!;
    }
    return first.map((d, i) => (i === a ? size : d));
  },
  accumulator: () => null,
  type: (node, inTypes) => concatType(node, inTypes),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const out = inShapes.reduce((n, s) => n + numelOf(s), 0);
    return emptyCost(bitsOf(concatType(node, inTypes), out));
  },
  float32: () => [],
  evaluate: (node, inputs) => {
    const type = concatType(node, inputs.map((t) => t.type));
    const frac = gridFrac(type);
    const shapes = inputs.map((t) => t.shape);
    const shape = concatOp.shape(node, shapes);
    const a = concatAxis(node, shape.length);
    const outer = shape.slice(0, a).reduce((x, y) => x * y, 1);
    const innerOut = shape.slice(a).reduce((x, y) => x * y, 1);
    const out = new Float64Array(outer * innerOut);
    let offset = 0;
    for (const t of inputs) {
      const inner = t.shape.slice(a).reduce((x, y) => x * y, 1);
      const k = pow2(frac - gridFrac(t.type));
      for (let o = 0; o < outer; o += 1) {
        for (let i = 0; i < inner; i += 1) out[o * innerOut + offset + i] = t.data[o * inner + i]! * k;
      }
      offset += inner;
    }
    return { shape, type, data: out };
  },
};

// ---- requantize ----------------------------------------------------------------------------------------

const ruleCache = new WeakMap<RequantizeNode, { key: string; value: (c: number) => number }>();

export const requantizeOp: OpDef<RequantizeNode> = {
  kind: 'requantize',
  arity: [1, 1],
  shape: (_node, inShapes) => [...inShapes[0]!],
  accumulator: () => null,
  type: (node, inTypes) => ruleOutType(node.requant.rule, intTypes(node, inTypes)[0]!),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const n = numelOf(inShapes[0]!);
    const t = inTypes[0]!.kind === 'float' ? inTypes[0]! : ruleOutType(node.requant.rule, inTypes[0]!);
    const r = node.requant.rule;
    const compares = r.kind === 'thresholds' ? n * r.thresholds.length : r.kind === 'ternary' ? 2 * n : r.kind === 'sign' ? n : 0;
    return { ...emptyCost(bitsOf(t, n)), compares };
  },
  float32: (node, inTypes) => requantFloat32(node.requant, inTypes[0]!),
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    const inType = intTypes(node, [x.type])[0]!;
    const fi = gridFrac(inType);
    const fn = memo(ruleCache, node, String(fi), () => compileRule(node.requant.rule, fi));
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i += 1) out[i] = fn(x.data[i]!);
    return { shape: [...x.shape], type: ruleOutType(node.requant.rule, inType), data: out };
  },
};

// ---- reshape and argmax --------------------------------------------------------------------------------

export const reshapeOp: OpDef<ReshapeNode> = {
  kind: 'reshape',
  arity: [1, 1],
  shape: (node, inShapes) => {
    const x = inShapes[0]!;
    if (node.shape.some((d) => !Number.isInteger(d) || d < 1) || numelOf(node.shape) !== numelOf(x)) {
      throw new IRGraphError(`${where(node)}: cannot reshape [${x.join(', ')}] to [${node.shape.join(', ')}]`);
    }
    return [...node.shape];
  },
  accumulator: () => null,
  type: (node, inTypes) => intTypes(node, inTypes)[0]!,
  classify: () => null,
  cost: (_node, inShapes, inTypes) => emptyCost(bitsOf(inTypes[0]!, numelOf(inShapes[0]!))),
  float32: () => [],
  evaluate: (node, inputs) => ({ shape: [...node.shape], type: inputs[0]!.type, data: inputs[0]!.data }),
};

function argmaxType(n: number): FixedType {
  return fixedType(false, Math.max(1, bitLength(Math.max(0, n - 1))), 0);
}

export const argmaxOp: OpDef<ArgmaxNode> = {
  kind: 'argmax',
  arity: [1, 1],
  shape: (node, inShapes) => {
    const x = inShapes[0]!;
    if (x.length < 1 || x[x.length - 1]! < 1) throw new IRGraphError(`${where(node)}: input shape [${x.join(', ')}] has no axis to search`);
    return x.slice(0, -1);
  },
  accumulator: () => null,
  type: (node, inTypes, inShapes) => {
    intTypes(node, inTypes);
    const x = inShapes[0]!;
    return argmaxType(x[x.length - 1]!);
  },
  classify: () => null,
  cost: (_node, inShapes) => {
    const x = inShapes[0]!;
    const n = x[x.length - 1]!;
    const rows = numelOf(x) / n;
    return { ...emptyCost(rows * argmaxType(n).width), compares: rows * (n - 1) };
  },
  float32: () => [],
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    intTypes(node, [x.type]);
    const n = x.shape[x.shape.length - 1]!;
    const rows = x.data.length / n;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r += 1) {
      let best = 0;
      for (let i = 1; i < n; i += 1) if (x.data[r * n + i]! > x.data[r * n + best]!) best = i;
      out[r] = best;
    }
    return { shape: x.shape.slice(0, -1), type: argmaxType(n), data: out };
  },
};

