/**
 * QKeras `quantized_hswish`: MobileNetV3's hard swish `x * min(relu(x + shift), upper) / upper`, then
 * quantized by quantized_bits (always signed; alpha, stochastic rounding and qnoise as quantized_bits).
 *
 * Two QKeras methods are broken upstream and are replaced by what they evidently meant:
 * - `__str__` asserts that a string is an int and always raises; here it returns
 *   `quantized_hswish(bits,integer,symmetric,relu_shift=..,relu_upper_bound=..[,alpha=..][,...])`, the
 *   format its code builds, which parses back to the same quantizer.
 * - `min()` calls a method that does not exist whenever the parabola's minimum `-shift^2 / (4 upper)`
 *   lies above quantized_bits's min (always, for the defaults); here it returns that minimum quantized
 *   on the fixed-point grid (times a numeric alpha).
 * `get_config()` carries quantized_bits's `keep_negative` and `post_training_scale`, which QKeras's
 * constructor rejects; this constructor accepts them (True / None only) so configs round-trip.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { PyFloat, asNumber, pyNumber, type ArgValue, type CallOptions, type ParamSpec, type QuantizerArgs } from './base.js';
import { resolveWithFallback } from './binary.js';
import { QuantizedBits, pow2f } from './quantized-bits.js';
import { registerQuantizer } from './registry.js';
import { pyInt, pyTruthy } from './scale.js';

/** float32 round-half-to-even of a float32 value (tf.round). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export class QuantizedHswish extends QuantizedBits {
  static override readonly qkerasName: string = 'quantized_hswish';
  static override readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'symmetric', default: 0 },
    { name: 'alpha', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'scale_axis', default: null },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_variables', default: false },
    { name: 'relu_shift', default: 3 },
    { name: 'relu_upper_bound', default: 6 },
    // Not QKeras constructor arguments, but keys of its get_config(): accepted so configs round-trip.
    { name: 'keep_negative', default: true },
    { name: 'post_training_scale', default: null },
  ];

  reluShift: number;
  reluUpperBound: number;
  private readonly reluFloats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super(args, positional);
    const where = QuantizedHswish.qkerasName;
    const { arg, floats } = resolveWithFallback(QuantizedHswish, QuantizedHswish.params, args, positional);
    if (!pyTruthy(this.keepNegative)) {
      throw new ConfigError(where, 'keep_negative', this.keepNegative, 'True (hard swish is always signed)');
    }
    if (arg('post_training_scale') !== null) {
      throw new ConfigError(where, 'post_training_scale', arg('post_training_scale'), 'None');
    }
    const positive = (field: string): number => {
      const v = asNumber(where, field, arg(field), 'a positive number');
      if (!(v > 0)) throw new ConfigError(where, field, arg(field), 'a positive number');
      return v;
    };
    this.reluShift = positive('relu_shift');
    this.reluUpperBound = positive('relu_upper_bound');
    this.reluFloats = new Set([...floats].filter((n) => n === 'relu_shift' || n === 'relu_upper_bound'));
  }

  override call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    const hswish = tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const shifted = tf.add(xf, this.reluShift);
      const upper = tf.mul(tf.onesLike(shifted), this.reluUpperBound);
      const relu = tf.where(tf.lessEqual(shifted, this.reluUpperBound), tf.relu(shifted), upper);
      return tf.div(tf.mul(xf, relu), this.reluUpperBound);
    });
    try {
      return super.call(hswish, options);
    } finally {
      hswish.dispose();
    }
  }

  /** quantized_bits's min, or the quantized minimum of the parabola when that lies above it (see the module note). */
  override min(): number {
    const minQuant = super.min();
    const minParabolic = -(this.reluShift * this.reluShift) / (4 * this.reluUpperBound);
    if (minQuant >= minParabolic) return minQuant;
    return this.quantizeFixed(minParabolic);
  }

  /** quantized_bits's fixed-point grid applied to one number in float32 (alpha only when numeric). */
  private quantizeFixed(v: number): number {
    const f = Math.fround;
    const m = pow2f(this.unsignedBits);
    const mi = pow2f(this.integer);
    const lo = f(Number(this.keepNegative) * f(-m + Number(this.symmetric)));
    const code = Math.min(Math.max(roundHalfEven(f(f(f(v) * m) / mi)), lo), f(m - 1));
    const alpha = typeof this.alpha === 'number' ? this.alpha : 1;
    return f(f(f(mi * code) / m) * f(alpha));
  }

  override toString(): string {
    const flags = [
      this.numStr('bits', this.bits),
      this.numStr('integer', this.integer),
      String(pyInt(this.symmetric)),
      `relu_shift=${pyNumber(this.reluShift, this.reluFloats.has('relu_shift'))}`,
      `relu_upper_bound=${pyNumber(this.reluUpperBound, this.reluFloats.has('relu_upper_bound'))}`,
    ];
    if (pyTruthy(this.alpha)) flags.push(`alpha=${this.alphaStr()}`);
    if (pyTruthy(this.useStochasticRounding)) flags.push(`use_stochastic_rounding=${pyInt(this.useStochasticRounding)}`);
    return `quantized_hswish(${flags.join(',')})`;
  }

  override getConfig(): Record<string, unknown> {
    const num = (name: string, v: number): number | PyFloat =>
      this.reluFloats.has(name) && Number.isInteger(v) ? new PyFloat(v) : v;
    return {
      ...super.getConfig(),
      relu_shift: num('relu_shift', this.reluShift),
      relu_upper_bound: num('relu_upper_bound', this.reluUpperBound),
    };
  }
}

registerQuantizer(QuantizedHswish);
