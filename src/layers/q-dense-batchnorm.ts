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
import { bnTrainingFlag } from './batchnorm-utils.js';
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { biasAdd, singleShape, singleTensor, trainingFlag, type Kwargs, type ShapeArg } from './layer-utils.js';
import { QDense, dense, type QDenseArgs } from './q-dense.js';
import type { QuantizerSlot } from './quantizer-slot.js';

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
    this.batchnorm.build(this.units, singleShape(inputShape, this.name).length, {
      trainable: (name, shape, spec) => this.addQuantizedWeight(name, shape, spec),
      state: (name, shape, init) => this.addWeight(name, shape, 'float32', init, undefined, false),
    });
  }

  private slot(label: string): QuantizerSlot {
    return this.quantizerSlots().find(([l]) => l === label)![1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const flag = trainingFlag(kwargs);
      const kernel = this.kernel!.read();
      const bias = this.bias === null ? null : this.bias.read();
      const f = this.batchnorm.fold(() => dense(x, kernel, bias), bias, bnTrainingFlag(kwargs, this.trainable));
      const qKernel = this.slot('kernel').apply(tf.mul(kernel, f.inv), flag);
      const qBias = this.slot('bias').apply(f.foldedBias, flag);
      let y = dense(x, qKernel, null);
      if (f.correction !== null) y = tf.mul(y, f.correction);
      return this.activationSlotOrNull().apply(biasAdd(y, qBias), flag);
    });
  }

  /** `[folded kernel, folded bias]` from the moving statistics, unquantized (as the conv layers' method). */
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
tf.serialization.registerClass(QDenseBatchnorm);
