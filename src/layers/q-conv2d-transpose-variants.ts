/**
 * QKeras's two grouped transposed convolutions (qseparable_conv2d_transpose.py and
 * qdepthwise_conv2d_transpose.py):
 *
 * - QSeparableConv2DTranspose: a per-channel transposed convolution (kernel `[kh, kw, 1, C]`), the
 *   depthwise activation, then a 1×1 transposed convolution to `filters` channels (kernel
 *   `[1, 1, filters, C]`), bias and the pointwise activation.
 * - QDepthwiseConv2DTranspose: the input channels in groups of `groupSize`, each group transposed-convolved
 *   with its own `[kh, kw, groupSize, groupSize]` slice of the kernel `[kh, kw, C, groupSize]`, then bias
 *   and the depthwise activation; the output has C channels.
 *
 * As in QKeras, both compute each group separately and concatenate, take Keras Conv2DTranspose's kernel
 * initializer/regularizer/constraint for their kernels, and apply no automatic Clip or QInitializer;
 * `depthMultiplier` is stored but not used.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import {
  biasAdd,
  checkChannelsLast,
  deconvOutputLength,
  normalizePadding,
  normalizeTuple,
  positiveInt,
  singleShape,
  singleTensor,
  trainingFlag,
  type ConvGeometryArgs,
  type Kwargs,
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import {
  QLayerWithQuantizers,
  activationSlot,
  quantizedWeight,
  weightFromArgs,
  type KerasObjectSpec,
  type QLayerArgs,
  type QuantizedWeightArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import { serializeKerasObject } from './keras-objects.js';
import type { QuantizerSlot } from './quantizer-slot.js';

interface GroupedTransposeArgs extends QLayerArgs, ConvGeometryArgs, QuantizedWeightArgs<'bias'> {
  filters: number;
  /** Extra rows/columns at the end of the output (Keras's `output_padding`), or null to infer. */
  outputPadding?: number | number[] | null;
  /** Stored for compatibility; QKeras does not use it. */
  depthMultiplier?: number;
  /** Only 1 (tfjs has no dilated transposed convolution). */
  dilationRate?: number | number[];
  depthwiseActivation?: QuantizerSpec;
  useBias?: boolean;
  /** The initializer, regularizer and constraint of both kernels. */
  kernelInitializer?: KerasObjectSpec;
  kernelRegularizer?: KerasObjectSpec;
  kernelConstraint?: KerasObjectSpec;
  depthwiseKernelQuantizer?: QuantizerSpec;
}

/**
 * A kernel of these layers: as in QKeras, its initializer, regularizer and constraint are Keras
 * Conv2DTranspose's `kernel*` ones, with no automatic range.
 */
function kernelWeight(where: string, prefix: string, quantizer: unknown, args: GroupedTransposeArgs): QuantizedWeightSpec {
  return quantizedWeight(
    where,
    prefix,
    {
      quantizer,
      initializer: args.kernelInitializer ?? 'glorot_uniform',
      regularizer: args.kernelRegularizer,
      constraint: args.kernelConstraint,
    },
    { weight: true, autoRange: false },
  );
}

