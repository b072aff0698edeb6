/**
 * A read-only view of a tfjs model's layer graph as QKeras's analysis tools walk a Keras model: every
 * layer in topological order (the hidden InputLayer of a Sequential model included), each layer's parent
 * layers, and its input and output shapes. Only a layer's first call (node 0) is looked at, as QKeras's
 * `layer.input` / `layer.output` do.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';

export type Shape = (number | null)[];

/** The parts of tfjs's (untyped) `Node` read here. */
interface TfNode {
  readonly inboundLayers: tf.layers.Layer[];
  readonly inputTensors: tf.SymbolicTensor[];
  readonly outputTensors: tf.SymbolicTensor[];
}

function nodes(layer: tf.layers.Layer): TfNode[] {
  return (layer as unknown as { inboundNodes: TfNode[] }).inboundNodes ?? [];
}

/** The layers that feed `layer` (empty for an InputLayer). */
export function parentLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  return nodes(layer)[0]?.inboundLayers.slice() ?? [];
}

/** Input shapes of `layer`'s first call, one per input tensor. */
export function inputShapes(layer: tf.layers.Layer): Shape[] {
  return nodes(layer)[0]?.inputTensors.map((t) => t.shape.slice()) ?? [];
}

/** Output shape of `layer`'s first call (its first output). */
export function outputShape(layer: tf.layers.Layer): Shape {
  const t = nodes(layer)[0]?.outputTensors[0];
  if (t === undefined) {
    const s = layer.outputShape;
    return (Array.isArray(s[0]) ? (s[0] as Shape) : (s as Shape)).slice();
  }
  return t.shape.slice();
}

/**
 * Every layer of `model`, the InputLayers first when tfjs hides them (Sequential), in the topological
 * order tfjs keeps (`model.layers`).
 */
export function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const seen = new Set<tf.layers.Layer>();
  const add = (l: tf.layers.Layer): void => {
    if (!seen.has(l)) {
      seen.add(l);
      out.push(l);
    }
  };
  for (const t of model.inputs) add(t.sourceLayer as tf.layers.Layer);
  for (const l of model.layers) add(l);
  return out;
}

/** The layers whose outputs are the model's outputs. */
export function outputLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.outputs.map((t) => t.sourceLayer as tf.layers.Layer);
}

/** The number of elements of a shape without its batch dimension. */
export function elementsPerSample(shape: Shape): number {
  return shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
}

/** A weight layer's variables by their short names (`kernel`, `bias`, `depthwise_kernel`, ...). */
export function weightShapes(layer: tf.layers.Layer): number[][] {
  return layer.weights.map((w) => w.shape.slice() as number[]);
}

/** `layer.getQuantizers()` when the layer has it (QKeras's `hasattr(layer, "get_quantizers")`). */
export function layerQuantizers(layer: tf.layers.Layer): (Quantizer | null)[] | null {
  const f = (layer as unknown as { getQuantizers?: () => (Quantizer | null)[] }).getQuantizers;
  return typeof f === 'function' ? f.call(layer) : null;
}

/** The symbolic output tensor of `layer`'s first call. */
export function outputTensor(layer: tf.layers.Layer): tf.SymbolicTensor {
  const t = nodes(layer)[0]?.outputTensors[0];
  if (t === undefined) throw new Error(`layer ${layer.name} has not been called on an input`);
  return t;
}
