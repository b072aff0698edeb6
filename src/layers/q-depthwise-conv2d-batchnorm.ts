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
import { BnFolding, type BnFoldingArgs } from './bn-folding.js';
import { singleShape, type Kwargs, type ShapeArg } from './layer-utils.js';
import { QDepthwiseConv2D, type QDepthwiseConv2DArgs } from './q-depthwise-conv2d.js';

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
    this.batchnorm.build(k[2]! * k[3]!, singleShape(inputShape, this.name).length, this.weightMaker());
  }

  /** The per-output-channel factor `[C·M]` as `[C, M]`, to multiply the depthwise kernel. */
  private kernelFactor(inv: tf.Tensor): tf.Tensor {
    const k = this.depthwiseKernel!.shape;
    return tf.reshape(inv, [k[2]!, k[3]!]);
  }

  protected override preActivation(x: tf.Tensor, _training: boolean | undefined, kwargs: Kwargs): tf.Tensor {
    const op = (kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor => this.depthwiseWithBias(x, kernel, bias);
    const folded = this.foldedCall(this.depthwiseKernel!, this.depthwiseSpec, op, kwargs);
    return this.batchnorm.foldedOutput(folded, (inv) => this.kernelFactor(inv));
  }

  /**
   * QKeras's `get_folded_weights()`: `[folded depthwise kernel, folded bias]` from the moving statistics,
   * unquantized. The caller owns the returned tensors.
   */
  getFoldedWeights(): [tf.Tensor, tf.Tensor] {
    return this.batchnorm.foldedWeights(this.depthwiseKernel!, this.bias, (inv) => this.kernelFactor(inv));
  }

  /** QKeras's keys for this layer (not QDepthwiseConv2D's); `filters` is Keras's None for depthwise convs. */
  override getQuantizationConfig(): Record<string, string> {
    return {
      depthwise_quantizer: this.depthwiseSpec.slot.toString(),
      bias_quantizer: this.biasSpec.slot.toString(),
      activation: this.activationQ.toString(),
      filters: 'None',
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.batchnorm.config() };
  }
}
tf.serialization.registerClass(QDepthwiseConv2DBatchnorm);
