import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { loadMnist, prepareSplit, trainingMean } from '../../src/data/mnist.js';
import { compileForMnist, createFloatModel, createQModel, MNIST_INPUT_SHAPE } from '../../src/models/labbook.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { evaluateAccuracy, fitModel } from '../../src/train/fit.js';

beforeAll(async () => {
  await ready();
});

// Smoke version of the lab book: a few hundred real MNIST samples, one epoch. It checks that the models
// build with the lab book's shapes and names, train on the wasm backend without leaking tensors, and
// learn something (the full runs and their accuracies are in examples/mnist-labbook.ts).
describe('lab book MNIST models (smoke)', () => {
  const mnist = loadMnist();
  const mean = trainingMean(mnist.train);
  const train = prepareSplit(mnist.train, mean, 0, 512);
  const test = prepareSplit(mnist.test, mean, 0, 500);

  it('builds the float and quantized models with the lab book layer names and parameter counts', () => {
    const float = createFloatModel();
    const q = createQModel();
    const names = ['conv2d_1', 'act_1', 'conv2d_2', 'act_2', 'flatten', 'dense', 'softmax'];
    expect(float.layers.slice(1).map((l) => l.name)).toEqual(names);
    expect(q.layers.slice(1).map((l) => l.name)).toEqual(names);
    // 3*3*1*18+18 + 3*3*18*32+32 + 24*24*32*10+10, as Keras's summary of the lab book reports (190,040).
    expect(float.countParams()).toBe(180 + 5216 + 184330);
    expect(q.countParams()).toBe(float.countParams());
    expect(q.outputs[0]!.shape).toEqual([null, 10]);
  });

  it('trains the quantized model one epoch with flat memory and beats chance on held-out digits', async () => {
    setSeed(7);
    const q = createQModel();
    compileForMnist(q, 0.0005);
    const logs = await fitModel(q, train, { epochs: 1, batchSize: 64, sampleShape: MNIST_INPUT_SHAPE, seed: 3 });
    expect(logs).toHaveLength(1);
    expect(Number.isFinite(logs[0]!.loss)).toBe(true);
    // Once the optimizer's slots exist (first epoch), an epoch allocates nothing that outlives it.
    const before = tf.memory().numTensors;
    await fitModel(q, train, { epochs: 1, batchSize: 64, sampleShape: MNIST_INPUT_SHAPE, seed: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const acc = evaluateAccuracy(q, test, MNIST_INPUT_SHAPE);
    expect(acc).toBeGreaterThan(0.3);
  });
});
