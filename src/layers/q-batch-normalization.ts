/**
 * QBatchNormalization: Keras's BatchNormalization with quantized gamma, beta, mean and variance (and
 * optionally a quantized `gamma / sqrt(variance + eps)`).
 *
 * QKeras's defaults apply when an argument is left out: `gamma` by `quantized_relu_po2(6, 2048)`, `beta`
 * and `mean` by `quantized_po2(5)`, `variance` by `quantized_relu_po2(6, quadratic_approximation=True)`
 * (an even exponent, so that `sqrt(variance)` is a power of two too); pass `null` to leave one float.
 *
 * Training uses the batch statistics (quantized by the mean/variance quantizers) and updates the moving
 * averages with the float statistics; inference uses the quantized moving statistics. The output is
 * `x·inv + (β_q − μ_q·inv)` with `inv = γ_q / sqrt(σ²_q + ε)`, optionally quantized by `inverseQuantizer`.
 *
 * With all five quantizers null the layer runs the same ops as `tf.layers.batchNormalization`, so it
 * equals it bit for bit (outputs, gradients and moving statistics).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import {
  bnTrainingFlag,
  movingAverageUpdate,
  readAxis,
  readPositiveNumber,
  reductionAxes,
  resolveAxis,
  type BatchNormArgs,
} from './batchnorm-utils.js';
import { getInitializer, serializeKerasObject, type TfInitializer } from './keras-objects.js';
import { singleShape, singleTensor, trainingFlag, type Kwargs, type LayerShape, type ShapeArg } from './layer-utils.js';
import {
  QLayerWithQuantizers,
  weightConfig,
  weightFromArgs,
  type QLayerArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

/** QKeras's default quantizers of QBatchNormalization. */
export const QBN_DEFAULT_QUANTIZERS = {
  gamma: 'quantized_relu_po2(6, 2048)',
  beta: 'quantized_po2(5)',
  mean: 'quantized_po2(5)',
  variance: 'quantized_relu_po2(6, quadratic_approximation=True)',
} as const;

export interface QBatchNormalizationArgs extends QLayerArgs, BatchNormArgs {
  /** Default `'quantized_po2(5)'`; null for a float beta. */
  betaQuantizer?: QuantizerSpec;
  /** Default `'quantized_relu_po2(6, 2048)'`; null for a float gamma. */
  gammaQuantizer?: QuantizerSpec;
  /** Default `'quantized_po2(5)'`; null for a float mean. */
  meanQuantizer?: QuantizerSpec;
  /** Default `'quantized_relu_po2(6, quadratic_approximation=True)'`; null for a float variance. */
  varianceQuantizer?: QuantizerSpec;
  /** Quantizes `gamma/sqrt(var+eps)`; only allowed with gamma and variance quantizers null. Default null. */
  inverseQuantizer?: QuantizerSpec;
  /** Kept, unused (QKeras stores it and never applies it). */
  activation?: QuantizerSpec;
  /** Deprecated in QKeras and ignored; kept in the config. */
  betaRange?: number | null;
  gammaRange?: number | null;
}

/** `spec` unless it was left out (undefined), in which case QKeras's default. */
function orDefault(spec: QuantizerSpec | undefined, dflt: string): QuantizerSpec {
  return spec === undefined ? dflt : spec;
}

/** QKeras order of the quantizers: `[gamma, beta, mean, variance, inverse]`. */
export class QBatchNormalization extends QLayerWithQuantizers {
  static className = 'QBatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaRange: number | null;
  readonly gammaRange: number | null;
  /** The `activation` argument as given; QKeras keeps it but never applies it. */
  readonly activation: QuantizerSpec;
  private readonly gammaSpec: QuantizedWeightSpec;
  private readonly betaSpec: QuantizedWeightSpec;
  private readonly meanSlot: QuantizerSlot;
  private readonly varianceSlot: QuantizerSlot;
  private readonly inverseSlot: QuantizerSlot;
  private readonly movingMeanInitializer: TfInitializer;
  private readonly movingVarianceInitializer: TfInitializer;
  gamma: tf.LayerVariable | null = null;
  beta: tf.LayerVariable | null = null;
  movingMean: tf.LayerVariable | null = null;
  movingVariance: tf.LayerVariable | null = null;

