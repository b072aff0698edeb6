/**
 * All fused quantizer kernels and their gradients, for registration on the wasm backend
 * (see src/quantizers/fused.ts for how the quantizers use them).
 */
import type * as tf from '@tensorflow/tfjs';
import { fusedBinaryConfigs, fusedBinaryGradient } from './fused-binary.js';
import { fusedFixedBitsConfigs, fusedFixedBitsGradient } from './fused-fixed-bits.js';
import { fusedPo2Configs, fusedPo2Gradient } from './fused-po2.js';
import { fusedAutoPo2BitsConfigs, fusedAutoPo2BitsGradient } from './fused-auto-po2-bits.js';
import { fusedQuantizedReluConfigs, fusedQuantizedReluGradient } from './fused-quantized-relu.js';
import { fusedStochasticWeightConfigs, fusedStochasticWeightGradients } from './fused-stochastic-weights.js';

export const fusedQuantizerKernelConfigs: readonly tf.KernelConfig[] = [
  ...fusedQuantizedReluConfigs,
  ...fusedAutoPo2BitsConfigs,
  ...fusedStochasticWeightConfigs,
  ...fusedBinaryConfigs,
  ...fusedFixedBitsConfigs,
  ...fusedPo2Configs,
];

export const fusedQuantizerGradients: readonly tf.GradConfig[] = [
  fusedQuantizedReluGradient,
  fusedAutoPo2BitsGradient,
  ...fusedStochasticWeightGradients,
  fusedBinaryGradient,
  fusedFixedBitsGradient,
  fusedPo2Gradient,
];
