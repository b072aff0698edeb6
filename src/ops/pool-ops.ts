/**
 * Pooling ops. Max pooling is exact on codes. Average pooling is exact only where the division by the
 * window's cell count yields a dyadic value that float32 reproduces; the accumulator proves the first,
 * `float32` enumerates the second for both formulas tfjs uses (wasm multiplies by `fround(1/count)`, the
 * cpu backend divides), so the IR agrees with either backend.
 */
import type { AvgPoolNode, Dyadic, GlobalAvgPoolNode, IntType, MaxPoolNode, TensorType } from '../ir/nodes.js';
import {
  F32_EXACT,
  codeRange,
  gridFrac,
  maxAbs,
  mulRanges,
  pow2,
  range,
  storageBits,
  unionRange,
  type Range,
} from '../ir/fixed.js';
import { IRGraphError } from '../ir/errors.js';
import type { IRTensor } from '../ir/tensor.js';
import { axisGeometry, windowCounts, type AxisGeometry } from './geometry.js';
import { maxPoolLoop, windowSumLoop } from './kernels.js';
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
  type Shapes,
} from './op-common.js';

type Pool = MaxPoolNode | AvgPoolNode;

function where(node: Pool | GlobalAvgPoolNode): string {
  return `%${node.id} (${node.kind}, layer ${JSON.stringify(node.origin.layer)})`;
}

function poolGeometry(node: Pool, inShape: readonly number[]): [AxisGeometry, AxisGeometry] {
  const rank = node.pool.length;
  if (rank !== 1 && rank !== 2) throw new IRGraphError(`${where(node)}: pooling over ${rank} axes; 1 or 2 are supported`);
  if (node.padding === 'causal') throw new IRGraphError(`${where(node)}: pooling has no causal padding`);
  if (node.strides.length !== rank) throw new IRGraphError(`${where(node)}: ${node.strides.length} strides for ${rank} pooled axes`);
  if (inShape.length !== rank + 1) {
    throw new IRGraphError(`${where(node)}: input shape [${inShape.join(', ')}] does not have ${rank} spatial axes and channels`);
  }
  const w = where(node);
  if (rank === 1) {
    return [axisGeometry(1, 1, 1, 1, 'valid', w), axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, w)];
  }
  return [
    axisGeometry(inShape[0]!, node.pool[0]!, node.strides[0]!, 1, node.padding, w),
    axisGeometry(inShape[1]!, node.pool[1]!, node.strides[1]!, 1, node.padding, w),
  ];
}

