/**
 * `qkeras import`: a Keras/QKeras model JSON + HDF5 weights (or a full .h5) becomes a tfjs model directory
 * holding the same layers, quantizers and weights (bit for bit), which predict, verify and compile take
 * like the JSON itself; the command says what the hardware commands need; every bad input exits 1 with
 * one line (unsupported layers all at once, by name and class) and writes nothing.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { importKeras } from '../../src/import/import-keras.js';
import { exportKerasH5 } from '../../src/import/export-keras.js';
import { quantizerSummary } from '../../src/layers/summary.js';
import { loadQmodel } from '../../src/utils/save-load.js';
import { runCli } from '../helpers/run-cli.js';
import { bits, jsonPath, modelJson, weightsPath } from '../import/fixtures.js';

const JET_Q = 'quantized_bits(16,6,1)';
let dir: string;
/** qkeras_mnist_dense as one full-model HDF5 file (model.save layout). */
let fullH5: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-import-cli-'));
  // Jet-tagger inputs on the 2^-3 grid, including both saturating extremes of ap_fixed<16,6> (±32).
  const xs = Array.from({ length: 40 }, (_, k) => Array.from({ length: 16 }, (_, i) => (k === 0 ? 40 : k === 1 ? -40 : (((k * 16 + i) * 37) % 257) / 8 - 16)));
  writeFileSync(join(dir, 'jet.json'), JSON.stringify(xs));
  const dense = await importKeras(jsonPath('qkeras_mnist_dense'), weightsPath('qkeras_mnist_dense'));
  fullH5 = join(dir, 'mnist_dense_full.h5');
  await exportKerasH5(dense, fullH5);
  dense.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function weightBits(m: tf.LayersModel): Uint32Array[] {
  return m.getWeights().map((w) => bits(w.dataSync() as Float32Array));
}

/** stderr of a failed run: exit code 1 and exactly one line starting "error: ". */
function oneLineError(r: { code: number; stdout: string; stderr: string }): string {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  return lines[0]!;
}

