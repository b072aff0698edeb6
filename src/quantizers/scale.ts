/**
 * Scale helpers shared by the auto-scaling quantizers (`alpha="auto"` / `"auto_po2"`): which axes a
 * per-channel scale reduces over, the unroll/roll-back reshapes behind `elements_per_scale`, the
 * least-squares scale itself, and the integer-bit estimate QAdaptiveActivation uses; plus the readers of
 * the arguments that feed them (alpha, scale_axis, elements_per_scale, flags) and their Python `str()`.
 *
 * Everything follows QKeras's float32 arithmetic step by step (channels_last, `K.epsilon() = 1e-7`,
 * `log(v) / float32(ln 2)`, half-to-even rounding), because an auto_po2 scale decides the hardware shift
 * and must agree with QKeras exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { PyFloat, pyNumber, type ArgValue } from './base.js';

/** Keras `K.epsilon()`. */
export const EPSILON = 1e-7;

/** Axis (or axes) that keep their own scale; `null` means the last (channel) axis. */
export type ScaleAxis = number | readonly number[] | null;

/** How many consecutive elements along each scale axis share one scale; `null` means all of them. */
export type ElementsPerScale = number | readonly number[] | null;

/** What `getLeastSquaresScale` accepts as alpha: a string asks for a data-dependent scale. */
export type ScaleAlpha = 'auto' | 'auto_po2' | number | tf.Tensor | null;

/**
 * QKeras `_get_scaling_axis`: the axes a per-channel statistic reduces over for a tensor of `rank`.
 * `null` reduces over every axis but the last (so a rank-1 tensor reduces over nothing: each element is
 * its own channel); an integer `a` reduces over every axis but `a`; a list over every axis not listed.
 */
export function getScalingAxis(scaleAxis: ScaleAxis, rank: number): number[] {
  const all = Array.from({ length: rank }, (_, i) => i);
  if (scaleAxis === null) return all.slice(0, Math.max(rank - 1, 0));
  if (typeof scaleAxis === 'number') {
    // tf.range(a) ++ tf.range(a + 1, rank): a negative axis therefore keeps nothing, as in QKeras.
    const before = all.slice(0, Math.max(scaleAxis, 0));
    const after = all.slice(Math.max(scaleAxis + 1, 0));
    return [...before, ...after];
  }
  return all.filter((i) => !scaleAxis.includes(i));
}

/**
 * QKeras `_get_unrolled_shape`: splits each unroll axis of size n into `(n / factor, factor)`. Returns the
 * new shape and where the (group) axes ended up; later axes shift by one per earlier split.
 * `unrollFactor` and `unrollAxis` must both be integers or both be lists of the same length.
 */
export function getUnrolledShape(
  inputShape: readonly number[],
  unrollFactor: number | readonly number[],
  unrollAxis: number | readonly number[],
): [number[], number | number[]] {
  const shape = [...inputShape];
  const unrollOne = (factor: number, axis: number): void => {
    shape[axis] = Math.floor(shape[axis]! / factor);
    shape.splice(axis + 1, 0, factor);
  };
  if (typeof unrollFactor === 'number' && typeof unrollAxis === 'number') {
    unrollOne(unrollFactor, unrollAxis);
    return [shape, unrollAxis];
  }
  if (Array.isArray(unrollFactor) && Array.isArray(unrollAxis)) {
    if (unrollFactor.length !== unrollAxis.length) {
      throw new ConfigError(
        'getUnrolledShape',
        'unroll_factor',
        unrollFactor,
        `a list as long as unroll_axis ${JSON.stringify(unrollAxis)}`,
      );
    }
    const axes = (unrollAxis as readonly number[]).map((axis, i) => axis + i);
    axes.forEach((axis, i) => unrollOne((unrollFactor as readonly number[])[i]!, axis));
    return [shape, axes];
  }
  throw new ConfigError(
    'getUnrolledShape',
    'unroll_factor',
    unrollFactor,
    'an integer with an integer unroll_axis, or a list with a list unroll_axis',
  );
}