function poolShape(node: Pool, inShapes: Shapes): number[] {
  const x = inShapes[0]!;
  const [gh, gw] = poolGeometry(node, x);
  const c = x[x.length - 1]!;
  return node.pool.length === 1 ? [gw.outSize, c] : [gh.outSize, gw.outSize, c];
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** `num / den = p / 2^k` in lowest terms, or null when the quotient is not dyadic. */
export function dyadicRatio(num: number, den: number): { p: number; k: number } | null {
  const g = gcd(num, den);
  const p = num / g;
  let q = den / g;
  let k = 0;
  while (q % 2 === 0) {
    q /= 2;
    k += 1;
  }
  return q === 1 ? { p, k } : null;
}

const ONE: Dyadic = { code: 1, exp: 0 };

interface AvgPlan {
  readonly info: AccInfo;
  /** Integer factor per window count: acc code = window sum · factor (on the natural grid). */
  readonly factors: ReadonlyMap<number, number>;
}

function avgPlan(node: AvgPoolNode, inType: IntType, inShape: readonly number[]): AvgPlan {
  const [gh, gw] = poolGeometry(node, inShape);
  const counts = windowCounts([gh, gw]);
  const m = node.mult ?? ONE;
  const ratios = counts.map((c) => ({ c, r: dyadicRatio(node.preScale, c) }));
  const bad = ratios.filter((x) => x.r === null).map((x) => x.c);
  if (bad.length > 0) {
    throw new IRGraphError(
      `${where(node)}: windows of ${bad.join(', ')} valid cells make the average ` +
        `${node.preScale === 1 ? 'S' : `${node.preScale}·S`}/${bad[0]}, which is not a dyadic number, so no ` +
        'fixed-point type holds it exactly; use pool sizes whose window counts are powers of two, or ' +
        'QAveragePooling2D with an average_quantizer (it multiplies by the pool area first)',
    );
  }
  const kmax = Math.max(...ratios.map((x) => x.r!.k));
  const fi = gridFrac(inType);
  const frac = fi + kmax - m.exp;
  const xr = codeRange(inType);
  const factors = new Map<number, number>();
  let total: Range | null = null;
  for (const { c, r } of ratios) {
    const factor = r!.p * m.code * pow2(kmax - r!.k);
    factors.set(c, factor);
    const s = range(BigInt(c) * xr.lo, BigInt(c) * xr.hi);
    const rc = mulRanges(s, range(factor, factor));
    total = total === null ? rc : unionRange(total, rc);
  }
  return { info: { frac, range: total ?? range(0, 0), channels: null }, factors };
}

const avgCache = new WeakMap<AvgPoolNode, { key: string; value: AvgPlan }>();

function avgPlanMemo(node: AvgPoolNode, inType: IntType, inShape: readonly number[]): AvgPlan {
  return memo(avgCache, node, `${JSON.stringify(inType)}/${inShape.join(',')}`, () => avgPlan(node, inType, inShape));
}

// Enumerations are shared across graphs: (preScale, count, largest window sum) → verdict.
const divisionVerdicts = new Map<string, string | null>();

/**
 * Checks that float32 computes `pre·S / count` exactly for every window sum `|S| <= maxSum`, both as
 * `fround(fround(pre·S) · fround(1/count))` (tfjs wasm) and as `fround(pre·S / count)` (tfjs cpu).
 */
export function verifyFloat32Division(pre: number, count: number, maxSum: number): string | null {
  const r = dyadicRatio(pre, count);
  if (r === null) return `${pre}/${count} is not dyadic`;
  if (dyadicRatio(1, count) !== null) return null; // dividing by a power of two is exact in float32
  const key = `${pre}/${count}/${maxSum}`;
  const hit = divisionVerdicts.get(key);
  if (hit !== undefined) return hit;
  let verdict: string | null = null;
  if (maxSum > 2 ** 22) {
    verdict = `window sums up to ${maxSum} are too many to verify the float32 division by ${count}`;
  } else {
    const recip = Math.fround(1 / count);
    for (let s = 1; s <= maxSum; s += 1) {
      const t = Math.fround(pre * s);
      const exact = (s * r.p) / pow2(r.k);
      if (Math.fround(t * recip) !== exact || Math.fround(t / count) !== exact) {
        verdict = `float32 gives a rounded result for the window sum ${s}: ${pre}·${s}/${count} = ${exact} but ` +
          `fround(fround(${pre * s})·fround(1/${count})) = ${Math.fround(t * recip)}`;
        break;
      }
    }
  }
  divisionVerdicts.set(key, verdict);
  return verdict;
}

function avgFloat32(node: AvgPoolNode, inType: IntType, inShape: readonly number[]): string[] {
  const msgs: string[] = [];
  const [gh, gw] = poolGeometry(node, inShape);
  const counts = windowCounts([gh, gw]);
  const xm = maxAbs(codeRange(inType));
  const limit = BigInt(F32_EXACT);
  const pre = BigInt(node.preScale);
  const maxCount = BigInt(Math.max(...counts));
  if (xm * pre * maxCount > limit) {
    msgs.push(`window sums of ${node.preScale === 1 ? 'x' : `${node.preScale}·x`} reach ${xm * pre * maxCount} units, above 2^24`);
  } else {
    for (const c of counts) {
      const v = verifyFloat32Division(node.preScale, c, Number(xm) * c);
      if (v !== null) msgs.push(`average over ${c} cells: ${v}`);
    }
  }
  const m = node.mult;
  if (m !== null && Math.abs(m.code) !== 1) {
    for (const c of counts) {
      const r = dyadicRatio(node.preScale, c)!;
      const units = xm * BigInt(c) * BigInt(r.p) * BigInt(Math.abs(m.code));
      if (units > limit) msgs.push(`average times the multiplier code ${m.code} reaches ${units} units, above 2^24`);
    }
  }
  if (node.requant !== null) {
    msgs.push(...requantFloat32(node.requant, accTypeOf(node, avgPlanMemo(node, inType, inShape).info)));
  }
  return msgs;
}

function avgEvaluate(node: AvgPoolNode, inputs: readonly IRTensor[]): IRTensor {
  const x = inputs[0]!;
  const inType = intTypes(node, [x.type])[0]!;
  const plan = avgPlanMemo(node, inType, x.shape);
  const acc = accTypeOf(node, plan.info);
  assertInterpretable(node, plan.info, acc);
  const extra = pow2(acc.frac - plan.info.frac);
  const [gh, gw] = poolGeometry(node, x.shape);
  const channels = x.shape[x.shape.length - 1]!;
  const { sums, counts } = windowSumLoop(x.data, channels, gh, gw);
  const out = new Float64Array(sums.length);
  for (let i = 0; i < sums.length; i += 1) {
    out[i] = sums[i]! * plan.factors.get(counts[Math.floor(i / channels)]!)! * extra;
  }
  return finishAccumulator(node, acc, poolShape(node, [x.shape]), out);
}

function outputBits(t: TensorType, n: number): number {
  return t.kind === 'float' ? 32 * n : storageBits(t) * n;
}

export const maxPoolOp: OpDef<MaxPoolNode> = {
  kind: 'maxpool',
  arity: [1, 1],
  shape: poolShape,
  accumulator: () => null,
  type: (node, inTypes) => intTypes(node, inTypes)[0]!,
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const out = numelOf(poolShape(node, inShapes));
    const area = node.pool.reduce((a, b) => a * b, 1);
    return { ...emptyCost(outputBits(inTypes[0]!, out)), compares: out * (area - 1) };
  },
  float32: () => [],
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    intTypes(node, [x.type]);
    const [gh, gw] = poolGeometry(node, x.shape);
    const data = maxPoolLoop(x.data, x.shape[x.shape.length - 1]!, gh, gw);
    return { shape: poolShape(node, [x.shape]), type: x.type, data };
  },
};

