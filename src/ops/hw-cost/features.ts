/**
 * The structural quantities a layer's hardware is made of, counted from the same plans the Verilog
 * emitter builds from: adder cells of every multi-operand sum, comparator and multiplexer bits,
 * table and ROM sizes, multiplier partial products, stream control and register bits. LUTs (or
 * generic gates) are a calibrated linear function of these counts (`cost-model.ts`); flip-flops are
 * counted directly.
 */
import { addMacc, emptyMacc, type MaccCells } from './macc.js';

/** Counts whose cost in LUTs (or gates) is calibrated. */
export interface Features extends MaccCells {
  /** Comparator bits against a constant (saturation bounds, thresholds, ternary). */
  cmpc: number;
  /** Comparator bits between two signals (max pooling, argmax). */
  cmpv: number;
  /** 2:1 multiplexer bits on data (saturation results, argmax/max selections, accumulator bases). */
  mux: number;
  /** Table and ROM size in 6-input-LUT units: per output bit, one per 64 entries (at least one). */
  rom: number;
  /** Variable-by-variable multipliers: partial-product bits (average pooling), or the adder bits of a streamed MAC's products. */
  mulpp: number;
  /**
   * The adder bits of a streamed MAC's products whose weights come from a small logic ROM and that
   * read few bits (the input element and the address): kept apart from `mulpp`, as LUT mapping builds
   * such products far tighter than their adders.
   */
  rommul: number;
  /** Line-buffer memory bits read through window ports (bits × read ports). */
  membits: number;
  /** Stream control: counter and position-register bits (incremented and compared each word). */
  ctrl: number;
  /**
   * Adder cells of popcounts (XNOR layers: sums of one-bit operands), kept apart from `fa`..`cpa1`:
   * LUT mapping packs a popcount into 6-input compressors, far tighter than a sum of wide words.
   */
  pop: number;
}

export type FeatureName = keyof Features;

export const FEATURE_NAMES: readonly FeatureName[] = ['fa', 'ha', 'cpa2', 'cpa1', 'cmpc', 'cmpv', 'mux', 'rom', 'mulpp', 'rommul', 'membits', 'ctrl', 'pop'];

export function emptyFeatures(): Features {
  return { ...emptyMacc(), cmpc: 0, cmpv: 0, mux: 0, rom: 0, mulpp: 0, rommul: 0, membits: 0, ctrl: 0, pop: 0 };
}

/** Adds `b` (times `times`) into `a`. */
export function addFeatures(a: Features, b: Partial<Features>, times = 1): void {
  for (const k of FEATURE_NAMES) a[k] += (b[k] ?? 0) * times;
}

/** Adds a sum's adder cells into a feature vector. */
export function addCells(a: Features, cells: MaccCells, times = 1): void {
  if (times === 1) {
    addMacc(a, cells);
    return;
  }
  a.fa += cells.fa * times;
  a.ha += cells.ha * times;
  a.cpa2 += cells.cpa2 * times;
  a.cpa1 += cells.cpa1 * times;
}

/** LUT6 units of a table of `entries` words: one LUT per output bit per 64 entries. */
export function romUnits(entries: number, bits: number): number {
  return bits * Math.max(1, Math.ceil(entries / 64));
}

/**
 * An output whose whole logic cone reads few input bits (`support`): technology mapping may build its
 * `bits` output bits as tables of the inputs instead of the adders and comparators in `features`,
 * whichever is smaller. Only cones of at most `MAX_CONE_SUPPORT` bits are listed.
 */
export interface Cone {
  readonly features: Features;
  readonly support: number;
  readonly bits: number;
  /** How many identical cones. */
  readonly count: number;
  /**
   * The cone's logic after an inner value of `support` bits that it alone depends on (an XNOR row's
   * popcount: the bias, the shift and the requantizer read only the count): that part may become a
   * table of the value's bits instead, the value's own logic staying (`features` of the tail are
   * part of the cone's).
   */
  readonly tail?: { readonly features: Features; readonly support: number };
}

export const MAX_CONE_SUPPORT = 10;

/** 6-input LUTs of `bits` arbitrary functions of `support` inputs. */
export function tableLuts(support: number, bits: number): number {
  return bits * 2 ** Math.max(0, support - 6);
}
