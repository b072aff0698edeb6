/**
 * A seeded generator of small random Q models for the lowering battery: six recipes (conv2d stacks,
 * depthwise/separable, conv1d, dense stacks, folded batch norm, residual/concat), each drawing its layer
 * geometry and its quantizers from menus that cover every supported quantizer × layer combination, with
 * every weight set to seeded random values. Also the input samples each model is checked on: random
 * reals, exact rounding ties of the input quantizer's grid, grid points and saturating values.
 */
import * as tf from '@tensorflow/tfjs';
import {
  QActivation,
  QAveragePooling2D,
  QBatchNormalization,
  QConv1D,
  QConv2D,
  QConv2DBatchnorm,
  QDense,
  QDenseBatchnorm,
  QDepthwiseConv2D,
  QDepthwiseConv2DBatchnorm,
  QGlobalAveragePooling2D,
  QScaleShift,
  QSeparableConv1D,
  QSeparableConv2D,
} from '../../src/layers/index.js';
import { mulberry32 } from '../../src/utils/mulberry32.js';

export type Rng = () => number;

/** Mulberry32. */
export const rng: (seed: number) => Rng = mulberry32;

export function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function int(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Weight quantizers (kernels, depthwise, pointwise): auto_po2 (explicit and QKeras's default), fixed alphas, po2, binary, ternary. */
export const KERNEL_QUANTIZERS = [
  'quantized_bits(4,0,1)',
  "quantized_bits(4,0,1,alpha='auto_po2')",
  "quantized_bits(6,2,1,alpha='auto_po2')",
  'quantized_bits(6,2,1,alpha=1)',
  'quantized_bits(3,1,1,alpha=0.5)',
  'quantized_bits(8,3,1,alpha=1)',
  'quantized_bits(2,1,1,alpha=1)',
  'quantized_po2(4)',
  'quantized_po2(5,1)',
  'binary',
  'binary(alpha=1)',
  'stochastic_binary',
  'ternary',
  'ternary(alpha=1)',
  'stochastic_ternary',
];

/** Bias quantizers: fixed point and power of two. */
export const BIAS_QUANTIZERS = ['quantized_bits(6,2,1)', 'quantized_bits(8,3,1)', 'quantized_bits(4,0,1)', 'quantized_po2(4)', 'quantized_po2(6)'];

/**
 * Activations: quantized_relu with and without integer bits (and a leaky one), quantized_bits of several
 * widths, binary/ternary, the tabulated tanh/sigmoid/po2 ones, and Keras's exact relu.
 */
export const ACTIVATIONS = [
  'quantized_relu(4,2)',
  'quantized_relu(3)',
  'quantized_relu(6,0)',
  'quantized_relu(4,1,negative_slope=0.25)',
  'quantized_bits(4,1,1)',
  'quantized_bits(6,2,1)',
  'quantized_bits(8,3,1)',
  'quantized_bits(3,0,1)',
  'quantized_bits(5,2,0,keep_negative=False)',
  'binary',
  'binary(alpha=1)',
  'ternary',
  'ternary(alpha=1,threshold=0.5)',
  'quantized_tanh(4)',
  'quantized_sigmoid(4)',
  'quantized_po2(4,1)',
  'quantized_relu_po2(4,1)',
  'relu',
];

export const INPUT_QUANTIZERS = [
  'quantized_bits(8,2,1)',
  'quantized_bits(6,0,1)',
  'quantized_relu(6,2)',
  'quantized_bits(4,1,1)',
  'quantized_bits(8,4,1)',
];

export interface ZooModel {
  readonly name: string;
  readonly model: tf.LayersModel;
  readonly inputQuantizer: string;
}

interface Draw {
  readonly r: Rng;
  /** Forces the head's activation (training needs a softmax). */
  readonly headActivation: string | null;
  kernel(): string;
  bias(): string;
  act(): string;
}

function draws(r: Rng, headActivation: string | null): Draw {
  return { r, headActivation, kernel: () => pick(r, KERNEL_QUANTIZERS), bias: () => pick(r, BIAS_QUANTIZERS), act: () => pick(r, ACTIVATIONS) };
}

type T = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: T | T[]): T => l.apply(x) as T;

/** The model's final layer: softmax (argmax + logits), linear, or a quantizer. */
function head(d: Draw, x: T, units: number): T {
  const drawn = pick(d.r, ['softmax', 'linear', 'quantized_bits(8,3,1)', 'softmax']);
  const activation = d.headActivation ?? drawn;
  return ap(new QDense({ units, kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), activation, name: 'head' }), x);
}

