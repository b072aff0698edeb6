/**
 * QKeras's power-of-two quantizers, `quantized_po2` (signed) and `quantized_relu_po2`, and the exponent
 * helper they share.
 *
 * A value becomes `±2^e` with the exponent rounded in the log domain (half-to-even on `log2|x|`, so the
 * boundary between 2^k and 2^(k+1) is their geometric mean) or floored, and clipped to `[minExp, maxExp]`.
 * Zero (anything below K.epsilon) never becomes 0: it maps to `2^minExp` (with sign +1 in quantized_po2).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import {
  type ArgValue,
  asBool,
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
import { FUSED_PO2, hasFusedKernel, runFusedMulti } from './fused.js';
import { isTraining } from './phase.js';
import { checkNegativeSlope, reluWithSlope } from './quantized-relu.js';
import { registerQuantizer } from './registry.js';
import { pyInt, pyTruthy, readFlag } from './scale.js';
import { floorThrough, qnoiseThrough, roundThrough, sign, uniformLike } from './ste.js';

/** Keras `K.epsilon()`. */
const EPSILON = 1e-7;
/** float32 ln 2, as QKeras's `np.log(2.0)` becomes when it divides a float32 tensor. */
const LN2_F32 = Math.fround(Math.LN2);
/** Smallest normal float32. TF's CPU kernels flush anything smaller to zero; wasm does not. */
const MIN_NORMAL_F32 = 2 ** -126;

export type Log2Rounding = 'rnd' | 'floor';

export interface PowerOfTwoClipOptions {
  readonly minExp: number;
  readonly maxExp: number;
  readonly maxValue: number | null;
  readonly quadraticApproximation: boolean;
  readonly useStochasticRounding: boolean;
  readonly log2Rounding: Log2Rounding;
  /** Overrides the global learning phase for the stochastic path. */
  readonly training?: boolean;
}

/**
 * QKeras `stochastic_round_po2`: picks the exponent of one of the two powers of two around `|x|`, the upper
 * one with probability `(|x| - 2^lo) / (2^hi - 2^lo)`, so that the expected power equals `|x|`.
 * Returns the exponent (no gradient).
 */
export function stochasticRoundPo2(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.abs(x);
    const log2 = tf.round(tf.div(tf.log(tf.add(y, EPSILON)), LN2_F32));
    const above = tf.greater(tf.pow(2, log2), y);
    const lo = tf.where(above, tf.sub(log2, 1), log2);
    const hi = tf.where(above, log2, tf.add(log2, 1));
    const minval = tf.pow(2, lo);
    const maxval = tf.pow(2, hi);
    // tf.random.uniform with tensor bounds: u * (max - min) + min.
    const val = tf.add(tf.mul(uniformLike(y), tf.sub(maxval, minval)), minval);
    return tf.where(tf.less(y, val), lo, hi);
  });
}

/**
 * QKeras `_clip_power_of_two`: the clipped base-2 exponent of each element of `xAbs` (>= 0). Values below
 * K.epsilon get `minExp`; values at or above `maxValue` are taken as `maxValue`. With the quadratic
 * approximation the exponent of `sqrt(x)` is rounded, clipped and then doubled (so only even exponents occur,
 * up to `2 * maxExp`). Stochastic rounding applies only while training and not with `floor` rounding.
 */
