/**
 * The lowering battery's "trained" models: a zoo model with a softmax head trained two epochs on 96 seeded
 * random samples, so its weights are what an optimizer leaves rather than what the zoo drew.
 */
import type * as tf from '@tensorflow/tfjs';
import { compileForMnist } from '../../src/models/labbook.js';
import { fitModel } from '../../src/train/fit.js';
import { rng } from './zoo.js';

export async function trainOnRandomData(model: tf.LayersModel, seed: number): Promise<void> {
  const r = rng(seed);
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  const classes = model.outputs[0]!.shape[1]!;
  const count = 96;
  const labels = Uint8Array.from({ length: count }, () => Math.floor(r() * classes));
  const y = new Float32Array(count * classes);
  labels.forEach((l, i) => (y[i * classes + l] = 1));
  const x = Float32Array.from({ length: count * size }, () => 2 * r() - 1);
  compileForMnist(model, 0.01);
  const quiet = { start() {}, update() {}, stop() {} };
  await fitModel(model, { x, y, labels, count }, { epochs: 2, batchSize: 32, sampleShape: shape, seed: 5, progress: quiet });
}
