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
import { bnTrainingFlag } from './batchnorm-utils.js';
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { biasAdd, singleShape, singleTensor, trainingFlag, type Kwargs, type ShapeArg } from './layer-utils.js';
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
    this.batchnorm.build(this.filters, singleShape(inputShape, this.name).length, {
      trainable: (name, shape, spec) => this.addQuantizedWeight(name, shape, spec),
      state: (name, shape, init) => this.addWeight(name, shape, 'float32', init, undefined, false),
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const flag = trainingFlag(kwargs);
      const kernel = this.kernel!.read();
      const bias = this.bias === null ? null : this.bias.read();
      const f = this.batchnorm.fold(() => this.convolve(x, kernel, bias), bias, bnTrainingFlag(kwargs, this.trainable));
      const qKernel = this.kernelSpec.slot.apply(tf.mul(kernel, f.inv), flag);
      const qBias = this.biasSpec.slot.apply(f.foldedBias, flag);
      let y = this.convolve(x, qKernel, null);
      if (f.correction !== null) y = tf.mul(y, f.correction);
      return this.activationQ.apply(biasAdd(y, qBias), flag);
    });
  }

  /**
   * QKeras's `get_folded_weights()`: `[gamma·kernel/sqrt(movingVar+eps), gamma·(bias−movingMean)/sqrt(
   * movingVar+eps) + beta]`, unquantized. The caller owns the returned tensors.
   */
  getFoldedWeights(): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const bias = this.bias === null ? null : this.bias.read();
      const { inv, foldedBias } = this.batchnorm.movingFactors(bias);
      return [tf.mul(this.kernel!.read(), inv), foldedBias];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.batchnorm.config() };
  }
}
tf.serialization.registerClass(QConv2DBatchnorm);