abstract class GroupedTransposeBase extends QLayerWithQuantizers {
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly outputPadding: number[] | null;
  readonly depthMultiplier: number;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];
  readonly useBias: boolean;
  protected readonly depthwiseSpec: QuantizedWeightSpec;
  protected readonly biasSpec: QuantizedWeightSpec;
  protected readonly depthwiseActivationQ: QuantizerSlot;
  depthwiseKernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(args: GroupedTransposeArgs) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.filters = positiveInt(args.filters, where, 'filters');
    this.kernelSize = normalizeTuple(args.kernelSize, 2, where, 'kernelSize');
    this.strides = normalizeTuple(args.strides ?? 1, 2, where, 'strides');
    this.padding = normalizePadding(args.padding, where);
    const op = args.outputPadding ?? null;
    this.outputPadding = op === null ? null : typeof op === 'number' ? [op, op] : op.slice();
    if (this.outputPadding !== null && (this.outputPadding.length !== 2 || this.outputPadding.some((p, i) => !Number.isInteger(p) || p < 0 || p >= this.strides[i]!))) {
      throw new ConfigError(where, 'outputPadding', op, 'null or non-negative integers smaller than the strides');
    }
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, where, 'depthMultiplier');
    checkChannelsLast(args.dataFormat, where);
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, 2, where, 'dilationRate');
    if (this.dilationRate.some((d) => d !== 1)) {
      throw new UnsupportedError(`${where}: dilationRate=${JSON.stringify(args.dilationRate)} is not supported; use 1`);
    }
    this.useBias = args.useBias ?? true;
    this.depthwiseSpec = this.declareWeight('depthwiseKernel', kernelWeight(where, 'depthwiseKernel', args.depthwiseKernelQuantizer, args), 'depthwise_kernel');
    this.biasSpec = this.declareWeight('bias', weightFromArgs(where, 'bias', args, 'zeros', { weight: false, autoRange: false }));
    this.depthwiseActivationQ = this.declareSlot('depthwise_activation', activationSlot(where, args.depthwiseActivation));
    this.inputSpec = [{ ndim: 4 }];
  }

  get depthwiseKernelQuantizer(): Quantizer | null {
    return this.depthwiseSpec.slot.quantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  get depthwiseActivation(): Quantizer | null {
    return this.depthwiseActivationQ.quantizer;
  }

  /** The spatial output size of the transposed convolution for an input of `rows × cols`. */
  protected outputSize(rows: number | null, cols: number | null): [number | null, number | null] {
    const op = this.outputPadding;
    return [
      deconvOutputLength(rows, this.kernelSize[0]!, this.padding, this.strides[0]!, 1, op?.[0] ?? null),
      deconvOutputLength(cols, this.kernelSize[1]!, this.padding, this.strides[1]!, 1, op?.[1] ?? null),
    ];
  }

  /**
   * Transposed convolution of each group of `groupSize` input channels with its kernel slice along
   * `kernelAxis` (`kernel[:, :, g·gs:(g+1)·gs, :]` for axis 2, `kernel[..., g·gs:(g+1)·gs]` for axis 3),
   * concatenated along channels.
   */
  protected groupedTranspose(x: tf.Tensor4D, kernel: tf.Tensor4D, groupSize: number, kernelAxis: 2 | 3): tf.Tensor4D {
    const [batch, rows, cols, channels] = x.shape;
    const [outRows, outCols] = this.outputSize(rows, cols) as [number, number];
    const outShape: [number, number, number, number] = [batch, outRows, outCols, groupSize];
    const pad = this.padding === 'same' ? 'same' : 'valid';
    const groups = channels / groupSize;
    const parts: tf.Tensor4D[] = [];
    for (let g = 0; g < groups; g++) {
      const xg = tf.slice(x, [0, 0, 0, g * groupSize], [-1, -1, -1, groupSize]);
      const begin = [0, 0, 0, 0];
      const size = [-1, -1, -1, -1];
      begin[kernelAxis] = g * groupSize;
      size[kernelAxis] = groupSize;
      const kg = tf.slice(kernel, begin, size) as tf.Tensor4D;
      parts.push(tf.conv2dTranspose(xg, kg, outShape, this.strides as [number, number], pad));
    }
    return tf.concat(parts, 3);
  }

  protected baseConfig(): tf.serialization.ConfigDict {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilationRate: this.dilationRate,
      dataFormat: this.dataFormat,
      depthMultiplier: this.depthMultiplier,
      useBias: this.useBias,
      kernelInitializer: serializeKerasObject(this.depthwiseSpec.initializer),
      kernelRegularizer: serializeKerasObject(this.depthwiseSpec.regularizer),
      kernelConstraint: serializeKerasObject(this.depthwiseSpec.constraint),
      biasInitializer: serializeKerasObject(this.biasSpec.initializer),
      biasRegularizer: serializeKerasObject(this.biasSpec.regularizer),
      biasConstraint: serializeKerasObject(this.biasSpec.constraint),
      depthwiseActivation: this.depthwiseActivationQ.serialize(),
      depthwiseKernelQuantizer: this.depthwiseSpec.slot.serialize(),
      biasQuantizer: this.biasSpec.slot.serialize(),
    } as tf.serialization.ConfigDict;
  }

  /** The end of `build`: the bias (when used) and the input spec with `c` channels. */
  protected finishBuild(c: number): void {
    if (this.useBias) this.bias = this.addQuantizedWeight('bias', [this.filters], this.biasSpec);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: c } }];
    this.built = true;
  }

  /** The output channels for an input with `inputChannels` channels. */
  protected abstract outputChannels(inputChannels: number | null): number | null;

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const s = singleShape(inputShape, this.name);
    const [rows, cols] = this.outputSize(s[1] ?? null, s[2] ?? null);
    return [s[0] ?? null, rows, cols, this.outputChannels(s[3] ?? null)];
  }

  protected channelsOf(inputShape: ShapeArg): number {
    const shape = singleShape(inputShape, this.name);
    const c = shape[3];
    if (shape.length !== 4 || c === null || c === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, 'rank 4 [batch, rows, cols, channels] with known channels');
    }
    return c;
  }
}

export interface QSeparableConv2DTransposeArgs extends GroupedTransposeArgs {
  pointwiseActivation?: QuantizerSpec;
  pointwiseKernelQuantizer?: QuantizerSpec;
}

