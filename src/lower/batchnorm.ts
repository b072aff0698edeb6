/**
 * QBatchNormalization → batchnorm with `scale` = the float32 `inv` and `offset` = the float32
 * `beta - mean·inv` tfjs computes at inference (moving statistics, every quantizer applied). The fold
 * pass later merges it into a preceding weight layer. tfjs computes `x·inv + offset` in float32, which is
 * exact only when `inv` and the offset are short dyadic numbers (e.g. a power-of-two inverse_quantizer);
 * anything else is refused here with the fix, since the IR could not match tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { QBatchNormalization } from '../layers/q-batch-normalization.js';
import { QScaleShift } from '../layers/q-scale-shift.js';
import { UnsupportedError } from '../errors.js';
import type { BatchNormNode, IntType } from '../ir/nodes.js';
import { opOf } from '../ops/registry.js';
import type { LayerLowering, LowerContext } from './context.js';
import { weightSlotProblems } from './mac-common.js';
import { constantVector, quantizedValues, type ValueArray } from './weights.js';

const FIX =
  "give it a power-of-two inverse_quantizer (e.g. inverse_quantizer='quantized_po2(8)' with gamma_quantizer=None " +
  'and variance_quantizer=None) and power-of-two beta/mean quantizers, or fold it into the weight layer with ' +
  'QConv2DBatchnorm / QDepthwiseConv2DBatchnorm / QDenseBatchnorm';

function values(t: tf.Tensor): ValueArray {
  return { values: Float32Array.from(t.dataSync()), shape: t.shape.slice() };
}

/** `inv` and `offset` exactly as QBatchNormalization computes them at inference. */
function inferenceFactors(l: QBatchNormalization): { inv: ValueArray; offset: ValueArray } {
  const t = tf.tidy(() => {
    const q = (qz: typeof l.gammaQuantizer, t: tf.Tensor): tf.Tensor => (qz === null ? t : qz.call(t, { training: false }));
    const gamma = l.gamma === null ? null : q(l.gammaQuantizer, l.gamma.read());
    const beta = l.beta === null ? null : q(l.betaQuantizer, l.beta.read());
    const mean = q(l.meanQuantizer, l.movingMean!.read());
    const variance = q(l.varianceQuantizer, l.movingVariance!.read());
    let inv = tf.rsqrt(tf.add(variance, l.epsilon));
    if (gamma !== null) inv = tf.mul(inv, gamma);
    inv = q(l.inverseQuantizer, inv);
    const meanTimesInv = tf.mul(mean, inv);
    const offset = beta === null ? tf.neg(meanTimesInv) : tf.sub(beta, meanTimesInv);
    return { inv, offset };
  });
  try {
    return { inv: values(t.inv), offset: values(t.offset) };
  } finally {
    tf.dispose([t.inv, t.offset]);
  }
}

export const qBatchNormalization: LayerLowering = {
  check(layer) {
    const l = layer as QBatchNormalization;
    const out: string[] = [];
    if (l.getQuantizers().every((q) => q === null)) {
      out.push(`without quantizers it runs Keras's float batch normalization, which has no exact fixed-point form; ${FIX}`);
    }
    const rank = (layer as unknown as { inboundNodes: { inputTensors: tf.SymbolicTensor[] }[] }).inboundNodes[0]?.inputTensors[0]?.rank;
    if (l.axis !== -1 && rank !== undefined && l.axis !== rank - 1) {
      out.push(`axis=${l.axis} normalizes a non-channel axis; only the last (channel) axis is supported`);
    }
    return out;
  },
  lower(layer, inputs, ctx) {
    const { inv, offset } = inferenceFactors(layer as QBatchNormalization);
    return affineNode(layer, inputs[0]!, ctx, inv, offset, 'x·inv + offset', FIX);
  },
};

/**
 * A per-channel `x·scale + offset` node (scalars broadcast to every channel), refused when tfjs's
 * float32 evaluation of it is not proven exact.
 */
function affineNode(layer: tf.layers.Layer, x: string, ctx: LowerContext, scale: ValueArray, offset: ValueArray, what: string, fix: string): string {
  const shape = ctx.shapeOf(x);
  const channels = shape[shape.length - 1]!;
  const widen = (v: ValueArray): ValueArray =>
    v.values.length === channels ? v : { values: new Float32Array(channels).fill(v.values[0]!), shape: [channels] };
  const id = ctx.builder.batchnorm(x, {
    id: ctx.freshId(layer.name),
    origin: ctx.origin(layer),
    scale: constantVector(widen(scale)),
    offset: constantVector(widen(offset)),
  });
  const node = ctx.node(id) as BatchNormNode;
  const problems = opOf(node).float32(node, [ctx.typeOf(x) as IntType], [shape]);
  if (problems.length > 0) {
    throw new UnsupportedError(`${what} is not exact in float32 (${problems[0]}), so no fixed-point model equals tfjs; ${fix}`);
  }
  return id;
}

/** QScaleShift: `x·q(w) + q(b)` with scalar weight and bias, then its activation. */
export const qScaleShift: LayerLowering = {
  check(layer, ctx) {
    const l = layer as QScaleShift;
    const act = ctx.activationProblem(layer, l.activation);
    return [
      ...weightSlotProblems([
        { field: 'weight_quantizer', quantizer: l.weightQuantizer, required: true },
        { field: 'bias_quantizer', quantizer: l.biasQuantizer, required: false },
      ]),
      ...(act === null ? [] : [act]),
    ];
  },
  lower(layer, inputs, ctx) {
    const l = layer as QScaleShift;
    const w = quantizedValues(l.weightQuantizer, l.weight!.read());
    const b = l.bias === null ? { values: new Float32Array([0]), shape: [1] } : quantizedValues(l.biasQuantizer, l.bias.read());
    const y = affineNode(layer, inputs[0]!, ctx, w, b, 'x·w + b', 'quantize the weight and bias with short power-of-two grids');
    return ctx.activation(layer, l.activation, y);
  },
};

export const kerasBatchNormalization: LayerLowering = {
  check: () => [`Keras's float BatchNormalization has no exact fixed-point form; use QBatchNormalization and ${FIX}`],
  lower: () => {
    throw new UnsupportedError('BatchNormalization');
  },
};
