/**
 * One batch's loss, metrics and gradients, computed exactly as tfjs's `LayersModel.trainOnBatch` computes
 * them (its `makeTrainFunction`: per-sample loss → mean, plus the regulariser penalties; metrics as means)
 * but returning the gradients instead of applying them. Data-parallel training (data-parallel.ts) runs this
 * on each part of a batch — on the main thread and in worker replicas — and averages the parts.
 *
 * Also the gate of that scheme: `assertDataParallelModel` refuses models whose training step does more
 * than "gradient of a per-sample mean", because splitting the batch would silently change their result.
 */
import * as tf from '@tensorflow/tfjs';
import { QKerasError } from '../errors.js';
import { withLearningPhase } from '../quantizers/phase.js';
import { withWeightGradientStep } from '../layers/weight-gradient-step.js';

/** A model data-parallel training cannot train the way `trainOnBatch` does; names the layer or field. */
export class DataParallelError extends QKerasError {}

/** The compiled-model fields the loss needs; public on tfjs's LayersModel but untyped for what we need. */
interface CompiledModel {
  readonly lossFunctions?: Array<(yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor>;
  readonly metricsTensors?: Array<[(yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, number]>;
}

export interface BatchGradients {
  /** Mean loss over the batch (plus regulariser penalties), as trainOnBatch reports it. */
  readonly loss: number;
  /** One mean per compiled metric, in `model.metricsNames` order after the loss. */
  readonly metrics: number[];
  /** d loss / d w for every `model.trainableWeights` entry, in that order (zeros where w is unused). */
  readonly grads: tf.Tensor[];
}

/**
 * Loss, metrics and gradients of one batch with the learning phase 1 (stochastic quantizers randomise).
 * The caller owns (and disposes) the returned gradient tensors.
 */
export function batchGradients(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): BatchGradients {
  const compiled = model as unknown as CompiledModel;
  const lossFns = compiled.lossFunctions ?? [];
  const metricFns = compiled.metricsTensors ?? [];
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const metricTensors: tf.Scalar[] = [];
  const { value, grads } = withWeightGradientStep(model, () => withLearningPhase(1, () =>
    tf.variableGrads(() => {
      const out = model.apply(xs, { training: true }) as tf.Tensor;
      let total = tf.mean(lossFns[0]!(ys, out)) as tf.Scalar;
      for (const [fn] of metricFns) metricTensors.push(tf.keep(tf.mean(fn(ys, out)) as tf.Scalar));
      for (const penalty of model.calculateLosses()) total = tf.add(total, penalty);
      return total;
    }, vars),
  ));
  const ordered = vars.map((v, i): tf.Tensor => grads[v.name] ?? tf.zeros(vars[i]!.shape));
  const loss = value.dataSync()[0]!;
  const metrics = metricTensors.map((m) => m.dataSync()[0]!);
  value.dispose();
  tf.dispose(metricTensors);
  return { loss, metrics, grads: ordered };
}

/**
 * Throws DataParallelError unless splitting a batch and averaging the parts' gradients is the same step as
 * trainOnBatch on the whole batch: one input and one output, a compiled string loss (so a worker replica can
 * compile the same one), and no non-trainable weights — those are state a training step updates from batch
 * statistics (BatchNormalization's moving mean/variance, the folded-BN step counter, QAdaptiveActivation's
 * EMA range), which each replica would update from its own part only.
 */
export function assertDataParallelModel(model: tf.LayersModel): void {
  const compiled = model as unknown as CompiledModel;
  if (!compiled.lossFunctions?.length || !model.optimizer) {
    throw new DataParallelError(`model ${model.name}: not compiled; call model.compile({ loss, optimizer }) before data-parallel training`);
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new DataParallelError(
      `model ${model.name}: has ${model.inputs.length} inputs and ${model.outputs.length} outputs; data-parallel training supports one of each`,
    );
  }
  if (typeof model.loss !== 'string') {
    throw new DataParallelError(`model ${model.name}: loss must be compiled from a name (e.g. 'categoricalCrossentropy') so worker replicas can compile the same loss`);
  }
  const metrics = model.metrics === undefined ? [] : Array.isArray(model.metrics) ? model.metrics : [model.metrics];
  if (!metrics.every((m) => typeof m === 'string')) {
    throw new DataParallelError(`model ${model.name}: metrics must be given by name (e.g. ['accuracy']) so worker replicas can compile the same metrics`);
  }
  const stateful = model.layers.flatMap((layer) =>
    layer.nonTrainableWeights.length > 0 ? [`${layer.name} (${layer.getClassName()}: ${layer.nonTrainableWeights.map((w) => w.name).join(', ')})`] : [],
  );
  if (stateful.length > 0) {
    throw new DataParallelError(
      `model ${model.name}: layers with non-trainable weights cannot be trained data-parallel, because a training step may update ` +
        `them from the batch (moving statistics, counters) and each replica would see only its part: ${stateful.join('; ')}. ` +
        'Train with workers: 1, or fold/remove these layers.',
    );
  }
}
