/**
 * importKeras on the four community models: structure, quantizers and weights as in the files, and
 * predictions equal to a reference computed here from the raw HDF5 arrays with the quantizers applied.
 *
 * Exactness of the references: every quantized model's inputs, weights and activations are dyadic
 * rationals, and every partial sum of every dot product needs fewer than 24 significant bits (e.g. the
 * dense MNIST first layer: 2-bit inputs × po2 weights ≥ 2^-7 give multiples of 2^-9, |sum| < 2^10), so
 * float32 computes them exactly in any summation order and the float64 references below are exact too.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { loadMnist } from '../../src/data/mnist.js';
import { KerasImportError, KerasWeightsError } from '../../src/errors.js';
import { importKeras } from '../../src/import/index.js';
import { QActivation, QConv2D, QDense } from '../../src/layers/index.js';
import { getQuantizer, type QuantizerSpec } from '../../src/quantizers/index.js';
import { MODEL_NAMES, bits, jsonLayers, jsonPath, modelJson, rawDataset, weightsPath, type ModelName } from './fixtures.js';

beforeAll(async () => {
  await ready();
});

// ---- reference arithmetic (float64, from raw arrays) ---------------------------------------------

/** Applies a quantizer named in the JSON to raw values. */
function quantize(spec: unknown, values: Float32Array, shape: number[]): Float32Array {
  const q = getQuantizer(spec as QuantizerSpec);
  if (q === null) throw new Error(`no quantizer in ${JSON.stringify(spec)}`);
  return tf.tidy(() => q.call(tf.tensor(values, shape), { training: false }).dataSync() as Float32Array);
}

function denseRef(x: ArrayLike<number>, batch: number, kernel: Float32Array, inDim: number, outDim: number, bias: Float32Array): Float64Array {
  const y = new Float64Array(batch * outDim);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias[o]!;
      for (let i = 0; i < inDim; i++) s += x[b * inDim + i]! * kernel[i * outDim + o]!;
      y[b * outDim + o] = s;
    }
  }
  return y;
}

/** 'valid' 3×3 stride-1 convolution, channels-last, kernel [3, 3, cin, cout]. */
function conv3x3Ref(x: ArrayLike<number>, batch: number, h: number, w: number, cin: number, kernel: Float32Array, cout: number, bias: Float32Array): Float64Array {
  const oh = h - 2;
  const ow = w - 2;
  const y = new Float64Array(batch * oh * ow * cout);
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let o = 0; o < cout; o++) {
          let s = bias[o]!;
          for (let kr = 0; kr < 3; kr++)
            for (let kc = 0; kc < 3; kc++)
              for (let i = 0; i < cin; i++) s += x[((b * h + r + kr) * w + c + kc) * cin + i]! * kernel[((kr * 3 + kc) * cin + i) * cout + o]!;
          y[((b * oh + r) * ow + c) * cout + o] = s;
        }
  return y;
}

/** 2×2 stride-2 'valid' max pooling, channels-last. */
function maxPoolRef(x: ArrayLike<number>, batch: number, h: number, w: number, ch: number): Float64Array {
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  const y = new Float64Array(batch * oh * ow * ch);
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let k = 0; k < ch; k++) {
          let m = -Infinity;
          for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) m = Math.max(m, x[((b * h + 2 * r + dr) * w + 2 * c + dc) * ch + k]!);
          y[((b * oh + r) * ow + c) * ch + k] = m;
        }
  return y;
}

const relu = (v: Float64Array): Float64Array => v.map((x) => Math.max(x, 0));
const f32 = (v: ArrayLike<number>): Float32Array => Float32Array.from(v);

/** Deterministic pseudo-random integers in [lo, hi] (a small LCG; the values only need to be varied). */
function randomInts(count: number, lo: number, hi: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  });
}

/** The model's output of layer `name` (pre-softmax logits) and its final output for `x`. */
function run(model: tf.LayersModel, layerName: string, x: tf.Tensor): { logits: Float32Array; probs: Float32Array } {
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(layerName).output as tf.SymbolicTensor });
  return tf.tidy(() => ({
    logits: (sub.predict(x) as tf.Tensor).dataSync() as Float32Array,
    probs: (model.predict(x) as tf.Tensor).dataSync() as Float32Array,
  }));
}

function softmaxOf(logits: Float32Array, classes: number): Float32Array {
  return tf.tidy(() => tf.softmax(tf.tensor2d(logits, [logits.length / classes, classes])).dataSync() as Float32Array);
}

