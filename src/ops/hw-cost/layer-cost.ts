/**
 * Hardware counts of one layer's combinational body (`layerBody` in the emitter): its dot products and
 * requantizer, a requantization, a layer of max-pooling windows, an argmax, or a concatenation. The
 * parallel architecture synthesizes exactly this per layer module; streamed stages reuse it over one
 * word.
 */
import type { ConcatNode, IntType, Node, Rule } from '../../ir/nodes.js';
import { isAccumulating } from '../../ir/nodes.js';
import { gridFrac } from '../../ir/fixed.js';
import { assertNever } from '../../errors.js';
import { accumulatorPlan, windowAxes, windowCells, type DotPlan } from '../../codegen/verilog-plan.js';
import { inputBuses, numel } from '../../codegen/verilog-layers.js';
import { clog2, elemFormat } from '../../codegen/verilog-format.js';
import type { BusRef, DotKind } from '../../codegen/verilog-datapath.js';
import { MAX_CONE_SUPPORT, addFeatures, emptyFeatures, type Cone, type Features } from './features.js';
import { dotCost, rowSupport, type DotCost } from './dot-cost.js';
import { ruleFeatures } from './rule-cost.js';

export interface BodyCost {
  readonly features: Features;
  /** Outputs with small logic cones (see `Cone`). */
  readonly cones: readonly Cone[];
  readonly datapath: DotKind | null;
  /** Two-input additions of its dot products. */
  readonly additions: number;
  readonly shared: number;
}

/**
 * The small cones of a layer of dot products and their requantizer (`rule` over the accumulator type,
 * to `outType`): one per output row that reads at most MAX_CONE_SUPPORT input bits.
 */
export function accumulatorCones(plans: readonly DotPlan[], ins: readonly BusRef[], dot: DotCost, rule: Rule | null, acc: IntType, outType: IntType): Cone[] {
  if (dot.rows === null) return [];
  const rq = rule === null ? emptyFeatures() : ruleFeatures(rule, acc, outType, 1);
  const bits = elemFormat(outType).width;
  const cones: Cone[] = [];
  plans.forEach((p, o) => {
    const support = rowSupport(p, ins);
    // An XNOR row: after its popcount of t agreeing bits, the rest reads only the count's bits.
    const t = dot.kind === 'xnor' ? p.terms.filter((x) => x.weight !== 0n).length : 0;
    const countBits = clog2(t + 1);
    if (support > MAX_CONE_SUPPORT && (t === 0 || countBits >= support)) return;
    const features = emptyFeatures();
    addFeatures(features, dot.rows![o]!);
    addFeatures(features, rq);
    const tail = t > 0 && countBits < support ? { features: { ...features, pop: 0 }, support: countBits } : undefined;
    cones.push({ features, support, bits, count: 1, ...(tail === undefined ? {} : { tail }) });
  });
  return cones;
}

/** The cones of a rule applied element by element (each output element reads one input element). */
export function ruleCones(rule: Rule, inType: IntType, outType: IntType, n: number): Cone[] {
  const support = elemFormat(inType).width;
  if (support > MAX_CONE_SUPPORT) return [];
  return [{ features: ruleFeatures(rule, inType, outType, 1), support, bits: elemFormat(outType).width, count: n }];
}

/** Comparator and multiplexer bits of keeping the larger of two W-bit values, `times` times. */
function maxOf(f: Features, W: number, times: number): void {
  f.cmpv += W * times;
  f.mux += W * times;
}

/**
 * Counts of the body of `node` reading `inputs` (as buses `ins`): the same datapath choice and plans
 * as the emitter's `layerBody`.
 */
export function bodyCost(node: Node, inputs: readonly Node[], share: boolean, ins: readonly BusRef[] = inputBuses(inputs)): BodyCost {
  const f = emptyFeatures();
  const none = { features: f, cones: [], datapath: null, additions: 0, shared: 0 };
  if (isAccumulating(node)) {
    const plan = accumulatorPlan(node, inputs);
    const dot = dotCost(plan.dots, ins, plan.acc.width, share);
    addFeatures(f, dot.features);
    const rule = node.requant?.rule ?? null;
    if (rule !== null) addFeatures(f, ruleFeatures(rule, plan.acc, node.type as IntType, plan.dots.length));
    const cones = accumulatorCones(plan.dots, ins, dot, rule, plan.acc, node.type as IntType);
    return { features: f, cones, datapath: dot.kind, additions: dot.additions, shared: dot.shared };
  }
  switch (node.kind) {
    case 'requantize': {
      const n = numel(node.shape);
      addFeatures(f, ruleFeatures(node.requant.rule, inputs[0]!.type as IntType, node.type as IntType, n));
      return { ...none, cones: ruleCones(node.requant.rule, inputs[0]!.type as IntType, node.type as IntType, n) };
    }
    case 'maxpool': {
      const x = inputs[0]!;
      const [gh, gw] = windowAxes(node, x.shape);
      const C = x.shape[x.shape.length - 1]!;
      const W = elemFormat(x.type).width;
      for (let oh = 0; oh < gh.outSize; oh += 1) {
        for (let ow = 0; ow < gw.outSize; ow += 1) maxOf(f, W, (windowCells(gh, gw, oh, ow).length - 1) * C);
      }
      return none;
    }
    case 'argmax': {
      const x = inputs[0]!;
      const len = x.shape[x.shape.length - 1]!;
      // A tournament: per comparison, greater-than and equality of the values and the order of the
      // indices decide; the winner's value and index are selected.
      const W = elemFormat(x.type).width;
      const ib = clog2(len);
      const comparisons = (numel(x.shape) / len) * (len - 1);
      f.cmpv += (2 * W + ib) * comparisons;
      f.mux += (W + ib) * comparisons;
      return none;
    }
    case 'concat':
      return concatCost(node, inputs, ins, share);
    case 'reshape':
    case 'input':
      return none;
    default:
      return assertNever(node, 'node');
  }
}

/** A concatenation is wiring when every input shares the output's format and grid, else 1-term sums. */
function concatCost(node: ConcatNode, inputs: readonly Node[], ins: readonly BusRef[], share: boolean): BodyCost {
  const outType = node.type as IntType;
  const fout = elemFormat(outType);
  const frac = gridFrac(outType);
  const same = inputs.every((x, k) => ins[k]!.fmt.width === fout.width && ins[k]!.fmt.signed === fout.signed && gridFrac(x.type as IntType) === frac);
  if (same) return { features: emptyFeatures(), cones: [], datapath: null, additions: 0, shared: 0 };
  const plans: DotPlan[] = [];
  const a = node.axis < 0 ? node.axis + node.shape.length : node.axis;
  const outer = numel(node.shape.slice(0, a));
  for (let o = 0; o < outer; o += 1) {
    inputs.forEach((x, slot) => {
      const inner = numel(x.shape.slice(a));
      const weight = 1n << BigInt(frac - gridFrac(x.type as IntType));
      for (let i = 0; i < inner; i += 1) plans.push({ terms: [{ slot, index: o * inner + i, weight }], bias: 0n });
    });
  }
  const dot = dotCost(plans, ins, fout.width, share);
  return { features: dot.features, cones: accumulatorCones(plans, ins, dot, null, outType, outType), datapath: dot.kind, additions: dot.additions, shared: dot.shared };
}
