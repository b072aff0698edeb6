import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { KerasWeightsError } from '../../src/errors.js';
import { assignKerasWeights, collectModelWeights, readKerasH5, shortWeightName, writeKerasH5, type H5LayerWeights } from '../../src/import/h5-weights.js';
import { bits, datasetPaths, rawDataset, rawStringAttr, weightsPath } from './fixtures.js';

let tmp: string;
beforeAll(async () => {
  await ready();
  tmp = mkdtempSync(join(tmpdir(), 'qk-h5-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('reading Keras save_weights files', () => {
  it('lists the layers and weights of the four fixtures in file order', async () => {
    const q3 = await readKerasH5(weightsPath('qkeras_3layer'));
    expect(q3.modelConfig).toBeNull();
    expect(q3.weights.kerasVersion).toBe('2.4.0');
    expect(q3.weights.backend).toBe('tensorflow');
    expect(q3.weights.layers.map((l) => l.layer)).toEqual(['fc1', 'relu1', 'fc2', 'relu2', 'fc3', 'relu3', 'output', 'softmax']);
    expect(q3.weights.layers[0]!.weights.map((w) => [w.name, w.shape])).toEqual([
      ['fc1/kernel:0', [16, 64]],
      ['fc1/bias:0', [64]],
    ]);
    expect(q3.weights.layers[1]!.weights).toEqual([]);

    const dense = await readKerasH5(weightsPath('qkeras_mnist_dense'));
    expect(dense.weights.layers.map((l) => [l.layer, l.weights.map((w) => w.shape)])).toEqual([
      ['input_3', []],
      ['q_activation_2', []],
      ['q_dense_2', [[784, 20], [20]]],
      ['q_activation_3', []],
      ['q_dense_3', [[20, 10], [10]]],
      ['activation_3', []],
    ]);

    const cnn = await readKerasH5(weightsPath('qkeras_mnist_cnn'));
    expect(cnn.weights.layers.filter((l) => l.weights.length > 0).map((l) => [l.layer, l.weights.map((w) => w.shape)])).toEqual([
      ['q_conv2d', [[3, 3, 1, 16], [16]]],
      ['q_conv2d_1', [[3, 3, 16, 16], [16]]],
      ['q_dense', [[400, 10], [10]]],
    ]);

    const float = await readKerasH5(weightsPath('KERAS_3layer'));
    expect(float.weights.kerasVersion).toBe('2.0.0');
    expect(float.weights.layers.map((l) => l.layer)).toEqual(['input_1', 'fc1_relu', 'fc2_relu', 'fc3_relu', 'output_softmax']);
  });

  it('returns the stored float32 values bit for bit', async () => {
    const file = weightsPath('qkeras_mnist_dense');
    const read = await readKerasH5(file);
    const kernel = read.weights.layers[2]!.weights[0]!;
    const raw = await rawDataset(file, 'q_dense_2/q_dense_2/kernel:0');
    expect(raw.shape).toEqual([784, 20]);
    expect(bits(kernel.values)).toEqual(bits(raw.values));
  });

  it('shows that the files hold latent float weights: fc1 kernel spans exactly [-1, 1], off the 2^-5 grid', async () => {
    const raw = await rawDataset(weightsPath('qkeras_3layer'), 'fc1/fc1/kernel:0');
    let min = Infinity;
    let max = -Infinity;
    let offGrid = 0;
    for (const v of raw.values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      if (!Number.isInteger(v * 32)) offGrid++;
    }
    expect(min).toBe(-1);
    expect(max).toBe(1);
    expect(offGrid).toBeGreaterThan(raw.values.length / 2);
  });
});

describe('shortWeightName', () => {
  it('strips the layer path and the :n suffix', () => {
    expect(shortWeightName('q_dense_2/kernel:0')).toBe('kernel');
    expect(shortWeightName('q_lstm/q_lstm_cell/recurrent_kernel:0')).toBe('recurrent_kernel');
    expect(shortWeightName('dense/bias')).toBe('bias');
  });
});

describe('writing Keras HDF5 files', () => {
  const layers: H5LayerWeights[] = [
    { layer: 'input_1', weights: [] },
    {
      layer: 'dense',
      weights: [
        { name: 'dense/kernel:0', shape: [2, 3], values: Float32Array.from([1, -2, 0.5, -0, 3.25, 1e-30]) },
        { name: 'dense/bias:0', shape: [3], values: Float32Array.from([0.1, 0.2, 0.3]) },
      ],
    },
  ];

  it('writes the save_weights layout that reads back bit for bit', async () => {
    const file = join(tmp, 'w.h5');
    await writeKerasH5(file, layers);
    expect(await rawStringAttr(file, '/', 'layer_names')).toEqual(['input_1', 'dense']);
    expect(await rawStringAttr(file, '/', 'backend')).toEqual(['tensorflow']);
    expect(await rawStringAttr(file, 'dense', 'weight_names')).toEqual(['dense/kernel:0', 'dense/bias:0']);
    expect(await rawStringAttr(file, 'input_1', 'weight_names')).toEqual([]);
    expect(await datasetPaths(file)).toEqual(['dense/dense/bias:0', 'dense/dense/kernel:0']);
    const back = await readKerasH5(file);
    expect(back.modelConfig).toBeNull();
    expect(back.weights.layers.map((l) => l.layer)).toEqual(['input_1', 'dense']);
    const k = back.weights.layers[1]!.weights[0]!;
    expect(k.shape).toEqual([2, 3]);
    expect(bits(k.values)).toEqual(bits(layers[1]!.weights[0]!.values));
  });

  it('writes the full model.save layout with the model JSON as an attribute', async () => {
    const file = join(tmp, 'full.h5');
    const modelConfig = { class_name: 'Sequential', config: { name: 's', layers: [] } };
    await writeKerasH5(file, layers, { modelConfig });
    expect(await rawStringAttr(file, 'model_weights', 'layer_names')).toEqual(['input_1', 'dense']);
    expect(await datasetPaths(file)).toEqual(['model_weights/dense/dense/bias:0', 'model_weights/dense/dense/kernel:0']);
    const back = await readKerasH5(file);
    expect(back.modelConfig).toEqual(modelConfig);
    expect(bits(back.weights.layers[1]!.weights[1]!.values)).toEqual(bits(layers[1]!.weights[1]!.values));
  });

  it('splits a layer_names list too large for one HDF5 attribute into layer_names0, 1, ... as Keras does', async () => {
    const many: H5LayerWeights[] = Array.from({ length: 2000 }, (_, i) => ({ layer: `a_rather_long_layer_name_number_${i}`, weights: [] }));
    const file = join(tmp, 'many.h5');
    await writeKerasH5(file, many);
    await expect(rawStringAttr(file, '/', 'layer_names')).rejects.toThrow(/no attribute layer_names/);
    const first = await rawStringAttr(file, '/', 'layer_names0');
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(2000);
    const back = await readKerasH5(file);
    expect(back.weights.layers.map((l) => l.layer)).toEqual(many.map((l) => l.layer));
  });

  it('rejects a file that is not HDF5, and a missing file, with the path in the message', async () => {
    await expect(readKerasH5(join(tmp, 'nope.h5'))).rejects.toThrow(/HDF5 file not found: .*nope\.h5/);
    const text = join(tmp, 'text.h5');
    writeFileSync(text, 'not hdf5');
    await expect(readKerasH5(text)).rejects.toThrow(/text\.h5 is not a readable HDF5 file/);
    // Keras 3's .keras files are ZIP archives: say so and how to save HDF5 instead.
    const keras3 = join(tmp, 'model.keras');
    writeFileSync(keras3, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)]));
    await expect(readKerasH5(keras3)).rejects.toThrow(/model\.keras is a ZIP archive \(the Keras 3 \.keras format\), not HDF5: save the model from Python with model\.save\('model\.h5'\)/);
  });
});