async function raw(m: ModelName, layer: string, weight: string): Promise<Float32Array> {
  return (await rawDataset(weightsPath(m), `${layer}/${layer}/${weight}:0`)).values;
}

function configOf(m: ModelName, name: string): Record<string, unknown> {
  return jsonLayers(m).find((l) => l.config['name'] === name)!.config;
}

// ---- tests ------------------------------------------------------------------------------------------

describe('importKeras: structure, quantizers and weights', () => {
  it.each(MODEL_NAMES)('%s has the layer classes and names of its JSON', async (m) => {
    const model = await importKeras(jsonPath(m), weightsPath(m));
    const expected = jsonLayers(m).map((l) => `${l.class_name}:${String(l.config['name'])}`);
    expect(model.layers.map((l) => `${l.getClassName()}:${l.name}`)).toEqual(expected);
    expect(model.name).toBe((modelJson(m)['config'] as { name: string }).name);
    model.dispose();
  });

  it.each(MODEL_NAMES)('%s carries the weights of its .h5 file bit for bit', async (m) => {
    const model = await importKeras(jsonPath(m), weightsPath(m));
    let checked = 0;
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const values = layer.getWeights();
      expect(bits(values[0]!.dataSync() as Float32Array)).toEqual(bits(await raw(m, layer.name, 'kernel')));
      expect(bits(values[1]!.dataSync() as Float32Array)).toEqual(bits(await raw(m, layer.name, 'bias')));
      checked++;
    }
    expect(checked).toBe({ qkeras_3layer: 4, qkeras_mnist_dense: 2, qkeras_mnist_cnn: 3, KERAS_3layer: 4 }[m]);
    model.dispose();
  });

  it('applies the quantizers named in the JSON (qkeras_mnist_dense)', async () => {
    const model = await importKeras(jsonPath('qkeras_mnist_dense'), weightsPath('qkeras_mnist_dense'));
    const d2 = model.getLayer('q_dense_2') as QDense;
    const d3 = model.getLayer('q_dense_3') as QDense;
    expect(d2.kernelQuantizer!.toString()).toBe('quantized_po2(4,1)');
    expect(d2.biasQuantizer!.toString()).toBe('quantized_bits(2,0,1)');
    expect(d3.kernelQuantizer!.toString()).toBe('quantized_bits(4,0,1,alpha=1)');
    expect(d3.biasQuantizer!.toString()).toBe('quantized_bits(4,0,1)');
    expect((model.getLayer('q_activation_2') as QActivation).quantizer.toString()).toBe('quantized_relu(2,0)');
    expect((model.getLayer('q_activation_3') as QActivation).quantizer.toString()).toBe('quantized_relu(3,1)');
    // The serialised quantizers keep every field the file gives.
    expect(d2.kernelQuantizer!.serialize()).toMatchObject(configOf('qkeras_mnist_dense', 'q_dense_2')['kernel_quantizer'] as object);
    expect(d3.biasQuantizer!.serialize()).toMatchObject(configOf('qkeras_mnist_dense', 'q_dense_3')['bias_quantizer'] as object);
    model.dispose();
  });

  it('applies the quantizers named in the JSON (qkeras_3layer, qkeras_mnist_cnn)', async () => {
    const jet = await importKeras(jsonPath('qkeras_3layer'), weightsPath('qkeras_3layer'));
    for (const name of ['fc1', 'fc2', 'fc3', 'output']) {
      const l = jet.getLayer(name) as QDense;
      expect([l.kernelQuantizer!.toString(), l.biasQuantizer!.toString()]).toEqual(['quantized_bits(6,0,0,alpha=1)', 'quantized_bits(6,0,0,alpha=1)']);
    }
    for (const name of ['relu1', 'relu2', 'relu3']) expect((jet.getLayer(name) as QActivation).quantizer.toString()).toBe('quantized_relu(6,0)');
    // fc1's latent kernel spans [-1, 1]; quantized it is k/32 with k in [-32, 31] (1 clips to 31/32).
    const fc1 = jet.getLayer('fc1') as QDense;
    const q = tf.tidy(() => fc1.kernelQuantizer!.call(fc1.getWeights()[0]!, { training: false }).dataSync() as Float32Array);
    const codes = Array.from(q, (v) => v * 32);
    expect(codes.every((k) => Number.isInteger(k) && k >= -32 && k <= 31)).toBe(true);
    expect(Math.min(...codes)).toBe(-32);
    expect(Math.max(...codes)).toBe(31);
    jet.dispose();

    const cnn = await importKeras(jsonPath('qkeras_mnist_cnn'), weightsPath('qkeras_mnist_cnn'));
    const conv = cnn.getLayer('q_conv2d') as QConv2D;
    expect([conv.kernelQuantizer!.toString(), conv.biasQuantizer!.toString()]).toEqual(['quantized_bits(6,0,0,alpha=1)', 'quantized_bits(6,0,0,alpha=1)']);
    expect(cnn.getLayer('dropout').getClassName()).toBe('Dropout');
    cnn.dispose();
  });
});

