/**
 * Building graphs: `appendNode` returns a new graph with one more node whose shape (and, when its inputs
 * are typed, its type) comes from the op registry; `GraphBuilder` is a small fluent wrapper over it for
 * hand-written graphs and lowering. Every graph value it hands out is immutable.
 */
import type {
  Conv2dNode,
  DepthwiseNode,
  Dyadic,
  IntVector,
  Node,
  NodeKind,
  NodeOf,
  Origin,
  Padding,
  Requant,
  TensorType,
  Weights,
} from './nodes.js';
import { addNode, freshId, makeGraph, nodeMap, type Graph } from './graph.js';
import { IRGraphError } from './errors.js';
import { opOf } from '../ops/registry.js';

/** A node without the fields the builder derives (`shape`, `type`) and with an optional id and origin. */
export type NodeSpec<K extends NodeKind> = Omit<NodeOf<K>, 'kind' | 'id' | 'shape' | 'type' | 'origin' | 'inputs'> & {
  readonly id?: string;
  readonly origin?: Origin;
  /** Only input and reshape nodes take their shape from the spec. */
  readonly shape?: readonly number[];
};

/** Shape and (when every input is typed) type of a node, from the registry. */
export function deriveNode<N extends Node>(node: N, byId: ReadonlyMap<string, Node>): N {
  const inputs = node.inputs.map((id) => {
    const n = byId.get(id);
    if (n === undefined) throw new IRGraphError(`%${node.id}: input %${id} is not defined before it`);
    return n;
  });
  const op = opOf(node);
  if (inputs.length < op.arity[0] || inputs.length > op.arity[1]) {
    throw new IRGraphError(`%${node.id} (${node.kind}) takes ${op.arity[0]}..${op.arity[1]} inputs, got ${inputs.length}`);
  }
  const inShapes = inputs.map((n) => n.shape);
  const shape = op.shape(node, inShapes);
  let type: TensorType | null = null;
  if (inputs.every((n) => n.type !== null)) {
    type = op.type(node, inputs.map((n) => n.type!), inShapes);
  }
  return { ...node, shape, type };
}

/** Returns `g` with the node appended (shape and type derived) and the node's id. */
export function appendNode<K extends NodeKind>(
  g: Graph,
  kind: K,
  inputs: readonly string[],
  spec: NodeSpec<K>,
): { graph: Graph; id: string } {
  const taken = new Set(g.nodes.map((n) => n.id));
  const origin = spec.origin ?? { layer: spec.id ?? kind, className: kind };
  const id = spec.id ?? freshId(origin.layer, taken);
  if (taken.has(id)) throw new IRGraphError(`node id %${id} is already used`);
  const draft = { ...spec, kind, id, inputs: [...inputs], origin, shape: spec.shape ?? [], type: null } as unknown as Node;
  const node = deriveNode(draft, nodeMap(g));
  return { graph: addNode(g, node), id };
}

interface Common {
  readonly id?: string;
  readonly origin?: Origin;
}

interface MacOptions extends Common {
  readonly weights: Weights;
  readonly bias?: IntVector | null;
  readonly requant?: Requant | null;
}

interface Spatial2d {
  readonly kernel: readonly [number, number];
  readonly strides?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly padding?: Padding;
}

/** Fluent construction of a graph; each method returns the new node's id. */
export class GraphBuilder {
  private graph: Graph;

  constructor(name: string) {
    this.graph = makeGraph(name, [], []);
  }

  /** The graph built so far (an immutable value). */
  get current(): Graph {
    return this.graph;
  }

  add<K extends NodeKind>(kind: K, inputs: readonly string[], spec: NodeSpec<K>): string {
    const { graph, id } = appendNode(this.graph, kind, inputs, spec);
    this.graph = graph;
    return id;
  }

  input(o: Common & { readonly shape: readonly number[]; readonly quant: Requant }): string {
    return this.add('input', [], { ...o });
  }

  dense(x: string, o: MacOptions): string {
    const spec: NodeSpec<'dense'> = { ...o, bias: o.bias ?? null, requant: o.requant ?? null, acc: null, pruned: false };
    return this.add('dense', [x], spec);
  }

  pointwise(x: string, o: MacOptions): string {
    const spec: NodeSpec<'pointwise'> = { ...o, bias: o.bias ?? null, requant: o.requant ?? null, acc: null, pruned: false };
    return this.add('pointwise', [x], spec);
  }

