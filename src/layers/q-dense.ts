/**
 * QDense: Keras's Dense with a quantized kernel and bias and a quantizer (or Keras) activation.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import {
  positiveInt,
  singleShape,
  singleTensor,
  trainingFlag,
  type Kwargs,
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

export interface QDenseArgs extends QLayerArgs {
  units: number;
  /** A quantizer or Keras activation (`'quantized_relu(4)'`, `'relu'`, `'softmax'`); none by default. */
  activation?: QuantizerSpec;
  useBias?: boolean;
  /** QKeras's default is `'he_normal'` (Keras's is glorot_uniform). */
  kernelInitializer?: KerasObjectSpec;
  biasInitializer?: KerasObjectSpec;
  kernelRegularizer?: KerasObjectSpec;
  biasRegularizer?: KerasObjectSpec;
  /** Defaults to `Clip(-M, M)`, `M = max(1, kernelQuantizer.max())`, when there is a kernel quantizer. */
  kernelConstraint?: KerasObjectSpec;
  biasConstraint?: KerasObjectSpec;
  kernelQuantizer?: QuantizerSpec;
  biasQuantizer?: QuantizerSpec;
  /** Deprecated in QKeras and ignored; kept in the config. */
  kernelRange?: number | null;
  biasRange?: number | null;
  /** tfjs shorthand for `inputShape: [inputDim]`. */
  inputDim?: number;
}

export class QDense extends QLayer {
  static className = 'QDense';
  readonly units: number;
  readonly useBias: boolean;
  readonly kernelRange: number | null;
  readonly biasRange: number | null;
  private readonly kernelSpec: QuantizedWeightSpec;
  private readonly biasSpec: QuantizedWeightSpec;
  private readonly activationQ: QuantizerSlot;
  kernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(args: QDenseArgs) {
    if (args.batchInputShape == null && args.inputShape == null && args.inputDim != null) {
      args = { ...args, batchInputShape: [args.batchSize ?? null, args.inputDim] };
    }
    super(args);
    const where = `QDense(${this.name})`;
    this.units = positiveInt(args.units, where, 'units');
    this.useBias = args.useBias ?? true;
    this.kernelRange = args.kernelRange ?? null;
    this.biasRange = args.biasRange ?? null;
    this.kernelSpec = quantizedWeight(
      where,
      'kernel',
      {
        quantizer: args.kernelQuantizer,
        initializer: args.kernelInitializer ?? 'he_normal',
        regularizer: args.kernelRegularizer,
        constraint: args.kernelConstraint,
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
    this.supportsMasking = true;
    this.inputSpec = [{ minNDim: 2 }];
  }

  /** The parsed kernel quantizer (after the auto-scale default), or null. */
  get kernelQuantizer(): Quantizer | null {
    return this.kernelSpec.slot.quantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  /** The activation as a quantizer or Keras activation function; null means linear. */
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** QKeras order: `[kernel, bias]`. */
  getQuantizers(): (Quantizer | null)[] {
    return this.slotQuantizers();
  }

  protected quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [
      ['kernel', this.kernelSpec.slot],
      ['bias', this.biasSpec.slot],
    ];
  }

  protected override activationSlotOrNull(): QuantizerSlot {
    return this.activationQ;
  }

  override getQuantizationConfig(): Record<string, string> {
    return { ...super.getQuantizationConfig(), units: String(this.units) };
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const inputDim = shape[shape.length - 1]!;
    const k = this.kernelSpec;
    this.kernel = this.addQuantizedWeight('kernel', [inputDim, this.units], k);
    if (this.useBias) {
      const b = this.biasSpec;
      this.bias = this.addQuantizedWeight('bias', [this.units], b);
    }
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: inputDim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): (number | null)[] {
    const shape = singleShape(inputShape, this.name);
    shape[shape.length - 1] = this.units;
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const training = trainingFlag(kwargs);
      const kernel = this.kernelSpec.slot.apply(this.kernel!.read(), training);
      const bias = this.bias === null ? null : this.biasSpec.slot.apply(this.bias.read(), training);
      const out = dense(x, kernel, bias);
      return this.activationQ.apply(out, training);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      units: this.units,
      activation: activationConfig(this.activationQ),
      useBias: this.useBias,
      ...weightConfig('kernel', this.kernelSpec),
      ...weightConfig('bias', this.biasSpec),
      kernelRange: this.kernelRange,
      biasRange: this.biasRange,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QDense);

/**
 * `K.dot(x, kernel) + bias` the way tfjs's Dense computes it (a fused matMul with bias, inputs of rank > 2
 * flattened to 2-D and restored), so a QDense without quantizers matches tf.layers.dense bit for bit.
 */
export function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  if (x.rank === 2) {
    return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias: bias ?? undefined });
  }
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
  const y = tf.fused.matMul({ a: flat, b: kernel as tf.Tensor2D, bias: bias ?? undefined });
  return tf.reshape(y, [...lead, kernel.shape[1]!]);
}
