/**
 * QKeras `quantized_tanh`: tanh (the real one, or `2 * sigmoid - 1` with the internal sigmoid, which for the
 * default hard sigmoid is `clip(x, -1, 1)`) rounded to `bits - 1` fractional bits, in
 * `[-1 + symmetric/m, 1 - 1/m]` with `m = 2^(bits-1)`. Gradient: straight through the rounding, zero where
 * the output is clipped.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ArgValue,
  asInt,
  type CallOptions,
  configNumber,
  type ParamSpec,
  pyNumber,
  Quantizer,
  type QuantizerArgs,
  resolveArgs,
} from './base.js';
import { registerQuantizer } from './registry.js';
import { pyInt, pyTruthy, readFlag } from './scale.js';
import { internalSigmoid } from './sigmoid.js';
import { roundThrough } from './ste.js';

export class QuantizedTanh extends Quantizer {
  static readonly qkerasName = 'quantized_tanh';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'symmetric', default: false },
    { name: 'use_real_tanh', default: false },
  ];

  readonly className = QuantizedTanh.qkerasName;
  bits: number;
  readonly useStochasticRounding: boolean | number;
  readonly symmetric: boolean | number;
  readonly useRealTanh: boolean | number;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const name = QuantizedTanh.qkerasName;
    const { values, floats } = resolveArgs(name, QuantizedTanh.params, positional, args);
    this.floats = floats;
    this.bits = asInt(name, 'bits', values.bits!, 1);
    this.useStochasticRounding = readFlag(name, 'use_stochastic_rounding', values.use_stochastic_rounding!);
    this.symmetric = readFlag(name, 'symmetric', values.symmetric!);
    this.useRealTanh = readFlag(name, 'use_real_tanh', values.use_real_tanh!);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const m = 2 ** (this.bits - 1);
      const p = pyTruthy(this.useRealTanh) ? tf.tanh(xf) : tf.sub(tf.mul(2, internalSigmoid(xf)), 1);
      const rounded = roundThrough(tf.mul(p, m), pyTruthy(this.useStochasticRounding), 0.5, options.training);
      return tf.clipByValue(tf.div(rounded, m), -1 + Number(this.symmetric) / m, 1 - 1 / m);
    });
  }

  /** QKeras prints the set flags positionally, so `symmetric` alone re-parses as use_stochastic_rounding. */
  toString(): string {
    const flags = [pyNumber(this.bits, this.floats.has('bits'))];
    if (pyTruthy(this.useStochasticRounding)) flags.push(String(pyInt(this.useStochasticRounding)));
    if (pyTruthy(this.symmetric)) flags.push(String(pyInt(this.symmetric)));
    if (pyTruthy(this.useRealTanh)) flags.push(String(pyInt(this.useRealTanh)));
    return `quantized_tanh(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      bits: configNumber(this.bits, this.floats.has('bits')),
      symmetric: this.symmetric,
      use_stochastic_rounding: this.useStochasticRounding,
      use_real_tanh: this.useRealTanh,
    };
  }

  max(): number {
    return 1 - 1 / 2 ** (this.bits - 1);
  }

  min(): number {
    return -1 + Number(this.symmetric) / 2 ** (this.bits - 1);
  }
}

registerQuantizer(QuantizedTanh);
