/**
 * QAveragePooling2D and QGlobalAveragePooling2D: average pooling whose division is a multiplication by
 * the quantized reciprocal of the pool area, as hardware does it, followed by an optional quantizer
 * activation.
 *
 * With an `averageQuantizer`, QAveragePooling2D computes `avgpool(x * area) * q(1/area)` (scaling before
 * averaging keeps the sum exact; with 'same' padding edge windows are still divided by their count of
 * valid cells, as TensorFlow does), and QGlobalAveragePooling2D `sum(x over H, W) * q(1/(H·W))`. Without
 * one they are plain Keras average pooling.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import {
  checkChannelsLast,
  convOutputLength,
  normalizePadding,
  normalizeTuple,
  singleShape,
  type Kwargs,
  type LayerShape,
  type Padding,
  type ShapeArg,
} from './layer-utils.js';
import { QLayerWithQuantizers, type QLayerArgs, type QuantizerSpec } from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

export interface QAveragePooling2DArgs extends QLayerArgs {
  poolSize?: number | number[];
  /** Defaults to `poolSize`. */
  strides?: number | number[] | null;
  padding?: string;
  /** Only channels-last is supported. */
  dataFormat?: string;
  /** Quantizes the reciprocal of the pool area. */
  averageQuantizer?: QuantizerSpec;
  activation?: QuantizerSpec;
}

/** The reciprocal of the pool area through the average quantizer, as a float32 scalar. */
function quantizedReciprocal(slot: QuantizerSlot, area: number, training: boolean | undefined): tf.Tensor {
  return tf.cast(slot.apply(tf.scalar(1 / area), training), 'float32');
}

/** What the two pooling layers share: the average quantizer (QKeras order `[average]`) and the activation. */
abstract class QPoolingBase extends QLayerWithQuantizers {
  protected averageSlot!: QuantizerSlot;
  protected activationQ!: QuantizerSlot;

  get averageQuantizer(): Quantizer | null {
    return this.averageSlot.quantizer;
  }
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** Declares the average quantizer and the activation from the arguments. */
  protected declareQuantizers(where: string, args: { averageQuantizer?: QuantizerSpec; activation?: QuantizerSpec }): void {
    this.averageSlot = this.declareSlot('average', new QuantizerSlot(where, 'averageQuantizer', args.averageQuantizer));
    this.activationQ = this.declareActivation(where, args.activation);
  }

  /** The config entries of the quantizers. */
  protected quantizersConfig(): tf.serialization.ConfigDict {
    return { averageQuantizer: this.averageSlot.serialize(), activation: this.activationQ.serialize() } as tf.serialization.ConfigDict;
  }
}

export class QAveragePooling2D extends QPoolingBase {
  static className = 'QAveragePooling2D';
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  readonly dataFormat = 'channelsLast' as const;

  constructor(args: QAveragePooling2DArgs = {}) {
    super(args);
    const where = `QAveragePooling2D(${this.name})`;
    this.poolSize = normalizeTuple(args.poolSize ?? 2, 2, where, 'poolSize');
    this.strides = normalizeTuple(args.strides ?? this.poolSize, 2, where, 'strides');
    this.padding = normalizePadding(args.padding, where);
    checkChannelsLast(args.dataFormat, where);
    this.declareQuantizers(where, args);
    this.inputSpec = [{ ndim: 4 }];
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const s = singleShape(inputShape, this.name);
    return [
      s[0] ?? null,
      convOutputLength(s[1] ?? null, this.poolSize[0]!, this.padding, this.strides[0]!),
      convOutputLength(s[2] ?? null, this.poolSize[1]!, this.padding, this.strides[1]!),
      s[3] ?? null,
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => {
      const pool = this.poolSize as [number, number];
      const strides = this.strides as [number, number];
      const pad = this.padding === 'same' ? 'same' : 'valid';
      if (this.averageSlot.quantizer !== null) {
        const area = pool[0] * pool[1];
        const sum = tf.avgPool(tf.mul(x, area) as tf.Tensor4D, pool, strides, pad);
        return tf.mul(sum, quantizedReciprocal(this.averageSlot, area, training));
      }
      return tf.avgPool(x as tf.Tensor4D, pool, strides, pad);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      poolSize: this.poolSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      ...this.quantizersConfig(),
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QAveragePooling2D);

export interface QGlobalAveragePooling2DArgs extends QLayerArgs {
  /** Only channels-last is supported. */
  dataFormat?: string;
  /** Keep the pooled H and W axes (as size 1), as Keras's `keepdims`. */
  keepdims?: boolean;
  averageQuantizer?: QuantizerSpec;
  activation?: QuantizerSpec;
}

export class QGlobalAveragePooling2D extends QPoolingBase {
  static className = 'QGlobalAveragePooling2D';
  readonly dataFormat = 'channelsLast' as const;
  readonly keepdims: boolean;

  constructor(args: QGlobalAveragePooling2DArgs = {}) {
    super(args);
    const where = `QGlobalAveragePooling2D(${this.name})`;
    checkChannelsLast(args.dataFormat, where);
    this.keepdims = args.keepdims ?? false;
    this.declareQuantizers(where, args);
    this.inputSpec = [{ ndim: 4 }];
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const s = singleShape(inputShape, this.name);
    return this.keepdims ? [s[0] ?? null, 1, 1, s[3] ?? null] : [s[0] ?? null, s[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => {
      if (x.rank !== 4) throw new ConfigError(this.name, 'input rank', x.rank, '4 ([batch, rows, cols, channels])');
      if (this.averageSlot.quantizer !== null) {
        const area = x.shape[1]! * x.shape[2]!;
        const sum = tf.sum(x, [1, 2], this.keepdims);
        return tf.mul(sum, quantizedReciprocal(this.averageSlot, area, training));
      }
      return tf.mean(x, [1, 2], this.keepdims);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      dataFormat: this.dataFormat,
      keepdims: this.keepdims,
      ...this.quantizersConfig(),
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QGlobalAveragePooling2D);
