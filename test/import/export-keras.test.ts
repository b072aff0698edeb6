import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { KerasImportError } from '../../src/errors.js';
import { exportKeras, exportKerasH5, importKeras, kerasModelJson, readKerasH5, writeKerasH5 } from '../../src/import/index.js';
import { QActivation, QAveragePooling2D, QConv2D, QDense, QDepthwiseConv2D, QGlobalAveragePooling2D, QSeparableConv2D } from '../../src/layers/index.js';
import { getQuantizer, type QuantizerSpec } from '../../src/quantizers/index.js';
import { MODEL_NAMES, bits, datasetPaths, jsonLayers, jsonPath, modelJson, rawDataset, rawStringAttr, weightsPath, type ModelName } from './fixtures.js';

let tmp: string;
beforeAll(async () => {
  await ready();
  tmp = mkdtempSync(join(tmpdir(), 'qk-export-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INPUT_SHAPES: Record<ModelName, number[]> = {
  qkeras_3layer: [16],
  qkeras_mnist_dense: [784],
  qkeras_mnist_cnn: [28, 28, 1],
  KERAS_3layer: [16],
};

function predict(model: tf.LayersModel, x: tf.Tensor): Uint32Array {
  return bits(tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array));
}

function weightBits(model: tf.LayersModel): Uint32Array[] {
  return model.getWeights().map((w) => bits(w.dataSync() as Float32Array));
}

/** Asserts that two models are the same model: Keras JSON, tfjs config, weights and predictions. */
function expectSameModel(a: tf.LayersModel, b: tf.LayersModel, inputShape: number[]): void {
  expect(kerasModelJson(b)).toEqual(kerasModelJson(a));
  // Compared as the JSON they are saved as (quantizer configs may hold PyFloat wrappers, which write as numbers).
  const asJson = (m: tf.LayersModel): unknown => JSON.parse(JSON.stringify(m.getConfig()));
  expect(asJson(b)).toEqual(asJson(a));
  expect(weightBits(b)).toEqual(weightBits(a));
  const x = tf.randomUniform([6, ...inputShape], -1, 2, 'float32', 3);
  expect(predict(b, x)).toEqual(predict(a, x));
  x.dispose();
}

describe('exportKeras → importKeras is the identity', () => {
  it.each(MODEL_NAMES)('%s', async (m) => {
    const a = await importKeras(jsonPath(m), weightsPath(m));
    const dir = join(tmp, `round-${m}`);
    const written = await exportKeras(a, dir);
    expect(written).toEqual({ json: join(dir, 'model.json'), weights: join(dir, 'model_weights.h5') });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model_weights.h5']);
    expect(JSON.parse(readFileSync(written.json, 'utf8'))).toEqual(kerasModelJson(a));
    const b = await importKeras(written.json, written.weights);
    expectSameModel(a, b, INPUT_SHAPES[m]);
    // A second export writes the same JSON text.
    const again = await exportKeras(b, join(tmp, `again-${m}`));
    expect(readFileSync(again.json, 'utf8')).toBe(readFileSync(written.json, 'utf8'));
    a.dispose();
    b.dispose();
  });
});

describe('the exported files match what Keras wrote', () => {
  it.each(MODEL_NAMES)('%s: same HDF5 layout (layer_names, weight_names, datasets) and the same values bit for bit', async (m) => {
    const a = await importKeras(jsonPath(m), weightsPath(m));
    const { weights } = await exportKeras(a, join(tmp, `layout-${m}`));
    const original = weightsPath(m);
    const layerNames = await rawStringAttr(original, '/', 'layer_names');
    expect(await rawStringAttr(weights, '/', 'layer_names')).toEqual(layerNames);
    for (const layer of layerNames) expect(await rawStringAttr(weights, layer, 'weight_names')).toEqual(await rawStringAttr(original, layer, 'weight_names'));
    const paths = await datasetPaths(original);
    expect(await datasetPaths(weights)).toEqual(paths);
    for (const p of paths) {
      const [want, got] = [await rawDataset(original, p), await rawDataset(weights, p)];
      expect(got.shape).toEqual(want.shape);
      expect(bits(got.values)).toEqual(bits(want.values));
    }
    a.dispose();
  });

  it.each(MODEL_NAMES)('%s: same classes, names and layer arguments as the original JSON', async (m) => {
    const a = await importKeras(jsonPath(m), weightsPath(m));
    const exported = kerasModelJson(a);
    const original = modelJson(m);
    // Keras 2.0's "Model" is written as Keras 2.4's name for the same class.
    expect(exported['class_name']).toBe(original['class_name'] === 'Model' ? 'Functional' : original['class_name']);
    const got = (exported['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> }).layers;
    const want = jsonLayers(m);
    expect(got.map((l) => [l.class_name, l.config['name']])).toEqual(want.map((l) => [l.class_name, l.config['name']]));
    got.forEach((layer, i) => {
      for (const [key, value] of Object.entries(want[i]!.config)) {
        const mine = layer.config[key];
        // An argument left out takes Keras's default, which is None for every argument written as null here.
        if (value === null && mine === undefined) continue;
        if (key.endsWith('_initializer')) {
          // Initializers only shape fresh weights; the wrapper class survives (tfjs writes Lecun/He as VarianceScaling).
          expect((mine as { class_name?: string } | null)?.class_name === 'QInitializer').toBe((value as { class_name?: string } | null)?.class_name === 'QInitializer');
        } else if (key.endsWith('_regularizer') && value !== null) {
          // Keras's L1/L2 are written as the equivalent L1L2.
          const v = value as { config: { l1?: number; l2?: number } };
          expect(mine).toEqual({ class_name: 'L1L2', config: { l1: v.config.l1 ?? 0, l2: v.config.l2 ?? 0 } });
        } else if (key.endsWith('_quantizer') || (key === 'activation' && layer.class_name.startsWith('Q'))) {
          // Same quantizer; a string spec may come back as its {class_name, config} form.
          expect(String(getQuantizer(mine as QuantizerSpec))).toBe(String(getQuantizer(value as QuantizerSpec)));
          if (typeof value === 'object' && value !== null) expect(mine).toMatchObject({ class_name: (value as { class_name: string }).class_name, config: (value as { config: object }).config });
        } else if (key === 'groups' || key === 'sparse' || key === 'ragged') {
          // Keras's defaults, the only values implemented: written only where Keras requires them.
          expect([undefined, value]).toContain(mine);
        } else {
          expect([key, mine]).toEqual([key, value]);
        }
      }
    });
    a.dispose();
  });
});

describe('full-model HDF5 files (model.save layout)', () => {
  it('imports a file holding model_config + model_weights, with the predictions of the JSON + weights pair', async () => {
    // Written here from the original JSON and the original weights, as Keras's model.save lays them out.
    const m: ModelName = 'qkeras_mnist_cnn';
    const original = modelJson(m);
    const file = join(tmp, 'cnn_full.h5');
    const { weights } = await readKerasH5(weightsPath(m));
    await writeKerasH5(file, weights.layers, { modelConfig: { class_name: original['class_name'], config: original['config'] }, kerasVersion: '2.4.0' });
    const full = await importKeras(file);
    const pair = await importKeras(jsonPath(m), weightsPath(m));
    expectSameModel(pair, full, INPUT_SHAPES[m]);
    full.dispose();
    pair.dispose();
  });

  it.each(['qkeras_3layer', 'qkeras_mnist_dense'] as const)('exportKerasH5 → importKeras is the identity (%s)', async (m) => {
    const a = await importKeras(jsonPath(m), weightsPath(m));
    const file = await exportKerasH5(a, join(tmp, 'h5', `${m}.h5`));
    const contents = await readKerasH5(file);
    expect(contents.modelConfig).toEqual({ class_name: kerasModelJson(a)['class_name'], config: kerasModelJson(a)['config'] });
    const b = await importKeras(file);
    expectSameModel(a, b, INPUT_SHAPES[m]);
    a.dispose();
    b.dispose();
  });
});

describe('models built in tfjs go to Keras and back', () => {
  it('a functional CNN with a branch, every Q conv/pool layer and BatchNormalization', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'image' });
    const q = "quantized_bits(4,0,1,alpha='auto_po2')";
    const c1 = new QConv2D({ filters: 4, kernelSize: 3, padding: 'same', kernelQuantizer: q, biasQuantizer: 'quantized_bits(8,3,1)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c1) as tf.SymbolicTensor;
    const a1 = new QActivation({ activation: 'quantized_relu(4,1)', name: 'act' }).apply(bn) as tf.SymbolicTensor;
    const dw = new QDepthwiseConv2D({ kernelSize: 3, padding: 'same', depthwiseQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(8,3,1)', name: 'dw' }).apply(a1) as tf.SymbolicTensor;
    const sep = new QSeparableConv2D({ filters: 4, kernelSize: 3, padding: 'same', depthwiseQuantizer: 'quantized_bits(4,0,1)', pointwiseQuantizer: 'ternary()', biasQuantizer: 'quantized_bits(8,3,1)', name: 'sep' }).apply(a1) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([dw, sep]) as tf.SymbolicTensor;
    const pool = new QAveragePooling2D({ poolSize: 2, averageQuantizer: 'quantized_bits(8,2,1)', name: 'pool' }).apply(sum) as tf.SymbolicTensor;
    const gap = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(8,2,1)', name: 'gap' }).apply(pool) as tf.SymbolicTensor;
    const out = new QDense({ units: 3, kernelQuantizer: 'binary(alpha=1)', biasQuantizer: 'quantized_po2(4)', activation: 'quantized_tanh(4)', name: 'head' }).apply(gap) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: 'branchy' });
    // Non-trivial batch-norm statistics, so that a lost weight would show.
    const bnLayer = model.getLayer('bn');
    bnLayer.setWeights(bnLayer.getWeights().map((w, i) => tf.tidy(() => tf.add(tf.mul(tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 10 + i), i === 3 ? 1 : 0.5), 0))));
    const { json, weights } = await exportKeras(model, join(tmp, 'branchy'));
    const keras = JSON.parse(readFileSync(json, 'utf8')) as { class_name: string; config: { layers: Array<{ class_name: string; inbound_nodes: unknown }> } };
    expect(keras.class_name).toBe('Functional');
    expect(keras.config.layers.map((l) => l.class_name)).toEqual([
      'InputLayer',
      'QConv2D',
      'BatchNormalization',
      'QActivation',
      'QDepthwiseConv2D',
      'QSeparableConv2D',
      'Add',
      'QAveragePooling2D',
      'QGlobalAveragePooling2D',
      'QDense',
    ]);
    expect(keras.config.layers[6]!.inbound_nodes).toEqual([
      [
        ['dw', 0, 0, {}],
        ['sep', 0, 0, {}],
      ],
    ]);
    const back = await importKeras(json, weights);
    expectSameModel(model, back, [8, 8, 3]);
    model.dispose();
    back.dispose();
  });

  it('a functional model with two inputs, two outputs and a layer shared between two calls', async () => {
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const shared = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: 'quantized_bits(4,0,1,alpha=1)', name: 'shared' });
    const ya = shared.apply(a) as tf.SymbolicTensor;
    const yb = shared.apply(b) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ name: 'cat' }).apply([ya, yb]) as tf.SymbolicTensor;
    const head = new QActivation({ activation: 'quantized_relu(3)', name: 'head' }).apply(cat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: [head, yb], name: 'twin' });
    const json = kerasModelJson(model) as { config: { layers: Array<{ name: string; inbound_nodes: unknown }>; input_layers: unknown; output_layers: unknown } };
    expect(json.config.input_layers).toEqual([
      ['a', 0, 0],
      ['b', 0, 0],
    ]);
    expect(json.config.output_layers).toEqual([
      ['head', 0, 0],
      ['shared', 1, 0],
    ]);
    expect(json.config.layers.find((l) => l.name === 'cat')!.inbound_nodes).toEqual([
      [
        ['shared', 0, 0, {}],
        ['shared', 1, 0, {}],
      ],
    ]);
    const { json: jsonFile, weights } = await exportKeras(model, join(tmp, 'twin'));
    const back = await importKeras(jsonFile, weights);
    expect(kerasModelJson(back)).toEqual(kerasModelJson(model));
    expect(weightBits(back)).toEqual(weightBits(model));
    const xs = [tf.randomUniform([5, 4], -2, 2, 'float32', 8), tf.randomUniform([5, 4], -2, 2, 'float32', 9)];
    const outs = (m: tf.LayersModel): Uint32Array[] => {
      const ys = m.predict(xs) as tf.Tensor[];
      const out = ys.map((t) => bits(t.dataSync() as Float32Array));
      tf.dispose(ys);
      return out;
    };
    expect(outs(back)).toEqual(outs(model));
    tf.dispose(xs);
    model.dispose();
    back.dispose();
  });

  it('a Sequential model built without an InputLayer gets one, named as Keras names it', async () => {
    const model = tf.sequential({
      name: 'tiny',
      layers: [new QDense({ units: 4, inputShape: [3], kernelQuantizer: 'quantized_bits(3,0,1)', name: 'd1' }), tf.layers.dropout({ rate: 0.25, name: 'drop' }), tf.layers.dense({ units: 2, activation: 'softmax', name: 'd2' })],
    });
    const json = kerasModelJson(model);
    const layers = (json['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> }).layers;
    expect(layers[0]).toEqual({ class_name: 'InputLayer', config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'd1_input', sparse: false, ragged: false } });
    expect(layers.map((l) => l.class_name)).toEqual(['InputLayer', 'QDense', 'Dropout', 'Dense']);
    const { json: jsonFile, weights } = await exportKeras(model, join(tmp, 'tiny'));
    // Keras's Sequential.layers has no InputLayer, so neither has the weights file.
    expect(await rawStringAttr(weights, '/', 'layer_names')).toEqual(['d1', 'drop', 'd2']);
    const back = await importKeras(jsonFile, weights);
    expect(weightBits(back)).toEqual(weightBits(model));
    const x = tf.randomUniform([5, 3], -1, 1, 'float32', 4);
    expect(predict(back, x)).toEqual(predict(model, x));
    x.dispose();
    model.dispose();
    back.dispose();
  });

  it('refuses layers Keras cannot express, all at once, and writes nothing', async () => {
    const input = tf.input({ shape: [4], name: 'x' });
    const ln = tf.layers.layerNormalization({ name: 'ln' }).apply(input) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 2, name: 'd', activation: 'mish' }).apply(ln) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: dense });
    const dir = join(tmp, 'refused');
    let err: unknown;
    try {
      await exportKeras(model, dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KerasImportError);
    expect((err as KerasImportError).issues.map((i) => [i.layer, i.className, i.argument])).toEqual([
      ['ln', 'LayerNormalization', null],
      ['d', 'Dense', 'activation'],
    ]);
    expect(() => readdirSync(dir)).toThrow();
    model.dispose();
  });

  it('overwrites an earlier export in place and leaves no temp files', async () => {
    const a = await importKeras(jsonPath('qkeras_3layer'), weightsPath('qkeras_3layer'));
    const dir = join(tmp, 'overwrite');
    await exportKeras(a, dir);
    const first = readFileSync(join(dir, 'model_weights.h5'));
    const fc1 = a.getLayer('fc1');
    fc1.setWeights(fc1.getWeights().map((w) => tf.tidy(() => tf.mul(w, 0.5))));
    await exportKeras(a, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model_weights.h5']);
    expect(readFileSync(join(dir, 'model_weights.h5')).equals(first)).toBe(false);
    const back = await importKeras(join(dir, 'model.json'), join(dir, 'model_weights.h5'));
    expect(weightBits(back)).toEqual(weightBits(a));
    a.dispose();
    back.dispose();
  });
});
