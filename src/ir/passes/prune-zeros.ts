/**
 * prune-zeros: marks every MAC node `pruned`, so its zero weights are skipped: back-ends emit no
 * multiply or adder input for them and the cost model counts only nonzero MACs. Values are unchanged
 * (a zero weight contributes exactly nothing), so the graph computes the same function.
 */
import type { Graph } from '../graph.js';
import type { Node } from '../nodes.js';
import { isMacNode } from '../nodes.js';

export function pruneZeros(g: Graph): Graph {
  return { ...g, nodes: g.nodes.map((n): Node => (isMacNode(n) && !n.pruned ? { ...n, pruned: true } : n)) };
}
