/**
 * Training steps that differentiate with respect to the trainable weights only, so that a layer whose
 * input does not depend on any trainable weight (the first convolution, fed by the model's input) need
 * not compute the gradient of its input.
 *
 * Why: tfjs's fused conv2d op (which QConv2D runs, as tfjs's Conv2D layer does) has one gradient function
 * for all its inputs, so every training step also computes Conv2DBackpropInput for the first layer and
 * then drops it, because the model's input is not a variable: about 5% of a lab-book CNN step. A gradient
 * nobody reads cannot be skipped in general (`tf.grad` with respect to the input must still see it), so it
 * is skipped only for the layers of a model inside `withWeightGradientStep` — the training loops of this
 * package (fitModel, data-parallel training, the benchmarks) — where the differentiated tensors are the
 * model's trainable weights. The weights' gradients are computed by the same kernels as before: same bits.
 */
import * as tf from '@tensorflow/tfjs';

const inStep = new WeakSet<tf.layers.Layer>();

function mark(model: tf.LayersModel): () => void {
  const layers = model.layers.filter((l) => !inStep.has(l));
  for (const l of layers) inStep.add(l);
  return () => {
    for (const l of layers) inStep.delete(l);
  };
}

/**
 * Runs one training step of `model` (`fn`, sync or async) in which only gradients with respect to the
 * model's trainable weights are taken (trainOnBatch, fit, `tf.variableGrads` over its weights).
 */
export function withWeightGradientStep<T>(model: tf.LayersModel, fn: () => T): T {
  const unmark = mark(model);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    unmark();
    throw error;
  }
  if (result instanceof Promise) return result.finally(unmark) as T;
  unmark();
  return result;
}

/** True when no layer upstream of `layer` (through every inbound node) has trainable weights. */
function inputIsConstant(layer: tf.layers.Layer, seen = new Set<tf.layers.Layer>()): boolean {
  // A layer called outside a model has no inbound nodes: nothing is known about its input.
  if (layer.inboundNodes.length === 0) return false;
  for (const node of layer.inboundNodes) {
    for (const upstream of node.inboundLayers) {
      if (seen.has(upstream)) continue;
      seen.add(upstream);
      if (upstream.trainableWeights.length > 0) return false;
      if (upstream.inboundNodes.length > 0 && !inputIsConstant(upstream, seen)) return false;
    }
  }
  return true;
}

/** True when `layer` is in a weight-gradient step and its input depends on no trainable weight. */
export function inputGradientUnused(layer: tf.layers.Layer): boolean {
  return inStep.has(layer) && inputIsConstant(layer);
}
