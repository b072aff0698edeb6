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
import { singleTensor, trainingFlag, type Kwargs, type LayerArgs } from './layer-utils.js';
import { QuantizerSlot, type QuantizerSpec, type SerializedSlot } from './quantizer-slot.js';

export type { QuantizerSpec } from './quantizer-slot.js';

/** How a helper that owns some of a layer's weights (BnFolding) creates them through the layer. */
export interface WeightMaker {
  /** A trainable quantized weight (`addQuantizedWeight`). */
  trainable(name: string, shape: number[], spec: QuantizedWeightSpec): tf.LayerVariable;
  /** An untrained state weight (moving statistics, step counters). */
  state(name: string, shape: number[], initializer: TfInitializer): tf.LayerVariable;
}

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

/**
 * The arguments of the quantized weights named `P`, camelCase of QKeras's: for `'kernel' | 'bias'`,
 * `kernelQuantizer`, `kernelInitializer`, `kernelRegularizer`, `kernelConstraint`, `biasQuantizer`, ...
 */
export type QuantizedWeightArgs<P extends string> = {
  [K in `${P}Initializer` | `${P}Regularizer` | `${P}Constraint`]?: KerasObjectSpec;
} & { [K in `${P}Quantizer`]?: QuantizerSpec };

/**
 * `quantizedWeight` with the four specs read from a layer's arguments under `prefix`; `initializer` is
 * the layer's default initializer for this weight (used when the argument is absent or null).
 */
export function weightFromArgs<P extends string>(
  where: string,
  prefix: P,
  args: QuantizedWeightArgs<P>,
  initializer: string,
  options: { weight: boolean; autoRange?: boolean },
): QuantizedWeightSpec {
  const a = args as Record<string, unknown>;
  return quantizedWeight(
    where,
    prefix,
    {
      quantizer: a[`${prefix}Quantizer`],
      initializer: a[`${prefix}Initializer`] ?? initializer,
      regularizer: a[`${prefix}Regularizer`],
      constraint: a[`${prefix}Constraint`],
    },
    options,
  );
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

/** What tfjs's `Layer.dispose` returns. */
export type DisposeResult = ReturnType<tf.layers.Layer['dispose']>;

/**
 * Completes a layer's `dispose`: once tfjs has freed the weights (no model uses the layer any more), the
 * tensors its quantizers keep between calls are freed too.
 */
export function alsoDisposeQuantizers(result: DisposeResult, layer: { disposeQuantizers(): void }): DisposeResult {
  if (result.refCountAfterDispose === 0) layer.disposeQuantizers();
  return result;
}

/** One declared quantizer slot: its label and, for a quantized weight, the config prefix and spec. */
interface DeclaredSlot {
  readonly label: string;
  readonly slot: QuantizerSlot;
  readonly weight: { readonly prefix: string; readonly spec: QuantizedWeightSpec } | null;
}

/**
 * Base class of the Q layers. Subclasses declare their slots once, in their constructor and in QKeras's
 * `get_quantizers()` order (`declareWeight`, `declareSlot`), and their activation (`declareActivation`);
 * the summary, the quantization config, the config entries of the weights and `dispose` read that list.
 */
export abstract class QLayer extends tf.layers.Layer {
  /** Each weight with its constraint; see `addQuantizedWeight`. */
  private readonly constrained: Array<{ variable: tf.LayerVariable; constraint: TfConstraint }> = [];
  private readonly declared: DeclaredSlot[] = [];
  private declaredActivation: QuantizerSlot | null = null;

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

  /** Creates weights on this layer for a helper that owns some of them (see `WeightMaker`). */
  protected weightMaker(): WeightMaker {
    return {
      trainable: (name, shape, spec) => this.addQuantizedWeight(name, shape, spec),
      state: (name, shape, init) => this.addWeight(name, shape, 'float32', init, undefined, false),
    };
  }

  /**
   * A call of a layer with one input and an activation: `output(x, training)` through the activation,
   * in a tidy scope.
   */
  protected activatedCall(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Kwargs,
    output: (x: tf.Tensor, training: boolean | undefined) => tf.Tensor,
  ): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = singleTensor(inputs, this.name);
      const training = trainingFlag(kwargs);
      const y = output(x, training);
      const activation = this.activationSlotOrNull();
      return activation === null ? y : activation.apply(y, training);
    });
  }

  /** The layer's weights that have a constraint, with it (Clip by default for quantized weights). */
  weightConstraints(): ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }> {
    return this.constrained;
  }

  /** Declares a quantizer slot under `label`; `quantizerSlots()` lists the slots in declaration order. */
  protected declareSlot(label: string, slot: QuantizerSlot): QuantizerSlot {
    this.declared.push({ label, slot, weight: null });
    return slot;
  }

  /** Declares a quantized weight (its slot labelled `label`, its config keys `${prefix}Quantizer`, ...). */
  protected declareWeight(prefix: string, spec: QuantizedWeightSpec, label = prefix): QuantizedWeightSpec {
    this.declared.push({ label, slot: spec.slot, weight: { prefix, spec } });
    return spec;
  }

  /** Declares the layer's activation (see `activationSlot`) and returns its slot. */
  protected declareActivation(where: string, spec: unknown): QuantizerSlot {
    this.declaredActivation = activationSlot(where, spec);
    return this.declaredActivation;
  }

  /** The layer's quantizer slots by label (`kernel`, `bias`, ...), in QKeras's order: the declared ones. */
  protected quantizerSlots(): ReadonlyArray<readonly [string, QuantizerSlot]> {
    return this.declared.map((d) => [d.label, d.slot] as const);
  }

  /** The activation slot, for layers that have one. */
  protected activationSlotOrNull(): QuantizerSlot | null {
    return this.declaredActivation;
  }

  /** The config entries of the declared weights in declaration order (`weightConfig` of each). */
  protected declaredWeightsConfig(): tf.serialization.ConfigDict {
    const out: tf.serialization.ConfigDict = {};
    for (const { weight } of this.declared) if (weight !== null) Object.assign(out, weightConfig(weight.prefix, weight.spec));
    return out;
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

  /** Every quantizer the layer calls: those of its slots and its activation. */
  protected ownedQuantizers(): Quantizer[] {
    const slots = [...this.quantizerSlots().map(([, slot]) => slot), this.activationSlotOrNull()];
    return slots.flatMap((slot) => (slot?.quantizer == null ? [] : [slot.quantizer]));
  }

  /** Frees the tensors the layer's quantizers keep between calls (the per-channel scales of an auto alpha). */
  disposeQuantizers(): void {
    for (const q of this.ownedQuantizers()) q.dispose();
  }

  /** tfjs's dispose (the weights, once no model uses the layer), then the quantizers' kept tensors. */
  override dispose(): DisposeResult {
    return alsoDisposeQuantizers(super.dispose(), this);
  }
}

/** A Q layer with QKeras's `get_quantizers()` (every Q layer but QActivation and QAdaptiveActivation). */
export abstract class QLayerWithQuantizers extends QLayer {
  /** The quantizers of the layer's slots in QKeras's order (null for an empty slot). */
  getQuantizers(): (Quantizer | null)[] {
    return this.slotQuantizers();
  }
}
