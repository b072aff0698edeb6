/**
 * QScaleShift (QKeras's qmac.py): `activation(q(b) + x * q(w))` with one scalar weight and one scalar
 * bias, each stored with shape `[1, 1]` and broadcast over the whole input.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { autoRangeConstraintInitializer } from './initializers.js';
import { getRegularizer, serializeKerasObject } from './keras-objects.js';
import { singleShape, type Kwargs, type LayerShape, type ShapeArg } from './layer-utils.js';
import { QBiasLayer } from './q-bias-layer.js';
import type { KerasObjectSpec, QLayerArgs, QuantizedWeightSpec, QuantizerSpec } from './q-layer-base.js';
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

/** QKeras order of the quantizers: `[weight, bias]`. */
export class QScaleShift extends QBiasLayer {
  static className = 'QScaleShift';
  private readonly weightSpec: QuantizedWeightSpec;
  weight: tf.LayerVariable | null = null;

  constructor(args: QScaleShiftArgs = {}) {
    super(args);
    const where = `QScaleShift(${this.name})`;
    const weight = scalarWeight(where, 'weight', args.weightQuantizer, args.weightInitializer ?? 'he_normal', args.weightRegularizer);
    this.weightSpec = this.declareWeight('weight', weight);
    const bias = scalarWeight(where, 'bias', args.biasQuantizer, args.biasInitializer ?? 'zeros', args.biasRegularizer);
    this.biasSpec = this.declareWeight('bias', bias);
    this.activationQ = this.declareActivation(where, args.activation);
  }

  get weightQuantizer(): Quantizer | null {
    return this.weightSpec.slot.quantizer;
  }

  override build(): void {
    this.weight = this.addQuantizedWeight('weight', [1, 1], this.weightSpec);
    this.buildBias([1, 1]);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return singleShape(inputShape, this.name);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return this.activatedCall(inputs, kwargs, (x, training) => {
      const y = tf.mul(x, this.weightSpec.slot.apply(this.weight!.read(), training));
      const bias = this.quantizedBias(training);
      return bias === null ? y : tf.add(bias, y);
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
