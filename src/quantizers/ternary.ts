/**
 * QKeras `ternary` and `stochastic_ternary`: two-bit quantizers giving -alpha, 0 or +alpha.
 *
 * `ternary` with a numeric (or no) alpha is an activation quantizer: `(|x| >= threshold) * sign(x)`,
 * threshold 0.33 by default, straight-through base `tanh(x)` when alpha is None. With a string alpha
 * (weights) the threshold and scale are found together: start from `2/3 max|x|` per channel, then
 * `number_of_unrolls` rounds of "threshold at half the scale, least-squares scale of the result" (the
 * rounding inside may be stochastic while training, on a 1/3 grid).
 *
 * `stochastic_ternary` (training, string alpha only) finds the scale the same way without rounding, then
 * draws each sign twice from sigmoids shifted by ± half the normalised scale and averages the two draws.
 * In inference it is `ternary`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import {
  PyFloat,
  Quantizer,
  asInt,
  asNumber,
  pyNumber,
  type ArgValue,
  type CallOptions,
  type ParamSpec,
  type QuantizerArgs,
  type QuantizerClass,
} from './base.js';
import { alphaBound, resolveWithFallback, signNoZero } from './binary.js';
import { FUSED_STOCHASTIC_TERNARY, FUSED_TERNARY_AUTO, hasFusedKernel, runFusedWithScale } from './fused.js';
import { isTraining } from './phase.js';
import { registerQuantizer } from './registry.js';
import {
  EPSILON,
  allButLastAxis,
  alphaMultiplier,
  getLeastSquaresScale,
  isAutoAlpha,
  pyInt,
  pyTruthy,
  readAlpha,
  readFlag,
  roundToPo2,
  stdOver,
  type Alpha,
  type NumericArg,
} from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { roundThrough, through, uniformLike } from './ste.js';

/** QKeras's default dead-band threshold of ternary activations. */
export const DEFAULT_TERNARY_THRESHOLD = 0.33;

/** `cast(|v| >= threshold, float32) * sign(x)`. */
function ternaryCodes(v: tf.Tensor, threshold: tf.Tensor | number, x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.cast(tf.greaterEqual(tf.abs(v), threshold), 'float32'), tf.sign(x));
}

export class Ternary extends Quantizer {
  static readonly qkerasName: string = 'ternary';
  static readonly params: readonly ParamSpec[] = [
    { name: 'alpha', default: null },
    { name: 'threshold', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'number_of_unrolls', default: 5 },
  ];

