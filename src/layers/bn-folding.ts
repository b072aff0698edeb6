/**
 * Batch normalisation folded into the preceding weight layer, as QKeras's QConv2DBatchnorm and
 * QDepthwiseConv2DBatchnorm do it; QDenseBatchnorm reuses it for a dense layer.
 *
 * The folded layer owns the BN parameters (gamma, beta), a step counter (`iteration`) and the moving
 * statistics. Each call works out per-output-channel factors:
 *
 * - `inv = gamma / sqrt(var + eps)` multiplies the kernel (output channels on its last axis) before the
 *   kernel quantizer sees it, and
 * - `foldedBias = inv·(bias − mean) + beta` is quantized by the bias quantizer and added after the op.
 *
 * Which statistics: in training, while `iteration <= emaFreezeDelay` (always, when the delay is null or
 * negative), the batch statistics of the float layer output `op(x, kernel) + bias` are computed and the
 * moving averages updated; afterwards the moving statistics are frozen and used.
 *
 * - `batch_stats_folding` folds with the batch statistics while they are live, then the moving ones.
 * - `ema_stats_folding` (default; TFLite's scheme) always folds the kernel with the moving variance, so
 *   the quantized kernel does not jitter from batch to batch, and while the batch statistics are live
 *   multiplies the op output by `sqrt(movingVar + eps) / sqrt(batchVar + eps)` and folds the bias with the
 *   batch statistics, which makes the training output that of batch normalisation with batch statistics.
 *
 * As in QKeras the moving averages are updated before they are read, so a training step folds with the
 * statistics that include its own batch.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import {
  movingAverageUpdate,
  readAxis,
  readPositiveNumber,
  reductionAxes,
  rejectUnsupportedBnOptions,
  type BatchNormArgs,
} from './batchnorm-utils.js';
import { getInitializer, serializeKerasObject, type TfInitializer } from './keras-objects.js';
import { biasAdd } from './layer-utils.js';
import { quantizedWeight, weightConfig, type QuantizedWeightSpec, type WeightMaker } from './q-layer-base.js';
import type { QuantizerSlot } from './quantizer-slot.js';

export const FOLDING_MODES = ['ema_stats_folding', 'batch_stats_folding'] as const;
export type FoldingMode = (typeof FOLDING_MODES)[number];

/** The BN and folding arguments of a folded layer (camelCase of QKeras's). */
export interface BnFoldingArgs extends BatchNormArgs {
  /**
   * Training steps after which the moving statistics are frozen and used (the batch statistics are used
   * while `iteration <= emaFreezeDelay`); null or negative: never frozen. Default null.
   */
  emaFreezeDelay?: number | null;
  /** `'ema_stats_folding'` (default) or `'batch_stats_folding'`. */
  foldingMode?: string;
}

/** Reads a folding mode, accepting tfjs's camelCased spelling of the value from a reloaded model.json. */
function readFoldingMode(value: unknown, where: string): FoldingMode {
  const v = value ?? 'ema_stats_folding';
  for (const mode of FOLDING_MODES) {
    if (v === mode || v === mode.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())) return mode;
  }
  throw new ConfigError(where, 'foldingMode', value, FOLDING_MODES.map((m) => `'${m}'`).join(' or '));
}

/** What one call folds with. */
export interface FoldFactors {
  /** Per output channel: multiplies the kernel's last axis. */
  readonly inv: tf.Tensor;
  /** Per output channel, unquantized. */
  readonly foldedBias: tf.Tensor;
  /** Per output channel: multiplies the op output (ema_stats_folding while training on batch stats). */
  readonly correction: tf.Tensor | null;
}

export type { WeightMaker } from './q-layer-base.js';

/** What a folded layer's call hands `BnFolding.foldedOutput`. */
export interface FoldedCall {
  /** The kernel and bias as stored (unfolded, unquantized). */
  readonly kernel: tf.Tensor;
  readonly bias: tf.Tensor | null;
  /** The layer's operation on its input with a kernel and optional bias (no activation). */
  readonly op: (kernel: tf.Tensor, bias: tf.Tensor | null) => tf.Tensor;
  /** The layer's kernel and bias quantizers. */
  readonly kernelSlot: QuantizerSlot;
  readonly biasSlot: QuantizerSlot;
  /** Whether this call trains the BN (see `bnTrainingFlag`), and the quantizers' training flag. */
  readonly bnTraining: boolean;
  readonly training: boolean | undefined;
}

