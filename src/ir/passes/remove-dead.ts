/**
 * remove-dead: drops nodes that no graph output depends on (input nodes always stay, since they define
 * the interface).
 */
import type { Graph } from '../graph.js';

export function removeDead(g: Graph): Graph {
  const live = new Set<string>(g.outputs);
  for (let i = g.nodes.length - 1; i >= 0; i -= 1) {
    const n = g.nodes[i]!;
    if (live.has(n.id)) for (const x of n.inputs) live.add(x);
  }
  const nodes = g.nodes.filter((n) => live.has(n.id) || n.kind === 'input');
  return nodes.length === g.nodes.length ? g : { ...g, nodes };
}
