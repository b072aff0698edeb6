/**
 * Every stored weight must be a finite number before a model is lowered or run. A NaN or an infinity
 * (a damaged weights file, a diverged training run) would otherwise pass through a quantizer's clip and
 * come out as an ordinary code — or as NaN in tfjs's inference — so it is refused up front, naming the
 * layer, the weight and the first bad element.
 */
import type * as tf from '@tensorflow/tfjs';
import { QKerasError } from '../errors.js';

/** One weight holding non-finite values: its layer, its short name, and the first such element. */
export interface NonFiniteWeight {
  readonly layer: string;
  readonly className: string;
  /** The weight's name inside the layer (`kernel`, `bias`, `moving_variance`, ...). */
  readonly weight: string;
  /** Multi-index of the first non-finite element. */
  readonly index: readonly number[];
  readonly value: number;
  /** How many elements of the weight are not finite. */
  readonly count: number;
}

/** Weights with NaN or infinite values: every such weight of the model is listed. */
export class NonFiniteWeightsError extends QKerasError {
  constructor(
    readonly model: string,
    readonly weights: readonly NonFiniteWeight[],
  ) {
    super(
      `model ${JSON.stringify(model)}: ${weights.length} weight${weights.length === 1 ? ' holds' : 's hold'} values that are not ` +
        'finite numbers (a damaged weights file or a diverged training run); retrain or restore the weights:\n' +
        weights
          .map(
            (w) =>
              `  - layer ${JSON.stringify(w.layer)} (${w.className}), weight ${w.weight}: ${w.value} at [${w.index.join(', ')}]` +
              (w.count > 1 ? ` (and ${w.count - 1} more)` : ''),
          )
          .join('\n'),
    );
  }
}

function multiIndex(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d -= 1) {
    out[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return out;
}

/** `q_dense/kernel` or `q_dense/kernel_1` → `kernel`. */
function shortName(w: tf.LayerVariable): string {
  return (w.originalName ?? w.name).split('/').pop()!;
}

/** The model's layers, nested models' layers included, each once. */
function layersOf(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const seen = new Set<tf.layers.Layer>();
  const visit = (l: tf.layers.Layer): void => {
    if (seen.has(l)) return;
    seen.add(l);
    const inner = (l as unknown as { layers?: unknown }).layers;
    if (Array.isArray(inner)) for (const x of inner as tf.layers.Layer[]) visit(x);
    else out.push(l);
  };
  for (const l of model.layers) visit(l);
  return out;
}

/** The weights of `model` holding NaN or ±Infinity (empty when all are finite). */
export function nonFiniteWeights(model: tf.LayersModel): NonFiniteWeight[] {
  const found: NonFiniteWeight[] = [];
  for (const layer of layersOf(model)) {
    for (const w of layer.weights) {
      if (w.dtype !== 'float32') continue;
      const values = w.read().dataSync() as Float32Array;
      let first = -1;
      let count = 0;
      for (let i = 0; i < values.length; i += 1) {
        if (!Number.isFinite(values[i]!)) {
          if (first < 0) first = i;
          count += 1;
        }
      }
      if (first >= 0) {
        found.push({ layer: layer.name, className: layer.getClassName(), weight: shortName(w), index: multiIndex(first, w.shape as number[]), value: values[first]!, count });
      }
    }
  }
  return found;
}

/** Throws `NonFiniteWeightsError` listing every weight of `model` that holds NaN or ±Infinity. */
export function assertFiniteWeights(model: tf.LayersModel): void {
  const bad = nonFiniteWeights(model);
  if (bad.length > 0) throw new NonFiniteWeightsError(model.name, bad);
}
