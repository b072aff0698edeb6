/**
 * Opt-in data-parallel training on several cores with node worker threads. tfjs's wasm backend computes on
 * one thread, so a second core is otherwise idle during training.
 *
 * The main thread keeps the model and its optimizer. Each step splits the batch into `workers` contiguous
 * parts; worker threads holding replicas of the model receive the current weights and compute their parts'
 * gradients while the main thread computes part 0's. The parts are then combined in a fixed order,
 * g = Σ_i (n_i / n) · g_i (for two equal halves exactly (g_0 + g_1) / 2), applied with the model's optimizer,
 * and the weight constraints are applied as `fitModel` does. Because the loss is a mean over samples, the
 * weighted mean of the parts' gradients is mathematically the full batch's gradient; only float rounding
 * (the order of the batch sums) differs.
 *
 * Stochastic quantizers: each thread draws from its own seeded stream (worker i uses
 * `workerSeed(seed, i)`; the main thread keeps the global `setSeed` stream), so a run is reproducible for a
 * given seed and worker count but does not draw the same random numbers as a single-thread run.
 * Models with non-trainable weights (batch statistics updated in training) are refused with
 * DataParallelError (see `assertDataParallelModel`). Replicas are built once from the model's topology and
 * receive only the trainable weights each step: quantizer settings changed on the main model during training
 * (e.g. a qnoise schedule changing `qnoiseFactor`) do not reach them, so use one thread for such schedules.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { applyWeightConstraints } from '../layers/constraints.js';
import { assertDataParallelModel, batchGradients, DataParallelError, type BatchGradients } from './batch-gradients.js';
import type { FromWorker, GradsMessage, ToWorker } from './data-parallel-protocol.js';

export { DataParallelError } from './batch-gradients.js';

export interface DataParallelOptions {
  /** Threads computing gradients, the main thread included (2 on a 2-core machine). At least 2. */
  workers: number;
  /** Base seed of the workers' stochastic-quantizer streams (default 1). */
  seed?: number;
}

/** Seed of worker `index`'s random stream: distinct per worker, derived from the run's seed. */
export function workerSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index, 0x85ebca6b) + 0x27d4eb2f) >>> 0;
}

let liveWorkers = 0;

/** Worker threads started by data-parallel trainers that have not exited yet (for leak checks). */
export function liveDataParallelWorkers(): number {
  return liveWorkers;
}

/**
 * Starts a worker on the entry beside this module: the built .js in dist, or — when running from the
 * TypeScript sources (tsx, vitest) — the .ts source through a small bootstrap that registers tsx's ESM
 * loader in the worker first (on Node 20, `execArgv: ['--import', 'tsx']` does not reach worker threads).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./data-parallel-worker.js', import.meta.url));
  const entry = new URL('./data-parallel-worker.ts', import.meta.url).href;
  // require.resolve gives the CommonJS build of tsx/esm/api; its ESM build (the one that works here) sits beside it.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true });
}

interface Pending {
  resolve: (message: FromWorker) => void;
  reject: (error: Error) => void;
}

/** One gradient worker: a thread plus the single request it may have in flight. */
class GradientWorker {
  private pending: Pending | null = null;
  private failure: Error | null = null;
  readonly exited: Promise<void>;

  constructor(private readonly worker: Worker) {
    liveWorkers++;
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      const pending = this.take();
      if (message.type === 'error') pending?.reject(new DataParallelError(`data-parallel worker: ${message.name}: ${message.message}`));
      else pending?.resolve(message);
    });
    worker.on('error', (error) => this.fail(new DataParallelError(`data-parallel worker crashed: ${error.message}`)));
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        liveWorkers--;
        this.fail(new DataParallelError(`data-parallel worker exited (code ${code})`));
        resolve();
      });
    });
  }

  private take(): Pending | null {
    const pending = this.pending;
    this.pending = null;
    // Idle workers do not keep the process alive; one with a request in flight does.
    this.worker.unref();
    return pending;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.take()?.reject(error);
  }

  request(message: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(message, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}

/** Metrics that are the fraction of samples classified right (Keras/tfjs names: accuracy, acc, categoricalAccuracy, ...). */
function isCountMetric(name: string | undefined): boolean {
  return name !== undefined && /acc(uracy)?$/i.test(name);
}

/** Splits n samples into `parts` contiguous sizes, the first ones one larger when n is not divisible. */
export function splitSizes(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < n % parts ? 1 : 0));
}

/**
 * A model plus worker replicas. `trainOnBatch` is the data-parallel counterpart of the model's own (it
 * also applies the weight constraints); call `dispose()` (or use `withDataParallel`) to stop the threads.
 */
export class DataParallelTrainer {
  private step = 0;
  private disposed = false;

  private constructor(
    readonly model: tf.LayersModel,
    private readonly workers: GradientWorker[],
    private readonly metricNames: readonly string[],
  ) {}

  /** Starts `workers - 1` threads with replicas of the compiled `model`; throws DataParallelError if the model cannot be split. */
  static async create(model: tf.LayersModel, options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (!Number.isInteger(options.workers) || options.workers < 2) {
      throw new DataParallelError(`data-parallel training: workers=${options.workers} is not allowed; expected an integer >= 2 (use the plain training loop for 1)`);
    }
    assertDataParallelModel(model);
    const metrics = model.metrics === undefined ? [] : ([] as unknown[]).concat(model.metrics);
    const topology = model.toJSON() as string;
    const shapes = model.trainableWeights.map((w) => w.shape.join('x')).join(', ');
    const threads = Array.from({ length: options.workers - 1 }, () => new GradientWorker(startWorker()));
    const trainer = new DataParallelTrainer(model, threads, metrics.map(String));
    try {
      await Promise.all(
        threads.map(async (w, i) => {
          const reply = await w.request({
            type: 'init',
            topology,
            loss: model.loss as string,
            metrics: metrics as string[],
            seed: workerSeed(options.seed ?? 1, i + 1),
          });
          const got = reply.type === 'ready' ? reply.shapes.map((s) => s.join('x')).join(', ') : '';
          if (got !== shapes) {
            throw new DataParallelError(`data-parallel worker: replica of ${model.name} has trainable weights [${got}], expected [${shapes}]`);
          }
        }),
      );
    } catch (error) {
      await trainer.dispose();
      throw error;
    }
    return trainer;
  }

