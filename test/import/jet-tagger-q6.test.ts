/**
 * The float jet tagger (hls4ml's KERAS_3layer) quantized to Q6 with the example model_quantize config
 * examples/jet-tagger-q6.json (quantized_bits(6,0,alpha=1) kernels and biases, quantized_relu(6)
 * activations, softmax kept): the quantizers are the ones asked for, the float weights are transferred
 * unchanged (they stay the latent weights), print_qstats and the QTools energy are as QKeras computes them,
 * the model lowers to the IR and its C equals the golden model; `qkeras quantize` with the example file
 * gives the same model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { importKeras } from '../../src/import/import-keras.js';
import { quantizerSummary } from '../../src/layers/summary.js';
import { lowerModel } from '../../src/lower/lower-model.js';
import { printQstats } from '../../src/ops/estimate.js';
import { QTools } from '../../src/qtools/index.js';
import { describeMismatch, verifyGraph } from '../../src/sim/verify.js';
import { loadQmodel } from '../../src/utils/save-load.js';
import { runCli } from '../helpers/run-cli.js';
import { Q6_CONFIG_PATH, Q6_INPUT_QUANTIZER, quantizeJetTaggerQ6 } from './community-models.js';
import { bits, jsonPath, weightsPath } from './fixtures.js';

let q6: tf.LayersModel;
let float: tf.LayersModel;
let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-q6-'));
  float = await importKeras(jsonPath('KERAS_3layer'), weightsPath('KERAS_3layer'));
  q6 = await quantizeJetTaggerQ6();
});

afterAll(() => {
  q6.dispose();
  float.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const weightBits = (m: tf.LayersModel): Uint32Array[] => m.getWeights().map((w) => bits(w.dataSync() as Float32Array));

const Q6_SUMMARY = [
  'input_1 (InputLayer)',
  'fc1_relu (QDense): kernel=quantized_bits(6,0,0,alpha=1) bias=quantized_bits(6,0,0,alpha=1) activation=quantized_relu(6,0)',
  'fc2_relu (QDense): kernel=quantized_bits(6,0,0,alpha=1) bias=quantized_bits(6,0,0,alpha=1) activation=quantized_relu(6,0)',
  'fc3_relu (QDense): kernel=quantized_bits(6,0,0,alpha=1) bias=quantized_bits(6,0,0,alpha=1) activation=quantized_relu(6,0)',
  'output_softmax (QDense): kernel=quantized_bits(6,0,0,alpha=1) bias=quantized_bits(6,0,0,alpha=1) activation=softmax',
].join('\n');

describe('KERAS_3layer quantized to Q6 by examples/jet-tagger-q6.json', () => {
  it('has quantized_bits(6,0,alpha=1) kernels and biases and quantized_relu(6) activations; softmax stays', () => {
    expect(quantizerSummary(q6)).toBe(Q6_SUMMARY);
  });

  it('carries the float weights over unchanged', () => {
    expect(weightBits(q6)).toEqual(weightBits(float));
  });

  it("print_qstats: QKeras's operation counts and 6-bit weight profile", () => {
    const text = printQstats(q6, { print: false });
    expect(text).toContain('\nNumber of operation types in model:\n    smult_6_6                     : 3232\n    smult_6_8                     : 1024\n');
    expect(text).toContain('    Total Bits                     : 26334\n');
  });

  it('energy estimate (QTools, horowitz, SRAM) with the ap_fixed<16,6> input', () => {
    const tools = new QTools(q6, { sourceQuantizers: Q6_INPUT_QUANTIZER, process: 'horowitz', isInference: true, modelWeightsAlreadyQuantized: false });
    const total = tools.extractEnergySum(null, tools.pe({ weightsOnMemory: 'sram', activationsOnMemory: 'sram' }));
    expect(total).toBe(6220);
  });

  it('lowers to four 6-bit dense layers and an argmax, and its C equals the golden model on 300 inputs', async () => {
    const g = lowerModel(q6, { inputQuantizer: Q6_INPUT_QUANTIZER });
    expect(g.nodes.map((n) => `${n.origin.layer}:${n.kind}`)).toEqual(['input_1:input', 'fc1_relu:dense', 'fc2_relu:dense', 'fc3_relu:dense', 'output_softmax:dense', 'output_softmax:argmax']);
    // The hidden layers end in quantized_relu(6): unsigned 6-bit codes with 6 fractional bits.
    for (const name of ['fc1_relu', 'fc2_relu', 'fc3_relu']) {
      expect(g.nodes.find((n) => n.origin.layer === name)!.type).toEqual({ kind: 'fixed', signed: false, width: 6, frac: 6 });
    }
    const r = await verifyGraph(g, { target: 'c', generated: 300, seed: 11 });
    expect(r.first === null ? null : describeMismatch(r.first)).toBeNull();
    expect(r.codes).toBe(300 * 6);
  });

  it('`qkeras quantize` with the example file gives the same model', async () => {
    const out = join(dir, 'q6');
    const r = await runCli('quantize', jsonPath('KERAS_3layer'), '--weights', weightsPath('KERAS_3layer'), '--config', Q6_CONFIG_PATH, '--transfer-weights', '--out', out);
    expect(r.code).toBe(0);
    const saved = await loadQmodel(out);
    expect(quantizerSummary(saved)).toBe(Q6_SUMMARY);
    expect(weightBits(saved)).toEqual(weightBits(q6));
    saved.dispose();
  });
});
