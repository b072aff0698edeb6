/**
 * The tfjs model whose output `qkeras predict` reports: the model itself, or for a model ending in a
 * softmax the logits feeding it — the input of a final Activation/QActivation softmax, or the output of
 * the final layer rebuilt with `activation: 'linear'` (same class, config and weights) when the softmax
 * is that layer's own activation.
 */
import * as tf from '@tensorflow/tfjs';
import { QActivation } from '../layers/q-activation.js';
import { activationName } from '../lower/quantizers.js';
import type { Quantizer } from '../quantizers/base.js';

interface TfNode {
  readonly inputTensors: tf.SymbolicTensor[];
}

function firstNode(layer: tf.layers.Layer): TfNode | undefined {
  return (layer as unknown as { inboundNodes: TfNode[] }).inboundNodes[0];
}

/** The activation of a layer by name: Q layers expose it as a quantizer, Keras layers in their config. */
function layerActivationName(layer: tf.layers.Layer): string | null {
  if (layer instanceof QActivation) return activationName(layer.quantizer);
  const q = (layer as unknown as { activation?: unknown }).activation;
  if (q !== null && typeof q === 'object' && 'className' in q && 'call' in q) {
    const name = activationName(q as Quantizer);
    if (name !== null) return name;
  }
  const cfg = layer.getConfig() as { activation?: unknown };
  return typeof cfg.activation === 'string' ? cfg.activation : null;
}

/** True for an Activation/QActivation layer (its whole job is the activation). */
function isActivationLayer(layer: tf.layers.Layer): boolean {
  return layer instanceof QActivation || layer.getClassName() === 'Activation';
}

export function endsInSoftmax(model: tf.LayersModel): boolean {
  const last = model.outputs[0]!.sourceLayer as tf.layers.Layer;
  return layerActivationName(last) === 'softmax';
}

/** The model truncated to the logits of its final softmax, or the model itself. */
export function logitsModel(model: tf.LayersModel): tf.LayersModel {
  const last = model.outputs[0]!.sourceLayer as tf.layers.Layer;
  if (layerActivationName(last) !== 'softmax') return model;
  const input = firstNode(last)?.inputTensors[0];
  if (input === undefined) throw new Error(`internal: layer ${last.name} has no input`);
  if (isActivationLayer(last)) return tf.model({ inputs: model.inputs, outputs: input, name: `${model.name}_logits` });
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[last.getClassName()];
  if (entry === undefined) throw new Error(`internal: class ${last.getClassName()} is not registered`);
  const [cls, fromConfig] = entry;
  const config = { ...last.getConfig(), activation: 'linear', name: `${last.name}_logits` };
  const clone = fromConfig(cls, config as tf.serialization.ConfigDict) as tf.layers.Layer;
  const out = clone.apply(input) as tf.SymbolicTensor;
  clone.setWeights(last.getWeights());
  return tf.model({ inputs: model.inputs, outputs: out, name: `${model.name}_logits` });
}
