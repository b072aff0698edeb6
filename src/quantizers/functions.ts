/**
 * Named activation functions usable wherever a quantizer is.
 *
 * QKeras's `get_quantizer("relu")` returns a plain function (QKeras's own `hard_sigmoid`, `binary_tanh`,
 * ... first, then Keras activations), and layers call whatever they got. Here each such function is
 * wrapped in an `ActivationFunction`, a `Quantizer` whose `call` applies the function, so layers can treat
 * quantizers and activations uniformly. QKeras's `hard_sigmoid` (slope 0.5) shadows Keras's (slope 0.2),
 * as it does in QKeras's lookup order.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { Quantizer } from './base.js';
import {
  binarySigmoid,
  binaryTanh,
  hardSigmoid,
  hardTanh,
  smoothSigmoid,
  smoothTanh,
} from './sigmoid.js';

interface ActivationDef {
  readonly fn: (x: tf.Tensor) => tf.Tensor;
  /** 1 for the functions with two output values, else 32 (float). */
  readonly bits: number;
  /** Infimum and supremum of the function over the reals (rounded for the smooth non-monotone ones). */
  readonly min: number;
  readonly max: number;
}

const float = (fn: (x: tf.Tensor) => tf.Tensor, min: number, max: number): ActivationDef => ({
  fn,
  bits: 32,
  min,
  max,
});

// Keras 2 constants for selu.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** QKeras's helpers from quantizers.py, looked up before Keras's activations. */
const QKERAS_FUNCTIONS: Readonly<Record<string, ActivationDef>> = {
  hard_sigmoid: float(hardSigmoid, 0, 1),
  smooth_sigmoid: float(smoothSigmoid, 0, 1),
  binary_sigmoid: { fn: binarySigmoid, bits: 1, min: 0, max: 1 },
  hard_tanh: float(hardTanh, -1, 1),
  smooth_tanh: float(smoothTanh, -1, 1),
  binary_tanh: { fn: binaryTanh, bits: 1, min: -1, max: 1 },
};

/** Keras activations by their serialized names (`keras.activations.get(name)`). */
const KERAS_FUNCTIONS: Readonly<Record<string, ActivationDef>> = {
  linear: float((x) => x.clone(), -Infinity, Infinity),
  relu: float((x) => tf.relu(x), 0, Infinity),
  sigmoid: float((x) => tf.sigmoid(x), 0, 1),
  tanh: float((x) => tf.tanh(x), -1, 1),
  softmax: float((x) => tf.softmax(x, -1), 0, 1),
  elu: float((x) => tf.elu(x), -1, Infinity),
  selu: float((x) => tf.selu(x), -SELU_SCALE * SELU_ALPHA, Infinity),
  softplus: float((x) => tf.softplus(x), 0, Infinity),
  softsign: float((x) => tf.div(x, tf.add(tf.abs(x), 1)), -1, 1),
  swish: float((x) => tf.mul(x, tf.sigmoid(x)), -0.2784645427610738, Infinity),
  exponential: float((x) => tf.exp(x), 0, Infinity),
  // Keras's default gelu is the exact (erf) form, not the tanh approximation.
  gelu: float((x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), -0.16997120, Infinity),
};

function lookupDef(name: string): ActivationDef | undefined {
  if (Object.hasOwn(QKERAS_FUNCTIONS, name)) return QKERAS_FUNCTIONS[name];
  if (Object.hasOwn(KERAS_FUNCTIONS, name)) return KERAS_FUNCTIONS[name];
  return undefined;
}

/**
 * A named activation function behaving as a quantizer: `call` applies it, `toString()` is its name,
 * `getConfig()` is empty and `serialize()` is the bare name, as Keras serialises an activation.
 */
export class ActivationFunction extends Quantizer {
  readonly className: string;
  bits: number;
  private readonly def: ActivationDef;

  /** Throws `ConfigError` for an unknown name; `lookupActivationFunction` tests a name first. */
  constructor(readonly name: string) {
    super();
    const def = lookupDef(name);
    if (def === undefined) {
      throw new ConfigError('ActivationFunction', 'name', name, `one of ${activationFunctionNames().join(', ')}`);
    }
    this.className = name;
    this.def = def;
    this.bits = def.bits;
  }

  call(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.def.fn(tf.cast(x, 'float32')));
  }

  toString(): string {
    return this.name;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }

  override serialize(): string {
    return this.name;
  }

  max(): number {
    return this.def.max;
  }

  min(): number {
    return this.def.min;
  }
}

/** A new `ActivationFunction` for `name`, or undefined when no such function exists. */
export function lookupActivationFunction(name: string): ActivationFunction | undefined {
  return lookupDef(name) === undefined ? undefined : new ActivationFunction(name);
}

/** Every activation function name, QKeras's then Keras's, sorted. */
export function activationFunctionNames(): string[] {
  return [...Object.keys(QKERAS_FUNCTIONS), ...Object.keys(KERAS_FUNCTIONS)].sort();
}
