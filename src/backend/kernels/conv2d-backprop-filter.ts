/**
 * Conv2DBackpropFilter for the wasm backend (it has none): the filter gradient as one forward convolution.
 *
 *   dW[a, b, ci, co] = sum over n, i, j of xPadded[n, i*s + a*d, j*s + b*d, ci] * dy[n, i, j, co]
 *
 * is a convolution whose batch is ci, whose channels are n and whose filter is dy: with
 * X' = x transposed to [Ci, H, W, N] and F' = dy transposed to [Ho, Wo, N, Co], conv2d(X', F') with the
 * stride and dilation swapped (stride d, dilation s) yields [Ci, kH, kW, Co]. The padding is the forward
 * pass's at the top/left; the bottom/right padding is chosen so that exactly kH x kW outputs come out,
 * cropping x where the forward pass never reached its last rows or columns. XNNPACK then does the
 * reduction over N*Ho*Wo as one large GEMM. Pointwise (1x1, stride 1, unpadded) convolutions are one
 * matmul instead.
 *
 * That convolution has a huge filter (Ho x Wo taps) with few channels (N) per tap, which XNNPACK's indirect
 * GEMM walks less efficiently than a plain GEMM: unless the matrix would be too large, the same reduction
 * therefore runs as one GEMM over an explicit window-rows matrix (./window-rows.ts), which walks exactly the
 * same terms in the same order and so gives the same float32 bits. Measured on the lab book CNN's layers
 * (paired calls on a loaded 2-core machine): 1.05-1.12x faster. Both are memory-bound: a reduction of
 * N*Ho*Wo = 73,728 terms per output streams the whole right-hand side once per 4 output rows, and
 * bit-identity rules out splitting that reduction.
 *
 * Where WebAssembly SIMD runs, the same reduction runs blocked instead (./filter-grad-direct.ts: one output
 * pixel's samples at a time, a row's output channels held in registers), again term by term in the same
 * order. `npx tsx bench/gemm-routes.ts` (load 1.3): [3,3,18,32] 55.9 ms direct, 65.0 gemm, 78.8 conv;
 * [3,3,1,18] 4.6, 13.5, 17.0.
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
import { filterGradDirect, filterGradDirectApplies } from './filter-grad-direct.js';
import { gemmRoutesEnabled } from './gemm-routes.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';
import { windowRows, windowRowsSize } from './window-rows.js';

/**
 * Largest window-rows matrix (float32 elements, 128 MiB) built for the GEMM formulation; larger problems use
 * the forward-conv formulation, which needs no extra memory beyond the two transposes.
 */
export const WINDOW_ROWS_LIMIT = 32 * 1024 * 1024;

/**
 * How dW is computed: with the GEMM routes on (./gemm-routes.ts), 'auto' picks 'direct' (./filter-grad-direct.ts)
 * where WebAssembly SIMD runs, else 'gemm' when its matrix fits WINDOW_ROWS_LIMIT; with them off, 'conv'.
 * All three give the same float32 bits; tests and benchmarks force each.
 */
export type FilterGradMethod = 'auto' | 'direct' | 'gemm' | 'conv';

/** True for a 1x1 convolution that reads every input pixel once: stride 1, no padding. */
function isPointwise(g: ConvGeometry): boolean {
  const oneByOne = g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1;
  return oneByOne && g.outH === g.inH && g.outW === g.inW && g.padTop === 0 && g.padLeft === 0;
}

/** dW for an NHWC input `x` and output gradient `dy`. */
export function filterGradNhwc(scope: WasmScope, x: Info, dy: Info, g: ConvGeometry, method: FilterGradMethod = 'auto'): Info {
  if (isPointwise(g)) {
    // A plain product x^T dy over all pixels; as a convolution its "filter" would be the whole image with
    // only N channels per tap, which XNNPACK handles several times slower than this one GEMM.
    const pixels = g.batch * g.inH * g.inW;
    const xT = scope.transpose(scope.reshape(x, [pixels, g.inC]), [1, 0]);
    const product = scope.matMul(scope.reshape(xT, [1, g.inC, pixels]), scope.reshape(dy, [1, pixels, g.outC]));
    return scope.reshape(product, [1, 1, g.inC, g.outC]);
  }
  if (method === 'direct' || (method === 'auto' && gemmRoutesEnabled() && filterGradDirectApplies(scope))) {
    const direct = filterGradDirect(scope, x, dy, g);
    if (direct !== null) return direct;
  }
  if (method === 'gemm' || (method === 'auto' && gemmRoutesEnabled() && windowRowsSize(g) <= WINDOW_ROWS_LIMIT)) {
    // No output pixel or no sample: an empty reduction.
    if (g.outH * g.outW * g.batch === 0) return scope.zeros([g.kH, g.kW, g.inC, g.outC]);
    const rows = windowRows(scope, scope.transpose(x, [3, 1, 2, 0]), g);
    const dyT = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [1, g.outH * g.outW * g.batch, g.outC]);
    const product = scope.matMul(scope.reshape(rows, [1, g.kH * g.kW * g.inC, g.outH * g.outW * g.batch]), dyT);
    return scope.reshape(product, [g.kH, g.kW, g.inC, g.outC]);
  }
  const bottom = (g.kH - 1) * g.dH + (g.outH - 1) * g.sH + 1 - g.inH - g.padTop;
  const right = (g.kW - 1) * g.dW + (g.outW - 1) * g.sW + 1 - g.inW - g.padLeft;
  const cropped = scope.padOrCrop(x, g.padTop, bottom, g.padLeft, right);
  // The forward pass read only padding (large explicit padding, few outputs): the gradient is zero.
  if (!cropped) return scope.zeros([g.kH, g.kW, g.inC, g.outC]);
  const { input, pad } = cropped;
  const xT = scope.transpose(input, [3, 1, 2, 0]);
  const dyT = scope.transpose(dy, [1, 2, 0, 3]);
  const out = scope.conv2d(xT, dyT, [g.dH, g.dW], [g.sH, g.sW], pad);
  return scope.transpose(out, [1, 2, 0, 3]);
}

function conv2dBackpropFilter(args: KernelArgs): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const channelsFirst = isChannelsFirst(attrs.dataFormat);
  return WasmScope.run(wasmBackendOf(args.backend), (scope) => {
    const xNhwc = channelsFirst ? scope.transpose(x, [0, 2, 3, 1]) : x;
    const dyNhwc = channelsFirst ? scope.transpose(dy, [0, 2, 3, 1]) : dy;
    const g = convGeometry(
      channelsFirst ? nchwToNhwcShape(x.shape) : x.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      padToNhwc(attrs.pad, channelsFirst),
      attrs.dimRoundingMode,
      false,
    );
    checkDy(tf.Conv2DBackpropFilter, g, dyNhwc.shape);
    return filterGradNhwc(scope, xNhwc, dyNhwc, g);
  });
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