export const avgPoolOp: OpDef<AvgPoolNode> = {
  kind: 'avgpool',
  arity: [1, 1],
  shape: (node, inShapes) => {
    if (!Number.isInteger(node.preScale) || node.preScale < 1) {
      throw new IRGraphError(`${where(node)}: preScale ${node.preScale} must be a positive integer (1 or the pool area)`);
    }
    return poolShape(node, inShapes);
  },
  accumulator: (node, inTypes, inShapes) => avgPlanMemo(node, inTypes[0]!, inShapes[0]!).info,
  type: (node, inTypes, inShapes) => accumulatingType(node, avgPlanMemo(node, intTypes(node, inTypes)[0]!, inShapes[0]!).info),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const out = numelOf(poolShape(node, inShapes));
    const area = node.pool.reduce((a, b) => a * b, 1);
    const inType = inTypes[0]!;
    if (inType.kind === 'float') return emptyCost(32 * out);
    const plan = avgPlanMemo(node, inType, inShapes[0]!);
    const t = accumulatingType(node, plan.info);
    return { ...emptyCost(outputBits(t, out)), adds: out * (area - 1), accWidth: accTypeOf(node, plan.info).width };
  },
  float32: (node, inTypes, inShapes) => avgFloat32(node, inTypes[0]!, inShapes[0]!),
  evaluate: avgEvaluate,
};

