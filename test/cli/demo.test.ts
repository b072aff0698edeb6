/**
 * `qkeras demo` end to end at smoke size: a few hundred training images, C verified on 30 MNIST test
 * images and the streaming Verilog on 1 (the real run uses 60k / 10k / 20). Needs gcc and Verilator.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { C_COMPILER, findOptionalTool, VERILATOR } from '../../src/sim/tools.js';
import { runCli } from '../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'qk-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const haveTools = findOptionalTool(C_COMPILER) !== null && findOptionalTool(VERILATOR) !== null;

describe.skipIf(!haveTools)('qkeras demo (smoke size; skipped without cc and verilator)', () => {
  it('trains, reports, emits C and Verilog, and verifies both against the golden model', async () => {
    const out = join(dir, 'demo');
    const r = await runCli('demo', '--out', out, '--train-samples', '300', '--c-images', '30', '--verilog-images', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('C vs golden model: 30 MNIST test images, 330 output codes, 0 differing samples'); // 10 logits + the argmax each
    expect(r.stdout).toMatch(/Verilog \(stream\) vs golden model: 1 images, 11 output codes, 0 differing samples/);
    for (const f of ['model/model.json', 'model/weights.bin', 'qstats.txt', 'c/model.c', 'c/model.h', 'verilog/manifest.json', 'demo.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')) as { stages: { stage: string }[]; c: { first: unknown }; verilog: { first: unknown } };
    expect(summary.stages.map((s) => s.stage)).toEqual(['train', 'qstats', 'lower', 'emit C', 'emit Verilog', 'verify C', 'verify Verilog (stream)']);
    expect(summary.c.first).toBeNull();
    expect(summary.verilog.first).toBeNull();
    expect(readFileSync(join(out, 'qstats.txt'), 'utf8')).toContain('conv2d_2                      : 2985984 (smux_2_2)');
  }, 600_000);
});
