/**
 * Forward convolutions with pad 'same', corrected. The wasm backend hands 'same' to XNNPACK as its
 * TensorFlow-SAME flag, and the XNNPACK build in tfjs-backend-wasm 4.22 computes wrong outputs when the
 * total 'same' padding along a dimension would be negative, i.e. when (out - 1) * stride + effective
 * kernel < in (kernel [1, 3] with strides [2, 1], kernel 2 with stride 3, ... ; 1x1 kernels take another
 * path and are fine). tfjs' own padding arithmetic clamps that total at zero; passing its result as
 * explicit padding gives XNNPACK the same numbers with no flag, and the output shape is unchanged.
 * Applies to Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D; their gradients still
 * see the caller's 'same' attribute, since the engine records the attributes it was given.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info } from './wasm-ops.js';

type EngineArgs = Parameters<tf.KernelFunc>[0];

function withExplicitPadding(args: EngineArgs, depthwise: boolean): EngineArgs {
  const attrs = args.attrs ?? {};
  if (attrs.pad !== 'same') return args;
  const x = args.inputs.x as Info;
  const filter = args.inputs.filter as Info;
  const layout = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  const dataFormat = tf.backend_util.convertConv2DDataFormat(layout);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    'same',
    undefined,
    depthwise,
    dataFormat,
  );
  const { top, bottom, left, right } = info.padInfo;
  const pad: tf.backend_util.ExplicitPadding =
    dataFormat === 'channelsLast'
      ? [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ]
      : [
          [0, 0],
          [0, 0],
          [top, bottom],
          [left, right],
        ];
  return { ...args, attrs: { ...attrs, pad } };
}

/** The backend's own kernel, given explicit padding instead of 'same'; keeps its `setupFunc`. */
export function explicitSamePaddingConfig(original: tf.KernelConfig, depthwise: boolean): tf.KernelConfig {
  return {
    kernelName: original.kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => original.kernelFunc(withExplicitPadding(args, depthwise)),
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