function gapPlan(node: GlobalAvgPoolNode, inType: IntType, inShape: readonly number[]): { info: AccInfo; factor: number; cells: number } {
  if (inShape.length < 2) throw new IRGraphError(`${where(node)}: input shape [${inShape.join(', ')}] has no spatial axis`);
  const cells = inShape.slice(0, -1).reduce((a, b) => a * b, 1);
  const r = dyadicRatio(1, node.divisor);
  if (!Number.isInteger(node.divisor) || node.divisor < 1 || r === null) {
    throw new IRGraphError(
      `${where(node)}: dividing the sum by ${node.divisor} is not exact in fixed point; tf.mean over ` +
        `${cells} cells needs a power-of-two cell count, or use QGlobalAveragePooling2D with an average_quantizer`,
    );
  }
  const m = node.mult ?? ONE;
  const fi = gridFrac(inType);
  const frac = fi + r.k - m.exp;
  const xr = codeRange(inType);
  const s = range(BigInt(cells) * xr.lo, BigInt(cells) * xr.hi);
  return { info: { frac, range: mulRanges(s, range(m.code, m.code)), channels: null }, factor: m.code, cells };
}

export const globalAvgPoolOp: OpDef<GlobalAvgPoolNode> = {
  kind: 'globalavgpool',
  arity: [1, 1],
  shape: (node, inShapes) => {
    const x = inShapes[0]!;
    if (x.length < 2) throw new IRGraphError(`${where(node)}: input shape [${x.join(', ')}] has no spatial axis`);
    return [x[x.length - 1]!];
  },
  accumulator: (node, inTypes, inShapes) => gapPlan(node, inTypes[0]!, inShapes[0]!).info,
  type: (node, inTypes, inShapes) => accumulatingType(node, gapPlan(node, intTypes(node, inTypes)[0]!, inShapes[0]!).info),
  classify: () => null,
  cost: (node, inShapes, inTypes) => {
    const x = inShapes[0]!;
    const c = x[x.length - 1]!;
    const inType = inTypes[0]!;
    if (inType.kind === 'float') return emptyCost(32 * c);
    const plan = gapPlan(node, inType, x);
    return { ...emptyCost(outputBits(accumulatingType(node, plan.info), c)), adds: c * (plan.cells - 1), accWidth: accTypeOf(node, plan.info).width };
  },
  float32: (node, inTypes, inShapes) => {
    const inType = inTypes[0]!;
    const plan = gapPlan(node, inType, inShapes[0]!);
    const units = maxAbs(codeRange(inType)) * BigInt(plan.cells);
    const msgs: string[] = [];
    if (units > BigInt(F32_EXACT)) msgs.push(`the sum over ${plan.cells} cells reaches ${units} units, above 2^24`);
    if (Math.abs(plan.factor) !== 1 && units * BigInt(Math.abs(plan.factor)) > BigInt(F32_EXACT)) {
      msgs.push(`the sum times the multiplier code ${plan.factor} exceeds 2^24 units`);
    }
    if (node.requant !== null) msgs.push(...requantFloat32(node.requant, accTypeOf(node, plan.info)));
    return msgs;
  },
  evaluate: (node, inputs) => {
    const x = inputs[0]!;
    const inType = intTypes(node, [x.type])[0]!;
    const plan = gapPlan(node, inType, x.shape);
    const acc = accTypeOf(node, plan.info);
    assertInterpretable(node, plan.info, acc);
    const c = x.shape[x.shape.length - 1]!;
    const k = plan.factor * pow2(acc.frac - plan.info.frac);
    const out = new Float64Array(c);
    for (let i = 0; i < x.data.length; i += 1) out[i % c] += x.data[i]!;
    for (let j = 0; j < c; j += 1) out[j] = out[j]! * k;
    return finishAccumulator(node, acc, [c], out);
  },
};
