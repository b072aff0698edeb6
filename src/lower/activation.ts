/**
 * Activation layers: QActivation → requantize (its quantizer's exact rule; an output softmax becomes
 * argmax + logits), Keras Activation (relu → exact relu, linear → nothing, an output softmax → argmax +
 * logits), ReLU without a max value → exact relu.
 */
import type * as tf from '@tensorflow/tfjs';
import { QActivation } from '../layers/q-activation.js';
import type { LayerLowering } from './context.js';

function kerasActivation(layer: tf.layers.Layer): string {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === 'string' ? a : 'linear';
}

export const qActivation: LayerLowering = {
  check(layer, ctx) {
    const p = ctx.activationProblem(layer, (layer as QActivation).quantizer);
    return p === null ? [] : [p];
  },
  lower(layer, inputs, ctx) {
    return ctx.activation(layer, (layer as QActivation).quantizer, inputs[0]!, layer.name);
  },
};

export const activation: LayerLowering = {
  check(layer, ctx) {
    const p = ctx.activationProblem(layer, kerasActivation(layer));
    return p === null ? [] : [p];
  },
  lower(layer, inputs, ctx) {
    return ctx.activation(layer, kerasActivation(layer), inputs[0]!, layer.name);
  },
};

interface ReluConfig {
  readonly maxValue?: number | null;
  readonly negativeSlope?: number | null;
  readonly threshold?: number | null;
}

export const relu: LayerLowering = {
  check(layer) {
    const c = layer.getConfig() as ReluConfig;
    const extra = (c.maxValue ?? null) !== null || (c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0;
    return extra ? ['ReLU with max_value, negative_slope or threshold is not supported; use QActivation(quantized_relu(...))'] : [];
  },
  lower(layer, inputs, ctx) {
    return ctx.activation(layer, 'relu', inputs[0]!, layer.name);
  },
};
