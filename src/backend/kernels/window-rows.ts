/**
 * The "window rows" matrix of a convolution's filter gradient, built on the wasm heap: with x transposed
 * to xT [Ci, H, W, N], row (a, b, ci) holds, for every output pixel (i, j) and sample n in that order,
 *
 *   xPadded[n, i*sH + a*dH, j*sW + b*dW, ci]     (zero where the window reads padding)
 *
 * so that dW [kH*kW*Ci, Co] = rows [kH*kW*Ci, Ho*Wo*N] x dyT [Ho*Wo*N, Co], where dyT is dy transposed to
 * [Ho, Wo, N, Co]: one untransposed GEMM (XNNPACK's fully-connected path, which keeps a single
 * accumulator per output and walks the reduction in order). That is the reduction the forward-conv
 * formulation (./conv2d-backprop-filter.ts) runs, term by term and in the same order — taps (i, j) in
 * row-major order, samples innermost, padding taps included as zero products — so both give the same
 * float32 bits; the GEMM just skips XNNPACK's indirection over a huge filter with few channels per tap.
 *
 * With stride 1 along the width, each (row, i) is one contiguous run of the transposed input (all j and
 * n at once), so filling the matrix is a few thousand memory copies.
 */
import type { ConvGeometry } from './conv-geometry.js';
import type { Info, WasmScope } from './wasm-ops.js';

/** The window-rows matrix's element count (rows x columns) for geometry `g`. */
export function windowRowsSize(g: ConvGeometry): number {
  return g.kH * g.kW * g.inC * g.outH * g.outW * g.batch;
}

/** True when some window reads padding, so the matrix needs zeros where nothing is copied. */
function readsPadding(g: ConvGeometry): boolean {
  const lastRow = (g.outH - 1) * g.sH + (g.kH - 1) * g.dH - g.padTop;
  const lastCol = (g.outW - 1) * g.sW + (g.kW - 1) * g.dW - g.padLeft;
  return g.padTop > 0 || g.padLeft > 0 || lastRow >= g.inH || lastCol >= g.inW;
}

/** The matrix [kH*kW*Ci, Ho*Wo*N] for xT = x transposed to [Ci, H, W, N]. */
export function windowRows(scope: WasmScope, xT: Info, g: ConvGeometry): Info {
  const rowLength = g.outH * g.outW * g.batch;
  const rows = scope.empty([g.kH * g.kW * g.inC, rowLength]);
  // Views after the last allocation (heap growth detaches earlier ones).
  const dst = scope.view(rows);
  const src = scope.view(xT);
  if (readsPadding(g)) dst.fill(0);
  const n = g.batch;
  for (let a = 0; a < g.kH; a++) {
    for (let b = 0; b < g.kW; b++) {
      const colOffset = b * g.dW - g.padLeft;
      // Output columns j whose input column j*sW + colOffset lies inside the image.
      const jLo = Math.max(0, Math.ceil(-colOffset / g.sW));
      const jHi = Math.min(g.outW, Math.floor((g.inW - 1 - colOffset) / g.sW) + 1);
      for (let ci = 0; ci < g.inC; ci++) {
        const rowBase = ((a * g.kW + b) * g.inC + ci) * rowLength;
        for (let i = 0; i < g.outH; i++) {
          const y = i * g.sH + a * g.dH - g.padTop;
          if (y < 0 || y >= g.inH || jHi <= jLo) continue;
          const srcRow = (ci * g.inH + y) * g.inW;
          const dstRow = rowBase + i * g.outW * n;
          if (g.sW === 1) {
            const from = (srcRow + jLo + colOffset) * n;
            dst.set(src.subarray(from, from + (jHi - jLo) * n), dstRow + jLo * n);
          } else {
            for (let j = jLo; j < jHi; j++) {
              const from = (srcRow + j * g.sW + colOffset) * n;
              dst.set(src.subarray(from, from + n), dstRow + j * n);
            }
          }
        }
      }
    }
  }
  return rows;
}
