/**
 * The bases of the Q layers whose weights end with an optional quantized bias and whose output goes
 * through an activation: `QBiasLayer` (QDepthwiseConv2D, the separable convolutions, QScaleShift, the
 * recurrent cells) and `QKernelLayer`, which adds one quantized kernel and its forward pass
 * (QDense and the convolutions of q-conv.ts). The subclasses declare their weights in their constructors,
 * in QKeras's order, so that each slot is named once.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { bnTrainingFlag } from './batchnorm-utils.js';
import type { FoldedCall } from './bn-folding.js';
import { trainingFlag, type Kwargs } from './layer-utils.js';
import {
  QLayerWithQuantizers,
  activationConfig,
  weightFromArgs,
  type KerasObjectSpec,
  type QLayerArgs,
  type QuantizedWeightArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import type { QuantizerSlot } from './quantizer-slot.js';

/** The arguments of the bias and the activation. */
export interface QBiasLayerArgs extends QLayerArgs, QuantizedWeightArgs<'bias'> {
  /** A quantizer or Keras activation (`'quantized_relu(4)'`, `'relu'`, `'softmax'`). */
  activation?: QuantizerSpec;
  useBias?: boolean;
}

/** A Q layer with an optional quantized bias (its last weight) and an activation. */
export abstract class QBiasLayer extends QLayerWithQuantizers {
  readonly useBias: boolean;
  bias: tf.LayerVariable | null = null;
  /** Set by the subclass's constructor, after its other weights (QKeras's order). */
  protected biasSpec!: QuantizedWeightSpec;
  protected activationQ!: QuantizerSlot;

  constructor(args: QBiasLayerArgs) {
    super(args);
    this.useBias = args.useBias ?? true;
  }

  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  /** The activation as a quantizer or Keras activation function; null means linear. */
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** Declares the bias (initializer `zeros` unless given; no automatic range without a bias) from `args`. */
  protected declareBias(where: string, args: QuantizedWeightArgs<'bias'>): QuantizedWeightSpec {
    this.biasSpec = this.declareWeight('bias', weightFromArgs(where, 'bias', args, 'zeros', { weight: false, autoRange: this.useBias }));
    return this.biasSpec;
  }

  /** Declares the bias, then the activation: the last two slots of most of these layers. */
  protected declareBiasAndActivation(where: string, args: QBiasLayerArgs): void {
    this.declareBias(where, args);
    this.activationQ = this.declareActivation(where, args.activation);
  }

  /** Creates the bias weight when the layer uses one. */
  protected buildBias(shape: number[]): void {
    if (this.useBias) this.bias = this.addQuantizedWeight('bias', shape, this.biasSpec);
  }

  /** The quantized bias of this call, or null without a bias. */
  protected quantizedBias(training: boolean | undefined): tf.Tensor | null {
    return this.bias === null ? null : this.biasSpec.slot.apply(this.bias.read(), training);
  }

  /**
   * What `BnFolding.foldedOutput` needs to fold a batch normalisation into this call's `kernel` (quantized
   * by `kernelSpec`) and bias; `op` is the layer's operation on its input.
   */
  protected foldedCall(
    kernel: tf.LayerVariable,
    kernelSpec: QuantizedWeightSpec,
    op: FoldedCall['op'],
    kwargs: Kwargs,
  ): FoldedCall {
    return {
      kernel: kernel.read(),
      bias: this.bias === null ? null : this.bias.read(),
      op,
      kernelSlot: kernelSpec.slot,
      biasSlot: this.biasSpec.slot,
      bnTraining: bnTrainingFlag(kwargs, this.trainable),
      training: trainingFlag(kwargs),
    };
  }

  /** The config entries `activation`, `useBias` and those of every declared weight. */
  protected biasLayerConfig(): tf.serialization.ConfigDict {
    return {
      activation: activationConfig(this.activationQ),
      useBias: this.useBias,
      ...this.declaredWeightsConfig(),
    } as tf.serialization.ConfigDict;
  }
}

/** The arguments of a kernel, a bias and an activation (QDense, QConv1D, QConv2D, QConv2DTranspose). */
export interface QKernelLayerArgs extends QBiasLayerArgs, QuantizedWeightArgs<'kernel'> {
  /** Defaults to `Clip(-M, M)`, `M = max(1, kernelQuantizer.max())`, when there is a kernel quantizer. */
  kernelConstraint?: KerasObjectSpec;
  /** Deprecated in QKeras and ignored; kept in the config. */
  kernelRange?: number | null;
  biasRange?: number | null;
}

/**
 * A Q layer computing `activation(op(x, q(kernel), q(bias)))`: QDense and the convolutions. Subclasses
 * declare the weights with `declareKernelBias`, create them with `buildKernelBias` and supply `op`.
 */
export abstract class QKernelLayer extends QBiasLayer {
  readonly kernelRange: number | null;
  readonly biasRange: number | null;
  kernel: tf.LayerVariable | null = null;
  protected kernelSpec!: QuantizedWeightSpec;

  constructor(args: QKernelLayerArgs) {
    super(args);
    this.kernelRange = args.kernelRange ?? null;
    this.biasRange = args.biasRange ?? null;
  }

  /** The parsed kernel quantizer (after the auto-scale default), or null. */
  get kernelQuantizer(): Quantizer | null {
    return this.kernelSpec.slot.quantizer;
  }

  /** Declares the kernel (`kernelInitializer` is the layer's default), the bias and the activation. */
  protected declareKernelBias(where: string, args: QKernelLayerArgs, kernelInitializer: string): void {
    this.kernelSpec = this.declareWeight('kernel', weightFromArgs(where, 'kernel', args, kernelInitializer, { weight: true }));
    this.declareBiasAndActivation(where, args);
  }

  protected buildKernelBias(kernelShape: number[], biasShape: number[]): void {
    this.kernel = this.addQuantizedWeight('kernel', kernelShape, this.kernelSpec);
    this.buildBias(biasShape);
  }

  /** The quantized kernel as `op` uses it (subclasses may post-process it, e.g. the mask). */
  protected quantizedKernel(training: boolean | undefined): tf.Tensor {
    return this.kernelSpec.slot.apply(this.kernel!.read(), training);
  }

  /** The layer's operation on `x` with the (quantized) kernel and bias, before the activation. */
  protected abstract applyKernel(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => this.preActivation(x, training, kwargs));
  }

  /** The output before the activation: `applyKernel` with the quantized weights (BN-folded layers fold first). */
  protected preActivation(x: tf.Tensor, training: boolean | undefined, _kwargs: Kwargs): tf.Tensor {
    const kernel = this.quantizedKernel(training);
    const bias = this.quantizedBias(training);
    return this.applyKernel(x, kernel, bias);
  }

  /** `biasLayerConfig()` then `kernelRange` and `biasRange`. */
  protected kernelLayerConfig(): tf.serialization.ConfigDict {
    return { ...this.biasLayerConfig(), kernelRange: this.kernelRange, biasRange: this.biasRange };
  }
}
