/**
 * QConv1D → conv1d, QConv2D → conv2d (a QKeras `mask` multiplied into the quantized kernel as the layer
 * does; `groups > 1` as one block-diagonal kernel whose off-group weights are zero), and QConv2DBatchnorm
 * → conv2d with the batch norm folded as the layer folds it at inference (moving statistics).
 */
import * as tf from '@tensorflow/tfjs';
import { QConv1D, QConv2D, QConvBase } from '../layers/q-conv.js';
import { QConv2DBatchnorm } from '../layers/q-conv2d-batchnorm.js';
import type { Padding } from '../ir/nodes.js';
import type { LayerLowering, LowerContext } from './context.js';
import { FOLDED_BIAS_WHY } from './dense.js';
import { layerBias, weightSlotProblems } from './mac-common.js';
import { constantVector, macWeights, quantizedValues, type ValueArray } from './weights.js';

function asConv(layer: tf.layers.Layer): QConvBase {
  if (!(layer instanceof QConvBase)) throw new Error(`internal: ${layer.name} is not a Q convolution`);
  return layer;
}

function convProblems(layer: tf.layers.Layer, ctx: LowerContext, folded: boolean): string[] {
  const l = asConv(layer);
  return [
    ...weightSlotProblems([
      {
        field: 'kernel_quantizer',
        quantizer: l.kernelQuantizer,
        required: true,
        ...(folded ? { why: 'the folded kernel kernel·inv is full-precision float32' } : {}),
      },
      { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: folded, ...(folded ? { why: FOLDED_BIAS_WHY } : {}) },
    ]),
    ...[ctx.activationProblem(layer, l.activation)].filter((p): p is string => p !== null),
  ];
}

/** Spreads a grouped kernel `[kh, kw, C/G, F]` over all `C` input channels, zero outside each group. */
function blockDiagonal(v: ValueArray, groups: number): ValueArray {
  if (groups === 1) return v;
  const [kh, kw, cg, f] = v.shape as [number, number, number, number];
  const c = cg * groups;
  const fg = f / groups;
  const out = new Float32Array(kh * kw * c * f);
  for (let p = 0; p < kh * kw; p += 1) {
    for (let ci = 0; ci < cg; ci += 1) {
      for (let o = 0; o < f; o += 1) {
        const g = Math.floor(o / fg);
        out[(p * c + g * cg + ci) * f + o] = v.values[(p * cg + ci) * f + o]!;
      }
    }
  }
  return { values: out, shape: [kh, kw, c, f] };
}

function padding(l: QConvBase): Padding {
  return l.padding as Padding;
}

export const qConv1D: LayerLowering = {
  check: (layer, ctx) => convProblems(layer, ctx, false),
  lower(layer, inputs, ctx) {
    const l = layer as QConv1D;
    const weights = macWeights('conv1d', l.kernelQuantizer, quantizedValues(l.kernelQuantizer, l.kernel!.read()));
    const y = ctx.builder.conv1d(inputs[0]!, {
      id: ctx.freshId(layer.name),
      origin: ctx.origin(layer),
      weights,
      bias: layerBias(l.bias, l.biasQuantizer),
      kernel: l.kernelSize[0]!,
      stride: l.strides[0]!,
      dilation: l.dilationRate[0]!,
      padding: padding(l),
    });
    return ctx.activation(layer, l.activation, y);
  },
};

export const qConv2D: LayerLowering = {
  check: (layer, ctx) => convProblems(layer, ctx, false),
  lower(layer, inputs, ctx) {
    const l = layer as QConv2D;
    const mask = l.mask;
    const values = quantizedValues(l.kernelQuantizer, l.kernel!.read(), {
      ...(mask === null ? {} : { after: (k: tf.Tensor) => tf.mul(k, tf.tensor(mask)) }),
    });
    return conv2dNode(layer, l, inputs[0]!, ctx, blockDiagonal(values, l.groups), layerBias(l.bias, l.biasQuantizer));
  },
};

export const qConv2DBatchnorm: LayerLowering = {
  check: (layer, ctx) => convProblems(layer, ctx, true),
  lower(layer, inputs, ctx) {
    const l = layer as QConv2DBatchnorm;
    const { inv, foldedBias } = tf.tidy(() => l.batchnorm.movingFactors(l.bias === null ? null : l.bias.read()));
    try {
      const kernel = quantizedValues(l.kernelQuantizer, l.kernel!.read(), { before: (k) => tf.mul(k, inv) });
      const bias = constantVector(quantizedValues(l.biasQuantizer, foldedBias));
      return conv2dNode(layer, l, inputs[0]!, ctx, kernel, bias);
    } finally {
      tf.dispose([inv, foldedBias]);
    }
  },
};

function conv2dNode(
  layer: tf.layers.Layer,
  l: QConv2D,
  x: string,
  ctx: LowerContext,
  kernel: ValueArray,
  bias: ReturnType<typeof layerBias>,
): string {
  const y = ctx.builder.conv2d(x, {
    id: ctx.freshId(layer.name),
    origin: ctx.origin(layer),
    weights: macWeights('conv2d', l.kernelQuantizer, kernel),
    bias,
    kernel: [l.kernelSize[0]!, l.kernelSize[1]!],
    strides: [l.strides[0]!, l.strides[1]!],
    dilation: [l.dilationRate[0]!, l.dilationRate[1]!],
    padding: padding(l),
  });
  return ctx.activation(layer, l.activation, y);
}