function convStack(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 5, 7), int(r, 5, 7), int(r, 1, 3)], name: 'x' });
  const f1 = int(r, 2, 4);
  let x = ap(
    new QConv2D({
      filters: f1,
      kernelSize: pick(r, [1, 2, 3]),
      strides: pick(r, [1, 2]),
      padding: pick(r, ['same', 'valid']),
      kernelQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      useBias: r() < 0.8,
      activation: d.act(),
      name: 'conv1',
    }),
    input,
  );
  const side = x.shape[1]!;
  const pool = side >= 2 ? pick(r, ['none', 'max', 'qavg', 'avg', 'qavg3']) : 'none';
  if (pool === 'max') x = ap(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same', name: 'pool' }), x);
  if (pool === 'avg') x = ap(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same', name: 'pool' }), x);
  if (pool === 'qavg') x = ap(new QAveragePooling2D({ poolSize: 2, averageQuantizer: 'quantized_bits(8,0,1)', activation: d.act(), name: 'pool' }), x);
  if (pool === 'qavg3') {
    x = ap(new QAveragePooling2D({ poolSize: 3, strides: 1, padding: 'same', averageQuantizer: 'quantized_bits(8,1,1)', activation: d.act(), name: 'pool' }), x);
  }
  const grouped = r() < 0.3;
  x = ap(
    new QConv2D({
      filters: grouped ? f1 * 2 : int(r, 2, 4),
      groups: grouped ? f1 : 1,
      kernelSize: pick(r, [1, 3]),
      dilationRate: pick(r, [1, 2]),
      padding: 'same',
      kernelQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'conv2',
    }),
    x,
  );
  x = ap(tf.layers.flatten({ name: 'flatten' }), x);
  return { input, output: head(d, x, int(r, 3, 5)) };
}

function separable(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 6, 8), int(r, 6, 8), int(r, 1, 3)], name: 'x' });
  let x = ap(
    new QDepthwiseConv2D({
      kernelSize: 3,
      depthMultiplier: pick(r, [1, 2]),
      strides: pick(r, [1, 2]),
      padding: pick(r, ['same', 'valid']),
      depthwiseQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'dw',
    }),
    input,
  );
  x = ap(
    new QSeparableConv2D({
      filters: int(r, 2, 4),
      kernelSize: pick(r, [2, 3]),
      depthMultiplier: pick(r, [1, 2]),
      padding: pick(r, ['same', 'valid']),
      depthwiseQuantizer: d.kernel(),
      pointwiseQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'sep',
    }),
    x,
  );
  const cells = x.shape[1]! * x.shape[2]!;
  const po2Cells = (cells & (cells - 1)) === 0;
  const gp = pick(r, po2Cells ? ['qgap', 'gmp', 'gap'] : ['qgap', 'gmp']);
  if (gp === 'qgap') {
    const keepdims = r() < 0.5;
    x = ap(new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(10,0,1)', keepdims, activation: d.act(), name: 'gap' }), x);
    if (keepdims) x = ap(tf.layers.flatten({ name: 'gap_flat' }), x);
  }
  if (gp === 'gmp') x = ap(tf.layers.globalMaxPooling2d({ name: 'gap' }), x);
  if (gp === 'gap') x = ap(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  return { input, output: head(d, x, int(r, 3, 5)) };
}

function conv1d(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 8, 12), int(r, 1, 3)], name: 'x' });
  const stride = pick(r, [1, 2]);
  let x = ap(
    new QConv1D({
      filters: int(r, 2, 4),
      kernelSize: pick(r, [2, 3]),
      strides: stride,
      dilationRate: stride === 1 ? pick(r, [1, 2]) : 1,
      padding: pick(r, ['same', 'valid', 'causal']),
      kernelQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'c1',
    }),
    input,
  );
  const pool = pick(r, ['none', 'max', 'avg']);
  if (pool === 'max') x = ap(tf.layers.maxPooling1d({ poolSize: 2, name: 'pool' }), x);
  if (pool === 'avg') x = ap(tf.layers.averagePooling1d({ poolSize: 2, padding: 'same', name: 'pool' }), x);
  x = ap(
    new QSeparableConv1D({
      filters: int(r, 2, 3),
      kernelSize: 3,
      padding: pick(r, ['same', 'valid']),
      depthMultiplier: pick(r, [1, 2]),
      depthwiseQuantizer: d.kernel(),
      pointwiseQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'sep1',
    }),
    x,
  );
  x = ap(tf.layers.flatten({ name: 'flatten' }), x);
  return { input, output: head(d, x, int(r, 3, 5)) };
}

