/**
 * The small quantized CNN the CLI tests run (QConv2D → flatten → QDense → softmax on a `[6, 5, 2]` input
 * named `img`, seeded weights) and its input files.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { QConv2D, QDense } from '../../src/layers/index.js';
import { randomizeWeights, rng, samples } from '../lower/zoo.js';

/** The input quantizer the CLI tests pass with `--input-quantizer`. */
export const CLI_CNN_INPUT_QUANTIZER = 'quantized_bits(8,2,1)';

/** The model, named `cli_cnn`, with weights from seed 77. */
export function cliCnn(): tf.LayersModel {
  const input = tf.input({ shape: [6, 5, 2], name: 'img' });
  let x = new QConv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_relu(4,2)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({ units: 4, kernelQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'head' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'cli_cnn' });
  randomizeWeights(model, rng(77));
  return model;
}

/** One flat sample of 60 values as the nested `[6][5][2]` array an --input file holds. */
export function nested(flat: number[]): number[][][] {
  return Array.from({ length: 6 }, (_, i) => Array.from({ length: 5 }, (_, j) => [flat[(i * 5 + j) * 2]!, flat[(i * 5 + j) * 2 + 1]!]));
}

/** Writes `count` samples from `seed` (codes on the 2^-5 grid) to `file` and returns them flat. */
export function writeCliInputs(file: string, seed: number, count: number): number[][] {
  const xs = samples(rng(seed), count, 60, { frac: 5, lo: -127, hi: 127 });
  writeFileSync(file, JSON.stringify(xs.map(nested)));
  return xs;
}
