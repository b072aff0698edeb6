/**
 * Weight and constant helpers: integer codes per output channel, alignment to an accumulator grid, exact
 * construction from the float32 values tfjs computes, and the accumulator bound that proves widths.
 */
import type { IntVector, IntWeights, MacNode, Po2Weights, QuantMode, Weights } from './nodes.js';
import { outChannels } from './nodes.js';
import { assertSafeInt, pow2, range, scaleRange, toDyadic, type Range } from './fixed.js';
import { IRGraphError } from './errors.js';

/** Integer codes with one exponent per output channel; po2 weights become `sign · 2^(e - minExp_c)`. */
export interface ChannelCodes {
  readonly codes: readonly number[];
  readonly exps: readonly number[];
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Per-channel integer view of any weight tensor (po2 weights aligned to each channel's smallest exponent). */
export function channelCodes(kind: MacNode['kind'], w: Weights): ChannelCodes {
  if (w.kind === 'int') return w;
  const channels = outChannels(kind, w.shape);
  const minExp = new Array<number>(channels).fill(Infinity);
  w.signs.forEach((s, i) => {
    if (s !== 0) minExp[i % channels] = Math.min(minExp[i % channels]!, w.exps[i]!);
  });
  const exps = minExp.map((e) => (e === Infinity ? 0 : e));
  const codes = w.signs.map((s, i) => {
    if (s === 0) return 0;
    const c = s * pow2(w.exps[i]! - exps[i % channels]!);
    assertSafeInt(c, 'po2 weight code');
    return c;
  });
  return { codes, exps };
}

/** Whether an output channel has at least one nonzero weight. */
function liveChannels(channels: number, codes: readonly number[]): boolean[] {
  const live = new Array<boolean>(channels).fill(false);
  codes.forEach((c, i) => {
    if (c !== 0) live[i % channels] = true;
  });
  return live;
}

/**
 * The natural accumulator grid of a MAC node for an input on `2^-inFrac`: fine enough for every product
 * (`inFrac - e_c` per live channel) and for the bias. Channels without nonzero weights do not count.
 */
export function macFrac(node: MacNode, inFrac: number): number {
  const { codes, exps } = channelCodes(node.kind, node.weights);
  const live = liveChannels(exps.length, codes);
  let frac = -Infinity;
  exps.forEach((e, c) => {
    if (live[c]) frac = Math.max(frac, inFrac - e);
  });
  if (node.bias !== null && node.bias.codes.some((c) => c !== 0)) frac = Math.max(frac, -node.bias.exp);
  return frac === -Infinity ? inFrac : frac;
}

/** Weights and bias as integers on the accumulator grid `2^-accFrac`. */
export interface AlignedMac {
  readonly accFrac: number;
  readonly channels: number;
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/** Aligns weights and bias to the accumulator grid; throws if the grid is too coarse to hold them exactly. */
export function alignMac(node: MacNode, inFrac: number, accFrac: number): AlignedMac {
  const { codes, exps } = channelCodes(node.kind, node.weights);
  const channels = exps.length;
  const weights = new Float64Array(codes.length);
  const shifts = exps.map((e) => accFrac + e - inFrac);
  codes.forEach((c, i) => {
    if (c === 0) return;
    const s = shifts[i % channels]!;
    if (s < 0) {
      throw new IRGraphError(`%${node.id}: the accumulator grid 2^-${accFrac} is coarser than its products need`);
    }
    const v = c * pow2(s);
    assertSafeInt(v, `%${node.id} aligned weight`);
    weights[i] = v;
  });
  const bias = new Float64Array(channels);
  if (node.bias !== null) {
    const s = accFrac + node.bias.exp;
    node.bias.codes.forEach((b, i) => {
      if (b === 0) return;
      if (s < 0) throw new IRGraphError(`%${node.id}: the accumulator grid 2^-${accFrac} is coarser than the bias`);
      const v = b * pow2(s);
      assertSafeInt(v, `%${node.id} aligned bias`);
      bias[i] = v;
    });
  }
  return { accFrac, channels, weights, bias };
}

/**
 * Exact per-channel range of the accumulator (sum of products plus bias) for inputs in `x`, counting every
 * weight of the channel (so it also covers windows clipped by padding, whose cells contribute 0).
 */
export function macChannelRanges(aligned: AlignedMac, x: Range): Range[] {
  const lo = new Array<bigint>(aligned.channels).fill(0n);
  const hi = new Array<bigint>(aligned.channels).fill(0n);
  aligned.weights.forEach((w, i) => {
    if (w === 0) return;
    const r = scaleRange(BigInt(w), x);
    const c = i % aligned.channels;
    lo[c] = lo[c]! + r.lo;
    hi[c] = hi[c]! + r.hi;
  });
  return lo.map((l, c) => range(l + BigInt(aligned.bias[c]!), hi[c]! + BigInt(aligned.bias[c]!)));
}

/** Sum of |w| per channel on the aligned grid (what float32 must hold, times max|x|). */
export function macChannelAbsSums(aligned: AlignedMac): bigint[] {
  const sums = new Array<bigint>(aligned.channels).fill(0n);
  aligned.weights.forEach((w, i) => {
    const c = i % aligned.channels;
    sums[c] = sums[c]! + BigInt(Math.abs(w));
  });
  return sums;
}

// ---- construction from float values (what lowering reads from tfjs) -----------------------------------

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i += 1) {
    if (!Number.isFinite(values[i]!)) throw new IRGraphError(`${what}: value ${values[i]} at index ${i} is not finite`);
  }
}

/**
 * Integer weights from exact dyadic values (the float32 weights tfjs computes after the quantizer): each
 * output channel gets the largest exponent that keeps every code an integer, so an auto_po2 channel scale
 * becomes part of the exponent and codes stay as small as the quantizer made them.
 */
export function intWeightsFromValues(
  kind: MacNode['kind'],
  values: ArrayLike<number>,
  shape: readonly number[],
  quant: QuantMode,
): IntWeights {
  if (values.length !== numel(shape)) {
    throw new IRGraphError(`weights: ${values.length} values do not fill the shape [${shape.join(', ')}]`);
  }
  checkFinite(values, 'weights');
  const channels = outChannels(kind, shape);
  const exps = new Array<number>(channels).fill(Infinity);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v !== 0) exps[i % channels] = Math.min(exps[i % channels]!, toDyadic(v).exp);
  }
  const finalExps = exps.map((e) => (e === Infinity ? 0 : e));
  const codes = Array.from({ length: values.length }, (_, i) => {
    const c = values[i]! * pow2(-finalExps[i % channels]!);
    assertSafeInt(c, 'weight code');
    return c + 0;
  });
  return { kind: 'int', shape: [...shape], codes, exps: finalExps, quant };
}

