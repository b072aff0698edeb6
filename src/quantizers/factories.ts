/**
 * QKeras-named factories, so code reads like QKeras: `quantized_bits({bits: 4, integer: 0, symmetric: 1})`
 * is `new QuantizedBits({...})`. Argument keys may be QKeras's snake_case or camelCase.
 */
import type { QuantizerArgs } from './base.js';
import { Bernoulli } from './bernoulli.js';
import { Binary, StochasticBinary } from './binary.js';
import { QuantizedPo2, QuantizedReluPo2 } from './po2.js';
import { QuantizedBits } from './quantized-bits.js';
import { QuantizedHswish } from './quantized-hswish.js';
import { QuantizedLinear } from './quantized-linear.js';
import { QuantizedRelu } from './quantized-relu.js';
import { QuantizedSigmoid } from './quantized-sigmoid.js';
import { QuantizedTanh } from './quantized-tanh.js';
import { QuantizedUlaw } from './quantized-ulaw.js';
import { StochasticTernary, Ternary } from './ternary.js';

export const quantized_bits = (args: QuantizerArgs = {}): QuantizedBits => new QuantizedBits(args);
export const quantized_linear = (args: QuantizerArgs = {}): QuantizedLinear => new QuantizedLinear(args);
export const bernoulli = (args: QuantizerArgs = {}): Bernoulli => new Bernoulli(args);
export const ternary = (args: QuantizerArgs = {}): Ternary => new Ternary(args);
export const stochastic_ternary = (args: QuantizerArgs = {}): StochasticTernary => new StochasticTernary(args);
export const binary = (args: QuantizerArgs = {}): Binary => new Binary(args);
export const stochastic_binary = (args: QuantizerArgs = {}): StochasticBinary => new StochasticBinary(args);
export const quantized_relu = (args: QuantizerArgs = {}): QuantizedRelu => new QuantizedRelu(args);
export const quantized_ulaw = (args: QuantizerArgs = {}): QuantizedUlaw => new QuantizedUlaw(args);
export const quantized_tanh = (args: QuantizerArgs = {}): QuantizedTanh => new QuantizedTanh(args);
export const quantized_sigmoid = (args: QuantizerArgs = {}): QuantizedSigmoid => new QuantizedSigmoid(args);
export const quantized_po2 = (args: QuantizerArgs = {}): QuantizedPo2 => new QuantizedPo2(args);
export const quantized_relu_po2 = (args: QuantizerArgs = {}): QuantizedReluPo2 => new QuantizedReluPo2(args);
export const quantized_hswish = (args: QuantizerArgs = {}): QuantizedHswish => new QuantizedHswish(args);
