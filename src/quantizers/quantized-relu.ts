/**
 * QKeras `quantized_relu`: a ReLU (optionally leaky, optionally through the internal sigmoid) rounded to an
 * unsigned fixed-point grid of `bits` bits with `integer` integer bits.
 *
 * Grid: step `2^integer / 2^nsb` with `nsb = bits - (negative_slope != 0)`, values `[0, 2^integer - step]`;
 * a leaky negative side uses the same step down to `-negative_slope * 2^integer`. The straight-through
 * gradient is that of the float branch (`x_u`): the (leaky) ReLU clipped at the top of the grid.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import {
  type ArgValue,
  asBool,
  asInt,
  asNumber,
  asOptionalNumber,
  type CallOptions,
  configNumber,
  type ParamSpec,
  PyFloat,
  pyNumber,
  Quantizer,
  type QuantizerArgs,
  resolveArgs,
} from './base.js';
import { FUSED_QUANTIZED_RELU, hasFusedKernel, runFused } from './fused.js';
import { isTraining } from './phase.js';
import { registerQuantizer } from './registry.js';
import { pyInt, pyTruthy, readFlag } from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { qnoiseThrough, roundThrough } from './ste.js';

/**
 * Checks a `negative_slope` the way QKeras asserts it (>= 0, and a power of two unless 0), with an error that
 * says so instead of QKeras's bare AssertionError.
 */
export function checkNegativeSlope(where: string, value: ArgValue): number {
  const allowed = '0 or a power of two (0.5, 0.25, 0.125, ...)';
  const slope = asNumber(where, 'negative_slope', value, allowed);
  if (slope === 0) return 0;
  if (!(slope > 0) || !Number.isFinite(slope) || 2 ** Math.round(Math.log2(slope)) !== slope) {
    throw new ConfigError(where, 'negative_slope', value, allowed);
  }
  return slope;
}

/** Keras `K.relu(x, alpha)`: plain ReLU for alpha 0, else leaky ReLU (gradient alpha at and below 0). */
export function reluWithSlope(x: tf.Tensor, alpha: number): tf.Tensor {
  return alpha === 0 ? tf.relu(x) : tf.leakyRelu(x, alpha);
}

