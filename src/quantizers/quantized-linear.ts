/**
 * QKeras `quantized_linear`: the newer linear quantizer meant to replace quantized_bits.
 *
 * `xq = (round(clip(x / qs, lo, hi) - shift) + shift) * qs`, output `x + qnoise * (xq - x)`. The
 * quantization scale `qs` is the data-type scale `2**(integer - bits + keep_negative)`, times alpha when
 * alpha is numeric, or data dependent for "auto" (the smallest scale not clipping max|x| per channel) and
 * "auto_po2" (that, rounded to a power of two, then least-squares po2 refinements until it stops changing,
 * at most 5 rounds). One signed bit is a true sign function (±0.5 * qs) via the 0.5 shift.
 *
 * Unlike quantized_bits, the straight-through estimator covers only the rounding: the gradient is 1 inside
 * `[lo * qs, hi * qs]` and 0 outside (times qnoise, plus 1 - qnoise).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedError } from '../errors.js';
import {
  PyFloat,
  Quantizer,
  asBool,
  asInt,
  asNumber,
  resolveArgs,
  type ArgValue,
  type CallOptions,
  type ParamSpec,
  type QuantizerArgs,
} from './base.js';
import { registerQuantizer } from './registry.js';
import {
  EPSILON,
  alphaMultiplier,
  flatNumbers,
  getLeastSquaresScale,
  getScalingAxis,
  isAutoAlpha,
  pyInt,
  pyTruthy,
  readAlpha,
  readAxisArg,
  readFlag,
  roundToPo2,
  type Alpha,
  type NumericArg,
} from './scale.js';
import { pow2f } from './quantized-bits.js';
import { roundThrough, stopGradient } from './ste.js';

export class QuantizedLinear extends Quantizer {
  static readonly qkerasName = 'quantized_linear';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'symmetric', default: 1 },
    { name: 'keep_negative', default: true },
    { name: 'alpha', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'scale_axis', default: null },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_variables', default: false },
  ];

  readonly className = 'quantized_linear';
  readonly bits: number;
  readonly integer: number;
  symmetric: boolean | number;
  readonly keepNegative: boolean | number;
  alpha: Alpha;
  readonly useStochasticRounding: boolean | number;
  readonly scaleAxis: number | number[] | null;
  readonly varName: string | null;
  readonly useVariables: boolean;
  /**
   * The scale the core computation divides by: a number for a fixed alpha, a kept per-channel tensor
   * after an auto call (a list alpha becomes a tensor on the first call).
   */
  quantizationScale: tf.Tensor | number;
  private alphaArg: NumericArg | null;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const where = QuantizedLinear.qkerasName;
    const { values, floats } = resolveArgs(where, QuantizedLinear.params, positional, args);
    this.bits = asInt(where, 'bits', values.bits!, 1);
    this.integer = asNumber(where, 'integer', values.integer!, 'a number of integer bits');
    if (!Number.isFinite(this.integer)) throw new ConfigError(where, 'integer', values.integer, 'a finite number');
    this.symmetric = readFlag(where, 'symmetric', values.symmetric!);
    this.keepNegative = readFlag(where, 'keep_negative', values.keep_negative!);
    const { alpha, arg } = readAlpha(where, values.alpha!, floats.has('alpha'));
    this.alpha = alpha;
    this.alphaArg = arg;
    this.useStochasticRounding = readFlag(where, 'use_stochastic_rounding', values.use_stochastic_rounding!);
    this.scaleAxis = readAxisArg(where, 'scale_axis', values.scale_axis!);
    this.qnoiseFactor = asNumber(where, 'qnoise_factor', values.qnoise_factor!);
    const varName = values.var_name!;
    if (varName !== null && typeof varName !== 'string') {
      throw new ConfigError(where, 'var_name', varName, 'None or a string');
    }
    this.varName = varName;
    this.useVariables = asBool(where, 'use_variables', values.use_variables!);
    this.quantizationScale = this.defaultQuantizationScale();
    this.scale = this.initialScale();
  }

  /** `scale` before the first call: quantization scale / data-type scale; a list alpha's appears on the first call. */
  private initialScale(): number | null {
    if (this.alpha !== null && typeof this.alpha === 'object') return null;
    return Math.fround(this.defaultQuantizationScale() / this.dataTypeScale);
  }

  /** Also frees the kept quantization scale (an auto or list alpha's, per channel). */
  override dispose(): void {
    super.dispose();
    if (this.quantizationScale instanceof tf.Tensor && !this.quantizationScale.isDisposed) this.quantizationScale.dispose();
    this.quantizationScale = this.defaultQuantizationScale();
    this.scale = this.initialScale();
  }

  /** `2**(integer - bits + keep_negative)`: the step of the stored integer type. */
  get dataTypeScale(): number {
    return pow2f(this.integer - this.bits + Number(this.keepNegative));
  }

  get autoAlpha(): boolean {
    return isAutoAlpha(this.alpha);
  }

  /** One signed bit: quantize to ±0.5 * qs, a sign function without a zero. */
  get useSignFunction(): boolean {
    return this.bits === 1 && pyTruthy(this.keepNegative);
  }

  /** The data-type scale, times alpha when alpha is a number; a list alpha is deferred to the first call. */
  private defaultQuantizationScale(): number {
    const dts = this.dataTypeScale;
    if (this.alpha === null || isAutoAlpha(this.alpha) || typeof this.alpha !== 'number') return dts;
    return Math.fround(Math.fround(this.alpha) * dts);
  }

  /** Clip bounds in units of the quantization scale. */
  getClipBounds(): [number, number] {
    if (this.useSignFunction) return [-0.5, 0.5];
    const po2 = pow2f(this.bits - Number(this.keepNegative));
    const neg = Math.fround(-po2 + Number(this.symmetric));
    // keep_negative * neg as QKeras computes it (sign of zero included), without 0 * -Infinity = NaN
    // when a huge bits makes po2 infinite.
    const lo = Number(this.keepNegative) === 0 ? (neg < 0 ? -0 : 0) : neg;
    return [lo, Math.fround(po2 - 1)];
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      let qs: tf.Tensor | number;
      if (isAutoAlpha(this.alpha)) {
        qs = this.autoQuantizationScale(xf, this.alpha, options.training);
        this.keepQuantizationScale(qs);
      } else if (this.alpha !== null && typeof this.alpha !== 'number' && typeof this.quantizationScale === 'number') {
        // A per-channel list alpha: alpha * data-type scale, as a float32 tensor.
        qs = tf.mul(alphaMultiplier(this.alpha, xf, this.toString()), this.dataTypeScale);
        this.keepQuantizationScale(qs);
      } else {
        qs = this.quantizationScale;
      }
      const xq = tf.mul(this.scaleClipAndRound(xf, qs, options.training), qs);
      return tf.add(xf, tf.mul(this.qnoiseFactor, tf.sub(xq, xf)));
    });
  }

  private keepQuantizationScale(qs: tf.Tensor): void {
    if (this.quantizationScale instanceof tf.Tensor && !this.quantizationScale.isDisposed) {
      this.quantizationScale.dispose();
    }
    this.quantizationScale = tf.keep(qs.clone());
    this.setScale(tf.div(qs, this.dataTypeScale));
  }

  /** x / qs, clipped to the code range, rounded (straight-through) to integer codes. */
  private scaleClipAndRound(x: tf.Tensor, qs: tf.Tensor | number, training: boolean | undefined): tf.Tensor {
    const shift = this.useSignFunction ? 0.5 : 0;
    const [lo, hi] = this.getClipBounds();
    const clipped = tf.clipByValue(tf.div(x, qs), lo, hi);
    const rounded = roundThrough(tf.sub(clipped, shift), pyTruthy(this.useStochasticRounding), 1.0, training);
    return tf.add(rounded, shift);
  }

  private autoQuantizationScale(x: tf.Tensor, alpha: 'auto' | 'auto_po2', training: boolean | undefined): tf.Tensor {
    const axes = getScalingAxis(this.scaleAxis, x.rank);
    const [lo, hi] = this.getClipBounds();
    const range = Math.fround(hi - lo);
    // The smallest scale that does not clip the largest value of each channel.
    let qs = pyTruthy(this.keepNegative)
      ? tf.div(tf.mul(tf.max(tf.abs(x), axes, true), 2), range)
      : tf.div(tf.max(x, axes, true), range);
    qs = tf.maximum(qs, EPSILON);
    if (alpha === 'auto_po2') {
      qs = roundToPo2(qs);
      let last = tf.neg(tf.onesLike(qs));
      const maxIterations = this.useSignFunction ? 1 : 5;
      for (let i = 0; i < maxIterations && tf.any(tf.notEqual(last, qs)).dataSync()[0]; i++) {
        const codes = this.scaleClipAndRound(x, qs, training);
        last = qs;
        qs = getLeastSquaresScale('auto_po2', x, codes, { scaleAxis: this.scaleAxis, where: this.toString() }) as tf.Tensor;
      }
    }
    return stopGradient(qs);
  }

  /** QKeras `_set_trainable_parameter`: a weight layer turns alpha=None into auto_po2 (symmetric). */
  override setTrainableParameter(): void {
    if (this.alpha === null) {
      this.alpha = 'auto_po2';
      this.alphaArg = null;
      this.symmetric = true;
    }
  }

  /** Every element of the quantization scale (one per channel after an auto call or with a list alpha). */
  private scaleValues(): number[] {
    const qs = this.quantizationScale;
    if (qs instanceof tf.Tensor) return Array.from(qs.dataSync());
    if (this.alpha !== null && typeof this.alpha === 'object') {
      return flatNumbers(this.alpha).map((a) => Math.fround(Math.fround(a) * this.dataTypeScale));
    }
    return [qs];
  }

  /** Clip max times the quantization scale; with per-channel scales, the largest over the channels. */
  max(): number {
    const [, hi] = this.getClipBounds();
    return Math.max(...this.scaleValues().map((s) => Math.fround(hi * s)));
  }

  /** Clip min times the quantization scale; with per-channel scales, the smallest over the channels. */
  min(): number {
    const [lo] = this.getClipBounds();
    return Math.min(...this.scaleValues().map((s) => Math.fround(lo * s)));
  }

  /** Every representable value (codes `0..hi` then `lo..-1`, times the scale); needs a single scale. */
  override range(): number[] {
    const values = this.scaleValues();
    if (values.length !== 1) {
      throw new UnsupportedError(
        `${this.toString()}: range() needs one quantization scale, but the last auto call left ${values.length} per-channel scales`,
      );
    }
    if (this.useSignFunction) return [this.max(), this.min()];
    const s = values[0]!;
    const [lo, hi] = this.getClipBounds();
    const codes = [
      ...Array.from({ length: Math.trunc(hi) + 1 }, (_, i) => i),
      ...Array.from({ length: -Math.trunc(lo) }, (_, i) => Math.trunc(lo) + i),
    ];
    return codes.map((c) => Math.fround(s * c));
  }

  /**
   * QKeras's `str()`. A numeric alpha crashes QKeras's own `__str__` (UnboundLocalError); here it prints
   * as `alpha=<value>`, lists space-separated (`[1.0 2.0]`) so that the string parses back.
   */
  toString(): string {
    const flags = [String(this.bits), String(pyInt(this.integer)), String(pyInt(this.symmetric))];
    if (!pyTruthy(this.keepNegative)) flags.push('keep_negative=False');
    if (isAutoAlpha(this.alpha)) flags.push(`alpha='${this.alpha}'`);
    else if (this.alpha !== null) {
      const text = this.alphaArg!.pyStr;
      flags.push(`alpha=${typeof this.alpha === 'number' ? text : text.replace(/,\s*/g, ' ')}`);
    }
    if (pyTruthy(this.useStochasticRounding)) flags.push(`use_stochastic_rounding=${pyInt(this.useStochasticRounding)}`);
    return `quantized_linear(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      bits: this.bits,
      integer: this.integer,
      symmetric: this.symmetric,
      alpha: this.alphaArg?.raw ?? this.alpha,
      keep_negative: this.keepNegative,
      use_stochastic_rounding: this.useStochasticRounding,
      qnoise_factor: this.qnoiseFactor,
    };
  }
}

registerQuantizer(QuantizedLinear);
