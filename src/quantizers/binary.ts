/**
 * QKeras `binary` and `stochastic_binary`: one-bit quantizers giving ±alpha (or {0, alpha} with use_01).
 *
 * `binary` takes the sign with 0 -> +1. With alpha None the straight-through base is `tanh(x)`, so the
 * gradient is `1 - tanh(x)^2`; otherwise it is 1. A string alpha computes a least-squares scale per
 * channel (per `scale_axis` / `elements_per_scale` group) from the data. Stochastic rounding (training
 * only) first rounds `x / f` stochastically on a 1/8 grid (`f = 2 * min(max|x|, 1)` per channel) and
 * breaks exact zeros at random.
 *
 * `stochastic_binary` draws +1 with probability `sigmoid(temperature * x / std)` while training, with the
 * scale still taken from the deterministic sign; in inference it is `binary`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  PyFloat,
  Quantizer,
  asNumber,
  pyNumber,
  resolveArgs,
  type ArgValue,
  type CallOptions,
  type ParamSpec,
  type QuantizerArgs,
  type QuantizerClass,
} from './base.js';
import { FUSED_BINARY_TANH, FUSED_STOCHASTIC_BINARY, hasFusedKernel, runFusedMulti, runFusedWithScale } from './fused.js';
import { isTraining } from './phase.js';
import { registerQuantizer } from './registry.js';
import {
  EPSILON,
  allButLastAxis,
  alphaMultiplier,
  axisArgStr,
  flatNumbers,
  getLeastSquaresScale,
  isAutoAlpha,
  pyInt,
  pyTruthy,
  readAlpha,
  readAxisArg,
  readFlag,
  readOptionalInt,
  stdOver,
  type Alpha,
  type NumericArg,
} from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { roundThrough, through, uniformLike } from './ste.js';

/** Resolves a class's arguments; parameters a subclass does not declare take `fallback`'s defaults. */
export function resolveWithFallback(
  cls: QuantizerClass,
  fallback: readonly ParamSpec[],
  args: QuantizerArgs,
  positional: readonly ArgValue[],
): { arg: (name: string) => ArgValue; floats: ReadonlySet<string> } {
  const { values, floats } = resolveArgs(cls.qkerasName, cls.params, positional, args);
  const arg = (name: string): ArgValue => {
    if (name in values) return values[name]!;
    const spec = fallback.find((p) => p.name === name);
    if (!spec) throw new Error(`${cls.qkerasName}: no parameter ${name}`);
    return spec.default instanceof PyFloat ? spec.default.value : spec.default;
  };
  return { arg, floats };
}

/** `sign(x)` with zeros sent to +1, as QKeras writes it: `s + (1 - |s|)`. */
export function signNoZero(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const s = tf.sign(x);
    return tf.add(s, tf.sub(1, tf.abs(s)));
  });
}

/** Python `max(1.0, alpha)` for the min/max bounds; a list alpha uses its largest entry. */
export function alphaBound(alpha: Alpha): number {
  if (alpha === null || isAutoAlpha(alpha)) return 1.0;
  return Math.max(1.0, ...flatNumbers(alpha));
}

