/**
 * Tensor hygiene on dispose: the per-channel scales that auto-alpha quantizers keep between calls belong
 * to the layer and are freed with the model (tfjs's dispose frees only the weights), and a quantizer
 * whose tensors were freed still works.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QBidirectional,
  QConv2D,
  QDense,
  QDepthwiseConv2DBatchnorm,
  QLSTM,
  QSeparableConv2DTranspose,
  QSimpleRNN,
} from '../../src/layers/index.js';
import { QuantizedLinear, getQuantizer } from '../../src/quantizers/index.js';
import { makeRng } from '../backend/gradient-cases.js';

beforeAll(async () => {
  await ready();
});

const AUTO = "quantized_bits(4,0,1,alpha='auto_po2')";

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => rng() * 2 - 1), shape);
}

/** Builds a model, runs it once, disposes it; returns the tensor count it left behind. */
function leftBehind(layers: () => tf.layers.Layer[], inputShape: number[]): number {
  const x = randomTensor(inputShape, 3);
  const before = tf.memory().numTensors;
  const model = tf.sequential({ layers: layers() });
  tf.dispose(model.predict(x) as tf.Tensor);
  model.dispose();
  const after = tf.memory().numTensors;
  x.dispose();
  return after - before;
}

describe('model.dispose() frees what the quantizers keep', () => {
  it('convolution, folded depthwise, transposed separable and dense layers with auto-alpha kernels', () => {
    const layers = (): tf.layers.Layer[] => [
      new QConv2D({ inputShape: [6, 6, 2], filters: 4, kernelSize: 2, kernelQuantizer: AUTO, biasQuantizer: 'quantized_bits(6,2)' }),
      new QDepthwiseConv2DBatchnorm({ kernelSize: 2, depthwiseQuantizer: AUTO }),
      new QSeparableConv2DTranspose({ filters: 2, kernelSize: 2, depthwiseKernelQuantizer: AUTO, pointwiseKernelQuantizer: AUTO }),
      tf.layers.flatten(),
      new QDense({ units: 3, kernelQuantizer: "quantized_linear(4,0,alpha='auto')", activation: 'quantized_relu(4)' }),
    ];
    expect(leftBehind(layers, [2, 6, 6, 2])).toBe(0);
  });

  it('recurrent layers and the bidirectional wrapper (the cells are not layers of the model)', () => {
    expect(leftBehind(() => [new QLSTM({ inputShape: [4, 3], units: 2, kernelQuantizer: AUTO, recurrentQuantizer: AUTO })], [2, 4, 3])).toBe(0);
    const bidirectional = (): tf.layers.Layer[] => [
      new QBidirectional({ inputShape: [4, 3], layer: new QSimpleRNN({ units: 2, kernelQuantizer: AUTO }) as unknown as tf.RNN }),
    ];
    expect(leftBehind(bidirectional, [2, 4, 3])).toBe(0);
  });

  it('the kept scale is a tensor until the layer is disposed, then back to its state before the first call', () => {
    const layer = new QDense({ inputShape: [4], units: 3, kernelQuantizer: AUTO });
    const model = tf.sequential({ layers: [layer] });
    const x = randomTensor([2, 4], 5);
    tf.dispose(model.predict(x) as tf.Tensor);
    const q = layer.kernelQuantizer!;
    expect(q.scale).toBeInstanceOf(tf.Tensor);
    model.dispose();
    expect(q.scale).toBeNull();
    x.dispose();
  });
});

describe('Quantizer.dispose()', () => {
  it('frees the scale and leaves a quantizer that computes the same values again', () => {
    for (const spec of [AUTO, "quantized_linear(4,1,alpha='auto_po2')", "binary(alpha='auto')", 'quantized_linear(4,1,alpha=[0.5,2.0])']) {
      const q = getQuantizer(spec)!;
      const x = randomTensor([3, 2], 7);
      const first = q.call(x);
      const before = tf.memory().numTensors;
      q.dispose();
      expect(tf.memory().numTensors).toBeLessThan(before);
      const again = q.call(x);
      expect(Array.from(again.dataSync())).toEqual(Array.from(first.dataSync()));
      q.dispose();
      tf.dispose([x, first, again]);
    }
  });

  it('quantized_linear returns to its scales before the first call', () => {
    const q = new QuantizedLinear({ bits: 4, integer: 1, alpha: 'auto' });
    const initial = { scale: q.scale, quantizationScale: q.quantizationScale, max: q.max() };
    const x = randomTensor([3, 2], 9);
    tf.dispose(q.call(x));
    expect(q.quantizationScale).toBeInstanceOf(tf.Tensor);
    q.dispose();
    expect({ scale: q.scale, quantizationScale: q.quantizationScale, max: q.max() }).toEqual(initial);
    x.dispose();
  });
});
