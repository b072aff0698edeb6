/**
 * The IR graph: nodes in a topological order (every input defined earlier), the ids of the model inputs
 * and outputs. Graphs are immutable values; the functions here return new graphs and never modify one.
 */
import type { Node } from './nodes.js';
import { IRGraphError } from './errors.js';

export interface Graph {
  readonly name: string;
  /** Nodes in evaluation order: each node's inputs are defined by earlier nodes. */
  readonly nodes: readonly Node[];
  /** Input node ids, in the order `runIR` takes input arrays. */
  readonly inputs: readonly string[];
  /** Output node ids, in the order `runIR` returns tensors. */
  readonly outputs: readonly string[];
}

export function makeGraph(
  name: string,
  nodes: readonly Node[],
  outputs: readonly string[],
  inputs: readonly string[] = nodes.filter((n) => n.kind === 'input').map((n) => n.id),
): Graph {
  return { name, nodes: [...nodes], inputs: [...inputs], outputs: [...outputs] };
}

export function nodeMap(g: Graph): Map<string, Node> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

export function getNode(g: Graph, id: string): Node {
  const node = g.nodes.find((n) => n.id === id);
  if (node === undefined) throw new IRGraphError(`graph ${JSON.stringify(g.name)} has no node %${id}`);
  return node;
}

/** Nodes that read `id`. */
export function consumers(g: Graph, id: string): Node[] {
  return g.nodes.filter((n) => n.inputs.includes(id));
}

/** Number of uses of `id`: as an input of nodes (each occurrence) and as a graph output. */
export function useCount(g: Graph, id: string): number {
  let n = g.outputs.filter((o) => o === id).length;
  for (const node of g.nodes) n += node.inputs.filter((i) => i === id).length;
  return n;
}

/** Replaces the node with id `id` by `node` (which may carry a different id only if nothing uses the old one). */
export function replaceNode(g: Graph, id: string, node: Node): Graph {
  const at = g.nodes.findIndex((n) => n.id === id);
  if (at < 0) throw new IRGraphError(`cannot replace %${id}: no such node in ${JSON.stringify(g.name)}`);
  const nodes = [...g.nodes];
  nodes[at] = node;
  return { ...g, nodes };
}

/** Applies `f` to every node in order. */
export function mapNodes(g: Graph, f: (node: Node, index: number) => Node): Graph {
  return { ...g, nodes: g.nodes.map(f) };
}

/** Appends a node (its inputs must already be defined). */
export function addNode(g: Graph, node: Node): Graph {
  if (g.nodes.some((n) => n.id === node.id)) throw new IRGraphError(`node id %${node.id} is already used`);
  return { ...g, nodes: [...g.nodes, node] };
}

/** Removes node `id`, redirecting every use of it (node inputs and graph outputs) to `replacement`. */
export function removeNode(g: Graph, id: string, replacement: string): Graph {
  const nodes = g.nodes
    .filter((n) => n.id !== id)
    .map((n) => (n.inputs.includes(id) ? ({ ...n, inputs: n.inputs.map((i) => (i === id ? replacement : i)) } as Node) : n));
  return {
    ...g,
    nodes,
    outputs: g.outputs.map((o) => (o === id ? replacement : o)),
    inputs: g.inputs.filter((i) => i !== id),
  };
}

export function withOutputs(g: Graph, outputs: readonly string[]): Graph {
  return { ...g, outputs: [...outputs] };
}

/** A node id derived from a layer name: letters, digits, `_`, `.` and `-` only, unique within `taken`. */
export function freshId(base: string, taken: ReadonlySet<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, '_') || 'n';
  if (!taken.has(clean)) return clean;
  for (let k = 1; ; k += 1) {
    const id = `${clean}_${k}`;
    if (!taken.has(id)) return id;
  }
}
