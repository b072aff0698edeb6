/**
 * BatchMatMul for the wasm backend, routing around its slow path. The backend's kernel uses XNNPACK's
 * fully-connected GEMM only when neither operand is transposed and both have a batch of 1; everything
 * else (both gradients of every Dense layer: x^T * dy and dy * W^T) runs a naive blocked loop, 8-20x
 * slower. Here, when b's batch is 1, the transposes are done explicitly with the Transpose kernel (a copy,
 * linear in size) and a's batch is folded into its rows, making one fast GEMM. Products where both
 * operands are batched go to the backend's own kernel unchanged: transposing does not speed its loop up,
 * and tfjs-layers reshapes Dense inputs to 2-D, so Q layers do not produce them.
 * A Dense layer's kernel gradient xᵀ·dy with few units skips even the transpose: SIMD row updates with the
 * same float32 bits (./mat-mul-row-updates.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { gemmRoutesEnabled } from './gemm-routes.js';
import { matMulTransposedA, rowUpdatesApply } from './mat-mul-row-updates.js';
import { WasmScope, originalKernel, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function batchMatMul(args: KernelArgs): Info {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const backend = wasmBackendOf(args.backend);
  const original = originalKernel(tf.BatchMatMul)!;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((p, v) => p * v, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, v) => p * v, 1);
  const fastAlready = !transposeA && !transposeB && batchA === 1;
  // Non-float inputs are rejected by the original with its own message; empty ones need no speed.
  const floats = a.dtype === 'float32' && b.dtype === 'float32';
  const empty = a.shape.includes(0) || b.shape.includes(0);
  if (fastAlready || batchB !== 1 || !floats || empty) {
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as Info;
  }
  const m = transposeA ? a.shape[aRank - 1]! : a.shape[aRank - 2]!;
  const kA = transposeA ? a.shape[aRank - 2]! : a.shape[aRank - 1]!;
  const kB = transposeB ? b.shape[bRank - 1]! : b.shape[bRank - 2]!;
  const n = transposeB ? b.shape[bRank - 2]! : b.shape[bRank - 1]!;
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outShape = [
    ...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
    m,
    n,
  ];
  if (transposeA && !transposeB && batchA === 1 && gemmRoutesEnabled() && rowUpdatesApply(backend, m, n)) {
    return WasmScope.run(backend, (scope) =>
      scope.reshape(matMulTransposedA(scope, scope.reshape(a, [kA, m]), scope.reshape(b, [kB, n])), outShape),
    );
  }
  return WasmScope.run(backend, (scope) => {
    // a as [batchA, M, K].
    const a3 = scope.reshape(a, [batchA, a.shape[aRank - 2]!, a.shape[aRank - 1]!]);
    const aRows = transposeA ? scope.transpose(a3, [0, 2, 1]) : a3;
    const b3 = scope.reshape(b, [1, b.shape[bRank - 2]!, b.shape[bRank - 1]!]);
    const bKN = transposeB ? scope.transpose(b3, [0, 2, 1]) : b3;
    const product = scope.matMul(scope.reshape(aRows, [1, batchA * m, kA]), bKN);
    return scope.reshape(product, outShape);
  });
}

/** Keeps the replaced kernel's `setupFunc`: it binds the wasm function that the original kernel calls. */
export function batchMatMulConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: batchMatMul as unknown as tf.KernelFunc,
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
