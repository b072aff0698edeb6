/**
 * The op registry: every IR node kind declared once with its shape rule, type rule, accumulator proof,
 * QKeras classification (mult/barrel/mux/adder/xor), cost and evaluation. The interpreter, the checker,
 * the passes and the back-ends look properties up here instead of switching on node kinds themselves.
 */
import type { Node, NodeKind, NodeOf } from '../ir/nodes.js';
import { conv1dOp, conv2dOp, denseOp, depthwiseOp, pointwiseOp } from './mac-ops.js';
import { avgPoolOp, globalAvgPoolOp, maxPoolOp } from './pool-ops.js';
import { addOp, argmaxOp, batchNormOp, concatOp, inputOp, requantizeOp, reshapeOp } from './misc-ops.js';
import type { OpDef } from './op-common.js';

export type { AccInfo, Classification, OpCost, OpDef, Shapes } from './op-common.js';
export { getOpType, opName, quantModeOf, quantModeOfType, FLOAT_MODE, MODE_INDEX, type OpType } from './classify.js';

type Registry = { readonly [K in NodeKind]: OpDef<NodeOf<K>> };

export const OPS: Registry = {
  input: inputOp,
  dense: denseOp,
  conv1d: conv1dOp,
  conv2d: conv2dOp,
  depthwise: depthwiseOp,
  pointwise: pointwiseOp,
  maxpool: maxPoolOp,
  avgpool: avgPoolOp,
  globalavgpool: globalAvgPoolOp,
  batchnorm: batchNormOp,
  add: addOp,
  concat: concatOp,
  requantize: requantizeOp,
  reshape: reshapeOp,
  argmax: argmaxOp,
};

/** The op definition of a node, typed for that node. */
export function opOf<N extends Node>(node: N): OpDef<N> {
  return OPS[node.kind] as unknown as OpDef<N>;
}
