/**
 * Straight-through building blocks shared by the quantizers, written as QKeras writes them so that the
 * float32 forward values agree to the last bit: `x + stop_gradient(-x + f(x))` is not always `f(x)`.
 */
import * as tf from '@tensorflow/tfjs';
import { isTraining, nextSeed } from './phase.js';

/** Identity forward, zero gradient: tf.stop_gradient, which tfjs lacks. */
const stopGradientOp = tf.customGrad((...args) => {
  const x = args[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

export function stopGradient(x: tf.Tensor): tf.Tensor {
  return stopGradientOp(x);
}

/** `x + stop_gradient(-x + y)`: forward y (up to float32 rounding of the sum), gradient 1 w.r.t. x. */
export function through(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(x, stopGradient(tf.add(tf.neg(x), y))));
}

/** Uniform [0, 1) noise of x's shape from the package's seeded source. */
export function uniformLike(x: tf.Tensor): tf.Tensor {
  return tf.randomUniform(x.shape, 0, 1, 'float32', nextSeed());
}

/** QKeras `stochastic_round`: round down or up with probability equal to the fraction, on a grid of `precision`. */
export function stochasticRound(x: tf.Tensor, precision = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const scale = 1 / precision;
    const scaled = tf.mul(x, scale);
    const floor = tf.floor(scaled);
    const fraction = tf.sub(scaled, floor);
    const result = tf.where(tf.less(fraction, uniformLike(x)), floor, tf.ceil(scaled));
    return tf.div(result, scale);
  });
}

/** QKeras `_round_through`: half-to-even round with STE; stochastic only while training. */
export function roundThrough(
  x: tf.Tensor,
  useStochasticRounding = false,
  precision = 0.5,
  training?: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const rounded =
      useStochasticRounding && isTraining(training) ? stochasticRound(x, precision) : tf.round(x);
    return through(x, rounded);
  });
}

/** QKeras `_sign_through` (tf.sign, so 0 stays 0). */
export function signThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, tf.sign(x)));
}

export function ceilThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, tf.ceil(x)));
}

export function floorThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, tf.floor(x)));
}
