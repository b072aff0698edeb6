/**
 * Kernels this package registers on tfjs's wasm backend (4.22) so that Q layers train on it.
 *
 * Audit (test/backend/gradient-cases.ts runs tf.grad of each op on 'wasm' and compares with 'cpu'; the
 * list covers QDense/matMul, QConv1D/QConv2D, Conv2DTranspose, QDepthwiseConv2D, QSeparableConv2D,
 * pooling, batch norm, activations, the quantizers' building blocks, shape ops, reductions, losses).
 * Without this module, on the wasm backend:
 *   - throws "not registered": Conv2DBackpropFilter (conv1d, conv2d, fused conv2d, conv2dTranspose,
 *     separableConv2d), DepthwiseConv2dNativeBackpropInput and DepthwiseConv2dNativeBackpropFilter
 *     (depthwiseConv2d, fused depthwiseConv2d, separableConv2d), UnsortedSegmentSum (gather).
 *   - wrong results: MaxPoolGrad drops the gradient of every window whose values are all <= 0 and
 *     breaks ties towards the last maximum (see kernels/max-pool-grad.ts); Sign returns 0 for
 *     |x| < ~1.2e-7 (see kernels/sign.ts; found by the quantizer tests, not the gradient audit).
 *   - wrong forward results: Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D with
 *     pad 'same' when the 'same' padding along a dimension would be negative (e.g. kernel [1, 3] with
 *     strides [2, 1], kernel 2 with stride 3): XNNPACK's TF-SAME mode mishandles it (see
 *     kernels/explicit-same-padding.ts). Found by the gradient comparisons, it breaks inference too.
 *   - slow: Conv2DBackpropInput is a naive C loop (5-8x slower than the replacement on the seed CNN's
 *     shapes); BatchMatMul with a transposed operand or a batch > 1 is a naive blocked loop (both
 *     gradients of every Dense layer take that path; 6-20x slower than transpose + GEMM).
 *   - fine (agree with cpu to float32 rounding): BatchMatMul results, fused matMul, AvgPool and its
 *     grad, batchNorm, moments, relu/relu6/leakyRelu/elu/selu/prelu/sigmoid/tanh/softplus/softmax/
 *     logSoftmax/erf/step, round/sign/floor/ceil (zero gradients), clipByValue, pow, log, log1p, exp, abs,
 *     sqrt, rsqrt, square, reciprocal, neg, where, maximum, minimum, squaredDifference, broadcasting
 *     add/sub/mul/div, tile, pad, mirrorPad, concat, stack, unstack, split, slice, transpose, reshape,
 *     expandDims/squeeze, reverse, cast, broadcastTo, mean, sum, max, min, prod, cumsum, logSumExp,
 *     norm, resizeNearestNeighbor, resizeBilinear, softmax/sigmoid cross-entropy, mean squared error.
 *   - no gradient on any backend (a tfjs-core gap, not a kernel): StridedSlice. Registered for all
 *     backends by ready() (kernels/strided-slice-grad.ts).
 *   - gradient refused by tfjs-core itself (any backend): conv2d and depthwiseConv2d with dilations > 1,
 *     and batched matMul whose batch dimensions broadcast.
 *
 * Also registered: the fused quantizer kernels (kernels/fused-*.ts, one kernel and one gradient kernel per
 * hot quantizer configuration, bit-identical to the quantizers' op chains; see src/quantizers/fused.ts).
 *
 * Registered here: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput, UnsortedSegmentSum (new); Conv2DBackpropInput, BatchMatMul,
 * MaxPoolGrad, Sign (replaced); Conv2D, FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D (wrapped:
 * 'same' padding passed as explicit numbers). Replacements keep the original's setupFunc. The
 * convolution gradients are expressed through the backend's own XNNPACK Conv2D / DepthwiseConv2dNative
 * plus Transpose / PadV2 / Reverse; BatchMatMul through Transpose plus the untransposed XNNPACK GEMM;
 * MaxPoolGrad, UnsortedSegmentSum (scatters) and Sign in JavaScript over the wasm heap. Two GEMM routes
 * give the same bits faster (kernels/gemm-routes.ts): Conv2DBackpropFilter as one XNNPACK GEMM over a
 * window-rows matrix (kernels/window-rows.ts), and BatchMatMul's xᵀ·dy with few columns as SIMD row updates
 * (kernels/mat-mul-row-updates.ts). See kernels/*.ts, and bench/kernels.ts for timings against the
 * alternatives.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulConfig } from './kernels/batch-mat-mul.js';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './kernels/conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './kernels/depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './kernels/depthwise-backprop-input.js';
import { explicitSamePaddingConfig } from './kernels/explicit-same-padding.js';
import { fusedQuantizerGradients, fusedQuantizerKernelConfigs } from './kernels/fused-quantizers.js';
import { identityConfig } from './kernels/identity.js';
import { sumColumnsConfig } from './kernels/sum-columns.js';
import { maxPoolGradConfig } from './kernels/max-pool-grad.js';
import { signConfig } from './kernels/sign.js';
import { unsortedSegmentSumConfig } from './kernels/unsorted-segment-sum.js';
import { captureOriginal } from './kernels/wasm-ops.js';

/** Kernel names this module registers for 'wasm' (replacing the backend's own where it has one). */
export const wasmTrainingKernelNames: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.BatchMatMul,
  tf.MaxPoolGrad,
  tf.Sign,
  tf.UnsortedSegmentSum,
  tf.Conv2D,
  tf.FusedConv2D,
  tf.DepthwiseConv2dNative,
  tf.FusedDepthwiseConv2D,
];

