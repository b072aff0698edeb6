/**
 * QActivation: a layer that applies a quantizer (or a Keras activation) to its input,
 * `QActivation({activation: 'quantized_relu(2)'})`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { singleShape, singleTensor, trainingFlag, type Kwargs, type LayerShape, type ShapeArg } from './layer-utils.js';
import { QLayer, type QLayerArgs, type QuantizerSpec } from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

export interface QActivationArgs extends QLayerArgs {
  /** A QKeras quantizer string, `{class_name, config}`, a Quantizer, or a Keras activation name. */
  activation: QuantizerSpec;
}

export class QActivation extends QLayer {
  static className = 'QActivation';
  private readonly slot: QuantizerSlot;

  constructor(args: QActivationArgs) {
    super(args);
    const where = `QActivation(${this.name})`;
    if (args.activation === undefined || args.activation === null) {
      throw new ConfigError(where, 'activation', args.activation ?? null, "a quantizer or activation, e.g. 'quantized_relu(2)'");
    }
    this.slot = this.declareSlot('activation', new QuantizerSlot(where, 'activation', args.activation));
    this.supportsMasking = true;
  }

  /** The parsed quantizer (or activation function) this layer applies. */
  get quantizer(): Quantizer {
    return this.slot.quantizer!;
  }

  /** The activation as given to the constructor (QKeras keeps `self.activation` unparsed). */
  get activation(): QuantizerSpec {
    return this.slot.spec;
  }

  override quantizerSummary(): string {
    return `activation=${this.slot.toString()}`;
  }

  /** QKeras's `get_quantization_config()` of QActivation: `str()` of the quantizer. */
  override getQuantizationConfig(): Record<string, string> {
    return { activation: this.slot.toString() };
  }

  override computeOutputShape(inputShape: ShapeArg): LayerShape {
    return singleShape(inputShape, this.name);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      return this.slot.apply(singleTensor(inputs, this.name), trainingFlag(kwargs));
    });
  }

  /**
   * The activation in Keras's serialised form (`{class_name, config}`, or a Keras activation's name).
   * QKeras writes the user's original string here; the parsed form is written instead because tfjs's
   * model.json conversion rewrites strings (snake_case on save, camelCase on load), which would garble a
   * spec like `quantized_bits(4,0,1,keep_negative=False)`. Both load back to the same quantizer.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return { activation: this.slot.serialize(), ...super.getConfig() } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(QActivation);
