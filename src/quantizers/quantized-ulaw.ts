/**
 * QKeras `quantized_ulaw`: the internal sigmoid of `x / 2^integer` rounded to `bits - 1` fractional bits,
 * mapped to [-1, 1], then compressed with the mu-law curve `sign(r) * ln(1 + u|r|) / ln(1 + u)` and scaled by
 * `2^integer`. There is no straight-through wrapper: the gradient flows through the sigmoid and the log
 * (the rounding alone is straight-through).
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ArgValue,
  asInt,
  asNumber,
  type CallOptions,
  configNumber,
  type ParamSpec,
  PyFloat,
  pyNumber,
  Quantizer,
  type QuantizerArgs,
  resolveArgs,
} from './base.js';
import { ConfigError } from '../errors.js';
import { registerQuantizer } from './registry.js';
import { pyInt, pyTruthy, readFlag } from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { roundThrough, sign } from './ste.js';

export class QuantizedUlaw extends Quantizer {
  static readonly qkerasName = 'quantized_ulaw';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'symmetric', default: 0 },
    { name: 'u', default: new PyFloat(255) },
  ];

  readonly className = QuantizedUlaw.qkerasName;
  bits: number;
  readonly integer: number;
  readonly symmetric: boolean | number;
  readonly u: number;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const name = QuantizedUlaw.qkerasName;
    const { values, floats } = resolveArgs(name, QuantizedUlaw.params, positional, args);
    this.floats = floats;
    this.bits = asInt(name, 'bits', values.bits!, 1);
    this.integer = asInt(name, 'integer', values.integer!);
    this.symmetric = readFlag(name, 'symmetric', values.symmetric!);
    this.u = asNumber(name, 'u', values.u!, 'a number > 0');
    if (!(this.u > 0)) throw new ConfigError(name, 'u', values.u, 'a number > 0');
  }

  call(x: tf.Tensor, _options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const m = 2 ** (this.bits - 1);
      const mI = 2 ** this.integer;
      const p = tf.mul(internalSigmoid(tf.div(xf, mI)), m);
      const rp = tf.sub(tf.mul(2, tf.div(roundThrough(p), m)), 1);
      // QKeras evaluates `1 + u` in float64 and takes the log of its float32 value.
      const denominator = tf.log(tf.scalar(1 + this.u));
      const compressed = tf.div(
        tf.mul(sign(rp), tf.log(tf.add(1, tf.mul(this.u, tf.abs(rp))))),
        denominator,
      );
      return tf.mul(mI, tf.clipByValue(compressed, -1 + Number(this.symmetric) / m, 1 - 1 / m));
    });
  }

  toString(): string {
    const flags = [pyNumber(this.bits, this.floats.has('bits')), pyNumber(this.integer, this.floats.has('integer'))];
    if (pyTruthy(this.symmetric) || this.u !== 255) flags.push(String(pyInt(this.symmetric)));
    if (this.u !== 255) flags.push(pyNumber(this.u, this.floats.has('u')));
    return `quantized_ulaw(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      bits: configNumber(this.bits, this.floats.has('bits')),
      integer: configNumber(this.integer, this.floats.has('integer')),
      symmetric: this.symmetric,
      u: configNumber(this.u, this.floats.has('u')),
    };
  }

  /** QKeras: `max(1, 2^integer)` (1 for a 1-bit quantizer). */
  max(): number {
    return this.bits - 1 > 0 ? Math.max(1, 2 ** this.integer) : 1;
  }

  min(): number {
    return -this.max();
  }
}

registerQuantizer(QuantizedUlaw);
