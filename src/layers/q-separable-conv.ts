/**
 * QSeparableConv1D and QSeparableConv2D: Keras's depthwise-separable convolutions with quantized
 * depthwise and pointwise kernels and bias. As in QKeras, nothing is quantized between the depthwise and
 * the pointwise step. The 1-D layer runs the 2-D op on a height-1 image, as Keras does.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import {
  biasAdd,
  causalPad,
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

export interface QSeparableConvArgs extends QLayerArgs {
  filters: number;
  kernelSize: number | number[];
  strides?: number | number[];
  /** `'valid'`, `'same'` (and `'causal'` for the 1-D layer). */
  padding?: string;
  /** Only channels-last is supported. */
  dataFormat?: string;
  dilationRate?: number | number[];
  depthMultiplier?: number;
  activation?: QuantizerSpec;
  useBias?: boolean;
  depthwiseInitializer?: KerasObjectSpec;
  pointwiseInitializer?: KerasObjectSpec;
  biasInitializer?: KerasObjectSpec;
  depthwiseRegularizer?: KerasObjectSpec;
  pointwiseRegularizer?: KerasObjectSpec;
  biasRegularizer?: KerasObjectSpec;
  depthwiseConstraint?: KerasObjectSpec;
  pointwiseConstraint?: KerasObjectSpec;
  biasConstraint?: KerasObjectSpec;
  depthwiseQuantizer?: QuantizerSpec;
  pointwiseQuantizer?: QuantizerSpec;
  biasQuantizer?: QuantizerSpec;
}

