/**
 * aᵀ·b for a [K, M] and b [K, N] with few columns N (a Dense layer's kernel gradient xᵀ·dy: K the batch,
 * M the layer's inputs, N its units), without transposing a. The backend's route — Transpose a (a copy of
 * the whole activation, slow for wide layers) then XNNPACK's GEMM — is replaced by rank-1 updates over the
 * rows of a: outᵀ[n, :] += b[k, n] · a[k, :] for k = 0, 1, ..., K-1, as SIMD passes over the wasm heap
 * (one pass of `a`'s row updates up to 4 output rows), then one small transpose of outᵀ [N, M]. (The same
 * trick for the input gradient dy·Wᵀ measured ~2x slower than Transpose + GEMM, so that stays.)
 *
 * Every output starts at +0 and adds its K products one at a time, in k order, each product rounded to
 * float32 before the add — exactly what XNNPACK's GEMM does (one accumulator per output, bias 0, no fused
 * multiply-add in WebAssembly SIMD), so the results are the same float32 bits for finite inputs
 * (test/backend/gemm-routes.test.ts compares the two routes bit for bit).
 */
import { heapOffset, SimdKernelSet } from '../simd/heap.js';
import { add, mul, SimdBuilder } from '../simd/simd-kernel.js';
import { f32 } from './wasm-float32.js';
import type { Info, WasmScope } from './wasm-ops.js';

/** Widest N this route takes: each group of 4 output rows costs one more pass over a's row. */
export const ROW_UPDATES_MAX_COLUMNS = 16;

/** `out_i += x * s_i` for `width` output rows sharing one row `x`. */
function rowUpdate(width: number): SimdBuilder {
  const outs = Array.from({ length: width }, (_, i) => `o${i}`);
  const scalars = Array.from({ length: width }, (_, i) => `s${i}`);
  const k = new SimdBuilder(`row_update_${width}`, ['x', ...outs], scalars);
  const x = k.let(k.load('x'));
  for (let i = 0; i < width; i++) k.store(outs[i]!, add(k.load(outs[i]!), mul(x, k.scalar(scalars[i]!))));
  return k;
}

const simdKernels = new SimdKernelSet(() => [1, 2, 3, 4].map(rowUpdate));

/** True when this route is available and meant for aᵀ·b with `m` rows and `n` columns. */
export function rowUpdatesApply(backend: WasmScope['backend'], m: number, n: number): boolean {
  return n >= 1 && n <= ROW_UPDATES_MAX_COLUMNS && m >= 4 && simdKernels.get(backend) !== null;
}

/** aᵀ·b as [M, N] for a [K, M] and b [K, N] (float32, rank 2). Check `rowUpdatesApply` first. */
export function matMulTransposedA(scope: WasmScope, a: Info, b: Info): Info {
  const [k, m] = a.shape as [number, number];
  const n = b.shape[1]!;
  const simd = simdKernels.get(scope.backend)!;
  const outT = scope.zeros([n, m]);
  const bValues = scope.view(b);
  const aValues = scope.view(a);
  const outValues = scope.view(outT);
  const aBase = heapOffset(scope.backend, a);
  const outBase = heapOffset(scope.backend, outT);
  const vector = m - (m % 4);
  for (let row = 0; row < k; row++) {
    const x = aBase + row * m * 4;
    for (let col = 0; col < n; col += 4) {
      const width = Math.min(4, n - col);
      const pointers = Array.from({ length: width }, (_, i) => outBase + (col + i) * m * 4);
      const scalars = Array.from({ length: width }, (_, i) => bValues[row * n + col + i]!);
      simd[`row_update_${width}`]!(x, ...pointers, vector, ...scalars);
    }
    // The 0-3 trailing columns of outᵀ, in the same order.
    for (let j = vector; j < m; j++) {
      const value = aValues[row * m + j]!;
      for (let col = 0; col < n; col++) {
        const o = col * m + j;
        outValues[o] = f32(outValues[o]! + f32(value * bValues[row * n + col]!));
      }
    }
  }
  return scope.transpose(outT, [1, 0]);
}

