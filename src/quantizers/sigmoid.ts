/**
 * QKeras's piecewise-linear sigmoid/tanh helpers and the module-wide "internal sigmoid".
 *
 * QKeras's hard sigmoid has slope 0.5 (`clip(0.5x + 0.5, 0, 1)`), not Keras's 0.2; the smooth variant has
 * slope 0.1875 (= 2^-3 + 2^-4, two shifts in hardware). quantized_relu (use_sigmoid), quantized_ulaw,
 * quantized_tanh, quantized_sigmoid and the stochastic quantizers read the internal sigmoid when they are
 * *called*, so `setInternalSigmoid` affects quantizers built before it.
 */
import * as tf from '@tensorflow/tfjs';
import { assertNever, ConfigError } from '../errors.js';
import { roundThrough } from './ste.js';

/** QKeras `hard_sigmoid`: `clip(0.5 * x + 0.5, 0, 1)`; gradient 0.5 on [-1, 1] (ends included), 0 outside. */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.mul(0.5, asFloat32(x)), 0.5), 0, 1));
}

/** QKeras `smooth_sigmoid`: `clip(0.1875 * x + 0.5, 0, 1)`. */
export function smoothSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.mul(0.1875, asFloat32(x)), 0.5), 0, 1));
}

/** QKeras `binary_sigmoid`: the hard sigmoid rounded (half to even) to {0, 1}, straight-through gradient. */
export function binarySigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => roundThrough(hardSigmoid(x)));
}

/** QKeras `hard_tanh`: `2 * hard_sigmoid(x) - 1`, i.e. `clip(x, -1, 1)`. */
export function hardTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(2, hardSigmoid(x)), 1));
}

/** QKeras `smooth_tanh`: `2 * smooth_sigmoid(x) - 1`. */
export function smoothTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(2, smoothSigmoid(x)), 1));
}

/** QKeras `binary_tanh`: `2 * binary_sigmoid(x) - 1`, values in {-1, +1}; x <= 0 gives -1 (hard_sigmoid(0) = 0.5 rounds to even 0). */
export function binaryTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(2, binarySigmoid(x)), 1));
}

export type InternalSigmoidMode = 'hard' | 'smooth' | 'real';

const INTERNAL_SIGMOID_MODES: readonly InternalSigmoidMode[] = ['hard', 'smooth', 'real'];

// QKeras's module default is "hard".
let internalMode: InternalSigmoidMode = 'hard';

/** QKeras `set_internal_sigmoid(mode)`: selects the sigmoid the quantizers use from the next call on. */
export function setInternalSigmoid(mode: InternalSigmoidMode): void {
  if (!INTERNAL_SIGMOID_MODES.includes(mode)) {
    throw new ConfigError('set_internal_sigmoid', 'mode', mode, "'real', 'hard' or 'smooth'");
  }
  internalMode = mode;
}

export function getInternalSigmoid(): InternalSigmoidMode {
  return internalMode;
}

/** QKeras's `_sigmoid(x)`: the sigmoid selected by `setInternalSigmoid` at the time of the call. */
export function internalSigmoid(x: tf.Tensor): tf.Tensor {
  switch (internalMode) {
    case 'hard':
      return hardSigmoid(x);
    case 'smooth':
      return smoothSigmoid(x);
    case 'real':
      return tf.tidy(() => tf.sigmoid(asFloat32(x)));
    default:
      return assertNever(internalMode, 'internal sigmoid mode');
  }
}

function asFloat32(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}
