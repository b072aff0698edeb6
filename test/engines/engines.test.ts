/**
 * The engine interface and the two engines that define truth: models loaded from every supported source
 * (tfjs model directory / model.json, Keras JSON + HDF5 weights, full Keras .h5), the tfjs engine
 * (batched, input quantizer first, logits of a final softmax) and the ir engine agreeing on every value,
 * the samples file format, and the loading errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QConv2D, QDense } from '../../src/layers/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { exportKeras, exportKerasH5 } from '../../src/import/export-keras.js';
import {
  ENGINES,
  LoadedModel,
  ModelSourceError,
  SampleError,
  endsInSoftmax,
  engineNames,
  findEngine,
  flattenSamples,
  irEngine,
  loadModel,
  logitsModel,
  nest,
  outputsJson,
  tfjsEngine,
} from '../../src/engines/index.js';
import { lowerModelDetailed } from '../../src/lower/index.js';
import { randomizeWeights, rng, samples } from '../lower/zoo.js';

let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-engines-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type T = tf.SymbolicTensor;

function cnn(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2], name: 'img' });
  let x = new QConv2D({ filters: 3, kernelSize: 3, padding: 'same', strides: 2, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_relu(4,2)', name: 'conv' }).apply(input) as T;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as T;
  x = new QDense({ units: 4, kernelQuantizer: 'ternary', biasQuantizer: 'quantized_po2(4)', activation: 'softmax', name: 'head' }).apply(x) as T;
  const m = tf.model({ inputs: input, outputs: x, name: 'cnn' });
  randomizeWeights(m, rng(31));
  return m;
}

const Q_IN = 'quantized_bits(8,2,1)';

describe('the engine registry', () => {
  it('has the tfjs and ir engines, found by name', () => {
    expect(engineNames().slice(0, 2)).toEqual(['tfjs', 'ir']);
    expect(findEngine('ir')).toBe(irEngine);
    expect(findEngine('tfjs')).toBe(tfjsEngine);
    expect(findEngine('nope')).toBeUndefined();
    for (const e of ENGINES) expect(e.description.length).toBeGreaterThan(10);
  });
});

describe('tfjs and ir engines agree on every value', () => {
  const xs = samples(rng(5), 600, 50, { frac: 5, lo: -127, hi: 127 });

  it('on a model in memory, with any tfjs batch size', async () => {
    const lm = new LoadedModel('cnn', cnn(), Q_IN);
    expect(lm.inputShape).toEqual([5, 5, 2]);
    expect(lm.outputShape).toEqual([4]);
    const a = await tfjsEngine.predict(lm, xs);
    const b = await tfjsEngine.predict(lm, xs, { batchSize: 7 });
    const c = await irEngine.predict(lm, xs);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a).toHaveLength(600);
    expect(a[0]).toHaveLength(4);
  });

  it('through saveQmodel, exportKeras (JSON + HDF5) and a full Keras .h5', async () => {
    const model = cnn();
    const want = await irEngine.predict(new LoadedModel('m', model, Q_IN), xs);
    await saveQmodel(model, join(dir, 'tfjs'));
    await exportKeras(model, join(dir, 'keras'));
    await exportKerasH5(model, join(dir, 'full.h5'));
    const sources: [string, { weights?: string }][] = [
      [join(dir, 'tfjs'), {}],
      [join(dir, 'tfjs', 'model.json'), {}],
      [join(dir, 'keras', 'model.json'), { weights: join(dir, 'keras', 'model_weights.h5') }],
      [join(dir, 'keras'), {}],
      [join(dir, 'full.h5'), {}],
    ];
    for (const [path, opts] of sources) {
      const lm = await loadModel(path, { ...opts, inputQuantizer: Q_IN });
      expect(await tfjsEngine.predict(lm, xs), path).toEqual(want);
      expect(await irEngine.predict(lm, xs), path).toEqual(want);
    }
  });

  it('lowering and predicting leave no tensors behind', async () => {
    const lm = new LoadedModel('cnn', cnn(), Q_IN);
    // Warm up: the tfjs engine builds its logits model, auto_po2 quantizers keep their latest scale.
    await tfjsEngine.predict(lm, xs.slice(0, 10));
    await irEngine.predict(lm, xs.slice(0, 10));
    const before = tf.memory().numTensors;
    lowerModelDetailed(lm.model, { inputQuantizer: Q_IN });
    await tfjsEngine.predict(lm, xs.slice(0, 10));
    await irEngine.predict(lm, xs.slice(0, 10));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the ir engine reports float32 warnings (an unquantized bias) through options.warn', async () => {
    const input = tf.input({ shape: [6] });
    const out = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'fc' }).apply(input) as T;
    const m = tf.model({ inputs: input, outputs: out });
    randomizeWeights(m, rng(2));
    const lines: string[] = [];
    await irEngine.predict(new LoadedModel('m', m, Q_IN), [[0, 0, 0, 0, 0, 0]], { warn: (l) => lines.push(l) });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^%fc: .*above 2\^24.*\(tfjs may differ from the exact model here\)$/);
  });
});

describe('logits of a final softmax', () => {
  it('a layer activation is rebuilt linear with the same weights; other models are returned as they are', () => {
    const m = cnn();
    expect(endsInSoftmax(m)).toBe(true);
    const lm = logitsModel(m);
    expect(lm).not.toBe(m);
    const x = tf.randomUniform([3, 5, 5, 2], -2, 2);
    const viaLogits = lm.predict(x) as tf.Tensor;
    const viaSoftmax = m.predict(x) as tf.Tensor;
    expect(Array.from(tf.softmax(viaLogits).dataSync())).toEqual(Array.from(viaSoftmax.dataSync()));
    tf.dispose([x, viaLogits, viaSoftmax]);
    const plain = tf.sequential({ layers: [new QDense({ units: 2, inputShape: [3], kernelQuantizer: 'binary' })] });
    expect(endsInSoftmax(plain)).toBe(false);
    expect(logitsModel(plain)).toBe(plain);
  });
});

describe('samples in and out', () => {
  it('flattens samples of the model shape and names the first problem', () => {
    expect(flattenSamples([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [2, 2], 'in.json')).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(flattenSamples([], [3], 'in.json')).toEqual([]);
    const cases: [unknown, string][] = [
      [{ a: 1 }, 'in.json must hold an array of samples (each a nested array of shape [2, 2]), found an object'],
      [[[[1, 2], [3, 4]], [[5, 6]]], 'in.json: sample 1 has shape [1, 2]; the model expects [2, 2]'],
      [[[1, 2, 3, 4]], 'in.json: sample 0 has shape [4]; the model expects [2, 2]'],
      [[[[1, 2], [3, [4]]]], 'in.json: sample 0 has shape [2, 2]; the model expects [2, 2]'],
      [[[[1, 2], [3, 'x']]], 'in.json: sample 0 at [1, 1] is "x", not a number'],
      [[[[1, null], [3, 4]]], 'in.json: sample 0 at [0, 1] is null, not a number'],
      [[[[1, 2], [3, 4]], [[1, 2], [Infinity, 4]]], 'in.json: sample 1 at [1, 0] is Infinity; inputs must be finite numbers'],
      [[[[NaN, 2], [3, 4]]], 'in.json: sample 0 at [0, 0] is NaN; inputs must be finite numbers'],
    ];
    for (const [data, message] of cases) {
      expect(() => flattenSamples(data, [2, 2], 'in.json')).toThrow(SampleError);
      expect(() => flattenSamples(data, [2, 2], 'in.json')).toThrow(message);
    }
  });

  it('nests outputs in the output shape, one sample per line', () => {
    expect(nest([1, 2, 3, 4, 5, 6], [2, 3])).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(nest([7], [])).toBe(7);
    expect(outputsJson([[1, -0, 0.5], [2, 3, 4]], [3])).toBe('[\n[1,0,0.5],\n[2,3,4]\n]\n');
    expect(outputsJson([], [3])).toBe('[]\n');
  });
});

describe('loading errors', () => {
  it('name the path and what is wrong', async () => {
    await expect(loadModel(join(dir, 'missing'))).rejects.toThrow(ModelSourceError);
    await expect(loadModel(join(dir, 'missing'))).rejects.toThrow(`model ${join(dir, 'missing')} does not exist`);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    await expect(loadModel(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not valid JSON/);
    await saveQmodel(cnn(), join(dir, 'tfjs2'));
    await expect(loadModel(join(dir, 'tfjs2'), { weights: 'w.h5' })).rejects.toThrow(/is a tfjs model.json with its own weights; --weights is only for a Keras model JSON/);
    await expect(loadModel(join(dir, 'full.h5'), { weights: 'w.h5' })).rejects.toThrow(/is a full Keras model file; --weights is only for a Keras model JSON/);
  });
});
