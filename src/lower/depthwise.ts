/**
 * QDepthwiseConv2D → depthwise; QDepthwiseConv2DBatchnorm → depthwise with the batch norm folded (the
 * per-channel factor reshaped to `[C, depth_multiplier]`, as the layer does); QSeparableConv2D →
 * depthwise (no bias, no requantizer: QKeras quantizes nothing between the two steps) + pointwise (bias,
 * activation); QSeparableConv1D → the same on a height-1 image, reshaped in and out as Keras does.
 */
import * as tf from '@tensorflow/tfjs';
import { QDepthwiseConv2D } from '../layers/q-depthwise-conv2d.js';
import { QDepthwiseConv2DBatchnorm } from '../layers/q-depthwise-conv2d-batchnorm.js';
import { QSeparableConv1D, QSeparableConv2D } from '../layers/q-separable-conv.js';
import type { Padding } from '../ir/nodes.js';
import type { LayerLowering, LowerContext } from './context.js';
import { FOLDED_BIAS_WHY } from './dense.js';
import { layerBias, weightSlotProblems } from './mac-common.js';
import { constantVector, macWeights, quantizedValues, type ValueArray } from './weights.js';

type Separable = QSeparableConv1D | QSeparableConv2D;

function activationProblems(layer: tf.layers.Layer, ctx: LowerContext, q: Parameters<LowerContext['activationProblem']>[1]): string[] {
  const p = ctx.activationProblem(layer, q);
  return p === null ? [] : [p];
}

function depthwiseProblems(layer: tf.layers.Layer, ctx: LowerContext, folded: boolean): string[] {
  const l = layer as QDepthwiseConv2D;
  return [
    ...weightSlotProblems([
      {
        field: 'depthwise_quantizer',
        quantizer: l.depthwiseQuantizer,
        required: true,
        ...(folded ? { why: 'the folded kernel depthwise_kernel·inv is full-precision float32' } : {}),
      },
      { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: folded, ...(folded ? { why: FOLDED_BIAS_WHY } : {}) },
    ]),
    ...activationProblems(layer, ctx, l.activation),
  ];
}

function depthwiseNode(layer: tf.layers.Layer, l: QDepthwiseConv2D, x: string, ctx: LowerContext, kernel: ValueArray, bias: ReturnType<typeof layerBias>): string {
  const y = ctx.builder.depthwise(x, {
    id: ctx.freshId(layer.name),
    origin: ctx.origin(layer),
    weights: macWeights('depthwise', l.depthwiseQuantizer, kernel),
    bias,
    kernel: [l.kernelSize[0]!, l.kernelSize[1]!],
    strides: [l.strides[0]!, l.strides[1]!],
    dilation: [l.dilationRate[0]!, l.dilationRate[1]!],
    padding: l.padding as Padding,
  });
  return ctx.activation(layer, l.activation, y);
}

export const qDepthwiseConv2D: LayerLowering = {
  check: (layer, ctx) => depthwiseProblems(layer, ctx, false),
  lower(layer, inputs, ctx) {
    const l = layer as QDepthwiseConv2D;
    const kernel = quantizedValues(l.depthwiseQuantizer, l.depthwiseKernel!.read());
    return depthwiseNode(layer, l, inputs[0]!, ctx, kernel, layerBias(l.bias, l.biasQuantizer));
  },
};

export const qDepthwiseConv2DBatchnorm: LayerLowering = {
  check: (layer, ctx) => depthwiseProblems(layer, ctx, true),
  lower(layer, inputs, ctx) {
    const l = layer as QDepthwiseConv2DBatchnorm;
    const k = l.depthwiseKernel!.shape;
    const { inv, foldedBias } = tf.tidy(() => l.batchnorm.movingFactors(l.bias === null ? null : l.bias.read()));
    try {
      const kernel = quantizedValues(l.depthwiseQuantizer, l.depthwiseKernel!.read(), {
        before: (t) => tf.mul(t, tf.reshape(inv, [k[2]!, k[3]!])),
      });
      const bias = constantVector(quantizedValues(l.biasQuantizer, foldedBias));
      return depthwiseNode(layer, l, inputs[0]!, ctx, kernel, bias);
    } finally {
      tf.dispose([inv, foldedBias]);
    }
  },
};

