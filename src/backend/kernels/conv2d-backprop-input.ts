/**
 * Conv2DBackpropInput for the wasm backend (the backend's own is a naive C loop): the input gradient, and
 * the forward pass of a transposed convolution, as one forward convolution.
 *
 *   dx[n, p, q, ci] = sum over a, b, co of z[n, p + padTop - a*d, q + padLeft - b*d, co] * W[a, b, ci, co]
 *
 * where z is dy with s-1 zeros inserted after every element (so that z[i*s] = dy[i]). With the filter
 * flipped spatially and its channel axes swapped, that is a stride-1 convolution of z with dilation d and
 * padding (kH-1)*d - padTop above (negative values crop). The zeros cost s*s times the useful work on
 * strided layers, which XNNPACK's GEMM still does far faster than the naive loop.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkDy,
  convGeometry,
  isChannelsFirst,
  nchwToNhwcShape,
  padToNhwc,
  type ConvGeometry,
} from './conv-geometry.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

/**
 * Spatial padding (possibly negative) that turns the zero-inserted dy, of size [outH*sH, outW*sW], into
 * the input of a stride-1 convolution producing exactly [inH, inW].
 */
export function transposedConvPadding(g: ConvGeometry): { top: number; bottom: number; left: number; right: number } {
  const top = (g.kH - 1) * g.dH - g.padTop;
  const left = (g.kW - 1) * g.dW - g.padLeft;
  return {
    top,
    bottom: g.inH + g.padTop - g.outH * g.sH,
    left,
    right: g.inW + g.padLeft - g.outW * g.sW,
  };
}

/** dx (NHWC) for output gradient `dy` (NHWC) and filter [kH, kW, Ci, Co]. */
export function inputGradNhwc(scope: WasmScope, dy: Info, filter: Info, g: ConvGeometry): Info {
  const z = scope.zeroInsert(dy, g.sH, g.sW);
  const p = transposedConvPadding(g);
  const cropped = scope.padOrCrop(z, p.top, p.bottom, p.left, p.right);
  // No input element was read by the forward pass (it saw padding only): the gradient is zero.
  if (!cropped) return scope.zeros([g.batch, g.inH, g.inW, g.inC]);
  const { input, pad } = cropped;
  const flipped = scope.transpose(scope.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return scope.conv2d(input, flipped, [1, 1], [g.dH, g.dW], pad);
}

function conv2dBackpropInput(args: KernelArgs): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const channelsFirst = isChannelsFirst(attrs.dataFormat);
  return WasmScope.run(wasmBackendOf(args.backend), (scope) => {
    const dyNhwc = channelsFirst ? scope.transpose(dy, [0, 2, 3, 1]) : dy;
    const g = convGeometry(
      channelsFirst ? nchwToNhwcShape(attrs.inputShape) : attrs.inputShape,
      filter.shape,
      attrs.strides,
      1,
      padToNhwc(attrs.pad, channelsFirst),
      attrs.dimRoundingMode,
      false,
    );
    checkDy(tf.Conv2DBackpropInput, g, dyNhwc.shape);
    const dx = inputGradNhwc(scope, dyNhwc, filter, g);
    return channelsFirst ? scope.transpose(dx, [0, 3, 1, 2]) : dx;
  });
}

/** Keeps the replaced kernel's `setupFunc`, which the backend runs at initialisation. */
export function conv2dBackpropInputConfig(original: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
