/**
 * QKeras's `Clip` weight constraint, and the means to actually apply weight constraints during training.
 *
 * Weight layers whose kernel (or bias) has a quantizer default to `Clip(-M, M)` with `M = max(1, q.max())`,
 * so weights stay in the range the quantizer can use. Keras applies constraints after every optimizer
 * step; tfjs's `model.fit` never does (it only applies a variable's constraint when the variable is
 * written, e.g. by `setWeights`). Q layers therefore keep their constraints to themselves (see
 * `QLayer.addQuantizedWeight`) and `applyWeightConstraints` / `WeightConstraintsCallback` apply them
 * where Keras does.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { getConstraint, type TfConstraint } from './keras-objects.js';

export interface ClipArgs {
  minValue?: number;
  maxValue?: number;
  /** A constraint applied before clipping (then `quantizer`, if any, as QKeras does). */
  constraint?: TfConstraint | null;
  /** Only used together with `constraint`, as in QKeras. */
  quantizer?: Quantizer | null;
}

function finiteNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError('Clip', field, v, 'a number');
  return v;
}

/** Clips weights to `[minValue, maxValue]` (QKeras `Clip`); serialises only the two bounds, like QKeras. */
export class Clip extends tf.serialization.Serializable {
  static className = 'Clip';
  readonly minValue: number;
  readonly maxValue: number;
  readonly constraint: TfConstraint | null;
  readonly quantizer: Quantizer | null;

  constructor(args: ClipArgs = {}) {
    super();
    this.minValue = finiteNumber(args.minValue ?? 0, 'minValue');
    this.maxValue = finiteNumber(args.maxValue ?? 1, 'maxValue');
    // A Clip never wraps another Clip (QKeras drops it).
    this.constraint = args.constraint instanceof Clip ? null : (args.constraint ?? null);
    this.quantizer = args.quantizer ?? null;
  }

  apply(w: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let x = w;
      if (this.constraint !== null) {
        x = this.constraint.apply(x);
        if (this.quantizer !== null) x = this.quantizer.call(x);
      }
      return tf.clipByValue(x, this.minValue, this.maxValue);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { minValue: this.minValue, maxValue: this.maxValue };
  }

  /** Accepts tfjs (`minValue`) and Keras (`min_value`) keys. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    _cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const inner = config['constraint'] ?? null;
    return new Clip({
      minValue: (config['minValue'] ?? config['min_value'] ?? 0) as number,
      maxValue: (config['maxValue'] ?? config['max_value'] ?? 1) as number,
      constraint: inner === null ? null : getConstraint(inner, 'Clip', 'constraint'),
    }) as unknown as T;
  }
}
tf.serialization.registerClass(Clip);

/** Something that holds layers: a model, or a plain list of layers. */
export type LayerContainer = { layers: tf.layers.Layer[] } | tf.layers.Layer[];

/** The (variable, constraint) pairs of a layer: a Q layer's own list, else tfjs's variable constraints. */
function constraintsOf(layer: tf.layers.Layer): Array<{ variable: tf.LayerVariable; constraint: TfConstraint }> {
  const own = (layer as { weightConstraints?: unknown }).weightConstraints;
  if (typeof own === 'function') {
    return [...(own.call(layer) as ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }>)];
  }
  return layer.trainableWeights
    .filter((v) => v.constraint !== null && v.constraint !== undefined)
    .map((v) => ({ variable: v, constraint: v.constraint }));
}

/**
 * Applies every weight's constraint in place, as Keras does after each optimizer step (tfjs's `fit` does
 * not). Returns the number of weights that were constrained.
 */
export function applyWeightConstraints(container: LayerContainer): number {
  const layers = Array.isArray(container) ? container : container.layers;
  let count = 0;
  for (const layer of layers) {
    const nested = (layer as { layers?: unknown }).layers;
    if (Array.isArray(nested)) {
      // A nested model: its own weights are its layers' weights.
      count += applyWeightConstraints(nested as tf.layers.Layer[]);
      continue;
    }
    for (const { variable, constraint } of constraintsOf(layer)) {
      const next = tf.tidy(() => constraint.apply(variable.read()));
      // Assign directly: LayerVariable.write would apply a tfjs-side constraint a second time.
      (variable.read() as tf.Variable).assign(next);
      next.dispose();
      count++;
    }
  }
  return count;
}

/** A `model.fit` callback that applies weight constraints after every batch, as Keras does. */
export class WeightConstraintsCallback extends tf.Callback {
  override async onBatchEnd(): Promise<void> {
    applyWeightConstraints(this.model);
  }
}
