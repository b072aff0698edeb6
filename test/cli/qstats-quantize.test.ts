/**
 * `qkeras qstats` prints QKeras's print_qstats text for a saved model without changing its weights;
 * `qkeras quantize` applies the lab book's model_quantize config to a saved float model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { createFloatModel, createQModel, LABBOOK_QUANTIZE_CONFIG } from '../../src/models/labbook.js';
import { printQstats } from '../../src/ops/estimate.js';
import { loadQmodel, saveQmodel } from '../../src/utils/save-load.js';
import { runCli } from '../helpers/run-cli.js';

let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-qstats-'));
  await saveQmodel(createQModel(), join(dir, 'qmodel'));
  await saveQmodel(createFloatModel(), join(dir, 'float'));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(LABBOOK_QUANTIZE_CONFIG));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qkeras qstats', () => {
  it("prints QKeras's operation table for the lab book QModel and leaves the weights alone", async () => {
    const weightsBefore = readFileSync(join(dir, 'qmodel', 'weights.bin'));
    const r = await runCli('qstats', join(dir, 'qmodel'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const expected = printQstats(await loadQmodel(join(dir, 'qmodel')), { print: false });
    expect(r.stdout).toBe(`${expected}\n`);
    // stochastic_ternary kernels on an 8-bit unsigned (assumed) input: smux_2_8; quantized_relu(2) → smux_2_2.
    expect(r.stdout).toContain(`    conv2d_1                      : 109512 (smux_2_8)`);
    expect(r.stdout).toContain(`    conv2d_2                      : 2985984 (smux_2_2)`);
    expect(r.stdout).toContain(`    dense                         : 184320 (smult_3_2)`);
    expect(readFileSync(join(dir, 'qmodel', 'weights.bin')).equals(weightsBefore)).toBe(true);
  });

  it('adds the QTools energy estimate with --energy', async () => {
    const r = await runCli('qstats', join(dir, 'qmodel'), '--energy');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Energy estimate \(QTools, horowitz process, SRAM\): \d+ pJ per inference/);
  });

  it('fails with one line for a missing model', async () => {
    const r = await runCli('qstats', join(dir, 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: model ${join(dir, 'nope')} does not exist\n`);
  });
});

describe('qkeras quantize', () => {
  it("applies the lab book's model_quantize config with transferred weights", async () => {
    const out = join(dir, 'quantized');
    const r = await runCli('quantize', join(dir, 'float'), '--config', join(dir, 'cfg.json'), '--transfer-weights', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stochastic_binary(alpha='auto_po2')");
    expect(r.stdout).toContain(`saved the quantized model to ${out}`);
    const q = await loadQmodel(out);
    const float = await loadQmodel(join(dir, 'float'));
    expect(q.getLayer('conv2d_1').getClassName()).toBe('QConv2D');
    expect(q.getLayer('act_2').getClassName()).toBe('QActivation');
    // Transferred: the latent kernel equals the float model's.
    expect(Array.from(q.getLayer('conv2d_2').getWeights()[0]!.dataSync())).toEqual(
      Array.from(float.getLayer('conv2d_2').getWeights()[0]!.dataSync()),
    );
  });

  it('reports a bad config file and an unknown layer name in one line each', async () => {
    writeFileSync(join(dir, 'bad.json'), '{not json');
    const bad = await runCli('quantize', join(dir, 'float'), '--config', join(dir, 'bad.json'), '--out', join(dir, 'x'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: --config: .*bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ no_such_layer: { kernel_quantizer: 'binary' } }));
    const unknown = await runCli('quantize', join(dir, 'float'), '--config', join(dir, 'unknown.json'), '--out', join(dir, 'y'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no_such_layer');
  });
});
