/**
 * QKeras `quantized_sigmoid`: the sigmoid (real, or the internal one read at call time) rounded to `bits`
 * fractional bits, in `[symmetric/m, 1 - 1/m]` with `m = 2^bits`. Gradient: straight through the rounding,
 * zero where the output is clipped.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArgValue, ParamSpec, QuantizerArgs } from './base.js';
import { registerQuantizer } from './registry.js';
import { RoundedActivation } from './rounded-activation.js';
import { internalSigmoid } from './sigmoid.js';

export class QuantizedSigmoid extends RoundedActivation {
  static readonly qkerasName = 'quantized_sigmoid';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'symmetric', default: false },
    { name: 'use_real_sigmoid', default: false },
    { name: 'use_stochastic_rounding', default: false },
  ];

  readonly className = QuantizedSigmoid.qkerasName;
  readonly useRealSigmoid: boolean | number;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super(
      {
        name: QuantizedSigmoid.qkerasName,
        params: QuantizedSigmoid.params,
        realFlag: 'use_real_sigmoid',
        configFlags: ['symmetric', 'use_real_sigmoid', 'use_stochastic_rounding'],
        offset: 0,
        lower: 0,
        real: (x) => tf.sigmoid(x),
        internal: internalSigmoid,
      },
      args,
      positional,
    );
    this.useRealSigmoid = this.flag('use_real_sigmoid');
  }
}

registerQuantizer(QuantizedSigmoid);
