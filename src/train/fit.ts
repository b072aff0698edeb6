/**
 * A small, deterministic training loop over typed-array datasets: seeded shuffling, batches copied into
 * one reused buffer (so the whole dataset never sits in the wasm heap as one tensor), per-epoch loss and
 * accuracy, and evaluation in batches.
 */
import * as tf from '@tensorflow/tfjs';
import { applyWeightConstraints } from '../layers/constraints.js';
import { withLearningPhase } from '../quantizers/phase.js';
import { withWeightGradientStep } from '../layers/weight-gradient-step.js';
import { createProgress, type Progress } from './progress.js';
import { mulberry32 } from '../utils/mulberry32.js';
import { withDataParallel, type DataParallelTrainer } from './data-parallel.js';

export interface Dataset {
  /** count × sampleSize features, float32. */
  readonly x: Float32Array;
  /** count × classes one-hot targets. */
  readonly y: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface EpochLog {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly testAccuracy?: number;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  /** Input shape of one sample, e.g. [28, 28, 1]. */
  sampleShape: number[];
  seed?: number;
  progress?: Progress;
  /** Evaluated after every epoch when given. */
  test?: Dataset;
  onEpoch?: (log: EpochLog) => void;
  /**
   * Threads computing each step's gradients (default 1: `model.trainOnBatch` on this thread). With 2 or
   * more, every batch is split across this thread and worker threads (src/train/data-parallel.ts);
   * stochastic quantizers then draw from per-thread streams, and models with non-trainable weights are
   * refused with DataParallelError.
   */
  workers?: number;
}

function shuffled(count: number, rand: () => number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Trains a compiled model. The learning phase is 1 while stepping, so stochastic quantizers randomise. */
export async function fitModel(model: tf.LayersModel, train: Dataset, options: FitOptions): Promise<EpochLog[]> {
  const workers = options.workers ?? 1;
  if (workers === 1) return fitLoop(model, train, options, null);
  return withDataParallel(model, { workers, seed: options.seed ?? 1 }, (parallel) => fitLoop(model, train, options, parallel));
}

async function fitLoop(model: tf.LayersModel, train: Dataset, options: FitOptions, parallel: DataParallelTrainer | null): Promise<EpochLog[]> {
  const batchSize = options.batchSize ?? 128;
  const sampleSize = product(options.sampleShape);
  const classes = train.y.length / train.count;
  const rand = mulberry32(options.seed ?? 1);
  const progress = options.progress ?? createProgress();
  const xBuf = new Float32Array(batchSize * sampleSize);
  const yBuf = new Float32Array(batchSize * classes);
  const logs: EpochLog[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffled(train.count, rand);
    const batches = Math.ceil(train.count / batchSize);
    const started = performance.now();
    let lossSum = 0;
    let accSum = 0;
    progress.start(batches, `epoch ${epoch + 1}/${options.epochs}`);
    for (let b = 0; b < batches; b++) {
      const n = Math.min(batchSize, train.count - b * batchSize);
      for (let i = 0; i < n; i++) {
        const s = order[b * batchSize + i]!;
        xBuf.set(train.x.subarray(s * sampleSize, (s + 1) * sampleSize), i * sampleSize);
        yBuf.set(train.y.subarray(s * classes, (s + 1) * classes), i * classes);
      }
      const result = parallel
        ? await parallel.trainOnBatch(xBuf.subarray(0, n * sampleSize), yBuf.subarray(0, n * classes), options.sampleShape, n)
        : await trainOnBatch(model, xBuf, yBuf, n, options.sampleShape, classes);
      const [loss, acc] = Array.isArray(result) ? result : [result, NaN];
      lossSum += loss! * n;
      accSum += (acc ?? NaN) * n;
      progress.update(b + 1, `loss ${(lossSum / ((b * batchSize) + n)).toFixed(4)}`);
    }
    progress.stop();
    const seconds = (performance.now() - started) / 1000;
    const log: EpochLog = {
      epoch: epoch + 1,
      loss: lossSum / train.count,
      accuracy: accSum / train.count,
      seconds,
      samplesPerSecond: train.count / seconds,
      ...(options.test ? { testAccuracy: evaluateAccuracy(model, options.test, options.sampleShape) } : {}),
    };
    logs.push(log);
    options.onEpoch?.(log);
  }
  return logs;
}

/** One `model.trainOnBatch` step on the first n samples of the reused buffers, then the weight constraints. */
async function trainOnBatch(
  model: tf.LayersModel,
  xBuf: Float32Array,
  yBuf: Float32Array,
  n: number,
  sampleShape: number[],
  classes: number,
): Promise<number | number[]> {
  const xs = tf.tensor(xBuf.subarray(0, n * sampleShape.reduce((a, b) => a * b, 1)), [n, ...sampleShape]);
  const ys = tf.tensor(yBuf.subarray(0, n * classes), [n, classes]);
  // Only the weights' gradients are taken: the first layer skips its input's (weight-gradient-step.ts).
  const result = await withWeightGradientStep(model, () => withLearningPhase(1, () => model.trainOnBatch(xs, ys)));
  // Keras applies weight constraints (QKeras's Clip) after every optimizer step; tfjs does not.
  applyWeightConstraints(model);
  xs.dispose();
  ys.dispose();
  return result;
}

/** Class predictions (argmax of the model output) for every sample, in inference mode. */
export function predictClasses(model: tf.LayersModel, data: Dataset, sampleShape: number[], batchSize = 500): Uint8Array {
  const sampleSize = product(sampleShape);
  const out = new Uint8Array(data.count);
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const classes = tf.tidy(() => {
      const xs = tf.tensor(data.x.subarray(start * sampleSize, (start + n) * sampleSize), [n, ...sampleShape]);
      return withLearningPhase(0, () => (model.predict(xs) as tf.Tensor).argMax(-1));
    });
    out.set(classes.dataSync(), start);
    classes.dispose();
  }
  return out;
}

/** Fraction of samples whose predicted class equals the label. */
export function evaluateAccuracy(model: tf.LayersModel, data: Dataset, sampleShape: number[]): number {
  const predicted = predictClasses(model, data, sampleShape);
  let correct = 0;
  for (let i = 0; i < data.count; i++) if (predicted[i] === data.labels[i]) correct++;
  return correct / data.count;
}
