/**
 * withWeightGradientStep (src/layers/weight-gradient-step.ts): inside a step that differentiates with respect
 * to the trainable weights only, a QConv2D fed by the model's input skips Conv2DBackpropInput, and every
 * weight's gradient keeps the same float32 bits. Outside such a step (tf.grad with respect to the input,
 * a layer applied on its own), the input's gradient is computed as before.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QConv2D } from '../../src/layers/q-conv.js';
import { QDense } from '../../src/layers/q-dense.js';
import { withWeightGradientStep } from '../../src/layers/weight-gradient-step.js';

beforeAll(async () => {
  await ready();
});

function model(bias: boolean): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 2] });
  const q = 'quantized_bits(4,0,1)';
  let x = new QConv2D({ filters: 5, kernelSize: 3, kernelQuantizer: q, biasQuantizer: q, useBias: bias, padding: 'same', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  x = new QConv2D({ filters: 6, kernelSize: 3, kernelQuantizer: q, biasQuantizer: q, useBias: bias, name: 'c2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = new QDense({ units: 3, kernelQuantizer: q, biasQuantizer: q, name: 'd' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  m.setWeights(m.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 40 + i)));
  return m;
}

/** The weights' gradients of a squared loss (bits), and the kernels the step ran. */
async function weightGradients(m: tf.LayersModel, x: tf.Tensor, inStep: boolean): Promise<{ bits: Uint32Array[]; kernels: string[] }> {
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  let bits: Uint32Array[] = [];
  const step = (): void => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    bits = vars.map((v) => new Uint32Array(Float32Array.from(grads[v.name]!.dataSync()).buffer));
    tf.dispose([value, ...Object.values(grads)]);
  };
  const info = await tf.profile(() => (inStep ? withWeightGradientStep(m, step) : step()));
  return { bits, kernels: info.kernels.map((k) => k.name) };
}

describe('withWeightGradientStep', () => {
  for (const bias of [true, false]) {
    it(`skips only the first convolution's input gradient; weight gradients keep their bits (bias ${bias})`, async () => {
      const m = model(bias);
      const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 7);
      const plain = await weightGradients(m, x, false);
      const step = await weightGradients(m, x, true);
      const count = (ks: string[]) => ks.filter((k) => k === 'Conv2DBackpropInput').length;
      expect(count(plain.kernels)).toBe(2);
      expect(count(step.kernels)).toBe(1);
      expect(step.bits.length).toBe(bias ? 6 : 4);
      expect(step.bits).toEqual(plain.bits);
      m.dispose();
      x.dispose();
    });
  }

  it('leaves gradients with respect to the input alone', () => {
    const m = model(true);
    const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 9);
    const g = tf.grad((xs: tf.Tensor) => tf.sum(m.apply(xs) as tf.Tensor))(x);
    // Outside a step: the true input gradient, not the placeholder zeros.
    expect(tf.max(tf.abs(g)).dataSync()[0]!).toBeGreaterThan(0);
    const before = g.dataSync().slice();
    tf.dispose(g);
    // A step marks the model only while it runs.
    withWeightGradientStep(m, () => 0);
    const again = tf.grad((xs: tf.Tensor) => tf.sum(m.apply(xs) as tf.Tensor))(x);
    expect(again.dataSync()).toEqual(before);
    tf.dispose([again, x]);
    m.dispose();
  });

  it('unmarks the model when the step throws or its promise rejects', async () => {
    const m = model(false);
    expect(() => withWeightGradientStep(m, () => { throw new Error('boom'); })).toThrow('boom');
    await expect(withWeightGradientStep(m, () => Promise.reject(new Error('late')))).rejects.toThrow('late');
    const x = tf.randomNormal([1, 8, 8, 2], 0, 1, 'float32', 3);
    const g = tf.grad((xs: tf.Tensor) => tf.sum(m.apply(xs) as tf.Tensor))(x);
    expect(tf.max(tf.abs(g)).dataSync()[0]!).toBeGreaterThan(0);
    tf.dispose([g, x]);
    m.dispose();
  });
});