export class Binary extends Quantizer {
  static readonly qkerasName: string = 'binary';
  static readonly params: readonly ParamSpec[] = [
    { name: 'use_01', default: false },
    { name: 'alpha', default: null },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'scale_axis', default: null },
    { name: 'elements_per_scale', default: null },
    { name: 'min_po2_exponent', default: null },
    { name: 'max_po2_exponent', default: null },
  ];

  bits = 1;
  use01: boolean | number;
  alpha: Alpha;
  useStochasticRounding: boolean | number;
  scaleAxis: number | number[] | null;
  elementsPerScale: number | number[] | null;
  minPo2Exponent: number | null;
  maxPo2Exponent: number | null;
  protected alphaArg: NumericArg | null;
  protected readonly floats: Set<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const cls = new.target as unknown as QuantizerClass;
    const { arg, floats } = resolveWithFallback(cls, Binary.params, args, positional);
    const where = cls.qkerasName;
    this.floats = new Set([...floats].filter((n) => n !== 'alpha'));
    this.use01 = readFlag(where, 'use_01', arg('use_01'));
    const { alpha, arg: alphaArg } = readAlpha(where, arg('alpha'), floats.has('alpha'));
    this.alpha = alpha;
    this.alphaArg = alphaArg;
    this.useStochasticRounding = readFlag(where, 'use_stochastic_rounding', arg('use_stochastic_rounding'));
    this.scaleAxis = readAxisArg(where, 'scale_axis', arg('scale_axis'));
    this.elementsPerScale = readAxisArg(where, 'elements_per_scale', arg('elements_per_scale'), 1);
    this.minPo2Exponent = readOptionalInt(where, 'min_po2_exponent', arg('min_po2_exponent'));
    this.maxPo2Exponent = readOptionalInt(where, 'max_po2_exponent', arg('max_po2_exponent'));
  }

  get className(): string {
    return (this.constructor as unknown as QuantizerClass).qkerasName;
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => this.binaryCall(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), isTraining(options.training)));
  }

  /** QKeras `binary.__call__` (the inference path of stochastic_binary too). */
  protected binaryCall(x: tf.Tensor, training: boolean): tf.Tensor {
    let xs = x;
    const stochastic = pyTruthy(this.useStochasticRounding);
    if (!stochastic && !pyTruthy(this.use01) && this.alpha === null && hasFusedKernel(FUSED_BINARY_TANH)) {
      // ±1 with the tanh straight-through base as one kernel (same bits, see ./fused.ts); its second
      // output (tanh x, kept for the gradient) is released with this call's tidy scope.
      const [value] = runFusedMulti(FUSED_BINARY_TANH, { x }, {});
      this.setScale(1.0);
      return value!;
    }
    if (stochastic && training) {
      // Rescale so the 1/8 rounding grid is fine even for tiny weights (f = 2 * min(max|x|, 1) per channel).
      const m = tf.max(tf.abs(x), allButLastAxis(x.rank), true);
      const f = tf.mul(2, tf.where(tf.greater(m, 1.0), tf.onesLike(m), m));
      xs = tf.mul(f, roundThrough(tf.div(x, f), true, 0.125, true));
    }
    let k = tf.sign(xs);
    if (stochastic) {
      // Zeros go to ±1 at random while training. QKeras's inference branch multiplies by
      // ones_like(tf.shape(x)) (a vector as long as the rank), which only broadcasts for some shapes;
      // its intent, a plain +1, is used here.
      const tie = training ? tf.sub(tf.mul(2, tf.round(uniformLike(x))), 1) : tf.onesLike(k);
      k = tf.add(k, tf.mul(tf.sub(1, tf.abs(k)), tie));
    }
    k = tf.add(k, tf.sub(1, tf.abs(k)));
    if (pyTruthy(this.use01)) k = tf.div(tf.add(k, 1), 2);
    if (this.alpha === null) xs = tf.tanh(xs);
    const scale = this.leastSquares(xs, k);
    this.setScale(scale);
    return through(xs, tf.mul(scale, k));
  }

  private leastSquares(x: tf.Tensor, k: tf.Tensor): tf.Tensor | number {
    if (this.alpha === null) return 1.0;
    if (!isAutoAlpha(this.alpha)) return alphaMultiplier(this.alpha, x, this.toString());
    return getLeastSquaresScale(this.alpha, x, k, {
      scaleAxis: this.scaleAxis,
      elementsPerScale: this.elementsPerScale,
      minPo2Exponent: this.minPo2Exponent,
      maxPo2Exponent: this.maxPo2Exponent,
      where: this.toString(),
    });
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
    return pyTruthy(this.use01) ? 0.0 : -alphaBound(this.alpha);
  }

  protected alphaStr(): string {
    return typeof this.alpha === 'string' ? `'${this.alpha}'` : this.alphaArg!.pyStr;
  }

  protected numStr(name: string, v: number): string {
    return pyNumber(v, this.floats.has(name));
  }

  protected numConfig(name: string, v: number): number | PyFloat {
    return this.floats.has(name) && Number.isInteger(v) ? new PyFloat(v) : v;
  }

  toString(): string {
    const flags: string[] = [];
    if (pyTruthy(this.use01)) flags.push(`use_01=${pyInt(this.use01)}`);
    if (this.alpha !== null) flags.push(`alpha=${this.alphaStr()}`);
    if (this.elementsPerScale !== null) flags.push(`elements_per_scale=${axisArgStr(this.elementsPerScale)}`);
    if (this.scaleAxis !== null) flags.push(`scale_axis=${axisArgStr(this.scaleAxis)}`);
    if (this.minPo2Exponent !== null) flags.push(`min_po2_exponent=${this.numStr('min_po2_exponent', this.minPo2Exponent)}`);
    if (this.maxPo2Exponent !== null) flags.push(`max_po2_exponent=${this.numStr('max_po2_exponent', this.maxPo2Exponent)}`);
    if (pyTruthy(this.useStochasticRounding)) {
      // str(value), not str(int(value)): True prints as True.
      const v = this.useStochasticRounding;
      flags.push(`use_stochastic_rounding=${typeof v === 'boolean' ? 'True' : pyNumber(v, false)}`);
    }
    return `${this.className}(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      use_01: this.use01,
      alpha: this.alphaArg?.raw ?? this.alpha,
      use_stochastic_rounding: this.useStochasticRounding,
    };
  }
}

export class StochasticBinary extends Binary {
  static override readonly qkerasName: string = 'stochastic_binary';
  static override readonly params: readonly ParamSpec[] = [
    { name: 'alpha', default: null },
    { name: 'temperature', default: new PyFloat(6) },
    { name: 'use_real_sigmoid', default: true },
  ];

  temperature: number;
  useRealSigmoid: boolean | number;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super(args, positional);
    const cls = new.target as unknown as QuantizerClass;
    const { arg } = resolveWithFallback(cls, StochasticBinary.params, args, positional);
    this.temperature = asNumber(cls.qkerasName, 'temperature', arg('temperature'));
    this.useRealSigmoid = readFlag(cls.qkerasName, 'use_real_sigmoid', arg('use_real_sigmoid'));
  }

  override call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      if (!isTraining(options.training)) return this.binaryCall(xf, false);
      const u = uniformLike(xf);
      if (isAutoAlpha(this.alpha) && xf.rank > 1 && pyTruthy(this.useRealSigmoid) && hasFusedKernel(FUSED_STOCHASTIC_BINARY)) {
        const attrs = { po2: this.alpha === 'auto_po2', temperature: this.temperature };
        const fused = runFusedWithScale(FUSED_STOCHASTIC_BINARY, { x: xf, u }, attrs);
        if (fused) {
          this.setScale(fused.scale);
          return fused.value;
        }
      }
      // With an auto alpha the logits are normalised per channel by the standard deviation.
      const std = isAutoAlpha(this.alpha) ? tf.add(stdOver(xf, allButLastAxis(xf.rank)), EPSILON) : 1.0;
      const logits = tf.div(tf.mul(this.temperature, xf), std);
      const p = pyTruthy(this.useRealSigmoid) ? tf.sigmoid(logits) : internalSigmoid(logits);
      const q = signNoZero(tf.sub(p, u));
      const scale =
        this.alpha === null
          ? 1.0
          : isAutoAlpha(this.alpha)
            ? getLeastSquaresScale(this.alpha, xf, signNoZero(xf), { where: this.toString() })
            : alphaMultiplier(this.alpha, xf, this.toString());
      this.setScale(scale);
      return through(xf, tf.mul(scale, q));
    });
  }

  override min(): number {
    return -alphaBound(this.alpha);
  }

  override toString(): string {
    const flags: string[] = [];
    if (this.alpha !== null) flags.push(`alpha=${this.alphaStr()}`);
    if (this.temperature !== 6.0) flags.push(`temperature=${this.numStr('temperature', this.temperature)}`);
    if (!pyTruthy(this.useRealSigmoid)) flags.push(`use_real_sigmoid=${pyInt(this.useRealSigmoid)}`);
    return `${this.className}(${flags.join(',')})`;
  }

  override getConfig(): Record<string, unknown> {
    return {
      alpha: this.alphaArg?.raw ?? this.alpha,
      temperature: this.numConfig('temperature', this.temperature),
      use_real_sigmoid: this.useRealSigmoid,
    };
  }
}

registerQuantizer(Binary);
registerQuantizer(StochasticBinary);
