/**
 * saveQmodel/loadQmodel: a model with every Q layer round-trips through dir/model.json + dir/weights.bin
 * with identical predictions and identical quantizers; broken files give errors that say what is wrong.
 */
import { mkdtempSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QActivation,
  QAveragePooling2D,
  QConv1D,
  QConv2D,
  QConv2DTranspose,
  QDense,
  QDepthwiseConv2D,
  QGlobalAveragePooling2D,
  QDepthwiseConv2DTranspose,
  QLayer,
  QScaleShift,
  QSeparableConv1D,
  QSeparableConv2D,
  QSeparableConv2DTranspose,
} from '../../src/layers/index.js';
import { loadQmodel, ModelFileError, saveQmodel } from '../../src/utils/save-load.js';
import { makeRng } from '../backend/gradient-cases.js';

beforeAll(async () => {
  await ready();
});

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => (rng() * 2 - 1) * scale), shape);
}

/** A two-input functional model using every Q layer of src/layers, with quantizers everywhere. */
function buildModel(): tf.LayersModel {
  const image = tf.input({ shape: [8, 8, 4], name: 'image' });
  let a = new QConv2D({
    filters: 4,
    kernelSize: 3,
    padding: 'same',
    kernelQuantizer: 'quantized_bits(4,0,1)',
    biasQuantizer: 'quantized_po2(4)',
    activation: 'quantized_relu(3)',
    name: 'conv',
  }).apply(image) as tf.SymbolicTensor;
  a = new QConv2D({
    filters: 4,
    kernelSize: 3,
    groups: 2,
    mask: [
      [1, 0, 1],
      [0, 1, 0],
      [1, 0, 1],
    ],
    kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)',
    name: 'masked_grouped',
  }).apply(a) as tf.SymbolicTensor;
  a = new QDepthwiseConv2D({
    kernelSize: 2,
    depthMultiplier: 2,
    padding: 'same',
    depthwiseQuantizer: 'ternary',
    biasQuantizer: 'quantized_bits(8,3,1)',
    name: 'depthwise',
  }).apply(a) as tf.SymbolicTensor;
  a = new QSeparableConv2D({
    filters: 6,
    kernelSize: 2,
    depthwiseQuantizer: 'binary(alpha=1.0)',
    pointwiseQuantizer: 'quantized_bits(4,0,1,alpha=1.0)',
    activation: 'hard_sigmoid',
    name: 'separable',
  }).apply(a) as tf.SymbolicTensor;
  a = new QConv2DTranspose({ filters: 3, kernelSize: 2, strides: 2, kernelQuantizer: 'quantized_po2(4)', name: 'transpose' }).apply(
    a,
  ) as tf.SymbolicTensor;
  a = new QDepthwiseConv2DTranspose({
    filters: 3,
    kernelSize: 2,
    depthwiseKernelQuantizer: 'quantized_bits(4,0,1)',
    biasQuantizer: 'quantized_bits(4,2,1)',
    depthwiseActivation: 'quantized_relu(4,2)',
    name: 'dw_transpose',
  }).apply(a) as tf.SymbolicTensor;
  a = new QSeparableConv2DTranspose({
    filters: 3,
    kernelSize: 3,
    strides: 2,
    padding: 'same',
    outputPadding: 1,
    depthwiseKernelQuantizer: 'ternary',
    pointwiseKernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)',
    depthwiseActivation: 'quantized_bits(8,3,1)',
    pointwiseActivation: 'quantized_relu(4,1)',
    name: 'sep_transpose',
  }).apply(a) as tf.SymbolicTensor;
  a = new QScaleShift({ weightQuantizer: 'quantized_bits(8,2,1)', biasQuantizer: 'quantized_bits(8,2,1)', name: 'scale_shift' }).apply(
    a,
  ) as tf.SymbolicTensor;
  a = new QAveragePooling2D({
    averageQuantizer: 'quantized_bits(4,0,1)',
    activation: 'quantized_bits(6,2,1)',
    name: 'avgpool',
  }).apply(a) as tf.SymbolicTensor;
  a = new QActivation({ activation: 'quantized_relu(4,2)', name: 'act' }).apply(a) as tf.SymbolicTensor;
  a = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(8,0,1)', name: 'gap' }).apply(a) as tf.SymbolicTensor;

  const series = tf.input({ shape: [10, 3], name: 'series' });
  let b = new QConv1D({
    filters: 4,
    kernelSize: 3,
    padding: 'causal',
    kernelQuantizer: 'stochastic_ternary',
    activation: 'quantized_tanh(4)',
    name: 'conv1d',
  }).apply(series) as tf.SymbolicTensor;
  b = new QSeparableConv1D({
    filters: 2,
    kernelSize: 2,
    depthwiseQuantizer: 'quantized_bits(6,2,1,alpha=1.0)',
    pointwiseQuantizer: 'stochastic_binary',
    biasQuantizer: 'quantized_bits(4,0,1)',
    name: 'sepconv1d',
  }).apply(b) as tf.SymbolicTensor;
  b = new QActivation({ activation: 'binary(use_01=1)', name: 'act01' }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.flatten().apply(b) as tf.SymbolicTensor;

  const joined = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  const out = new QDense({
    units: 5,
    kernelQuantizer: 'quantized_bits(4,0,1,keep_negative=False)',
    biasQuantizer: 'quantized_bits(4,0,1)',
    activation: 'softmax',
    name: 'dense',
  }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [image, series], outputs: out });
}

