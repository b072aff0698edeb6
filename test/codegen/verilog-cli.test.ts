/**
 * The CLI over the Verilog back-end: `qkeras compile --target verilog` writes the RTL and its manifest
 * (deterministically), `qkeras predict --engine verilog` writes the same out.json as `--engine ir` byte
 * for byte in both architectures, `qkeras verify` reports agreement (exit 0) and refuses bad flags in
 * one line (exit 1). Runs the CLI in-process through `main`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { runCli } from '../helpers/run-cli.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { CLI_CNN_INPUT_QUANTIZER, cliCnn, writeCliInputs } from '../helpers/cli-cnn.js';

const Q_IN = CLI_CNN_INPUT_QUANTIZER;
const verilator = findOptionalTool(VERILATOR);
let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-vcli-'));
  const model = cliCnn();
  await saveQmodel(model, join(dir, 'model'));
  model.dispose();
  writeCliInputs(join(dir, 'in.json'), 79, 300);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  process.exitCode = undefined;
});

const run = runCli;

describe('qkeras compile --target verilog', () => {
  it('writes the RTL and manifest for both architectures, the same files every time', async () => {
    for (const arch of ['parallel', 'stream']) {
      const out = join(dir, `rtl-${arch}`);
      const r = await run('compile', join(dir, 'model'), '--target', 'verilog', '--arch', arch, '--reuse', '2', '--out', out, '--input-quantizer', Q_IN, '--name', 'cnn');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^verilog: wrote \\d+ files and manifest.json to ${out}$`));
      expect(lines[1]).toMatch(new RegExp(`^ {3}top module cnn \\(${arch}\\): in_data \\d+ bits, out_data \\d+ bits; `));
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { top: string; arch: string; files: string[] };
      expect(manifest).toMatchObject({ top: 'cnn', arch });
      for (const f of manifest.files) expect(existsSync(join(out, f))).toBe(true);
      const again = join(dir, `rtl-${arch}-again`);
      await run('compile', join(dir, 'model'), '--target', 'verilog', '--arch', arch, '--reuse', '2', '--out', again, '--input-quantizer', Q_IN, '--name', 'cnn');
      for (const f of manifest.files) expect(readFileSync(join(again, f), 'utf8')).toBe(readFileSync(join(out, f), 'utf8'));
    }
  });

  it('refuses a bad --arch or --reuse in one line, exit code 1', async () => {
    const r1 = await run('compile', join(dir, 'model'), '--target', 'verilog', '--arch', 'systolic', '--out', join(dir, 'x'), '--input-quantizer', Q_IN);
    expect(r1.code).toBe(1);
    expect(r1.stderr.trim()).toBe('error: --arch must be parallel or stream, got "systolic"');
    const r2 = await run('compile', join(dir, 'model'), '--target', 'verilog', '--arch', 'stream', '--reuse', 'conv=0', '--out', join(dir, 'x'), '--input-quantizer', Q_IN);
    expect(r2.code).toBe(1);
    expect(r2.stderr.trim()).toBe('error: --reuse for layer "conv" must be a positive integer, got "0"');
  });
});

describe.skipIf(verilator === null)(`qkeras predict --engine verilog and verify${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
  it('predict: out.json equals --engine ir byte for byte, parallel and stream', async () => {
    const ir = join(dir, 'ir.json');
    expect((await run('predict', join(dir, 'model'), '--engine', 'ir', '--input', join(dir, 'in.json'), '--out', ir, '--input-quantizer', Q_IN)).code).toBe(0);
    for (const arch of ['parallel', 'stream']) {
      const out = join(dir, `v-${arch}.json`);
      const r = await run('predict', join(dir, 'model'), '--engine', 'verilog', '--arch', arch, '--input', join(dir, 'in.json'), '--out', out, '--input-quantizer', Q_IN);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`verilog: wrote 300 outputs of shape [4] to ${out}`);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(ir, 'utf8'));
    }
  }, 300_000);

  it('verify: every code equals the golden model, exit 0; a bad --target exits 1 in one line', async () => {
    const r = await run('verify', join(dir, 'model'), '--target', 'verilog', '--arch', 'stream', '--input', join(dir, 'in.json'), '--count', '200', '--input-quantizer', Q_IN);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^verilog \(stream\): 200 generated \+ 300 given inputs, 2500 output codes: every code equals the golden model; measured \d+ cycles to the first result, [\d.]+ cycles per sample under back-pressure$/);
    const bad = await run('verify', join(dir, 'model'), '--target', 'vhdl', '--input-quantizer', Q_IN);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('error: --target must be one of c, verilog, got "vhdl"');
  }, 300_000);
});
