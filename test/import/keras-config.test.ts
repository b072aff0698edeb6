import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { KerasImportIssue } from '../../src/errors.js';
import { kerasLayerToTfjs, tfjsLayerToKeras, plainJson } from '../../src/import/keras-config.js';
import type { KerasLayerJson } from '../../src/import/keras-json.js';
import { PyFloat } from '../../src/quantizers/base.js';
import '../../src/layers/index.js';
import { jsonLayers } from './fixtures.js';

beforeAll(async () => {
  await ready();
});

function layer(className: string, config: Record<string, unknown>): KerasLayerJson {
  return { className, name: String(config['name']), config, inboundNodes: [] };
}

function map(className: string, config: Record<string, unknown>): { spec: ReturnType<typeof kerasLayerToTfjs>; issues: KerasImportIssue[] } {
  const issues: KerasImportIssue[] = [];
  const spec = kerasLayerToTfjs(layer(className, config), issues);
  return { spec, issues };
}

describe('Keras → tfjs layer configs', () => {
  it('maps a QKeras QDense (qkeras_3layer fc1) with its quantizers, QInitializer, Clip and L1', () => {
    const fc1 = jsonLayers('qkeras_3layer')[1]!;
    const { spec, issues } = map(fc1.class_name, fc1.config);
    expect(issues).toEqual([]);
    const quantizer = {
      class_name: 'quantized_bits',
      config: { bits: 6, integer: 0, symmetric: 0, alpha: 1, keep_negative: true, use_stochastic_rounding: false, qnoise_factor: 1.0 },
    };
    expect(spec).toEqual({
      className: 'QDense',
      config: {
        name: 'fc1',
        trainable: true,
        batchInputShape: [null, 16],
        dtype: 'float32',
        units: 64,
        activation: 'linear',
        useBias: true,
        kernelInitializer: {
          className: 'QInitializer',
          config: { initializer: { className: 'LeCunUniform', config: { seed: null } }, useScale: true, quantizer: { ...quantizer, __passive_serialization__: true } },
        },
        biasInitializer: { className: 'Zeros', config: {} },
        kernelRegularizer: { className: 'L1L2', config: { l1: 9.999999747378752e-5, l2: 0 } },
        biasRegularizer: null,
        activityRegularizer: null,
        kernelConstraint: { className: 'Clip', config: { minValue: -1, maxValue: 1 } },
        biasConstraint: { className: 'Clip', config: { minValue: -1, maxValue: 1 } },
        kernelQuantizer: quantizer,
        biasQuantizer: quantizer,
        kernelRange: null,
        biasRange: null,
      },
    });
  });

  it('maps a QConv2D (qkeras_mnist_cnn): channels_last → channelsLast, groups 1 checked and dropped', () => {
    const conv = jsonLayers('qkeras_mnist_cnn')[1]!;
    const { spec, issues } = map(conv.class_name, conv.config);
    expect(issues).toEqual([]);
    expect(spec!.config).toMatchObject({ filters: 16, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', dataFormat: 'channelsLast', dilationRate: [1, 1], activation: 'relu' });
    expect(spec!.config).not.toHaveProperty('groups');
    expect(spec!.config['kernelInitializer']).toEqual({
      className: 'QInitializer',
      config: expect.objectContaining({ initializer: { className: 'HeNormal', config: { seed: null } } }) as unknown,
    });
  });

  it('maps plain Keras 2.0 Dense layers (KERAS_3layer) to tfjs Dense with tfjs spellings', () => {
    const fc1 = jsonLayers('KERAS_3layer')[1]!;
    const { spec, issues } = map(fc1.class_name, fc1.config);
    expect(issues).toEqual([]);
    expect(spec!.className).toBe('Dense');
    expect(spec!.config['activation']).toBe('relu');
    expect(spec!.config['kernelInitializer']).toEqual({ className: 'VarianceScaling', config: { scale: 1, mode: 'fanIn', distribution: 'uniform', seed: null } });
    expect(spec!.config['kernelRegularizer']).toEqual({ className: 'L1L2', config: { l1: 0, l2: 0 } });
  });

  it('converts activation and data-format spellings', () => {
    expect(map('Activation', { name: 'a', activation: 'hard_sigmoid' }).spec!.config['activation']).toBe('hardSigmoid');
    expect(map('MaxPooling2D', { name: 'p', pool_size: [2, 2], data_format: 'channels_first' }).spec!.config['dataFormat']).toBe('channelsFirst');
    expect(map('BatchNormalization', { name: 'bn', axis: [3] }).spec!.config['axis']).toBe(3);
    // Keras's L2 becomes tfjs's L1L2 with l1 = 0 (tfjs's own default would be 0.01).
    expect(map('Dense', { name: 'd', units: 1, kernel_regularizer: { class_name: 'L2', config: { l2: 0.5 } } }).spec!.config['kernelRegularizer']).toEqual({
      className: 'L1L2',
      config: { l1: 0, l2: 0.5 },
    });
  });

  it('collects every unknown class, unknown argument and unsupported value, by layer and argument', () => {
    const issues: KerasImportIssue[] = [];
    expect(kerasLayerToTfjs(layer('QFancyDense', { name: 'fancy' }), issues)).toBeNull();
    kerasLayerToTfjs(layer('Conv2D', { name: 'c', filters: 1, kernel_size: 3, groups: 2, wiggle: true, activation: 'exponential' }), issues);
    kerasLayerToTfjs(layer('Dense', { name: 'd', units: 1, kernel_initializer: { class_name: 'VarianceScaling', config: { mode: 'fan_sideways' } } }), issues);
    kerasLayerToTfjs(layer('InputLayer', { name: 'in', batch_input_shape: [null, 2], sparse: true }), issues);
    expect(issues.map((i) => [i.layer, i.className, i.argument])).toEqual([
      ['fancy', 'QFancyDense', null],
      ['c', 'Conv2D', 'groups'],
      ['c', 'Conv2D', 'wiggle'],
      ['c', 'Conv2D', 'activation'],
      ['d', 'Dense', 'kernel_initializer.mode'],
      ['in', 'InputLayer', 'sparse'],
    ]);
    expect(issues[0]!.detail).toMatch(/^unknown layer class; supported: .*QDense/);
    expect(issues[1]!.detail).toBe('2 is not supported; only 1');
    expect(issues[2]!.detail).toMatch(/^unknown argument \(value true\); Conv2D takes name, trainable, dtype, batch_input_shape, filters/);
    expect(issues[3]!.detail).toMatch(/^"exponential" is not supported; expected one of linear, relu/);
  });

  it('accepts only float32 models', () => {
    expect(map('Dense', { name: 'd', units: 1, dtype: { class_name: 'Policy', config: { name: 'float32' } } }).issues).toEqual([]);
    expect(map('Dense', { name: 'd', units: 1, dtype: 'mixed_float16' }).issues[0]!.detail).toMatch(/only float32 models are/);
  });
});

describe('tfjs → Keras layer configs', () => {
  it('writes Keras names and spellings back', () => {
    const issues: KerasImportIssue[] = [];
    const conv = tf.layers.conv2d({ name: 'c', filters: 2, kernelSize: 3, activation: 'hardSigmoid', kernelInitializer: 'glorotUniform', kernelRegularizer: tf.regularizers.l2({ l2: 0.25 }) });
    const keras = tfjsLayerToKeras('c', 'Conv2D', conv.getConfig(), issues);
    expect(issues).toEqual([]);
    expect(keras).toMatchObject({
      name: 'c',
      trainable: true,
      dtype: 'float32',
      filters: 2,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'valid',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      activation: 'hard_sigmoid',
      use_bias: true,
      kernel_regularizer: { class_name: 'L1L2', config: { l1: 0, l2: 0.25 } },
      bias_initializer: { class_name: 'Zeros', config: {} },
    });
    expect(Object.keys(keras!).slice(0, 3)).toEqual(['name', 'trainable', 'dtype']);
  });

  it('reports a class or an option Keras cannot express', () => {
    const issues: KerasImportIssue[] = [];
    tfjsLayerToKeras('x', 'LayerNormalization', {}, issues);
    tfjsLayerToKeras('d', 'Dense', { name: 'd', units: 1, fancyOption: 3 }, issues);
    expect(issues.map((i) => [i.layer, i.argument])).toEqual([
      ['x', null],
      ['d', 'fancyOption'],
    ]);
  });

  it('writes Python-float wrappers as plain JSON numbers', () => {
    expect(plainJson({ a: new PyFloat(0), b: [new PyFloat(1), 2], c: null })).toEqual({ a: 0, b: [1, 2], c: null });
  });
});
