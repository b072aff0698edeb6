/**
 * QKeras qtools_model_test cases that are not in the vector file (test_conv2d, test_util_layers, the
 * Multiply and Maximum parts of test_merge_layers), with QKeras's asserted values.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv2D, QDense } from '../../src/layers/index.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';
import { qtools } from '../../src/qtools/index.js';

beforeAll(async () => {
  await ready();
});

const q = (s: string) => getQuantizer(s)!;
const sources = (): ReturnType<typeof q>[] => ['quantized_bits(4, 0, 1)', 'quantized_bits(5, 0, 1)', 'quantized_bits(6, 0, 1)'].map(q);

function threeDense(activations: string[], merge: (xs: tf.SymbolicTensor[]) => tf.SymbolicTensor): tf.LayersModel {
  const inputs = [16, 32, 64].map((n, i) => tf.input({ shape: [n], name: `input_${i}` }));
  const outs = inputs.map(
    (inp, i) =>
      new QDense({ units: 8, kernelQuantizer: q('quantized_bits(5,0,1)'), biasQuantizer: q('quantized_bits(5,0,1)'), activation: q(activations[i]!), name: `dense_${i}` }).apply(inp) as tf.SymbolicTensor,
  );
  return tf.model({ inputs, outputs: merge(outs) });
}

describe("QKeras's other qtools tests", () => {
  it('test_conv2d: relu_po2 weights make a shifter', () => {
    const x = tf.input({ shape: [23, 23, 1], name: 'input' });
    let y = new QActivation({ activation: 'quantized_bits(6, 0, 1)', name: 'QA_0' }).apply(x) as tf.SymbolicTensor;
    y = new QConv2D({ filters: 16, kernelSize: 2, strides: 2, kernelQuantizer: q('quantized_relu_po2(4, 2)'), biasQuantizer: q('quantized_relu_po2(4, 2)'), name: 'qconv2d_1' }).apply(y) as tf.SymbolicTensor;
    const json = qtools(tf.model({ inputs: x, outputs: y }));
    expect(json['qconv2d_1']).toMatchObject({
      multiplier: { quantizer_type: 'quantized_bits', bits: 15, int_bits: 2, is_signed: 1, op_type: 'shifter' },
      accumulator: { quantizer_type: 'quantized_bits', bits: 18, int_bits: 5, is_signed: 1, op_type: 'add' },
      operation_count: 7744,
    });
  });

  it('test_util_layers: Reshape/MaxPooling/Flatten pass types through; binary{0,1} weights make an and gate', () => {
    const x = tf.input({ shape: [24, 24, 1], name: 'input' });
    let y = new QActivation({ activation: 'quantized_bits(6, 0, 1)', name: 'QA_0' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.reshape({ targetShape: [12 * 12, 4, 1], name: 'reshape_1' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.maxPooling2d({ poolSize: [2, 2], name: 'maxpooling_2' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.flatten({ name: 'flatten_3' }).apply(y) as tf.SymbolicTensor;
    y = new QDense({ units: 30, kernelQuantizer: q('binary(use_01=1)'), biasQuantizer: q('binary(use_01=1)'), activation: q('quantized_po2(3, 2)'), name: 'qdense_4' }).apply(y) as tf.SymbolicTensor;
    const json = qtools(tf.model({ inputs: x, outputs: y }));
    expect(json['qdense_4']).toMatchObject({
      multiplier: { quantizer_type: 'quantized_bits', bits: 6, int_bits: 1, is_signed: 1, op_type: 'and' },
      accumulator: { quantizer_type: 'quantized_bits', bits: 15, int_bits: 10, is_signed: 1, op_type: 'add' },
      output_quantizer: { quantizer_type: 'quantized_po2', bits: 3, is_signed: 1, max_value: 2 },
    });
  });

  it('test_merge_layers: Multiply chains multipliers, Maximum takes the widest input', () => {
    const mul = threeDense(['quantized_bits(4,0,1)', 'quantized_bits(5,0,1)', 'quantized_bits(6,0,1)'], (xs) => tf.layers.multiply({ name: 'multiply' }).apply(xs) as tf.SymbolicTensor);
    expect(qtools(mul, { sourceQuantizers: sources() })['multiply']).toMatchObject({
      Multiply_quantizer: { quantizer_type: 'quantized_bits', bits: 13, int_bits: 1, is_signed: 1, op_type: 'mul' },
    });
    const max = threeDense(['quantized_bits(4,0,1)', 'quantized_bits(5,0,0)', 'quantized_bits(6,0,1)'], (xs) => tf.layers.maximum({ name: 'maximum' }).apply(xs) as tf.SymbolicTensor);
    expect(qtools(max, { sourceQuantizers: sources() })['maximum']).toMatchObject({
      Maximum_quantizer: { quantizer_type: 'quantized_bits', bits: 6, int_bits: 1, is_signed: 1 },
    });
  });
});
