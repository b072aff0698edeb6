/**
 * `qkeras report` end to end on the community QKeras models in test/fixtures: a CNN that lowers (MNIST
 * accuracy of tfjs and the integer IR, C memory, a demo.json's verification and stages) and a model
 * whose float input has no quantizer (the report is still written, the IR sections replaced by the
 * reason), and the one-line errors of bad --demo and --synth uses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/report/types.js';
import type { VerifyReport } from '../../src/sim/verify.js';
import { runCli } from '../helpers/run-cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const CNN = [join(FIXTURES, 'qkeras_mnist_cnn.json'), '--weights', join(FIXTURES, 'qkeras_mnist_cnn_weights.h5')];
const JET = [join(FIXTURES, 'qkeras_3layer.json'), '--weights', join(FIXTURES, 'qkeras_3layer_weights.h5')];
const dir = mkdtempSync(join(tmpdir(), 'qk-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readData(html: string): ReportData {
  return JSON.parse(readFileSync(html.replace(/\.html$/, '.json'), 'utf8')) as ReportData;
}

const verified: VerifyReport = {
  target: 'c', arch: null, samples: 5, generated: 5, given: 0, codes: 55, mismatchedSamples: 1, timing: null, seconds: 0.5,
  first: { sample: 3, source: 'generated', output: 'q_dense', outputLayer: 'q_dense', index: 2, got: 7, want: 6, firstLayer: { node: 'q_dense', layer: 'q_dense', index: 2, got: 7, want: 6 } },
};

describe('qkeras report', () => {
  it('reports a lowerable MNIST CNN with accuracy, C memory and a demo run', async () => {
    const demo = join(dir, 'demo.json');
    writeFileSync(demo, JSON.stringify({ testAccuracy: 0.9, testImages: 10000, stages: [{ stage: 'train', seconds: 12.5 }], c: verified, inputQuantizer: 'quantized_bits(8,0,1)' }));
    const out = join(dir, 'cnn', 'report.html');
    const r = await runCli('report', ...CNN, '--images', '20', '--demo', demo, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`report: wrote ${out} and ${join(dir, 'cnn', 'report.json')}\n`);
    const d = readData(out);
    expect(d.model.inputQuantizer).toBe('quantized_bits(8,0,1)'); // from demo.json
    expect(d.layers.map((l) => l.className)).toEqual(['InputLayer', 'QConv2D', 'QActivation', 'MaxPooling2D', 'QConv2D', 'QActivation', 'MaxPooling2D', 'Flatten', 'Dropout', 'QDense', 'Activation']);
    expect(d.accuracy!.entries.map((e) => [e.engine, e.images])).toEqual([['tfjs', 10000], ['tfjs', 20], ['ir', 20]]);
    expect(d.stages).toEqual([{ stage: 'train', seconds: 12.5 }]);
    expect(d.verification).toHaveLength(1);
    expect(d.verification![0]!.firstMismatch).toBe(
      'generated input 3: output "q_dense" (%q_dense) element 2: got code 7, golden model 6; first differing layer: "q_dense" (%q_dense) element 2: got 7, expected 6',
    );
    expect(d.totals.c!.romBytes).toBeGreaterThan(0);
    expect(d.activationHistograms).toHaveLength(10);
    // The estimator ran for the design a CNN gets (stream): every MAC layer has figures, and the design
    // total (glue included) is at least the sum of its layers.
    expect(d.estimateSource).toMatch(/^stream architecture, xilinx target, /);
    const macs = d.layers.filter((l) => /^Q(Conv2D|Dense)$/.test(l.className));
    expect(macs.every((l) => l.estimate !== null && l.estimate.luts > 0)).toBe(true);
    const layerLuts = d.layers.reduce((s, l) => s + (l.estimate?.luts ?? 0), 0);
    expect(d.totals.estimate!.luts).toBeGreaterThanOrEqual(layerLuts);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<td class="bad">MISMATCH</td>');
  }, 120_000);

  it('still writes a report for a model that does not lower, saying why', async () => {
    const out = join(dir, 'jet.html');
    const r = await runCli('report', ...JET, '--images', '8', '--out', out);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'jet.json'))).toBe(true);
    const d = readData(out);
    expect(d.notes.ir).toMatch(/^the model was not lowered to the IR: the model input "fc1_input" \(shape \[16\]\) holds float values/);
    expect(d.notes.accuracy).toBe('no labels for 8 uniform random inputs in [-1, 1)');
    expect(d.layers.every((l) => l.ir === null && l.c === null)).toBe(true);
    expect(d.weightHistograms.length).toBeGreaterThan(0);
  }, 120_000);

  it('bad --demo and --synth uses are one-line errors', async () => {
    const notDemo = join(dir, 'not-demo.json');
    writeFileSync(notDemo, '{"a": 1}');
    const a = await runCli('report', ...JET, '--demo', notDemo);
    expect(a.code).toBe(1);
    expect(a.stderr).toBe(`error: --demo: ${notDemo} is not a demo.json written by qkeras demo (it has no "stages" list)\n`);
    const b = await runCli('report', ...JET, '--synth', '--out', join(dir, 'never.html'));
    expect(b.code).toBe(1);
    expect(b.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(b.stderr).toMatch(/^error: --synth: the model does not lower to the IR: /);
    expect(existsSync(join(dir, 'never.html'))).toBe(false);
  }, 120_000);
});
