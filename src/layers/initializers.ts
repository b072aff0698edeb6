/**
 * QKeras's `QInitializer` and the default constraint/initializer choice of its weight layers
 * (`get_auto_range_constraint_initializer`).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { Clip } from './constraints.js';
import {
  getConstraint,
  getInitializer,
  serializeKerasObject,
  type TfConstraint,
  type TfInitializer,
} from './keras-objects.js';
import { hasStringAlpha, parseQuantizer, serializeSlotValue } from './quantizer-slot.js';

export interface QInitializerArgs {
  initializer: TfInitializer;
  useScale?: boolean;
  quantizer: Quantizer;
}

/** The variance-scaling family (he_*, glorot_*, lecun_*) is what Keras initializers with a `scale` are. */
function scaleOf(init: TfInitializer): number | null {
  const s = init.getConfig()['scale'];
  return typeof s === 'number' ? s : null;
}

/**
 * Wraps an initializer so that initial weights suit the quantizer: when the quantizer's resolution
 * (`q.max() * 2**-q.bits`) exceeds the spread of the drawn weights, the initializer's scale is raised (by
 * the least-squares ratio `sum(q*q)/sum(q*x)`, or `q.max()/rms(x)` if everything quantizes to zero, never
 * below 1) and the weights are redrawn; the result is clipped to `±q.max()`. As in QKeras, the raised
 * scale sticks for later draws and shows in `getConfig`.
 */
export class QInitializer extends tf.serialization.Serializable {
  static className = 'QInitializer';
  initializer: TfInitializer;
  readonly useScale: boolean;
  readonly quantizer: Quantizer;

  constructor(args: QInitializerArgs) {
    super();
    this.initializer = args.initializer;
    this.useScale = args.useScale ?? true;
    this.quantizer = args.quantizer;
  }

  fromConfigUsesCustomObjects(): boolean {
    return false;
  }

  apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    return tf.tidy(() => {
      const q = this.quantizer;
      const qMax = q.max();
      let x = this.initializer.apply(shape, dtype);
      const std = tf.moments(x).variance.sqrt().dataSync()[0]!;
      const delta = qMax * 2 ** -q.bits;
      const scale = scaleOf(this.initializer);
      if (delta > std && scale !== null) {
        const qx = q.call(x, { training: false });
        const maxQ = tf.max(tf.abs(qx)).dataSync()[0]!;
        let factor: number;
        if (maxQ === 0) {
          factor = qMax / Math.sqrt(tf.mean(tf.square(x)).dataSync()[0]!);
        } else {
          const sumQX = tf.sum(tf.mul(qx, x)).dataSync()[0]!;
          const sumQQ = tf.sum(tf.square(qx)).dataSync()[0]!;
          factor = sumQQ / sumQX;
        }
        const config = this.initializer.getConfig();
        this.initializer = tf.initializers.varianceScaling({
          scale: scale * Math.max(factor, 1),
          mode: config['mode'] as 'fanIn',
          distribution: config['distribution'] as 'normal',
          seed: (config['seed'] ?? undefined) as number | undefined,
        });
        x = this.initializer.apply(shape, dtype);
      }
      return tf.clipByValue(x, -qMax, qMax);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      initializer: serializeKerasObject(this.initializer),
      useScale: this.useScale,
      quantizer: serializeSlotValue(this.quantizer),
    } as tf.serialization.ConfigDict;
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    _cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const initializer = getInitializer(config['initializer'], 'QInitializer', 'initializer');
    const quantizer = parseQuantizer(config['quantizer'], 'QInitializer', 'quantizer');
    if (initializer === null) throw new ConfigError('QInitializer', 'initializer', null, 'an initializer');
    if (quantizer === null) throw new ConfigError('QInitializer', 'quantizer', null, 'a quantizer');
    return new QInitializer({
      initializer,
      useScale: (config['useScale'] ?? config['use_scale'] ?? true) as boolean,
      quantizer,
    }) as unknown as T;
  }
}
tf.serialization.registerClass(QInitializer);

/**
 * QKeras's `get_auto_range_constraint_initializer` for one weight: with a quantizer, the constraint
 * defaults to `Clip(-M, M)` with `M = max(1, q.max())` (a given constraint, including a serialised Clip,
 * is used as given), and the initializer is wrapped in a `QInitializer` unless it is Zeros/Ones/already a
 * QInitializer or the quantizer has a string alpha (auto scales adapt to any spread). Without a quantizer
 * both are resolved and returned unchanged.
 */
export function autoRangeConstraintInitializer(
  quantizer: Quantizer | null,
  constraintSpec: unknown,
  initializerSpec: unknown,
  where: string,
  fields: { constraint: string; initializer: string },
): { constraint: TfConstraint | null; initializer: TfInitializer } {
  let constraint = getConstraint(constraintSpec, where, fields.constraint);
  let initializer = getInitializer(initializerSpec, where, fields.initializer) ?? tf.initializers.zeros();
  if (quantizer === null) return { constraint, initializer };
  if (constraint === null) {
    const m = Math.max(1, quantizer.max());
    constraint = new Clip({ minValue: -m, maxValue: m, quantizer });
  }
  const name = initializer.getClassName();
  if (!['Zeros', 'Ones', 'QInitializer'].includes(name) && !hasStringAlpha(quantizer)) {
    initializer = new QInitializer({ initializer, useScale: true, quantizer });
  }
  return { constraint, initializer };
}