/** po2 weights from values that are all `±2^e` (or 0); throws naming the first value that is not. */
export function po2WeightsFromValues(values: ArrayLike<number>, shape: readonly number[], quant: QuantMode): Po2Weights {
  if (values.length !== numel(shape)) {
    throw new IRGraphError(`weights: ${values.length} values do not fill the shape [${shape.join(', ')}]`);
  }
  checkFinite(values, 'po2 weights');
  const signs: (-1 | 0 | 1)[] = [];
  const exps: number[] = [];
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v === 0) {
      signs.push(0);
      exps.push(0);
      continue;
    }
    const d = toDyadic(v);
    if (Math.abs(d.code) !== 1) {
      throw new IRGraphError(`po2 weights: value ${v} at index ${i} is not a signed power of two`);
    }
    signs.push(d.code > 0 ? 1 : -1);
    exps.push(d.exp);
  }
  return { kind: 'po2', shape: [...shape], signs, exps, quant };
}

/** A constant vector from exact dyadic values, on the coarsest grid that holds all of them. */
export function vectorFromValues(values: ArrayLike<number>): IntVector {
  checkFinite(values, 'constant vector');
  let exp = Infinity;
  for (let i = 0; i < values.length; i += 1) {
    if (values[i] !== 0) exp = Math.min(exp, toDyadic(values[i]!).exp);
  }
  if (exp === Infinity) exp = 0;
  const codes = Array.from({ length: values.length }, (_, i) => {
    const c = values[i]! * pow2(-exp);
    assertSafeInt(c, 'constant code');
    return c + 0;
  });
  return { codes, exp };
}

/** Real values of a constant vector. */
export function vectorValues(v: IntVector): number[] {
  return v.codes.map((c) => c * pow2(v.exp));
}

/** Real value of every weight (for references and reports). */
export function weightValues(kind: MacNode['kind'], w: Weights): number[] {
  const { codes, exps } = channelCodes(kind, w);
  return codes.map((c, i) => c * pow2(exps[i % exps.length]!));
}

/** Number of nonzero weights. */
export function nonzeroCount(w: Weights): number {
  return w.kind === 'int' ? w.codes.filter((c) => c !== 0).length : w.signs.filter((s) => s !== 0).length;
}

/** The smallest signed width holding every weight code (for cost). */
export function weightCodeBits(kind: MacNode['kind'], w: Weights): number {
  const { codes } = channelCodes(kind, w);
  let m = 0;
  for (const c of codes) m = Math.max(m, c < 0 ? -c - 1 : c);
  return Math.max(1, Math.ceil(Math.log2(m + 1))) + (codes.some((c) => c < 0) ? 1 : 0);
}

/** Removes common factors of two per output channel (same values, smallest codes). */
export function normalizeIntWeights(kind: MacNode['kind'], w: IntWeights): IntWeights {
  const channels = outChannels(kind, w.shape);
  const exps = [...w.exps];
  const codes = [...w.codes];
  for (let c = 0; c < channels; c += 1) {
    let shift = 0;
    const live: number[] = [];
    for (let i = c; i < codes.length; i += channels) if (codes[i] !== 0) live.push(codes[i]!);
    if (live.length === 0) continue;
    while (live.every((v) => (v / pow2(shift + 1)) % 1 === 0)) shift += 1;
    if (shift === 0) continue;
    for (let i = c; i < codes.length; i += channels) codes[i] = codes[i]! / pow2(shift) + 0;
    exps[c] = exps[c]! + shift;
  }
  return { ...w, codes, exps };
}
