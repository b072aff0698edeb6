/**
 * QDepthwiseConv2D: Keras's depthwise 2-D convolution with a quantized depthwise kernel and bias.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import {
  biasAdd,
  checkChannelsLast,
  convOutputLength,
  definedChannels,
  normalizePadding,
  normalizeTuple,
  positiveInt,
  singleShape,
  type ConvGeometryArgs,
  type Kwargs,
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import { QBiasLayer, type QBiasLayerArgs } from './q-bias-layer.js';
import { weightFromArgs, type KerasObjectSpec, type QuantizedWeightArgs, type QuantizedWeightSpec } from './q-layer-base.js';

export interface QDepthwiseConv2DArgs extends QBiasLayerArgs, ConvGeometryArgs, QuantizedWeightArgs<'depthwise'> {
  depthMultiplier?: number;
  /** QKeras's default is `'he_normal'`. */
  depthwiseInitializer?: KerasObjectSpec;
  /** Deprecated in QKeras and ignored; kept in the config. */
  depthwiseRange?: number | null;
  biasRange?: number | null;
}

/** Quantized depthwise convolution; kernel `[kh, kw, channels, depthMultiplier]`; quantizers `[depthwise, bias]`. */
export class QDepthwiseConv2D extends QBiasLayer {
  static className = 'QDepthwiseConv2D';
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly depthMultiplier: number;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];
  readonly depthwiseRange: number | null;
  readonly biasRange: number | null;
  protected readonly depthwiseSpec: QuantizedWeightSpec;
  depthwiseKernel: tf.LayerVariable | null = null;

  constructor(args: QDepthwiseConv2DArgs) {
    super(args);
    const where = `QDepthwiseConv2D(${this.name})`;
    this.kernelSize = normalizeTuple(args.kernelSize, 2, where, 'kernelSize');
    this.strides = normalizeTuple(args.strides ?? 1, 2, where, 'strides');
    this.padding = normalizePadding(args.padding, where);
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, where, 'depthMultiplier');
    checkChannelsLast(args.dataFormat, where);
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, 2, where, 'dilationRate');
    this.depthwiseRange = args.depthwiseRange ?? null;
    this.biasRange = args.biasRange ?? null;
    this.depthwiseSpec = this.declareWeight('depthwise', weightFromArgs(where, 'depthwise', args, 'he_normal', { weight: true }));
    this.declareBiasAndActivation(where, args);
    this.inputSpec = [{ ndim: 4 }];
  }

  get depthwiseQuantizer(): Quantizer | null {
    return this.depthwiseSpec.slot.quantizer;
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    if (shape.length !== 4) throw new ConfigError(this.name, 'input shape', shape, 'rank 4 [batch, rows, cols, channels]');
    const channels = definedChannels(shape, this.name);
    const kernelShape = [this.kernelSize[0]!, this.kernelSize[1]!, channels, this.depthMultiplier];
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', kernelShape, this.depthwiseSpec);
    this.buildBias([channels * this.depthMultiplier]);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: channels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const shape = singleShape(inputShape, this.name);
    const rows = convOutputLength(shape[1] ?? null, this.kernelSize[0]!, this.padding, this.strides[0]!, this.dilationRate[0]!);
    const cols = convOutputLength(shape[2] ?? null, this.kernelSize[1]!, this.padding, this.strides[1]!, this.dilationRate[1]!);
    const c = shape[3];
    return [shape[0] ?? null, rows, cols, c === null || c === undefined ? null : c * this.depthMultiplier];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => this.preActivation(x, training, kwargs));
  }

  /** The output before the activation, with the quantized weights (the BN-folded layer folds first). */
  protected preActivation(x: tf.Tensor, training: boolean | undefined, _kwargs: Kwargs): tf.Tensor {
    const kernel = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training);
    return this.depthwiseWithBias(x, kernel, this.quantizedBias(training));
  }

  /** The depthwise convolution of `x` with `kernel`, then `bias` when given. */
  protected depthwiseWithBias(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    const y = this.depthwise(x, kernel);
    return bias === null ? y : biasAdd(y, bias);
  }

  /** The depthwise convolution of `x` with `kernel`, no bias. */
  protected depthwise(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const pad = this.padding === 'same' ? 'same' : 'valid';
    const strides = this.strides as [number, number];
    const dilations = this.dilationRate as [number, number];
    return tf.depthwiseConv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides, pad, 'NHWC', dilations);
  }

  override getQuantizationConfig(): Record<string, string> {
    // QKeras's key names for this layer (its get_quantization_config differs from the conv layers').
    return {
      depthwise_quantizer_internal: this.depthwiseSpec.slot.toString(),
      bias_quantizer: this.biasSpec.slot.toString(),
      activation: this.activationQ.toString(),
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      depthMultiplier: this.depthMultiplier,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      ...this.biasLayerConfig(),
      depthwiseRange: this.depthwiseRange,
      biasRange: this.biasRange,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QDepthwiseConv2D);
