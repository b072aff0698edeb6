/**
 * QDenseBatchnorm: a QDense with the following batch normalisation folded into its kernel and bias.
 *
 * An extension: QKeras has no such layer (its issue #64 asks for one; `model_quantize` even names a
 * `QDenseBatchnorm` class it cannot build). It applies QKeras's conv folding (bn-folding.ts, same
 * `foldingMode` / `emaFreezeDelay`) to a dense layer, whose kernel `[inputs, units]` has the output
 * channels on its last axis like a convolution kernel. The batch statistics are taken over every axis
 * but the last, as Keras's BatchNormalization after a Dense does.
 *
 * Weights: `kernel, [bias], gamma, beta, iteration, moving_mean, moving_variance`.
 */
import * as tf from '@tensorflow/tfjs';
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { singleShape, type Kwargs, type ShapeArg } from './layer-utils.js';
import { QDense, type QDenseArgs } from './q-dense.js';

export interface QDenseBatchnormArgs extends QDenseArgs, BnFoldingArgs {}

export class QDenseBatchnorm extends QDense {
  static override className = 'QDenseBatchnorm';
  /** The folded batch normalisation: its parameters, statistics and step counter. */
  readonly batchnorm: BnFolding;

  constructor(args: QDenseBatchnormArgs) {
    super(args);
    this.batchnorm = new BnFolding(`QDenseBatchnorm(${this.name})`, args);
  }

  override build(inputShape: ShapeArg): void {
    super.build(inputShape);
    this.batchnorm.build(this.units, singleShape(inputShape, this.name).length, this.weightMaker());
  }

  protected override preActivation(x: tf.Tensor, _training: boolean | undefined, kwargs: Kwargs): tf.Tensor {
    return this.batchnorm.foldedOutput(this.foldedCall(this.kernel!, this.kernelSpec, (k, b) => this.applyKernel(x, k, b), kwargs));
  }

  /** `[folded kernel, folded bias]` from the moving statistics, unquantized (as the conv layers' method). */
  getFoldedWeights(): [tf.Tensor, tf.Tensor] {
    return this.batchnorm.foldedWeights(this.kernel!, this.bias);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.batchnorm.config() };
  }
}
tf.serialization.registerClass(QDenseBatchnorm);