  bits = 2;
  alpha: Alpha;
  threshold: number | null;
  useStochasticRounding: boolean | number;
  numberOfUnrolls: number;
  protected alphaArg: NumericArg | null;
  protected readonly floats: Set<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const cls = new.target as unknown as QuantizerClass;
    const { arg, floats } = resolveWithFallback(cls, Ternary.params, args, positional);
    const where = cls.qkerasName;
    this.floats = new Set([...floats].filter((n) => n !== 'alpha'));
    const { alpha, arg: alphaArg } = readAlpha(where, arg('alpha'), floats.has('alpha'));
    this.alpha = alpha;
    this.alphaArg = alphaArg;
    const threshold = arg('threshold');
    this.threshold = threshold === null ? null : asNumber(where, 'threshold', threshold, 'None or a number');
    this.useStochasticRounding = readFlag(where, 'use_stochastic_rounding', arg('use_stochastic_rounding'));
    this.numberOfUnrolls = asInt(where, 'number_of_unrolls', arg('number_of_unrolls'), 0);
  }

  get className(): string {
    return (this.constructor as unknown as QuantizerClass).qkerasName;
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => this.ternaryCall(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), isTraining(options.training)));
  }

  /** QKeras `ternary.__call__` (also stochastic_ternary's inference path). */
  protected ternaryCall(x: tf.Tensor, training: boolean): tf.Tensor {
    // QKeras asserts these at call time: a layer may switch alpha to auto_po2 after construction.
    if (isAutoAlpha(this.alpha)) {
      if (this.threshold !== null) {
        throw new ConfigError(this.toString(), 'threshold', this.threshold, `None when alpha='${this.alpha}'`);
      }
    } else if (pyTruthy(this.useStochasticRounding)) {
      throw new ConfigError(this.toString(), 'use_stochastic_rounding', this.useStochasticRounding, "False unless alpha is 'auto' or 'auto_po2'");
    }
    let q: tf.Tensor;
    let scale: tf.Tensor | number;
    if (
      isAutoAlpha(this.alpha) &&
      x.rank > 1 &&
      this.numberOfUnrolls >= 1 &&
      !(pyTruthy(this.useStochasticRounding) && training) &&
      hasFusedKernel(FUSED_TERNARY_AUTO)
    ) {
      // One kernel, same bits as autoScaleAndCodes + through below (see ./fused.ts).
      const attrs = { po2: this.alpha === 'auto_po2', unrolls: this.numberOfUnrolls };
      const fused = runFusedWithScale(FUSED_TERNARY_AUTO, { x }, attrs);
      if (fused) {
        this.setScale(fused.scale);
        return fused.value;
      }
    }
    if (isAutoAlpha(this.alpha)) {
      [scale, q] = this.autoScaleAndCodes(x, this.alpha, training);
    } else {
      scale = this.alpha === null ? 1.0 : alphaMultiplier(this.alpha, x, this.toString());
      q = ternaryCodes(x, this.threshold ?? DEFAULT_TERNARY_THRESHOLD, x);
    }
    const base = this.alpha === null ? tf.tanh(x) : x;
    this.setScale(scale);
    return through(base, tf.mul(scale, q));
  }

  private autoScaleAndCodes(x: tf.Tensor, alpha: 'auto' | 'auto_po2', training: boolean): [tf.Tensor, tf.Tensor] {
    if (this.numberOfUnrolls < 1) {
      throw new ConfigError(this.toString(), 'number_of_unrolls', this.numberOfUnrolls, `at least 1 with alpha='${alpha}'`);
    }
    let scale = initialScale(x, alpha, allButLastAxis(x.rank));
    let q: tf.Tensor | null = null;
    const stochastic = pyTruthy(this.useStochasticRounding);
    for (let i = 0; i < this.numberOfUnrolls; i++) {
      const threshold = tf.div(scale, 2.0);
      const v = tf.mul(scale, roundThrough(tf.div(x, scale), stochastic, 1 / 3, training));
      q = ternaryCodes(v, threshold, x);
      scale = getLeastSquaresScale(alpha, x, q, { where: this.toString() }) as tf.Tensor;
    }
    return [scale, q!];
  }

  /** QKeras `_set_trainable_parameter`: a weight layer turns alpha=None into auto_po2. */
  override setTrainableParameter(): void {
    if (this.alpha === null) {
      this.alpha = 'auto_po2';
      this.alphaArg = null;
    }
  }

  max(): number {
    return alphaBound(this.alpha);
  }

  min(): number {
    return -alphaBound(this.alpha);
  }

  protected alphaStr(): string {
    return typeof this.alpha === 'string' ? `'${this.alpha}'` : this.alphaArg!.pyStr;
  }

  protected numStr(name: string, v: number): string {
    return pyNumber(v, this.floats.has(name));
  }

  protected numConfig(name: string, v: number | null): number | PyFloat | null {
    return v !== null && this.floats.has(name) && Number.isInteger(v) ? new PyFloat(v) : v;
  }

  toString(): string {
    const flags: string[] = [];
    if (this.alpha !== null) flags.push(`alpha=${this.alphaStr()}`);
    if (this.threshold !== null) flags.push(`threshold=${this.numStr('threshold', this.threshold)}`);
    if (pyTruthy(this.useStochasticRounding)) flags.push(`use_stochastic_rounding=${pyInt(this.useStochasticRounding)}`);
    if (this.numberOfUnrolls !== 5) flags.push(`number_of_unrolls=${pyInt(this.numberOfUnrolls)}`);
    return `${this.className}(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      alpha: this.alphaArg?.raw ?? this.alpha,
      threshold: this.numConfig('threshold', this.threshold),
      use_stochastic_rounding: this.useStochasticRounding,
      number_of_unrolls: this.numberOfUnrolls,
    };
  }
}

/** `2/3 max|x|` over `axes` (kept), rounded to a power of two for auto_po2. */
function initialScale(x: tf.Tensor, alpha: 'auto' | 'auto_po2', axes: number[]): tf.Tensor {
  const s = tf.div(tf.mul(2, tf.max(tf.abs(x), axes, true)), 3.0);
  return alpha === 'auto_po2' ? roundToPo2(s) : s;
}

export class StochasticTernary extends Ternary {
  static override readonly qkerasName: string = 'stochastic_ternary';
  static override readonly params: readonly ParamSpec[] = [
    { name: 'alpha', default: null },
    { name: 'threshold', default: null },
    { name: 'temperature', default: new PyFloat(8) },
    { name: 'use_real_sigmoid', default: true },
    { name: 'number_of_unrolls', default: 5 },
  ];

  temperature: number;
  useRealSigmoid: boolean | number;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super(args, positional);
    const cls = new.target as unknown as QuantizerClass;
    const { arg } = resolveWithFallback(cls, StochasticTernary.params, args, positional);
    if (this.threshold === 1.0) {
      throw new ConfigError(cls.qkerasName, 'threshold', this.threshold, 'None or a number other than 1.0');
    }
    this.temperature = asNumber(cls.qkerasName, 'temperature', arg('temperature'));
    this.useRealSigmoid = readFlag(cls.qkerasName, 'use_real_sigmoid', arg('use_real_sigmoid'));
  }

  override call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      if (!isTraining(options.training)) return this.ternaryCall(xf, false);
      const alpha = this.alpha;
      if (!isAutoAlpha(alpha)) {
        throw new ConfigError(this.toString(), 'alpha', alpha, "'auto' or 'auto_po2' when training (stochastic_ternary)");
      }
      // Both noise draws first (the op chain below uses them in this order), so the fused kernel and the
      // chain see the same numbers.
      const u0 = uniformLike(xf);
      const u1 = uniformLike(xf);
      if (xf.rank > 1 && pyTruthy(this.useRealSigmoid) && hasFusedKernel(FUSED_STOCHASTIC_TERNARY)) {
        const attrs = { po2: alpha === 'auto_po2', temperature: this.temperature, unrolls: this.numberOfUnrolls };
        const fused = runFusedWithScale(FUSED_STOCHASTIC_TERNARY, { x: xf, u0, u1 }, attrs);
        if (fused) {
          this.setScale(fused.scale);
          return fused.value;
        }
      }
      const axes = allButLastAxis(xf.rank);
      const xStd = stdOver(xf, axes);
      let scale = initialScale(xf, alpha, axes);
      for (let i = 0; i < this.numberOfUnrolls; i++) {
        const q = ternaryCodes(xf, tf.div(scale, 2.0), xf);
        scale = getLeastSquaresScale(alpha, xf, q, { where: this.toString() }) as tf.Tensor;
      }
      const stdEps = tf.add(xStd, EPSILON);
      const xNorm = tf.div(xf, stdEps);
      const half = tf.div(scale, tf.mul(2.0, stdEps));
      const sigmoid = (t: tf.Tensor): tf.Tensor => (pyTruthy(this.useRealSigmoid) ? tf.sigmoid(t) : internalSigmoid(t));
      const p0 = sigmoid(tf.mul(this.temperature, tf.sub(xNorm, half)));
      const p1 = sigmoid(tf.mul(this.temperature, tf.add(xNorm, half)));
      const q0 = signNoZero(tf.sub(p0, u0));
      const q1 = signNoZero(tf.sub(p1, u1));
      const q = tf.div(tf.add(q0, q1), 2.0);
      this.setScale(scale);
      return through(xf, tf.mul(scale, q));
    });
  }

  override toString(): string {
    const flags: string[] = [];
    if (this.alpha !== null) flags.push(`alpha=${this.alphaStr()}`);
    if (this.threshold !== null) flags.push(`threshold=${this.numStr('threshold', this.threshold)}`);
    if (this.temperature !== 8.0) flags.push(`temperature=${this.numStr('temperature', this.temperature)}`);
    if (!pyTruthy(this.useRealSigmoid)) flags.push('use_real_sigmoid=0');
    if (this.numberOfUnrolls !== 5) flags.push(`number_of_unrolls=${this.numberOfUnrolls}`);
    return `${this.className}(${flags.join(',')})`;
  }

  override getConfig(): Record<string, unknown> {
    return {
      alpha: this.alphaArg?.raw ?? this.alpha,
      threshold: this.numConfig('threshold', this.threshold),
      temperature: this.numConfig('temperature', this.temperature),
      use_real_sigmoid: this.useRealSigmoid,
      number_of_unrolls: this.numberOfUnrolls,
    };
  }
}

registerQuantizer(Ternary);
registerQuantizer(StochasticTernary);