function inputs(): tf.Tensor[] {
  return [randomTensor([3, 8, 8, 4], 1, 2), randomTensor([3, 10, 3], 2, 2)];
}

/** Per Q layer: class, summary of effective quantizers, and the JSON of its config. */
function describeLayers(model: tf.LayersModel): Array<[string, string, string]> {
  return model.layers
    .filter((l): l is QLayer => l instanceof QLayer)
    .map((l) => [l.getClassName(), l.quantizerSummary(), JSON.stringify(l.getConfig())]);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'qk-save-'));
}

async function savedModelDir(): Promise<{ dir: string; model: tf.LayersModel }> {
  const model = buildModel();
  const dir = tmp();
  await saveQmodel(model, dir);
  return { dir, model };
}

describe('saveQmodel / loadQmodel', () => {
  it('round-trips every Q layer: same predictions, quantizers and configs', async () => {
    const model = buildModel();
    model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    // Non-trivial biases, so that bias quantizers matter after the reload.
    for (const layer of model.layers) {
      layer.setWeights(layer.getWeights().map((w, i) => (w.rank === 1 ? randomTensor(w.shape, 50 + i, 0.7) : w)));
    }
    // Weights outside the default Clip range must come back unchanged (tfjs would clip them on load if the
    // constraint sat on the variable).
    const conv = model.getLayer('masked_grouped');
    conv.setWeights([tf.mul(conv.getWeights()[0]!, 5), conv.getWeights()[1]!]);
    expect(Math.max(...Array.from(conv.getWeights()[0]!.dataSync()).map(Math.abs))).toBeGreaterThan(1);
    const x = inputs();
    const before = model.predict(x) as tf.Tensor;
    const dir = tmp();
    const result = await saveQmodel(model, dir);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(readFileSync(join(dir, 'weights.bin')).byteLength);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);

    const loaded = await loadQmodel(dir);
    const after = loaded.predict(x) as tf.Tensor;
    expect(after.shape).toEqual([3, 5]);
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    model.layers.forEach((layer, i) =>
      layer.getWeights().forEach((w, j) =>
        expect(Array.from(loaded.layers[i]!.getWeights()[j]!.dataSync()), `${layer.name} weight ${j}`).toEqual(Array.from(w.dataSync())),
      ),
    );
    expect(describeLayers(loaded)).toEqual(describeLayers(model));
    expect(describeLayers(loaded)).toHaveLength(15);
    expect(loaded.optimizer).toBeDefined();

    const dense = loaded.getLayer('dense') as QDense;
    expect(dense.kernelQuantizer!.toString()).toBe("quantized_bits(4,0,1,keep_negative=False,alpha='auto_po2')");
    expect((loaded.getLayer('masked_grouped') as QConv2D).kernelQuantizer!.toString()).toBe('quantized_bits(4,0,1,alpha=1.0)');
    expect((loaded.getLayer('act01') as QActivation).quantizer.toString()).toBe('binary(use_01=1)');
    expect((loaded.getLayer('separable') as QSeparableConv2D).activation!.toString()).toBe('hard_sigmoid');
    expect((loaded.getLayer('masked_grouped') as QConv2D).mask).toEqual((model.getLayer('masked_grouped') as QConv2D).mask);
  });

  it('writes tfjs layers format with QKeras-style quantizer configs (floats stay floats)', async () => {
    const { dir } = await savedModelDir();
    const text = readFileSync(join(dir, 'model.json'), 'utf8');
    const json = JSON.parse(text) as {
      format: string;
      weightsManifest: Array<{ paths: string[] }>;
      modelTopology: { class_name: string; config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    };
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest.map((g) => g.paths)).toEqual([['weights.bin']]);
    const layers = json.modelTopology.config.layers;
    const conv = layers.find((l) => l.config['name'] === 'masked_grouped')!;
    expect(conv.class_name).toBe('QConv2D');
    expect(conv.config['kernel_quantizer']).toEqual({
      class_name: 'quantized_bits',
      config: {
        bits: 4,
        integer: 0,
        symmetric: 1,
        alpha: 1,
        keep_negative: true,
        use_stochastic_rounding: false,
        qnoise_factor: 1,
        post_training_scale: null,
      },
    });
    // The Python float is written as a float literal, the integer fields as integers.
    expect(text).toMatch(/"kernel_quantizer":\{"class_name":"quantized_bits","config":\{"bits":4,"integer":0,"symmetric":1,"alpha":1\.0,/);
    expect(conv.config['kernel_constraint']).toEqual({ class_name: 'Clip', config: { min_value: -1, max_value: 1 } });
    const dense = layers.find((l) => l.config['name'] === 'dense')!;
    expect((dense.config['kernel_quantizer'] as { config: { alpha: string } }).config.alpha).toBe('auto_po2');
    expect(dense.config['activation']).toBe('softmax');
  });

  it('loads from dir/model.json too, and without the training config when compile is false', async () => {
    const { dir, model } = await savedModelDir();
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const nested = join(dir, 'new', 'sub');
    await saveQmodel(model, nested);
    const loaded = await loadQmodel(join(nested, 'model.json'), { compile: false });
    expect(loaded.optimizer).toBeUndefined();
    const x = inputs();
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('round-trips through tfjs’s own serialisation (camelCased configs are revived)', async () => {
    const model = buildModel();
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(describeLayers(loaded)).toEqual(describeLayers(model));
    const x = inputs();
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('rejects a truncated weights.bin, naming the expected and actual byte counts', async () => {
    const { dir } = await savedModelDir();
    const file = join(dir, 'weights.bin');
    const size = readFileSync(file).byteLength;
    truncateSync(file, size - 8);
    await expect(loadQmodel(dir)).rejects.toThrow(ModelFileError);
    await expect(loadQmodel(dir)).rejects.toThrow(`expected ${size} bytes`);
    await expect(loadQmodel(dir)).rejects.toThrow(`found ${size - 8} bytes`);
    await expect(loadQmodel(dir)).rejects.toThrow(/truncated/);
  });

  it('rejects a missing weights file, a missing model.json and a missing directory', async () => {
    const { dir } = await savedModelDir();
    unlinkSync(join(dir, 'weights.bin'));
    await expect(loadQmodel(dir)).rejects.toThrow(`weights file ${join(dir, 'weights.bin')}`);
    unlinkSync(join(dir, 'model.json'));
    await expect(loadQmodel(dir)).rejects.toThrow(`${dir} has no model.json`);
    await expect(loadQmodel(join(dir, 'nowhere'))).rejects.toThrow('does not exist');
  });

  it('rejects unknown layer classes, all of them at once, and malformed JSON', async () => {
    const { dir } = await savedModelDir();
    const file = join(dir, 'model.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"class_name":"QDense"', '"class_name":"QFancy"').replace('"class_name":"QConv1D"', '"class_name":"QOther"'));
    await expect(loadQmodel(dir)).rejects.toThrow(/unknown layer classes QOther, QFancy|unknown layer classes QFancy, QOther/);
    writeFileSync(file, text.slice(0, 100));
    await expect(loadQmodel(dir)).rejects.toThrow(/not valid JSON/);
  });

  it('refuses to save into a path that is a file', async () => {
    const dir = tmp();
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await expect(saveQmodel(buildModel(), file)).rejects.toThrow(/is not a directory/);
  });

  it('accepts customObjects for classes that are not registered', async () => {
    class Doubler extends tf.layers.Layer {
      static className = 'DoublerForSaveLoadTest';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2);
      }
    }
    const model = tf.sequential({
      layers: [new QDense({ units: 2, inputShape: [3], kernelQuantizer: 'quantized_bits(4,0,1)', name: 'd' }), new Doubler({})],
    });
    const dir = tmp();
    await saveQmodel(model, dir);
    await expect(loadQmodel(dir)).rejects.toThrow(/unknown layer class DoublerForSaveLoadTest/);
    const loaded = await loadQmodel(dir, { customObjects: { DoublerForSaveLoadTest: Doubler } });
    const x = randomTensor([4, 3], 5);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });
});
