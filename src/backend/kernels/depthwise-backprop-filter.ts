/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (it has none), as one depthwise convolution.
 *
 *   dW[a, b, c, m] = sum over n, i, j of xPadded[n, a*d + i*s, b*d + j*s, c] * dy[n, i, j, c*M + m]
 *
 * Per channel this is a correlation of x with dy as the filter, summed over the batch too. To make the
 * batch part of the sum, the images are laid side by side along the width, each padded to a width Wp that
 * is a multiple of the stride s and holds every column the forward pass read; dy is laid out the same way
 * with Wp/s columns per image (zeros past outW). A depthwise convolution of that strip with the dy strip as
 * its filter, with stride d and dilation s, then lands image n's filter columns exactly on image n's
 * columns, so its [kH, kW] outputs are the whole sum, and the depth multiplier maps onto the depthwise
 * convolution's own multiplier.
 */
import * as tf from '@tensorflow/tfjs';
import { checkDy, convGeometry } from './conv-geometry.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function depthwiseBackpropFilter(args: KernelArgs): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return WasmScope.run(wasmBackendOf(args.backend), (scope) => {
    const g = convGeometry(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    checkDy(tf.DepthwiseConv2dNativeBackpropFilter, g, dy.shape);
    const [kH, kW, channels, multiplier] = attrs.filterShape;
    // Rows/columns of the padded image that the forward pass read.
    const needH = (kH - 1) * g.dH + (g.outH - 1) * g.sH + 1;
    const needW = (kW - 1) * g.dW + (g.outW - 1) * g.sW + 1;
    const dyCols = Math.ceil(needW / g.sW);
    const stripW = dyCols * g.sW;
    const bottom = needH - g.padTop - g.inH;
    const right = stripW - g.padLeft - g.inW;

    // x -> [1, rows, batch * stripW, C]: crop what the forward pass never read, pad each image to stripW.
    let xs = x;
    // The forward pass read only padding (large explicit padding, few outputs): the gradient is zero.
    if (g.inH + Math.min(0, bottom) <= 0 || g.inW + Math.min(0, right) <= 0) {
      return scope.zeros([kH, kW, channels, multiplier]);
    }
    if (bottom < 0 || right < 0) {
      xs = scope.crop4d(x, [0, 0, 0, 0], [g.batch, g.inH + Math.min(0, bottom), g.inW + Math.min(0, right), g.inC]);
    }
    const rows = xs.shape[1]!;
    xs = scope.pad(xs, [
      [0, 0],
      [0, 0],
      [g.padLeft, Math.max(0, right)],
      [0, 0],
    ]);
    const strip = scope.reshape(scope.transpose(xs, [1, 0, 2, 3]), [1, rows, g.batch * stripW, g.inC]);

    // dy -> [outH, batch * dyCols, C, M]: the filter.
    let dys = dy;
    if (dyCols > g.outW) {
      dys = scope.pad(dy, [
        [0, 0],
        [0, 0],
        [0, dyCols - g.outW],
        [0, 0],
      ]);
    }
    const filter = scope.reshape(scope.transpose(dys, [1, 0, 2, 3]), [g.outH, g.batch * dyCols, channels, multiplier]);

    // Right padding making the output exactly kW wide; when negative the output is wider and is cropped.
    const stripRight = (kW - 1) * g.dW - (g.sW - 1);
    let out = scope.depthwiseConv2d(strip, filter, [g.dH, g.dW], [g.sH, g.sW], [
      [0, 0],
      [g.padTop, Math.max(0, bottom)],
      [0, Math.max(0, stripRight)],
      [0, 0],
    ]);
    if (out.shape[1] !== kH || out.shape[2] !== kW) {
      out = scope.crop4d(out, [0, 0, 0, 0], [1, kH, kW, channels * multiplier]);
    }
    return scope.reshape(out, [kH, kW, channels, multiplier]);
  });
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