/** QKeras `_get_rolled_back_shape`: merges the axis after each roll axis back into it (inverse of unrolling). */
export function getRolledBackShape(inputShape: readonly number[], rollAxis: number | readonly number[]): number[] {
  const shape = [...inputShape];
  const rollOne = (axis: number): void => {
    shape[axis] = shape[axis]! * shape[axis + 1]!;
    shape.splice(axis + 1, 1);
  };
  if (typeof rollAxis === 'number') rollOne(rollAxis);
  else rollAxis.forEach((axis, i) => rollOne(axis - i));
  return shape;
}

/**
 * QKeras `_validate_axis_and_eps`: checks that `elements_per_scale` divides the scale axes and brings the
 * pair to the same form (an integer eps with a list of axes becomes one eps per axis).
 */
export function validateAxisAndEps(
  xShape: readonly number[],
  scaleAxis: ScaleAxis,
  elementsPerScale: number | readonly number[],
  where = 'auto scale',
): [number, number] | [number[], number[]] {
  if (scaleAxis === null) {
    throw new ConfigError(where, 'scale_axis', null, 'an axis or list of axes when elements_per_scale is set');
  }
  const divisible = (axis: number, eps: number): void => {
    const size = xShape[axis];
    if (size === undefined || !Number.isInteger(eps) || eps < 1 || size % eps !== 0) {
      throw new ConfigError(
        where,
        'elements_per_scale',
        eps,
        `a positive divisor of the size ${size ?? 'undefined'} of scale axis ${axis} (input shape [${xShape.join(', ')}])`,
      );
    }
  };
  if (typeof scaleAxis === 'number') {
    if (typeof elementsPerScale !== 'number') {
      throw new ConfigError(
        where,
        'elements_per_scale',
        elementsPerScale,
        `an integer, since scale_axis=${scaleAxis} is a single axis`,
      );
    }
    divisible(scaleAxis, elementsPerScale);
    return [scaleAxis, elementsPerScale];
  }
  const axes = [...scaleAxis];
  if (typeof elementsPerScale === 'number') {
    axes.forEach((a) => divisible(a, elementsPerScale));
    return [axes, axes.map(() => elementsPerScale)];
  }
  if (elementsPerScale.length !== axes.length) {
    throw new ConfigError(
      where,
      'elements_per_scale',
      elementsPerScale,
      `a list with one entry per scale axis (${axes.length} for scale_axis=[${axes.join(',')}])`,
    );
  }
  axes.forEach((a, i) => divisible(a, elementsPerScale[i]!));
  return [axes, [...elementsPerScale]];
}

/** Keeps-dims mean as TF computes it (sum, then divide by the count); no axes means no reduction. */
export function meanOver(x: tf.Tensor, axes: readonly number[]): tf.Tensor {
  if (axes.length === 0) return x.clone();
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return tf.tidy(() => tf.div(tf.sum(x, [...axes], true), count));
}

/** `tf.repeat(x, repeats, axis)`: each element repeated `repeats` times along `axis`. */
function repeatAlongAxis(x: tf.Tensor, axis: number, repeats: number): tf.Tensor {
  if (repeats === 1) return x;
  const expanded = tf.expandDims(x, axis + 1);
  const reps = expanded.shape.map((_, i) => (i === axis + 1 ? repeats : 1));
  const shape = [...x.shape];
  shape[axis] = shape[axis]! * repeats;
  return tf.reshape(tf.tile(expanded, reps), shape);
}

/**
 * QKeras `_get_scale_mean`: the keeps-dims means of x*q and q*q per scale group.
 *
 * With `elements_per_scale`, QKeras reshapes to the unrolled shape (up to twice the rank) and averages
 * there. The tfjs wasm kernels mis-compute some element-wise ops above rank 6, so the same group sums are
 * formed one scale axis at a time (split that axis into (groups, eps), sum the eps part away) and then over
 * the other axes; the rank never exceeds the input's rank + 1.
 */
