/**
 * The contract every op in the registry fulfils, and the pieces accumulating ops share: the exact
 * accumulator, its fused requantizer, and the float32 analysis of QKeras's residual form.
 */
import type { AccumulatingNode, FixedType, IntType, Node, QuantMode, Requant, TensorType } from '../ir/nodes.js';
import {
  F32_EXACT,
  SAFE_LIMIT,
  codeRange,
  fixedForRange,
  gridFrac,
  maxAbs,
  shiftRange,
  type Range,
} from '../ir/fixed.js';
import { compileRule, ruleOutType } from '../ir/rules.js';
import { IRGraphError, IRRuntimeError } from '../ir/errors.js';
import type { IRTensor } from '../ir/tensor.js';
import type { OpType } from './classify.js';

export type Shapes = readonly (readonly number[])[];

/** The exact intermediate of an accumulating node on its natural (finest needed) grid. */
export interface AccInfo {
  /** Grid exponent of the exact value: code · 2^-frac. */
  readonly frac: number;
  /** Range of every code the accumulator can hold, proven from actual constants and input ranges. */
  readonly range: Range;
  /** Per-output-channel ranges (MAC and batch-norm nodes), for reports. */
  readonly channels: readonly Range[] | null;
}

export interface Classification {
  readonly op: OpType;
  readonly weight: QuantMode;
  readonly input: QuantMode;
  /** QKeras-style name, e.g. `smult_4_8`. */
  readonly name: string;
}

export interface OpCost {
  /** Multiply-accumulates over full windows. */
  readonly macs: number;
  /** MACs with a nonzero weight when the node is pruned (else equal to `macs`). */
  readonly activeMacs: number;
  /** Additions outside MACs: pooling sums, element-wise adds, batch-norm offsets. */
  readonly adds: number;
  /** Comparisons: max pooling, argmax, threshold and ternary rules. */
  readonly compares: number;
  readonly weights: number;
  readonly nonzeroWeights: number;
  /** Storage bits of the weights (count × width of the widest code). */
  readonly weightBits: number;
  readonly biases: number;
  readonly accWidth: number | null;
  /** Storage bits of the output tensor. */
  readonly outputBits: number;
  readonly classification: Classification | null;
}

/** One op kind, declared once: shape rule, types, accumulator proof, classification, cost, evaluation. */
export interface OpDef<N extends Node = Node> {
  readonly kind: N['kind'];
  /** Inclusive bounds on the number of inputs. */
  readonly arity: readonly [number, number];
  /** Output shape from input shapes; throws IRGraphError on inconsistent shapes or weights. */
  shape(node: N, inShapes: Shapes): number[];
  /** The exact accumulator (null for ops without one). */
  accumulator(node: N, inTypes: readonly IntType[], inShapes: Shapes): AccInfo | null;
  /** Output type derived from the input types and the node's contents. */
  type(node: N, inTypes: readonly TensorType[], inShapes: Shapes): TensorType;
  /** QKeras multiplier classification (MAC ops) or null. */
  classify(node: N, inTypes: readonly TensorType[]): Classification | null;
  cost(node: N, inShapes: Shapes, inTypes: readonly TensorType[]): OpCost;
  /** Reasons why tfjs's float32 evaluation of this op might not be exact (empty when proven exact). */
  float32(node: N, inTypes: readonly IntType[], inShapes: Shapes): string[];
  evaluate(node: N, inputs: readonly IRTensor[]): IRTensor;
}

export function emptyCost(outputBits: number): OpCost {
  return {
    macs: 0,
    activeMacs: 0,
    adds: 0,
    compares: 0,
    weights: 0,
    nonzeroWeights: 0,
    weightBits: 0,
    biases: 0,
    accWidth: null,
    outputBits,
    classification: null,
  };
}

