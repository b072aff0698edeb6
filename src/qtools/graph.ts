/**
 * The graph QTools walks (QKeras `qtools/qgraph.py`): one node per layer plus a SOURCE and a SINK, one
 * edge per tensor from a layer to a consumer, annotated with the tensor's shape and the quantizer known
 * to produce it. The model inputs' edges carry the source quantizers; InputLayer and Dropout nodes are
 * removed (their edges reconnected); then each layer's activation is moved onto its outgoing edges.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, QKerasError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import { allLayers, outputShape, parentLayers, type Shape } from '../utils/model-graph.js';
import { KerasActivation, QtQuantizer, defaultQuantizer, makeQuantizer, type EdgeValue } from './quantizer-impl.js';

export const SOURCE = -1;
export const SINK = -2;

export { KerasActivation, type EdgeValue } from './quantizer-impl.js';

export interface QtNode {
  readonly id: number;
  readonly layer: tf.layers.Layer | null;
  /** The layer's class name (null for SOURCE and SINK). */
  readonly type: string | null;
  outQuantizer: EdgeValue;
}

export interface QtEdge {
  readonly from: number;
  readonly to: number;
  readonly shape: Shape;
  quantizer: EdgeValue;
}

/** The number of source quantizers does not match the model's inputs (QKeras `WrongInputQuantizerError`). */
export class WrongInputQuantizerError extends QKerasError {}

/** A source quantizer as QTools accepts it: a Keras quantizer, a QKeras string, or `int8`/`fp32`-style modes. */
export type SourceQuantizerSpec = Quantizer | string;

/**
 * The QTools types of the model inputs (QKeras `GenerateInputQuantizerList`): none given → the default
 * source quantizer for every input; one (not in a list) → the same for all; a list → one per input.
 */
export function sourceQuantizerList(
  spec: SourceQuantizerSpec | readonly SourceQuantizerSpec[] | null | undefined,
  inputs: number,
  defaultSource: string,
  defaultInterm: string,
): QtQuantizer[] {
  const make = (q: SourceQuantizerSpec): QtQuantizer => {
    if (typeof q === 'string') return defaultQuantizer(q);
    if (!(q instanceof Quantizer)) throw new ConfigError('qtools', 'source_quantizers', q, 'quantizers or quantizer strings');
    return makeQuantizer(q, defaultInterm);
  };
  if (spec === null || spec === undefined) return Array.from({ length: inputs }, () => defaultQuantizer(defaultSource));
  if (!Array.isArray(spec)) return Array.from({ length: inputs }, () => make(spec as SourceQuantizerSpec));
  const list = spec as readonly SourceQuantizerSpec[];
  if (list.length !== inputs) {
    throw new WrongInputQuantizerError(
      `qtools: the model has ${inputs} input${inputs === 1 ? '' : 's'} but ${list.length} source quantizers were given; ` +
        'give one per input, or a single quantizer (not in a list) for all of them',
    );
  }
  return list.map(make);
}

/** A directed graph with at most one edge per ordered pair, as networkx's DiGraph. */
export class QtGraph {
  readonly nodes = new Map<number, QtNode>();
  private readonly edges = new Map<string, QtEdge>();

  addNode(node: QtNode): void {
    this.nodes.set(node.id, node);
  }

  node(id: number): QtNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`qtools graph: no node ${id}`);
    return n;
  }

  addEdge(edge: QtEdge): void {
    this.edges.set(`${edge.from}>${edge.to}`, edge);
  }

  edge(from: number, to: number): QtEdge | undefined {
    return this.edges.get(`${from}>${to}`);
  }

  predecessors(id: number): number[] {
    return [...this.edges.values()].filter((e) => e.to === id).map((e) => e.from);
  }

  successors(id: number): number[] {
    return [...this.edges.values()].filter((e) => e.from === id).map((e) => e.to);
  }

  outEdges(id: number): QtEdge[] {
    return [...this.edges.values()].filter((e) => e.from === id);
  }

  /** Removes `v`, connecting each predecessor to each successor with v's outgoing edge attributes. */
  removeNode(v: number): void {
    const ins = this.predecessors(v).filter((u) => u !== v);
    const outs = this.successors(v).filter((w) => w !== v);
    for (const u of ins) {
      for (const w of outs) {
        const out = this.edge(v, w)!;
        this.addEdge({ from: u, to: w, shape: out.shape, quantizer: out.quantizer });
      }
    }
    for (const key of [...this.edges.keys()]) {
      const e = this.edges.get(key)!;
      if (e.from === v || e.to === v) this.edges.delete(key);
    }
    this.nodes.delete(v);
  }

  /** Kahn's order from SOURCE, ties broken by node id (layer order), so results are deterministic. */
  topologicalOrder(): number[] {
    const indegree = new Map<number, number>();
    for (const id of this.nodes.keys()) indegree.set(id, 0);
    for (const e of this.edges.values()) indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
    const rank = (id: number): number => (id === SOURCE ? -Infinity : id === SINK ? Infinity : id);
    const ready = [...indegree.entries()].filter(([, d]) => d === 0).map(([id]) => id);
    const order: number[] = [];
    while (ready.length > 0) {
      ready.sort((a, b) => rank(a) - rank(b));
      const id = ready.shift()!;
      order.push(id);
      for (const w of this.successors(id)) {
        const d = indegree.get(w)! - 1;
        indegree.set(w, d);
        if (d === 0) ready.push(w);
      }
    }
    if (order.length !== this.nodes.size) throw new QKerasError('qtools: the model graph has a cycle');
    return order;
  }
}

