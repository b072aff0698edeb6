/**
 * size-accumulators: gives every accumulating node the tightest accumulator type that holds the range
 * proven from its actual integer constants and its input's range (sum of |w| times the input bound per
 * output channel, plus the bias), replacing any recorded one, then re-derives the downstream types.
 */
import type { Graph } from '../graph.js';
import type { IntType, Node } from '../nodes.js';
import { isAccumulating } from '../nodes.js';
import { fixedForRange } from '../fixed.js';
import { deriveNode } from '../builder.js';
import { IRGraphError } from '../errors.js';
import { opOf } from '../../ops/registry.js';

export function sizeAccumulators(g: Graph): Graph {
  const byId = new Map<string, Node>();
  const nodes = g.nodes.map((n) => {
    let node = n;
    if (isAccumulating(n)) {
      const ins = n.inputs.map((i) => byId.get(i));
      if (ins.some((x) => x === undefined || x.type === null || x.type.kind === 'float')) {
        throw new IRGraphError(`%${n.id}: cannot size the accumulator before its inputs have integer types`);
      }
      const info = opOf(n).accumulator(n, ins.map((x) => x!.type as IntType), ins.map((x) => x!.shape));
      if (info !== null) node = { ...n, acc: fixedForRange(info.range, info.frac) } as Node;
    }
    const d = deriveNode(node, byId);
    byId.set(d.id, d);
    return d;
  });
  return { ...g, nodes };
}
