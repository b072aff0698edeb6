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

/**
 * `tf.sign` as TF computes it (-1, 0 or +1, exactly). The wasm backend's own Sign kernel returns 0 for
 * |x| below about 1.2e-7; src/backend registers a correct one (kernels/sign.ts), so this is tf.sign, kept
 * as the one name the quantizers use.
 */
export function sign(x: tf.Tensor): tf.Tensor {
  return tf.sign(x);
}

/** QKeras `_sign_through` (tf.sign, so 0 stays 0). */
export function signThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, sign(x)));
}

export function ceilThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, tf.ceil(x)));
}

export function floorThrough(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => through(x, tf.floor(x)));
}

/**
 * QKeras's qnoise blend between a float value `x` and its quantized form `xq`, float32 op for op:
 * with `useSte`, `x + stop_gradient(qnoise * (-x + xq))` (gradient 1 w.r.t. x); without it,
 * `(1 - qnoise) * x + stop_gradient(qnoise * xq)` (gradient 1 - qnoise).
 */
export function qnoiseThrough(x: tf.Tensor, xq: tf.Tensor, qnoiseFactor: number, useSte: boolean): tf.Tensor {
  return tf.tidy(() => {
    if (useSte) return tf.add(x, stopGradient(tf.mul(qnoiseFactor, tf.add(tf.neg(x), xq))));
    return tf.add(tf.mul(1 - qnoiseFactor, x), stopGradient(tf.mul(qnoiseFactor, xq)));
  });
}

/**
 * TF declares comparisons and logical ops non-differentiable, so `tf.where(x <= bound, f(x), c)` has a
 * gradient through the selected branch only. tfjs's Select gradient also sends a (zero) gradient into its
 * condition, and then fails on the comparison that produced it ("gradient function not found for
 * LessEqual"). Registering zero gradients for these kernels gives TF's behaviour; it runs once, on import,
 * and leaves any gradient someone else registered in place.
 */
function registerZeroGradients(): void {
  const binary = ['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr'];
  for (const kernelName of binary) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as [tf.Tensor, tf.Tensor];
        return { a: () => tf.zeros(a.shape, 'float32'), b: () => tf.zeros(b.shape, 'float32') };
      },
    });
  }
  if (tf.getGradient('LogicalNot') === undefined) {
    tf.registerGradient({
      kernelName: 'LogicalNot',
      inputsToSave: ['x'],
      gradFunc: (_dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => tf.zeros(x.shape, 'float32') };
      },
    });
  }
}

registerZeroGradients();
