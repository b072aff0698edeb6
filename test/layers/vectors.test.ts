/**
 * QKeras's layer and model test vectors (kinds `layer` and `model`) for the layers implemented in
 * src/layers. Vectors of layers implemented elsewhere are listed in NOT_HERE and checked to be the only
 * ones skipped, so a new vector cannot go silently untested.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { UnsupportedError } from '../../src/errors.js';
import {
  QActivation,
  QAveragePooling2D,
  QConv2D,
  QConv2DTranspose,
  QDense,
  QScaleShift,
  QSeparableConv1D,
  QSeparableConv2DTranspose,
  QSeparableConv2D,
} from '../../src/layers/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { decodeFloat32Base64, expectMatches, flatten, loadVectors, type Tolerance, type Vector } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

/** Layer classes whose vectors are tested elsewhere (none today: every layer/model vector is here). */
const NOT_HERE = new Set<string>([]);

const byId = new Map(loadVectors().map((v) => [Number(v.id), v]));
function vector(id: number): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`vector ${id} missing`);
  return v;
}

function tensorOf(v: unknown): tf.Tensor {
  const f = flatten(v);
  return tf.tensor(f.values, f.shape);
}

function snakeToCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** QKeras kwargs (snake_case) as this package's layer arguments (camelCase). */
function camelArgs(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [snakeToCamel(k), v]));
}

function data(t: tf.Tensor): { values: Float32Array; shape: number[] } {
  return { values: t.dataSync() as Float32Array, shape: t.shape };
}

const HANDLED = new Set([127, 128, 129, 134, 139, 141, 142, 144, 145, 256]);

