/**
 * QSimpleRNN, QLSTM and QGRU: tfjs's RNN layer driving the quantized cells of q-recurrent-cells.ts, as
 * QKeras's layers drive theirs. Configs are flat (the cell's arguments next to the RNN's, QKeras's
 * `get_config`), the layer exposes the cell's quantizers (`getQuantizers()` = `[kernel, recurrent, bias,
 * state]`) and weight constraints, and masking, `returnSequences`, `returnState`, `goBackwards` and
 * `stateful` are tfjs's.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { trainingFlag, type Kwargs } from './layer-utils.js';
import type { TfConstraint } from './keras-objects.js';
import { alsoDisposeQuantizers, type DisposeResult } from './q-layer-base.js';
import {
  QGRUCell,
  QLSTMCell,
  QSimpleRNNCell,
  type QGRUCellArgs,
  type QGatedCell,
  type QLSTMCellArgs,
  type QRNNCellArgs,
  type QRNNCellBase,
} from './q-recurrent-cells.js';

type RNNArgs = ConstructorParameters<typeof tf.RNN>[0];

/** tfjs's RNN arguments that QKeras's layers take too. */
export interface QRNNLayerArgs {
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
  unroll?: boolean;
  activityRegularizer?: unknown;
}

export type QSimpleRNNArgs = QRNNCellArgs & QRNNLayerArgs;
export type QLSTMArgs = QLSTMCellArgs & QRNNLayerArgs;
export type QGRUArgs = QGRUCellArgs & QRNNLayerArgs;

/** The part of a quantized RNN layer that does not depend on the cell type. */
abstract class QRNNBase extends tf.RNN {
  constructor(args: QRNNLayerArgs, cell: QRNNCellBase) {
    super({ ...args, cell } as unknown as RNNArgs);
  }

  /** The quantized cell. */
  get qcell(): QRNNCellBase {
    return this.cell as unknown as QRNNCellBase;
  }

  get units(): number {
    return this.qcell.units;
  }
  get useBias(): boolean {
    return this.qcell.useBias;
  }
  get dropout(): number {
    return this.qcell.dropout;
  }
  get recurrentDropout(): number {
    return this.qcell.recurrentDropout;
  }
  get activation(): Quantizer | null {
    return this.qcell.activation;
  }
  get kernelQuantizer(): Quantizer | null {
    return this.qcell.kernelQuantizer;
  }
  get recurrentQuantizer(): Quantizer | null {
    return this.qcell.recurrentQuantizer;
  }
  get biasQuantizer(): Quantizer | null {
    return this.qcell.biasQuantizer;
  }
  get stateQuantizer(): Quantizer | null {
    return this.qcell.stateQuantizer;
  }

  /** QKeras order: `[kernel, recurrent, bias, state]`. */
  getQuantizers(): (Quantizer | null)[] {
    return this.qcell.getQuantizers();
  }

  /** The cell's constrained weights (Clip by default), for `applyWeightConstraints`. */
  weightConstraints(): ReadonlyArray<{ variable: tf.LayerVariable; constraint: TfConstraint }> {
    return this.qcell.weightConstraints();
  }

  quantizerSummary(): string {
    return this.qcell.quantizerSummary();
  }

  /** QKeras's `get_quantization_config()`: `str()` of each quantizer and activation. */
  getQuantizationConfig(): Record<string, string> {
    return this.qcell.getQuantizationConfig();
  }

  /** Frees the cell's quantizer tensors and dropout masks (tfjs's RNN disposes only the weights). */
  disposeQuantizers(): void {
    this.qcell.disposeQuantizers();
  }

  override dispose(): DisposeResult {
    return alsoDisposeQuantizers(super.dispose(), this);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const cell = this.qcell;
      cell.resetDropoutMasks();
      const flag = trainingFlag(kwargs);
      cell.beginSequence(flag);
      try {
        return super.call(inputs, { mask: kwargs?.['mask'], training: flag, initialState: kwargs?.['initialState'] });
      } finally {
        cell.endSequence();
      }
    });
  }

  /** The flat config is the constructor's argument. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }
}

/** Quantized fully-connected RNN (QKeras's `QSimpleRNN`). */
export class QSimpleRNN extends QRNNBase {
  static override className = 'QSimpleRNN';
  constructor(args: QSimpleRNNArgs) {
    super(args, new QSimpleRNNCell(args));
  }
}
tf.serialization.registerClass(QSimpleRNN);

/** What QLSTM and QGRU add: the recurrent activation and `implementation`. */
abstract class QGatedRNNBase extends QRNNBase {
  private get gatedCell(): QGatedCell {
    return this.qcell as QGatedCell;
  }
  get recurrentActivation(): Quantizer | null {
    return this.gatedCell.recurrentActivation;
  }
  get implementation(): number {
    return this.gatedCell.implementation;
  }
}

/** Quantized LSTM (QKeras's `QLSTM`). */
export class QLSTM extends QGatedRNNBase {
  static override className = 'QLSTM';
  constructor(args: QLSTMArgs) {
    super(args, new QLSTMCell(args));
  }
  get unitForgetBias(): boolean {
    return (this.qcell as QLSTMCell).unitForgetBias;
  }
}
tf.serialization.registerClass(QLSTM);

/** Quantized GRU (QKeras's `QGRU`; `resetAfter` false by default). */
export class QGRU extends QGatedRNNBase {
  static override className = 'QGRU';
  constructor(args: QGRUArgs) {
    super(args, new QGRUCell(args));
  }
  get resetAfter(): boolean {
    return (this.qcell as QGRUCell).resetAfter;
  }
}
tf.serialization.registerClass(QGRU);