/** `inv` as it multiplies a kernel: unchanged, or reshaped by the layer (the depthwise kernel). */
export type KernelFactor = (inv: tf.Tensor) => tf.Tensor;

export class BnFolding {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly emaFreezeDelay: number | null;
  readonly foldingMode: FoldingMode;
  private readonly gammaSpec: QuantizedWeightSpec;
  private readonly betaSpec: QuantizedWeightSpec;
  private readonly movingMeanInitializer: TfInitializer;
  private readonly movingVarianceInitializer: TfInitializer;
  gamma: tf.LayerVariable | null = null;
  beta: tf.LayerVariable | null = null;
  /** Training steps taken, starting at -1 as in QKeras (float32: exact up to 2^24 steps). */
  iteration: tf.LayerVariable | null = null;
  movingMean: tf.LayerVariable | null = null;
  movingVariance: tf.LayerVariable | null = null;

  constructor(
    private readonly where: string,
    args: BnFoldingArgs,
  ) {
    rejectUnsupportedBnOptions(args, where);
    this.axis = readAxis(args.axis, where);
    this.momentum = readPositiveNumber(args.momentum, where, 'momentum', 0.99);
    this.epsilon = readPositiveNumber(args.epsilon, where, 'epsilon', 1e-3);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    const delay = args.emaFreezeDelay ?? null;
    if (delay !== null && (typeof delay !== 'number' || !Number.isInteger(delay))) {
      throw new ConfigError(where, 'emaFreezeDelay', delay, 'null or an integer number of training steps');
    }
    this.emaFreezeDelay = delay;
    this.foldingMode = readFoldingMode(args.foldingMode, where);
    // The inner BatchNormalization of QKeras has plain (unquantized, unclipped) gamma and beta.
    const plain = (prefix: string, init: unknown, reg: unknown, constraint: unknown): QuantizedWeightSpec =>
      quantizedWeight(where, prefix, { quantizer: null, initializer: init, regularizer: reg, constraint }, { weight: false });
    this.gammaSpec = plain('gamma', args.gammaInitializer ?? 'ones', args.gammaRegularizer, args.gammaConstraint);
    this.betaSpec = plain('beta', args.betaInitializer ?? 'zeros', args.betaRegularizer, args.betaConstraint);
    this.movingMeanInitializer =
      getInitializer(args.movingMeanInitializer ?? 'zeros', where, 'movingMeanInitializer') ?? tf.initializers.zeros();
    this.movingVarianceInitializer =
      getInitializer(args.movingVarianceInitializer ?? 'ones', where, 'movingVarianceInitializer') ?? tf.initializers.ones();
  }

  /**
   * Creates the BN weights for `channels` output channels of a layer whose output has `outputRank`
   * dimensions; the BN axis must be the channel (last) axis.
   */
  build(channels: number, outputRank: number, make: WeightMaker): void {
    const axis = this.axis < 0 ? this.axis + outputRank : this.axis;
    if (axis !== outputRank - 1) {
      throw new ConfigError(this.where, 'axis', this.axis, `the channel axis of the layer output (-1 or ${outputRank - 1})`);
    }
    if (this.scale) this.gamma = make.trainable('gamma', [channels], this.gammaSpec);
    if (this.center) this.beta = make.trainable('beta', [channels], this.betaSpec);
    this.iteration = make.state('iteration', [], tf.initializers.constant({ value: -1 }));
    this.movingMean = make.state('moving_mean', [channels], this.movingMeanInitializer);
    this.movingVariance = make.state('moving_variance', [channels], this.movingVarianceInitializer);
  }

  /** Whether this call trains on batch statistics (read before the step counter advances, as in QKeras). */
  private batchStatsLive(training: boolean): boolean {
    if (!training) return false;
    if (this.emaFreezeDelay === null || this.emaFreezeDelay < 0) return true;
    return this.iteration!.read().dataSync()[0]! <= this.emaFreezeDelay;
  }

  /** `gamma · rsqrt(variance + eps)`. */
  private inverse(variance: tf.Tensor): tf.Tensor {
    const inv = tf.rsqrt(tf.add(variance, this.epsilon));
    return this.gamma === null ? inv : tf.mul(inv, this.gamma.read());
  }

  /** `inv · (bias − mean) + beta`, with a missing bias as 0 and a missing beta as 0. */
  private bias(inv: tf.Tensor, bias: tf.Tensor | null, mean: tf.Tensor): tf.Tensor {
    const folded = tf.mul(inv, bias === null ? tf.neg(mean) : tf.sub(bias, mean));
    return this.beta === null ? folded : tf.add(folded, this.beta.read());
  }

