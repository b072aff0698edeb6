/**
 * MaxPoolGrad for the wasm backend, replacing the backend's own, which is wrong: it starts each window's
 * running maximum at FLT_MIN (the smallest positive float) instead of -infinity, so a window whose values
 * are all <= 0 passes no gradient at all, and it keeps the last of tied maxima where TensorFlow and the cpu
 * backend keep the first. Both are common in quantized networks (pooling before a ReLU, pooling quantized
 * activations that tie). This version routes each output's gradient to the first maximum of its window, in
 * row-major window order, skipping padding, as the cpu backend does.
 *
 * It is a scatter, which no wasm kernel expresses, so it runs in JavaScript over views of the wasm heap:
 * one pass over the windows, no copies.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function maxPoolGrad(args: KernelArgs): Info {
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const backend = wasmBackendOf(args.backend);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const windowH = info.effectiveFilterHeight;
  const windowW = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const dx = backend.makeOutput([...input.shape], 'float32');
  // Views after the allocation: growing the wasm memory detaches older views.
  const xv = backend.typedArrayFromHeap(input);
  const dyv = backend.typedArrayFromHeap(dy);
  const dxv = backend.typedArrayFromHeap(dx);
  dxv.fill(0);
  const rowStride = inWidth * channels;
  for (let n = 0; n < batchSize; n++) {
    const xBatch = n * inHeight * rowStride;
    for (let r = 0; r < outHeight; r++) {
      const r0 = r * strideHeight - top;
      for (let c = 0; c < outWidth; c++) {
        const c0 = c * strideWidth - left;
        const dyBase = ((n * outHeight + r) * outWidth + c) * channels;
        for (let ch = 0; ch < channels; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let wr = 0; wr < windowH; wr += dilationHeight) {
            const xr = r0 + wr;
            if (xr < 0 || xr >= inHeight) continue;
            for (let wc = 0; wc < windowW; wc += dilationWidth) {
              const xc = c0 + wc;
              if (xc < 0 || xc >= inWidth) continue;
              const k = xBatch + xr * rowStride + xc * channels + ch;
              const v = xv[k]!;
              if (v > best) {
                best = v;
                at = k;
              }
            }
          }
          if (at >= 0) dxv[at] = dxv[at]! + dyv[dyBase + ch]!;
        }
      }
    }
  }
  return dx;
}

export function maxPoolGradConfig(original: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName: 'wasm',
    kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