export class QuantizedRelu extends Quantizer {
  static readonly qkerasName = 'quantized_relu';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'use_sigmoid', default: 0 },
    { name: 'negative_slope', default: new PyFloat(0) },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'relu_upper_bound', default: null },
    { name: 'is_quantized_clip', default: true },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_ste', default: true },
    { name: 'use_variables', default: false },
    { name: 'enable_fast_inference', default: false },
  ];

  readonly className = QuantizedRelu.qkerasName;
  bits: number;
  readonly integer: number;
  /** Kept as given: QKeras tests its truthiness (so a re-parsed `0.25` selects the sigmoid path). */
  readonly useSigmoid: boolean | number;
  readonly negativeSlope: number;
  readonly useStochasticRounding: boolean | number;
  readonly reluUpperBound: number | null;
  readonly isQuantizedClip: boolean;
  readonly useSte: boolean;
  readonly enableFastInference: boolean;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const name = QuantizedRelu.qkerasName;
    const { values, floats } = resolveArgs(name, QuantizedRelu.params, positional, args);
    this.floats = floats;
    this.bits = asInt(name, 'bits', values.bits!, 1);
    this.integer = asInt(name, 'integer', values.integer!);
    this.useSigmoid = readFlag(name, 'use_sigmoid', values.use_sigmoid!);
    this.negativeSlope = checkNegativeSlope(name, values.negative_slope!);
    this.useStochasticRounding = readFlag(name, 'use_stochastic_rounding', values.use_stochastic_rounding!);
    this.reluUpperBound = asOptionalNumber(name, 'relu_upper_bound', values.relu_upper_bound!);
    this.isQuantizedClip = asBool(name, 'is_quantized_clip', values.is_quantized_clip!);
    this.qnoiseFactor = asNumber(name, 'qnoise_factor', values.qnoise_factor!);
    this.useSte = asBool(name, 'use_ste', values.use_ste!);
    this.enableFastInference = asBool(name, 'enable_fast_inference', values.enable_fast_inference!);
    if (this.enableFastInference && this.integer < 0) {
      // QKeras computes `1 << integer` on this path, which rejects negative shifts.
      throw new ConfigError(name, 'integer', values.integer, 'an integer >= 0 with enable_fast_inference');
    }
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      if (this.enableFastInference) return this.fastCall(xf);

      const slope = this.negativeSlope;
      const nsb = this.bits - (slope !== 0 ? 1 : 0);
      const m = 2 ** nsb;
      const mI = 2 ** this.integer;
      // QKeras forms the top of the grid as float32 `m_i - m_f`.
      const top = Math.fround(mI - Math.fround(2 ** (this.integer - nsb)));

      const stochastic = pyTruthy(this.useStochasticRounding);
      // The common configuration as one kernel when the backend has it (same bits, see ./fused.ts).
      if (
        slope === 0 &&
        this.isQuantizedClip &&
        !pyTruthy(this.useSigmoid) &&
        !(stochastic && isTraining(options.training)) &&
        hasFusedKernel(FUSED_QUANTIZED_RELU)
      ) {
        const attrs = { m, mI, top, hi: 1 - 1 / m, qnoise: this.qnoiseFactor, useSte: this.useSte };
        return runFused(FUSED_QUANTIZED_RELU, { x: xf }, attrs);
      }

      let xu: tf.Tensor;
      if (this.isQuantizedClip) {
        xu = tf.where(tf.lessEqual(xf, top), reluWithSlope(xf, slope), tf.fill(xf.shape, top));
      } else if (this.reluUpperBound !== null) {
        const ub = this.reluUpperBound;
        xu = tf.where(tf.lessEqual(xf, ub), reluWithSlope(xf, slope), tf.fill(xf.shape, ub));
      } else {
        xu = reluWithSlope(xf, slope);
      }

      const round = (t: tf.Tensor): tf.Tensor => roundThrough(t, stochastic, 0.5, options.training);
      const hi = 1 - 1 / m;
      let xq: tf.Tensor;
      if (pyTruthy(this.useSigmoid)) {
        const p = tf.mul(internalSigmoid(tf.div(xf, mI)), m);
        xq = tf.mul(mI, tf.clipByValue(tf.sub(tf.mul(2, tf.div(round(p), m)), 1), 0, hi));
        if (slope > 0) {
          const negFactor = 1 / (slope * m);
          const neg = tf.clipByValue(tf.sub(tf.mul(2, tf.mul(round(tf.mul(p, slope)), negFactor)), 1), -1, 0);
          xq = tf.add(xq, tf.mul(mI * slope, neg));
        }
      } else {
        const p = tf.div(tf.mul(xf, m), mI);
        xq = tf.mul(mI, tf.clipByValue(tf.div(round(p), m), 0, hi));
        if (slope > 0) {
          const negFactor = 1 / (slope * m);
          const neg = tf.clipByValue(tf.mul(round(tf.mul(p, slope)), negFactor), -1, 0);
          xq = tf.add(xq, tf.mul(mI * slope, neg));
        }
      }

      if (this.reluUpperBound && !this.isQuantizedClip) {
        const ub = this.reluUpperBound;
        xq = tf.where(tf.lessEqual(xq, ub), xq, tf.fill(xq.shape, ub));
      }
      return qnoiseThrough(xu, xq, this.qnoiseFactor, this.useSte);
    });
  }

  /** QKeras's jit "fast inference" form: no STE, no sigmoid, no leaky part, no stochastic rounding. */
  private fastCall(x: tf.Tensor): tf.Tensor {
    const factor = 2 ** -this.bits;
    const p = tf.mul(x, 2 ** (this.bits - this.integer));
    return tf.mul(2 ** this.integer, tf.clipByValue(tf.mul(tf.round(p), factor), 0, 1 - factor));
  }

  toString(): string {
    const flags = [pyNumber(this.bits, this.floats.has('bits')), pyNumber(this.integer, this.floats.has('integer'))];
    const stochastic = pyTruthy(this.useStochasticRounding);
    if (pyTruthy(this.useSigmoid) || stochastic) flags.push(String(pyInt(this.useSigmoid)));
    if (this.negativeSlope) flags.push(pyNumber(this.negativeSlope, this.floats.has('negative_slope')));
    if (stochastic) flags.push(String(pyInt(this.useStochasticRounding)));
    return `quantized_relu(${flags.join(',')})`;
  }

  /** QKeras's keys: is_quantized_clip, use_ste and enable_fast_inference are not among them. */
  getConfig(): Record<string, unknown> {
    return {
      bits: configNumber(this.bits, this.floats.has('bits')),
      integer: configNumber(this.integer, this.floats.has('integer')),
      use_sigmoid: this.useSigmoid,
      negative_slope: configNumber(this.negativeSlope, this.floats.has('negative_slope')),
      use_stochastic_rounding: this.useStochasticRounding,
      relu_upper_bound: this.reluUpperBound,
      qnoise_factor: this.qnoiseFactor,
    };
  }

  /** QKeras: `max(1, 2^integer)` (the clip bound for constraints, not the largest grid value). */
  max(): number {
    const unsignedBits = this.bits - (this.negativeSlope !== 0 ? 1 : 0);
    return unsignedBits > 0 ? Math.max(1, Math.fround(2 ** this.integer)) : 1;
  }

  min(): number {
    if (this.negativeSlope === 0) return 0;
    return this.bits - 1 > 0 ? Math.min(-0, -this.negativeSlope * Math.fround(2 ** this.integer)) : -1;
  }

  /** All `2^bits` grid values in code order; QKeras defines it only without sigmoid and negative slope. */
  override range(): number[] {
    if (pyTruthy(this.useSigmoid)) {
      throw new ConfigError(this.toString(), 'use_sigmoid', this.useSigmoid, '0 for range()');
    }
    if (this.negativeSlope !== 0) {
      throw new ConfigError(this.toString(), 'negative_slope', this.negativeSlope, '0 for range()');
    }
    // QKeras multiplies an int64 arange by a float32 step, which numpy carries out in float64.
    const step = Math.fround(2 ** (this.integer - this.bits));
    return Array.from({ length: 2 ** this.bits }, (_, i) => i * step);
  }
}

registerQuantizer(QuantizedRelu);
