/**
 * QTools on models beyond QKeras's vectors: a Sequential model (hidden InputLayer), Keras layers mixed in
 * (Dense, BatchNormalization, Activation use the default types), the reference mode, layers QTools has no
 * rule for, and option handling. Expected values are derived by hand from QKeras's rules.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import { QActivation, QDense } from '../../src/layers/index.js';
import { QTools, TagMissingError, qtools } from '../../src/qtools/index.js';

beforeAll(async () => {
  await ready();
});

const qb = (bits: number, intBits: number, signed = 1): Record<string, unknown> => ({ quantizer_type: 'quantized_bits', bits, int_bits: intBits, is_signed: signed });

describe('qtools on other models', () => {
  it('Sequential model: default source type, MAC layer entry in full, then the activation', () => {
    const model = tf.sequential({
      layers: [
        new QDense({ inputShape: [16], units: 4, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'qd' }),
        new QActivation({ activation: 'quantized_relu(3,1)', name: 'qa' }),
      ],
    });
    const json = qtools(model);
    expect(json.source_quantizers).toEqual([qb(8, 1)]);
    // 4-bit weight x 8-bit input: 11 bits (JSON int bits count the sign); 16 products add 4 bits; the
    // 4-bit bias adds one integer bit.
    expect(json['qd']).toEqual({
      layer_type: 'QDense',
      input_quantizer_list: [qb(8, 1)],
      output_quantizer: { ...qb(16, 6), shape: [-1, 4] },
      weight_quantizer: { ...qb(4, 1), shape: [16, 4] },
      bias_quantizer: { ...qb(4, 1), shape: 4 },
      multiplier: { ...qb(11, 1), op_type: 'mul' },
      accumulator: { ...qb(16, 6), op_type: 'add' },
      fused_accumulator: { ...qb(16, 6), op_type: 'add' },
      operation_count: 64,
    });
    expect(json['qa']).toEqual({
      layer_type: 'QActivation',
      input_quantizer_list: [qb(16, 6)],
      output_quantizer: { quantizer_type: 'quantized_relu', bits: 3, int_bits: 1, is_signed: 0, shape: [-1, 4] },
      operation_count: 4,
    });
    expect(Object.keys(json)).toEqual(['source_quantizers', 'qd', 'qa']);
  });

  it('Keras Dense, BatchNormalization and Activation take the default intermediate type', () => {
    const x = tf.input({ shape: [8] });
    let y = tf.layers.dense({ units: 4, name: 'fc' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: 'bn' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(y) as tf.SymbolicTensor;
    const json = qtools(tf.model({ inputs: x, outputs: y }));
    expect(json['fc']).toMatchObject({ multiplier: { ...qb(8, 1), op_type: 'mul' }, accumulator: { ...qb(8, 1), op_type: 'add' }, operation_count: 32 });
    expect(json['bn']).toMatchObject({
      gamma_quantizer: qb(8, 1),
      variance_quantizer: qb(8, 1),
      internal_divide_quantizer: { ...qb(8, 1), op_type: 'mul' },
      internal_multiplier: { ...qb(8, 1), op_type: 'mul' },
      internal_accumulator: { ...qb(8, 1), op_type: 'add' },
      output_quantizer: { ...qb(8, 1), shape: [-1, 4] },
      operation_count: 4,
    });
    expect(json['relu']).toMatchObject({ input_quantizer_list: [qb(8, 1)], output_quantizer: qb(8, 1), operation_count: 4 });
  });

  it('reference mode: weights keras_quantizer (so an int8 x int8 multiply), the rest keras_accumulator', () => {
    const model = tf.sequential({
      layers: [
        new QDense({ inputShape: [16], units: 4, kernelQuantizer: 'binary', biasQuantizer: 'binary', name: 'qd' }),
        new QActivation({ activation: 'quantized_relu(3,1)', name: 'qa' }),
      ],
    });
    const json = qtools(model, { for_reference: true, keras_quantizer: 'int8', keras_accumulator: 'int32', source_quantizers: 'int8' });
    expect(json['qd']).toMatchObject({ weight_quantizer: qb(8, 1), multiplier: { ...qb(32, 11), op_type: 'mul' }, accumulator: qb(32, 11) });
    expect(json['qa']).toMatchObject({ input_quantizer_list: [qb(32, 11)], output_quantizer: qb(32, 11) });
  });

  it('passes a layer it has no rule for through, and rejects quantizers it has no model of', () => {
    const x = tf.input({ shape: [4, 4, 2] });
    let y = tf.layers.zeroPadding2d({ padding: 1, name: 'pad' }).apply(x) as tf.SymbolicTensor;
    y = new QActivation({ activation: 'quantized_bits(6,2,1)', name: 'qa' }).apply(y) as tf.SymbolicTensor;
    const tools = new QTools(tf.model({ inputs: x, outputs: y }));
    expect(tools.layerMap.passedThrough).toEqual(['pad (ZeroPadding2D)']);
    expect(tools.json['pad']).toMatchObject({ output_quantizer: { ...qb(8, 1), shape: [-1, 6, 6, 2] } });

    const bad = tf.sequential({ layers: [new QActivation({ inputShape: [3], activation: 'quantized_linear(4)', name: 'lin' })] });
    expect(() => qtools(bad)).toThrow(TagMissingError);
    expect(() => qtools(bad)).toThrow(/unsupported activation quantizer quantized_linear/);
  });

  it('accepts QKeras and camelCase option names, rejects unknown ones', () => {
    const model = tf.sequential({ layers: [new QDense({ inputShape: [2], units: 1, kernelQuantizer: 'binary' })] });
    expect(qtools(model, { isInference: false, is_inference: false })).toBeDefined();
    expect(() => qtools(model, { source_quantizer: 'int8' })).toThrow(ConfigError);
    expect(() => new QTools(model).pe({ weights_on_memmory: 'sram' })).toThrow(/one of the options/);
    expect(() => new QTools(model).pe({ weightsOnMemory: 'disk' as never })).toThrow(/'dram', 'sram' or 'fixed'/);
  });
});
