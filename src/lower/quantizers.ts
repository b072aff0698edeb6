/**
 * A layer's quantizer objects as the IR sees them: the `{className, config}` record and rule options
 * `planRequant` reads (with the fields QKeras's `get_config` leaves out but inference depends on), a
 * tfjs evaluation of the quantizer for rules built by evaluation, and the checks that refuse weight
 * quantizers without an exact fixed-point form.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import { ActivationFunction } from '../quantizers/functions.js';
import { getInternalSigmoid } from '../quantizers/sigmoid.js';
import type { Alpha, NumberList } from '../quantizers/scale.js';
import type { QuantMode, Requant, TensorType } from '../ir/nodes.js';
import {
  buildRuleFromFunction,
  planRequant,
  type BatchFunction,
  type QuantizerConfig,
  type RuleOptions,
} from '../ir/quantizer-rules.js';
import { quantModeOf } from '../ops/classify.js';
import { toDyadic } from '../ir/fixed.js';
import { tidyValues } from '../utils/tensor-values.js';

/** The name of a Keras activation function (`relu`, `softmax`, ...) when `q` is one, else null. */
export function activationName(q: Quantizer | null): string | null {
  return q instanceof ActivationFunction ? q.name : null;
}

interface QuantizerFields {
  readonly useSte?: boolean;
  readonly isQuantizedClip?: boolean;
  readonly enableFastInference?: boolean;
  readonly alpha?: Alpha;
  readonly integer?: number;
  readonly qnoiseFactor?: number;
}

function fields(q: Quantizer): QuantizerFields {
  return q as unknown as QuantizerFields;
}

/** The quantizer's record for `planRequant`, including inference-relevant fields get_config drops. */
export function quantizerConfig(q: Quantizer): { config: QuantizerConfig; options: RuleOptions } {
  const f = fields(q);
  let config: Record<string, unknown> = { ...q.getConfig() };
  let useSte = f.useSte ?? true;
  if (q.className === 'quantized_relu') {
    config['is_quantized_clip'] = f.isQuantizedClip ?? true;
    if (f.enableFastInference === true) {
      // The fast-inference path is a plain clip(round(x·2^(bits-integer))) with no straight-through form,
      // no sigmoid and no leaky part.
      config = { ...config, use_sigmoid: 0, negative_slope: 0, relu_upper_bound: null, is_quantized_clip: true };
      useSte = false;
    }
  }
  return {
    config: { className: q.className, config },
    options: { text: q.toString(), useSte, sigmoid: getInternalSigmoid() },
  };
}

/** Evaluates a quantizer in tfjs (float32, inference mode) on a batch of reals. */
export function tfjsEvaluator(q: Quantizer): BatchFunction {
  return (xs) => tidyValues(() => q.call(tf.tensor1d(Float32Array.from(xs), 'float32'), { training: false }));
}

/**
 * The requantizer of an activation quantizer applied to values of `inType` (the producing node's exact
 * accumulator type), or null for linear. Keras functions other than relu/linear and quantizers without an
 * exact form throw `UnsupportedError` with the fix. Softmax is the caller's business.
 */
export function activationRequant(q: Quantizer | null, inType: TensorType): Requant | null {
  if (q === null) return null;
  const name = activationName(q);
  if (name !== null) {
    const plan = planRequant(name);
    return plan.kind === 'exact' ? plan.requant : null;
  }
  const { config, options } = quantizerConfig(q);
  const plan = planRequant(config, options);
  if (plan.kind === 'exact') return plan.requant;
  return buildRuleFromFunction(plan, inType, tfjsEvaluator(q));
}

function flatNumbers(v: number | NumberList): number[] {
  return typeof v === 'number' ? [v] : v.flatMap((e) => flatNumbers(e));
}

function isPo2(x: number): boolean {
  return x > 0 && Number.isFinite(x) && Math.abs(toDyadic(x).code) === 1;
}

/** Weight quantizers whose outputs lie on a power-of-two grid (given a power-of-two alpha). */
const WEIGHT_QUANTIZERS = [
  'quantized_bits',
  'binary',
  'stochastic_binary',
  'ternary',
  'stochastic_ternary',
  'quantized_po2',
  'quantized_relu_po2',
  'quantized_relu',
  'quantized_tanh',
  'quantized_sigmoid',
];

/**
 * Why a weight (kernel, bias, ...) quantizer has no exact fixed-point form, or null when it has one.
 * The message says what to use instead.
 */
export function weightQuantizerProblem(q: Quantizer, field: string): string | null {
  const text = q.toString();
  if (activationName(q) !== null) {
    return `${field} ${text} is a float activation function, not a quantizer; use e.g. quantized_bits(4,0,1)`;
  }
  if (!WEIGHT_QUANTIZERS.includes(q.className)) {
    return (
      `${field} ${text}: its values lie on no fixed-point grid (${q.className} is not supported for weights); ` +
      'use quantized_bits, quantized_po2, binary or ternary'
    );
  }
  const f = fields(q);
  if (f.qnoiseFactor !== undefined && f.qnoiseFactor !== 1) {
    return `${field} ${text}: qnoise_factor=${f.qnoiseFactor} mixes float and quantized weights; set it to 1 for export`;
  }
  const alpha = f.alpha;
  if (alpha === 'auto') {
    return (
      `${field} ${text}: alpha='auto' gives per-channel scales that are not powers of two, so they cannot become ` +
      "shifts; retrain with alpha='auto_po2'"
    );
  }
  if (alpha !== undefined && alpha !== null && alpha !== 'auto_po2') {
    const bad = flatNumbers(alpha).find((a) => !isPo2(Math.abs(a)));
    if (bad !== undefined) {
      return (
        `${field} ${text}: alpha=${bad} is not a power of two, so the scale cannot become a shift in fixed point; ` +
        "retrain with alpha='auto_po2' (per-channel power-of-two scales) or alpha=1"
      );
    }
  }
  return null;
}

/** QKeras's classification of a weight quantizer (what multiplier a MAC needs). */
export function weightQuantMode(q: Quantizer): QuantMode {
  try {
    return quantModeOf(q.className, { bits: q.bits, integer: fields(q).integer ?? 0 });
  } catch {
    return { mode: 'fixed', bits: q.bits, signed: true };
  }
}

/** Whether a weight quantizer produces signed powers of two (stored as sign + exponent). */
export function isPo2Quantizer(q: Quantizer): boolean {
  return q.className === 'quantized_po2' || q.className === 'quantized_relu_po2';
}
