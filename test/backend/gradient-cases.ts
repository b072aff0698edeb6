/**
 * The gradient audit: every op whose gradient a Q layer, a quantizer or a Keras loss/optimizer may need,
 * as a small seeded case that runs identically on any backend. `runGradCase` computes the op's value and
 * its vector-Jacobian product for a random upstream gradient, and returns plain arrays, so the same case
 * can be run on 'wasm' and on 'cpu' in one process and compared.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../src/utils/mulberry32.js';

/** mulberry32: a tiny seeded generator, so that every case draws the same numbers on every run. */
export const makeRng = mulberry32;

/**
 * How an input's values are drawn: `signed` in [-1, 1), `positive` in [0.5, 1.5) (for log, sqrt, pow),
 * `coarse` multiples of 0.25 in [-1, 0.75] (ties and all-negative windows, as quantized activations give).
 */
export type InputKind = 'signed' | 'positive' | 'coarse';

export interface InputSpec {
  readonly shape: readonly number[];
  readonly kind?: InputKind;
}

export interface GradCase {
  readonly name: string;
  /** The float inputs; the gradient is taken with respect to every one of them. */
  readonly inputs: readonly InputSpec[];
  /** The op under test. Constant integer operands (indices, ...) are created inside. */
  readonly fn: (...xs: tf.Tensor[]) => tf.Tensor;
  /**
   * Longest float reduction on the path from inputs to gradients (matmul inner size, pooled window, ...),
   * which sets the comparison tolerance; 1 for elementwise ops.
   */
  readonly reduction: number;
}

export interface GradResult {
  readonly value: Float32Array;
  readonly grads: Float32Array[];
}

export function drawInputs(c: GradCase, seed: number): Float32Array[] {
  const rng = makeRng(seed);
  return c.inputs.map(({ shape, kind }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = rng();
      values[i] = kind === 'positive' ? 0.5 + u : kind === 'coarse' ? Math.floor(u * 8) / 4 - 1 : 2 * u - 1;
    }
    return values;
  });
}

/** Runs `c` on the current backend: its value and the gradient of sum(value * dy) for a seeded random dy. */
export function runGradCase(c: GradCase, data: readonly Float32Array[], seed: number): GradResult {
  return tf.tidy(() => {
    const xs = c.inputs.map((spec, i) => tf.tensor(data[i]!, [...spec.shape], 'float32'));
    const value = c.fn(...xs);
    const rng = makeRng(seed ^ 0x5bd1e995);
    const dyValues = new Float32Array(value.size);
    for (let i = 0; i < dyValues.length; i++) dyValues[i] = 2 * rng() - 1;
    const dy = tf.tensor(dyValues, value.shape, 'float32');
    const grads = tf.grads((...args: tf.Tensor[]) => c.fn(...args))(xs, dy);
    return {
      value: value.dataSync() as Float32Array,
      grads: grads.map((g) => g.dataSync() as Float32Array),
    };
  });
}

const int1d = (values: number[]) => tf.tensor1d(values, 'int32');