export function clipPowerOfTwo(xAbs: tf.Tensor, options: PowerOfTwoClipOptions): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.less(xAbs, EPSILON);
    let filtered = tf.where(small, tf.fill(xAbs.shape, EPSILON), xAbs);
    if (options.maxValue !== null) {
      const mv = options.maxValue;
      filtered = tf.where(tf.greaterEqual(filtered, mv), tf.fill(xAbs.shape, mv), filtered);
    }
    const qFactor = options.quadraticApproximation ? 2 : 1;
    const input = options.quadraticApproximation ? tf.sqrt(filtered) : filtered;
    let log2: tf.Tensor;
    if (options.log2Rounding === 'floor') {
      log2 = floorThrough(tf.div(tf.log(input), LN2_F32));
    } else if (options.useStochasticRounding && isTraining(options.training)) {
      log2 = stochasticRoundPo2(input);
    } else {
      log2 = roundThrough(tf.div(tf.log(input), LN2_F32));
    }
    const clipped = tf.mul(qFactor, tf.clipByValue(log2, options.minExp, options.maxExp));
    return tf.where(small, tf.fill(xAbs.shape, options.minExp), clipped);
  });
}

/** `2^e` in float32 with TF's flush-to-zero of subnormal results (2^-127 and below become 0). */
function pow2FlushDenormals(exponent: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const p = tf.pow(2, exponent);
    return tf.where(tf.less(p, MIN_NORMAL_F32), tf.zerosLike(p), p);
  });
}

/** QKeras `_need_exponent_sign_bit_check`: 1 unless a max_value <= 1 makes every exponent non-positive. */
function needExponentSignBit(where: string, maxValue: number | null): number {
  if (maxValue === null) return 1;
  if (maxValue < 0) throw new ConfigError(where, 'max_value', maxValue, 'None or a number >= 0');
  return maxValue > 1 ? 1 : 0;
}

function evenExponent(maxExp: number, quadratic: boolean): number {
  return quadratic ? 2 * Math.floor(maxExp / 2) : maxExp;
}

/** The arguments both po2 quantizers share, validated. */
interface Po2Common {
  readonly raw: Record<string, ArgValue>;
  readonly floats: ReadonlySet<string>;
  readonly bits: number;
  readonly maxValue: number | null;
  readonly useStochasticRounding: boolean | number;
  readonly quadraticApproximation: boolean | number;
  readonly log2Rounding: Log2Rounding;
  readonly qnoiseFactor: number;
  readonly useSte: boolean;
}

function resolvePo2(
  name: string,
  params: readonly ParamSpec[],
  args: QuantizerArgs,
  positional: readonly ArgValue[],
): Po2Common {
  const { values, floats } = resolveArgs(name, params, positional, args);
  const maxValue =
    values.max_value === null ? null : asNumber(name, 'max_value', values.max_value!, 'None or a number >= 0');
  if (maxValue !== null && !Number.isFinite(maxValue)) {
    throw new ConfigError(name, 'max_value', values.max_value, 'None or a finite number >= 0');
  }
  const log2Rounding = values.log2_rounding;
  if (log2Rounding !== 'rnd' && log2Rounding !== 'floor') {
    throw new ConfigError(name, 'log2_rounding', log2Rounding, "'rnd' or 'floor'");
  }
  return {
    raw: values,
    floats,
    bits: asInt(name, 'bits', values.bits!, 1),
    maxValue,
    useStochasticRounding: readFlag(name, 'use_stochastic_rounding', values.use_stochastic_rounding!),
    quadraticApproximation: readFlag(name, 'quadratic_approximation', values.quadratic_approximation!),
    log2Rounding,
    qnoiseFactor: asNumber(name, 'qnoise_factor', values.qnoise_factor!),
    useSte: asBool(name, 'use_ste', values.use_ste!),
  };
}

/**
 * QKeras's `str(int(max_value))` field. QKeras raises TypeError when stochastic rounding is on and max_value
 * is None; `None` is printed instead, which parses back to the same quantizer.
 */
function maxValueFlag(maxValue: number | null): string {
  return maxValue === null ? 'None' : BigInt(pyInt(maxValue)).toString();
}

abstract class Po2Base extends Quantizer {
  bits: number;
  readonly maxValue: number | null;
  /** Flags kept as given (bool or number) for `str()` and `getConfig()`. */
  readonly useStochasticRounding: boolean | number;
  readonly quadraticApproximation: boolean | number;
  readonly log2Rounding: Log2Rounding;
  readonly useSte: boolean;
  /** Exponent range of the quantized magnitude (before the quadratic doubling). */
  readonly minExp: number;
  readonly maxExp: number;
  protected readonly floats: ReadonlySet<string>;

