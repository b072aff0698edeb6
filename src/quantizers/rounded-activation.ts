/**
 * What QKeras's `quantized_sigmoid` and `quantized_tanh` share: an activation (the real function, or one
 * built on the internal sigmoid, read at call time) scaled by `m = 2^(bits - offset)`, rounded (straight
 * through, optionally stochastic), divided by `m` and clipped to `[lower + symmetric/m, 1 - 1/m]`. Their
 * parameters are `bits` and three flags, which `str()` prints positionally in parameter order.
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
import { pyInt, pyTruthy, readFlag } from './scale.js';
import { roundThrough } from './ste.js';

/** One of the two activations. */
export interface RoundedActivationForm {
  readonly name: string;
  /** `bits`, then the flags (`symmetric`, `use_stochastic_rounding` and `realFlag`) in QKeras's order. */
  readonly params: readonly ParamSpec[];
  /** The flag that selects the real function over the internal-sigmoid one. */
  readonly realFlag: string;
  /** The flags in QKeras's `get_config()` order. */
  readonly configFlags: readonly string[];
  /** Integer bits of the grid: the step is `2^-(bits - offset)`. */
  readonly offset: number;
  /** The range's lower end before the symmetric step. */
  readonly lower: number;
  readonly real: (x: tf.Tensor) => tf.Tensor;
  readonly internal: (x: tf.Tensor) => tf.Tensor;
}

export abstract class RoundedActivation extends Quantizer {
  bits: number;
  readonly symmetric: boolean | number;
  readonly useStochasticRounding: boolean | number;
  private readonly flags: ReadonlyMap<string, boolean | number>;
  private readonly floats: ReadonlySet<string>;

  protected constructor(
    private readonly form: RoundedActivationForm,
    args: QuantizerArgs,
    positional: readonly ArgValue[],
  ) {
    super();
    const { values, floats } = resolveArgs(form.name, form.params, positional, args);
    this.floats = floats;
    this.bits = asInt(form.name, 'bits', values.bits!, 1);
    this.flags = new Map(form.params.slice(1).map((p) => [p.name, readFlag(form.name, p.name, values[p.name]!)] as const));
    this.symmetric = this.flag('symmetric');
    this.useStochasticRounding = this.flag('use_stochastic_rounding');
  }

  /** A flag's value as given (a bool or 0/1). */
  protected flag(name: string): boolean | number {
    return this.flags.get(name)!;
  }

  private get m(): number {
    return 2 ** (this.bits - this.form.offset);
  }

  call(x: tf.Tensor, options: CallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const m = this.m;
      const p = pyTruthy(this.flag(this.form.realFlag)) ? this.form.real(xf) : this.form.internal(xf);
      const rounded = roundThrough(tf.mul(p, m), pyTruthy(this.useStochasticRounding), 0.5, options.training);
      return tf.clipByValue(tf.div(rounded, m), this.form.lower + Number(this.symmetric) / m, 1 - 1 / m);
    });
  }

  /** QKeras prints the set flags positionally, so a flag alone re-parses as the first flag. */
  toString(): string {
    const flags = [pyNumber(this.bits, this.floats.has('bits'))];
    for (const v of this.flags.values()) if (pyTruthy(v)) flags.push(String(pyInt(v)));
    return `${this.form.name}(${flags.join(',')})`;
  }

  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { bits: configNumber(this.bits, this.floats.has('bits')) };
    for (const name of this.form.configFlags) config[name] = this.flag(name);
    return config;
  }

  max(): number {
    return 1 - 1 / this.m;
  }

  min(): number {
    return this.form.lower + Number(this.symmetric) / this.m;
  }
}
