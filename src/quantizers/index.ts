/**
 * The public surface of the quantizers module. Importing it imports every quantizer module, so every
 * QKeras quantizer is registered for `getQuantizer` and `lookupQuantizer`.
 */
export {
  PyFloat,
  Quantizer,
  resolveArgs,
  type ArgValue,
  type CallOptions,
  type ParamSpec,
  type QuantizerArgs,
  type QuantizerClass,
  type ResolvedArgs,
  type SerializedQuantizer,
} from './base.js';

// Quantizer classes (each module registers its classes when imported).
export { Bernoulli } from './bernoulli.js';
export { Binary, StochasticBinary } from './binary.js';
export { QuantizedPo2, QuantizedReluPo2, type Log2Rounding } from './po2.js';
export { QuantizedBits } from './quantized-bits.js';
export { QuantizedHswish } from './quantized-hswish.js';
export { QuantizedLinear } from './quantized-linear.js';
export { QuantizedRelu } from './quantized-relu.js';
export { QuantizedSigmoid } from './quantized-sigmoid.js';
export { QuantizedTanh } from './quantized-tanh.js';
export { QuantizedUlaw } from './quantized-ulaw.js';
export { StochasticTernary, Ternary } from './ternary.js';

export {
  bernoulli,
  binary,
  quantized_bits,
  quantized_hswish,
  quantized_linear,
  quantized_po2,
  quantized_relu,
  quantized_relu_po2,
  quantized_sigmoid,
  quantized_tanh,
  quantized_ulaw,
  stochastic_binary,
  stochastic_ternary,
  ternary,
} from './factories.js';

export { ActivationFunction, activationFunctionNames, lookupActivationFunction } from './functions.js';
export {
  getQuantizer,
  serializeQuantizer,
  type QuantizerSpec,
  type SerializedQuantizerLike,
} from './get-quantizer.js';
export {
  getParams,
  parsePyNumber,
  parseQuantizerSpec,
  safeEval,
  type ParsedParams,
  type ParsedSpec,
  type SafeEvalCallable,
  type SafeEvalOp,
} from './parse.js';
export { getLearningPhase, setLearningPhase, setSeed, withLearningPhase } from './phase.js';
export { lookupQuantizer, registeredQuantizerNames, registerQuantizer } from './registry.js';
export { getWeightScale } from './scale.js';
export {
  binarySigmoid,
  binaryTanh,
  getInternalSigmoid,
  hardSigmoid,
  hardTanh,
  setInternalSigmoid,
  smoothSigmoid,
  smoothTanh,
  type InternalSigmoidMode,
} from './sigmoid.js';
