/**
 * QAdaptiveActivation (QKeras, experimental): a `quantized_bits` or `quantized_relu` activation of
 * `totalBits` bits whose integer bits follow the data. While training, the layer keeps exponential
 * moving averages of the minimum and maximum of the unquantized activation (per channel with
 * `perChannel`), and each call quantizes with the integer bits `getIntegerBits(emaMin, emaMax)` that the
 * averages so far call for (round of log2 with `po2Rounding`, else ceil plus a range check).
 *
 * - Quantization starts after `quantizationDelay` training steps (before that the float activation
 *   passes, QKeras's qnoise factor 0); inference always quantizes.
 * - The averages stop moving after `emaFreezeDelay` steps (null: never; as in QKeras, 0 also means never).
 * - `currentStep`: the training step, counted by the layer itself from its initial value (null: -1), or
 *   a function returning the optimizer's step (QKeras's `current_step=optimizer.iterations`).
 * - Quantizers use `alpha=1.0` so that the integer bits alone set the scale.
 *
 * `ema_min`/`ema_max` are non-trainable weights (saved with the model) that `getWeights()` hides, as in
 * QKeras.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { PyFloat, type Quantizer } from '../quantizers/base.js';
import { isTraining } from '../quantizers/phase.js';
import { QuantizedBits } from '../quantizers/quantized-bits.js';
import { QuantizedRelu } from '../quantizers/quantized-relu.js';
import { getIntegerBits } from '../quantizers/scale.js';
import {
  positiveInt,
  singleShape,
  singleTensor,
  trainingFlag,
  type Kwargs,
  type LayerShape,
  type ShapeArg,
} from './layer-utils.js';
import { QLayer, type QLayerArgs } from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

export const ADAPTIVE_ACTIVATIONS = ['quantized_bits', 'quantized_relu'] as const;
export type AdaptiveActivationName = (typeof ADAPTIVE_ACTIVATIONS)[number];

export interface QAdaptiveActivationArgs extends QLayerArgs {
  /** `'quantized_bits'` or `'quantized_relu'`, without parameters (the layer sets them). */
  activation: string;
  totalBits: number;
  /** Initial training step (null: -1, the layer counts its training calls) or a function giving the step. */
  currentStep?: number | null | (() => number);
  symmetric?: boolean;
  quantizationDelay?: number;
  emaFreezeDelay?: number | null;
  emaDecay?: number;
  perChannel?: boolean;
  po2Rounding?: boolean;
  /** quantized_relu only: the leaky slope (0 or a power of two). */
  reluNegSlope?: number;
  /** quantized_relu only: clip the activation at this value (null: no clip). */
  reluUpperBound?: number | null;
}

function readActivation(value: unknown, where: string): AdaptiveActivationName {
  for (const name of ADAPTIVE_ACTIVATIONS) {
    // tfjs's model.json reader camelCases string values (quantizedRelu).
    if (value === name || value === name.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())) return name;
  }
  throw new ConfigError(
    where,
    'activation',
    value,
    "'quantized_bits' or 'quantized_relu' with no parameters (the layer sets bits and integer bits itself)",
  );
}

function readInt(value: unknown, where: string, field: string, dflt: number): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(where, field, value, 'an integer');
  return v;
}

/** numpy's `str()` of an int array, with QKeras's regex dropping the brackets of one single-digit value. */
function integerString(bits: readonly number[]): string {
  const s = `[${bits.join(' ')}]`;
  return /^\[\d\]$/.test(s) ? s.slice(1, -1) : s;
}

export class QAdaptiveActivation extends QLayer {
  static className = 'QAdaptiveActivation';
  readonly activationName: AdaptiveActivationName;
  readonly totalBits: number;
  readonly symmetric: boolean;
  readonly quantizationDelay: number;
  readonly emaFreezeDelay: number | null;
  readonly emaDecay: number;
  readonly perChannel: boolean;
  readonly po2Rounding: boolean;
  readonly reluNegSlope: number;
  readonly reluUpperBound: number | null;
  /** Whether the quantized range is signed: always for quantized_bits, with a leaky slope for quantized_relu. */
  readonly keepNegative: boolean;
  /** The current training step (-1 before the first training call when counting from scratch). */
  step: number;
  private readonly stepSource: (() => number) | null;
  private readonly byInteger = new Map<number, Quantizer>();
  emaMin: tf.LayerVariable | null = null;
  emaMax: tf.LayerVariable | null = null;

