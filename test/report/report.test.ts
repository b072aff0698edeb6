/**
 * The report's data and page: per-layer rows joined from each analysis (checked against the analyses
 * themselves), accuracy of tfjs and the integer IR, plain JSON, the notes of absent sections, the
 * estimator's slot with its error against Yosys, and a page that escapes every model string and refers
 * to nothing outside itself.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { extractModelOperations } from '../../src/ops/estimate.js';
import { irClasses, tfjsClasses } from '../../src/report/accuracy.js';
import { reportJsonPath, writeReport } from '../../src/report/build.js';
import { esc, inlineSvg } from '../../src/report/html.js';
import { renderReportHtml } from '../../src/report/render.js';
import { REPORT_FORMAT, type LayerRow, type ReportData } from '../../src/report/types.js';
import type { SynthCounts, SynthReport } from '../../src/sim/yosys.js';
import { buildFixture, CONV, HOSTILE, HOSTILE_SOURCE, INPUT_QUANTIZER, smallCnn, type Fixture } from './fixture.js';

let fx: Fixture;
const dir = mkdtempSync(join(tmpdir(), 'qk-report-'));

beforeAll(async () => {
  await ready();
  fx = buildFixture();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(data: ReportData, name: string): LayerRow {
  const r = data.layers.find((l) => l.name === name);
  if (r === undefined) throw new Error(`no row ${name}`);
  return r;
}

function counts(luts: number, ffs: number): SynthCounts {
  return { cells: luts + ffs, luts, ffs, dsps: 0, carry: 0, brams: 0, lutram: 0, byType: {} };
}

describe('buildReportData', () => {
  it('has one row per layer with the shapes, quantizers, op classification and weight bits', () => {
    const d = fx.data;
    expect(d.format).toBe(REPORT_FORMAT);
    expect(d.layers.map((l) => l.name)).toEqual(['img', CONV, 'act', 'flat', 'head', 'softmax']);
    const conv = row(d, CONV);
    expect(conv.className).toBe('QConv2D');
    expect(conv.inputShapes).toEqual([[null, 6, 6, 1]]);
    expect(conv.outputShape).toEqual([null, 4, 4, 3]);
    // The quantizers in effect: QKeras's auto_po2 default scale applied to ternary kernels.
    expect(conv.quantizers).toEqual({ kernel_quantizer: "ternary(alpha='auto_po2')", bias_quantizer: 'quantized_po2(4)' });
    expect(row(d, 'img').quantizers).toEqual({ input_quantizer: 'quantized_bits(8,0,1)' });
    const ops = extractModelOperations(fx.model).layers;
    expect(conv.ops).toEqual({ opName: ops[CONV]!.opName, op: ops[CONV]!.type[0], weightBits: 2, inputBits: 8, count: 4 * 4 * 3 * 9 });
    // 27 ternary weights at 2 bits, 3 po2(4) biases at 4 bits.
    expect(conv.weightBits).toBe(27 * 2 + 3 * 4);
    expect(row(d, 'head').weightBits).toBe(48 * 4 * 4 + 4 * 4); // 48x4 weights and 4 biases, 4 bits each
    expect(d.totals.weightBits).toBe(27 * 2 + 3 * 4 + 48 * 4 * 4 + 4 * 4);
    expect(d.totals.ops).toEqual({ smux_2_8: 432, smult_4_3: 192 });
    expect(row(d, 'flat').ops).toBeNull();
  });

  it('shows the IR nodes with their exact accumulators, and layers fused away', () => {
    const conv = row(fx.data, CONV);
    const node = fx.lowered.graph.nodes.find((n) => n.origin.layer === CONV)!;
    expect(conv.ir).toHaveLength(1);
    expect(conv.ir![0]!.id).toBe(node.id);
    expect(conv.ir![0]!.acc).toMatch(/^fixed<s\d+,\d+>$/);
    expect(conv.ir![0]!.requant).toBe('quantized_relu(3,0)');
    expect(row(fx.data, 'act').ir).toEqual([]); // fused into the convolution
    expect(fx.data.model.irNodes).toBe(fx.lowered.graph.nodes.length);
  });

  it('joins the C memory per layer and keeps the totals of the C report', () => {
    const c = fx.inputs.c!;
    expect(row(fx.data, 'head').c).toEqual({ romBytes: c.layers.find((l) => l.layer === 'head')!.romBytes, ramBytes: c.layers.find((l) => l.layer === 'head')!.ramBytes });
    expect(fx.data.totals.c).toEqual({ romBytes: c.romBytes, ramBytes: c.ramBytes, stackBytes: c.stackBytes });
  });

  it('scores tfjs and the integer IR on the same labelled inputs; on-grid inputs give the same classes', () => {
    const a = fx.data.accuracy!;
    const tfjs = tfjsClasses(fx.model, fx.images);
    const ir = irClasses(fx.lowered.graph, fx.lowered.softmax, fx.images);
    const correct = (p: Uint8Array) => p.filter((c, i) => c === fx.images.labels![i]).length;
    expect(a.entries.map((e) => [e.engine, e.images, e.correct])).toEqual([
      ['tfjs', 40, correct(tfjs)],
      ['ir', 40, correct(ir)],
    ]);
    expect(Array.from(ir)).toEqual(Array.from(tfjs));
    expect(a.agreement).toEqual({ images: 40, same: 40 });
  });

  it('scores a float model on the same inputs, first', () => {
    const float = smallCnn();
    const d = buildFixture({ floatModel: { model: float, label: 'float twin' }, measuredAccuracy: [{ label: 'at training', engine: 'tfjs', correct: 9, images: 10, accuracy: 0.9 }], seedFigures: false }).data;
    const expected = tfjsClasses(float, fx.images).filter((c, i) => c === fx.images.labels![i]).length;
    expect(d.accuracy!.entries.map((e) => [e.label, e.images, e.correct])).toEqual([
      ['at training', 10, 9],
      ['float twin, tfjs float32', 40, expected],
      ['quantized model, tfjs float32', 40, fx.data.accuracy!.entries[0]!.correct],
      [`integer IR (input ${INPUT_QUANTIZER})`, 40, fx.data.accuracy!.entries[1]!.correct],
    ]);
  });

  it('histograms every weight (float and quantized) and every layer output', () => {
    const w = fx.data.weightHistograms.map((h) => `${h.layer}: ${h.what}`);
    expect(w).toEqual([
      `${CONV}: kernel (float)`,
      `${CONV}: bias (float)`,
      `${CONV}: kernel (quantized)`,
      `${CONV}: bias (quantized)`,
      'head: kernel (float)',
      'head: bias (float)',
      'head: kernel (quantized)',
      'head: bias (quantized)',
    ]);
    const ternary = fx.data.weightHistograms[2]!;
    expect(ternary.values).toBe(27);
    expect(ternary.counts.reduce((a, b) => a + b, 0)).toBe(27);
    expect(ternary.distinct).toBeLessThanOrEqual(3);
    const act = fx.data.activationHistograms.find((h) => h.layer === 'act')!;
    expect(act.values).toBe(10 * 4 * 4 * 3);
    expect(act.quantizer).toBe('quantized_relu(3,0)');
    expect(act.distinct).toBeLessThanOrEqual(8); // 3 bits
  });

  it('draws each distinct quantizer once, and the seed figures', () => {
    expect(fx.data.quantizerFigures.map((f) => f.title)).toEqual([
      'quantized_bits(8,0,1)',
      "ternary(alpha='auto_po2')",
      'quantized_po2(4)',
      'quantized_relu(3,0)',
      "quantized_bits(4,0,1,alpha='auto_po2')",
      'quantized_bits(4,0,0)',
    ]);
    expect(fx.data.quantizerFigures[1]!.caption).toBe(`used by ${CONV} kernel`);
    const relu = fx.data.quantizerFigures[3]!.series[0]!;
    expect(new Set(relu.y).size).toBe(8);
    expect(fx.data.seedFigures!.map((f) => f.series.length)).toEqual([3, 3]);
  });

  it('is plain JSON and says why absent sections are absent', () => {
    expect(JSON.parse(JSON.stringify(fx.data))).toEqual(fx.data);
    expect(fx.data.verification).toBeNull();
    expect(fx.data.synthesis).toBeNull();
    expect(Object.keys(fx.data.notes).sort()).toEqual(['estimate', 'stages', 'synthesis', 'timing', 'verification']);
  });

  it('leaves the IR sections out, with the reason, for a model that does not lower', () => {
    const d = buildFixture({ lowered: { error: 'no input quantizer' }, c: null, seedFigures: false, images: null }).data;
    expect(d.notes.ir).toBe('the model was not lowered to the IR: no input quantizer');
    expect(d.layers.every((l) => l.ir === null)).toBe(true);
    expect(d.accuracy).toBeNull();
    expect(d.notes.accuracy).toBe('no inputs were given');
    expect(d.seedFigures).toBeNull();
    const html = renderReportHtml(d);
    expect(html).toContain('data-note="ir"');
    expect(html).toContain('data-note="activations"');
  });

  it("fills the estimator's slot and renders it beside Yosys with the relative error", () => {
    const synth: SynthReport = {
      top: 'small', arch: 'stream', family: 'xilinx', yosys: 'Yosys test', engine: 'native', seconds: 1,
      layers: [{ module: 'm', layer: 'head', node: 'head', counts: counts(200, 40) }],
      glue: counts(5, 10),
      total: counts(205, 50),
    };
    const d = buildFixture({ synth, estimates: { layers: { head: { luts: 220, ffs: 40, dsps: 0, latency_cycles: 12 } }, total: { luts: 226, ffs: 52, dsps: 0, latency_cycles: 14 }, label: 'stream architecture, xilinx target, test' }, seedFigures: false }).data;
    expect(row(d, 'head').yosys).toEqual({ cells: 240, luts: 200, ffs: 40, dsps: 0, carry: 0 });
    expect(d.totals.estimate).toEqual({ luts: 226, ffs: 52, dsps: 0, latency_cycles: 14 });
    expect(d.estimateSource).toBe('stream architecture, xilinx target, test');
    const html = renderReportHtml(d);
    expect(html).toContain('220 (+10.0%)');
    expect(html).toContain('40 (0.0%)');
    // The design total (glue included) beside Yosys's total: 226 vs 205 LUTs.
    expect(html).toContain('226 (+10.2%)');
    expect(html).toContain('Estimates: stream architecture, xilinx target, test.');
    expect(html).toContain('est. latency (cycles)');
    expect(html).toContain('est. LUTs (vs Yosys)');
    // Without Yosys the estimate columns do not promise a comparison.
    const alone = renderReportHtml(buildFixture({ estimates: d.totals.estimate === null ? null : { layers: { head: d.totals.estimate }, total: d.totals.estimate, label: 'x' }, seedFigures: false }).data);
    expect(alone).toContain('<th>est. LUTs</th>');
    expect(alone).not.toContain('vs Yosys');
  });
});

describe('renderReportHtml', () => {
  it('escapes every model string and refers to nothing outside the page', () => {
    const html = renderReportHtml(fx.data);
    expect(html).not.toContain('<script');
    expect(html).toContain(esc(CONV));
    expect(html).toContain(esc(HOSTILE));
    expect(html).toContain(esc(HOSTILE_SOURCE));
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/https?:\/\//);
    // No attribute that loads anything; links only to anchors of the page itself.
    expect(html).not.toMatch(/<[^>]+\s(?:src|srcset|action|data)\s*=/i);
    expect([...html.matchAll(/\shref="([^"]*)"/g)].every((m) => m[1]!.startsWith('#'))).toBe(true);
    expect(html).not.toMatch(/@import|url\((?!#)/);
    expect(html).toContain("default-src 'none'");
  });

  it('gives every plot its own clip path', () => {
    const html = renderReportHtml(fx.data);
    const ids = [...html.matchAll(/<clipPath id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(fx.data.quantizerFigures.length + fx.data.seedFigures!.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(inlineSvg('<svg xmlns="http://www.w3.org/2000/svg"><clipPath id="plot-area"/><g clip-path="url(#plot-area)"/></svg>', 'p7')).toBe(
      '<svg><clipPath id="p7"/><g clip-path="url(#p7)"/></svg>',
    );
  });

  it('writes report.html and report.json beside it', () => {
    const html = join(dir, 'out', 'report.html');
    const json = writeReport(fx.data, html);
    expect(json).toBe(join(dir, 'out', 'report.json'));
    expect(reportJsonPath('x/y.htm')).toBe('x/y.json');
    expect(reportJsonPath('x/page')).toBe('x/page.json');
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(fx.data);
    expect(readFileSync(html, 'utf8')).toBe(renderReportHtml(fx.data));
  });
});
