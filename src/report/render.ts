/**
 * `renderReportHtml(data)`: the report as one self-contained HTML page — inline CSS, inline SVG plots, no
 * scripts and no external URL of any kind (a Content-Security-Policy forbids loading anything, so even a
 * page someone edited cannot reach the network). Every string from the model is HTML-escaped. Sections
 * without data show the note saying why.
 */
import { binnedHistogramSvg } from './svg-histogram.js';
import { linePlotSvg } from './svg-plot.js';
import { cell, dec, esc, inlineSvg, int, num, pct, shape, table, type Cell } from './html.js';
import type { FigureData, HistogramData, LayerEstimate, LayerRow, ReportData, SectionId, SynthCountsData } from './types.js';

const CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #5b6470; --line: #d8dee4; --head: #f3f5f7; --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--fg); background: #fff; }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); background: var(--head); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 28px 0 10px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 8px; font-size: 15px; }
main { padding: 0 28px 40px; max-width: 1500px; }
.meta, .note, figcaption, .caption { color: var(--muted); }
.note { font-style: italic; margin: 6px 0; }
nav { margin-top: 8px; }
nav a { margin-right: 12px; color: #0550ae; text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .v { font-size: 20px; font-weight: bold; }
.card .k { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
tfoot td { font-weight: bold; background: var(--head); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px "DejaVu Sans Mono", Menlo, monospace; }
.ok { color: var(--ok); font-weight: bold; }
.bad { color: var(--bad); font-weight: bold; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 14px; }
.grid.wide { grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; padding: 4px 2px 0; word-break: break-word; }
`;

/** Renders sections in order; plots get page-unique ids. */
class Page {
  private plots = 0;
  constructor(readonly data: ReportData) {}

  svg(text: string): string {
    this.plots += 1;
    return inlineSvg(text, `plot-area-${this.plots}`);
  }

  note(section: SectionId, label: string): string {
    const why = this.data.notes[section];
    return why === undefined ? '' : `<p class="note" data-note="${esc(section)}">${esc(label)}: ${esc(why)}</p>`;
  }
}

/** Quantizers by slot, `kernel_quantizer` shown as `kernel`. */
function quantizerList(quantizers: Readonly<Record<string, string>>): string {
  return Object.entries(quantizers)
    .map(([k, v]) => `${esc(k.replace(/_quantizer$/, ''))}: <code>${esc(v)}</code>`)
    .join('<br>');
}

function estimateError(estimate: number, measured: number): string {
  if (measured === 0) return estimate === 0 ? '0%' : '—';
  const e = ((estimate - measured) / measured) * 100;
  return `${e > 0 ? '+' : ''}${e.toFixed(1)}%`;
}

/** An estimate beside the Yosys figure: `123 (+4.5%)`. */
function vsMeasured(estimate: number | undefined, measured: number | undefined): string {
  if (estimate === undefined) return '—';
  return measured === undefined ? int(estimate) : `${int(estimate)} (${estimateError(estimate, measured)})`;
}

function summaryCards(d: ReportData): string {
  const cards: [string, string, string?][] = [];
  const acc = d.accuracy?.entries;
  const quantized = acc?.find((e) => e.engine === 'tfjs');
  const ir = acc?.find((e) => e.engine === 'ir');
  const float = acc?.find((e) => e.engine === 'float');
  if (float) cards.push([pct(float.accuracy), `float model accuracy (${int(float.images)} images)`]);
  if (quantized) cards.push([pct(quantized.accuracy), `quantized model accuracy (${int(quantized.images)} images)`]);
  if (ir) cards.push([pct(ir.accuracy), `integer IR accuracy (${int(ir.images)} images)`]);
  if (d.verification) {
    const bad = d.verification.filter((v) => v.mismatchedSamples > 0).length;
    const samples = d.verification.reduce((s, v) => s + v.samples, 0);
    cards.push([bad === 0 ? 'bit-exact' : `${bad} differ`, `${d.verification.map((v) => v.target).join(' + ')} vs golden model, ${int(samples)} inputs`, bad === 0 ? 'ok' : 'bad']);
  }
  const ops = Object.values(d.totals.ops).reduce((a, b) => a + b, 0);
  if (ops > 0) cards.push([int(ops), 'multiplies per inference']);
  if (d.totals.weightBits !== null) cards.push([int(d.totals.weightBits), 'bits of weights and biases']);
  if (d.totals.energyPj !== null) cards.push([`${int(d.totals.energyPj)} pJ`, 'QTools energy per inference']);
  if (d.totals.c) cards.push([`${int(d.totals.c.romBytes)} B`, `C ROM (RAM ${int(d.totals.c.ramBytes)} B)`]);
  if (d.totals.yosys) cards.push([int(d.totals.yosys.luts), `LUTs (Yosys, ${int(d.totals.yosys.ffs)} FFs)`]);
  else if (d.totals.estimate) cards.push([int(d.totals.estimate.luts), `LUTs estimated (${int(d.totals.estimate.ffs)} FFs)`]);
  const t = d.timing?.[0];
  if (t) cards.push([`${int(t.latency)}`, `cycles latency, ${dec(t.interval, 0)} per sample`]);
  return `<div class="cards" id="summary">${cards
    .map(([v, k, cls]) => `<div class="card"><div class="v${cls ? ` ${cls}` : ''}">${esc(v)}</div><div class="k">${esc(k)}</div></div>`)
    .join('')}</div>`;
}

function stagesSection(p: Page): string {
  const s = p.data.stages;
  if (s === null) return '';
  const total = s.reduce((a, r) => a + r.seconds, 0);
  return (
    '<h2 id="stages">Stages</h2>' +
    table('stages-table', ['stage', 'wall time (s)'], s.map((r) => [cell(esc(r.stage)), num(dec(r.seconds))]), [[cell('total'), num(dec(total))]])
  );
}

function accuracySection(p: Page): string {
  const a = p.data.accuracy;
  let html = '<h2 id="accuracy">Accuracy</h2>';
  if (a === null) return html + p.note('accuracy', 'Accuracy');
  html += table(
    'accuracy-table',
    ['model', 'images', 'correct', 'accuracy'],
    a.entries.map((e) => [cell(esc(e.label)), num(int(e.images)), num(int(e.correct)), num(pct(e.accuracy))]),
  );
  if (a.agreement) {
    html += `<p>The integer IR and the quantized tfjs model predict the same class on ${int(a.agreement.same)} of ${int(a.agreement.images)} images.</p>`;
  }
  if (a.inputs !== null) html += `<p class="caption">Computed here on ${esc(a.inputs)}.</p>`;
  if (a.note) html += `<p class="caption">${esc(a.note)}</p>`;
  return html + p.note('accuracy', 'Accuracy');
}

function verificationSection(p: Page): string {
  const v = p.data.verification;
  let html = '<h2 id="verification">Verification against the golden model</h2>';
  if (v === null) return html + p.note('verification', 'Verification');
  html += table(
    'verification-table',
    ['back-end', 'inputs (generated + given)', 'output codes compared', 'differing samples', 'result', 'first mismatch', 'seconds'],
    v.map((r) => [
      cell(esc(r.arch === null ? r.target : `${r.target} (${r.arch})`)),
      num(`${int(r.samples)} (${int(r.generated)} + ${int(r.given)})`),
      num(int(r.codes)),
      num(int(r.mismatchedSamples)),
      r.mismatchedSamples === 0 ? cell('bit-exact', 'ok') : cell('MISMATCH', 'bad'),
      cell(r.firstMismatch === null ? '—' : esc(r.firstMismatch)),
      num(dec(r.seconds)),
    ]),
  );
  return html;
}

function opsCell(r: LayerRow): Cell {
  if (r.ops === null) return cell('—');
  return cell(`<code>${esc(r.ops.opName)}</code><br>${esc(r.ops.op)} ${r.ops.weightBits}-bit w × ${r.ops.inputBits}-bit x: ${int(r.ops.count)}`);
}

function modelTable(d: ReportData): string {
  const body = d.layers.map((r) => [
    cell(`<code>${esc(r.name)}</code>`),
    cell(esc(r.className)),
    cell(esc(r.inputShapes.map((s) => shape(s)).join(', ') || '—')),
    cell(esc(shape(r.outputShape))),
    cell(quantizerList(r.quantizers) || '—'),
    num(int(r.params)),
    opsCell(r),
    num(int(r.weightBits)),
    num(dec(r.energyPj)),
  ]);
  const opsTotal = Object.entries(d.totals.ops).map(([k, n]) => `<code>${esc(k)}</code>: ${int(n)}`).join('<br>');
  const foot = [[cell('total'), cell(''), cell(''), cell(''), cell(''), num(int(d.totals.params)), cell(opsTotal || '—'), num(int(d.totals.weightBits)), num(dec(d.totals.energyPj))]];
  return table('layers-model', ['layer', 'class', 'input', 'output', 'quantizers', 'params', 'operations (QKeras type, widths: count)', 'weight bits', 'energy (pJ)'], body, foot);
}

function irCell(r: LayerRow): Cell {
  if (r.ir === null) return cell('—');
  if (r.ir.length === 0) return cell('<span class="caption">fused into a neighbour or removed</span>');
  return cell(r.ir.map((n) => `<code>%${esc(n.id)}</code> ${esc(n.kind)}: <code>${esc(n.type ?? '?')}</code>${n.requant ? ` ← <code>${esc(n.requant)}</code>` : ''}`).join('<br>'));
}

function accCell(r: LayerRow): Cell {
  const accs = (r.ir ?? []).filter((n) => n.acc !== null).map((n) => `<code>${esc(n.acc!)}</code>`);
  return cell(accs.length === 0 ? '—' : accs.join('<br>'));
}

function yosysCells(y: SynthCountsData | null, show: boolean): Cell[] {
  if (!show) return [];
  return y === null ? [num('—'), num('—'), num('—'), num('—')] : [num(int(y.cells)), num(int(y.luts)), num(int(y.ffs)), num(int(y.dsps))];
}

function estimateCells(e: LayerEstimate | null, y: SynthCountsData | null, show: boolean): Cell[] {
  if (!show) return [];
  if (e === null) return [num('—'), num('—'), num('—'), num('—')];
  return [num(vsMeasured(e.luts, y?.luts)), num(vsMeasured(e.ffs, y?.ffs)), num(vsMeasured(e.dsps, y?.dsps)), num(int(e.latency_cycles))];
}

function hardwareTable(d: ReportData): string {
  const showYosys = d.totals.yosys !== null;
  const showEstimate = d.totals.estimate !== null;
  const head = [
    'layer',
    'IR nodes (kind: output type ← quantizer)',
    'accumulator',
    'C ROM (B)',
    'C RAM (B)',
    ...(showYosys ? ['Yosys cells', 'LUTs', 'FFs', 'DSPs'] : []),
    ...(showEstimate ? ['LUTs', 'FFs', 'DSPs'].map((k) => `est. ${k}${showYosys ? ' (vs Yosys)' : ''}`).concat('est. latency (cycles)') : []),
  ];
  const body = d.layers.map((r) => [
    cell(`<code>${esc(r.name)}</code>`),
    irCell(r),
    accCell(r),
    num(int(r.c?.romBytes)),
    num(int(r.c?.ramBytes)),
    ...yosysCells(r.yosys, showYosys),
    ...estimateCells(r.estimate, r.yosys, showEstimate),
  ]);
  const t = d.totals;
  const foot: Cell[][] = [
    [
      cell('total'),
      cell(d.model.irNodes === null ? '—' : `${int(d.model.irNodes)} nodes`),
      cell(''),
      num(int(t.c?.romBytes)),
      num(t.c ? `${int(t.c.ramBytes)} (shared buffers)` : '—'),
      ...yosysCells(t.yosys, showYosys),
      ...estimateCells(t.estimate, t.yosys, showEstimate),
    ],
  ];
  if (t.yosys) {
    foot.push([cell('(registers and stream glue)'), cell(''), cell(''), cell(''), cell(''), ...yosysCells(t.yosys.glue, true), ...(showEstimate ? [cell(''), cell(''), cell(''), cell('')] : [])]);
  }
  return table('layers-hw', head, body, foot);
}

function layersSection(p: Page): string {
  const d = p.data;
  const synth = d.synthesis;
  return (
    '<h2 id="layers">Layers</h2>' +
    '<h3>Model, quantizers and cost</h3>' +
    modelTable(d) +
    p.note('energy', 'Operations and energy') +
    '<h3>Hardware</h3>' +
    (synth ? `<p class="caption">Yosys: ${esc(synth.yosys)}, ${esc(synth.family)} target, ${esc(synth.arch)} architecture, top <code>${esc(synth.top)}</code>, ${dec(synth.seconds)} s.</p>` : '') +
    (d.estimateSource ? `<p class="caption">Estimates: ${esc(d.estimateSource)}.</p>` : '') +
    hardwareTable(d) +
    p.note('ir', 'IR') +
    p.note('c', 'C') +
    p.note('synthesis', 'Synthesis') +
    p.note('estimate', 'Estimate')
  );
}

function timingSection(p: Page): string {
  const t = p.data.timing;
  let html = '<h2 id="timing">Cycles</h2>';
  if (t === null) return html + p.note('timing', 'Cycles');
  html += table(
    'timing-table',
    ['measured by', 'architecture', 'latency (cycles)', 'cycles per sample', 'samples'],
    t.map((r) => [cell(esc(r.source)), cell(esc(r.arch)), num(int(r.latency)), num(dec(r.interval, 1)), num(int(r.samples))]),
  );
  return html;
}

function figure(p: Page, f: FigureData, size: { width: number; height: number; legend: 'below' | 'none' }): string {
  const svg = linePlotSvg({ series: f.series, title: f.title, xLabel: f.xLabel, yLabel: f.yLabel, width: size.width, height: size.height, legend: size.legend });
  return `<figure>${p.svg(svg)}<figcaption>${esc(f.caption)}</figcaption></figure>`;
}

function quantizerSection(p: Page): string {
  const d = p.data;
  let html = '<h2 id="quantizers">Quantizers</h2>';
  if (d.quantizerFigures.length > 0) {
    html += `<div class="grid">${d.quantizerFigures.map((f) => figure(p, f, { width: 480, height: 320, legend: 'none' })).join('')}</div>`;
  }
  html += p.note('quantizers', 'Quantizers');
  if (d.seedFigures !== null) {
    html += `<h3>The seed's stochastic quantizer figures</h3><div class="grid wide">${d.seedFigures
      .map((f) => figure(p, f, { width: 640, height: 420, legend: 'below' }))
      .join('')}</div>`;
  }
  return html + p.note('seedFigures', "Seed's figures");
}

/** Shortest text that round-trips a statistic well enough for people (at most 6 significant digits). */
function fmt(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function histogramFigure(p: Page, h: HistogramData): string {
  const svg = binnedHistogramSvg({ edges: [...h.edges], counts: [...h.counts] }, { width: 420, height: 260, xLabel: 'value' });
  const stats = `${int(h.values)} values in [${fmt(h.min)}, ${fmt(h.max)}]${h.distinct === null ? '' : `, ${int(h.distinct)} distinct`}`;
  return (
    `<figure>${p.svg(svg)}<figcaption><code>${esc(h.layer)}</code> ${esc(h.what)}` +
    `${h.quantizer ? ` — <code>${esc(h.quantizer)}</code>` : ''}<br>${esc(stats)}</figcaption></figure>`
  );
}

function histogramSection(p: Page, id: string, title: string, section: SectionId, hists: readonly HistogramData[], intro: string | null): string {
  let html = `<h2 id="${id}">${esc(title)}</h2>`;
  if (intro !== null) html += `<p class="caption">${esc(intro)}</p>`;
  if (hists.length > 0) html += `<div class="grid">${hists.map((h) => histogramFigure(p, h)).join('')}</div>`;
  return html + p.note(section, title);
}

function warningsSection(d: ReportData): string {
  if (d.irWarnings.length === 0) return '';
  return `<h2 id="warnings">IR checker warnings</h2><ul>${d.irWarnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
}

const NAV: readonly (readonly [string, string])[] = [
  ['stages', 'Stages'],
  ['accuracy', 'Accuracy'],
  ['verification', 'Verification'],
  ['layers', 'Layers'],
  ['timing', 'Cycles'],
  ['quantizers', 'Quantizers'],
  ['weights', 'Weights'],
  ['activations', 'Activations'],
];

/** The whole page (see the module comment). */
export function renderReportHtml(data: ReportData): string {
  const p = new Page(data);
  const m = data.model;
  const meta = [
    `model <code>${esc(m.name)}</code> from <code>${esc(m.source)}</code>`,
    `input ${esc(shape(m.inputShape, false))}${m.inputQuantizer ? ` quantized by <code>${esc(m.inputQuantizer)}</code>` : ''}, output ${esc(shape(m.outputShape, false))}`,
    `${int(m.layers)} layers${m.irNodes === null ? '' : `, ${int(m.irNodes)} IR nodes`}`,
    `${esc(data.generator)}, ${esc(data.created)}`,
  ].join(' · ');
  const nav = NAV.filter(([id]) => id !== 'stages' || data.stages !== null)
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  const body = [
    stagesSection(p),
    accuracySection(p),
    verificationSection(p),
    layersSection(p),
    timingSection(p),
    quantizerSection(p),
    histogramSection(p, 'weights', 'Weights', 'weights', data.weightHistograms, 'Latent float weights (what training updates) and quantized weights (what inference and the hardware use).'),
    histogramSection(p, 'activations', 'Activations', 'activations', data.activationHistograms, data.activationSource === null ? null : `Layer outputs on ${data.activationSource}, tfjs inference.`),
    warningsSection(data),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(data.title)}</h1>
<div class="meta">${meta}</div>
<nav>${nav}</nav>
${summaryCards(data)}
</header>
<main>
${body}
</main>
</body>
</html>
`;
}