  /**
   * The factors of one call. `floatOutput` computes the unquantized layer output (kernel and bias as
   * stored); it runs only when batch statistics are needed. Updates the moving statistics and the step
   * counter when training.
   */
  fold(floatOutput: () => tf.Tensor, bias: tf.Tensor | null, training: boolean): FoldFactors {
    const live = this.batchStatsLive(training);
    let batch: { mean: tf.Tensor; variance: tf.Tensor } | null = null;
    if (live) {
      const y = floatOutput();
      batch = tf.moments(y, reductionAxes(y.rank, y.rank - 1));
      movingAverageUpdate(this.movingMean!, batch.mean, this.momentum);
      movingAverageUpdate(this.movingVariance!, batch.variance, this.momentum);
    }
    if (training) {
      const it = this.iteration!;
      tf.tidy(() => {
        it.write(tf.add(it.read(), 1));
      });
    }
    const movingMean = this.movingMean!.read();
    const movingVariance = this.movingVariance!.read();
    const movingInv = this.inverse(movingVariance);
    if (batch === null) {
      return { inv: movingInv, foldedBias: this.bias(movingInv, bias, movingMean), correction: null };
    }
    const batchInv = this.inverse(batch.variance);
    const foldedBias = this.bias(batchInv, bias, batch.mean);
    if (this.foldingMode === 'batch_stats_folding') return { inv: batchInv, foldedBias, correction: null };
    const correction = tf.mul(tf.sqrt(tf.add(movingVariance, this.epsilon)), tf.rsqrt(tf.add(batch.variance, this.epsilon)));
    return { inv: movingInv, foldedBias, correction };
  }

  /**
   * The output of a folded layer before its activation: `op(q(kernel·inv), none)`, times the correction,
   * plus `q(foldedBias)`. `op` on the stored kernel and bias gives the float output for the batch
   * statistics.
   */
  foldedOutput(c: FoldedCall, kernelFactor: KernelFactor = (inv) => inv): tf.Tensor {
    const f = this.fold(() => c.op(c.kernel, c.bias), c.bias, c.bnTraining);
    const qKernel = c.kernelSlot.apply(tf.mul(c.kernel, kernelFactor(f.inv)), c.training);
    const qBias = c.biasSlot.apply(f.foldedBias, c.training);
    let y = c.op(qKernel, null);
    if (f.correction !== null) y = tf.mul(y, f.correction);
    return biasAdd(y, qBias);
  }

  /** QKeras's `get_folded_weights` factors: the moving statistics, nothing updated. */
  movingFactors(bias: tf.Tensor | null): { inv: tf.Tensor; foldedBias: tf.Tensor } {
    const inv = this.inverse(this.movingVariance!.read());
    return { inv, foldedBias: this.bias(inv, bias, this.movingMean!.read()) };
  }

  /**
   * QKeras's `get_folded_weights()`: `[kernel·inv, inv·(bias − movingMean) + beta]` with
   * `inv = gamma/sqrt(movingVar + eps)`, unquantized. The caller owns the returned tensors.
   */
  foldedWeights(kernel: tf.LayerVariable, bias: tf.LayerVariable | null, kernelFactor: KernelFactor = (inv) => inv): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const { inv, foldedBias } = this.movingFactors(bias === null ? null : bias.read());
      return [tf.mul(kernel.read(), kernelFactor(inv)), foldedBias];
    });
  }

  /** The BN and folding entries of the layer config (Keras's BatchNormalization keys plus QKeras's). */
  config(): tf.serialization.ConfigDict {
    // The inner BN has no quantizers: its entries are Keras's BatchNormalization ones.
    const beta = weightConfig('beta', this.betaSpec);
    const gamma = weightConfig('gamma', this.gammaSpec);
    delete beta['betaQuantizer'];
    delete gamma['gammaQuantizer'];
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...beta,
      ...gamma,
      movingMeanInitializer: serializeKerasObject(this.movingMeanInitializer),
      movingVarianceInitializer: serializeKerasObject(this.movingVarianceInitializer),
      renorm: false,
      virtualBatchSize: null,
      emaFreezeDelay: this.emaFreezeDelay,
      foldingMode: this.foldingMode,
    } as tf.serialization.ConfigDict;
  }
}
