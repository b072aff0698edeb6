/**
 * QScaleShift (QKeras's qmac.py): `activation(q(b) + x * q(w))` with one scalar weight and one scalar
 * bias, each stored with shape `[1, 1]` and broadcast over the whole input.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { autoRangeConstraintInitializer } from './initializers.js';
import { getRegularizer, serializeKerasObject } from './keras-objects.js';
import { singleShape, singleTensor, trainingFlag, type Kwargs, type LayerShape, type ShapeArg } from './layer-utils.js';
import {
  QLayer,
  activationSlot,
  type KerasObjectSpec,
  type QLayerArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

export interface QScaleShiftArgs extends QLayerArgs {
  weightQuantizer?: QuantizerSpec;
  biasQuantizer?: QuantizerSpec;
  useBias?: boolean;
  activation?: QuantizerSpec;
  weightInitializer?: KerasObjectSpec;
  weightRegularizer?: KerasObjectSpec;
  biasInitializer?: KerasObjectSpec;
  biasRegularizer?: KerasObjectSpec;
}

/**
 * One weight of QScaleShift. Unlike the other weight layers, QKeras picks the initializer before the
 * auto-scale default (so an alpha-less quantizer still gets a QInitializer), applies the auto-scale default
 * to the bias as well, and sets no constraint.
 */
function scalarWeight(where: string, prefix: string, quantizer: unknown, initializer: unknown, regularizer: unknown): QuantizedWeightSpec {
  const slot = new QuantizerSlot(where, `${prefix}Quantizer`, quantizer);
  const resolved = autoRangeConstraintInitializer(slot.quantizer, null, initializer, where, {
    constraint: `${prefix}Constraint`,
    initializer: `${prefix}Initializer`,
  });
  slot.quantizer?.setTrainableParameter();
  return {
    slot,
    initializer: resolved.initializer,
    regularizer: getRegularizer(regularizer, where, `${prefix}Regularizer`),
    constraint: null,
  };
}

export class QScaleShift extends QLayer {
  static className = 'QScaleShift';
  readonly useBias: boolean;
  private readonly weightSpec: QuantizedWeightSpec;
  private readonly biasSpec: QuantizedWeightSpec;
  private readonly activationQ: QuantizerSlot;
  weight: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(args: QScaleShiftArgs = {}) {
    super(args);
    const where = `QScaleShift(${this.name})`;
    this.useBias = args.useBias ?? true;
    this.weightSpec = scalarWeight(where, 'weight', args.weightQuantizer, args.weightInitializer ?? 'he_normal', args.weightRegularizer);
    this.biasSpec = scalarWeight(where, 'bias', args.biasQuantizer, args.biasInitializer ?? 'zeros', args.biasRegularizer);
    this.activationQ = activationSlot(where, args.activation);
  }

  get weightQuantizer(): Quantizer | null {
    return this.weightSpec.slot.quantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.biasSpec.slot.quantizer;
  }
  get activation(): Quantizer | null {
    return this.activationQ.quantizer;
  }

  /** QKeras order: `[weight, bias]`. */
  getQuantizers(): (Quantizer | null)[] {
    return this.slotQuantizers();
  }

  protected quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return [
      ['weight', this.weightSpec.slot],
      ['bias', this.biasSpec.slot],
    ];
  }

  protected override activationSlotOrNull(): QuantizerSlot {
    return this.activationQ;
  }

  override build(): void {
    this.weight = this.addQuantizedWeight('weight', [1, 1], this.weightSpec);
    if (this.useBias) this.bias = this.addQuantizedWeight('bias', [1, 1], this.biasSpec);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return singleShape(inputShape, this.name);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const training = trainingFlag(kwargs);
      let y = tf.mul(x, this.weightSpec.slot.apply(this.weight!.read(), training));
      if (this.bias !== null) y = tf.add(this.biasSpec.slot.apply(this.bias.read(), training), y);
      return this.activationQ.apply(y, training);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      weightQuantizer: this.weightSpec.slot.serialize(),
      biasQuantizer: this.biasSpec.slot.serialize(),
      weightInitializer: serializeKerasObject(this.weightSpec.initializer),
      biasInitializer: serializeKerasObject(this.biasSpec.initializer),
      activation: this.activationQ.serialize(),
      useBias: this.useBias,
      weightRegularizer: serializeKerasObject(this.weightSpec.regularizer),
      biasRegularizer: serializeKerasObject(this.biasSpec.regularizer),
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QScaleShift);