function denseStack(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 8, 16)], name: 'x' });
  let x: T = input;
  const depth = int(r, 2, 4);
  for (let i = 0; i < depth; i += 1) {
    x = ap(new QDense({ units: int(r, 4, 12), kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), useBias: r() < 0.85, activation: d.act(), name: `fc${i}` }), x);
    if (r() < 0.3) x = ap(tf.layers.dropout({ rate: 0.25, name: `drop${i}` }), x);
  }
  return { input, output: head(d, x, int(r, 2, 6)) };
}

/** Folded batch norm: the three *Batchnorm layers, QBatchNormalization with a po2 inverse, QScaleShift. */
function batchnorm(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 5, 7), int(r, 5, 7), int(r, 1, 2)], name: 'x' });
  let x = ap(
    new QConv2DBatchnorm({
      filters: int(r, 2, 3),
      kernelSize: 3,
      padding: pick(r, ['same', 'valid']),
      kernelQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'convbn',
    }),
    input,
  );
  x = ap(
    new QDepthwiseConv2DBatchnorm({
      kernelSize: 3,
      padding: 'same',
      depthMultiplier: pick(r, [1, 2]),
      depthwiseQuantizer: d.kernel(),
      biasQuantizer: d.bias(),
      activation: d.act(),
      name: 'dwbn',
    }),
    x,
  );
  x = ap(new QConv2D({ filters: int(r, 2, 3), kernelSize: pick(r, [1, 3]), padding: 'same', kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), name: 'conv' }), x);
  x = ap(
    new QBatchNormalization({
      gammaQuantizer: null,
      varianceQuantizer: null,
      inverseQuantizer: pick(r, ['quantized_po2(5)', 'quantized_po2(4,2)']),
      betaQuantizer: 'quantized_po2(5)',
      meanQuantizer: 'quantized_po2(5)',
      name: 'bn',
    }),
    x,
  );
  x = ap(new QActivation({ activation: d.act(), name: 'bn_act' }), x);
  x = ap(tf.layers.flatten({ name: 'flatten' }), x);
  x = ap(new QDenseBatchnorm({ units: int(r, 3, 6), kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), activation: d.act(), name: 'densebn' }), x);
  if (r() < 0.5) {
    x = ap(new QScaleShift({ weightQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_bits(6,2,1)', activation: d.act(), name: 'scaleshift' }), x);
  }
  return { input, output: head(d, x, int(r, 2, 4)) };
}

/** Residual add, concatenation, reshape and QActivation between layers. */
function residual(d: Draw): { input: T; output: T } {
  const r = d.r;
  const input = tf.input({ shape: [int(r, 4, 6), int(r, 4, 6), int(r, 1, 2)], name: 'x' });
  const f = int(r, 2, 3);
  const a = ap(new QConv2D({ filters: f, kernelSize: 3, padding: 'same', kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), activation: d.act(), name: 'a' }), input);
  const b = ap(new QConv2D({ filters: f, kernelSize: 3, padding: 'same', kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), activation: d.act(), name: 'b' }), a);
  let x = ap(tf.layers.add({ name: 'add' }), [a, b]);
  x = ap(new QActivation({ activation: d.act(), name: 'add_act' }), x);
  const extra = pick(r, ['none', 'relu_layer', 'activation_relu']);
  if (extra === 'relu_layer') x = ap(tf.layers.reLU({ name: 'relu' }), x);
  if (extra === 'activation_relu') x = ap(tf.layers.activation({ activation: 'relu', name: 'relu' }), x);
  x = ap(tf.layers.concatenate({ name: 'cat' }), [x, a]);
  x = ap(tf.layers.reshape({ targetShape: [x.shape[1]! * x.shape[2]!, 2 * f], name: 'rows' }), x);
  x = ap(new QDense({ units: 2, kernelQuantizer: d.kernel(), biasQuantizer: d.bias(), activation: d.act(), name: 'per_cell' }), x);
  x = ap(tf.layers.flatten({ name: 'flatten' }), x);
  return { input, output: head(d, x, int(r, 2, 4)) };
}