/**
 * The activation a layer applies, as QKeras's `GraphPropagateActivationsToEdges` sees it: QActivation's
 * quantizer; another layer's `activation` (null for linear); `undefined` when the layer has none.
 */
export function layerActivation(layer: tf.layers.Layer): EdgeValue | undefined {
  const cls = layer.getClassName();
  if (cls === 'QActivation' || cls === 'QAdaptiveActivation') {
    return (layer as unknown as { quantizer: Quantizer }).quantizer;
  }
  if (!('activation' in layer)) return undefined;
  const a: unknown = (layer as unknown as { activation: unknown }).activation;
  if (a === null || a === undefined) return null;
  if (a instanceof Quantizer) return a.className === 'linear' ? null : a;
  const name = typeof (a as { getClassName?: unknown }).getClassName === 'function' ? (a as { getClassName(): string }).getClassName() : String(a);
  return name === 'linear' ? null : new KerasActivation(name);
}

/**
 * Builds the QTools graph of `model` with `sources` on the edges leaving the model inputs (QKeras
 * `CreateGraph` followed by `GraphPropagateActivationsToEdges`).
 */
export function createGraph(model: tf.LayersModel, sources: readonly QtQuantizer[]): QtGraph {
  const g = new QtGraph();
  const layers = allLayers(model);
  const ids = new Map<tf.layers.Layer, number>();
  g.addNode({ id: SOURCE, layer: null, type: null, outQuantizer: null });
  g.addNode({ id: SINK, layer: null, type: null, outQuantizer: null });
  layers.forEach((l, i) => {
    ids.set(l, i);
    g.addNode({ id: i, layer: l, type: l.getClassName(), outQuantizer: null });
  });
  const inputLayers = model.inputs.map((t) => t.sourceLayer as tf.layers.Layer);
  layers.forEach((v, vi) => {
    for (const u of parentLayers(v)) {
      const ui = ids.get(u);
      if (ui === undefined) continue;
      const inputIndex = inputLayers.indexOf(u);
      g.addEdge({ from: ui, to: vi, shape: outputShape(u), quantizer: inputIndex >= 0 ? sources[inputIndex]! : null });
    }
  });
  layers.forEach((l, i) => {
    if (l.getClassName() === 'InputLayer') g.addEdge({ from: SOURCE, to: i, shape: outputShape(l), quantizer: null });
  });
  layers.forEach((l, i) => {
    if (g.successors(i).length === 0) g.addEdge({ from: i, to: SINK, shape: outputShape(l), quantizer: null });
  });
  for (const [id, n] of [...g.nodes.entries()]) {
    if (n.type === 'Dropout') g.removeNode(id);
  }
  for (const [id, n] of [...g.nodes.entries()]) {
    if (n.type === 'InputLayer') g.removeNode(id);
  }
  for (const id of g.topologicalOrder()) {
    const node = g.node(id);
    if (node.layer === null) continue;
    const act = layerActivation(node.layer);
    const result = act === undefined ? null : act;
    for (const e of g.outEdges(id)) e.quantizer = result;
    node.outQuantizer = result;
  }
  return g;
}

/** Sets the quantizer of every edge leaving `id` (QKeras `GraphUpdateEdge`). */
export function updateEdges(g: QtGraph, id: number, q: EdgeValue): void {
  for (const e of g.outEdges(id)) e.quantizer = q;
}
