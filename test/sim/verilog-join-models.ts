/**
 * Q models whose streams meet (residual adds, concatenations), lowered to the IR for the stream
 * architecture's join tests. Each exercises a different way branches can run out of step: a three-way
 * add; an inception-style concatenation of four branches with different number formats; branches of
 * different strides where one finishes its image early; a branch straight from the graph input
 * beside a convolution; single-word vectors; a causal conv1d beside a same-padded one. Weights are
 * seeded.
 */
import * as tf from '@tensorflow/tfjs';
import { QActivation, QConv1D, QConv2D, QDense } from '../../src/layers/index.js';
import { lowerModel } from '../../src/lower/index.js';
import type { Graph } from '../../src/ir/index.js';
import { randomizeWeights, rng } from '../lower/zoo.js';

type T = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: T | T[]): T => l.apply(x) as T;

const K = 'quantized_bits(4,0,1)';
const B = 'quantized_bits(6,2,1)';

function conv(name: string, filters: number, kernelSize: number, extra: Record<string, unknown> = {}, activation = 'quantized_relu(4,2)'): QConv2D {
  return new QConv2D({ filters, kernelSize, padding: 'same', kernelQuantizer: K, biasQuantizer: B, activation, name, ...extra });
}

function head(x: T, units: number, activation = 'softmax'): T {
  return ap(new QDense({ units, kernelQuantizer: K, biasQuantizer: B, activation, name: 'head' }), ap(tf.layers.flatten({ name: 'flatten' }), x));
}

export interface JoinModel {
  readonly name: string;
  readonly graph: Graph;
}

function lowered(name: string, input: T, output: T, inputQuantizer: string, seed: number): JoinModel {
  const model = tf.model({ inputs: input, outputs: output, name });
  randomizeWeights(model, rng(seed));
  try {
    return { name, graph: lowerModel(model, { inputQuantizer }) };
  } finally {
    model.dispose();
  }
}

/**
 * A three-way add of a 3x3 conv, a 1x1 conv of it and a 3x3 conv of that; an inception block on the sum
 * (1x1 conv, 3x3 conv, 3x3 max pool, dilated 3x3 conv, in four number formats, concatenated); then
 * strided branches meeting in an add (a valid 2x2 max pool skips the image's last row and column that a
 * strided 3x3 conv reads).
 */
export function branchesModel(): JoinModel {
  const x = tf.input({ shape: [7, 7, 2], name: 'x' });
  const a = ap(conv('a', 2, 3), x);
  const b = ap(conv('b', 2, 1, {}, 'quantized_bits(4,1,1)'), a);
  let t = ap(tf.layers.add({ name: 'add3' }), [a, b, ap(conv('c', 2, 3, {}, 'quantized_relu(3,1)'), b)]);
  t = ap(new QActivation({ activation: 'quantized_relu(5,2)', name: 'add3_act' }), t);
  const i1 = ap(conv('i1', 2, 1, {}, 'quantized_bits(4,0,1)'), t);
  const i2 = ap(conv('i2', 2, 3), t);
  const i3 = ap(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'i3' }), t);
  const i4 = ap(conv('i4', 2, 3, { dilationRate: 2 }, 'quantized_bits(6,3,1)'), t);
  const cat = ap(tf.layers.concatenate({ name: 'inception' }), [i1, i2, i3, i4]);
  const p = ap(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'pool' }), cat);
  const q = ap(conv('strided', 8, 3, { strides: 2, padding: 'valid' }, 'quantized_bits(5,2,1)'), cat);
  let s = ap(tf.layers.add({ name: 'add_strided' }), [q, p]);
  s = ap(new QActivation({ activation: 'quantized_bits(6,2,1)', name: 'add_act' }), s);
  const y = ap(conv('mix', 2, 3, { padding: 'valid' }), s);
  return lowered('branches', x, head(y, 4), 'quantized_bits(8,2,1)', 71);
}

/** The graph input itself beside a convolution of it (the input stream forks into the join). */
export function inputSkipModel(): JoinModel {
  const x = tf.input({ shape: [4, 8, 2], name: 'x' });
  let s = ap(tf.layers.add({ name: 'skip' }), [x, ap(conv('c', 2, 3, {}, 'quantized_bits(6,2,1)'), x)]);
  s = ap(new QActivation({ activation: 'quantized_relu(6,2)', name: 'skip_act' }), s);
  const g = ap(tf.layers.globalAveragePooling2d({ name: 'gap' }), ap(conv('d', 2, 2, { strides: 2 }), s));
  return lowered('input_skip', x, ap(new QDense({ units: 3, kernelQuantizer: K, biasQuantizer: B, name: 'head' }), g), 'quantized_bits(6,2,1)', 72);
}

/** Whole vectors (one word each): an add and a concatenation of dense layers. */
export function vectorsModel(): JoinModel {
  const x = tf.input({ shape: [12], name: 'x' });
  const d1 = ap(new QDense({ units: 6, kernelQuantizer: K, biasQuantizer: B, activation: 'quantized_relu(4,2)', name: 'd1' }), x);
  const d2 = ap(new QDense({ units: 6, kernelQuantizer: K, biasQuantizer: B, activation: 'quantized_bits(4,1,1)', name: 'd2' }), x);
  const s = ap(new QActivation({ activation: 'quantized_bits(6,2,1)', name: 'sum_act' }), ap(tf.layers.add({ name: 'sum' }), [d1, d2]));
  const c = ap(tf.layers.concatenate({ name: 'cat' }), [s, d1, x]);
  return lowered('vectors', x, ap(new QDense({ units: 4, kernelQuantizer: K, biasQuantizer: B, activation: 'softmax', name: 'head' }), c), 'quantized_bits(8,3,1)', 73);
}

/** A causal conv1d and a same-padded one on top of it, added. */
export function conv1dJoinModel(): JoinModel {
  const x = tf.input({ shape: [12, 3], name: 'x' });
  const c1 = ap(new QConv1D({ filters: 3, kernelSize: 3, padding: 'causal', kernelQuantizer: K, biasQuantizer: B, activation: 'quantized_relu(4,2)', name: 'c1' }), x);
  const c2 = ap(new QConv1D({ filters: 3, kernelSize: 3, padding: 'same', kernelQuantizer: K, biasQuantizer: B, activation: 'quantized_relu(4,2)', name: 'c2' }), c1);
  const s = ap(new QActivation({ activation: 'quantized_bits(6,3,1)', name: 'sum_act' }), ap(tf.layers.add({ name: 'sum' }), [c2, c1]));
  return lowered('conv1d_join', x, head(s, 3, 'quantized_bits(8,3,1)'), 'quantized_bits(6,2,1)', 74);
}

/** Feature maps concatenated along the width axis: the stream architecture refuses this join. */
export function widthConcatModel(): JoinModel {
  const x = tf.input({ shape: [4, 4, 2], name: 'x' });
  const a = ap(conv('a', 2, 3), x);
  const cat = ap(tf.layers.concatenate({ axis: 2, name: 'wide_cat' }), [a, ap(conv('b', 2, 3), x)]);
  return lowered('width_concat', x, head(cat, 3), 'quantized_bits(6,2,1)', 75);
}

export function joinModels(): JoinModel[] {
  return [branchesModel(), inputSkipModel(), vectorsModel(), conv1dJoinModel()];
}
