/**
 * A small, dependency-free SVG histogram (what QKeras's `quantized_model_debug` draws with matplotlib's
 * `hist(values, bins=25)`): equal-width bins over [min, max], bars, axes with "nice" ticks (shared with
 * `svg-plot.ts`), a title. The output is a self-contained SVG document.
 */
import { formatTick, niceTicks } from './svg-plot.js';

export interface HistogramOptions {
  /** Number of equal-width bins between the smallest and largest finite value (default 25, as QKeras). */
  readonly bins?: number;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Canvas size in px (default 640 x 420). */
  readonly width?: number;
  readonly height?: number;
  /** CSS colour of the bars (default matplotlib's first colour). */
  readonly color?: string;
}

export interface Histogram {
  /** Bin edges, `bins + 1` of them. */
  readonly edges: number[];
  readonly counts: number[];
}

/**
 * numpy's `histogram(values, bins)`: equal-width bins over [min, max] of the finite values, the last bin
 * closed on the right. A constant input gets the range [v - 0.5, v + 0.5] as numpy does.
 */
export function histogram(values: ArrayLike<number>, bins = 25): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, received ${bins}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    let b = Math.floor(((v - lo) / (hi - lo)) * bins);
    if (b >= bins) b = bins - 1;
    if (b < 0) b = 0;
    counts[b]!++;
  }
  return { edges, counts };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A count axis label short enough for the margin: 250000 → 250k, 1500000 → 1.5M. */
export function countTick(v: number, step: number): string {
  if (Math.abs(v) >= 1e6) return `${formatTick(v / 1e6, step / 1e6)}M`;
  if (Math.abs(v) >= 1e4) return `${formatTick(v / 1e3, step / 1e3)}k`;
  return formatTick(v, step);
}

function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** Renders the histogram of `values` as an SVG document string. */
export function histogramSvg(values: ArrayLike<number>, options: HistogramOptions = {}): string {
  return binnedHistogramSvg(histogram(values, options.bins ?? 25), options);
}

/** Renders already binned counts (`options.bins` is ignored) as an SVG document string. */
export function binnedHistogramSvg(h: Histogram, options: HistogramOptions = {}): string {
  const { edges, counts } = h;
  if (edges.length !== counts.length + 1 || counts.length === 0) {
    throw new RangeError(`binnedHistogramSvg: ${counts.length} counts need ${counts.length + 1} edges, received ${edges.length}`);
  }
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 20, top: options.title ? 40 : 16, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x0 = edges[0]!;
  const x1 = edges[edges.length - 1]!;
  const yMax = Math.max(1, ...counts) * 1.05;
  const sx = (v: number): number => margin.left + ((v - x0) / (x1 - x0)) * plotW;
  const sy = (v: number): number => margin.top + (1 - v / yMax) * plotH;
  const color = options.color ?? '#1f77b4';

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) {
    out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  }
  const xt = niceTicks(x0, x1, 6);
  const yt = niceTicks(0, yMax, 6);
  const xStep = xt.length > 1 ? xt[1]! - xt[0]! : 1;
  const yStep = yt.length > 1 ? yt[1]! - yt[0]! : 1;
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of yt) out.push(`<line x1="${margin.left}" y1="${fmt(sy(t))}" x2="${margin.left + plotW}" y2="${fmt(sy(t))}"/>`);
  out.push('</g>');
  out.push(`<g fill="${color}" stroke="white" stroke-width="0.5">`);
  counts.forEach((c, i) => {
    if (c === 0) return;
    const xa = sx(edges[i]!);
    const xb = sx(edges[i + 1]!);
    out.push(`<rect x="${fmt(xa)}" y="${fmt(sy(c))}" width="${fmt(Math.max(xb - xa, 0.5))}" height="${fmt(sy(0) - sy(c))}"><title>[${edges[i]}, ${edges[i + 1]}): ${c}</title></rect>`);
  });
  out.push('</g>');
  out.push('<g fill="#222">');
  for (const t of xt) {
    if (t < x0 || t > x1) continue;
    out.push(`<text x="${fmt(sx(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${formatTick(t, xStep)}</text>`);
  }
  for (const t of yt) out.push(`<text x="${margin.left - 8}" y="${fmt(sy(t) + 4)}" text-anchor="end">${countTick(t, yStep)}</text>`);
  out.push('</g>');
  if (options.xLabel) {
    out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  }
  const yLabel = options.yLabel ?? 'count';
  const cy = fmt(margin.top + plotH / 2);
  out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(yLabel)}</text>`);
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#222"/>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