  protected constructor(common: Po2Common, minExp: number, maxExp: number) {
    super();
    this.floats = common.floats;
    this.bits = common.bits;
    this.maxValue = common.maxValue;
    this.useStochasticRounding = common.useStochasticRounding;
    this.quadraticApproximation = common.quadraticApproximation;
    this.log2Rounding = common.log2Rounding;
    this.qnoiseFactor = common.qnoiseFactor;
    this.useSte = common.useSte;
    this.minExp = minExp;
    this.maxExp = maxExp;
  }

  protected exponentOf(xAbs: tf.Tensor, training: boolean | undefined): tf.Tensor {
    return clipPowerOfTwo(xAbs, {
      minExp: this.minExp,
      maxExp: this.maxExp,
      maxValue: this.maxValue,
      quadraticApproximation: pyTruthy(this.quadraticApproximation),
      useStochasticRounding: pyTruthy(this.useStochasticRounding),
      log2Rounding: this.log2Rounding,
      ...(training === undefined ? {} : { training }),
    });
  }

  /** QKeras: `max(1, max_value)` when max_value is truthy, else `max(1, 2^maxExp)`. */
  max(): number {
    return this.maxValue ? Math.max(1, this.maxValue) : Math.max(1, 2 ** this.maxExp);
  }

  /** The fields of QKeras's `str()` before and after the relu_po2-only negative_slope. */
  protected headFlags(): string[] {
    const flags = [pyNumber(this.bits, this.floats.has('bits'))];
    if (this.maxValue !== null || pyTruthy(this.useStochasticRounding)) flags.push(maxValueFlag(this.maxValue));
    return flags;
  }

  protected tailFlags(): string[] {
    const flags: string[] = [];
    if (pyTruthy(this.useStochasticRounding)) flags.push(String(pyInt(this.useStochasticRounding)));
    if (pyTruthy(this.quadraticApproximation)) {
      flags.push(`quadratic_approximation=${pyInt(this.quadraticApproximation)}`);
    }
    return flags;
  }

  protected baseConfig(): Record<string, unknown> {
    return {
      bits: configNumber(this.bits, this.floats.has('bits')),
      max_value: this.maxValue === null ? null : configNumber(this.maxValue, this.floats.has('max_value')),
    };
  }
}

