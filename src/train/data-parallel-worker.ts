/**
 * Worker-thread entry of data-parallel training: holds a replica of the model (rebuilt from its topology,
 * with every qkeras-ts layer and quantizer registered by importing the package root) and, for each step,
 * takes the current weights and its part of the batch and returns that part's gradients.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '../index.js';
import { ready } from '../backend/index.js';
import { setSeed } from '../quantizers/phase.js';
import { batchGradients } from './batch-gradients.js';
import type { FromWorker, InitMessage, StepMessage, ToWorker } from './data-parallel-protocol.js';

const port = parentPort;
if (!port) throw new Error('data-parallel-worker.ts runs only as a worker thread');

let model: tf.LayersModel | null = null;

function reply(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function init(message: InitMessage): Promise<void> {
  await ready();
  setSeed(message.seed);
  const topology = JSON.parse(message.topology) as tf.io.ModelJSON['modelTopology'];
  model = await tf.models.modelFromJSON({ modelTopology: topology });
  // The optimizer is never used here (the main thread applies the averaged gradients); compiling sets up the
  // same loss and metric functions the main model has.
  model.compile({ loss: message.loss, optimizer: tf.train.sgd(0), metrics: message.metrics });
  reply({ type: 'ready', shapes: model.trainableWeights.map((w) => [...w.read().shape]) });
}

function step(message: StepMessage): void {
  const replica = model!;
  tf.tidy(() => {
    replica.trainableWeights.forEach((w, i) => {
      const v = w.read() as tf.Variable;
      v.assign(tf.tensor(message.weights[i]!, v.shape));
    });
  });
  const xs = tf.tensor(message.x, message.xShape);
  const ys = tf.tensor(message.y, message.yShape);
  try {
    const { loss, metrics, grads } = batchGradients(replica, xs, ys);
    // Copies (slice) so the transferred buffers are never a backend's own storage.
    const arrays = grads.map((g) => (g.dataSync() as Float32Array).slice());
    tf.dispose(grads);
    reply({ type: 'grads', id: message.id, loss, metrics, grads: arrays }, arrays.map((a) => a.buffer as ArrayBuffer));
  } finally {
    xs.dispose();
    ys.dispose();
  }
}

port.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      if (message.type === 'init') await init(message);
      else if (message.type === 'step') step(message);
      else {
        model?.dispose();
        port.close();
      }
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      reply({ type: 'error', name: e.name, message: e.message });
    }
  })();
});
