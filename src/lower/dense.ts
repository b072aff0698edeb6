/**
 * QDense → dense, and QDenseBatchnorm → dense with the batch norm folded as the layer folds it at
 * inference: kernel `q(kernel · inv)` and bias `q_b(inv·(bias − mean) + beta)` from the moving statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { QDense } from '../layers/q-dense.js';
import { QDenseBatchnorm } from '../layers/q-dense-batchnorm.js';
import type { LayerLowering } from './context.js';
import { layerBias, weightSlotProblems } from './mac-common.js';
import { constantVector, macWeights, quantizedValues, type ValueArray } from './weights.js';

function asDense(layer: tf.layers.Layer): QDense {
  if (!(layer instanceof QDense)) throw new Error(`internal: ${layer.name} is not a QDense`);
  return layer;
}

export const FOLDED_BIAS_WHY = 'the folded bias inv·(bias − mean) + beta is a full-precision float32 value';

export const qDense: LayerLowering = {
  check(layer, ctx) {
    const l = asDense(layer);
    return [
      ...weightSlotProblems([
        { field: 'kernel_quantizer', quantizer: l.kernelQuantizer, required: true },
        { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: false },
      ]),
      ...[ctx.activationProblem(layer, l.activation)].filter((p): p is string => p !== null),
    ];
  },
  lower(layer, inputs, ctx) {
    const l = asDense(layer);
    const weights = macWeights('dense', l.kernelQuantizer, quantizedValues(l.kernelQuantizer, l.kernel!.read()));
    const d = ctx.builder.dense(inputs[0]!, {
      id: ctx.freshId(layer.name),
      origin: ctx.origin(layer),
      weights,
      bias: layerBias(l.bias, l.biasQuantizer),
    });
    return ctx.activation(layer, l.activation, d);
  },
};

export const qDenseBatchnorm: LayerLowering = {
  check(layer, ctx) {
    const l = asDense(layer);
    return [
      ...weightSlotProblems([
        { field: 'kernel_quantizer', quantizer: l.kernelQuantizer, required: true, why: 'the folded kernel kernel·inv is full-precision float32' },
        { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: true, why: FOLDED_BIAS_WHY },
      ]),
      ...[ctx.activationProblem(layer, l.activation)].filter((p): p is string => p !== null),
    ];
  },
  lower(layer, inputs, ctx) {
    const l = layer as QDenseBatchnorm;
    const { kernel, bias } = foldedDenseValues(l);
    const d = ctx.builder.dense(inputs[0]!, {
      id: ctx.freshId(layer.name),
      origin: ctx.origin(layer),
      weights: macWeights('dense', l.kernelQuantizer, kernel),
      bias: constantVector(bias),
    });
    return ctx.activation(layer, l.activation, d);
  },
};

/** The folded kernel and bias exactly as QDenseBatchnorm computes them at inference. */
function foldedDenseValues(l: QDenseBatchnorm): { kernel: ValueArray; bias: ValueArray } {
  const { inv, foldedBias } = tf.tidy(() => l.batchnorm.movingFactors(l.bias === null ? null : l.bias.read()));
  try {
    return {
      kernel: quantizedValues(l.kernelQuantizer, l.kernel!.read(), { before: (k) => tf.mul(k, inv) }),
      bias: quantizedValues(l.biasQuantizer, foldedBias),
    };
  } finally {
    tf.dispose([inv, foldedBias]);
  }
}
