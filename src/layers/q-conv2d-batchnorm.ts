/**
 * QConv2DBatchnorm: a QConv2D with the following batch normalisation folded into its kernel and bias
 * (QKeras's `QConv2DBatchnorm`; see bn-folding.ts for the folding modes). The kernel quantizer sees the
 * folded kernel and the bias quantizer the folded bias, so what is trained is what a fused
 * conv+BN accelerator runs.
 *
 * Weights, in QKeras's order: `kernel, [bias], gamma, beta, iteration, moving_mean, moving_variance`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { singleShape, type Kwargs, type ShapeArg } from './layer-utils.js';
import { QConv2D, type QConv2DArgs } from './q-conv.js';

export interface QConv2DBatchnormArgs extends QConv2DArgs, BnFoldingArgs {}

export class QConv2DBatchnorm extends QConv2D {
  static override className = 'QConv2DBatchnorm';
  /** The folded batch normalisation: its parameters, statistics and step counter. */
  readonly batchnorm: BnFolding;

  constructor(args: QConv2DBatchnormArgs) {
    super(args);
    const where = `QConv2DBatchnorm(${this.name})`;
    // QKeras's folded call runs a plain conv2d: no kernel mask, no groups.
    if (args.mask !== undefined && args.mask !== null) {
      throw new ConfigError(where, 'mask', args.mask, 'null (not supported when folding)');
    }
    if (this.groups !== 1) throw new ConfigError(where, 'groups', this.groups, '1 (not supported when folding)');
    this.batchnorm = new BnFolding(where, args);
  }

  override build(inputShape: ShapeArg): void {
    super.build(inputShape);
    this.batchnorm.build(this.filters, singleShape(inputShape, this.name).length, this.weightMaker());
  }

  protected override preActivation(x: tf.Tensor, _training: boolean | undefined, kwargs: Kwargs): tf.Tensor {
    return this.batchnorm.foldedOutput(this.foldedCall(this.kernel!, this.kernelSpec, (k, b) => this.applyKernel(x, k, b), kwargs));
  }

  /**
   * QKeras's `get_folded_weights()`: `[gamma·kernel/sqrt(movingVar+eps), gamma·(bias−movingMean)/sqrt(
   * movingVar+eps) + beta]`, unquantized. The caller owns the returned tensors.
   */
  getFoldedWeights(): [tf.Tensor, tf.Tensor] {
    return this.batchnorm.foldedWeights(this.kernel!, this.bias);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.batchnorm.config() };
  }
}
tf.serialization.registerClass(QConv2DBatchnorm);
