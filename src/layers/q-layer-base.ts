/**
 * What every Q layer shares: its quantizer slots (reported in QKeras's order by `getQuantizers()`), the
 * activation slot, a readable `quantizerSummary()`, QKeras's `get_quantization_config()`, the per-weight
 * bookkeeping (quantizer + constraint + initializer + regularizer, with QKeras's automatic Clip and
 * QInitializer), and `fromConfig` that accepts configs that went through tfjs's model.json conversion.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { autoRangeConstraintInitializer } from './initializers.js';
import {
  getRegularizer,
  serializeKerasObject,
  type TfConstraint,
  type TfInitializer,
  type TfRegularizer,
} from './keras-objects.js';
import type { LayerArgs } from './layer-utils.js';
import { QuantizerSlot, type QuantizerSpec, type SerializedSlot } from './quantizer-slot.js';

export type { QuantizerSpec } from './quantizer-slot.js';

/** Constructor arguments shared by every Q layer: tfjs's layer arguments. */
export type QLayerArgs = LayerArgs;

/** A spec for an initializer/regularizer/constraint: a name, a serialised object or an instance. */
export type KerasObjectSpec = string | tf.serialization.Serializable | { [key: string]: unknown } | null;

/** One weight of a Q layer with the objects that create, regularise, constrain and quantize it. */
export interface QuantizedWeightSpec {
  readonly slot: QuantizerSlot;
  readonly initializer: TfInitializer;
  readonly regularizer: TfRegularizer | null;
  readonly constraint: TfConstraint | null;
}

/**
 * Resolves one weight's arguments the QKeras way. `prefix` names the config keys (`kernel` →
 * `kernelQuantizer`, `kernelInitializer`, ...). `weight` marks kernel-like slots (auto-scale default);
 * `autoRange` is false for a bias the layer does not create (QKeras skips it then).
 */
export function quantizedWeight(
  where: string,
  prefix: string,
  specs: {
    quantizer: unknown;
    initializer: unknown;
    regularizer: unknown;
    constraint: unknown;
  },
  options: { weight: boolean; autoRange?: boolean },
): QuantizedWeightSpec {
  const slot = new QuantizerSlot(where, `${prefix}Quantizer`, specs.quantizer, { weight: options.weight });
  const { constraint, initializer } = autoRangeConstraintInitializer(
    options.autoRange === false ? null : slot.quantizer,
    specs.constraint,
    specs.initializer,
    where,
    { constraint: `${prefix}Constraint`, initializer: `${prefix}Initializer` },
  );
  const regularizer = getRegularizer(specs.regularizer, where, `${prefix}Regularizer`);
  return { slot, initializer, regularizer, constraint };
}

/** The config entries of one weight (`kernelInitializer`, ..., `kernelQuantizer`). */
export function weightConfig(prefix: string, w: QuantizedWeightSpec): tf.serialization.ConfigDict {
  return {
    [`${prefix}Initializer`]: serializeKerasObject(w.initializer),
    [`${prefix}Regularizer`]: serializeKerasObject(w.regularizer),
    [`${prefix}Constraint`]: serializeKerasObject(w.constraint),
    [`${prefix}Quantizer`]: w.slot.serialize(),
  } as tf.serialization.ConfigDict;
}

/**
 * The activation of a Q layer: a quantizer or a Keras activation, parsed with `getQuantizer` as QKeras
 * does. `'linear'` is the identity and is stored as no activation (null), so that a layer reloaded from
 * its config (where no activation reads `'linear'`, as in Keras) is the same layer.
 */
export function activationSlot(where: string, spec: unknown): QuantizerSlot {
  const isLinear = spec === 'linear' || (typeof spec === 'object' && spec !== null && String(spec) === 'linear');
  return new QuantizerSlot(where, 'activation', isLinear ? null : spec);
}

/** The serialised activation: Keras writes `'linear'` for none. */
export function activationConfig(slot: QuantizerSlot): SerializedSlot {
  return slot.quantizer === null ? 'linear' : slot.serialize();
}

/**
 * Base class of the Q layers. Subclasses list their slots in QKeras's `get_quantizers()` order
 * (`quantizerSlots`) and may have an activation slot.
 */
export abstract class QLayer extends tf.layers.Layer {
  /** Each weight with its constraint; see `addQuantizedWeight`. */
  private readonly constrained: Array<{ variable: tf.LayerVariable; constraint: TfConstraint }> = [];

  /**
   * Creates a weight from its spec. The constraint is recorded here instead of on the tfjs variable:
   * tfjs applies a variable's constraint on every write (`setWeights`, loading a saved model) and never
   * during `fit`, which is the opposite of Keras (constraints after each optimizer step, weights set or
   * loaded as given). Kept off the variable, a reloaded model has exactly the saved weights, and
   * `applyWeightConstraints`/`WeightConstraintsCallback` apply the constraints where Keras does.
   */
  protected addQuantizedWeight(name: string, shape: number[], spec: QuantizedWeightSpec): tf.LayerVariable {
    const variable = this.addWeight(name, shape, 'float32', spec.initializer, spec.regularizer ?? undefined, true);
    if (spec.constraint !== null) this.constrained.push({ variable, constraint: spec.constraint });
    return variable;
  }

  /** The layer's weights that have a constraint, with it (Clip by default for quantized weights). */
  weightConstraints(): ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }> {
    return this.constrained;
  }

  /** The layer's quantizer slots by label (`kernel`, `bias`, ...), in QKeras's order. */
  protected abstract quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]>;
  /** The activation slot, for layers that have one. */
  protected activationSlotOrNull(): QuantizerSlot | null {
    return null;
  }

  /**
   * One line naming the effective quantizers, after the auto-scale default was applied, e.g.
   * `kernel=quantized_bits(4,0,1,alpha='auto_po2') bias=quantized_po2(4) activation=quantized_relu(2)`.
   */
  quantizerSummary(): string {
    const parts = this.quantizerSlots().map(([label, slot]) => `${label}=${slot.toString()}`);
    const act = this.activationSlotOrNull();
    if (act !== null) parts.push(`activation=${act.quantizer === null ? 'linear' : act.toString()}`);
    return parts.join(' ');
  }

  /**
   * QKeras's `get_quantization_config()`: `str()` of every quantizer (`'None'` when absent) and of the
   * activation, keyed by QKeras's argument names.
   */
  getQuantizationConfig(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [label, slot] of this.quantizerSlots()) {
      out[label.endsWith('activation') ? label : `${label}_quantizer`] = slot.toString();
    }
    const act = this.activationSlotOrNull();
    if (act !== null) out['activation'] = act.toString();
    return out;
  }

  /** The raw specs as given, by slot label (QKeras keeps `self.kernel_quantizer` etc. unparsed). */
  quantizerSpecs(): Record<string, QuantizerSpec> {
    const out: Record<string, QuantizerSpec> = {};
    for (const [label, slot] of this.quantizerSlots()) out[label] = slot.spec;
    return out;
  }

  /** The parsed quantizers of every slot in QKeras's order (null for an empty slot). */
  protected slotQuantizers(): (Quantizer | null)[] {
    return this.quantizerSlots().map(([, slot]) => slot.quantizer);
  }
}