abstract class QSeparableConvBase extends QLayer {
  readonly rank: number;
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  protected readonly depthwiseSpec: QuantizedWeightSpec;
  protected readonly pointwiseSpec: QuantizedWeightSpec;
  protected readonly biasSpec: QuantizedWeightSpec;
  protected readonly activationQ: QuantizerSlot;
  depthwiseKernel: tf.LayerVariable | null = null;
  pointwiseKernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(rank: number, args: QSeparableConvArgs) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.rank = rank;
    this.filters = positiveInt(args.filters, where, 'filters');
    this.kernelSize = normalizeTuple(args.kernelSize, rank, where, 'kernelSize');
    this.strides = normalizeTuple(args.strides ?? 1, rank, where, 'strides');
    this.padding = normalizePadding(args.padding, where, rank === 1);
    checkChannelsLast(args.dataFormat, where);
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, rank, where, 'dilationRate');
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, where, 'depthMultiplier');
    this.useBias = args.useBias ?? true;
    this.depthwiseSpec = quantizedWeight(
      where,
      'depthwise',
      {
        quantizer: args.depthwiseQuantizer,
        initializer: args.depthwiseInitializer ?? 'glorot_uniform',
        regularizer: args.depthwiseRegularizer,
        constraint: args.depthwiseConstraint,
      },
      { weight: true },
    );
    this.pointwiseSpec = quantizedWeight(
      where,
      'pointwise',
      {
        quantizer: args.pointwiseQuantizer,
        initializer: args.pointwiseInitializer ?? 'glorot_uniform',
        regularizer: args.pointwiseRegularizer,
        constraint: args.pointwiseConstraint,
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
    this.inputSpec = [{ ndim: rank + 2 }];
  }

  get depthwiseQuantizer(): Quantizer | null {
    return this.depthwiseSpec.slot.quantizer;
  }
  get pointwiseQuantizer(): Quantizer | null {
    return this.pointwiseSpec.slot.quantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** QKeras order: `[depthwise, pointwise, bias]`. */
  getQuantizers(): (Quantizer | null)[] {
    return this.slotQuantizers();
  }

  protected quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [
      ['depthwise', this.depthwiseSpec.slot],
      ['pointwise', this.pointwiseSpec.slot],
      ['bias', this.biasSpec.slot],
    ];
  }

  protected override activationSlotOrNull(): QuantizerSlot {
    return this.activationQ;
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    if (shape.length !== this.rank + 2) {
      throw new ConfigError(this.name, 'input shape', shape, `rank ${this.rank + 2} (channels last)`);
    }
    const channels = shape[shape.length - 1];
    if (channels === null || channels === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, 'a defined channel (last) dimension');
    }
    const ones = new Array<number>(this.rank).fill(1);
    const d = this.depthwiseSpec;
    const p = this.pointwiseSpec;
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', [...this.kernelSize, channels, this.depthMultiplier], d);
    this.pointwiseKernel = this.addQuantizedWeight('pointwise_kernel', [...ones, channels * this.depthMultiplier, this.filters], p);
    if (this.useBias) {
      const b = this.biasSpec;
      this.bias = this.addQuantizedWeight('bias', [this.filters], b);
    }
    this.inputSpec = [{ ndim: this.rank + 2, axes: { [-1]: channels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const shape = singleShape(inputShape, this.name);
    const space = shape.slice(1, -1).map((len, i) =>
      convOutputLength(len, this.kernelSize[i]!, this.padding, this.strides[i]!, this.dilationRate[i]!),
    );
    return [shape[0] ?? null, ...space, this.filters];
  }

  /** The separable convolution proper, on NHWC input with 4-D kernels. */
  protected abstract convolve(x: tf.Tensor, depthwise: tf.Tensor, pointwise: tf.Tensor): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const training = trainingFlag(kwargs);
      const dw = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training);
      const pw = this.pointwiseSpec.slot.apply(this.pointwiseKernel!.read(), training);
      let y = this.convolve(x, dw, pw);
      if (this.bias !== null) y = biasAdd(y, this.biasSpec.slot.apply(this.bias.read(), training));
      return this.activationQ.apply(y, training);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      depthMultiplier: this.depthMultiplier,
      activation: activationConfig(this.activationQ),
      useBias: this.useBias,
      ...weightConfig('depthwise', this.depthwiseSpec),
      ...weightConfig('pointwise', this.pointwiseSpec),
      ...weightConfig('bias', this.biasSpec),
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}

export type QSeparableConv2DArgs = QSeparableConvArgs;

/** Quantized separable 2-D convolution; kernels `[kh, kw, C, dm]` and `[1, 1, C·dm, filters]`. */
export class QSeparableConv2D extends QSeparableConvBase {
  static className = 'QSeparableConv2D';

  constructor(args: QSeparableConv2DArgs) {
    super(2, args);
  }

  protected convolve(x: tf.Tensor, depthwise: tf.Tensor, pointwise: tf.Tensor): tf.Tensor {
    return tf.separableConv2d(
      x as tf.Tensor4D,
      depthwise as tf.Tensor4D,
      pointwise as tf.Tensor4D,
      this.strides as [number, number],
      this.padding === 'same' ? 'same' : 'valid',
      this.dilationRate as [number, number],
      'NHWC',
    );
  }
}
tf.serialization.registerClass(QSeparableConv2D);

export type QSeparableConv1DArgs = QSeparableConvArgs;

/** Quantized separable 1-D convolution; kernels `[k, C, dm]` and `[1, C·dm, filters]`. */
export class QSeparableConv1D extends QSeparableConvBase {
  static className = 'QSeparableConv1D';

  constructor(args: QSeparableConv1DArgs) {
    super(1, args);
  }

  protected convolve(x: tf.Tensor, depthwise: tf.Tensor, pointwise: tf.Tensor): tf.Tensor {
    let input = x;
    if (this.padding === 'causal') input = causalPad(input, this.kernelSize[0]!, this.dilationRate[0]!);
    // [batch, steps, C] → [batch, 1, steps, C]; kernels gain a leading height-1 axis.
    const y = tf.separableConv2d(
      tf.expandDims(input, 1) as tf.Tensor4D,
      tf.expandDims(depthwise, 0) as tf.Tensor4D,
      tf.expandDims(pointwise, 0) as tf.Tensor4D,
      [1, this.strides[0]!],
      this.padding === 'same' ? 'same' : 'valid',
      [1, this.dilationRate[0]!],
      'NHWC',
    );
    return tf.squeeze(y, [1]);
  }
}
tf.serialization.registerClass(QSeparableConv1D);