  conv1d(x: string, o: MacOptions & { kernel: number; stride?: number; dilation?: number; padding?: Padding }): string {
    const spec: NodeSpec<'conv1d'> = {
      ...o,
      stride: o.stride ?? 1,
      dilation: o.dilation ?? 1,
      padding: o.padding ?? 'valid',
      bias: o.bias ?? null,
      requant: o.requant ?? null,
      acc: null,
      pruned: false,
    };
    return this.add('conv1d', [x], spec);
  }

  conv2d(x: string, o: MacOptions & Spatial2d): string {
    return this.add('conv2d', [x], this.spatial(o) as NodeSpec<'conv2d'>);
  }

  depthwise(x: string, o: MacOptions & Spatial2d): string {
    return this.add('depthwise', [x], this.spatial(o) as NodeSpec<'depthwise'>);
  }

  private spatial(o: MacOptions & Spatial2d): Omit<Conv2dNode | DepthwiseNode, 'kind' | 'id' | 'inputs' | 'shape' | 'type' | 'origin'> & Common {
    return {
      ...o,
      strides: o.strides ?? [1, 1],
      dilation: o.dilation ?? [1, 1],
      padding: o.padding ?? 'valid',
      bias: o.bias ?? null,
      requant: o.requant ?? null,
      acc: null,
      pruned: false,
    };
  }

  maxpool(x: string, o: Common & { pool: readonly number[]; strides?: readonly number[]; padding?: Padding }): string {
    const spec: NodeSpec<'maxpool'> = { ...o, strides: o.strides ?? o.pool, padding: o.padding ?? 'valid' };
    return this.add('maxpool', [x], spec);
  }

  avgpool(
    x: string,
    o: Common & {
      pool: readonly number[];
      strides?: readonly number[];
      padding?: Padding;
      preScale?: number;
      mult?: Dyadic | null;
      requant?: Requant | null;
    },
  ): string {
    const spec: NodeSpec<'avgpool'> = {
      ...o,
      strides: o.strides ?? o.pool,
      padding: o.padding ?? 'valid',
      preScale: o.preScale ?? 1,
      mult: o.mult ?? null,
      requant: o.requant ?? null,
      acc: null,
    };
    return this.add('avgpool', [x], spec);
  }

  globalAvgPool(x: string, o: Common & { divisor: number; mult?: Dyadic | null; requant?: Requant | null }): string {
    const spec: NodeSpec<'globalavgpool'> = { ...o, mult: o.mult ?? null, requant: o.requant ?? null, acc: null };
    return this.add('globalavgpool', [x], spec);
  }

  batchnorm(x: string, o: Common & { scale: IntVector; offset: IntVector; requant?: Requant | null }): string {
    const spec: NodeSpec<'batchnorm'> = { ...o, requant: o.requant ?? null, acc: null };
    return this.add('batchnorm', [x], spec);
  }

  addition(xs: readonly string[], o: Common & { requant?: Requant | null } = {}): string {
    return this.add('add', xs, { ...o, requant: o.requant ?? null, acc: null });
  }

  concat(xs: readonly string[], o: Common & { axis?: number } = {}): string {
    return this.add('concat', xs, { ...o, axis: o.axis ?? -1 });
  }

  requantize(x: string, o: Common & { requant: Requant }): string {
    return this.add('requantize', [x], { ...o });
  }

  reshape(x: string, o: Common & { shape: readonly number[] }): string {
    return this.add('reshape', [x], { ...o });
  }

  argmax(x: string, o: Common = {}): string {
    return this.add('argmax', [x], { ...o });
  }

  /** The finished graph with its outputs. */
  build(outputs: readonly string[]): Graph {
    for (const o of outputs) {
      if (!this.graph.nodes.some((n) => n.id === o)) throw new IRGraphError(`output %${o} is not a node of the graph`);
    }
    return makeGraph(this.graph.name, this.graph.nodes, outputs);
  }
}


/** Recomputes every node's shape and type from its inputs and contents (types are derived data). */
export function rederive(g: Graph): Graph {
  const byId = new Map<string, Node>();
  const nodes = g.nodes.map((n) => {
    const d = deriveNode(n, byId);
    byId.set(d.id, d);
    return d;
  });
  return { ...g, nodes };
}
