/**
 * QKeras `quantized_bits`: the legacy fixed-point quantizer, and the one most models use.
 *
 * Fixed path (alpha None, a number or a list): `xq = m_i * clip(round(x * m / m_i), lo, m - 1) / m` with
 * `m = 2**(bits - keep_negative)`, `m_i = 2**integer`, `lo = -m + symmetric` when signed (0 otherwise);
 * one signed bit degenerates to a sign function with 0 -> +1. The result is multiplied by alpha.
 *
 * Auto path (`alpha="auto"` / `"auto_po2"`, symmetric forced): a per-channel scale from the data (for
 * auto_po2 a power of two refined by five least-squares rounds), integer codes by `floor(|x|/s + 0.5)`
 * (half away from zero, not tf.round), saturated at `levels / 2`; `q.scale` keeps `s * m`.
 *
 * Both paths end with QKeras's qnoise/straight-through blend, so with `use_ste` (the default) the
 * gradient is 1 everywhere, including outside the clip range.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
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
  type QuantizerClass,
} from './base.js';
import { FUSED_AUTO_PO2_BITS, FUSED_FIXED_BITS, hasFusedKernel, runFused, runFusedWithScale } from './fused.js';
import { isTraining } from './phase.js';
import { registerQuantizer } from './registry.js';
import {
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
  po2ClipBounds,
  readNumericArg,
  readOptionalInt,
  roundToPo2,
  type Alpha,
  type NumericArg,
  type NumberList,
} from './scale.js';
import { qnoiseThrough, roundThrough } from './ste.js';

/** Smallest positive normal float32: TF's CPU kernels flush anything smaller to zero. */
const MIN_NORMAL_F32 = 2 ** -126;

/** Parameter names whose Python float-ness shows in `str()` (`4.0`, `alpha=1.0`). */
const PRINTED_NUMBERS = ['bits', 'integer', 'alpha'] as const;

/** Float32 power of two, as `K.pow(2.0, float32(k))` computes it (overflows to Infinity, underflows to 0). */
export function pow2f(k: number): number {
  return Math.fround(2 ** k);
}

/** Replaces float32 subnormals by zero (TF's flush-to-zero), keeping the sign of nothing else. */
export function flushSubnormals(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.less(tf.abs(t), MIN_NORMAL_F32), tf.zerosLike(t), t));
}

