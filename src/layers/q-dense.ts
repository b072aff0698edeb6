/**
 * QDense: Keras's Dense with a quantized kernel and bias and a quantizer (or Keras) activation.
 */
import * as tf from '@tensorflow/tfjs';
import { positiveInt, singleShape, type ShapeArg } from './layer-utils.js';
import { QKernelLayer, type QKernelLayerArgs } from './q-bias-layer.js';
import type { KerasObjectSpec } from './q-layer-base.js';

export interface QDenseArgs extends QKernelLayerArgs {
  units: number;
  /** QKeras's default is `'he_normal'` (Keras's is glorot_uniform). */
  kernelInitializer?: KerasObjectSpec;
  /** tfjs shorthand for `inputShape: [inputDim]`. */
  inputDim?: number;
}

/** QKeras order of the quantizers: `[kernel, bias]`. */
export class QDense extends QKernelLayer {
  static className = 'QDense';
  readonly units: number;

  constructor(args: QDenseArgs) {
    if (args.batchInputShape == null && args.inputShape == null && args.inputDim != null) {
      args = { ...args, batchInputShape: [args.batchSize ?? null, args.inputDim] };
    }
    super(args);
    const where = `QDense(${this.name})`;
    this.units = positiveInt(args.units, where, 'units');
    this.declareKernelBias(where, args, 'he_normal');
    this.supportsMasking = true;
    this.inputSpec = [{ minNDim: 2 }];
  }

  override getQuantizationConfig(): Record<string, string> {
    return { ...super.getQuantizationConfig(), units: String(this.units) };
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const inputDim = shape[shape.length - 1]!;
    this.buildKernelBias([inputDim, this.units], [this.units]);
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: inputDim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): (number | null)[] {
    const shape = singleShape(inputShape, this.name);
    shape[shape.length - 1] = this.units;
    return shape;
  }

  protected applyKernel(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    return dense(x, kernel, bias);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { units: this.units, ...this.kernelLayerConfig(), ...super.getConfig() } as tf.serialization.ConfigDict;
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