describe('importKeras: predictions equal a reference from the raw arrays', () => {
  it('qkeras_mnist_dense: 784 → quantized_relu(2) → po2 QDense 20 → quantized_relu(3,1) → QDense 10 → softmax', async () => {
    const m = 'qkeras_mnist_dense';
    const model = await importKeras(jsonPath(m), weightsPath(m));
    const mnist = loadMnist().test;
    const batch = 12;
    const x = new Float32Array(batch * 784);
    // Eight test images scaled to [0, 1] (as hls4ml's tests feed them), then four with values outside it.
    for (let i = 0; i < 8 * 784; i++) x[i] = mnist.pixels[i]! / 255;
    randomInts(4 * 784, -64, 191, 7).forEach((v, i) => (x[8 * 784 + i] = v / 128));
    const c2 = configOf(m, 'q_dense_2');
    const c3 = configOf(m, 'q_dense_3');
    const a0 = quantize(configOf(m, 'q_activation_2')['activation'], x, [batch, 784]);
    const h1 = denseRef(a0, batch, quantize(c2['kernel_quantizer'], await raw(m, 'q_dense_2', 'kernel'), [784, 20]), 784, 20, quantize(c2['bias_quantizer'], await raw(m, 'q_dense_2', 'bias'), [20]));
    const a1 = quantize(configOf(m, 'q_activation_3')['activation'], f32(h1), [batch, 20]);
    const logits = denseRef(a1, batch, quantize(c3['kernel_quantizer'], await raw(m, 'q_dense_3', 'kernel'), [20, 10]), 20, 10, quantize(c3['bias_quantizer'], await raw(m, 'q_dense_3', 'bias'), [10]));
    // The float64 reference is representable in float32, as the file comment argues.
    expect(Array.from(f32(logits))).toEqual(Array.from(logits));
    const out = tf.tidy(() => run(model, 'q_dense_3', tf.tensor2d(x, [batch, 784])));
    expect(out.logits).toEqual(f32(logits));
    expect(bits(out.probs)).toEqual(bits(softmaxOf(f32(logits), 10)));
    model.dispose();
  });

  it('qkeras_3layer: 16 → 64 → 32 → 32 → 5 on inputs on a 2^-3 grid in [-4, 4)', async () => {
    const m = 'qkeras_3layer';
    const model = await importKeras(jsonPath(m), weightsPath(m));
    const batch = 16;
    const x = Float32Array.from(randomInts(batch * 16, -32, 31, 11), (v) => v / 8);
    let act: Float32Array = x;
    let width = 16;
    const dims: Array<[string, number, string | null]> = [
      ['fc1', 64, 'relu1'],
      ['fc2', 32, 'relu2'],
      ['fc3', 32, 'relu3'],
      ['output', 5, null],
    ];
    let logits: Float64Array = new Float64Array(0);
    for (const [name, units, reluName] of dims) {
      const c = configOf(m, name);
      const y = denseRef(act, batch, quantize(c['kernel_quantizer'], await raw(m, name, 'kernel'), [width, units]), width, units, quantize(c['bias_quantizer'], await raw(m, name, 'bias'), [units]));
      width = units;
      if (reluName === null) logits = y;
      else act = quantize(configOf(m, reluName)['activation'], f32(y), [batch, units]);
    }
    expect(Array.from(f32(logits))).toEqual(Array.from(logits));
    const out = tf.tidy(() => run(model, 'output', tf.tensor2d(x, [batch, 16])));
    expect(out.logits).toEqual(f32(logits));
    expect(bits(out.probs)).toEqual(bits(softmaxOf(f32(logits), 5)));
    model.dispose();
  });

  it('qkeras_mnist_cnn: two QConv2D(relu) + quantized_relu(6,0) + max-pool stages, then QDense 10', async () => {
    const m = 'qkeras_mnist_cnn';
    const model = await importKeras(jsonPath(m), weightsPath(m));
    const mnist = loadMnist().test;
    const batch = 4;
    // Pixels / 256 keep the input dyadic, so the float32 model is exact.
    const x = Float32Array.from(mnist.pixels.subarray(0, batch * 784), (p) => p / 256);
    const qw = async (layer: string, shape: number[]): Promise<[Float32Array, Float32Array]> => {
      const c = configOf(m, layer);
      return [quantize(c['kernel_quantizer'], await raw(m, layer, 'kernel'), shape), quantize(c['bias_quantizer'], await raw(m, layer, 'bias'), [shape[shape.length - 1]!])];
    };
    const [k1, b1] = await qw('q_conv2d', [3, 3, 1, 16]);
    const [k2, b2] = await qw('q_conv2d_1', [3, 3, 16, 16]);
    const [k3, b3] = await qw('q_dense', [400, 10]);
    const qrelu = configOf(m, 'q_activation')['activation'];
    let y = relu(conv3x3Ref(x, batch, 28, 28, 1, k1, 16, b1));
    let a = quantize(qrelu, f32(y), [batch, 26, 26, 16]);
    let p = maxPoolRef(a, batch, 26, 26, 16);
    y = relu(conv3x3Ref(p, batch, 13, 13, 16, k2, 16, b2));
    a = quantize(configOf(m, 'q_activation_1')['activation'], f32(y), [batch, 11, 11, 16]);
    p = maxPoolRef(a, batch, 11, 11, 16);
    const logits = denseRef(p, batch, k3, 400, 10, b3);
    expect(Array.from(f32(logits))).toEqual(Array.from(logits));
    const out = tf.tidy(() => run(model, 'q_dense', tf.tensor4d(x, [batch, 28, 28, 1])));
    expect(out.logits).toEqual(f32(logits));
    expect(bits(out.probs)).toEqual(bits(softmaxOf(f32(logits), 10)));
    // And the images are recognised: the first four test labels are 7, 2, 1, 0.
    expect(Array.from({ length: batch }, (_, b) => out.logits.subarray(b * 10, b * 10 + 10).indexOf(Math.max(...out.logits.subarray(b * 10, b * 10 + 10))))).toEqual([7, 2, 1, 0]);
    model.dispose();
  });

  it('KERAS_3layer (float): equals tfjs Dense layers built by hand from the raw arrays, bit for bit', async () => {
    const m = 'KERAS_3layer';
    const model = await importKeras(jsonPath(m), weightsPath(m));
    const names = ['fc1_relu', 'fc2_relu', 'fc3_relu', 'output_softmax'];
    const units = [64, 32, 32, 5];
    const ref = tf.sequential({
      layers: names.map((_name, i) => tf.layers.dense({ units: units[i]!, activation: i === 3 ? 'softmax' : 'relu', ...(i === 0 ? { inputShape: [16] } : {}) })),
    });
    for (const [i, name] of names.entries()) {
      const shape: [number, number] = [i === 0 ? 16 : units[i - 1]!, units[i]!];
      ref.layers[i]!.setWeights([tf.tensor2d(await raw(m, name, 'kernel'), shape), tf.tensor1d(await raw(m, name, 'bias'))]);
    }
    const x = tf.randomNormal([32, 16], 0, 1, 'float32', 5);
    const got = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
    const want = tf.tidy(() => (ref.predict(x) as tf.Tensor).dataSync() as Float32Array);
    expect(bits(got)).toEqual(bits(want));
    x.dispose();
    ref.dispose();
    model.dispose();
  });
});