export class QuantizedBits extends Quantizer {
  static readonly qkerasName: string = 'quantized_bits';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'symmetric', default: 0 },
    { name: 'keep_negative', default: true },
    { name: 'alpha', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'scale_axis', default: null },
    { name: 'qnoise_factor', default: new PyFloat(1) },
    { name: 'var_name', default: null },
    { name: 'use_ste', default: true },
    { name: 'use_variables', default: false },
    { name: 'elements_per_scale', default: null },
    { name: 'min_po2_exponent', default: null },
    { name: 'max_po2_exponent', default: null },
    { name: 'post_training_scale', default: null },
  ];

  bits: number;
  /** Integer bits; QAdaptiveActivation rewrites it between calls. */
  integer: number;
  symmetric: boolean | number;
  keepNegative: boolean | number;
  alpha: Alpha;
  useStochasticRounding: boolean | number;
  scaleAxis: number | number[] | null;
  varName: string | null;
  useSte: boolean;
  useVariables: boolean;
  elementsPerScale: number | number[] | null;
  minPo2Exponent: number | null;
  maxPo2Exponent: number | null;
  /** A fixed scale for the auto path (from a trained model's `q.scale`); implies `freezeScale`. */
  postTrainingScale: number | NumberList | null;
  /** False while an auto alpha computes its scale from the data. */
  freezeScale: boolean;

  /** Names of the number parameters written as Python floats (`1.0`). */
  protected readonly floats: Set<string>;
  private alphaArg: NumericArg | null;
  private postTrainingArg: NumericArg | null;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const cls = new.target as unknown as QuantizerClass;
    const { values, floats } = resolveArgs(cls.qkerasName, cls.params, positional, args);
    // A subclass (quantized_hswish) declares fewer parameters; the rest keep quantized_bits's defaults.
    const arg = (name: string): ArgValue =>
      name in values ? values[name]! : QuantizedBits.params.find((p) => p.name === name)!.default;
    const where = cls.qkerasName;

    this.floats = new Set(PRINTED_NUMBERS.filter((n) => floats.has(n)));
    this.bits = asInt(where, 'bits', arg('bits'), 1);
    this.integer = asNumber(where, 'integer', arg('integer'), 'a number of integer bits');
    if (!Number.isFinite(this.integer)) throw new ConfigError(where, 'integer', arg('integer'), 'a finite number');
    this.symmetric = readFlag(where, 'symmetric', arg('symmetric'));
    this.keepNegative = readFlag(where, 'keep_negative', arg('keep_negative'));
    const { alpha, arg: alphaArg } = readAlpha(where, arg('alpha'), floats.has('alpha'));
    this.alpha = alpha;
    this.alphaArg = alphaArg;
    this.useStochasticRounding = readFlag(where, 'use_stochastic_rounding', arg('use_stochastic_rounding'));
    this.scaleAxis = readAxisArg(where, 'scale_axis', arg('scale_axis'));
    this.qnoiseFactor = asNumber(where, 'qnoise_factor', arg('qnoise_factor'));
    const varName = arg('var_name');
    if (varName !== null && typeof varName !== 'string') {
      throw new ConfigError(where, 'var_name', varName, 'None or a string');
    }
    this.varName = varName;
    this.useSte = asBool(where, 'use_ste', arg('use_ste'));
    this.useVariables = asBool(where, 'use_variables', arg('use_variables'));
    this.elementsPerScale = readAxisArg(where, 'elements_per_scale', arg('elements_per_scale'), 1);
    this.minPo2Exponent = readOptionalInt(where, 'min_po2_exponent', arg('min_po2_exponent'));
    this.maxPo2Exponent = readOptionalInt(where, 'max_po2_exponent', arg('max_po2_exponent'));

    const pts = arg('post_training_scale');
    this.postTrainingArg = pts === null ? null : readNumericArg(where, 'post_training_scale', pts);
    this.postTrainingScale = this.postTrainingArg?.value ?? null;
    if (isAutoAlpha(this.alpha)) {
      this.symmetric = true;
      this.freezeScale = this.postTrainingScale !== null;
    } else {
      if (this.postTrainingScale !== null) {
        throw new ConfigError(where, 'post_training_scale', pts, `None, since alpha=${alphaArg?.pyStr ?? 'None'} is not 'auto' or 'auto_po2'`);
      }
      this.freezeScale = true;
    }
  }

  get className(): string {
    return (this.constructor as unknown as QuantizerClass).qkerasName;
  }

  /** Bits without the sign bit; 0 means the one-bit sign quantizer. */
  protected get unsignedBits(): number {
    return this.bits - Number(this.keepNegative);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      this.checkAutoOnlyOptions();
      if (isAutoAlpha(this.alpha)) {
        if (xf.rank > 0) return this.callAuto(xf, this.alpha);
        return tf.reshape(this.callAuto(tf.reshape(xf, [1]), this.alpha), []);
      }
      return this.callFixed(xf, this.alpha, options.training);
    });
  }

  private checkAutoOnlyOptions(): void {
    if (this.alpha === 'auto_po2') return;
    const given: [string, unknown][] = [
      ['elements_per_scale', this.elementsPerScale],
      ['min_po2_exponent', this.minPo2Exponent],
      ['max_po2_exponent', this.maxPo2Exponent],
    ];
    for (const [field, value] of given) {
      if (value !== null) throw new ConfigError(this.toString(), field, value, "None unless alpha='auto_po2'");
    }
  }

  private callFixed(x: tf.Tensor, alpha: number | NumberList | null, training: boolean | undefined): tf.Tensor {
    const m = pow2f(this.unsignedBits);
    const mi = pow2f(this.integer);
    if (
      alpha === null &&
      this.unsignedBits > 0 &&
      !(pyTruthy(this.useStochasticRounding) && isTraining(training)) &&
      mi / m >= MIN_NORMAL_F32 &&
      // The kernel's gradient assumes the chain's zero paths (multiplications by m and mi) stay finite.
      Number.isFinite(m) &&
      Number.isFinite(mi) &&
      mi > 0 &&
      hasFusedKernel(FUSED_FIXED_BITS)
    ) {
      // One kernel, same bits as the chain below (see ./fused.ts).
      const lo = Math.fround(Number(this.keepNegative) * Math.fround(-m + Number(this.symmetric)));
      this.setScale(1.0);
      const attrs = { m, mi, lo, hi: Math.fround(m - 1), qnoise: this.qnoiseFactor, useSte: this.useSte };
      return runFused(FUSED_FIXED_BITS, { x }, attrs);
    }
    let xq: tf.Tensor;
    if (this.unsignedBits > 0) {
      const p = tf.div(tf.mul(x, m), mi);
      const rounded = roundThrough(p, pyTruthy(this.useStochasticRounding), 1.0, training);
      // `keep_negative * (-m + symmetric)`: 0 times a negative is -0 in float32 as in TF; harmless.
      const lo = Math.fround(Number(this.keepNegative) * Math.fround(-m + Number(this.symmetric)));
      xq = tf.div(tf.mul(mi, tf.clipByValue(rounded, lo, Math.fround(m - 1))), m);
    } else {
      const s = tf.sign(x);
      xq = tf.add(s, tf.sub(1, tf.abs(s)));
      if (!pyTruthy(this.keepNegative)) xq = tf.div(tf.add(xq, 1), 2);
    }
    const scale = alpha === null ? 1.0 : alphaMultiplier(alpha, x, this.toString());
    this.setScale(scale);
    xq = tf.mul(scale, xq);
    // Only a tiny step or alpha can produce float32 subnormals, which TF would have flushed to zero.
    const smallestStep = (this.unsignedBits > 0 ? mi / m : 1) * Math.min(...flatNumbers(alpha ?? 1).map(Math.abs));
    if (smallestStep < MIN_NORMAL_F32) xq = flushSubnormals(xq);
    return qnoiseThrough(x, xq, this.qnoiseFactor, this.useSte);
  }

  private callAuto(x: tf.Tensor, alpha: 'auto' | 'auto_po2'): tf.Tensor {
    const m = pow2f(this.unsignedBits);
    const mi = pow2f(this.integer);
    const axis = x.rank > 1 ? getScalingAxis(this.scaleAxis, x.rank) : [0];
    const levels = pyTruthy(this.symmetric) ? (2 ** (this.bits - 1) - 1) * 2 : 2 ** this.bits - 1;
    const half = levels / 2;
    if (
      alpha === 'auto_po2' &&
      !this.freezeScale &&
      x.rank > 1 &&
      this.scaleAxis === null &&
      this.elementsPerScale === null &&
      hasFusedKernel(FUSED_AUTO_PO2_BITS)
    ) {
      const fused = this.callAutoPo2Fused(x, m, mi, levels, half);
      if (fused) return fused;
    }
    const xs = tf.div(x, mi);
    const absX = tf.abs(xs);
    const signX = tf.sign(xs);
    // Codes by floor(|x|/s + 0.5), saturated at levels/2: QKeras's auto path does not use tf.round.
    const codes = (s: tf.Tensor): tf.Tensor => {
      const v = tf.floor(tf.add(tf.div(absX, s), 0.5));
      return tf.mul(signX, tf.where(tf.less(v, half), v, tf.mul(tf.onesLike(v), half)));
    };

    let scale: tf.Tensor;
    if (this.freezeScale) {
      const frozen = alphaMultiplier(this.postTrainingScale!, x, this.toString(), 'post_training_scale');
      if (this.scale === null) this.setScale(frozen);
      scale = tf.div(frozen, m);
    } else {
      scale = tf.div(tf.mul(tf.max(absX, axis, true), 2), levels);
      if (alpha === 'auto_po2') {
        scale = roundToPo2(scale);
        for (let i = 0; i < 5; i++) {
          scale = getLeastSquaresScale('auto_po2', xs, codes(scale), {
            scaleAxis: this.scaleAxis,
            elementsPerScale: this.elementsPerScale,
            minPo2Exponent: this.minPo2Exponent,
            maxPo2Exponent: this.maxPo2Exponent,
            where: this.toString(),
          }) as tf.Tensor;
        }
      }
    }
    const z = codes(scale);
    const fullScale = tf.mul(scale, m);
    const xBack = tf.mul(mi, xs);
    if (!this.freezeScale) this.setScale(fullScale);
    const xq = tf.mul(fullScale, tf.div(tf.mul(mi, z), m));
    return qnoiseThrough(xBack, xq, this.qnoiseFactor, this.useSte);
  }

  /**
   * The auto_po2 path as one fused kernel (same bits as the op chain below, see src/quantizers/fused.ts).
   * The kernel's gradient shortcut holds while every intermediate is finite; the kernel returns a NaN
   * scale when the weights are not all finite and below 2^60, and a scale outside (2^-120, 2^120) shows
   * degenerate clip bounds: then this returns null and the op chain runs.
   */
  private callAutoPo2Fused(x: tf.Tensor, m: number, mi: number, levels: number, half: number): tf.Tensor | null {
    const clip = this.minPo2Exponent !== null || this.maxPo2Exponent !== null;
    const [clipLo, clipHi] = po2ClipBounds(this.minPo2Exponent, this.maxPo2Exponent);
    const attrs = { m, mi, half, levels, qnoise: this.qnoiseFactor, useSte: this.useSte, clip, clipLo, clipHi };
    const inRange = (s: number): boolean => s / m > 2 ** -120 && s / m < 2 ** 120;
    const fused = runFusedWithScale(FUSED_AUTO_PO2_BITS, { x }, attrs, inRange);
    if (fused === null) return null;
    this.setScale(fused.scale);
    return fused.value;
  }

  /** QKeras `_set_trainable_parameter`: a weight layer turns alpha=None into a per-channel auto_po2 scale. */
  override setTrainableParameter(): void {
    if (this.alpha === null) {
      this.alpha = 'auto_po2';
      this.alphaArg = null;
      this.floats.delete('alpha');
      this.freezeScale = false;
      this.symmetric = true;
    }
  }

  /** QKeras `max()`: `max(1, 2**integer)` (the clip bound for constraints, not the largest code). */
  max(): number {
    return this.unsignedBits > 0 ? Math.max(1.0, pow2f(this.integer)) : 1.0;
  }

  min(): number {
    if (!pyTruthy(this.keepNegative)) return 0.0;
    return this.unsignedBits > 0 ? -Math.max(1.0, pow2f(this.integer)) : -1.0;
  }

  /** Every representable value, ordered by two's-complement code: `0 .. 2**(b-1)-1, -2**(b-1) .. -1`, times the step. */
  override range(): number[] {
    const fail = (field: string, value: unknown, allowed: string): never => {
      throw new ConfigError(this.toString(), `range() with ${field}`, value, allowed);
    };
    if (Number(this.symmetric) !== 0) fail('symmetric', this.symmetric, 'symmetric=0');
    if (!pyTruthy(this.keepNegative)) fail('keep_negative', this.keepNegative, 'keep_negative=True');
    if (!(this.alpha === null || this.alpha === 1)) fail('alpha', this.alpha, 'alpha None or 1.0');
    const half = 2 ** (this.bits - 1);
    const step = pow2f(-this.bits + this.integer + 1);
    return Array.from({ length: 2 ** this.bits }, (_, c) => Math.fround((c >= half ? c - half - half : c) * step));
  }

  toString(): string {
    const flags = [this.numStr('bits', this.bits), this.numStr('integer', this.integer), String(pyInt(this.symmetric))];
    if (!pyTruthy(this.keepNegative)) flags.push('keep_negative=False');
    if (pyTruthy(this.alpha)) flags.push(`alpha=${this.alphaStr()}`);
    if (pyTruthy(this.useStochasticRounding)) {
      flags.push(`use_stochastic_rounding=${pyInt(this.useStochasticRounding)}`);
    }
    return `${this.className}(${flags.join(',')})`;
  }

  /** Python `str()` of alpha: quoted when a string, `1.0` when written as a float. */
  protected alphaStr(): string {
    if (typeof this.alpha === 'string') return `'${this.alpha}'`;
    return this.alphaArg?.pyStr ?? 'None';
  }

  protected numStr(name: string, v: number): string {
    return readNumericArg(this.className, name, v, this.floats.has(name)).pyStr;
  }

  /** The config value of a printed number: integral Python floats stay PyFloat so `str()` survives a round trip. */
  protected numConfig(name: string, v: number): number | PyFloat {
    return this.floats.has(name) && Number.isInteger(v) ? new PyFloat(v) : v;
  }

  getConfig(): Record<string, unknown> {
    return {
      bits: this.numConfig('bits', this.bits),
      integer: this.numConfig('integer', this.integer),
      symmetric: this.symmetric,
      alpha: this.alphaArg?.raw ?? this.alpha,
      keep_negative: this.keepNegative,
      use_stochastic_rounding: this.useStochasticRounding,
      qnoise_factor: this.qnoiseFactor,
      post_training_scale: this.postTrainingArg?.raw ?? null,
    };
  }
}

registerQuantizer(QuantizedBits);
