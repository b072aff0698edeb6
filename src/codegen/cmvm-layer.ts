/**
 * The adder plan of one IR node, exactly as the parallel Verilog builds it: for cost models that count
 * adders and their widths without emitting anything. A pure function of the node's integer weights and
 * its inputs' types.
 */
import type { Node } from '../ir/nodes.js';
import { isAccumulating } from '../ir/nodes.js';
import type { CmvmOptions, CmvmPlan } from './cmvm.js';
import { planMatvec } from './cmvm-verilog.js';
import { dotDatapath, type DotKind } from './verilog-datapath.js';
import { inputBuses } from './verilog-layers.js';
import { accumulatorPlan } from './verilog-plan.js';

export interface LayerAdders {
  /** The datapath the node's products become (`shiftadd` is the one `plan` describes). */
  readonly datapath: DotKind;
  /** The shift-add network (null for constants and XNOR-popcount). */
  readonly plan: CmvmPlan | null;
}

/**
 * The products of an accumulating node (`inputs` are its typed input nodes) as the Verilog plans them;
 * with `share` the sub-expressions `emitVerilog({share: true})` shares. Null for other nodes.
 */
export function layerAdders(node: Node, inputs: readonly Node[], options: CmvmOptions = {}): LayerAdders | null {
  if (!isAccumulating(node)) return null;
  const acc = accumulatorPlan(node, inputs);
  const ins = inputBuses(inputs);
  const datapath = dotDatapath(acc.dots, ins, acc.acc.width);
  if (datapath !== 'shiftadd') return { datapath, plan: null };
  return { datapath, plan: planMatvec(acc.dots, ins, acc.acc.width, options).plan };
}