export class QSeparableConv2DTranspose extends GroupedTransposeBase {
  static className = 'QSeparableConv2DTranspose';
  private readonly pointwiseSpec: QuantizedWeightSpec;
  private readonly pointwiseActivationQ: QuantizerSlot;
  pointwiseKernel: tf.LayerVariable | null = null;

  constructor(args: QSeparableConv2DTransposeArgs) {
    super(args);
    const where = `QSeparableConv2DTranspose(${this.name})`;
    this.pointwiseSpec = kernelWeight(where, 'pointwiseKernel', args.pointwiseKernelQuantizer, args);
    this.pointwiseActivationQ = activationSlot(where, args.pointwiseActivation);
  }

  get pointwiseKernelQuantizer(): Quantizer | null {
    return this.pointwiseSpec.slot.quantizer;
  }
  get pointwiseActivation(): Quantizer | null {
    return this.pointwiseActivationQ.quantizer;
  }

  /** QKeras order: `[depthwise kernel, pointwise kernel, bias, depthwise activation, pointwise activation]`. */
  protected override quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [
      ['depthwise_kernel', this.depthwiseSpec.slot],
      ['pointwise_kernel', this.pointwiseSpec.slot],
      ['bias', this.biasSpec.slot],
      ['depthwise_activation', this.depthwiseActivationQ],
      ['pointwise_activation', this.pointwiseActivationQ],
    ];
  }

  override build(inputShape: ShapeArg): void {
    const c = this.channelsOf(inputShape);
    // The initial weights of both kernels come from the one kernel initializer, as in QKeras.
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', [...this.kernelSize, 1, c], this.depthwiseSpec);
    this.pointwiseKernel = this.addQuantizedWeight('pointwise_kernel', [1, 1, this.filters, c], this.pointwiseSpec);
    this.finishBuild(c);
  }

  protected outputChannels(): number {
    return this.filters;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name) as tf.Tensor4D;
      const training = trainingFlag(kwargs);
      const dw = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training) as tf.Tensor4D;
      let y: tf.Tensor = this.groupedTranspose(x, dw, 1, 3);
      y = this.depthwiseActivationQ.apply(y, training);
      const pw = this.pointwiseSpec.slot.apply(this.pointwiseKernel!.read(), training) as tf.Tensor4D;
      const [batch, rows, cols] = y.shape as [number, number, number, number];
      y = tf.conv2dTranspose(y as tf.Tensor4D, pw, [batch, rows, cols, this.filters], 1, this.padding === 'same' ? 'same' : 'valid');
      if (this.bias !== null) y = biasAdd(y, this.biasSpec.slot.apply(this.bias.read(), training));
      return this.pointwiseActivationQ.apply(y, training);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.baseConfig(),
      pointwiseActivation: this.pointwiseActivationQ.serialize(),
      pointwiseKernelQuantizer: this.pointwiseSpec.slot.serialize(),
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QSeparableConv2DTranspose);

export interface QDepthwiseConv2DTransposeArgs extends GroupedTransposeArgs {
  /** Input channels per group (each group has its own `[kh, kw, groupSize, groupSize]` kernel). */
  groupSize?: number;
}

/** QKeras order of the quantizers: `[depthwise kernel, bias, depthwise activation]`. */
export class QDepthwiseConv2DTranspose extends GroupedTransposeBase {
  static className = 'QDepthwiseConv2DTranspose';
  readonly groupSize: number;

  constructor(args: QDepthwiseConv2DTransposeArgs) {
    super(args);
    this.groupSize = positiveInt(args.groupSize ?? 1, `QDepthwiseConv2DTranspose(${this.name})`, 'groupSize');
  }

  override build(inputShape: ShapeArg): void {
    const c = this.channelsOf(inputShape);
    if (c % this.groupSize !== 0) {
      throw new ConfigError(this.name, 'input channels', c, `a multiple of groupSize=${this.groupSize}`);
    }
    this.depthwiseKernel = this.addQuantizedWeight('depthwise_kernel', [...this.kernelSize, c, this.groupSize], this.depthwiseSpec);
    this.finishBuild(c);
  }

  protected outputChannels(inputChannels: number | null): number | null {
    return inputChannels;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name) as tf.Tensor4D;
      const training = trainingFlag(kwargs);
      const k = this.depthwiseSpec.slot.apply(this.depthwiseKernel!.read(), training) as tf.Tensor4D;
      let y: tf.Tensor = this.groupedTranspose(x, k, this.groupSize, 2);
      if (this.bias !== null) y = biasAdd(y, this.biasSpec.slot.apply(this.bias.read(), training));
      return this.depthwiseActivationQ.apply(y, training);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.baseConfig(), groupSize: this.groupSize, ...super.getConfig() } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QDepthwiseConv2DTranspose);
