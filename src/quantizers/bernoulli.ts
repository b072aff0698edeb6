/**
 * QKeras `bernoulli`: a {0, 1} quantizer that, while training, draws 1 with probability
 * `sigmoid(temperature * x / std)`, with a straight-through gradient. The scale (alpha) is fitted by least
 * squares to the deterministic step `x >= 0`.
 *
 * Deliberate difference: QKeras samples on every call, in inference too. Here, as for every stochastic path
 * of this package, sampling happens only in training; inference uses the deterministic step, which is the
 * most likely draw (p >= 0.5 exactly when x >= 0) and what hardware implements.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ArgValue,
  asBool,
  asNumber,
  type CallOptions,
  type ParamSpec,
  PyFloat,
  pyNumber,
  Quantizer,
  type QuantizerArgs,
  resolveArgs,
} from './base.js';
import { isTraining } from './phase.js';
import { registerQuantizer } from './registry.js';
import {
  type Alpha,
  alphaMultiplier,
  EPSILON,
  flatNumbers,
  getLeastSquaresScale,
  meanOver,
  type NumericArg,
  readAlpha,
} from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { sign, through, uniformLike } from './ste.js';

/** `sign(x)` with 0 counted as +1, mapped to {0, 1}. */
function stepZeroOne(x: tf.Tensor): tf.Tensor {
  const s = sign(x);
  return tf.div(tf.add(tf.add(s, tf.sub(1, tf.abs(s))), 1), 2);
}

/** Keras `K.std` (population std) over every axis but the last, kept as size-1 dims; rank 1 reduces axis 0. */
function channelStd(x: tf.Tensor): tf.Tensor {
  const axes = x.rank > 1 ? x.shape.slice(0, -1).map((_, i) => i) : x.rank === 1 ? [0] : [];
  const mean = meanOver(x, axes);
  return tf.sqrt(meanOver(tf.square(tf.sub(x, mean)), axes));
}

export class Bernoulli extends Quantizer {
  static readonly qkerasName = 'bernoulli';
  static readonly params: readonly ParamSpec[] = [
    { name: 'alpha', default: null },
    { name: 'temperature', default: new PyFloat(6) },
    { name: 'use_real_sigmoid', default: true },
  ];

  readonly className = Bernoulli.qkerasName;
  bits = 1;
  alpha: Alpha;
  readonly temperature: number;
  readonly useRealSigmoid: boolean;
  /** The numeric alpha as given (for `str()` and the config), null for None or a string alpha. */
  private alphaArg: NumericArg | null;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const name = Bernoulli.qkerasName;
    const { values, floats } = resolveArgs(name, Bernoulli.params, positional, args);
    this.floats = floats;
    const { alpha, arg } = readAlpha(name, values.alpha!, floats.has('alpha'));
    this.alpha = alpha;
    this.alphaArg = arg;
    this.temperature = asNumber(name, 'temperature', values.temperature!);
    this.useRealSigmoid = asBool(name, 'use_real_sigmoid', values.use_real_sigmoid!);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const deterministic = stepZeroOne(xf);
      let q = deterministic;
      if (isTraining(options.training)) {
        // The std normalisation applies only to auto-scaled (string alpha) quantizers, as in QKeras.
        const auto = this.alpha === 'auto' || this.alpha === 'auto_po2';
        const logits = tf.mul(this.temperature, xf);
        const z = auto ? tf.div(logits, tf.add(channelStd(xf), EPSILON)) : logits;
        const p = this.useRealSigmoid ? tf.sigmoid(z) : internalSigmoid(z);
        q = stepZeroOne(tf.sub(p, uniformLike(xf)));
      }
      const scale = this.scaleFor(xf, deterministic);
      this.setScale(scale);
      return through(xf, tf.mul(scale, q));
    });
  }

  private scaleFor(x: tf.Tensor, q: tf.Tensor): tf.Tensor | number {
    const alpha = this.alpha;
    if (alpha === null || typeof alpha === 'number') return alpha ?? 1;
    if (alpha === 'auto' || alpha === 'auto_po2') return getLeastSquaresScale(alpha, x, q, { where: this.toString() });
    return alphaMultiplier(alpha, x, this.toString());
  }

  /** QKeras: a kernel quantizer without alpha gets `alpha="auto_po2"`. */
  override setTrainableParameter(): void {
    if (this.alpha === null) {
      this.alpha = 'auto_po2';
      this.alphaArg = null;
    }
  }

  toString(): string {
    const flags: string[] = [];
    if (this.alpha !== null) {
      flags.push(`alpha=${typeof this.alpha === 'string' ? `'${this.alpha}'` : this.alphaArg!.pyStr}`);
    }
    if (this.temperature !== 6) flags.push(`temperature=${pyNumber(this.temperature, this.floats.has('temperature'))}`);
    if (!this.useRealSigmoid) flags.push('use_real_sigmoid=0'); // str(int(x)) of a falsy flag
    return `bernoulli(${flags.join(',')})`;
  }

  /** QKeras's config has alpha only (temperature and use_real_sigmoid are not saved). */
  getConfig(): Record<string, unknown> {
    return { alpha: this.alphaArg?.raw ?? this.alpha };
  }

  max(): number {
    if (this.alpha === null || typeof this.alpha === 'string') return 1;
    return Math.max(1, ...flatNumbers(this.alpha));
  }

  min(): number {
    return 0;
  }
}

registerQuantizer(Bernoulli);
