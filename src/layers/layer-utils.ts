/**
 * Small shape, argument and tensor helpers shared by the Q layers. The Q layers are written on top of
 * `tf.layers.Layer` (tfjs-layers does not export its Dense/Conv classes), so the bits of tfjs's own layer
 * plumbing they need — tuple normalisation, output-length arithmetic, bias broadcasting — live here,
 * written to give the same shapes and the same float32 results as tfjs's layers.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedError } from '../errors.js';

/** tfjs's keyword arguments of `Layer.call` (`training`, `mask`, ...). */
export type Kwargs = Parameters<tf.layers.Layer['call']>[1];
/** The constructor arguments every tfjs layer accepts (`name`, `inputShape`, `trainable`, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** One (possibly partially known) tensor shape, batch dimension first. */
export type LayerShape = (number | null)[];
/** What `build`/`computeOutputShape` receive: one shape or a list of them. */
export type ShapeArg = Parameters<tf.layers.Layer['computeOutputShape']>[0];

export type Padding = 'valid' | 'same' | 'causal';

/** The geometry arguments of the convolution layers (camelCase of Keras's). */
export interface ConvGeometryArgs {
  kernelSize: number | number[];
  strides?: number | number[];
  /** `'valid'` (QKeras writes `'VALID'`), `'same'`, and `'causal'` for the 1-D layers. */
  padding?: string;
  /** Only channels-last is supported. */
  dataFormat?: string;
  dilationRate?: number | number[];
}

/** The training flag from a layer call's keyword arguments; undefined means "use the global phase". */
export function trainingFlag(kwargs: Kwargs | undefined): boolean | undefined {
  const t: unknown = kwargs?.['training'];
  return typeof t === 'boolean' ? t : undefined;
}

/** The single tensor of a layer call (the Q layers all take exactly one input). */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[], where: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new ConfigError(where, 'inputs', `${inputs.length} tensors`, 'exactly one input tensor');
    return inputs[0]!;
  }
  return inputs;
}

/** The single shape of a build/computeOutputShape call. */
export function singleShape(shape: ShapeArg, where: string): LayerShape {
  if (shape.length > 0 && Array.isArray(shape[0])) {
    const shapes = shape as LayerShape[];
    if (shapes.length !== 1) throw new ConfigError(where, 'input shapes', shapes, 'exactly one input');
    return shapes[0]!.slice();
  }
  return (shape as LayerShape).slice();
}

/**
 * Normalises an int-or-tuple argument (`kernelSize: 3` or `[3, 3]`) to a tuple of `n` positive integers,
 * as Keras's `conv_utils.normalize_tuple` does.
 */
export function normalizeTuple(value: unknown, n: number, where: string, field: string): number[] {
  const allowed = n === 1 ? 'a positive integer or a list of one' : `a positive integer or a list of ${n}`;
  const arr = typeof value === 'number' ? new Array<number>(n).fill(value) : value;
  if (!Array.isArray(arr) || arr.length !== n) throw new ConfigError(where, field, value, `${allowed} positive integers`);
  for (const v of arr) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new ConfigError(where, field, value, `${allowed} positive integers`);
    }
  }
  return arr.slice() as number[];
}

export function positiveInt(value: unknown, where: string, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(where, field, value, 'a positive integer');
  }
  return value;
}

/** Accepts Keras's and tfjs's spellings (`'VALID'`, `'same'`); `causal` only where the layer allows it. */
export function normalizePadding(value: unknown, where: string, allowCausal = false): Padding {
  const p = value === undefined || value === null ? 'valid' : typeof value === 'string' ? value.toLowerCase() : value;
  if (p === 'valid' || p === 'same' || (allowCausal && p === 'causal')) return p;
  throw new ConfigError(where, 'padding', value, allowCausal ? "'valid', 'same' or 'causal'" : "'valid' or 'same'");
}

/**
 * Only channels-last is supported: it is the layout QKeras's own tests and every hardware back-end here
 * use, and TensorFlow's CPU kernels reject channels-first pooling anyway (QKeras's pooling test expects
 * that failure).
 */
