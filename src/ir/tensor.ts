/**
 * Values the interpreter passes between nodes: integer codes on the grid of their type (float32 reals
 * only for a model input before its quantizer).
 */
import type { TensorType } from './nodes.js';
import { gridFrac, pow2 } from './fixed.js';

export interface IRTensor {
  readonly shape: readonly number[];
  readonly type: TensorType;
  /** Row-major codes (integers), or float32 reals for a float tensor. */
  readonly data: Float64Array;
}

/** Real values of a tensor: `code · 2^-frac` (exact: a scaling by a power of two). */
export function realValues(t: IRTensor): Float64Array {
  if (t.type.kind === 'float') return Float64Array.from(t.data);
  const scale = pow2(-gridFrac(t.type));
  return t.data.map((c) => c * scale);
}
