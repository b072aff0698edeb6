/**
 * The three QKeras models of hls4ml's example-models (test/fixtures/models) as the hardware flow takes
 * them — the input quantizer each needs, the Verilog architecture it is checked in, how MNIST pixels are
 * scaled for it — and the float jet tagger quantized to 6 bits with examples/jet-tagger-q6.json. Shared by
 * test/import/verify-models.test.ts and scripts/verify-imported.ts.
 */
import { readFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { loadModel, LoadedModel } from '../../src/engines/loaded-model.js';
import { importKeras } from '../../src/import/import-keras.js';
import { loadMnist } from '../../src/data/mnist.js';
import { modelQuantize, type QuantizerConfig } from '../../src/utils/model-quantize.js';
import type { VerilogArch } from '../../src/codegen/verilog-manifest.js';
import { jsonPath, weightsPath } from './fixtures.js';

export interface CommunityModel {
  readonly name: 'qkeras_3layer' | 'qkeras_mnist_dense' | 'qkeras_mnist_cnn';
  /** Declared input quantizer, or null when the model quantizes its own input (a leading QActivation). */
  readonly inputQuantizer: string | null;
  readonly arch: VerilogArch;
  /** MNIST models: real input = pixel / pixelScale. */
  readonly pixelScale: number | null;
}

export const COMMUNITY_MODELS: readonly CommunityModel[] = [
  // hls4ml's config for the jet tagger uses ap_fixed<16,6> inputs: 16 bits, 6 integer bits with the sign.
  { name: 'qkeras_3layer', inputQuantizer: 'quantized_bits(16,6,1)', arch: 'parallel', pixelScale: null },
  // Its first layer, QActivation quantized_relu(2), quantizes the input; hls4ml's tests feed pixels / 255.
  { name: 'qkeras_mnist_dense', inputQuantizer: null, arch: 'parallel', pixelScale: 255 },
  // The CNN reads the float image directly: pixels / 256 are exactly the 8-bit unsigned codes below.
  { name: 'qkeras_mnist_cnn', inputQuantizer: 'quantized_bits(8,0,0,keep_negative=False,alpha=1)', arch: 'stream', pixelScale: 256 },
];

export function communityModel(name: CommunityModel['name']): CommunityModel {
  return COMMUNITY_MODELS.find((m) => m.name === name)!;
}

/** The model loaded from its Keras JSON and HDF5 weights, as `qkeras verify model.json --weights ...` does. */
export function loadCommunityModel(m: CommunityModel): Promise<LoadedModel> {
  return loadModel(jsonPath(m.name), { weights: weightsPath(m.name), inputQuantizer: m.inputQuantizer });
}

/** The example model_quantize config of the Q6 jet tagger. */
export const Q6_CONFIG_PATH = new URL('../../examples/jet-tagger-q6.json', import.meta.url).pathname;
export const Q6_INPUT_QUANTIZER = 'quantized_bits(16,6,1)';

/** KERAS_3layer (float) quantized with examples/jet-tagger-q6.json, its float weights transferred. */
export async function quantizeJetTaggerQ6(): Promise<tf.LayersModel> {
  const float = await importKeras(jsonPath('KERAS_3layer'), weightsPath('KERAS_3layer'));
  try {
    const config = JSON.parse(readFileSync(Q6_CONFIG_PATH, 'utf8')) as QuantizerConfig;
    // activationBits 6 only matters for layers the config does not name; it names every relu.
    return modelQuantize(float, config, 6, { transferWeights: true });
  } finally {
    float.dispose();
  }
}

/** The Q6 jet tagger as the engines take it. */
export async function loadJetTaggerQ6(): Promise<LoadedModel> {
  return new LoadedModel('KERAS_3layer + examples/jet-tagger-q6.json', await quantizeJetTaggerQ6(), Q6_INPUT_QUANTIZER);
}

/** MNIST test images `start .. start+count` as flat real inputs (pixel / scale) and their labels. */
export function mnistTestInputs(scale: number, start: number, count: number): { inputs: number[][]; labels: number[] } {
  const test = loadMnist().test;
  const inputs = Array.from({ length: count }, (_, k) => Array.from(test.pixels.subarray((start + k) * 784, (start + k + 1) * 784), (p) => p / scale));
  return { inputs, labels: Array.from(test.labels.subarray(start, start + count)) };
}

/** Index of the largest value (the first on ties), as argmax of the logits. */
export function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i += 1) if (row[i]! > row[best]!) best = i;
  return best;
}

/** How many rows' argmax equals the label. */
export function correct(outputs: readonly (readonly number[])[], labels: readonly number[]): number {
  return outputs.reduce((n, row, k) => n + (argmax(row) === labels[k] ? 1 : 0), 0);
}

