/**
 * What the weight-layer families share: static checks of weight quantizers (a kernel must be quantized,
 * and every weight quantizer must have an exact fixed-point form) and reading a layer's quantized bias.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/base.js';
import type { IntVector } from '../ir/nodes.js';
import { weightQuantizerProblem } from './quantizers.js';
import { constantVector, quantizedValues } from './weights.js';

/** One weight slot of a layer: its QKeras argument name, its quantizer, and whether one is required. */
export interface WeightSlot {
  readonly field: string;
  readonly quantizer: Quantizer | null;
  readonly required: boolean;
  /** Why a quantizer is required (added to the message), e.g. "the folded bias is a float32 value". */
  readonly why?: string;
}

/** Problems of a layer's weight quantizers, each with its fix. */
export function weightSlotProblems(slots: readonly WeightSlot[]): string[] {
  const out: string[] = [];
  for (const s of slots) {
    if (s.quantizer === null) {
      if (s.required) {
        out.push(
          `${s.field} has no quantizer, so ${s.why ?? 'its weights are full-precision float32 values'} with no short ` +
            `fixed-point form; give ${s.field} a quantizer (e.g. quantized_bits(4,0,1))`,
        );
      }
      continue;
    }
    const p = weightQuantizerProblem(s.quantizer, s.field);
    if (p !== null) out.push(p);
  }
  return out;
}

/** The quantized bias of a layer (`q(bias)` as tfjs adds it), or null without a bias. */
export function layerBias(bias: tf.LayerVariable | null, q: Quantizer | null): IntVector | null {
  if (bias === null) return null;
  return constantVector(quantizedValues(q, bias.read()));
}
