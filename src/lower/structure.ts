/**
 * Layers that move values without arithmetic, or add them: Flatten/Reshape → reshape (row-major,
 * channels last, as tfjs), Dropout and the other inference-time identities → nothing, Add → add,
 * Concatenate → concat.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerLowering } from './context.js';

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const flatten: LayerLowering = {
  check: () => [],
  lower(layer, inputs, ctx) {
    const x = inputs[0]!;
    return ctx.builder.reshape(x, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), shape: [numel(ctx.shapeOf(x))] });
  },
};

export const reshape: LayerLowering = {
  check: () => [],
  lower(layer, inputs, ctx) {
    const x = inputs[0]!;
    const target = ((layer.getConfig() as { targetShape?: (number | null)[] }).targetShape ?? []).map((d) => (d === null ? -1 : d));
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const shape = target.map((d) => (d === -1 ? numel(ctx.shapeOf(x)) / known : d));
    return ctx.builder.reshape(x, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), shape });
  },
};

/** Layers that are the identity at inference. */
export const identity: LayerLowering = {
  check: () => [],
  lower: (_layer, inputs) => inputs[0]!,
};

export const add: LayerLowering = {
  check: () => [],
  lower(layer, inputs, ctx) {
    return ctx.builder.addition(inputs, { id: ctx.freshId(layer.name), origin: ctx.origin(layer) });
  },
};

export const concatenate: LayerLowering = {
  check: () => [],
  lower(layer: tf.layers.Layer, inputs, ctx) {
    const axis = (layer.getConfig() as { axis?: number }).axis ?? -1;
    // Keras counts the batch axis; the IR's shapes do not.
    return ctx.builder.concat(inputs, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), axis: axis < 0 ? axis : axis - 1 });
  },
};
