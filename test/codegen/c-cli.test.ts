/**
 * The CLI over the C back-end: `qkeras compile --target c` writes the sources (compilable, deterministic),
 * `qkeras predict --engine c` writes the same out.json as `--engine ir` byte for byte, and errors are one
 * line with exit code 1. Runs the CLI in-process through `main`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { C_COMPILER, findOptionalTool, runTool } from '../../src/sim/tools.js';
import { STRICT_C_FLAGS } from '../../src/sim/c-runner.js';
import { CLI_CNN_INPUT_QUANTIZER as Q_IN, cliCnn, writeCliInputs } from '../helpers/cli-cnn.js';
import { runCli as run } from '../helpers/run-cli.js';

const cc = findOptionalTool(C_COMPILER);
let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-ccli-'));
  const model = cliCnn();
  await saveQmodel(model, join(dir, 'model'));
  model.dispose();
  writeCliInputs(join(dir, 'in.json'), 78, 1000);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('qkeras compile --target c', () => {
  it('writes the model, prints the API and memory, and the sources compile with the strict flags', async () => {
    const out = join(dir, 'c-out');
    const r = await run('compile', join(dir, 'model'), '--target', 'c', '--out', out, '--input-quantizer', Q_IN, '--name', 'cnn');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^c: wrote \\d+ files to ${out}$`));
    expect(lines[1]).toBe('   cnn_predict(cnn_in_t in[60] (codes, real = code * 2^-5), ...)');
    expect(lines[2]).toMatch(/^ {3}ROM \d+ bytes \(constants\), RAM \d+ bytes \(activation buffers\), largest kernel stack frame \d+ bytes$/);
    for (const f of ['model.h', 'model.c', 'weights.h', 'report.json', 'qk_common.h']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'model.h'), 'utf8')).toContain('void cnn_predict(const cnn_in_t *in, cnn_out0_t *out0, cnn_out1_t *out1);');
    if (cc !== null) {
      await runTool(cc, ['-O2', ...STRICT_C_FLAGS, '-c', join(out, 'model.c'), '-o', join(dir, 'model.o')]);
      expect(existsSync(join(dir, 'model.o'))).toBe(true);
    }
    // Compiling again gives the same files.
    const again = join(dir, 'c-again');
    await run('compile', join(dir, 'model'), '--target', 'c', '--out', again, '--input-quantizer', Q_IN, '--name', 'cnn');
    for (const f of ['model.h', 'model.c', 'weights.h']) expect(readFileSync(join(again, f), 'utf8')).toBe(readFileSync(join(out, f), 'utf8'));
  });

  it('explains a missing input quantizer and an unknown target in one line, exit code 1', async () => {
    const r1 = await run('compile', join(dir, 'model'), '--target', 'c', '--out', join(dir, 'x'));
    expect(r1.code).toBe(1);
    expect(r1.stderr.trim().split('\n')).toHaveLength(1);
    expect(r1.stderr).toMatch(/^error: the model input "img" .*--input-quantizer/);
    const r2 = await run('compile', join(dir, 'model'), '--target', 'vhdl', '--out', join(dir, 'x'));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("argument 'vhdl' is invalid. Allowed choices are c");
  });

  it('--help shows an example', async () => {
    const r = await run('compile', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('$ qkeras compile model/ --target c --out build/mnist --input-quantizer "quantized_bits(8,0,1)" --name mnist');
    expect(r.stdout).toContain('--target <target>');
  });
});

describe.skipIf(cc === null)('qkeras predict --engine c', () => {
  it('writes the same out.json as --engine ir, byte for byte, on 1,000 samples', async () => {
    const outs: string[] = [];
    for (const engine of ['ir', 'c']) {
      const out = join(dir, `${engine}.json`);
      const r = await run('predict', join(dir, 'model'), '--engine', engine, '--input', join(dir, 'in.json'), '--out', out, '--input-quantizer', Q_IN);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${engine}: wrote 1000 outputs of shape [4] to ${out}\n`);
      outs.push(readFileSync(out, 'utf8'));
    }
    expect(outs[1]).toBe(outs[0]);
    expect(JSON.parse(outs[1]!)).toHaveLength(1000);
  });

  it('reports a missing compiler (CC naming nothing) in one line with the fix', async () => {
    const saved = process.env['CC'];
    process.env['CC'] = 'no-such-compiler-qk';
    try {
      const r = await run('predict', join(dir, 'model'), '--engine', 'c', '--input', join(dir, 'in.json'), '--out', join(dir, 'x.json'), '--input-quantizer', Q_IN);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: C compiler not found (looked for CC="no-such-compiler-qk"); fix or unset CC\n');
    } finally {
      if (saved === undefined) delete process.env['CC'];
      else process.env['CC'] = saved;
    }
  });
});