function separableProblems(layer: tf.layers.Layer, ctx: LowerContext): string[] {
  const l = layer as Separable;
  const out = [
    ...weightSlotProblems([
      { field: 'depthwise_quantizer', quantizer: l.depthwiseQuantizer, required: true },
      { field: 'pointwise_quantizer', quantizer: l.pointwiseQuantizer, required: true },
      { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: false },
    ]),
    ...activationProblems(layer, ctx, l.activation),
  ];
  if (l.padding === 'causal') {
    out.push("padding='causal' is not supported for separable convolutions; use 'same' or 'valid'");
  }
  return out;
}

/** Depthwise then pointwise on a `[H, W, C]` node; returns the pointwise node (bias added, not activated). */
function separableNodes(layer: tf.layers.Layer, l: Separable, x: string, ctx: LowerContext, twoD: boolean): string {
  const dwv = quantizedValues(l.depthwiseQuantizer, l.depthwiseKernel!.read());
  const pwv = quantizedValues(l.pointwiseQuantizer, l.pointwiseKernel!.read());
  const dwShape = twoD ? dwv.shape : [1, ...dwv.shape];
  const pwShape = pwv.shape.slice(-2);
  const kernel: [number, number] = twoD ? [l.kernelSize[0]!, l.kernelSize[1]!] : [1, l.kernelSize[0]!];
  const strides: [number, number] = twoD ? [l.strides[0]!, l.strides[1]!] : [1, l.strides[0]!];
  const dilation: [number, number] = twoD ? [l.dilationRate[0]!, l.dilationRate[1]!] : [1, l.dilationRate[0]!];
  const dw = ctx.builder.depthwise(x, {
    id: ctx.freshId(`${layer.name}_depthwise`),
    origin: ctx.origin(layer),
    weights: macWeights('depthwise', l.depthwiseQuantizer, { values: dwv.values, shape: dwShape }),
    kernel,
    strides,
    dilation,
    padding: l.padding as Padding,
  });
  return ctx.builder.pointwise(dw, {
    id: ctx.freshId(layer.name),
    origin: ctx.origin(layer),
    weights: macWeights('pointwise', l.pointwiseQuantizer, { values: pwv.values, shape: pwShape }),
    bias: layerBias(l.bias, l.biasQuantizer),
  });
}

export const qSeparableConv2D: LayerLowering = {
  check: separableProblems,
  lower(layer, inputs, ctx) {
    const l = layer as QSeparableConv2D;
    return ctx.activation(layer, l.activation, separableNodes(layer, l, inputs[0]!, ctx, true));
  },
};

export const qSeparableConv1D: LayerLowering = {
  check: separableProblems,
  lower(layer, inputs, ctx) {
    const l = layer as QSeparableConv1D;
    const x = inputs[0]!;
    const [steps, channels] = ctx.shapeOf(x) as [number, number];
    const image = ctx.builder.reshape(x, { id: ctx.freshId(`${layer.name}_image`), origin: ctx.origin(layer), shape: [1, steps, channels] });
    const pw = separableNodes(layer, l, image, ctx, false);
    // The activation goes before the reshape back so that it can fuse into the pointwise node.
    const act = ctx.activation(layer, l.activation, pw);
    const [, outSteps, filters] = ctx.shapeOf(act) as [number, number, number];
    const y = ctx.builder.reshape(act, { id: ctx.freshId(`${layer.name}_steps`), origin: ctx.origin(layer), shape: [outSteps, filters] });
    if (ctx.softmax !== null && ctx.softmax.logits === pw) ctx.softmax = { ...ctx.softmax, logits: y };
    return y;
  },
};
