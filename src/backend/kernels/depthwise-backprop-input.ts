/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (it has none): the same transposed-convolution
 * identity as Conv2DBackpropInput, with a depthwise convolution. dy has C*M channels (channel c*M + m is
 * input channel c times multiplier m); convolving the zero-inserted dy depthwise with the flipped filter
 * reshaped to [kH, kW, C*M, 1] gives each of those channels' contribution, and the M contributions of one
 * input channel are summed over the innermost axis.
 */
import * as tf from '@tensorflow/tfjs';
import { checkDy, convGeometry } from './conv-geometry.js';
import { transposedConvPadding } from './conv2d-backprop-input.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function depthwiseBackpropInput(args: KernelArgs): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return WasmScope.run(wasmBackendOf(args.backend), (scope) => {
    const g = convGeometry(
      attrs.inputShape,
      filter.shape,
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    checkDy(tf.DepthwiseConv2dNativeBackpropInput, g, dy.shape);
    const [kH, kW, channels, multiplier] = filter.shape as [number, number, number, number];
    const z = scope.zeroInsert(dy, g.sH, g.sW);
    const p = transposedConvPadding(g);
    const cropped = scope.padOrCrop(z, p.top, p.bottom, p.left, p.right);
    // No input element was read by the forward pass (it saw padding only): the gradient is zero.
    if (!cropped) return scope.zeros([g.batch, g.inH, g.inW, g.inC]);
    const { input, pad } = cropped;
    const flipped = scope.reshape(scope.reverse(filter, [0, 1]), [kH, kW, channels * multiplier, 1]);
    const perChannel = scope.depthwiseConv2d(input, flipped, [1, 1], [g.dH, g.dW], pad);
    if (multiplier === 1) return perChannel;
    return scope.sum(scope.reshape(perChannel, [g.batch, g.inH, g.inW, channels, multiplier]), [4]);
  });
}

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
