/**
 * `--share` on the hardware commands: `qkeras compile --target verilog --share` writes layers with
 * shared terms (and without the flag none), and compile, verify and predict refuse the flag in one line
 * with the stream architecture or an engine that builds no hardware. (Simulating shared designs is
 * test/sim/verilog-share.test.ts.)
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QDense } from '../../src/layers/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { runCli } from '../helpers/run-cli.js';
import { randomizeWeights, rng } from '../lower/zoo.js';

const Q_IN = 'quantized_bits(8,2,1)';
let dir: string;
let model: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-share-cli-'));
  const input = tf.input({ shape: [12], name: 'x' });
  let x = new QDense({ units: 10, kernelQuantizer: 'quantized_bits(5,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_relu(6,2)', name: 'fc1' }).apply(input) as tf.SymbolicTensor;
  x = new QDense({ units: 6, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'fc2' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: x, name: 'share_cli' });
  randomizeWeights(m, rng(31));
  model = join(dir, 'model');
  await saveQmodel(m, model);
  m.dispose();
  writeFileSync(join(dir, 'in.json'), JSON.stringify([Array.from({ length: 12 }, (_, i) => (i % 3) - 1)]));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Generated layer modules of a compiled design that declare shared terms. */
function sharedModules(out: string): string[] {
  return readdirSync(out)
    .filter((f) => f.startsWith('share_cli_') && readFileSync(join(out, f), 'utf8').includes('u_mv_s0 ='))
    .sort();
}

describe('--share on the hardware commands', () => {
  it('compile --share writes shared terms into the layers; without it there are none', async () => {
    const out = join(dir, 'shared');
    const r = await runCli('compile', model, '--target', 'verilog', '--share', '--out', out, '--input-quantizer', Q_IN);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sharedModules(out)).toEqual(['share_cli_fc1.v', 'share_cli_fc2.v']);
    const plain = join(dir, 'plain');
    expect((await runCli('compile', model, '--target', 'verilog', '--out', plain, '--input-quantizer', Q_IN)).code).toBe(0);
    expect(sharedModules(plain)).toEqual([]);
  });

  it('compile, verify, synth and predict refuse it with --arch stream or an engine that builds no hardware', async () => {
    const r = await runCli('compile', model, '--target', 'verilog', '--arch', 'stream', '--share', '--out', join(dir, 'x'), '--input-quantizer', Q_IN);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--share applies to --arch parallel only, got --arch stream');
    const v = await runCli('verify', model, '--target', 'verilog', '--arch', 'stream', '--share', '--input-quantizer', Q_IN);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('--share applies to --arch parallel only');
    const s = await runCli('synth', model, '--arch', 'stream', '--share', '--input-quantizer', Q_IN);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('--share applies to --arch parallel only');
    const p = await runCli('predict', model, '--engine', 'ir', '--share', '--input', join(dir, 'in.json'), '--out', join(dir, 'o.json'), '--input-quantizer', Q_IN);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('--share applies to the verilog engine, got --engine ir');
  });
});