function scaleMeans(
  x: tf.Tensor,
  q: tf.Tensor,
  scaleAxis: ScaleAxis,
  elementsPerScale: ElementsPerScale,
  where: string,
): [tf.Tensor, tf.Tensor] {
  if (elementsPerScale === null) {
    const axes = getScalingAxis(scaleAxis, x.rank);
    return [meanOver(tf.mul(x, q), axes), meanOver(tf.mul(q, q), axes)];
  }
  const [axis, eps] = validateAxisAndEps(x.shape, scaleAxis, elementsPerScale, where);
  const axes = typeof axis === 'number' ? [axis] : axis;
  const groupSizes = typeof eps === 'number' ? [eps] : eps;
  const otherAxes = getScalingAxis(axes, x.rank);
  const count = groupSizes.reduce((n, e) => n * e, 1) * otherAxes.reduce((n, a) => n * x.shape[a]!, 1);
  const groupMean = (t: tf.Tensor): tf.Tensor => {
    let r = t;
    axes.forEach((a, i) => {
      const e = groupSizes[i]!;
      const split = [...r.shape.slice(0, a), r.shape[a]! / e, e, ...r.shape.slice(a + 1)];
      r = tf.sum(tf.reshape(r, split), a + 1);
    });
    if (otherAxes.length > 0) r = tf.sum(r, otherAxes, true);
    r = tf.div(r, count);
    axes.forEach((a, i) => (r = repeatAlongAxis(r, a, groupSizes[i]!)));
    return r;
  };
  return [groupMean(tf.mul(x, q)), groupMean(tf.mul(q, q))];
}

/** `2 ** round(log2(s + eps))` computed as QKeras does: float32 `log(s + eps) / float32(ln 2)`, half-to-even. */
export function roundToPo2(s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.pow(tf.scalar(2), tf.round(tf.div(tf.log(tf.add(s, EPSILON)), Math.LN2))));
}

/** QKeras `_clip_po2_scale` (K.clip: a missing bound is infinite, an upper bound below the lower one is raised to it). */
export function clipPo2Scale(scale: tf.Tensor, minPo2Exponent: number | null, maxPo2Exponent: number | null): tf.Tensor {
  const [lo, hi] = po2ClipBounds(minPo2Exponent, maxPo2Exponent);
  return tf.clipByValue(scale, lo, hi);
}

/** The float32 `[lo, hi]` bounds `clipPo2Scale` clips to (also used by the fused auto_po2 kernel). */
export function po2ClipBounds(minPo2Exponent: number | null, maxPo2Exponent: number | null): [number, number] {
  const lo = minPo2Exponent === null ? -Infinity : 2 ** minPo2Exponent;
  let hi = maxPo2Exponent === null ? Infinity : 2 ** maxPo2Exponent;
  if (hi < lo) hi = lo;
  // Float32 bounds, as TF converts them.
  return [Math.fround(lo), Math.fround(hi)];
}

export interface LeastSquaresOptions {
  /** Axis or axes keeping their own scale (default: the last axis). */
  readonly scaleAxis?: ScaleAxis;
  /** False gives one scale for the whole tensor (shape all ones). Default true. */
  readonly perChannelScale?: boolean;
  /** Groups of consecutive elements along each scale axis sharing one scale (needs `scaleAxis`). */
  readonly elementsPerScale?: ElementsPerScale;
  /** auto_po2 only: the scale is clipped to `[2**min, 2**max]`. */
  readonly minPo2Exponent?: number | null;
  readonly maxPo2Exponent?: number | null;
  /** Who is asking, for error messages (a quantizer's string form). */
  readonly where?: string;
}

/**
 * QKeras `_get_least_squares_scale` (old name `_get_scale`): for `"auto"` the per-channel least-squares
 * scale `mean(x*q) / (mean(q*q) + eps)` of x against its quantized form q; `"auto_po2"` rounds it to a
 * power of two (then clips it to the po2 exponent range when given). A rank-1 tensor gets one scale per
 * element; `perChannelScale: false` one scale overall. A null alpha gives 1, a number itself, a tensor itself.
 *
 * A returned tensor is new (the caller owns it), except that a tensor alpha is returned as is.
 */