/**
 * Kernels replaced for speed only, with bit-identical results: Identity shares its input's data instead
 * of copying it (kernels/identity.ts); Sum over every leading axis runs as a SIMD column walk in the
 * backend's own summation order (kernels/sum-columns.ts).
 */
export const wasmSpeedKernelNames: readonly string[] = [tf.Identity, tf.Sum];

/** The fused quantizer kernels this module also registers for 'wasm' (see src/quantizers/fused.ts). */
export const wasmFusedQuantizerKernelNames: readonly string[] = fusedQuantizerKernelConfigs.map((c) => c.kernelName);

/** Kernels the replacements call; captured before anything is replaced. */
const building = [
  tf.BatchMatMul,
  tf.Conv2D,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNative,
  tf.FusedConv2D,
  tf.FusedDepthwiseConv2D,
  tf.MaxPoolGrad,
  tf.PadV2,
  tf.Reshape,
  tf.Sign,
  tf.Reverse,
  tf.Sum,
  tf.Transpose,
  tf.Identity,
];

let registered = false;

/**
 * Registers the kernels above on the wasm backend. Idempotent; safe before or after the backend is
 * initialised (replacements keep the original's `setupFunc`, which the backend runs at initialisation).
 */
export function registerWasmTrainingKernels(): void {
  // The backend has no Conv2DBackpropFilter of its own: finding one means another copy of this module
  // (e.g. both src/ and dist/ loaded) registered already, and wrapping its wrappers again would be wasteful.
  if (registered || tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')) {
    registered = true;
    return;
  }
  for (const name of building) {
    if (!captureOriginal(name)) throw new Error(`the tfjs wasm backend has no '${name}' kernel to build on`);
  }
  const configs = [
    conv2dBackpropFilterConfig,
    conv2dBackpropInputConfig(captureOriginal(tf.Conv2DBackpropInput)),
    depthwiseBackpropFilterConfig,
    depthwiseBackpropInputConfig,
    batchMatMulConfig(captureOriginal(tf.BatchMatMul)!),
    maxPoolGradConfig(captureOriginal(tf.MaxPoolGrad)),
    signConfig(captureOriginal(tf.Sign)),
    unsortedSegmentSumConfig,
    explicitSamePaddingConfig(captureOriginal(tf.Conv2D)!, false),
    explicitSamePaddingConfig(captureOriginal(tf.FusedConv2D)!, false),
    explicitSamePaddingConfig(captureOriginal(tf.DepthwiseConv2dNative)!, true),
    explicitSamePaddingConfig(captureOriginal(tf.FusedDepthwiseConv2D)!, true),
    ...fusedQuantizerKernelConfigs,
    identityConfig(captureOriginal(tf.Identity)!),
    sumColumnsConfig(captureOriginal(tf.Sum)!),
  ];
  for (const config of configs) {
    // Unregister first: registerKernel over an existing kernel works but warns on every start.
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  for (const gradient of fusedQuantizerGradients) {
    if (tf.getGradient(gradient.kernelName) === undefined) tf.registerGradient(gradient);
  }
  registered = true;
}
