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
  normalizePadding,
  normalizeTuple,
  positiveInt,
  singleShape,
  singleTensor,
  trainingFlag,
  type Kwargs,
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import {
  QLayer,
  activationConfig,
  activationSlot,
  quantizedWeight,
  weightConfig,
  type KerasObjectSpec,
  type QLayerArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import type { QuantizerSlot } from './quantizer-slot.js';

export interface QDepthwiseConv2DArgs extends QLayerArgs {
  kernelSize: number | number[];
  strides?: number | number[];
  /** `'valid'` (QKeras writes `'VALID'`) or `'same'`. */
  padding?: string;
  depthMultiplier?: number;
  /** Only channels-last is supported. */
  dataFormat?: string;
  activation?: QuantizerSpec;
  useBias?: boolean;
  /** QKeras's default is `'he_normal'`. */
  depthwiseInitializer?: KerasObjectSpec;
  biasInitializer?: KerasObjectSpec;
  depthwiseRegularizer?: KerasObjectSpec;
  biasRegularizer?: KerasObjectSpec;
  depthwiseConstraint?: KerasObjectSpec;
  biasConstraint?: KerasObjectSpec;
  dilationRate?: number | number[];
  depthwiseQuantizer?: QuantizerSpec;
  biasQuantizer?: QuantizerSpec;
  /** Deprecated in QKeras and ignored; kept in the config. */
  depthwiseRange?: number | null;
  biasRange?: number | null;
}

/** Quantized depthwise convolution; kernel `[kh, kw, channels, depthMultiplier]`. */
export class QDepthwiseConv2D extends QLayer {
  static className = 'QDepthwiseConv2D';
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly depthMultiplier: number;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];
  readonly useBias: boolean;
  readonly depthwiseRange: number | null;
  readonly biasRange: number | null;
  private readonly depthwiseSpec: QuantizedWeightSpec;
  private readonly biasSpec: QuantizedWeightSpec;
  private readonly activationQ: QuantizerSlot;
  depthwiseKernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(args: QDepthwiseConv2DArgs) {
    super(args);
    const where = `QDepthwiseConv2D(${this.name})`;
    this.kernelSize = normalizeTuple(args.kernelSize, 2, where, 'kernelSize');
    this.strides = normalizeTuple(args.strides ?? 1, 2, where, 'strides');
    this.padding = normalizePadding(args.padding, where);
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, where, 'depthMultiplier');
    checkChannelsLast(args.dataFormat, where);
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, 2, where, 'dilationRate');
    this.useBias = args.useBias ?? true;
    this.depthwiseRange = args.depthwiseRange ?? null;
    this.biasRange = args.biasRange ?? null;
    this.depthwiseSpec = quantizedWeight(
      where,
      'depthwise',
      {
        quantizer: args.depthwiseQuantizer,
        initializer: args.depthwiseInitializer ?? 'he_normal',
        regularizer: args.depthwiseRegularizer,
        constraint: args.depthwiseConstraint,
      },
      { weight: true },
    );
    this.biasSpec = quantizedWeight(
      where,
      'bias',
      {
        quantizer: args.biasQuantizer,
        initializer: args.biasInitializer ?? 'zeros',
        regularizer: args.biasRegularizer,
        constraint: args.biasConstraint,
      },
      { weight: false, autoRange: this.useBias },
    );
    this.activationQ = activationSlot(where, args.activation);
    this.inputSpec = [{ ndim: 4 }];
  }

  get depthwiseQuantizer(): Quantizer | null {
    return this.depthwiseSpec.slot.quantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** QKeras order: `[depthwise, bias]`. */
  getQuantizers(): (Quantizer | null)[] {
    return this.slotQuantizers();
  }

  protected quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [
      ['depthwise', this.depthwiseSpec.slot],
      ['bias', this.biasSpec.slot],
    ];
  }

  protected override activationSlotOrNull(): QuantizerSlot {
    return this.activationQ;
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    if (shape.length !== 4) throw new ConfigError(this.name, 'input shape', shape, 'rank 4 [batch, rows, cols, channels]');
    const channels = shape[3];
    if (channels === null || channels === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, 'a defined channel (last) dimension');
    }
    const d = this.depthwiseSpec;
    const kernelShape = [this.kernelSize[0]!, this.kernelSize[1]!, channels, this.depthMultiplier];
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', kernelShape, d);
    if (this.useBias) {
      const b = this.biasSpec;
      this.bias = this.addQuantizedWeight('bias', [channels * this.depthMultiplier], b);
    }
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
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name) as tf.Tensor4D;
      const training = trainingFlag(kwargs);
      const kernel = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training) as tf.Tensor4D;
      const pad = this.padding === 'same' ? 'same' : 'valid';
      let y: tf.Tensor = tf.depthwiseConv2d(x, kernel, this.strides as [number, number], pad, 'NHWC', this.dilationRate as [number, number]);
      if (this.bias !== null) y = biasAdd(y, this.biasSpec.slot.apply(this.bias.read(), training));
      return this.activationQ.apply(y, training);
    });
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
      activation: activationConfig(this.activationQ),
      useBias: this.useBias,
      ...weightConfig('depthwise', this.depthwiseSpec),
      ...weightConfig('bias', this.biasSpec),
      depthwiseRange: this.depthwiseRange,
      biasRange: this.biasRange,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QDepthwiseConv2D);
