/**
 * `qkeras demo` end to end at smoke size: a few hundred training images (the quantized CNN only: the
 * float comparison is the same training loop, and the report's float path is tested in
 * test/report), C verified on 30 MNIST test images, the streaming Verilog on 1, the report on 30 (the
 * real run uses 60k / 10k / 20 / 1000). Needs gcc and Verilator.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { C_COMPILER, findOptionalTool, VERILATOR } from '../../src/sim/tools.js';
import type { ReportData } from '../../src/report/types.js';
import { runCli } from '../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'qk-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const haveTools = findOptionalTool(C_COMPILER) !== null && findOptionalTool(VERILATOR) !== null;

describe.skipIf(!haveTools)('qkeras demo (smoke size; skipped without cc and verilator)', () => {
  it('trains, reports, emits C and Verilog, and verifies both against the golden model', async () => {
    const out = join(dir, 'demo');
    const r = await runCli('demo', '--out', out, '--train-samples', '300', '--c-images', '30', '--verilog-images', '1', '--report-images', '30', '--no-float');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('C vs golden model: 30 MNIST test images, 330 output codes, 0 differing samples'); // 10 logits + the argmax each
    expect(r.stdout).toMatch(/Verilog \(stream\) vs golden model: 1 images, 11 output codes, 0 differing samples/);
    for (const f of ['model/model.json', 'model/weights.bin', 'qstats.txt', 'c/model.c', 'c/model.h', 'verilog/manifest.json', 'demo.json', 'report.html', 'report.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')) as { stages: { stage: string }[]; c: { first: unknown }; verilog: { first: unknown } };
    expect(summary.stages.map((s) => s.stage)).toEqual(['train', 'qstats', 'lower', 'emit C', 'emit Verilog', 'estimate', 'verify C', 'verify Verilog (stream)', 'report']);
    expect(summary.c.first).toBeNull();
    expect(summary.verilog.first).toBeNull();
    expect(readFileSync(join(out, 'qstats.txt'), 'utf8')).toContain('conv2d_2                      : 2985984 (smux_2_2)');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(report.accuracy!.entries.map((e) => [e.engine, e.images])).toEqual([['tfjs', 10000], ['tfjs', 30], ['ir', 30]]);
    expect(report.accuracy!.agreement!.images).toBe(30);
    expect(report.verification!.map((v) => [v.target, v.samples, v.mismatchedSamples])).toEqual([['c', 30, 0], ['verilog', 1, 0]]);
    expect(report.stages!.map((s) => s.stage)).toEqual(summary.stages.map((s) => s.stage).slice(0, -1));
    expect(report.layers.find((l) => l.name === 'conv2d_2')!.ops!.opName).toBe('smux_2_2');
    // The estimator's figures for the streaming design it emitted, beside the (absent) Yosys column.
    expect(report.estimateSource).toMatch(/^stream architecture, xilinx target, /);
    expect(report.layers.find((l) => l.name === 'conv2d_2')!.estimate!.luts).toBeGreaterThan(0);
  }, 600_000);
});
