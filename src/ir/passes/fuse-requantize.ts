/**
 * fuse-requantize: a requantize node (a QActivation, or a layer activation kept separate by lowering)
 * whose input is an accumulating node used by nothing else becomes that node's requantizer, so the
 * accumulator is requantized where it is produced. When the producer already has a requantizer the two
 * are merged only if `composeRequant` proves the composition exact (identity, or an exact relu followed
 * by a rule that clips at or above 0, e.g. `activation='relu'` then `quantized_relu`). Chains of standalone
 * requantize nodes merge under the same rule.
 */
import type { Graph } from '../graph.js';
import { removeNode, replaceNode, useCount } from '../graph.js';
import type { Node, Requant } from '../nodes.js';
import { isAccumulating } from '../nodes.js';
import { composeRequant } from '../rules.js';
import { rederive } from '../builder.js';

export function fuseRequantize(g: Graph): Graph {
  let out = g;
  // Walk by id and read each node from the current graph: earlier rewrites may have redirected its input.
  for (const id of g.nodes.map((n) => n.id)) {
    const node = out.nodes.find((n) => n.id === id);
    if (node === undefined || node.kind !== 'requantize') continue;
    const producer = out.nodes.find((n) => n.id === node.inputs[0]);
    if (producer === undefined || useCount(out, producer.id) !== 1) continue;
    let fused: Node | null = null;
    if (isAccumulating(producer)) {
      const rq: Requant | null = producer.requant === null ? node.requant : composeRequant(producer.requant, node.requant);
      if (rq !== null) fused = { ...producer, requant: rq } as Node;
    } else if (producer.kind === 'requantize') {
      const rq = composeRequant(producer.requant, node.requant);
      if (rq !== null) fused = { ...producer, requant: rq };
    }
    if (fused === null) continue;
    out = removeNode(replaceNode(out, producer.id, fused), node.id, producer.id);
  }
  return out === g ? g : rederive(out);
}
