/**
 * A small, dependency-free SVG line plot: axes with "nice" ticks, a legend, one polyline per series.
 * The output is a self-contained SVG document (no scripts, no external fonts or stylesheets), so it can be
 * committed, embedded in HTML reports or opened directly.
 */

export interface LineSeries {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** CSS colour; defaults to the next colour of the palette. */
  readonly color?: string;
  /** Stroke width in px (default 1.5). */
  readonly width?: number;
}

export interface LinePlotOptions {
  readonly series: readonly LineSeries[];
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Canvas size in px (default 800 x 560). */
  readonly width?: number;
  readonly height?: number;
  /**
   * Where the legend goes: inside the plot area (top-left, the default, or bottom-right), under the plot
   * (`below`, which never hides a curve; the canvas grows to fit it), or nowhere.
   */
  readonly legend?: 'top-left' | 'bottom-right' | 'below' | 'none';
}

// matplotlib's default colour cycle, so figures read like the QKeras ones they mirror.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** "Nice" tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: non-finite range [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Tick label: as few decimals as the step needs, no float noise (0.30000000000000004 -> 0.3). */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const decimals = Math.max(0, -Math.floor(Math.log10(Math.abs(step)) + 1e-9));
  return v.toFixed(Math.min(decimals, 12));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Coordinates with 2 decimals keep files small and diffs stable. */
function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

function extent(values: readonly number[], what: string): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) throw new RangeError(`linePlotSvg: no finite ${what} values`);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

/** Renders the series as an SVG document string. */
export function linePlotSvg(options: LinePlotOptions): string {
  const { series } = options;
  if (series.length === 0) throw new RangeError('linePlotSvg: no series to plot');
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new RangeError(`linePlotSvg: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    }
  }
  const width = options.width ?? 800;
  const legendLineH = 18;
  const belowH = options.legend === 'below' ? series.length * legendLineH + 16 : 0;
  const height = (options.height ?? 560) + belowH;
  const margin = { left: 80, right: 24, top: options.title ? 44 : 20, bottom: 56 + belowH };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const [x0, x1] = extent(series.flatMap((s) => s.x), 'x');
  const [yLo, yHi] = extent(series.flatMap((s) => s.y), 'y');
  // 5% head room above and below so the saturated levels do not sit on the frame.
  const yPad = (yHi - yLo) * 0.05;
  const [y0, y1] = [yLo - yPad, yHi + yPad];
  const sx = (v: number): number => margin.left + ((v - x0) / (x1 - x0)) * plotW;
  const sy = (v: number): number => margin.top + (1 - (v - y0) / (y1 - y0)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) {
    out.push(
      `<text x="${fmt(margin.left + plotW / 2)}" y="26" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
    );
  }

  // Grid and ticks.
  const xt = niceTicks(x0, x1, 8);
  const yt = niceTicks(y0, y1, 8);
  const xStep = xt.length > 1 ? xt[1]! - xt[0]! : 1;
  const yStep = yt.length > 1 ? yt[1]! - yt[0]! : 1;
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of xt) out.push(`<line x1="${fmt(sx(t))}" y1="${margin.top}" x2="${fmt(sx(t))}" y2="${margin.top + plotH}"/>`);
  for (const t of yt) out.push(`<line x1="${margin.left}" y1="${fmt(sy(t))}" x2="${margin.left + plotW}" y2="${fmt(sy(t))}"/>`);
  out.push('</g>');
  out.push('<g fill="#222">');
  for (const t of xt) {
    out.push(
      `<text x="${fmt(sx(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${formatTick(t, xStep)}</text>`,
    );
  }
  for (const t of yt) {
    out.push(`<text x="${margin.left - 8}" y="${fmt(sy(t) + 4)}" text-anchor="end">${formatTick(t, yStep)}</text>`);
  }
  out.push('</g>');
  if (options.xLabel) {
    out.push(
      `<text x="${fmt(margin.left + plotW / 2)}" y="${margin.top + plotH + 42}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    const cy = fmt(margin.top + plotH / 2);
    out.push(`<text x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})">${escapeXml(options.yLabel)}</text>`);
  }

  // Series, clipped to the plot area.
  out.push(
    `<clipPath id="plot-area"><rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"/></clipPath>`,
  );
  out.push('<g clip-path="url(#plot-area)" fill="none" stroke-linejoin="round">');
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts: string[] = [];
    for (let k = 0; k < s.x.length; k++) {
      if (Number.isFinite(s.x[k]) && Number.isFinite(s.y[k])) pts.push(`${fmt(sx(s.x[k]!))},${fmt(sy(s.y[k]!))}`);
    }
    out.push(`<polyline stroke="${color}" stroke-width="${s.width ?? 1.5}" points="${pts.join(' ')}"/>`);
  });
  out.push('</g>');
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#222"/>`);

  if (options.legend !== 'none') {
    const boxW = Math.max(...series.map((s) => s.name.length)) * 7 + 44;
    const boxH = series.length * legendLineH + 10;
    let bx = margin.left + 10;
    let by = margin.top + 10;
    if (options.legend === 'bottom-right') {
      bx = margin.left + plotW - boxW - 10;
      by = margin.top + plotH - boxH - 10;
    } else if (options.legend === 'below') {
      bx = margin.left;
      by = margin.top + plotH + 56;
    }
    const frame = options.legend === 'below' ? 'none' : '#bbb';
    out.push(`<g><rect x="${bx}" y="${by}" width="${boxW}" height="${boxH}" fill="white" fill-opacity="0.9" stroke="${frame}"/>`);
    series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      const yy = by + 14 + i * legendLineH;
      out.push(`<line x1="${bx + 8}" y1="${yy - 4}" x2="${bx + 30}" y2="${yy - 4}" stroke="${color}" stroke-width="2"/>`);
      out.push(`<text x="${bx + 36}" y="${yy}" fill="#222">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
