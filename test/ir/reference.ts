import { mulberry32 } from '../../src/utils/mulberry32.js';

/**
 * Straightforward float64 references for the interpreter tests. All values in these tests are dyadic
 * with few bits, so float64 computes them exactly; the references share no code with src/ir.
 */

export type Mode = 'half_even' | 'half_away';

export function roundRef(y: number, mode: Mode): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  if (mode === 'half_even') return f % 2 === 0 ? f : f + 1;
  return y < 0 ? f : f + 1;
}

/** QKeras's fixed quantization of a real: clip(round(x·2^frac), lo, hi) · 2^-frac. */
export function quantRef(x: number, frac: number, lo: number, hi: number, mode: Mode = 'half_even'): number {
  const c = roundRef(x * 2 ** frac, mode);
  return Math.min(hi, Math.max(lo, c)) / 2 ** frac;
}

export function denseRef(x: readonly number[], w: readonly number[], units: number, bias: readonly number[]): number[] {
  const n = x.length;
  return Array.from({ length: units }, (_, j) => {
    let s = bias[j] ?? 0;
    for (let i = 0; i < n; i += 1) s += x[i]! * w[i * units + j]!;
    return s;
  });
}

export interface ConvGeom {
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly same: boolean;
  readonly dh?: number;
  readonly dw?: number;
}

/** TensorFlow's padding rule, as documented for tf.nn.conv2d. */
function padding(size: number, k0: number, s: number, same: boolean, d = 1): { out: number; before: number } {
  const k = (k0 - 1) * d + 1;
  if (!same) return { out: Math.ceil((size - k + 1) / s), before: 0 };
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Zero-padded input accessor. */
function at(x: readonly number[], g: ConvGeom, h: number, w: number, c: number): number | undefined {
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return undefined;
  return x[(h * g.W + w) * g.C + c]!;
}

export function conv2dRef(x: readonly number[], g: ConvGeom, w: readonly number[], F: number, bias: readonly number[]): { out: number[]; shape: number[] } {
  const dh = g.dh ?? 1;
  const dw = g.dw ?? 1;
  const ph = padding(g.H, g.kh, g.sh, g.same, dh);
  const pw = padding(g.W, g.kw, g.sw, g.same, dw);
  const out: number[] = [];
  for (let oh = 0; oh < ph.out; oh += 1) {
    for (let ow = 0; ow < pw.out; ow += 1) {
      for (let f = 0; f < F; f += 1) {
        let s = bias[f] ?? 0;
        for (let i = 0; i < g.kh; i += 1) {
          for (let j = 0; j < g.kw; j += 1) {
            for (let c = 0; c < g.C; c += 1) {
              const v = at(x, g, oh * g.sh + i * dh - ph.before, ow * g.sw + j * dw - pw.before, c) ?? 0;
              s += v * w[((i * g.kw + j) * g.C + c) * F + f]!;
            }
          }
        }
        out.push(s);
      }
    }
  }
  return { out, shape: [ph.out, pw.out, F] };
}

export function depthwiseRef(x: readonly number[], g: ConvGeom, w: readonly number[], dm: number, bias: readonly number[]): { out: number[]; shape: number[] } {
  const ph = padding(g.H, g.kh, g.sh, g.same);
  const pw = padding(g.W, g.kw, g.sw, g.same);
  const out: number[] = [];
  for (let oh = 0; oh < ph.out; oh += 1) {
    for (let ow = 0; ow < pw.out; ow += 1) {
      for (let c = 0; c < g.C; c += 1) {
        for (let k = 0; k < dm; k += 1) {
          let s = bias[c * dm + k] ?? 0;
          for (let i = 0; i < g.kh; i += 1) {
            for (let j = 0; j < g.kw; j += 1) {
              const v = at(x, g, oh * g.sh + i - ph.before, ow * g.sw + j - pw.before, c) ?? 0;
              s += v * w[((i * g.kw + j) * g.C + c) * dm + k]!;
            }
          }
          out.push(s);
        }
      }
    }
  }
  return { out, shape: [ph.out, pw.out, g.C * dm] };
}

/** Average over valid cells (TensorFlow excludes padding from the count), optionally QKeras-scaled. */
export function avgPoolRef(
  x: readonly number[],
  g: ConvGeom,
  pre: number,
  mult: number,
): { out: number[]; shape: number[] } {
  const ph = padding(g.H, g.kh, g.sh, g.same);
  const pw = padding(g.W, g.kw, g.sw, g.same);
  const out: number[] = [];
  for (let oh = 0; oh < ph.out; oh += 1) {
    for (let ow = 0; ow < pw.out; ow += 1) {
      for (let c = 0; c < g.C; c += 1) {
        let s = 0;
        let n = 0;
        for (let i = 0; i < g.kh; i += 1) {
          for (let j = 0; j < g.kw; j += 1) {
            const v = at(x, g, oh * g.sh + i - ph.before, ow * g.sw + j - pw.before, c);
            if (v === undefined) continue;
            s += v * pre;
            n += 1;
          }
        }
        out.push((s / n) * mult);
      }
    }
  }
  return { out, shape: [ph.out, pw.out, g.C] };
}

/** Deterministic pseudo-random numbers (mulberry32). */
export const rng = mulberry32;

/** Random integers in [lo, hi]. */
export function randInts(r: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}