  constructor(args: QAdaptiveActivationArgs) {
    super(args);
    const where = `QAdaptiveActivation(${this.name})`;
    this.activationName = readActivation(args.activation, where);
    this.totalBits = positiveInt(args.totalBits, where, 'totalBits');
    this.symmetric = args.symmetric ?? true;
    this.quantizationDelay = readInt(args.quantizationDelay, where, 'quantizationDelay', 0);
    const freeze = args.emaFreezeDelay ?? null;
    this.emaFreezeDelay = freeze === null ? null : readInt(freeze, where, 'emaFreezeDelay', 0);
    const decay = args.emaDecay ?? 0.9999;
    if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) {
      throw new ConfigError(where, 'emaDecay', decay, 'a number in [0, 1]');
    }
    this.emaDecay = decay;
    this.perChannel = args.perChannel ?? false;
    this.po2Rounding = args.po2Rounding ?? false;
    this.reluNegSlope = args.reluNegSlope ?? 0;
    this.reluUpperBound = args.reluUpperBound ?? null;
    this.keepNegative = this.activationName === 'quantized_bits' || this.reluNegSlope !== 0;
    const current = args.currentStep ?? null;
    if (typeof current === 'function') {
      this.stepSource = current;
      this.step = current();
    } else {
      this.stepSource = null;
      this.step = readInt(current, where, 'currentStep', -1);
    }
    // Builds one quantizer now, so that a bad slope or bound fails at construction.
    this.quantizerFor(0);
    this.supportsMasking = true;
  }

  /** The quantizer this layer applies with `integer` integer bits. */
  private quantizerFor(integer: number): Quantizer {
    let q = this.byInteger.get(integer);
    if (q === undefined) {
      q =
        this.activationName === 'quantized_bits'
          ? new QuantizedBits({
              bits: this.totalBits,
              integer,
              symmetric: this.symmetric,
              keep_negative: true,
              alpha: new PyFloat(1),
            })
          : new QuantizedRelu({
              bits: this.totalBits,
              integer,
              negative_slope: new PyFloat(this.reluNegSlope),
              relu_upper_bound: this.reluUpperBound,
              is_quantized_clip: false,
            });
      this.byInteger.set(integer, q);
    }
    return q;
  }

  /** The integer bits per channel (one entry unless `perChannel`) that the moving averages call for. */
  integerBits(): number[] {
    const n = this.emaMin === null ? 1 : this.emaMin.shape[0]!;
    if (this.emaMin === null || this.emaMax === null) return new Array<number>(n).fill(0);
    return tf.tidy(() => {
      const bits = getIntegerBits(this.emaMin!.read(), this.emaMax!.read(), {
        bits: this.totalBits,
        symmetric: this.symmetric,
        keepNegative: this.keepNegative,
        isClipping: this.po2Rounding,
      });
      return Array.from(bits.dataSync());
    });
  }

  /**
   * The quantizer with the current integer bits (QKeras's `layer.quantizer`). With `perChannel` and
   * channels that differ, the one with the most integer bits (the widest range).
   */
  get quantizer(): Quantizer {
    return this.quantizerFor(Math.max(...this.integerBits()));
  }

  /** QKeras sets `self.activation = self.quantizer` (QTools reads it). */
  get activation(): Quantizer {
    return this.quantizer;
  }

  protected override quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [['activation', new QuantizerSlot(this.name, 'activation', this.quantizer)]];
  }

  /** Every quantizer made so far, one per integer-bit count (reading the current one needs the weights). */
  protected override ownedQuantizers(): Quantizer[] {
    return [...this.byInteger.values()];
  }

  /** QKeras's `str(self.quantizer)`: the integer bits printed as numpy prints them (`[1 2 3]` per channel). */
  quantizerString(): string {
    const bits = this.integerBits();
    return this.quantizerFor(bits[0]!).toString().replace(/^(\w+\([^,]*,)[^,)]*/, `$1${integerString(bits)}`);
  }

  override quantizerSummary(): string {
    return `activation=${this.quantizerString()}`;
  }

  /** QKeras's `get_quantization_config()`: `str()` of the quantizer. */
  override getQuantizationConfig(): Record<string, string> {
    return { activation: this.quantizerString() };
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const channels = this.perChannel ? shape[shape.length - 1] : 1;
    if (channels === null || channels === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, 'a defined channel (last) dimension with perChannel');
    }
    const zeros = tf.initializers.zeros();
    this.emaMin = this.addWeight('ema_min', [channels], 'float32', zeros, undefined, false);
    this.emaMax = this.addWeight('ema_max', [channels], 'float32', zeros, undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return singleShape(inputShape, this.name);
  }

  /** Hidden as in QKeras: the moving averages are state, not parameters (they are still saved). */
  override getWeights(): tf.Tensor[] {
    return [];
  }

  override setWeights(_weights: tf.Tensor[]): void {}

  /** `x` quantized with per-channel integer bits `bits` and the given qnoise factor. */
  private quantize(x: tf.Tensor, bits: readonly number[], qnoise: number, flag: boolean | undefined): tf.Tensor {
    const distinct = [...new Set(bits)];
    const call = (integer: number): tf.Tensor => {
      const q = this.quantizerFor(integer);
      q.updateQnoiseFactor(qnoise);
      return q.call(x, flag === undefined ? {} : { training: flag });
    };
    let out = call(distinct[0]!);
    for (const integer of distinct.slice(1)) {
      // Channels (last axis) with these integer bits take this quantizer's output.
      const mask = tf.broadcastTo(tf.tensor1d(bits.map((b) => b === integer), 'bool'), x.shape);
      out = tf.where(mask, call(integer), out);
    }
    return out;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const flag = trainingFlag(kwargs);
      const training = isTraining(flag) && this.trainable;
      if (training) this.step = this.stepSource === null ? this.step + 1 : this.stepSource();
      else if (this.stepSource !== null) this.step = this.stepSource();
      const bits = this.integerBits();
      const qnoise = training && this.step < this.quantizationDelay ? 0 : 1;
      const qx = this.quantize(x, bits, qnoise, flag);
      // QKeras tests the delay's truthiness: 0 means "never freeze", like null.
      const frozen = this.emaFreezeDelay ? this.step > this.emaFreezeDelay : false;
      if (training && !frozen) this.updateMovingRange(x, bits, flag);
      return qx;
    });
  }

  /** Moves the averages towards this batch's min/max of the unquantized activation (qnoise factor 0). */
  private updateMovingRange(x: tf.Tensor, bits: readonly number[], flag: boolean | undefined): void {
    const act = this.quantize(x, bits.slice(0, 1), 0, flag);
    const axes = x.rank > 1 && this.perChannel ? Array.from({ length: x.rank - 1 }, (_, i) => i) : undefined;
    // K.moving_average_update casts the decay to float32 before `1 - decay`.
    const rate = 1 - Math.fround(this.emaDecay);
    for (const [variable, value] of [
      [this.emaMin!, tf.min(act, axes)],
      [this.emaMax!, tf.max(act, axes)],
    ] as const) {
      const v = variable.read();
      variable.write(tf.sub(v, tf.mul(tf.sub(v, value), rate)));
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      activation: this.activationName,
      totalBits: this.totalBits,
      currentStep: this.step,
      symmetric: this.symmetric,
      quantizationDelay: this.quantizationDelay,
      emaFreezeDelay: this.emaFreezeDelay,
      emaDecay: this.emaDecay,
      perChannel: this.perChannel,
      po2Rounding: this.po2Rounding,
      reluNegSlope: this.reluNegSlope,
      reluUpperBound: this.reluUpperBound,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QAdaptiveActivation);
