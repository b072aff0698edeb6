/**
 * `qkeras predict`: both engines agree through their out.json files (byte for byte), for a tfjs model
 * directory and for a Keras JSON + HDF5 weights; every bad-input class exits 1 with a one-line message;
 * --help shows an example. Runs the CLI in-process through `main`, and once as a real process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { exportKeras } from '../../src/import/export-keras.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { logitsModel } from '../../src/engines/index.js';
import { CLI_CNN_INPUT_QUANTIZER as Q_IN, cliCnn, nested, writeCliInputs } from '../helpers/cli-cnn.js';
import { runCli as run } from '../helpers/run-cli.js';

let dir: string;
let model: tf.LayersModel;
let xs: number[][];

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-predict-'));
  model = cliCnn();
  await saveQmodel(model, join(dir, 'model'));
  await exportKeras(model, join(dir, 'keras'));
  xs = writeCliInputs(join(dir, 'in.json'), 78, 300);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('qkeras predict: the engines agree through out.json', () => {
  it('tfjs model directory: tfjs and ir write identical files holding the logits', async () => {
    const outs: string[] = [];
    for (const engine of ['tfjs', 'ir']) {
      const out = join(dir, `${engine}.json`);
      const r = await run('predict', join(dir, 'model'), '--engine', engine, '--input', join(dir, 'in.json'), '--out', out, '--input-quantizer', Q_IN);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${engine}: wrote 300 outputs of shape [4] to ${out}\n`);
      outs.push(readFileSync(out, 'utf8'));
    }
    expect(outs[1]).toBe(outs[0]);
    const parsed = JSON.parse(outs[0]!) as number[][];
    expect(parsed).toHaveLength(300);
    // The values are the logits feeding the softmax, computed after the input quantizer.
    const q = getQuantizer(Q_IN)!;
    const want = tf.tidy(() => (logitsModel(model).predict(q.call(tf.tensor4d(xs.flat(), [300, 6, 5, 2]), { training: false })) as tf.Tensor).arraySync()) as number[][];
    expect(parsed).toEqual(want);
  });

  it('Keras model JSON with --weights gives the same outputs', async () => {
    const base = readFileSync(join(dir, 'ir.json'), 'utf8');
    for (const engine of ['tfjs', 'ir']) {
      const out = join(dir, `keras-${engine}.json`);
      const r = await run('predict', join(dir, 'keras', 'model.json'), '--weights', join(dir, 'keras', 'model_weights.h5'), '--engine', engine, '--input', join(dir, 'in.json'), '--out', out, '--input-quantizer', Q_IN);
      expect(r.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(base);
    }
  });
});

describe('qkeras predict: bad input exits 1 with one line', () => {
  /** The model, --input file and input quantizer of a case; the default is the good model and quantizer. */
  interface Case {
    readonly model?: string;
    readonly input: string;
    readonly quantizer?: string | null;
  }
  const firstValue = /^\[\[\[\[[^,]+,/;
  const cases: [string, () => Case, RegExp][] = [
    ['missing input file', () => ({ input: join(dir, 'nope.json') }), /^error: input file .*nope\.json does not exist$/],
    ['input that is not JSON', () => ({ input: file('broken.json', '[[1, 2') }), /^error: .*broken\.json is not valid JSON: .+$/],
    [
      'input that is not an array',
      () => ({ input: file('obj.json', '{"x": 1}') }),
      /^error: .*obj\.json must hold an array of samples \(each a nested array of shape \[6, 5, 2\]\), found an object$/,
    ],
    [
      'a sample of the wrong shape',
      () => ({ input: file('shape.json', JSON.stringify([nested(xs[0]!), nested(xs[1]!).slice(1)])) }),
      /^error: .*shape\.json: sample 1 has shape \[5, 5, 2\]; the model expects \[6, 5, 2\]$/,
    ],
    [
      'an infinite value',
      () => ({ input: file('inf.json', JSON.stringify([nested(xs[0]!)]).replace(firstValue, '[[[[1e999,')) }),
      /^error: .*inf\.json: sample 0 at \[0, 0, 0\] is Infinity; inputs must be finite numbers$/,
    ],
    [
      'a NaN written as a string',
      () => ({ input: file('nan.json', JSON.stringify([nested(xs[0]!)]).replace(firstValue, '[[[["NaN",')) }),
      /^error: .*nan\.json: sample 0 at \[0, 0, 0\] is "NaN", not a number$/,
    ],
    ['a missing model', () => ({ model: join(dir, 'no-model'), input: join(dir, 'in.json') }), /^error: model .*no-model does not exist$/],
    [
      'no input quantizer for a float input',
      () => ({ input: join(dir, 'in.json'), quantizer: null }),
      /^error: the model input "img" \(shape \[6, 5, 2\]\) holds float values and feeds QConv2D "conv" unquantized; .*--input-quantizer.*$/,
    ],
    ['an invalid input quantizer', () => ({ input: join(dir, 'in.json'), quantizer: 'quantized_bitz(4)' }), /^error: .*quantized_bitz.*$/],
  ];

  function file(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  for (const [name, make, message] of cases) {
    it(name, async () => {
      const c = make();
      const quantizer = c.quantizer === undefined ? Q_IN : c.quantizer;
      const out = join(dir, `fail-${name.replace(/\W/g, '_')}.json`);
      const r = await run(
        'predict',
        c.model ?? join(dir, 'model'),
        '--engine',
        'ir',
        '--input',
        c.input,
        '--out',
        out,
        ...(quantizer === null ? [] : ['--input-quantizer', quantizer]),
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('an unknown engine or a missing flag is a usage error (exit 1)', async () => {
    const bad = await run('predict', join(dir, 'model'), '--engine', 'gpu', '--input', join(dir, 'in.json'), '--out', join(dir, 'x.json'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/argument 'gpu' is invalid\. Allowed choices are tfjs, ir/);
    const missing = await run('predict', join(dir, 'model'), '--engine', 'ir', '--out', join(dir, 'x.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/required option '--input <file>' not specified/);
  });

  it('--help documents the command with an example', async () => {
    const r = await run('predict', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: qkeras predict [options] <model>');
    expect(r.stdout).toContain('--input-quantizer <quantizer>');
    expect(r.stdout).toContain('$ qkeras predict model/ --engine ir   --input in.json --out ir.json   --input-quantizer "quantized_bits(8,0,1)"');
    expect(r.stdout).toContain('for a model ending in softmax the logits');
  });
});

describe('as a process', () => {
  it('exits 1 with the one-line message and no stack trace', async () => {
    const exec = promisify(execFile);
    const args = ['tsx', 'src/cli-entry.ts', 'predict', join(dir, 'model'), '--engine', 'tfjs', '--input', join(dir, 'missing.json'), '--out', join(dir, 'p.json')];
    const result = await exec('npx', args, { cwd: join(import.meta.dirname, '..', '..') }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('error') || l.includes(' at '));
    expect(lines).toEqual([`error: input file ${join(dir, 'missing.json')} does not exist`]);
  });
});
