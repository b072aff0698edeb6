/**
 * QBidirectional: tfjs's Bidirectional wrapper (forward and backward copies of an RNN layer, merged) that
 * reports the quantizers of both directions, as QKeras's `QBidirectional` does:
 * `getQuantizers()` = forward layer's list then backward layer's list.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import type { TfConstraint } from './keras-objects.js';
import { alsoDisposeQuantizers, type DisposeResult } from './q-layer-base.js';

type BidirectionalArgs = Parameters<typeof tf.layers.bidirectional>[0];
type BidirectionalLayer = ReturnType<typeof tf.layers.bidirectional>;

/**
 * tfjs exports only the `tf.layers.bidirectional` factory; the class itself is taken from the
 * serialization registry, where tfjs-layers registers it under its Keras name.
 */
function bidirectionalClass(): new (args: BidirectionalArgs) => BidirectionalLayer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['Bidirectional'];
  if (entry === undefined) {
    throw new ConfigError('QBidirectional', 'tfjs class', 'Bidirectional', 'registered by @tensorflow/tfjs-layers');
  }
  return entry[0] as unknown as new (args: BidirectionalArgs) => BidirectionalLayer;
}

/** What QBidirectional needs of a wrapped quantized RNN layer. */
interface QuantizedRecurrent {
  getQuantizers?(): (Quantizer | null)[];
  getQuantizationConfig?(): Record<string, string>;
  weightConstraints?(): ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }>;
  quantizerSummary?(): string;
  disposeQuantizers?(): void;
  readonly activation?: Quantizer | null;
}

export type QBidirectionalArgs = BidirectionalArgs;

export class QBidirectional extends bidirectionalClass() {
  static className = 'QBidirectional';

  private get directions(): [QuantizedRecurrent, QuantizedRecurrent] {
    const self = this as unknown as { forwardLayer: QuantizedRecurrent; backwardLayer: QuantizedRecurrent };
    return [self.forwardLayer, self.backwardLayer];
  }

  /** The layer as given (QKeras's `self.layer`). */
  get wrapped(): tf.layers.Layer {
    return (this as unknown as { layer: tf.layers.Layer }).layer;
  }

  /** Forward then backward quantizers (`[kernel, recurrent, bias, state]` each for the Q RNNs). */
  getQuantizers(): (Quantizer | null)[] {
    return this.directions.flatMap((l) => l.getQuantizers?.() ?? []);
  }

  /** The wrapped layer's activation (QKeras's `activation` property). */
  get activation(): Quantizer | null {
    return (this.wrapped as unknown as QuantizedRecurrent).activation ?? null;
  }

  /** QKeras's form: `{layer: <forward config>, backward_layer: <backward config>}`. */
  getQuantizationConfig(): { layer: Record<string, string>; backward_layer: Record<string, string> } {
    const [forward, backward] = this.directions;
    return { layer: forward.getQuantizationConfig?.() ?? {}, backward_layer: backward.getQuantizationConfig?.() ?? {} };
  }

  /** Both directions' constrained weights, for `applyWeightConstraints`. */
  weightConstraints(): ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }> {
    return this.directions.flatMap((l) => [...(l.weightConstraints?.() ?? [])]);
  }

  /** Frees both directions' quantizer tensors (tfjs's dispose frees only the weights). */
  disposeQuantizers(): void {
    for (const l of this.directions) l.disposeQuantizers?.();
  }

  override dispose(): DisposeResult {
    return alsoDisposeQuantizers(super.dispose(), this);
  }

  quantizerSummary(): string {
    const [forward, backward] = this.directions;
    return `forward: ${forward.quantizerSummary?.() ?? ''}; backward: ${backward.quantizerSummary?.() ?? ''}`;
  }
}
// The class's static fromConfig is Bidirectional's (inherited at run time; the factory's type hides it).
type Registrable = tf.serialization.SerializableConstructor<tf.serialization.Serializable>;
tf.serialization.registerClass(QBidirectional as unknown as Registrable);