export const RECIPES = { convStack, separable, conv1d, denseStack, batchnorm, residual } as const;
export type RecipeName = keyof typeof RECIPES;

/** Seeded random values for every weight: kernels and biases in [-1, 1], BN statistics in sensible ranges. */
export function randomizeWeights(model: tf.LayersModel, r: Rng): void {
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    const values = ws.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      // tfjs makes variable names unique with a `_<n>` suffix; the weight's own name is the last part.
      const name = w.name.split('/').pop()!.replace(/_\d+$/, '');
      const draw = (): number => {
        if (name === 'moving_variance') return 0.25 + 2 * r();
        if (name === 'gamma') return 0.5 + r();
        if (name === 'iteration') return -1;
        return 2 * r() - 1;
      };
      return tf.tensor(Float32Array.from({ length: n }, draw), shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** A model of `recipe` from `seed`, with random weights (and the head's activation forced if given). */
export function zooModel(recipe: RecipeName, seed: number, headActivation: string | null = null): ZooModel {
  const r = rng(seed * 7919 + recipe.length);
  const { input, output } = RECIPES[recipe](draws(r, headActivation));
  const model = tf.model({ inputs: input, outputs: output, name: `${recipe}_${seed}` });
  randomizeWeights(model, r);
  return { name: model.name, model, inputQuantizer: pick(r, INPUT_QUANTIZERS) };
}

/** The grid of an input quantizer: step 2^-frac, codes lo..hi. */
export interface InputGrid {
  readonly frac: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * `n` samples of `size` reals: uniform over (and a little beyond) the input range, exact ties
 * `(k + 0.5)·step`, exact grid points, saturating values up to 4x the range, and per-element mixtures.
 */
export function samples(r: Rng, n: number, size: number, g: InputGrid): number[][] {
  const step = 2 ** -g.frac;
  const top = Math.max(Math.abs(g.lo), Math.abs(g.hi)) * step;
  const kinds = [
    (): number => (g.lo - 2 + r() * (g.hi - g.lo + 4)) * step,
    (): number => (int(r, g.lo - 1, g.hi) + 0.5) * step,
    (): number => int(r, g.lo, g.hi) * step,
    (): number => (r() < 0.5 ? -1 : 1) * top * (1 + 3 * r()),
    (): number => (int(r, -3, 2) + 0.5) * step,
  ];
  return Array.from({ length: n }, (_, k) => {
    const kind = k % (kinds.length + 1);
    return Array.from({ length: size }, () => (kind === kinds.length ? pick(r, kinds)() : kinds[kind]!()));
  });
}