  constructor(args: QBatchNormalizationArgs = {}) {
    super(args);
    const where = `QBatchNormalization(${this.name})`;
    this.axis = readAxis(args.axis, where);
    this.momentum = readPositiveNumber(args.momentum, where, 'momentum', 0.99);
    this.epsilon = readPositiveNumber(args.epsilon, where, 'epsilon', 1e-3);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaRange = args.betaRange ?? null;
    this.gammaRange = args.gammaRange ?? null;
    this.activation = args.activation ?? null;
    // QKeras deletes fused/renorm/virtual_batch_size/adjustment (with a warning) and always runs the plain
    // algorithm; they are accepted and ignored here for the same configs to load.

    const inverseSpec = args.inverseQuantizer ?? null;
    const gammaQ = orDefault(args.gammaQuantizer, QBN_DEFAULT_QUANTIZERS.gamma);
    const varianceQ = orDefault(args.varianceQuantizer, QBN_DEFAULT_QUANTIZERS.variance);
    if (inverseSpec !== null && (gammaQ !== null || varianceQ !== null)) {
      throw new ConfigError(
        where,
        'inverseQuantizer',
        inverseSpec instanceof Quantizer ? inverseSpec.toString() : inverseSpec,
        'null unless gammaQuantizer and varianceQuantizer are both null (a value must not be quantized twice)',
      );
    }
    // Gamma and variance are weight-like (QKeras's _set_trainable_parameter); beta and mean are not.
    const gammaArgs = { ...args, gammaQuantizer: gammaQ };
    this.gammaSpec = this.declareWeight('gamma', weightFromArgs(where, 'gamma', gammaArgs, 'ones', { weight: true, autoRange: this.scale }));
    const betaArgs = { ...args, betaQuantizer: orDefault(args.betaQuantizer, QBN_DEFAULT_QUANTIZERS.beta) };
    this.betaSpec = this.declareWeight('beta', weightFromArgs(where, 'beta', betaArgs, 'zeros', { weight: false, autoRange: this.center }));
    const meanQ = orDefault(args.meanQuantizer, QBN_DEFAULT_QUANTIZERS.mean);
    this.meanSlot = this.declareSlot('mean', new QuantizerSlot(where, 'meanQuantizer', meanQ));
    this.varianceSlot = this.declareSlot('variance', new QuantizerSlot(where, 'varianceQuantizer', varianceQ, { weight: true }));
    this.inverseSlot = this.declareSlot('inverse', new QuantizerSlot(where, 'inverseQuantizer', inverseSpec));
    this.movingMeanInitializer =
      getInitializer(args.movingMeanInitializer ?? 'zeros', where, 'movingMeanInitializer') ?? tf.initializers.zeros();
    this.movingVarianceInitializer =
      getInitializer(args.movingVarianceInitializer ?? 'ones', where, 'movingVarianceInitializer') ?? tf.initializers.ones();
    this.supportsMasking = true;
  }

  get gammaQuantizer(): Quantizer | null {
    return this.gammaSpec.slot.quantizer;
  }
  get betaQuantizer(): Quantizer | null {
    return this.betaSpec.slot.quantizer;
  }
  get meanQuantizer(): Quantizer | null {
    return this.meanSlot.quantizer;
  }
  get varianceQuantizer(): Quantizer | null {
    return this.varianceSlot.quantizer;
  }
  get inverseQuantizer(): Quantizer | null {
    return this.inverseSlot.quantizer;
  }

  /** No quantizer at all: the layer is a plain batch normalisation. */
  private get unquantized(): boolean {
    return this.slotQuantizers().every((q) => q === null);
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const axis = resolveAxis(this.axis, shape.length, this.name);
    const dim = shape[axis];
    if (dim === null || dim === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, `a defined dimension at axis ${this.axis}`);
    }
    if (this.scale) this.gamma = this.addQuantizedWeight('gamma', [dim], this.gammaSpec);
    if (this.center) this.beta = this.addQuantizedWeight('beta', [dim], this.betaSpec);
    this.movingMean = this.addWeight('moving_mean', [dim], 'float32', this.movingMeanInitializer, undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [dim], 'float32', this.movingVarianceInitializer, undefined, false);
    this.inputSpec = [{ ndim: shape.length, axes: { [axis]: dim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return singleShape(inputShape, this.name);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const training = bnTrainingFlag(kwargs, this.trainable);
      const axis = resolveAxis(this.axis, x.rank, this.name);
      const reduce = reductionAxes(x.rank, axis);
      // Per-feature vectors broadcast along the last axis as they are; any other axis needs a reshape.
      const broadcastShape = x.shape.map((d, i) => (i === axis ? d : 1));
      const b = (t: tf.Tensor): tf.Tensor => (axis === x.rank - 1 ? t : tf.reshape(t, broadcastShape));
      if (this.unquantized) return this.plainCall(x, reduce, training, axis);
      return this.quantizedCall(x, reduce, training, b, trainingFlag(kwargs));
    });
  }