export function checkChannelsLast(value: unknown, where: string): 'channelsLast' {
  if (value === undefined || value === null || value === 'channels_last' || value === 'channelsLast') {
    return 'channelsLast';
  }
  if (value === 'channels_first' || value === 'channelsFirst') {
    throw new UnsupportedError(
      `${where}: dataFormat=${JSON.stringify(value)} is not supported; only 'channels_last' ` +
        '(NHWC) layouts are implemented. Transpose the input to channels-last instead.',
    );
  }
  throw new ConfigError(where, 'dataFormat', value, "'channels_last' (or tfjs's 'channelsLast')");
}

/** Keras's `conv_output_length`. */
export function convOutputLength(
  length: number | null,
  kernel: number,
  padding: Padding,
  stride: number,
  dilation = 1,
): number | null {
  if (length === null) return null;
  const dilated = kernel + (kernel - 1) * (dilation - 1);
  const out = padding === 'valid' ? length - dilated + 1 : length; // 'same' and 'causal' keep the length
  return Math.floor((out + stride - 1) / stride);
}

/** The channel (last) dimension of a channels-last input shape, which must be known. */
export function definedChannels(shape: LayerShape, where: string): number {
  const channels = shape[shape.length - 1];
  if (channels === null || channels === undefined) {
    throw new ConfigError(where, 'input shape', shape, 'a defined channel (last) dimension');
  }
  return channels;
}

/** The validated geometry of a convolution (spatial tuples of its rank). */
export interface ConvGeometry {
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dilationRate: number[];
}

/** Reads and checks `kernelSize`, `strides`, `padding`, `dataFormat` (channels last) and `dilationRate`. */
export function readConvGeometry(args: ConvGeometryArgs, rank: number, where: string, allowCausal: boolean): ConvGeometry {
  const kernelSize = normalizeTuple(args.kernelSize, rank, where, 'kernelSize');
  const strides = normalizeTuple(args.strides ?? 1, rank, where, 'strides');
  const padding = normalizePadding(args.padding, where, allowCausal);
  checkChannelsLast(args.dataFormat, where);
  const dilationRate = normalizeTuple(args.dilationRate ?? 1, rank, where, 'dilationRate');
  return { kernelSize, strides, padding, dilationRate };
}

/** The output shape of a channels-last convolution with `filters` output channels. */
export function convOutputShape(inputShape: LayerShape, g: ConvGeometry, filters: number): LayerShape {
  const space = inputShape.slice(1, -1).map((len, i) =>
    convOutputLength(len, g.kernelSize[i]!, g.padding, g.strides[i]!, g.dilationRate[i]!),
  );
  return [inputShape[0] ?? null, ...space, filters];
}

/** The config entries of a convolution's filters and geometry, in Keras's order. */
export function convGeometryConfig(l: ConvGeometry & { filters: number; dataFormat: string }): tf.serialization.ConfigDict {
  const { filters, kernelSize, strides, padding, dataFormat, dilationRate } = l;
  return { filters, kernelSize, strides, padding, dataFormat, dilationRate };
}

/**
 * Keras's `deconv_output_length`: inferred from the input length when `outputPadding` is null, else
 * `(length - 1) * stride + kernel - 2 * pad + outputPadding` with `pad = floor(kernel / 2)` for 'same'.
 */
export function deconvOutputLength(
  length: number | null,
  kernel: number,
  padding: Padding,
  stride: number,
  dilation = 1,
  outputPadding: number | null = null,
): number | null {
  if (length === null) return null;
  const dilated = kernel + (kernel - 1) * (dilation - 1);
  if (outputPadding === null) {
    return padding === 'valid' ? length * stride + Math.max(dilated - stride, 0) : length * stride;
  }
  const pad = padding === 'same' ? Math.floor(dilated / 2) : 0;
  return (length - 1) * stride + dilated - 2 * pad + outputPadding;
}

/** `K.bias_add` for channels-last: the bias is broadcast over every axis but the last. */
export function biasAdd(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const shape = new Array<number>(x.rank).fill(1);
  shape[x.rank - 1] = bias.shape[0]!;
  return tf.add(x, tf.reshape(bias, shape));
}

/**
 * Left-pads the time axis of a `[batch, time, channels]` tensor for Keras's `causal` padding, so that a
 * 'valid' convolution afterwards sees only past samples.
 */
export function causalPad(x: tf.Tensor, kernel: number, dilation: number): tf.Tensor {
  const left = dilation * (kernel - 1);
  return tf.pad(x, [
    [0, 0],
    [left, 0],
    [0, 0],
  ]);
}
