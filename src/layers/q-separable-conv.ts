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
  convGeometryConfig,
  convOutputShape,
  definedChannels,
  positiveInt,
  readConvGeometry,
  singleShape,
  type ConvGeometryArgs,
  type Kwargs,
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import { QBiasLayer, type QBiasLayerArgs } from './q-bias-layer.js';
import { weightFromArgs, type QuantizedWeightArgs, type QuantizedWeightSpec } from './q-layer-base.js';

export interface QSeparableConvArgs extends QBiasLayerArgs, ConvGeometryArgs, QuantizedWeightArgs<'depthwise' | 'pointwise'> {
  filters: number;
  depthMultiplier?: number;
}

/** What the two separable convolutions share; QKeras order of the quantizers: `[depthwise, pointwise, bias]`. */
abstract class QSeparableConvBase extends QBiasLayer {
  readonly rank: number;
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];
  readonly depthMultiplier: number;
  protected readonly depthwiseSpec: QuantizedWeightSpec;
  protected readonly pointwiseSpec: QuantizedWeightSpec;
  depthwiseKernel: tf.LayerVariable | null = null;
  pointwiseKernel: tf.LayerVariable | null = null;

  constructor(rank: number, args: QSeparableConvArgs) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.rank = rank;
    this.filters = positiveInt(args.filters, where, 'filters');
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } =
      readConvGeometry(args, rank, where, rank === 1));
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, where, 'depthMultiplier');
    const kernel = { weight: true };
    this.depthwiseSpec = this.declareWeight('depthwise', weightFromArgs(where, 'depthwise', args, 'glorot_uniform', kernel));
    this.pointwiseSpec = this.declareWeight('pointwise', weightFromArgs(where, 'pointwise', args, 'glorot_uniform', kernel));
    this.declareBiasAndActivation(where, args);
    this.inputSpec = [{ ndim: rank + 2 }];
  }

  get depthwiseQuantizer(): Quantizer | null {
    return this.depthwiseSpec.slot.quantizer;
  }
  get pointwiseQuantizer(): Quantizer | null {
    return this.pointwiseSpec.slot.quantizer;
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    if (shape.length !== this.rank + 2) {
      throw new ConfigError(this.name, 'input shape', shape, `rank ${this.rank + 2} (channels last)`);
    }
    const channels = definedChannels(shape, this.name);
    const ones = new Array<number>(this.rank).fill(1);
    const d = this.depthwiseSpec;
    const p = this.pointwiseSpec;
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', [...this.kernelSize, channels, this.depthMultiplier], d);
    this.pointwiseKernel = this.addQuantizedWeight('pointwise_kernel', [...ones, channels * this.depthMultiplier, this.filters], p);
    this.buildBias([this.filters]);
    this.inputSpec = [{ ndim: this.rank + 2, axes: { [-1]: channels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return convOutputShape(singleShape(inputShape, this.name), this, this.filters);
  }

  /** The separable convolution proper, on NHWC input with 4-D kernels. */
  protected abstract convolve(x: tf.Tensor, depthwise: tf.Tensor, pointwise: tf.Tensor): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => {
      const dw = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training);
      const pw = this.pointwiseSpec.slot.apply(this.pointwiseKernel!.read(), training);
      const y = this.convolve(x, dw, pw);
      const bias = this.quantizedBias(training);
      return bias === null ? y : biasAdd(y, bias);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...convGeometryConfig(this),
      depthMultiplier: this.depthMultiplier,
      ...this.biasLayerConfig(),
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