export function getLeastSquaresScale(
  alpha: ScaleAlpha,
  x: tf.Tensor,
  q: tf.Tensor,
  options: LeastSquaresOptions = {},
): tf.Tensor | number {
  if (alpha === null) return 1.0;
  if (typeof alpha === 'number') return alpha;
  if (alpha instanceof tf.Tensor) return alpha;
  const where = options.where ?? 'auto scale';
  if (alpha !== 'auto' && alpha !== 'auto_po2') {
    throw new ConfigError(where, 'alpha', alpha, "'auto', 'auto_po2', a number, a tensor or None");
  }
  const { scaleAxis = null, perChannelScale = true, elementsPerScale = null } = options;
  const minExp = options.minPo2Exponent ?? null;
  const maxExp = options.maxPo2Exponent ?? null;
  return tf.tidy(() => {
    let qx: tf.Tensor;
    let qq: tf.Tensor;
    if (!perChannelScale) {
      const all = x.shape.map((_, i) => i);
      qx = meanOver(tf.mul(x, q), all);
      qq = meanOver(tf.mul(q, q), all);
    } else if (x.rank > 1) {
      [qx, qq] = scaleMeans(x, q, scaleAxis, elementsPerScale, where);
    } else {
      // Rank 1: every element is its own channel, nothing is averaged.
      qx = tf.mul(x, q);
      qq = tf.mul(q, q);
    }
    let scale = tf.div(qx, tf.add(qq, EPSILON));
    if (alpha === 'auto_po2') {
      scale = roundToPo2(scale);
      if (minExp !== null || maxExp !== null) scale = clipPo2Scale(scale, minExp, maxExp);
    }
    return scale;
  });
}

export interface IntegerBitsOptions {
  readonly bits?: number;
  readonly symmetric?: boolean;
  readonly keepNegative?: boolean;
  /** True: round log2 of the bounds (po2 clipping); false: ceil, then make sure the bounds are representable. */
  readonly isClipping?: boolean;
}

/**
 * QKeras `_get_integer_bits`: per element, the number of integer bits (left of the binary point, sign
 * excluded) that a `bits`-bit fixed-point type needs to cover `[minValue, maxValue]`, at most
 * `bits - keepNegative`. Returns a new int32 tensor of the broadcast shape of the inputs.
 */
export function getIntegerBits(
  minValue: tf.Tensor | number | readonly number[],
  maxValue: tf.Tensor | number | readonly number[],
  options: IntegerBitsOptions = {},
): tf.Tensor {
  const { bits = 8, symmetric = false, keepNegative = false, isClipping = true } = options;
  const asTensor = (v: tf.Tensor | number | readonly number[]): tf.Tensor =>
    v instanceof tf.Tensor ? tf.cast(v, 'float32') : tf.tensor(v as number | number[], undefined, 'float32');
  return tf.tidy(() => {
    let lo = asTensor(minValue);
    let hi = asTensor(maxValue);
    if (!keepNegative) {
      lo = tf.maximum(lo, 0);
      hi = tf.maximum(hi, 0);
    }
    const unsignedBits = bits - (keepNegative ? 1 : 0);
    const log2 = (v: tf.Tensor): tf.Tensor => tf.div(tf.log(tf.abs(v)), Math.LN2);
    const positive = (l: tf.Tensor): tf.Tensor => tf.where(tf.greater(l, 0), l, tf.zerosLike(l));
    let minInt: tf.Tensor;
    let maxInt: tf.Tensor;
    if (isClipping) {
      minInt = tf.round(positive(log2(lo)));
      maxInt = tf.round(positive(log2(hi)));
    } else {
      minInt = tf.ceil(positive(log2(lo)));
      maxInt = tf.ceil(positive(log2(hi)));
      const two = tf.scalar(2);
      // Largest value with maxInt integer bits: 2**int - 2**-frac (frac = unsignedBits - int, at least 0).
      const maxPo2 = tf.sub(tf.pow(two, maxInt), tf.pow(two, tf.minimum(tf.sub(maxInt, unsignedBits), 0)));
      maxInt = tf.where(tf.lessEqual(hi, maxPo2), maxInt, tf.add(maxInt, 1));
      if (symmetric) {
        const minPo2 = tf.add(tf.neg(tf.pow(two, minInt)), tf.pow(two, tf.minimum(tf.sub(minInt, unsignedBits), 0)));
        minInt = tf.where(tf.lessEqual(minPo2, lo), minInt, tf.add(minInt, 1));
      }
    }
    const integerBits = tf.cast(tf.maximum(minInt, maxInt), 'int32');
    return tf.minimum(integerBits, tf.scalar(unsignedBits, 'int32'));
  });
}

