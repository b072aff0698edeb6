/**
 * QKeras `quantized_tanh`: tanh (the real one, or `2 * sigmoid - 1` with the internal sigmoid, which for the
 * default hard sigmoid is `clip(x, -1, 1)`) rounded to `bits - 1` fractional bits, in
 * `[-1 + symmetric/m, 1 - 1/m]` with `m = 2^(bits-1)`. Gradient: straight through the rounding, zero where
 * the output is clipped. `str()` prints the set flags positionally, so `symmetric` alone re-parses as
 * use_stochastic_rounding, as in QKeras.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArgValue, ParamSpec, QuantizerArgs } from './base.js';
import { registerQuantizer } from './registry.js';
import { RoundedActivation } from './rounded-activation.js';
import { internalSigmoid } from './sigmoid.js';

export class QuantizedTanh extends RoundedActivation {
  static readonly qkerasName = 'quantized_tanh';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'use_stochastic_rounding', default: false },
    { name: 'symmetric', default: false },
    { name: 'use_real_tanh', default: false },
  ];

  readonly className = QuantizedTanh.qkerasName;
  readonly useRealTanh: boolean | number;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super(
      {
        name: QuantizedTanh.qkerasName,
        params: QuantizedTanh.params,
        realFlag: 'use_real_tanh',
        configFlags: ['symmetric', 'use_stochastic_rounding', 'use_real_tanh'],
        offset: 1,
        lower: -1,
        real: (x) => tf.tanh(x),
        internal: (x) => tf.sub(tf.mul(2, internalSigmoid(x)), 1),
      },
      args,
      positional,
    );
    this.useRealTanh = this.flag('use_real_tanh');
  }
}

registerQuantizer(QuantizedTanh);
