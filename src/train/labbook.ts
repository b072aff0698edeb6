/**
 * The QKeras lab book's three MNIST runs, as a library function the CLI (`qkeras train`) and
 * examples/mnist-labbook.ts share: the float CNN (Adam 0.001), the hand-quantized QModel (Adam 0.0005), and
 * the model_quantize conversion of the trained float model with transferred weights (Adam 0.001).
 */
import type * as tf from '@tensorflow/tfjs';
import { loadMnist, prepareSplit, trainingMean, type PreparedSplit } from '../data/mnist.js';
import { QKerasError } from '../errors.js';
import {
  compileForMnist,
  createFloatModel,
  createQModel,
  LABBOOK_ACTIVATION_BITS,
  LABBOOK_QUANTIZE_CONFIG,
  MNIST_INPUT_SHAPE,
} from '../models/labbook.js';
import { setSeed } from '../quantizers/phase.js';
import { modelQuantize } from '../utils/model-quantize.js';
import { evaluateAccuracy, fitModel, type EpochLog } from './fit.js';
import type { Progress } from './progress.js';

export type LabbookRun = 'float' | 'qmodel' | 'quantize';
export const LABBOOK_RUNS: readonly LabbookRun[] = ['float', 'qmodel', 'quantize'];

/** The lab book's epochs and learning rates per run. */
export const LABBOOK_RECIPES: Readonly<Record<LabbookRun, { epochs: number; learningRate: number; description: string }>> = {
  float: { epochs: 3, learningRate: 0.001, description: 'float CNN (CreateModel), Adam 0.001' },
  qmodel: { epochs: 10, learningRate: 0.0005, description: 'QModel: stochastic_ternary / quantized_po2(4) / quantized_relu(2) / quantized_bits(3,0,1), Adam 0.0005' },
  quantize: { epochs: 10, learningRate: 0.001, description: 'model_quantize of the trained float model (transferred weights), Adam 0.001' },
};

export interface LabbookOptions {
  runs?: readonly LabbookRun[];
  /** Overrides every run's epoch count (the lab book's when absent). */
  epochs?: number;
  /** Training samples used (all 60,000 when absent). */
  trainCount?: number;
  /** Test samples evaluated (all 10,000 when absent). */
  testCount?: number;
  batchSize?: number;
  seed?: number;
  /** Threads per training step (fitModel's `workers`; 1 when absent). */
  workers?: number;
  progress?: Progress;
  log?: (line: string) => void;
}

export interface LabbookResult {
  readonly run: LabbookRun;
  readonly model: tf.LayersModel;
  readonly epochs: EpochLog[];
  readonly testAccuracy: number;
  readonly seconds: number;
  readonly msPerSample: number;
}

function trainRun(
  run: LabbookRun,
  model: tf.LayersModel,
  data: { train: PreparedSplit; test: PreparedSplit },
  options: LabbookOptions,
): Promise<LabbookResult> {
  const recipe = LABBOOK_RECIPES[run];
  const epochs = options.epochs ?? recipe.epochs;
  const log = options.log ?? (() => {});
  compileForMnist(model, recipe.learningRate);
  log(`${run}: ${recipe.description}, ${epochs} epoch(s) on ${data.train.count} samples`);
  const started = performance.now();
  return fitModel(model, data.train, {
    epochs,
    batchSize: options.batchSize ?? 128,
    sampleShape: MNIST_INPUT_SHAPE,
    seed: options.seed ?? 1,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    onEpoch: (e) =>
      log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)} acc ${(e.accuracy * 100).toFixed(2)}% (${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s)`),
  }).then((epochLogs) => {
    const seconds = (performance.now() - started) / 1000;
    const testAccuracy = evaluateAccuracy(model, data.test, MNIST_INPUT_SHAPE);
    log(`${run}: test accuracy ${(testAccuracy * 100).toFixed(2)}% on ${data.test.count} images, ${seconds.toFixed(1)} s training`);
    const samples = data.train.count * epochs;
    return { run, model, epochs: epochLogs, testAccuracy, seconds, msPerSample: (seconds * 1000) / samples };
  });
}

/** Runs the selected lab-book runs in order. `quantize` needs the trained float model, so it runs `float` too. */
export async function runLabbook(options: LabbookOptions = {}): Promise<LabbookResult[]> {
  const runs = options.runs ?? LABBOOK_RUNS;
  for (const r of runs) {
    if (!LABBOOK_RUNS.includes(r)) throw new QKerasError(`unknown lab book run ${JSON.stringify(r)}; expected one of ${LABBOOK_RUNS.join(', ')}`);
  }
  setSeed(options.seed ?? 1);
  const mnist = loadMnist();
  const mean = trainingMean(mnist.train);
  const data = {
    train: prepareSplit(mnist.train, mean, 0, options.trainCount ?? mnist.train.count),
    test: prepareSplit(mnist.test, mean, 0, options.testCount ?? mnist.test.count),
  };
  const results: LabbookResult[] = [];
  let floatModel: tf.LayersModel | null = null;
  const needFloat = runs.includes('float') || runs.includes('quantize');
  if (needFloat) {
    const result = await trainRun('float', createFloatModel(), data, options);
    floatModel = result.model;
    if (runs.includes('float')) results.push(result);
  }
  if (runs.includes('qmodel')) results.push(await trainRun('qmodel', createQModel(), data, options));
  if (runs.includes('quantize')) {
    const q = modelQuantize(floatModel!, LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS, { transferWeights: true });
    results.push(await trainRun('quantize', q, data, options));
  }
  return results;
}
