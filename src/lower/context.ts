/**
 * The state of one lowering: the graph under construction, which IR node holds each tfjs tensor, the
 * model's outputs, and the helpers every layer family shares (ids, origins, activations, softmax).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { GraphBuilder } from '../ir/builder.js';
import { freshId, getNode } from '../ir/graph.js';
import type { Node, Origin, Requant, TensorType } from '../ir/nodes.js';
import { planRequant } from '../ir/quantizer-rules.js';
import { UnsupportedError } from '../errors.js';
import { activationName, activationRequant, quantizerConfig } from './quantizers.js';

/** The parts of tfjs's (untyped) layer node read here. */
interface TfNode {
  readonly inputTensors: tf.SymbolicTensor[];
  readonly outputTensors: tf.SymbolicTensor[];
}

export function tfNodes(layer: tf.layers.Layer): TfNode[] {
  return (layer as unknown as { inboundNodes: TfNode[] }).inboundNodes ?? [];
}

/** How one Keras layer class becomes IR nodes. */
export interface LayerLowering {
  /** Problems known from the layer's configuration alone (each with its fix); empty when lowerable. */
  check(layer: tf.layers.Layer, ctx: LowerContext): string[];
  /** Appends the layer's nodes reading `inputs` (node ids) and returns the node holding its output. */
  lower(layer: tf.layers.Layer, inputs: readonly string[], ctx: LowerContext): string;
}

export class LowerContext {
  readonly builder: GraphBuilder;
  /** The node holding each tfjs symbolic tensor (by tensor id). */
  private readonly tensors = new Map<number, string>();
  private readonly outputTensorIds: Set<number>;
  /** Set when the model's output is a softmax: the logits node and the softmax's origin. */
  softmax: { readonly logits: string; readonly origin: Origin } | null = null;

  constructor(readonly model: tf.LayersModel) {
    this.builder = new GraphBuilder(model.name);
    this.outputTensorIds = new Set(model.outputs.map((t) => t.id));
  }

  origin(layer: tf.layers.Layer): Origin {
    return { layer: layer.name, className: layer.getClassName() };
  }

  /** A node id not used yet, derived from `base`. */
  freshId(base: string): string {
    return freshId(base, new Set(this.builder.current.nodes.map((n) => n.id)));
  }

  node(id: string): Node {
    return getNode(this.builder.current, id);
  }

  /** The node's type (always known: lowering appends typed nodes in order). */
  typeOf(id: string): TensorType {
    const t = this.node(id).type;
    if (t === null) throw new Error(`internal: node %${id} has no type`);
    return t;
  }

  shapeOf(id: string): readonly number[] {
    return this.node(id).shape;
  }

  /** The node ids of the layer's input tensors, or null if one of them was not lowered. */
  inputsOf(layer: tf.layers.Layer): string[] | null {
    const ins = tfNodes(layer)[0]?.inputTensors ?? [];
    const ids = ins.map((t) => this.tensors.get(t.id));
    return ids.every((x): x is string => x !== undefined) ? ids : null;
  }

  /** Records the node holding the layer's output. */
  setOutput(layer: tf.layers.Layer, id: string): void {
    for (const t of tfNodes(layer)[0]?.outputTensors ?? []) this.tensors.set(t.id, id);
  }

  setTensor(t: tf.SymbolicTensor, id: string): void {
    this.tensors.set(t.id, id);
  }

  tensorNode(t: tf.SymbolicTensor): string | undefined {
    return this.tensors.get(t.id);
  }

  /** Whether the layer's output is one of the model's outputs. */
  isModelOutput(layer: tf.layers.Layer): boolean {
    return (tfNodes(layer)[0]?.outputTensors ?? []).some((t) => this.outputTensorIds.has(t.id));
  }

  /**
   * Why a layer's activation (a quantizer, a Keras function name, or null) cannot be lowered, or null.
   * A softmax is allowed only on the model's output, where it becomes argmax + logits.
   */
  activationProblem(layer: tf.layers.Layer, q: Quantizer | string | null): string | null {
    const name = typeof q === 'string' ? q : activationName(q);
    if (q === null || name === 'linear' || name === 'relu') return null;
    if (name === 'softmax') {
      return this.isModelOutput(layer)
        ? null
        : 'softmax inside the model has no fixed-point form; only a softmax at the output is supported (it becomes argmax over its logits)';
    }
    try {
      if (name !== null) {
        planRequant(name);
      } else {
        const { config, options } = quantizerConfig(q as Quantizer);
        planRequant(config, options);
      }
    } catch (e) {
      if (e instanceof UnsupportedError) return e.message;
      throw e;
    }
    return null;
  }

  /**
   * Applies a layer's activation to node `x`: nothing for linear, argmax bookkeeping for an output
   * softmax, else a requantize node (which the fuse pass later merges into the producer). Returns the id
   * of the node holding the activated value.
   */
  activation(layer: tf.layers.Layer, q: Quantizer | string | null, x: string, idBase = `${layer.name}_act`): string {
    const name = typeof q === 'string' ? q : activationName(q);
    if (q === null || name === 'linear') return x;
    if (name === 'softmax') {
      if (!this.isModelOutput(layer)) throw new UnsupportedError(this.activationProblem(layer, q) ?? 'softmax');
      this.softmax = { logits: x, origin: this.origin(layer) };
      return x;
    }
    let requant: Requant | null;
    if (typeof q === 'string') {
      const plan = planRequant(q);
      requant = plan.kind === 'exact' ? plan.requant : null;
    } else {
      requant = activationRequant(q, this.typeOf(x));
    }
    if (requant === null) return x;
    return this.builder.requantize(x, { id: this.freshId(idBase), origin: this.origin(layer), requant });
  }
}
