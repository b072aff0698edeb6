/**
 * Integer loops of the interpreter. Inputs are codes in Float64Arrays; weights and biases are already
 * aligned to the accumulator grid, so every loop is plain integer multiply-accumulate. Exactness rests on
 * the bound each caller checks first: every partial sum stays below 2^53.
 */
import type { AxisGeometry } from './geometry.js';

/** `out[r, j] = bias[j] + Σ_i x[r, i] · w[i, j]` over the last axis (dense and pointwise). */
export function matmulLast(
  x: Float64Array,
  rows: number,
  n: number,
  w: Float64Array,
  units: number,
  bias: Float64Array,
): Float64Array {
  const out = new Float64Array(rows * units);
  for (let r = 0; r < rows; r += 1) {
    const o = r * units;
    for (let j = 0; j < units; j += 1) out[o + j] = bias[j]!;
    for (let i = 0; i < n; i += 1) {
      const xv = x[r * n + i]!;
      if (xv === 0) continue;
      const wi = i * units;
      for (let j = 0; j < units; j += 1) out[o + j] += xv * w[wi + j]!;
    }
  }
  return out;
}

/** 2-D convolution, channels last: x `[H, W, C]`, w `[kh, kw, C, F]` (conv1d is the case H = kh = 1). */
export function conv2dLoop(
  x: Float64Array,
  channels: number,
  w: Float64Array,
  filters: number,
  gh: AxisGeometry,
  gw: AxisGeometry,
  bias: Float64Array,
): Float64Array {
  // Geometry in locals and one accumulator row per output position: the loops V8 optimizes best.
  const [H, W, OH, OW] = [gh.inSize, gw.inSize, gh.outSize, gw.outSize];
  const [KH, KW, SH, SW] = [gh.kernel, gw.kernel, gh.stride, gw.stride];
  const [DH, DW, PH, PW] = [gh.dilation, gw.dilation, gh.padBefore, gw.padBefore];
  const C = channels;
  const F = filters;
  const CF = C * F;
  const out = new Float64Array(OH * OW * F);
  const acc = new Float64Array(F);
  for (let oh = 0; oh < OH; oh += 1) {
    for (let ow = 0; ow < OW; ow += 1) {
      acc.set(bias);
      for (let i = 0; i < KH; i += 1) {
        const ih = oh * SH - PH + i * DH;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < KW; j += 1) {
          const iw = ow * SW - PW + j * DW;
          if (iw < 0 || iw >= W) continue;
          const xb = (ih * W + iw) * C;
          let wr = (i * KW + j) * CF;
          for (let c = 0; c < C; c += 1, wr += F) {
            const xv = x[xb + c]!;
            if (xv === 0) continue;
            for (let f = 0; f < F; f += 1) acc[f]! += xv * w[wr + f]!;
          }
        }
      }
      out.set(acc, (oh * OW + ow) * F);
    }
  }
  return out;
}

/** Depthwise convolution: x `[H, W, C]`, w `[kh, kw, C, dm]`, output channel `c·dm + k`. */
export function depthwiseLoop(
  x: Float64Array,
  channels: number,
  w: Float64Array,
  multiplier: number,
  gh: AxisGeometry,
  gw: AxisGeometry,
  bias: Float64Array,
): Float64Array {
  const [H, W, OH, OW] = [gh.inSize, gw.inSize, gh.outSize, gw.outSize];
  const [KH, KW, SH, SW] = [gh.kernel, gw.kernel, gh.stride, gw.stride];
  const [DH, DW, PH, PW] = [gh.dilation, gw.dilation, gh.padBefore, gw.padBefore];
  const C = channels;
  const M = multiplier;
  const O = C * M;
  const out = new Float64Array(OH * OW * O);
  const acc = new Float64Array(O);
  for (let oh = 0; oh < OH; oh += 1) {
    for (let ow = 0; ow < OW; ow += 1) {
      acc.set(bias);
      for (let i = 0; i < KH; i += 1) {
        const ih = oh * SH - PH + i * DH;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < KW; j += 1) {
          const iw = ow * SW - PW + j * DW;
          if (iw < 0 || iw >= W) continue;
          const xb = (ih * W + iw) * C;
          const wb = (i * KW + j) * O;
          for (let c = 0; c < C; c += 1) {
            const xv = x[xb + c]!;
            if (xv === 0) continue;
            for (let k = 0; k < M; k += 1) {
              const f = c * M + k;
              acc[f]! += xv * w[wb + f]!;
            }
          }
        }
      }
      out.set(acc, (oh * OW + ow) * O);
    }
  }
  return out;
}

/** Visits each pooling window: `visit(outIndexBase, inIndexBases, count)` with channel-0 offsets. */
function forEachWindow(
  gh: AxisGeometry,
  gw: AxisGeometry,
  channels: number,
  visit: (outBase: number, cells: number[]) => void,
): void {
  const W = gw.inSize;
  const cells: number[] = [];
  for (let oh = 0; oh < gh.outSize; oh += 1) {
    for (let ow = 0; ow < gw.outSize; ow += 1) {
      cells.length = 0;
      for (let i = 0; i < gh.kernel; i += 1) {
        const ih = oh * gh.stride - gh.padBefore + i * gh.dilation;
        if (ih < 0 || ih >= gh.inSize) continue;
        for (let j = 0; j < gw.kernel; j += 1) {
          const iw = ow * gw.stride - gw.padBefore + j * gw.dilation;
          if (iw < 0 || iw >= W) continue;
          cells.push((ih * W + iw) * channels);
        }
      }
      visit((oh * gw.outSize + ow) * channels, cells);
    }
  }
}

/** Max over each window's valid cells (padding never wins, as in TensorFlow). */
export function maxPoolLoop(x: Float64Array, channels: number, gh: AxisGeometry, gw: AxisGeometry): Float64Array {
  const out = new Float64Array(gh.outSize * gw.outSize * channels);
  forEachWindow(gh, gw, channels, (o, cells) => {
    for (let c = 0; c < channels; c += 1) {
      let m = -Infinity;
      for (const b of cells) m = Math.max(m, x[b + c]!);
      out[o + c] = m;
    }
  });
  return out;
}

/** Window sums over valid cells and the number of valid cells per output position. */
export function windowSumLoop(
  x: Float64Array,
  channels: number,
  gh: AxisGeometry,
  gw: AxisGeometry,
): { sums: Float64Array; counts: Int32Array } {
  const sums = new Float64Array(gh.outSize * gw.outSize * channels);
  const counts = new Int32Array(gh.outSize * gw.outSize);
  forEachWindow(gh, gw, channels, (o, cells) => {
    counts[o / channels] = cells.length;
    for (let c = 0; c < channels; c += 1) {
      let s = 0;
      for (const b of cells) s += x[b + c]!;
      sums[o + c] = s;
    }
  });
  return { sums, counts };
}
