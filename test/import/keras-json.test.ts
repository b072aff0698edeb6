import { describe, expect, it } from 'vitest';
import { KerasImportError } from '../../src/errors.js';
import { parseKerasModelJson } from '../../src/import/keras-json.js';
import { modelJson } from './fixtures.js';

function issuesOf(fn: () => unknown): KerasImportError['issues'] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KerasImportError);
    return (e as KerasImportError).issues;
  }
  throw new Error('expected a KerasImportError');
}

describe('parseKerasModelJson', () => {
  it('reads a Keras 2.4 Sequential model (qkeras_mnist_cnn)', () => {
    const m = parseKerasModelJson(modelJson('qkeras_mnist_cnn'));
    expect(m.className).toBe('Sequential');
    expect(m.name).toBe('sequential');
    expect(m.kerasVersion).toBe('2.4.0');
    expect(m.layers.map((l) => l.className)).toEqual([
      'InputLayer',
      'QConv2D',
      'QActivation',
      'MaxPooling2D',
      'QConv2D',
      'QActivation',
      'MaxPooling2D',
      'Flatten',
      'Dropout',
      'QDense',
      'Activation',
    ]);
    expect(m.layers[0]!.config['batch_input_shape']).toEqual([null, 28, 28, 1]);
    expect(m.inputs).toEqual([]);
  });

  it('reads a Keras 2.4 Functional model with its graph (qkeras_mnist_dense)', () => {
    const m = parseKerasModelJson(modelJson('qkeras_mnist_dense'));
    expect(m.className).toBe('Functional');
    expect(m.inputs).toEqual([{ layer: 'input_3', nodeIndex: 0, tensorIndex: 0 }]);
    expect(m.outputs).toEqual([{ layer: 'activation_3', nodeIndex: 0, tensorIndex: 0 }]);
    const dense = m.layers.find((l) => l.name === 'q_dense_2')!;
    expect(dense.inboundNodes).toEqual([{ inputs: [{ layer: 'q_activation_2', nodeIndex: 0, tensorIndex: 0 }], kwargs: {} }]);
  });

  it('reads a Keras 2.0 Model (KERAS_3layer)', () => {
    const m = parseKerasModelJson(modelJson('KERAS_3layer'));
    expect(m.className).toBe('Model');
    expect(m.kerasVersion).toBe('2.0.0');
    expect(m.layers.map((l) => l.name)).toEqual(['input_1', 'fc1_relu', 'fc2_relu', 'fc3_relu', 'output_softmax']);
  });

  it('reads the pre-2.2.3 Sequential form whose config is the bare list of layers', () => {
    const m = parseKerasModelJson({
      class_name: 'Sequential',
      config: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } }],
    });
    expect(m.layers.map((l) => l.name)).toEqual(['d']);
  });

  it('accepts a single [name, node, tensor] triple for input_layers/output_layers', () => {
    const json = modelJson('qkeras_mnist_dense');
    const config = json['config'] as Record<string, unknown>;
    config['input_layers'] = ['input_3', 0, 0];
    expect(parseKerasModelJson(json).inputs).toEqual([{ layer: 'input_3', nodeIndex: 0, tensorIndex: 0 }]);
  });

  it('collects every structural problem of a functional graph in one error', () => {
    const json = modelJson('qkeras_mnist_dense');
    const layers = (json['config'] as { layers: Array<Record<string, unknown>> }).layers;
    layers[2]!['inbound_nodes'] = [[['nowhere', 0, 0, {}]]];
    layers[3]!['inbound_nodes'] = [[['q_dense_2', 3, 0, {}]]];
    layers[4]!['extra'] = 1;
    const issues = issuesOf(() => parseKerasModelJson(json, 'model.json'));
    expect(issues).toEqual([
      { layer: 'q_dense_3', className: 'QDense', argument: 'extra', detail: 'unknown key in the layer entry' },
      { layer: 'q_dense_2', className: 'QDense', argument: 'inbound_nodes', detail: 'refers to layer "nowhere", which the model does not have' },
      { layer: 'q_activation_3', className: 'QActivation', argument: 'inbound_nodes', detail: 'refers to call 3 of layer "q_dense_2", which is called 1 time(s)' },
    ]);
  });

  it('names Keras 3 files as unsupported instead of misreading them', () => {
    const issues = issuesOf(() => parseKerasModelJson({ class_name: 'Functional', keras_version: '3.3.3', config: {} }));
    expect(issues[0]!.detail).toMatch(/Keras 3\.3\.3 files are not supported/);
    const json = modelJson('qkeras_mnist_dense');
    const layers = (json['config'] as { layers: Array<Record<string, unknown>> }).layers;
    layers[1]!['inbound_nodes'] = [{ args: [], kwargs: {} }];
    expect(issuesOf(() => parseKerasModelJson(json))[0]!.detail).toMatch(/Keras 3 node format/);
  });

  it('rejects a top level that is not a Keras model', () => {
    expect(issuesOf(() => parseKerasModelJson({ class_name: 'Dense', config: {} }))[0]).toEqual({
      layer: '(model)',
      className: 'Dense',
      argument: 'class_name',
      detail: 'expected a Sequential, Functional or Model at the top level',
    });
    expect(issuesOf(() => parseKerasModelJson([]))[0]!.detail).toMatch(/expected a JSON object/);
  });

  it('reports duplicate layer names and a misplaced InputLayer in a Sequential model', () => {
    const issues = issuesOf(() =>
      parseKerasModelJson({
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            { class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 1] } },
            { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 1] } },
            { class_name: 'Dense', config: { name: 'd', units: 1 } },
          ],
        },
      }),
    );
    expect(issues.map((i) => [i.layer, i.detail])).toEqual([
      ['in', 'an InputLayer can only be the first layer of a Sequential model'],
      ['d', 'two layers have this name'],
    ]);
  });
});