describe('assigning weights to a tfjs model', () => {
  function model(units: number): tf.LayersModel {
    const input = tf.input({ shape: [2], name: 'in' });
    const out = tf.layers.dense({ units, name: 'dense' }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('sets the weights by layer name and order', async () => {
    const m = model(3);
    const file = join(tmp, 'assign.h5');
    await writeKerasH5(file, [
      {
        layer: 'dense',
        weights: [
          { name: 'dense/kernel:0', shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
          { name: 'dense/bias:0', shape: [3], values: Float32Array.from([7, 8, 9]) },
        ],
      },
    ]);
    assignKerasWeights(m, (await readKerasH5(file)).weights, file);
    expect(Array.from(m.getWeights()[0]!.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(m.getWeights()[1]!.dataSync())).toEqual([7, 8, 9]);
    // collectModelWeights gives them back under Keras names.
    const collected = collectModelWeights(m);
    expect(collected.map((l) => [l.layer, l.weights.map((w) => w.name)])).toEqual([
      ['in', []],
      ['dense', ['dense/kernel:0', 'dense/bias:0']],
    ]);
    m.dispose();
  });

  it('sets the stored values exactly, without applying weight constraints (as Keras load_weights)', async () => {
    const input = tf.input({ shape: [2], name: 'in' });
    const out = tf.layers.dense({ units: 2, name: 'dense', kernelConstraint: tf.constraints.nonNeg() }).apply(input) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    const kernel = Float32Array.from([-3, 2, -1.5, 0.25]);
    assignKerasWeights(m, { layers: [{ layer: 'dense', weights: [{ name: 'dense/kernel:0', shape: [2, 2], values: kernel }, { name: 'dense/bias:0', shape: [2], values: new Float32Array(2) }] }], kerasVersion: null, backend: null }, 'mem');
    expect(Array.from(m.getWeights()[0]!.dataSync())).toEqual([-3, 2, -1.5, 0.25]);
    m.dispose();
  });

  it('reports every mismatch at once: wrong shapes with layer, weight, expected and found; extra layers', async () => {
    const m = model(4);
    const file = join(tmp, 'bad.h5');
    await writeKerasH5(file, [
      {
        layer: 'dense',
        weights: [
          { name: 'dense/kernel:0', shape: [2, 3], values: new Float32Array(6) },
          { name: 'dense/bias:0', shape: [3], values: new Float32Array(3) },
        ],
      },
      { layer: 'ghost', weights: [{ name: 'ghost/kernel:0', shape: [1], values: new Float32Array(1) }] },
    ]);
    let err: unknown;
    try {
      assignKerasWeights(m, (await readKerasH5(file)).weights, file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KerasWeightsError);
    const issues = (err as KerasWeightsError).issues;
    expect(issues).toEqual([
      { layer: 'dense', weight: 'dense/kernel:0', expected: 'shape [2, 4]', found: 'shape [2, 3]' },
      { layer: 'dense', weight: 'dense/bias:0', expected: 'shape [4]', found: 'shape [3]' },
      { layer: 'ghost', weight: null, expected: 'a layer of that name in the model', found: '1 weights in the file and no such layer' },
    ]);
    expect((err as Error).message).toContain('layer "dense", weight dense/kernel:0: expected shape [2, 4], found shape [2, 3]');
    // Nothing was assigned: the kernel still has its initial (non-zero) values.
    expect(Array.from(m.getWeights()[0]!.dataSync()).some((v) => v !== 0)).toBe(true);
    m.dispose();
  });

  it('reports a model layer with no weights in the file', async () => {
    const m = model(2);
    const file = join(tmp, 'empty.h5');
    await writeKerasH5(file, [{ layer: 'dense', weights: [] }]);
    expect(() => assignKerasWeights(m, { layers: [], kerasVersion: null, backend: null }, file)).toThrow(
      /layer "dense": expected 2 weights \(kernel, bias\), found no weights for this layer in the file/,
    );
    m.dispose();
  });
});