/** The audit list, grouped by the Q layer or quantizer that needs it. */
export const gradCases: readonly GradCase[] = [
  // QDense: tfjs-layers' Dense calls fused matMul (bias, activation), whose gradient is two transposed matmuls.
  { name: 'matMul', inputs: [{ shape: [3, 5] }, { shape: [5, 4] }], fn: (a, b) => tf.matMul(a!, b!), reduction: 5 },
  { name: 'matMul transposeA', inputs: [{ shape: [5, 3] }, { shape: [5, 4] }], fn: (a, b) => tf.matMul(a!, b!, true, false), reduction: 5 },
  { name: 'matMul transposeB', inputs: [{ shape: [3, 5] }, { shape: [4, 5] }], fn: (a, b) => tf.matMul(a!, b!, false, true), reduction: 5 },
  { name: 'matMul transposeA+B', inputs: [{ shape: [5, 3] }, { shape: [4, 5] }], fn: (a, b) => tf.matMul(a!, b!, true, true), reduction: 5 },
  { name: 'batched matMul', inputs: [{ shape: [2, 3, 5] }, { shape: [2, 5, 4] }], fn: (a, b) => tf.matMul(a!, b!), reduction: 5 },
  {
    name: 'fused matMul + bias + relu',
    inputs: [{ shape: [4, 6] }, { shape: [6, 3] }, { shape: [3] }],
    fn: (a, b, bias) => tf.fused.matMul({ a: a!, b: b!, bias: bias!, activation: 'relu' }),
    reduction: 6,
  },
  // QConv1D (conv1d is conv2d on a height-1 image), QConv2D (fused conv2d in tfjs-layers).
  { name: 'conv1d stride 2 same', inputs: [{ shape: [2, 9, 3] }, { shape: [3, 3, 4] }], fn: (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 2, 'same'), reduction: 24 },
  { name: 'conv2d valid', inputs: [{ shape: [2, 7, 6, 3] }, { shape: [3, 2, 3, 4] }], fn: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'), reduction: 60 },
  { name: 'conv2d stride 2 same', inputs: [{ shape: [2, 7, 6, 3] }, { shape: [3, 3, 3, 4] }], fn: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), reduction: 36 },
  {
    name: 'fused conv2d + bias + relu',
    inputs: [{ shape: [2, 6, 6, 2] }, { shape: [3, 3, 2, 3] }, { shape: [3] }],
    fn: (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b!, strides: 1, pad: 'same', activation: 'relu' }),
    reduction: 72,
  },
  // Conv2DTranspose: forward is Conv2DBackpropInput; its gradient is conv2d and Conv2DBackpropFilter.
  {
    name: 'conv2dTranspose stride 2',
    inputs: [{ shape: [2, 4, 4, 3] }, { shape: [3, 3, 2, 3] }],
    fn: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 2], 2, 'same'),
    reduction: 32,
  },
  // QDepthwiseConv2D and QSeparableConv2D (depthwise then a 1x1 conv).
  {
    name: 'depthwiseConv2d multiplier 2 stride 2',
    inputs: [{ shape: [2, 7, 7, 3] }, { shape: [3, 3, 3, 2] }],
    fn: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    reduction: 32,
  },
  {
    name: 'fused depthwiseConv2d + bias',
    inputs: [{ shape: [1, 5, 5, 2] }, { shape: [3, 3, 2, 1] }, { shape: [2] }],
    fn: (x, w, b) => tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b!, strides: 1, pad: 'valid' }),
    reduction: 9,
  },
  {
    name: 'separableConv2d',
    inputs: [{ shape: [2, 6, 6, 2] }, { shape: [3, 3, 2, 2] }, { shape: [1, 1, 4, 3] }],
    fn: (x, dw, pw) => tf.separableConv2d(x as tf.Tensor4D, dw as tf.Tensor4D, pw as tf.Tensor4D, 1, 'same'),
    reduction: 72,
  },
  // QAveragePooling2D, MaxPooling2D, GlobalAveragePooling (mean), Flatten (reshape).
  { name: 'avgPool 2x2 stride 2', inputs: [{ shape: [2, 6, 6, 3] }], fn: (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), reduction: 4 },
  { name: 'avgPool 3x3 stride 1 same', inputs: [{ shape: [1, 5, 5, 2] }], fn: (x) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'same'), reduction: 9 },
  { name: 'maxPool 2x2 stride 2', inputs: [{ shape: [2, 6, 6, 3] }], fn: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), reduction: 4 },
  { name: 'maxPool with ties (quantized input)', inputs: [{ shape: [2, 6, 6, 3], kind: 'coarse' }], fn: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), reduction: 4 },
  { name: 'maxPool 3x3 stride 2 same', inputs: [{ shape: [1, 7, 7, 2] }], fn: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'), reduction: 9 },
  // QBatchNormalization: moments in training, batchNorm in both phases.
  {
    name: 'batchNorm',
    inputs: [{ shape: [4, 3] }, { shape: [3] }, { shape: [3], kind: 'positive' }, { shape: [3] }, { shape: [3] }],
    fn: (x, mean, variance, offset, scale) => tf.batchNorm(x!, mean!, variance!, offset!, scale!, 1e-3),
    reduction: 4,
  },
  {
    name: 'moments (axis 0)',
    inputs: [{ shape: [6, 4] }],
    fn: (x) => {
      const { mean, variance } = tf.moments(x!, [0]);
      return tf.concat([mean, variance]);
    },
    reduction: 6,
  },
  // Activations and QActivation's quantizers (their straight-through paths).
  { name: 'relu', inputs: [{ shape: [3, 4] }], fn: (x) => tf.relu(x!), reduction: 1 },
  { name: 'relu6', inputs: [{ shape: [3, 4] }], fn: (x) => tf.relu6(tf.mul(x!, 8)), reduction: 1 },
  { name: 'leakyRelu', inputs: [{ shape: [3, 4] }], fn: (x) => tf.leakyRelu(x!, 0.3), reduction: 1 },
  { name: 'elu', inputs: [{ shape: [3, 4] }], fn: (x) => tf.elu(x!), reduction: 1 },
  { name: 'selu', inputs: [{ shape: [3, 4] }], fn: (x) => tf.selu(x!), reduction: 1 },
  { name: 'prelu', inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (x, a) => tf.prelu(x!, a!), reduction: 3 },
  { name: 'sigmoid', inputs: [{ shape: [3, 4] }], fn: (x) => tf.sigmoid(x!), reduction: 1 },
  { name: 'tanh', inputs: [{ shape: [3, 4] }], fn: (x) => tf.tanh(x!), reduction: 1 },
  { name: 'softplus', inputs: [{ shape: [3, 4] }], fn: (x) => tf.softplus(x!), reduction: 1 },
  { name: 'softmax', inputs: [{ shape: [3, 5] }], fn: (x) => tf.softmax(x!), reduction: 5 },
  { name: 'logSoftmax', inputs: [{ shape: [3, 5] }], fn: (x) => tf.logSoftmax(x!), reduction: 5 },
  { name: 'erf', inputs: [{ shape: [3, 4] }], fn: (x) => tf.erf(x!), reduction: 1 },
  { name: 'step', inputs: [{ shape: [3, 4] }], fn: (x) => tf.mul(tf.step(x!), x!), reduction: 1 },
  // Quantizer building blocks: rounding (zero gradient; the straight-through estimator adds it back),
  // clipping, powers of two (pow, log, exp, abs, sign), stochastic rounding (floor, ceil, where).
  { name: 'round', inputs: [{ shape: [3, 4] }], fn: (x) => tf.add(tf.round(tf.mul(x!, 4)), x!), reduction: 1 },
  { name: 'sign', inputs: [{ shape: [3, 4] }], fn: (x) => tf.add(tf.sign(x!), x!), reduction: 1 },
  { name: 'floor', inputs: [{ shape: [3, 4] }], fn: (x) => tf.add(tf.floor(tf.mul(x!, 4)), x!), reduction: 1 },
  { name: 'ceil', inputs: [{ shape: [3, 4] }], fn: (x) => tf.add(tf.ceil(tf.mul(x!, 4)), x!), reduction: 1 },
  { name: 'clipByValue', inputs: [{ shape: [3, 4] }], fn: (x) => tf.clipByValue(x!, -0.5, 0.5), reduction: 1 },
  { name: 'pow (both operands)', inputs: [{ shape: [3, 4], kind: 'positive' }, { shape: [3, 4] }], fn: (a, b) => tf.pow(a!, b!), reduction: 1 },
  { name: 'pow (2 to the x)', inputs: [{ shape: [3, 4] }], fn: (x) => tf.pow(tf.scalar(2), x!), reduction: 12 },
  { name: 'log', inputs: [{ shape: [3, 4], kind: 'positive' }], fn: (x) => tf.log(x!), reduction: 1 },
  { name: 'log1p', inputs: [{ shape: [3, 4], kind: 'positive' }], fn: (x) => tf.log1p(x!), reduction: 1 },
  { name: 'exp', inputs: [{ shape: [3, 4] }], fn: (x) => tf.exp(x!), reduction: 1 },
  { name: 'abs', inputs: [{ shape: [3, 4] }], fn: (x) => tf.abs(x!), reduction: 1 },
  { name: 'sqrt', inputs: [{ shape: [3, 4], kind: 'positive' }], fn: (x) => tf.sqrt(x!), reduction: 1 },
  { name: 'rsqrt', inputs: [{ shape: [3, 4], kind: 'positive' }], fn: (x) => tf.rsqrt(x!), reduction: 1 },
  { name: 'square', inputs: [{ shape: [3, 4] }], fn: (x) => tf.square(x!), reduction: 1 },
  { name: 'reciprocal', inputs: [{ shape: [3, 4], kind: 'positive' }], fn: (x) => tf.reciprocal(x!), reduction: 1 },
  { name: 'neg', inputs: [{ shape: [3, 4] }], fn: (x) => tf.neg(x!), reduction: 1 },
  {
    name: 'where/select',
    inputs: [{ shape: [3, 4] }, { shape: [3, 4] }],
    // The condition is a constant: comparisons have no gradient on any backend.
    fn: (a, b) => tf.where(tf.tensor2d([[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]], [3, 4], 'bool'), a!, b!),
    reduction: 1,
  },
  { name: 'maximum', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (a, b) => tf.maximum(a!, b!), reduction: 1 },
  { name: 'minimum', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (a, b) => tf.minimum(a!, b!), reduction: 1 },
  { name: 'squaredDifference', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (a, b) => tf.squaredDifference(a!, b!), reduction: 1 },
  // Broadcasting arithmetic: its gradients reduce over the broadcast axes (Sum + Reshape).
  { name: 'add broadcast', inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (a, b) => tf.add(a!, b!), reduction: 3 },
  { name: 'sub broadcast', inputs: [{ shape: [3, 4] }, { shape: [3, 1] }], fn: (a, b) => tf.sub(a!, b!), reduction: 4 },
  { name: 'mul broadcast', inputs: [{ shape: [2, 3, 4] }, { shape: [1, 3, 1] }], fn: (a, b) => tf.mul(a!, b!), reduction: 8 },
  { name: 'div broadcast', inputs: [{ shape: [3, 4] }, { shape: [4], kind: 'positive' }], fn: (a, b) => tf.div(a!, b!), reduction: 3 },
  // Shape ops used by layers and quantizers.
  { name: 'tile', inputs: [{ shape: [2, 3] }], fn: (x) => tf.tile(x!, [2, 3]), reduction: 6 },
  { name: 'pad', inputs: [{ shape: [2, 3] }], fn: (x) => tf.pad(x!, [[1, 2], [0, 1]]), reduction: 1 },
  { name: 'mirrorPad', inputs: [{ shape: [3, 4] }], fn: (x) => tf.mirrorPad(x!, [[1, 1], [2, 1]], 'reflect'), reduction: 3 },
  { name: 'gather axis 0', inputs: [{ shape: [5, 3] }], fn: (x) => tf.gather(x!, int1d([4, 0, 4, 2])), reduction: 2 },
  { name: 'gather axis 1', inputs: [{ shape: [2, 5, 3] }], fn: (x) => tf.gather(x!, int1d([1, 1, 3]), 1), reduction: 2 },
  { name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], fn: (a, b) => tf.concat([a!, b!], 1), reduction: 1 },
  { name: 'stack', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], fn: (a, b) => tf.stack([a!, b!], 1), reduction: 1 },
  { name: 'unstack', inputs: [{ shape: [3, 4] }], fn: (x) => tf.unstack(x!, 1)[2]!, reduction: 1 },
  { name: 'split', inputs: [{ shape: [4, 6] }], fn: (x) => tf.split(x!, [2, 4], 1)[1]!, reduction: 1 },
  { name: 'slice', inputs: [{ shape: [4, 5] }], fn: (x) => tf.slice(x!, [1, 1], [2, 3]), reduction: 1 },
  { name: 'stridedSlice (gradient registered by ready())', inputs: [{ shape: [6, 5] }], fn: (x) => tf.stridedSlice(x!, [0, 1], [6, 5], [2, 2]), reduction: 1 },
  { name: 'transpose', inputs: [{ shape: [2, 3, 4] }], fn: (x) => tf.transpose(x!, [2, 0, 1]), reduction: 1 },
  { name: 'reshape', inputs: [{ shape: [2, 3, 4] }], fn: (x) => tf.reshape(x!, [6, 4]), reduction: 1 },
  { name: 'expandDims/squeeze', inputs: [{ shape: [3, 4] }], fn: (x) => tf.squeeze(tf.expandDims(x!, 1), [1]), reduction: 1 },
  { name: 'reverse', inputs: [{ shape: [3, 4] }], fn: (x) => tf.reverse(x!, 1), reduction: 1 },
  { name: 'cast', inputs: [{ shape: [3, 4] }], fn: (x) => tf.cast(x!, 'float32'), reduction: 1 },
  { name: 'broadcastTo', inputs: [{ shape: [1, 4] }], fn: (x) => tf.broadcastTo(x!, [3, 4]), reduction: 3 },
  // Reductions: losses, global pooling, per-channel scales of quantizers (alpha="auto_po2").
  { name: 'mean', inputs: [{ shape: [3, 4] }], fn: (x) => tf.mean(x!, 0), reduction: 3 },
  { name: 'sum', inputs: [{ shape: [3, 4] }], fn: (x) => tf.sum(x!, 1), reduction: 4 },
  { name: 'max', inputs: [{ shape: [3, 4] }], fn: (x) => tf.max(x!, 0), reduction: 3 },
  { name: 'min', inputs: [{ shape: [3, 4] }], fn: (x) => tf.min(x!, 1), reduction: 4 },
  { name: 'prod', inputs: [{ shape: [3, 4] }], fn: (x) => tf.prod(x!, 1), reduction: 4 },
  { name: 'cumsum', inputs: [{ shape: [3, 4] }], fn: (x) => tf.cumsum(x!, 1), reduction: 4 },
  { name: 'logSumExp', inputs: [{ shape: [3, 4] }], fn: (x) => tf.logSumExp(x!, 1), reduction: 4 },
  { name: 'norm (euclidean)', inputs: [{ shape: [3, 4] }], fn: (x) => tf.norm(x!, 'euclidean', 1), reduction: 4 },
  // UpSampling2D (not a Q layer, but found in QKeras example models).
  { name: 'resizeNearestNeighbor', inputs: [{ shape: [1, 3, 3, 2] }], fn: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6, 6]), reduction: 4 },
  { name: 'resizeBilinear', inputs: [{ shape: [1, 3, 3, 2] }], fn: (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [6, 6]), reduction: 16 },
  // Losses and metrics used by model.fit.
  {
    name: 'softmaxCrossEntropy',
    inputs: [{ shape: [3, 5] }],
    fn: (x) => tf.losses.softmaxCrossEntropy(tf.oneHot(int1d([1, 4, 0]), 5), x!),
    reduction: 15,
  },
  {
    name: 'sigmoidCrossEntropy',
    inputs: [{ shape: [3, 4] }],
    fn: (x) => tf.losses.sigmoidCrossEntropy(tf.tensor2d([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]]), x!),
    reduction: 12,
  },
  { name: 'meanSquaredError', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (a, b) => tf.losses.meanSquaredError(a!, b!), reduction: 12 },
];