/**
 * QKeras `get_weight_scale`: the scale a quantizer kept from its last call (per-channel for auto alphas),
 * or 1 when it has none. A tensor result is a copy the caller owns.
 */
export function getWeightScale(quantizer: { readonly scale: tf.Tensor | number | null }): tf.Tensor | number {
  const { scale } = quantizer;
  if (scale === null) return 1.0;
  return scale instanceof tf.Tensor ? scale.clone() : scale;
}

// ---- alpha arguments -----------------------------------------------------------------------------------

/** A nested list of numbers (a per-channel alpha or post_training_scale as written in Python). */
export type NumberList = readonly (number | NumberList)[];

/** The forms QKeras's `alpha` takes: None, a number, a list/array of numbers, or an auto-scale request. */
export type Alpha = null | 'auto' | 'auto_po2' | number | NumberList;

/** An argument value as given, with what QKeras's `str()` of it prints and its float32 tensor form. */
export interface NumericArg {
  /** The value with PyFloat wrappers removed. */
  readonly value: number | NumberList;
  /** Python's `str()` of the value (`1.0`, `[1.0, 2]`). */
  readonly pyStr: string;
  /** The value as given (PyFloat kept), for `getConfig` round trips. */
  readonly raw: ArgValue;
}

function unwrapNumbers(where: string, field: string, v: ArgValue): { value: number | NumberList; pyStr: string } {
  if (v instanceof PyFloat) return { value: v.value, pyStr: pyNumber(v.value, true) };
  if (typeof v === 'number') return { value: v, pyStr: pyNumber(v, false) };
  if (typeof v === 'boolean') return { value: v ? 1 : 0, pyStr: v ? 'True' : 'False' };
  if (Array.isArray(v) && v.length > 0) {
    const items = v.map((e) => unwrapNumbers(where, field, e));
    return { value: items.map((i) => i.value), pyStr: `[${items.map((i) => i.pyStr).join(', ')}]` };
  }
  throw new ConfigError(where, field, v, 'a number or a non-empty list of numbers');
}

/** Reads a number or (nested) list of numbers; `isFloat` says a top-level integral number was written `1.0`. */
export function readNumericArg(where: string, field: string, v: ArgValue, isFloat = false): NumericArg {
  const { value, pyStr } = unwrapNumbers(where, field, v);
  const str = typeof value === 'number' ? pyNumber(value, isFloat) : pyStr;
  return { value, pyStr: str, raw: typeof value === 'number' && isFloat ? new PyFloat(value) : v };
}

/** Validates an alpha argument: None, a number, a non-empty list of numbers, `'auto'` or `'auto_po2'`. */
export function readAlpha(where: string, v: ArgValue, isFloat = false): { alpha: Alpha; arg: NumericArg | null } {
  if (v === null) return { alpha: null, arg: null };
  if (v === 'auto' || v === 'auto_po2') return { alpha: v, arg: null };
  if (typeof v === 'string' || typeof v === 'boolean') {
    throw new ConfigError(where, 'alpha', v, "None, a number, a list of numbers, 'auto' or 'auto_po2'");
  }
  const arg = readNumericArg(where, 'alpha', v, isFloat);
  if (typeof arg.value === 'number' && Number.isNaN(arg.value)) {
    throw new ConfigError(where, 'alpha', v, "None, a number, a list of numbers, 'auto' or 'auto_po2'");
  }
  return { alpha: arg.value, arg };
}

export function isAutoAlpha(alpha: Alpha): alpha is 'auto' | 'auto_po2' {
  return alpha === 'auto' || alpha === 'auto_po2';
}

