/**
 * The QKeras lab book's MNIST models, with its layer names (the model_quantize config refers to them):
 * the float CNN, the hand-quantized QModel, and the model_quantize config of its third run.
 */
import * as tf from '@tensorflow/tfjs';
import { QActivation } from '../layers/q-activation.js';
import { QConv2D } from '../layers/q-conv.js';
import { QDense } from '../layers/q-dense.js';

export const MNIST_INPUT_SHAPE = [28, 28, 1];
export const MNIST_CLASSES = 10;

/** `CreateModel`: Conv2D(18) → relu → Conv2D(32) → relu → Flatten → Dense(10) → softmax. */
export function createFloatModel(): tf.LayersModel {
  const input = tf.input({ shape: MNIST_INPUT_SHAPE, name: 'input_1' });
  let x = tf.layers.conv2d({ filters: 18, kernelSize: 3, name: 'conv2d_1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'act_1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 32, kernelSize: 3, name: 'conv2d_2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'act_2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: MNIST_CLASSES, name: 'dense' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'labbook_float' });
}

/**
 * `CreateQModel`: stochastic_ternary kernels and quantized_po2(4) biases in the convolutions,
 * quantized_relu(2) activations, a quantized_bits(3,0,1) dense kernel with a quantized_bits(3) bias.
 */
export function createQModel(): tf.LayersModel {
  const input = tf.input({ shape: MNIST_INPUT_SHAPE, name: 'input_1' });
  let x = new QConv2D({
    filters: 18,
    kernelSize: [3, 3],
    kernelQuantizer: 'stochastic_ternary',
    biasQuantizer: 'quantized_po2(4)',
    name: 'conv2d_1',
  }).apply(input) as tf.SymbolicTensor;
  x = new QActivation({ activation: 'quantized_relu(2)', name: 'act_1' }).apply(x) as tf.SymbolicTensor;
  x = new QConv2D({
    filters: 32,
    kernelSize: [3, 3],
    kernelQuantizer: 'stochastic_ternary',
    biasQuantizer: 'quantized_po2(4)',
    name: 'conv2d_2',
  }).apply(x) as tf.SymbolicTensor;
  x = new QActivation({ activation: 'quantized_relu(2)', name: 'act_2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({
    units: MNIST_CLASSES,
    kernelQuantizer: 'quantized_bits(3,0,1)',
    biasQuantizer: 'quantized_bits(3)',
    name: 'dense',
  }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'labbook_qmodel' });
}

/** The lab book's model_quantize config (run 3), in QKeras's JSON form, with activation bits 4. */
export const LABBOOK_QUANTIZE_CONFIG = {
  conv2d_1: { kernel_quantizer: 'stochastic_binary', bias_quantizer: 'quantized_po2(4)' },
  QConv2D: { kernel_quantizer: 'stochastic_ternary', bias_quantizer: 'quantized_po2(4)' },
  QDense: { kernel_quantizer: 'quantized_bits(4,0,1)', bias_quantizer: 'quantized_bits(4)' },
  QActivation: { relu: 'binary' },
  act_2: 'quantized_relu(3)',
} as const;
export const LABBOOK_ACTIVATION_BITS = 4;

/** Compiles as the lab book does: categorical cross-entropy, Adam with the run's learning rate. */
export function compileForMnist(model: tf.LayersModel, learningRate: number): void {
  model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(learningRate), metrics: ['accuracy'] });
}