export class QuantizedPo2 extends Po2Base {
  static readonly qkerasName = 'quantized_po2';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'max_value', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'quadratic_approximation', default: false },
    { name: 'log2_rounding', default: 'rnd' },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_ste', default: true },
    { name: 'use_variables', default: false },
  ];

  readonly className = QuantizedPo2.qkerasName;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    const name = QuantizedPo2.qkerasName;
    const common = resolvePo2(name, QuantizedPo2.params, args, positional);
    const need = needExponentSignBit(name, common.maxValue);
    // One bit is the sign of the value and `need` the sign of the exponent; what is left sizes the exponent.
    const effectBits = common.bits - 1 - need;
    if (effectBits < 0) {
      throw new ConfigError(name, 'bits', common.bits, `an integer >= ${1 + need} for this max_value`);
    }
    super(common, -(2 ** effectBits), evenExponent(2 ** effectBits - 1, pyTruthy(common.quadraticApproximation)));
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      if (
        this.maxValue === null &&
        !pyTruthy(this.quadraticApproximation) &&
        this.log2Rounding === 'rnd' &&
        !(pyTruthy(this.useStochasticRounding) && isTraining(options.training)) &&
        hasFusedKernel(FUSED_PO2)
      ) {
        // One kernel, same bits as the chain below (see ./fused.ts).
        const attrs = { minExp: this.minExp, maxExp: this.maxExp, qnoise: this.qnoiseFactor, useSte: this.useSte };
        // Second output: the quantized values, kept for the gradient (released with this tidy scope).
        return runFusedMulti(FUSED_PO2, { x: xf }, attrs)[0]!;
      }
      const s = sign(xf);
      const signNonZero = tf.add(s, tf.sub(1, tf.abs(s))); // 0 counts as +1
      const exponent = this.exponentOf(tf.abs(xf), options.training);
      const xq = tf.mul(signNonZero, pow2FlushDenormals(exponent));
      return qnoiseThrough(xf, xq, this.qnoiseFactor, this.useSte);
    });
  }

  min(): number {
    return -this.max();
  }

  toString(): string {
    return `quantized_po2(${[...this.headFlags(), ...this.tailFlags()].join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      use_stochastic_rounding: this.useStochasticRounding,
      quadratic_approximation: this.quadraticApproximation,
      qnoise_factor: this.qnoiseFactor,
      log2_rounding: this.log2Rounding,
    };
  }
}

export class QuantizedReluPo2 extends Po2Base {
  static readonly qkerasName = 'quantized_relu_po2';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'max_value', default: null },
    { name: 'negative_slope', default: 0 },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'quadratic_approximation', default: false },
    { name: 'log2_rounding', default: 'rnd' },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_ste', default: true },
    { name: 'use_variables', default: false },
  ];

  readonly className = QuantizedReluPo2.qkerasName;
  readonly negativeSlope: number;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    const name = QuantizedReluPo2.qkerasName;
    const common = resolvePo2(name, QuantizedReluPo2.params, args, positional);
    // No bit for the value's sign here: all `bits` size the exponent (and its sign when needed).
    const effectBits = common.bits - needExponentSignBit(name, common.maxValue);
    super(common, -(2 ** effectBits), evenExponent(2 ** effectBits - 1, pyTruthy(common.quadraticApproximation)));
    this.negativeSlope = checkNegativeSlope(name, common.raw.negative_slope!);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const slope = this.negativeSlope;
      // The straight-through base: the (leaky) ReLU, held at max_value above it.
      let base = reluWithSlope(xf, slope);
      if (this.maxValue !== null) {
        base = tf.where(tf.lessEqual(xf, this.maxValue), base, tf.fill(xf.shape, this.maxValue));
      }
      const positive = pow2FlushDenormals(this.exponentOf(tf.relu(xf), options.training));
      let xq = positive;
      if (slope !== 0) {
        const negExp = this.exponentOf(tf.mul(tf.relu(tf.neg(xf)), slope), options.training);
        xq = tf.where(tf.greaterEqual(xf, 0), positive, tf.neg(pow2FlushDenormals(negExp)));
      }
      return qnoiseThrough(base, xq, this.qnoiseFactor, this.useSte);
    });
  }

  /** QKeras: `2^minExp` (positive: negatives map there) without slope; else the leaky bound if lower. */
  min(): number {
    const smallest = 2 ** this.minExp;
    if (this.negativeSlope === 0) return smallest;
    return this.bits - 1 > 0 ? Math.min(smallest, -this.negativeSlope * 2 ** (this.bits - 1)) : smallest;
  }

  toString(): string {
    const flags = this.headFlags();
    if (this.negativeSlope) flags.push(pyNumber(this.negativeSlope, this.floats.has('negative_slope')));
    return `quantized_relu_po2(${[...flags, ...this.tailFlags()].join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      negative_slope: configNumber(this.negativeSlope, this.floats.has('negative_slope')),
      use_stochastic_rounding: this.useStochasticRounding,
      quadratic_approximation: this.quadraticApproximation,
      qnoise_factor: this.qnoiseFactor,
      log2_rounding: this.log2Rounding,
    };
  }
}

registerQuantizer(QuantizedPo2);
registerQuantizer(QuantizedReluPo2);