/**
 * A numeric alpha as a multiplier: a number stays a number, a list becomes a float32 tensor (broadcast along
 * the last axes). Given the tensor `x` it scales, a list whose shape does not broadcast onto `x`'s last axes
 * (a per-channel alpha with the wrong channel count) is a `ConfigError` naming `where` and `field`.
 */
export function alphaMultiplier(alpha: number | NumberList, x?: tf.Tensor, where = 'quantizer', field = 'alpha'): number | tf.Tensor {
  if (typeof alpha === 'number') return alpha;
  const t = tf.tensor(alpha as number[], undefined, 'float32');
  if (x !== undefined) {
    const a = t.shape;
    const fits = a.length <= x.rank && a.every((d, i) => d === 1 || d === x.shape[x.rank - a.length + i]);
    if (!fits) {
      t.dispose();
      throw new ConfigError(where, field, alpha, `a number or a list broadcastable to the last axes of the values it scales, shape [${x.shape.join(', ')}] (one entry per channel)`);
    }
  }
  return t;
}

/** All numbers of a (nested) list. */
export function flatNumbers(v: number | NumberList): number[] {
  return typeof v === 'number' ? [v] : v.flatMap((e) => flatNumbers(e));
}

/** Python truthiness of an argument value (`if self.alpha:`): 0, '', [], None and False are false; NaN is true. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** Python's `int()` of a flag value (`str(int(self.symmetric))`). */
export function pyInt(v: boolean | number): number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : Math.trunc(v);
}

/** Validates scale_axis / elements_per_scale: None, an integer or a list of integers (`minimum` bounds each). */
export function readAxisArg(where: string, field: string, v: ArgValue, minimum = -Infinity): number | number[] | null {
  if (v === null) return null;
  const n = v instanceof PyFloat ? v.value : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= minimum) return n;
  if (Array.isArray(v) && v.length > 0) {
    const items = v.map((e) => (e instanceof PyFloat ? e.value : e));
    if (items.every((e) => typeof e === 'number' && Number.isInteger(e) && e >= minimum)) return items as number[];
  }
  const bound = minimum === -Infinity ? '' : ` >= ${minimum}`;
  throw new ConfigError(where, field, v, `None, an integer${bound} or a non-empty list of such integers`);
}

/** Python `str()` of an axis argument as binary's `__str__` writes it: lists as `[a,b]` without spaces. */
export function axisArgStr(v: number | readonly number[]): string {
  return typeof v === 'number' ? String(v) : `[${v.join(',')}]`;
}

/** Validates a QKeras flag that may be a bool or a number (`symmetric=1`, `keep_negative=True`). */
export function readFlag(where: string, field: string, v: ArgValue): boolean | number {
  const n = v instanceof PyFloat ? v.value : v;
  // symmetric and keep_negative enter the arithmetic (bits - keep_negative, symmetric / m), where any
  // number but 0 and 1 builds an empty or inverted clip range; other flags are read for truthiness only.
  const arithmetic = field === 'symmetric' || field === 'keep_negative';
  if (typeof n === 'boolean' || (typeof n === 'number' && (arithmetic ? n === 0 || n === 1 : Number.isFinite(n)))) return n;
  throw new ConfigError(where, field, v, 'True, False or a number (0/1)');
}

/** Validates an optional integer argument (None or an integer). */
export function readOptionalInt(where: string, field: string, v: ArgValue): number | null {
  if (v === null) return null;
  const n = v instanceof PyFloat ? v.value : v;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  throw new ConfigError(where, field, v, 'None or an integer');
}

/** Keras `K.std(x, axis, keepdims=True)`: the square root of the mean squared deviation from the mean. */
export function stdOver(x: tf.Tensor, axes: readonly number[]): tf.Tensor {
  return tf.tidy(() => tf.sqrt(meanOver(tf.square(tf.sub(x, meanOver(x, axes))), axes)));
}

/** Every axis but the last (channels_last per-channel reduction); every axis for rank <= 1. */
export function allButLastAxis(rank: number): number[] {
  const all = Array.from({ length: rank }, (_, i) => i);
  return rank <= 1 ? all : all.slice(0, -1);
}
