/**
 * Which Keras layer classes lower to IR nodes, and for the ones that do not, what to use instead. The
 * lowering of each class lives in its family's module.
 */
import type { LayerLowering } from './context.js';
import { qDense, qDenseBatchnorm } from './dense.js';
import { qConv1D, qConv2D, qConv2DBatchnorm } from './conv.js';
import { qDepthwiseConv2D, qDepthwiseConv2DBatchnorm, qSeparableConv1D, qSeparableConv2D } from './depthwise.js';
import {
  averagePooling,
  globalAveragePooling,
  globalMaxPooling,
  maxPooling,
  qAveragePooling2D,
  qGlobalAveragePooling2D,
} from './pooling.js';
import { activation, qActivation, relu } from './activation.js';
import { kerasBatchNormalization, qBatchNormalization, qScaleShift } from './batchnorm.js';
import { add, concatenate, flatten, identity, reshape } from './structure.js';

export const LOWERINGS: Readonly<Record<string, LayerLowering>> = {
  QDense: qDense,
  QDenseBatchnorm: qDenseBatchnorm,
  QConv1D: qConv1D,
  QConv2D: qConv2D,
  QConv2DBatchnorm: qConv2DBatchnorm,
  QDepthwiseConv2D: qDepthwiseConv2D,
  QDepthwiseConv2DBatchnorm: qDepthwiseConv2DBatchnorm,
  QSeparableConv1D: qSeparableConv1D,
  QSeparableConv2D: qSeparableConv2D,
  QActivation: qActivation,
  Activation: activation,
  ReLU: relu,
  QAveragePooling2D: qAveragePooling2D,
  QGlobalAveragePooling2D: qGlobalAveragePooling2D,
  AveragePooling1D: averagePooling(1),
  AveragePooling2D: averagePooling(2),
  MaxPooling1D: maxPooling(1),
  MaxPooling2D: maxPooling(2),
  GlobalAveragePooling1D: globalAveragePooling,
  GlobalAveragePooling2D: globalAveragePooling,
  GlobalMaxPooling1D: globalMaxPooling,
  GlobalMaxPooling2D: globalMaxPooling,
  QBatchNormalization: qBatchNormalization,
  BatchNormalization: kerasBatchNormalization,
  QScaleShift: qScaleShift,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  Add: add,
  Concatenate: concatenate,
};

const FLOAT_WEIGHTS = (q: string): string =>
  `its weights are float32 values with no fixed-point form; use ${q} with a kernel_quantizer (or convert the model with modelQuantize)`;

/** Advice for classes without a lowering. */
const HINTS: Readonly<Record<string, string>> = {
  Dense: FLOAT_WEIGHTS('QDense'),
  Conv1D: FLOAT_WEIGHTS('QConv1D'),
  Conv2D: FLOAT_WEIGHTS('QConv2D'),
  DepthwiseConv2D: FLOAT_WEIGHTS('QDepthwiseConv2D'),
  SeparableConv1D: FLOAT_WEIGHTS('QSeparableConv1D'),
  SeparableConv2D: FLOAT_WEIGHTS('QSeparableConv2D'),
  QConv2DTranspose: 'transposed convolutions have no IR node; keep this layer in software',
  QDepthwiseConv2DTranspose: 'transposed convolutions have no IR node; keep this layer in software',
  QSeparableConv2DTranspose: 'transposed convolutions have no IR node; keep this layer in software',
  Conv2DTranspose: 'transposed convolutions have no IR node; keep this layer in software',
  QSimpleRNN: 'recurrent layers have no IR node; keep this layer in software',
  QLSTM: 'recurrent layers have no IR node; keep this layer in software',
  QGRU: 'recurrent layers have no IR node; keep this layer in software',
  QBidirectional: 'recurrent layers have no IR node; keep this layer in software',
  QOctaveConv2D: 'octave convolutions have no IR node; use QConv2D',
  QAdaptiveActivation: 'its bit widths change while training; replace it by a QActivation with its final quantizer',
  Subtract: 'only Add and Concatenate merge tensors in the IR',
  Multiply: 'only Add and Concatenate merge tensors in the IR',
  Average: 'only Add and Concatenate merge tensors in the IR',
  Maximum: 'only Add and Concatenate merge tensors in the IR',
  Minimum: 'only Add and Concatenate merge tensors in the IR',
  Dot: 'only Add and Concatenate merge tensors in the IR',
  UpSampling2D: 'upsampling has no IR node',
  ZeroPadding2D: "explicit padding has no IR node; use padding='same' in the convolution",
  Cropping2D: 'cropping has no IR node',
};

/** What to tell the user about a layer class that has no lowering. */
export function unsupportedReason(className: string): string {
  return HINTS[className] ?? `no fixed-point lowering exists for ${className}; supported layers: ${Object.keys(LOWERINGS).join(', ')}`;
}
