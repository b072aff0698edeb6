/**
 * QConv2DTranspose: Keras's transposed 2-D convolution with a quantized kernel and bias.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '../errors.js';
import { biasAdd, deconvOutputLength, singleShape, type LayerShape, type ShapeArg } from './layer-utils.js';
import { QConvBase, type QConvArgs } from './q-conv.js';

export interface QConv2DTransposeArgs extends QConvArgs {
  /**
   * Accepted for compatibility and ignored, exactly as QKeras ignores it (it always hands Keras `None`):
   * the output size is inferred from the input size, strides and padding.
   */
  outputPadding?: number | number[] | null;
}

/** Quantized transposed convolution over `[batch, rows, cols, channels]`; kernel `[kh, kw, filters, in]`. */
export class QConv2DTranspose extends QConvBase {
  static className = 'QConv2DTranspose';

  constructor(args: QConv2DTransposeArgs) {
    super(2, args, { kernelInitializer: 'glorot_uniform', allowCausal: false });
    if (this.dilationRate.some((d) => d !== 1)) {
      throw new UnsupportedError(
        `QConv2DTranspose(${this.name}): dilationRate=${JSON.stringify(this.dilationRate)} is not supported ` +
          '(tfjs has no dilated transposed convolution); use dilationRate 1.',
      );
    }
  }

  protected kernelShape(inputChannels: number): number[] {
    return [this.kernelSize[0]!, this.kernelSize[1]!, this.filters, inputChannels];
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    const shape = singleShape(inputShape, this.name);
    return [
      shape[0] ?? null,
      deconvOutputLength(shape[1] ?? null, this.kernelSize[0]!, this.padding, this.strides[0]!),
      deconvOutputLength(shape[2] ?? null, this.kernelSize[1]!, this.padding, this.strides[1]!),
      this.filters,
    ];
  }

  protected convolve(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    const [batch, rows, cols] = x.shape as [number, number, number, number];
    const outShape: [number, number, number, number] = [
      batch,
      deconvOutputLength(rows, this.kernelSize[0]!, this.padding, this.strides[0]!)!,
      deconvOutputLength(cols, this.kernelSize[1]!, this.padding, this.strides[1]!)!,
      this.filters,
    ];
    const pad = this.padding === 'same' ? 'same' : 'valid';
    const y = tf.conv2dTranspose(x as tf.Tensor4D, kernel as tf.Tensor4D, outShape, this.strides as [number, number], pad);
    return bias === null ? y : biasAdd(y, bias);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputPadding: null };
  }
}
tf.serialization.registerClass(QConv2DTranspose);
