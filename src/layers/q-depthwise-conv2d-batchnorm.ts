/**
 * QDepthwiseConv2DBatchnorm: a QDepthwiseConv2D with the following batch normalisation folded into its
 * depthwise kernel and bias (QKeras's `QDepthwiseConv2DBatchnorm`; see bn-folding.ts). Output channel
 * `c·depthMultiplier + m` is kernel slice `[:, :, c, m]`, so the per-channel factors are reshaped to
 * `[channels, depthMultiplier]` before they multiply the kernel.
 *
 * Weights, in QKeras's order: `depthwise_kernel, [bias], gamma, beta, iteration, moving_mean,
 * moving_variance`.
 */
import * as tf from '@tensorflow/tfjs';
import { bnTrainingFlag } from './batchnorm-utils.js';
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { biasAdd, singleShape, singleTensor, trainingFlag, type Kwargs, type ShapeArg } from './layer-utils.js';
import { QDepthwiseConv2D, type QDepthwiseConv2DArgs } from './q-depthwise-conv2d.js';
import type { QuantizerSlot } from './quantizer-slot.js';

export interface QDepthwiseConv2DBatchnormArgs extends QDepthwiseConv2DArgs, BnFoldingArgs {}

export class QDepthwiseConv2DBatchnorm extends QDepthwiseConv2D {
  static override className = 'QDepthwiseConv2DBatchnorm';
  /** The folded batch normalisation: its parameters, statistics and step counter. */
  readonly batchnorm: BnFolding;

  constructor(args: QDepthwiseConv2DBatchnormArgs) {
    super(args);
    this.batchnorm = new BnFolding(`QDepthwiseConv2DBatchnorm(${this.name})`, args);
  }

  override build(inputShape: ShapeArg): void {
    super.build(inputShape);
    const k = this.depthwiseKernel!.shape;
    this.batchnorm.build(k[2]! * k[3]!, singleShape(inputShape, this.name).length, {
      trainable: (name, shape, spec) => this.addQuantizedWeight(name, shape, spec),
      state: (name, shape, init) => this.addWeight(name, shape, 'float32', init, undefined, false),
    });
  }

  private slot(label: string): QuantizerSlot {
    return this.quantizerSlots().find(([l]) => l === label)![1];
  }

  private depthwise(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const pad = this.padding === 'same' ? 'same' : 'valid';
    const strides = this.strides as [number, number];
    const dilations = this.dilationRate as [number, number];
    return tf.depthwiseConv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides, pad, 'NHWC', dilations);
  }

  /** The per-output-channel factor `[C·M]` as `[C, M]`, to multiply the depthwise kernel. */
  private asKernelFactor(inv: tf.Tensor): tf.Tensor {
    const k = this.depthwiseKernel!.shape;
    return tf.reshape(inv, [k[2]!, k[3]!]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const flag = trainingFlag(kwargs);
      const kernel = this.depthwiseKernel!.read();
      const bias = this.bias === null ? null : this.bias.read();
      const floatOutput = (): tf.Tensor => {
        const y = this.depthwise(x, kernel);
        return bias === null ? y : biasAdd(y, bias);
      };
      const f = this.batchnorm.fold(floatOutput, bias, bnTrainingFlag(kwargs, this.trainable));
      const qKernel = this.slot('depthwise').apply(tf.mul(kernel, this.asKernelFactor(f.inv)), flag);
      const qBias = this.slot('bias').apply(f.foldedBias, flag);
      let y = this.depthwise(x, qKernel);
      if (f.correction !== null) y = tf.mul(y, f.correction);
      return this.activationSlotOrNull().apply(biasAdd(y, qBias), flag);
    });
  }

  /**
   * QKeras's `get_folded_weights()`: `[folded depthwise kernel, folded bias]` from the moving statistics,
   * unquantized. The caller owns the returned tensors.
   */
  getFoldedWeights(): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const bias = this.bias === null ? null : this.bias.read();
      const { inv, foldedBias } = this.batchnorm.movingFactors(bias);
      return [tf.mul(this.depthwiseKernel!.read(), this.asKernelFactor(inv)), foldedBias];
    });
  }

  /** QKeras's keys for this layer (not QDepthwiseConv2D's); `filters` is Keras's None for depthwise convs. */
  override getQuantizationConfig(): Record<string, string> {
    return {
      depthwise_quantizer: this.slot('depthwise').toString(),
      bias_quantizer: this.slot('bias').toString(),
      activation: this.activationSlotOrNull().toString(),
      filters: 'None',
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.batchnorm.config() };
  }
}
tf.serialization.registerClass(QDepthwiseConv2DBatchnorm);
