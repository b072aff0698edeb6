/**
 * The public surface of the Q layers. Importing it registers every Q layer, `Clip` and `QInitializer` with
 * `tf.serialization`, so saved models that use them load by class name.
 */
export { Clip, WeightConstraintsCallback, applyWeightConstraints, type ClipArgs, type LayerContainer } from './constraints.js';
export { QInitializer, autoRangeConstraintInitializer, type QInitializerArgs } from './initializers.js';
export {
  getConstraint,
  getInitializer,
  getRegularizer,
  serializeKerasObject,
  type TfConstraint,
  type TfInitializer,
  type TfRegularizer,
} from './keras-objects.js';
export { QLayer, type KerasObjectSpec, type QLayerArgs } from './q-layer-base.js';
export { quantizerSummary } from './summary.js';
export { QuantizerSlot, reviveQuantizerSpec, type QuantizerSpec, type SerializedSlot } from './quantizer-slot.js';
export { QDense, type QDenseArgs } from './q-dense.js';
export { QConv1D, QConv2D, QConvBase, type QConv1DArgs, type QConv2DArgs, type QConvArgs } from './q-conv.js';
export { QConv2DTranspose, type QConv2DTransposeArgs } from './q-conv2d-transpose.js';
export { QDepthwiseConv2D, type QDepthwiseConv2DArgs } from './q-depthwise-conv2d.js';
export {
  QSeparableConv1D,
  QSeparableConv2D,
  type QSeparableConv1DArgs,
  type QSeparableConv2DArgs,
  type QSeparableConvArgs,
} from './q-separable-conv.js';
export {
  QDepthwiseConv2DTranspose,
  QSeparableConv2DTranspose,
  type QDepthwiseConv2DTransposeArgs,
  type QSeparableConv2DTransposeArgs,
} from './q-conv2d-transpose-variants.js';
export { QScaleShift, type QScaleShiftArgs } from './q-scale-shift.js';
export { QActivation, type QActivationArgs } from './q-activation.js';
export {
  QAveragePooling2D,
  QGlobalAveragePooling2D,
  type QAveragePooling2DArgs,
  type QGlobalAveragePooling2DArgs,
} from './q-pooling.js';
export { QBatchNormalization, QBN_DEFAULT_QUANTIZERS, type QBatchNormalizationArgs } from './q-batch-normalization.js';
export { type BatchNormArgs } from './batchnorm-utils.js';
export { BnFolding, FOLDING_MODES, type BnFoldingArgs, type FoldingMode, type FoldFactors } from './bn-folding.js';
export { QConv2DBatchnorm, type QConv2DBatchnormArgs } from './q-conv2d-batchnorm.js';
export { QDepthwiseConv2DBatchnorm, type QDepthwiseConv2DBatchnormArgs } from './q-depthwise-conv2d-batchnorm.js';
export { QDenseBatchnorm, type QDenseBatchnormArgs } from './q-dense-batchnorm.js';
export { QAdaptiveActivation, ADAPTIVE_ACTIVATIONS, type QAdaptiveActivationArgs } from './q-adaptive-activation.js';
export { QOctaveConv2D, getActivationSuffix, type OctavePair, type OctaveTensor, type QOctaveConv2DArgs } from './q-octave-conv2d.js';
export {
  QGRUCell,
  QLSTMCell,
  QRNNCellBase,
  QSimpleRNNCell,
  type QGRUCellArgs,
  type QGatedCellArgs,
  type QLSTMCellArgs,
  type QRNNCellArgs,
} from './q-recurrent-cells.js';
export { QGRU, QLSTM, QSimpleRNN, type QGRUArgs, type QLSTMArgs, type QRNNLayerArgs, type QSimpleRNNArgs } from './q-recurrent.js';
export { QBidirectional, type QBidirectionalArgs } from './q-bidirectional.js';

import { QActivation } from './q-activation.js';
import { QConv1D, QConv2D } from './q-conv.js';
import { QConv2DTranspose } from './q-conv2d-transpose.js';
import { QDepthwiseConv2DTranspose, QSeparableConv2DTranspose } from './q-conv2d-transpose-variants.js';
import { QScaleShift } from './q-scale-shift.js';
import { QDense } from './q-dense.js';
import { QDepthwiseConv2D } from './q-depthwise-conv2d.js';
import { QAveragePooling2D, QGlobalAveragePooling2D } from './q-pooling.js';
import { QSeparableConv1D, QSeparableConv2D } from './q-separable-conv.js';
import { QAdaptiveActivation } from './q-adaptive-activation.js';
import { QBatchNormalization } from './q-batch-normalization.js';
import { QBidirectional } from './q-bidirectional.js';
import { QConv2DBatchnorm } from './q-conv2d-batchnorm.js';
import { QDenseBatchnorm } from './q-dense-batchnorm.js';
import { QDepthwiseConv2DBatchnorm } from './q-depthwise-conv2d-batchnorm.js';
import { QGRUCell, QLSTMCell, QSimpleRNNCell } from './q-recurrent-cells.js';
import { QGRU, QLSTM, QSimpleRNN } from './q-recurrent.js';

/** Every Q layer class implemented here, by QKeras class name. */
export const Q_LAYER_CLASSES = {
  QDense,
  QConv1D,
  QConv2D,
  QConv2DTranspose,
  QDepthwiseConv2D,
  QSeparableConv1D,
  QSeparableConv2D,
  QActivation,
  QAveragePooling2D,
  QGlobalAveragePooling2D,
  QScaleShift,
  QSeparableConv2DTranspose,
  QDepthwiseConv2DTranspose,
  QBatchNormalization,
  QConv2DBatchnorm,
  QDepthwiseConv2DBatchnorm,
  QDenseBatchnorm,
  QAdaptiveActivation,
  QSimpleRNN,
  QSimpleRNNCell,
  QLSTM,
  QLSTMCell,
  QGRU,
  QGRUCell,
  QBidirectional,
} as const;