describe('QKeras layer/model vectors', () => {
  it('covers every layer/model vector except those of layers implemented elsewhere', () => {
    const mine = loadVectors().filter((v) => (v.kind === 'layer' || v.kind === 'model') && !NOT_HERE.has(String(v['layer'])));
    expect(mine.map((v) => Number(v.id)).sort((a, b) => a - b)).toEqual([...HANDLED].sort((a, b) => a - b));
  });

  it('127 QDense: quantized_bits(2,0,alpha=1.0) kernel saturates, set_weights bypasses the Clip', () => {
    const v = vector(127);
    const kw = v['layer_kwargs'] as Record<string, unknown>;
    const layer = new QDense(camelArgs(kw) as unknown as ConstructorParameters<typeof QDense>[0]);
    const x = tensorOf(v.input);
    layer.apply(x);
    const w = v['weights'] as { kernel: unknown; bias: unknown };
    layer.setWeights([tensorOf(w.kernel), tensorOf(w.bias)]);
    expectMatches(data(layer.apply(x) as tf.Tensor), v.expected, v.tolerance, 'QDense');
    // The kernel keeps its explicit alpha (no auto_po2), the bias quantizer is untouched.
    expect(layer.kernelQuantizer!.toString()).toBe('quantized_bits(2,0,0,alpha=1.0)');
    expect(layer.biasQuantizer!.toString()).toBe('quantized_bits(2,0,0)');
  });

  it('128 QScaleShift: activation(q(b) + x * q(w)) with scalar weight and bias', () => {
    const v = vector(128);
    const layer = new QScaleShift(camelArgs(v['layer_kwargs'] as Record<string, unknown>));
    const x = tensorOf(v.input);
    layer.apply(x);
    const w = v['weights'] as { weight: unknown; bias: unknown };
    layer.setWeights([tensorOf(w.weight), tensorOf(w.bias)]);
    expectMatches(data(layer.apply(x) as tf.Tensor), v.expected, v.tolerance, 'QScaleShift');
    // QScaleShift gives both of its quantizers the auto-scale default unless alpha is set (here it is).
    expect(layer.getQuantizers().map(String)).toEqual(['quantized_bits(8,2,0,alpha=1.0)', 'quantized_bits(8,2,0,alpha=1.0)']);
  });

  it('256 QSeparableConv2DTranspose: per-channel then pointwise transposed convolutions', () => {
    const v = vector(256);
    const layer = new QSeparableConv2DTranspose(camelArgs(v['layer_kwargs'] as Record<string, unknown>) as never);
    const x = tensorOf(v.input);
    layer.apply(x);
    const w = v['weights'] as { depthwise_kernel: unknown; pointwise_kernel: unknown; bias: unknown };
    layer.setWeights([tensorOf(w.depthwise_kernel), tensorOf(w.pointwise_kernel), tensorOf(w.bias)]);
    expectMatches(data(layer.apply(x) as tf.Tensor), v.expected, v.tolerance, 'QSeparableConv2DTranspose');
    expect(layer.getQuantizers().map(String)).toEqual(v['expected_quantizer_strings']);
  });

  it('129 QAveragePooling2D: avgpool(x*area) * q(1/area), then the activation quantizer', () => {
    const v = vector(129);
    const layer = new QAveragePooling2D(camelArgs(v['layer_kwargs'] as Record<string, unknown>));
    const out = layer.apply(tensorOf(v.input)) as tf.Tensor;
    expectMatches(data(out), v.expected, v.tolerance, 'QAveragePooling2D');
    expect(layer.getQuantizers().map((q) => q?.toString())).toEqual(['quantized_bits(4,0,1)']);
  });

  it('134 QAveragePooling2D with channels_first is rejected', () => {
    const v = vector(134);
    expect(v.expected).toEqual({ raises: 'tf.errors.InvalidArgumentError on predict' });
    expect(() => new QAveragePooling2D(camelArgs(v['layer_kwargs'] as Record<string, unknown>))).toThrow(UnsupportedError);
    expect(() => new QAveragePooling2D(camelArgs(v['layer_kwargs'] as Record<string, unknown>))).toThrow(/channels_first/);
  });

  it('142 QConv2DTranspose: binary() kernel becomes auto_po2; all-ones kernel has scale 1', () => {
    const v = vector(142);
    const layer = new QConv2DTranspose(camelArgs(v['layer_kwargs'] as Record<string, unknown>) as never);
    const x = tensorOf(v.input);
    layer.apply(x);
    const w = v['weights'] as { kernel: unknown; bias: unknown };
    layer.setWeights([tensorOf(w.kernel), tensorOf(w.bias)]);
    expectMatches(data(layer.apply(x) as tf.Tensor), v.expected, v.tolerance, 'QConv2DTranspose');
    expect(layer.kernelQuantizer!.toString()).toBe("binary(alpha='auto_po2')");
    expect(layer.biasQuantizer!.toString()).toBe('binary()');
  });

  it('144 masked QConv2D adds no weights', () => {
    const v = vector(144);
    const kw = camelArgs(v['layer_kwargs'] as Record<string, unknown>);
    expect(kw['mask']).toBe('np.ones((5,5))');
    const mask = Array.from({ length: 5 }, () => new Array<number>(5).fill(1));
    const layer = new QConv2D({ ...(kw as object), mask } as never);
    layer.apply(tf.zeros([1, 10, 10, 1]));
    const e = v.expected as Record<string, number>;
    expect(layer.trainableWeights.length).toBe(e['num_trainable_weights']);
    expect(layer.nonTrainableWeights.length).toBe(e['num_non_trainable_weights']);
    expect(layer.countParams()).toBe(e['num_trainable_params']);
  });

  it('145 QConv2D with groups=2: kernel (1,1,5,6) + bias 6 = 36 parameters', () => {
    const v = vector(145);
    const layer = new QConv2D(camelArgs(v['layer_kwargs'] as Record<string, unknown>) as never);
    layer.apply(tf.zeros([1, 10, 10, 10]));
    const e = v.expected as Record<string, number>;
    expect(layer.trainableWeights.length).toBe(e['num_trainable_weights']);
    expect(layer.countParams()).toBe(e['num_trainable_params']);
    expect(layer.getWeights()[0]!.shape).toEqual([1, 1, 5, 6]);
  });

  it('139 test_qnetwork: quantized weight sums and softmax outputs', () => {
    const v = vector(139);
    const input = v.input as {
      float_weights: Record<string, Record<string, { shape: number[]; float32_le_base64: string }>>;
      inputs: { shape: number[]; float32_le_base64: string };
    };
    const model = tf.sequential({
      layers: [
        new QSeparableConv2D({
          inputShape: [28, 28, 1],
          filters: 32,
          kernelSize: [2, 2],
          strides: [2, 2],
          depthwiseQuantizer: 'binary(alpha=1.0)',
          pointwiseQuantizer: 'quantized_bits(4,0,1,alpha=1.0)',
          activation: 'quantized_bits(6,2,1,alpha=1.0)',
          biasQuantizer: 'quantized_bits(4,0,1)',
          name: 'conv2d_0_m',
        }),
        new QActivation({ activation: 'quantized_relu(6,2,1)', name: 'act0_m' }),
        new QConv2D({
          filters: 64,
          kernelSize: [3, 3],
          strides: [2, 2],
          kernelQuantizer: 'ternary(alpha=1.0)',
          biasQuantizer: 'quantized_bits(4,0,1)',
          activation: 'quantized_relu(6,3,1)',
          name: 'conv2d_1_m',
        }),
        new QConv2D({
          filters: 64,
          kernelSize: [2, 2],
          strides: [2, 2],
          kernelQuantizer: 'quantized_bits(6,2,1,alpha=1.0)',
          biasQuantizer: 'quantized_bits(4,0,1)',
          name: 'conv2d_2_m',
        }),
        new QActivation({ activation: 'quantized_relu(6,4,1)', name: 'act2_m' }),
        tf.layers.flatten(),
        new QDense({
          units: 10,
          kernelQuantizer: 'quantized_bits(6,2,1,alpha=1.0)',
          biasQuantizer: 'quantized_bits(4,0,1)',
          name: 'dense',
        }),
        tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    const order: Record<string, string[]> = {
      conv2d_0_m: ['depthwise_kernel', 'pointwise_kernel', 'bias'],
      conv2d_1_m: ['kernel', 'bias'],
      conv2d_2_m: ['kernel', 'bias'],
      dense: ['kernel', 'bias'],
    };
    const sums: number[] = [];
    for (const [name, keys] of Object.entries(order)) {
      const layer = model.getLayer(name) as QSeparableConv2D | QConv2D | QDense;
      const weights = keys.map((k) => {
        const w = input.float_weights[name]![k]!;
        return tf.tensor(decodeFloat32Base64(w.float32_le_base64), w.shape);
      });
      layer.setWeights(weights);
      // model_save_quantized_weights: each weight through its quantizer, in get_quantizers() order.
      const quantizers: (Quantizer | null)[] = layer.getQuantizers();
      weights.forEach((w, i) => {
        const q = quantizers[i];
        const qw = q === null || q === undefined ? w : q.call(w);
        sums.push(tf.sum(qw).dataSync()[0]!);
      });
    }
    const expected = v.expected as { quantized_weight_sums: number[]; softmax_output_float16: number[][] };
    expect(sums).toEqual(expected.quantized_weight_sums);
    const x = tf.tensor(decodeFloat32Base64(input.inputs.float32_le_base64), input.inputs.shape);
    const out = model.predict(x) as tf.Tensor;
    const tol = (v.tolerance as unknown as { output: Tolerance }).output;
    expectMatches(data(out), expected.softmax_output_float16, tol, 'softmax');
  });

  it('141 QSeparableConv1D: outputs of the materialized network', () => {
    const v = vector(141);
    const input = v.input as {
      float_weights: { depthwise_kernel: unknown; pointwise_kernel: unknown; bias: unknown };
      inputs: unknown;
    };
    const layer = new QSeparableConv1D({
      filters: 2,
      kernelSize: 2,
      depthwiseQuantizer: 'quantized_bits(6,2,1,alpha=1.0)',
      pointwiseQuantizer: 'quantized_bits(4,0,1,alpha=1.0)',
      biasQuantizer: 'quantized_bits(4,0,1)',
      name: 'qconv1d',
    });
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [4, 4] }), layer] });
    const w = input.float_weights;
    layer.setWeights([tensorOf(w.depthwise_kernel), tensorOf(w.pointwise_kernel), tensorOf(w.bias)]);
    const out = model.predict(tensorOf(input.inputs)) as tf.Tensor;
    const expected = v.expected as { output_float16: number[][][] };
    const tol = (v.tolerance as unknown as { output: Tolerance }).output;
    expectMatches(data(out), expected.output_float16, tol, 'QSeparableConv1D');
  });
});