describe('importKeras: resources', () => {
  it('leaves no tensors behind once the model is disposed', async () => {
    (await importKeras(jsonPath('qkeras_3layer'), weightsPath('qkeras_3layer'))).dispose();
    const before = tf.memory().numTensors;
    const model = await importKeras(jsonPath('qkeras_mnist_cnn'), weightsPath('qkeras_mnist_cnn'));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('importKeras: graph order', () => {
  it('builds a functional model whose layers are not listed in call order', async () => {
    const json = modelJson('qkeras_mnist_dense');
    const config = json['config'] as { layers: unknown[] };
    config.layers.reverse();
    const shuffled = await importKeras(json, weightsPath('qkeras_mnist_dense'));
    const normal = await importKeras(jsonPath('qkeras_mnist_dense'), weightsPath('qkeras_mnist_dense'));
    const x = tf.randomUniform([4, 784], 0, 1, 'float32', 2);
    const out = (m: tf.LayersModel): Uint32Array => bits(tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array));
    expect(out(shuffled)).toEqual(out(normal));
    x.dispose();
    shuffled.dispose();
    normal.dispose();
  });
});

describe('importKeras: errors', () => {
  it('reports an unknown layer and an unknown argument together, by layer name and class', async () => {
    const json = modelJson('qkeras_mnist_dense');
    const layers = (json['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> }).layers;
    layers[3]!.class_name = 'QMysteryActivation';
    layers[4]!.config['kernel_sparsity'] = 0.5;
    let err: unknown;
    try {
      await importKeras(json, weightsPath('qkeras_mnist_dense'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KerasImportError);
    const e = err as KerasImportError;
    expect(e.issues.map((i) => [i.layer, i.className, i.argument])).toEqual([
      ['q_activation_3', 'QMysteryActivation', null],
      ['q_dense_3', 'QDense', 'kernel_sparsity'],
    ]);
    expect(e.message).toMatch(/^Keras model JSON: 2 problems:/);
    expect(e.message).toContain('layer "q_activation_3" (QMysteryActivation): unknown layer class; supported: ');
    expect(e.message).toContain('layer "q_dense_3" (QDense), argument kernel_sparsity: unknown argument (value 0.5)');
  });

  it('reports a quantizer only the layer class rejects together with unknown layers, in model order', async () => {
    const json = modelJson('qkeras_3layer');
    const layers = (json['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> }).layers;
    layers[2]!.class_name = 'LSTM';
    layers[3]!.config['kernel_quantizer'] = { class_name: 'quantized_weird', config: {} };
    layers[4]!.class_name = 'FancyLayer';
    const err = await importKeras(json, weightsPath('qkeras_3layer')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KerasImportError);
    const e = err as KerasImportError;
    expect(e.issues.map((i) => [i.layer, i.className, i.argument])).toEqual([
      ['relu1', 'LSTM', null],
      ['fc2', 'QDense', null],
      ['relu2', 'FancyLayer', null],
    ]);
    expect(e.issues[1]!.detail).toContain('unknown class_name "quantized_weird"');
  });

  it('reports weights that do not fit the JSON, naming layer, weight, expected and found shapes', async () => {
    const json = modelJson('qkeras_3layer');
    const layers = (json['config'] as { layers: Array<{ config: Record<string, unknown> }> }).layers;
    layers[1]!.config['units'] = 60;
    await expect(importKeras(json, weightsPath('qkeras_3layer'))).rejects.toSatisfy((e: unknown) => {
      expect(e).toBeInstanceOf(KerasWeightsError);
      expect((e as KerasWeightsError).issues).toEqual([
        { layer: 'fc1', weight: 'fc1/kernel:0', expected: 'shape [16, 60]', found: 'shape [16, 64]' },
        { layer: 'fc1', weight: 'fc1/bias:0', expected: 'shape [60]', found: 'shape [64]' },
        { layer: 'fc2', weight: 'fc2/kernel:0', expected: 'shape [60, 32]', found: 'shape [64, 32]' },
      ]);
      return true;
    });
  });

  it('asks for the model JSON when given a weights-only .h5, and rejects a .h5 with a second file', async () => {
    await expect(importKeras(weightsPath('qkeras_3layer'))).rejects.toThrow(/holds weights only \(save_weights\); import it together with the model JSON/);
    await expect(importKeras(weightsPath('qkeras_3layer'), weightsPath('qkeras_3layer'))).rejects.toThrow(/is an HDF5 file: give either a full-model \.h5 alone/);
  });

  it('imports the architecture alone (fresh weights) when no weights file is given', async () => {
    const model = await importKeras(jsonPath('qkeras_mnist_dense'));
    expect(model.layers.map((l) => l.name)).toEqual(['input_3', 'q_activation_2', 'q_dense_2', 'q_activation_3', 'q_dense_3', 'activation_3']);
    const kernel = model.getLayer('q_dense_2').getWeights()[0]!.dataSync();
    expect(kernel.some((v) => v !== 0)).toBe(true);
    model.dispose();
  });
});