  /**
   * tfjs's BatchNormalization: `tf.batchNorm` with the batch (tf.moments over the same axes) or moving
   * statistics, so outputs and statistics are tfjs's to the bit. Two tfjs gradient bugs are avoided
   * without changing a value: a missing gamma/beta is passed as ones/zeros (tfjs cannot differentiate
   * batchNorm without them), and a feature axis other than the last is moved last around the op (tfjs's
   * batchNorm gradient fails on broadcast-shaped statistics).
   */
  private plainCall(x: tf.Tensor, reduce: number[], training: boolean, axis: number): tf.Tensor {
    const last = x.rank - 1;
    const perm = Array.from({ length: x.rank }, (_, i) => (i === axis ? last : i === last ? axis : i));
    const xt = axis === last ? x : tf.transpose(x, perm);
    const n = x.shape[axis]!;
    const gamma = this.gamma === null ? tf.ones([n]) : this.gamma.read();
    const beta = this.beta === null ? tf.zeros([n]) : this.beta.read();
    let out: tf.Tensor;
    if (!training) {
      out = tf.batchNorm(xt, this.movingMean!.read(), this.movingVariance!.read(), beta, gamma, this.epsilon);
    } else {
      const { mean, variance } = tf.moments(x, reduce);
      out = tf.batchNorm(xt, mean, variance, beta, gamma, this.epsilon);
      movingAverageUpdate(this.movingMean!, mean, this.momentum);
      movingAverageUpdate(this.movingVariance!, variance, this.momentum);
    }
    return axis === last ? out : tf.transpose(out, perm);
  }

  /** QKeras's computation with quantized parameters and statistics. */
  private quantizedCall(
    x: tf.Tensor,
    reduce: number[],
    training: boolean,
    b: (t: tf.Tensor) => tf.Tensor,
    flag: boolean | undefined,
  ): tf.Tensor {
    // Quantizers follow the call's flag (or the global phase), as QKeras's read K.learning_phase().
    const q = (slot: QuantizerSlot, t: tf.Tensor): tf.Tensor => slot.apply(t, flag);
    const gamma = this.gamma === null ? null : q(this.gammaSpec.slot, this.gamma.read());
    const beta = this.beta === null ? null : q(this.betaSpec.slot, this.beta.read());
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) {
      const moments = tf.moments(x, reduce);
      movingAverageUpdate(this.movingMean!, moments.mean, this.momentum);
      movingAverageUpdate(this.movingVariance!, moments.variance, this.momentum);
      mean = q(this.meanSlot, moments.mean);
      variance = q(this.varianceSlot, moments.variance);
    } else {
      mean = q(this.meanSlot, this.movingMean!.read());
      variance = q(this.varianceSlot, this.movingVariance!.read());
    }
    let inv = tf.rsqrt(tf.add(b(variance), this.epsilon));
    if (gamma !== null) inv = tf.mul(inv, b(gamma));
    inv = q(this.inverseSlot, inv);
    const meanTimesInv = tf.mul(b(mean), inv);
    const offset = beta === null ? tf.neg(meanTimesInv) : tf.sub(b(beta), meanTimesInv);
    return tf.add(tf.mul(x, inv), offset);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...weightConfig('beta', this.betaSpec),
      ...weightConfig('gamma', this.gammaSpec),
      meanQuantizer: this.meanSlot.serialize(),
      varianceQuantizer: this.varianceSlot.serialize(),
      inverseQuantizer: this.inverseSlot.serialize(),
      movingMeanInitializer: serializeKerasObject(this.movingMeanInitializer),
      movingVarianceInitializer: serializeKerasObject(this.movingVarianceInitializer),
      betaRange: this.betaRange,
      gammaRange: this.gammaRange,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QBatchNormalization);
