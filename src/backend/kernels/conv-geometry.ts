/**
 * The geometry of a 2-D convolution (NHWC), resolved once from a kernel's attributes: sizes, strides,
 * dilations and the top/left padding actually applied. The backprop kernels are re-expressions of the
 * same sums, so they all start from here.
 */
import * as tf from '@tensorflow/tfjs';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly sH: number;
  readonly sW: number;
  readonly dH: number;
  readonly dW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: Rounding,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    dH: info.dilationHeight,
    dW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Throws when dy's shape is not the forward output the geometry implies (a caller bug, not user input). */
export function checkDy(kernel: string, g: ConvGeometry, dyShape: readonly number[]): void {
  const want = [g.batch, g.outH, g.outW, g.outC];
  if (dyShape.length !== 4 || want.some((v, i) => v !== dyShape[i])) {
    throw new Error(`${kernel}: dy has shape [${dyShape.join(', ')}], expected [${want.join(', ')}]`);
  }
}

/** Converts NCHW attributes' shapes to NHWC, for kernels that accept both layouts. */
export function nchwToNhwcShape(shape: readonly number[]): number[] {
  const [n, c, h, w] = shape as [number, number, number, number];
  return [n, h, w, c];
}

/** `dataFormat` attribute normalised to a boolean. */
export function isChannelsFirst(dataFormat: unknown): boolean {
  return dataFormat === 'NCHW';
}

/** Explicit padding in NCHW order given as NHWC order, for `computeConv2DInfo` called on NHWC shapes. */
export function padToNhwc(pad: Pad, channelsFirst: boolean): Pad {
  if (!channelsFirst || typeof pad !== 'object') return pad;
  const [a, b, c, d] = pad;
  return [a, c, d, b];
}