describe('qkeras import: Keras JSON + HDF5 weights to a tfjs model directory', () => {
  it('writes model.json + weights.bin holding the same layers, quantizers and weights', async () => {
    const out = join(dir, 'jet');
    const r = await runCli('import', jsonPath('qkeras_3layer'), '--weights', weightsPath('qkeras_3layer'), '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`imported ${jsonPath('qkeras_3layer')} + ${weightsPath('qkeras_3layer')}: Sequential "sequential", 9 layers, 4,389 parameters`);
    expect(lines).toContain('fc1 (QDense): kernel=quantized_bits(6,0,0,alpha=1) bias=quantized_bits(6,0,0,alpha=1) activation=linear');
    expect(lines).toContain('relu3 (QActivation): activation=quantized_relu(6,0)');
    expect(lines.at(-2)).toMatch(/^hardware: the model input is float; give compile, predict, verify and synth --input-quantizer/);
    expect(lines.at(-1)).toBe(`wrote the tfjs model (model.json + weights.bin) to ${out}`);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);

    const direct = await importKeras(jsonPath('qkeras_3layer'), weightsPath('qkeras_3layer'));
    const saved = await loadQmodel(out);
    expect(saved.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual(direct.layers.map((l) => `${l.name}:${l.getClassName()}`));
    expect(quantizerSummary(saved)).toBe(quantizerSummary(direct));
    expect(weightBits(saved)).toEqual(weightBits(direct));
    direct.dispose();
    saved.dispose();
  });

  it('predict and verify take the directory and the JSON + --weights alike', async () => {
    const outs: string[] = [];
    for (const [name, model] of [
      ['dir', [join(dir, 'jet')]],
      ['json', [jsonPath('qkeras_3layer'), '--weights', weightsPath('qkeras_3layer')]],
    ] as const) {
      const out = join(dir, `jet-${name}.json`);
      const r = await runCli('predict', ...model, '--engine', 'ir', '--input', join(dir, 'jet.json'), '--out', out, '--input-quantizer', JET_Q);
      expect(r.code).toBe(0);
      outs.push(readFileSync(out, 'utf8'));
    }
    expect(outs[1]).toBe(outs[0]);
    expect((JSON.parse(outs[0]!) as number[][]).length).toBe(40);
    const v = await runCli('verify', jsonPath('qkeras_3layer'), '--weights', weightsPath('qkeras_3layer'), '--input-quantizer', JET_Q, '--target', 'c', '--count', '200', '--input', join(dir, 'jet.json'));
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe('c: 200 generated + 40 given inputs, 1440 output codes: every code equals the golden model');
  });

  it('imports a full-model .h5 (model.save), which compile also takes directly', async () => {
    const out = join(dir, 'mnist-dense');
    const r = await runCli('import', fullH5, '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`imported ${fullH5}: Model "functional_5", 6 layers, 15,910 parameters\n`);
    expect(r.stdout).toContain('q_dense_2 (QDense): kernel=quantized_po2(4,1) bias=quantized_bits(2,0,1) activation=linear\n');
    expect(r.stdout).toContain('hardware: lowers to the fixed-point IR as it is (compile, verify and synth take it directly)\n');
    const direct = await importKeras(jsonPath('qkeras_mnist_dense'), weightsPath('qkeras_mnist_dense'));
    const saved = await loadQmodel(out);
    expect(weightBits(saved)).toEqual(weightBits(direct));
    const c = await runCli('compile', fullH5, '--target', 'c', '--out', join(dir, 'mnist-dense-c'));
    expect(c.code).toBe(0);
    expect(existsSync(join(dir, 'mnist-dense-c', 'model.c'))).toBe(true);
    saved.dispose();
    direct.dispose();
  });

  it('names the float layers of an unquantized model and points to qkeras quantize', async () => {
    const r = await runCli('import', jsonPath('KERAS_3layer'), '--weights', weightsPath('KERAS_3layer'), '--out', join(dir, 'float'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'hardware: 4 layers have no fixed-point form: fc1_relu (Dense), fc2_relu (Dense), fc3_relu (Dense), output_softmax (Dense); ' +
        'convert them with `qkeras quantize --config cfg.json`\n',
    );
  });

  it('--help explains the command with an example; qkeras --help lists it', async () => {
    const r = await runCli('import', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: qkeras import [options] <model>');
    expect(r.stdout).toContain('$ qkeras import qkeras_3layer.json --weights qkeras_3layer_weights.h5 --out jet-tagger');
    expect((await runCli('--help')).stdout).toMatch(/\n {2}import \[options\] <model> +read a Keras\/QKeras model/);
  });
});

describe('qkeras import: bad input exits 1 with one line and writes nothing', () => {
  /** The jet tagger's JSON with an LSTM, an unknown class and a quantizer that does not exist. */
  function brokenJson(): string {
    const json = modelJson('qkeras_3layer');
    const layers = (json['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> }).layers;
    layers[2]!.class_name = 'LSTM';
    layers[3]!.config['kernel_quantizer'] = { class_name: 'quantized_weird', config: {} };
    layers[4]!.class_name = 'FancyLayer';
    const path = join(dir, 'broken.json');
    writeFileSync(path, JSON.stringify(json));
    return path;
  }

  const out = (): string => join(dir, 'never-written');

  it('lists every unsupported layer at once, by name and class', async () => {
    const line = oneLineError(await runCli('import', brokenJson(), '--weights', weightsPath('qkeras_3layer'), '--out', out()));
    expect(line).toMatch(/^error: .*broken\.json: cannot import the model, 3 problems: layers "relu1" \(LSTM\), "relu2" \(FancyLayer\): unknown layer class; supported: Activation, /);
    expect(line).toContain(' | layer "fc2" (QDense): QDense(fc2): kernelQuantizer=');
    expect(line).toContain('unknown class_name "quantized_weird"');
  });

  it.each([
    ['a missing model file', () => [join(dir, 'nope.json'), '--out', out()], /^error: model .*nope\.json does not exist$/],
    ['a missing weights file', () => [jsonPath('qkeras_3layer'), '--weights', join(dir, 'nope.h5'), '--out', out()], /^error: weights file .*nope\.h5 does not exist$/],
    [
      'a weights-only .h5 as the model',
      () => [weightsPath('qkeras_3layer'), '--out', out()],
      /^error: .*qkeras_3layer_weights\.h5 holds weights only \(save_weights\); import it together with the model JSON/,
    ],
    ['a full .h5 with --weights', () => [fullH5, '--weights', weightsPath('qkeras_3layer'), '--out', out()], /^error: .*\.h5 is a full Keras model file; --weights is only for a Keras model JSON$/],
    [
      'weights of another model',
      () => [jsonPath('qkeras_3layer'), '--weights', weightsPath('qkeras_mnist_cnn'), '--out', out()],
      /^error: .*qkeras_mnist_cnn_weights\.h5: the weights do not match the model: layers "fc1", "fc2", "fc3", "output": expected 2 weights \(kernel, bias\), found no weights for this layer in the file \| layers "q_conv2d", "q_conv2d_1", "q_dense": expected a layer of that name in the model/,
    ],
    ['a model file that is not JSON', () => [writeFile('garbage.json', '{"class_name": '), '--out', out()], /^error: .*garbage\.json is not valid JSON: /],
  ])('%s', async (_what, args, message) => {
    expect(oneLineError(await runCli('import', ...args()))).toMatch(message);
    expect(existsSync(out())).toBe(false);
  });

  it('--out is required', async () => {
    const r = await runCli('import', jsonPath('qkeras_3layer'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: required option '--out <dir>' not specified");
  });

  function writeFile(name: string, text: string): string {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  }
});
