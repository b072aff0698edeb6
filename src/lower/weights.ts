/**
 * Weights as tfjs uses them at inference — the layer's quantizer applied to the stored variable, in
 * float32, inference mode — turned into the IR's exact integer form (codes with a per-channel exponent,
 * or sign + exponent for power-of-two quantizers).
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import type { IntVector, MacNode, Weights } from '../ir/nodes.js';
import { intWeightsFromValues, po2WeightsFromValues, vectorFromValues } from '../ir/weights.js';
import { FLOAT_MODE } from '../ops/classify.js';
import { isPo2Quantizer, weightQuantMode } from './quantizers.js';
import { UnsupportedError } from '../errors.js';

/** A dense float32 array with its shape. */
export interface ValueArray {
  readonly values: Float32Array;
  readonly shape: number[];
}

export interface ValueSteps {
  /** Applied to the variable before the quantizer (batch-norm folding multiplies the kernel here). */
  readonly before?: (t: tf.Tensor) => tf.Tensor;
  /** Applied to the quantized value (QConv2D's mask). */
  readonly after?: (t: tf.Tensor) => tf.Tensor;
}

/**
 * `q(w)` as the layer computes it at inference (w itself without a quantizer), with the layer's own
 * steps around the quantizer, read back from tfjs.
 */
export function quantizedValues(q: Quantizer | null, w: tf.Tensor, steps: ValueSteps = {}): ValueArray {
  return tf.tidy(() => {
    let t = steps.before === undefined ? w : steps.before(w);
    if (q !== null) t = q.call(t, { training: false });
    if (steps.after !== undefined) t = steps.after(t);
    return { values: Float32Array.from(t.dataSync()), shape: t.shape.slice() };
  });
}

/**
 * Refuses quantized values that are not finite. The stored weights are checked before lowering, so a
 * NaN or infinity here comes from the quantizer itself: parameters (bits, integer, alpha) beyond float32.
 */
function assertFiniteValues(q: Quantizer | null, v: ValueArray, what: string): void {
  const i = v.values.findIndex((x) => !Number.isFinite(x));
  if (i < 0) return;
  throw new UnsupportedError(
    `${what} ${q === null ? '' : `quantized by ${q.toString()} `}has the value ${v.values[i]} at flat index ${i}: ` +
      "the quantizer's parameters (bits, integer, alpha) overflow float32; choose values a float32 grid can hold",
  );
}

/** Exact IR weights from the quantized float32 values of a MAC kernel. */
export function macWeights(kind: MacNode['kind'], q: Quantizer | null, v: ValueArray): Weights {
  assertFiniteValues(q, v, 'the kernel');
  const quant = q === null ? FLOAT_MODE : weightQuantMode(q);
  if (q !== null && isPo2Quantizer(q)) return po2WeightsFromValues(v.values, v.shape, quant);
  return intWeightsFromValues(kind, v.values, v.shape, quant);
}

/** An exact constant vector (bias) from float32 values. */
export function constantVector(v: ValueArray, q: Quantizer | null = null): IntVector {
  assertFiniteValues(q, v, 'the constant vector (bias, scale or offset)');
  return vectorFromValues(v.values);
}
