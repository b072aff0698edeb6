/**
 * QKeras `quantized_sigmoid`: the sigmoid (real, or the internal one read at call time) rounded to `bits`
 * fractional bits, in `[symmetric/m, 1 - 1/m]` with `m = 2^bits`. Gradient: straight through the rounding,
 * zero where the output is clipped.
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

export class QuantizedSigmoid extends Quantizer {
  static readonly qkerasName = 'quantized_sigmoid';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'symmetric', default: false },
    { name: 'use_real_sigmoid', default: false },
    { name: 'use_stochastic_rounding', default: false },
  ];

  readonly className = QuantizedSigmoid.qkerasName;
  bits: number;
  readonly symmetric: boolean | number;
  readonly useRealSigmoid: boolean | number;
  readonly useStochasticRounding: boolean | number;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const name = QuantizedSigmoid.qkerasName;
    const { values, floats } = resolveArgs(name, QuantizedSigmoid.params, positional, args);
    this.floats = floats;
    this.bits = asInt(name, 'bits', values.bits!, 1);
    this.symmetric = readFlag(name, 'symmetric', values.symmetric!);
    this.useRealSigmoid = readFlag(name, 'use_real_sigmoid', values.use_real_sigmoid!);
    this.useStochasticRounding = readFlag(name, 'use_stochastic_rounding', values.use_stochastic_rounding!);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const m = 2 ** this.bits;
      const p = pyTruthy(this.useRealSigmoid) ? tf.sigmoid(xf) : internalSigmoid(xf);
      const rounded = roundThrough(tf.mul(p, m), pyTruthy(this.useStochasticRounding), 0.5, options.training);
      return tf.clipByValue(tf.div(rounded, m), Number(this.symmetric) / m, 1 - 1 / m);
    });
  }

  /** QKeras prints the set flags positionally (so a lone use_real_sigmoid re-parses as symmetric). */
  toString(): string {
    const flags = [pyNumber(this.bits, this.floats.has('bits'))];
    if (pyTruthy(this.symmetric)) flags.push(String(pyInt(this.symmetric)));
    if (pyTruthy(this.useRealSigmoid)) flags.push(String(pyInt(this.useRealSigmoid)));
    if (pyTruthy(this.useStochasticRounding)) flags.push(String(pyInt(this.useStochasticRounding)));
    return `quantized_sigmoid(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    return {
      bits: configNumber(this.bits, this.floats.has('bits')),
      symmetric: this.symmetric,
      use_real_sigmoid: this.useRealSigmoid,
      use_stochastic_rounding: this.useStochasticRounding,
    };
  }

  max(): number {
    return 1 - 1 / 2 ** this.bits;
  }

  min(): number {
    return Number(this.symmetric) / 2 ** this.bits;
  }
}

registerQuantizer(QuantizedSigmoid);
