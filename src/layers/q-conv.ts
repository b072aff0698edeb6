/**
 * QConv1D and QConv2D: Keras's convolutions with a quantized kernel and bias and a quantizer (or Keras)
 * activation. QConv2D also takes QKeras's `mask` (multiplied into the quantized kernel) and Keras's
 * `groups`. `QConvBase` holds what they and QConv2DTranspose share.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
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
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import { QKernelLayer, type QKernelLayerArgs } from './q-bias-layer.js';
import { inputGradientUnused } from './weight-gradient-step.js';

/** Arguments shared by QConv1D, QConv2D and QConv2DTranspose (camelCase of QKeras's). */
export interface QConvArgs extends QKernelLayerArgs, ConvGeometryArgs {
  filters: number;
}

/**
 * The common part of the quantized convolutions: arguments, weights, quantizers (QKeras order
 * `[kernel, bias]`), config. Subclasses supply the kernel shape, the output shape and the convolution.
 */
export abstract class QConvBase extends QKernelLayer {
  readonly rank: number;
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dataFormat = 'channelsLast' as const;
  readonly dilationRate: number[];

  constructor(
    rank: number,
    args: QConvArgs,
    defaults: { kernelInitializer: string; allowCausal: boolean },
  ) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.rank = rank;
    this.filters = positiveInt(args.filters, where, 'filters');
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } =
      readConvGeometry(args, rank, where, defaults.allowCausal));
    this.declareKernelBias(where, args, defaults.kernelInitializer);
    this.inputSpec = [{ ndim: rank + 2 }];
  }

  override getQuantizationConfig(): Record<string, string> {
    return { ...super.getQuantizationConfig(), filters: String(this.filters) };
  }

  /** The kernel's shape for an input with `inputChannels` channels. */
  protected abstract kernelShape(inputChannels: number): number[];
  /** The convolution of `x` with the (quantized) kernel, bias not included. */
  protected abstract convolve(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor;

  protected applyKernel(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    return this.convolve(x, kernel, bias);
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const channels = definedChannels(shape, this.name);
    this.buildKernelBias(this.kernelShape(channels), [this.filters]);
    this.inputSpec = [{ ndim: this.rank + 2, axes: { [-1]: channels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return convOutputShape(singleShape(inputShape, this.name), this, this.filters);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...convGeometryConfig(this), ...this.kernelLayerConfig(), ...super.getConfig() } as tf.serialization.ConfigDict;
  }
}

export type QConv1DArgs = QConvArgs;

/** Quantized 1-D convolution over `[batch, steps, channels]`; padding `'valid'`, `'same'` or `'causal'`. */
export class QConv1D extends QConvBase {
  static className = 'QConv1D';

  constructor(args: QConv1DArgs) {
    super(1, args, { kernelInitializer: 'he_normal', allowCausal: true });
  }

  protected kernelShape(inputChannels: number): number[] {
    return [this.kernelSize[0]!, inputChannels, this.filters];
  }

  protected convolve(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    let input = x as tf.Tensor3D;
    let pad: 'valid' | 'same' = this.padding === 'same' ? 'same' : 'valid';
    if (this.padding === 'causal') {
      input = causalPad(input, this.kernelSize[0]!, this.dilationRate[0]!) as tf.Tensor3D;
      pad = 'valid';
    }
    const y = tf.conv1d(input, kernel as tf.Tensor3D, this.strides[0]!, pad, 'NWC', this.dilationRate[0]!);
    return bias === null ? y : biasAdd(y, bias);
  }
}
tf.serialization.registerClass(QConv1D);

export interface QConv2DArgs extends QConvArgs {
  /**
   * QKeras's kernel mask: a `[kh, kw]` array (or any nesting with kh·kw numbers, e.g. the `[kh, kw, 1, 1]`
   * list QKeras serialises) multiplied into the quantized kernel. Adds no weights.
   */
  mask?: unknown;
  /** Keras's grouped convolution: input channels and filters split into `groups` independent groups. */
  groups?: number;
}

function flatNumbers(v: unknown, out: number[]): boolean {
  if (typeof v === 'number') {
    out.push(v);
    return true;
  }
  return Array.isArray(v) && v.every((e) => flatNumbers(e, out));
}

/** Reads QKeras's mask into `{h, w, values}` (row-major), checking its rank and size. */
function readMask(mask: unknown, where: string): { h: number; w: number; values: number[] } | null {
  if (mask === undefined || mask === null) return null;
  const allowed = 'a nested numeric array of rank >= 2 whose first two dimensions hold all its values';
  const values: number[] = [];
  if (!Array.isArray(mask) || !Array.isArray(mask[0]) || !flatNumbers(mask, values)) {
    throw new ConfigError(where, 'mask', mask, allowed);
  }
  const h = mask.length;
  const w = (mask[0] as unknown[]).length;
  if (h * w !== values.length) throw new ConfigError(where, 'mask', mask, allowed);
  return { h, w, values };
}

/**
 * tfjs's fused conv2d with its bias — the same FusedConv2D kernel forward, and backward the same kernels
 * for the filter's and the bias's gradients (Conv2DBackpropFilter; the sum of dy over all but the channel
 * axis) — except that the input's gradient is a zeros placeholder instead of Conv2DBackpropInput. Only
 * for a step whose gradients nobody takes with respect to this input (./weight-gradient-step.ts).
 */
function fusedConv2dWeightGradients(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor | null,
  strides: [number, number],
  pad: 'valid' | 'same',
  dilations: [number, number],
): tf.Tensor4D {
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations, activation: 'linear' } as unknown as tf.NamedAttrMap;
  const run = (inputs: tf.NamedTensorMap): tf.Tensor4D => tf.engine().runKernel(tf.FusedConv2D, inputs, attrs) as tf.Tensor4D;
  const filterGrad = (xs: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D =>
    tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xs, dy }, { strides, pad, dataFormat: 'NHWC', filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  // customGrad's callback takes (...inputs, save): x, the filter and, when there is one, the bias.
  const op = tf.customGrad((...args) => {
    const [xs, f] = args as [tf.Tensor4D, tf.Tensor4D];
    const b = bias === null ? undefined : (args[2] as tf.Tensor);
    return {
      value: run(b === undefined ? { x: xs, filter: f } : { x: xs, filter: f, bias: b }),
      gradFunc: (dy: tf.Tensor) => {
        const grads: tf.Tensor[] = [tf.zerosLike(xs), filterGrad(xs, dy as tf.Tensor4D)];
        if (b !== undefined) {
          // tfjs's fused bias gradient: dy summed over the axes the bias is broadcast along.
          const axes = tf.backend_util.getReductionAxes(b.shape, dy.shape);
          grads.push(tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, [...b.shape]));
        }
        return grads;
      },
    };
  });
  return (bias === null ? op(x, filter) : op(x, filter, bias)) as tf.Tensor4D;
}

/** Quantized 2-D convolution over `[batch, rows, cols, channels]`. */
export class QConv2D extends QConvBase {
  static className = 'QConv2D';
  readonly groups: number;
  private readonly maskData: { h: number; w: number; values: number[] } | null;

  constructor(args: QConv2DArgs) {
    super(2, args, { kernelInitializer: 'he_normal', allowCausal: false });
    const where = `QConv2D(${this.name})`;
    this.groups = positiveInt(args.groups ?? 1, where, 'groups');
    if (this.filters % this.groups !== 0) {
      throw new ConfigError(where, 'groups', this.groups, `a divisor of filters=${this.filters}`);
    }
    this.maskData = readMask(args.mask, where);
  }

  /** The mask as QKeras stores it, `[kh, kw, 1, 1]`, or null. */
  get mask(): number[][][][] | null {
    const m = this.maskData;
    if (m === null) return null;
    return Array.from({ length: m.h }, (_, i) => Array.from({ length: m.w }, (_, j) => [[m.values[i * m.w + j]!]]));
  }

  protected kernelShape(inputChannels: number): number[] {
    if (inputChannels % this.groups !== 0) {
      throw new ConfigError(this.name, 'input channels', inputChannels, `a multiple of groups=${this.groups}`);
    }
    return [this.kernelSize[0]!, this.kernelSize[1]!, inputChannels / this.groups, this.filters];
  }

  protected override quantizedKernel(training: boolean | undefined): tf.Tensor {
    const k = super.quantizedKernel(training);
    const m = this.maskData;
    if (m === null) return k;
    return tf.mul(k, tf.tensor4d(m.values, [m.h, m.w, 1, 1]));
  }

  protected convolve(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    const pad = this.padding === 'same' ? 'same' : 'valid';
    const strides = this.strides as [number, number];
    const dilations = this.dilationRate as [number, number];
    if (this.groups === 1) {
      if (inputGradientUnused(this)) return fusedConv2dWeightGradients(x as tf.Tensor4D, kernel as tf.Tensor4D, bias, strides, pad, dilations);
      // tfjs's Conv2D layer runs the fused op with the bias; doing the same keeps results identical.
      return tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: kernel as tf.Tensor4D,
        strides,
        pad,
        dataFormat: 'NHWC',
        dilations,
        bias: bias ?? undefined,
      });
    }
    // Grouped: group g sees input channels [g·Cin/G, (g+1)·Cin/G) and produces filters [g·F/G, (g+1)·F/G).
    const xs = tf.split(x, this.groups, 3);
    const ks = tf.split(kernel, this.groups, 3);
    const ys = xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ks[g] as tf.Tensor4D, strides, pad, 'NHWC', dilations));
    const y = tf.concat(ys, 3);
    return bias === null ? y : biasAdd(y, bias);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, mask: this.mask } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QConv2D);