  /**
   * One optimizer step on a batch of n samples given as flat float32 features (n × sample size) and
   * targets (n × classes). Returns [loss, ...metrics] as the sample-weighted means over the parts.
   */
  async trainOnBatch(x: Float32Array, y: Float32Array, sampleShape: readonly number[], n: number): Promise<number[]> {
    if (this.disposed) throw new DataParallelError('data-parallel training: trainOnBatch after dispose()');
    const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
    const classes = y.length / n;
    if (!Number.isInteger(n) || n < 1 || x.length !== n * sampleSize || !Number.isInteger(classes)) {
      throw new DataParallelError(
        `data-parallel training: a batch of n=${n} samples of shape [${sampleShape.join(', ')}] needs x.length ${n * sampleSize} ` +
          `and y.length a multiple of n; received ${x.length} and ${y.length}`,
      );
    }
    // Parts in a fixed order: part 0 on this thread, part k on worker k-1. Empty parts (n smaller than the
    // thread count) are not sent: the mean over no samples is NaN, not zero.
    const sizes = splitSizes(n, this.workers.length + 1).filter((size) => size > 0);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const weights = vars.map((v) => v.dataSync() as Float32Array);
    const id = ++this.step;
    const remote = this.workers.slice(0, sizes.length - 1).map((w, k) => {
      const [start, size] = [starts[k + 1]!, sizes[k + 1]!];
      const xPart = x.slice(start * sampleSize, (start + size) * sampleSize);
      const yPart = y.slice(start * classes, (start + size) * classes);
      return w.request(
        { type: 'step', id, weights, x: xPart, xShape: [size, ...sampleShape], y: yPart, yShape: [size, classes] },
        [xPart.buffer, yPart.buffer],
      );
    });
    // Rejections are collected by the awaits below; this keeps them from being reported as unhandled meanwhile.
    remote.forEach((p) => p.catch(() => {}));
    let local: BatchGradients;
    try {
      // Part 0 on this thread while the workers compute theirs.
      local = tf.tidy(() => {
        const xs = tf.tensor(x.subarray(0, sizes[0]! * sampleSize), [sizes[0]!, ...sampleShape]);
        const ys = tf.tensor(y.subarray(0, sizes[0]! * classes), [sizes[0]!, classes]);
        const result = batchGradients(this.model, xs, ys);
        return { ...result, grads: result.grads.map((g) => tf.keep(g)) };
      }) as unknown as BatchGradients;
    } catch (error) {
      // Let the workers finish this step first, so a late reply cannot answer the next request.
      await Promise.allSettled(remote);
      throw error;
    }
    let parts: GradsMessage[];
    try {
      parts = (await Promise.all(remote)) as GradsMessage[];
      if (parts.some((p) => p.id !== id)) throw new DataParallelError(`data-parallel worker: answered another step than ${id}`);
    } catch (error) {
      tf.dispose(local.grads);
      throw error;
    }
    const scale = sizes.map((size) => size / n);
    // g = Σ_i (n_i / n) g_i in part order; for two equal halves 0.5·g0 + 0.5·g1, which is exactly (g0 + g1) / 2.
    const averaged = tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      vars.forEach((v, j) => {
        let sum = tf.mul(local.grads[j]!, scale[0]!);
        parts.forEach((p, k) => (sum = tf.add(sum, tf.mul(tf.tensor(p.grads[j]!, v.shape), scale[k + 1]!))));
        named[v.name] = tf.keep(sum);
      });
      return named;
    });
    tf.dispose(local.grads);
    this.model.optimizer.applyGradients(averaged);
    tf.dispose(Object.values(averaged));
    // Keras applies weight constraints (QKeras's Clip) after every optimizer step; tfjs does not.
    applyWeightConstraints(this.model);
    const all = [local, ...parts];
    const mean = (pick: (p: { loss: number; metrics: number[] }) => number) => all.reduce((sum, p, i) => sum + pick(p) * scale[i]!, 0);
    // tfjs reports every mean as a float32. An accuracy is a count over the samples: each part's count is
    // recovered exactly (n_i·m_i is within rounding of an integer), so the combined value is the float32 of
    // count / n, exactly what trainOnBatch reports on the whole batch. Other means are weighted averages.
    const count = (m: number) => all.reduce((sum, p, i) => sum + Math.round(p.metrics[m]! * sizes[i]!), 0);
    const metric = (m: number) => Math.fround(isCountMetric(this.metricNames[m]) ? count(m) / n : mean((p) => p.metrics[m]!));
    return [Math.fround(mean((p) => p.loss)), ...local.metrics.map((_, m) => metric(m))];
  }

  /** Stops the worker threads and waits until they have exited. Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** Runs `fn` with a DataParallelTrainer for `model`, disposing it (stopping the threads) afterwards. */
export async function withDataParallel<T>(
  model: tf.LayersModel,
  options: DataParallelOptions,
  fn: (trainer: DataParallelTrainer) => Promise<T>,
): Promise<T> {
  const trainer = await DataParallelTrainer.create(model, options);
  try {
    return await fn(trainer);
  } finally {
    await trainer.dispose();
  }
}