/** Only the model input is float; every other op needs integer inputs. */
export function intTypes(node: Node, inTypes: readonly TensorType[]): IntType[] {
  return inTypes.map((t, i) => {
    if (t.kind === 'float') {
      throw new IRGraphError(`%${node.id} (${node.kind}): input ${i} is float; only the input node may read floats`);
    }
    return t;
  });
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The accumulator type a node uses: its recorded one, or the tightest type holding the proven range. */
export function accTypeOf(node: AccumulatingNode, info: AccInfo): FixedType {
  return node.acc ?? fixedForRange(info.range, info.frac);
}

/** The accumulator range on the grid of the type actually used (finer grids scale the range). */
export function rangeOn(info: AccInfo, acc: FixedType): Range {
  if (acc.frac < info.frac) return info.range; // reported by the checker; keep the natural range here
  return shiftRange(info.range, acc.frac - info.frac);
}

/** Output type of an accumulating node: the requantizer's output, or the accumulator itself. */
export function accumulatingType(node: AccumulatingNode, info: AccInfo): TensorType {
  const acc = accTypeOf(node, info);
  return node.requant === null ? acc : ruleOutType(node.requant.rule, acc);
}

/** Throws if an accumulator could leave the exact range of doubles. */
export function assertInterpretable(node: Node, info: AccInfo, acc: FixedType): void {
  const m = maxAbs(rangeOn(info, acc));
  if (m > BigInt(SAFE_LIMIT)) {
    throw new IRRuntimeError(
      node.id,
      `the accumulator can reach ${m} (2^${m.toString(2).length - 1}+) on its grid; the interpreter computes ` +
        'exactly only below 2^53',
    );
  }
}

/** Applies an accumulating node's requantizer (if any) to accumulator codes. */
export function finishAccumulator(
  node: AccumulatingNode,
  acc: FixedType,
  shape: readonly number[],
  data: Float64Array,
): IRTensor {
  if (node.requant === null) return { shape, type: acc, data };
  const fn = compileRule(node.requant.rule, acc.frac);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i += 1) out[i] = fn(data[i]!);
  return { shape, type: ruleOutType(node.requant.rule, acc), data: out };
}

/**
 * QKeras forms a quantizer's output as `x + (xq - x)` in float32 (or with the clipped relu of x). That
 * equals xq only while x and xq, on their common grid, fit the 24-bit significand; returns the reason
 * when the proven ranges do not guarantee it.
 */
export function requantFloat32(rq: Requant, inType: IntType): string[] {
  const msgs: string[] = [];
  const out = ruleOutType(rq.rule, inType);
  const fa = gridFrac(inType);
  const fo = gridFrac(out);
  if (rq.residual !== 'none') {
    const g = Math.max(fa, fo);
    const xm = maxAbs(codeRange(inType)) << BigInt(g - fa);
    const qm = maxAbs(codeRange(out)) << BigInt(g - fo);
    if (xm + qm > BigInt(F32_EXACT)) {
      msgs.push(
        `${rq.quantizer}: QKeras computes x + (xq - x) in float32; |x| + |xq| can reach ${xm + qm} units of ` +
          `2^-${g}, above 2^24, so tfjs may be off by an ulp for inputs that large`,
      );
    }
  }
  const r = rq.rule;
  if (r.kind === 'shift' && r.rounding === 'half_away' && r.frac !== null) {
    const g = Math.max(fa, r.frac + 1);
    const xm = maxAbs(codeRange(inType)) << BigInt(g - fa);
    if (xm > BigInt(F32_EXACT)) {
      msgs.push(
        `${rq.quantizer}: the auto_po2 rounding floor(|x|/s + 0.5) is done in float32 and |x|/s + 0.5 can need ` +
          `more than 24 bits (${xm} units of 2^-${g})`,
      );
    }
  }
  return msgs;
}

/** Node-scoped compile cache keyed by the node object (nodes are immutable values). */
export function memo<N extends object, V>(cache: WeakMap<N, { key: string; value: V }>, node: N, key: string, make: () => V): V {
  const hit = cache.get(node);
  if (hit !== undefined && hit.key === key) return hit.value;
  const value = make();
  cache.set(node, { key, value });
  return value;
}
