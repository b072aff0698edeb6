/**
 * Window geometry shared by convolutions and pooling, with TensorFlow's padding rules: `valid` keeps
 * whole windows, `same` gives `ceil(in / stride)` outputs and pads `floor(total / 2)` cells before,
 * `causal` (Keras Conv1D) pads `(k-1)·dilation` cells before only.
 */
import type { Padding } from '../ir/nodes.js';
import { IRGraphError } from '../ir/errors.js';

export interface AxisGeometry {
  readonly inSize: number;
  readonly outSize: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBefore: number;
}

export function axisGeometry(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
  where: string,
): AxisGeometry {
  for (const [name, v] of [['kernel', kernel], ['stride', stride], ['dilation', dilation]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new IRGraphError(`${where}: ${name} ${v} must be a positive integer`);
  }
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') {
    if (inSize < span) {
      throw new IRGraphError(`${where}: input size ${inSize} is smaller than the window span ${span} with padding valid`);
    }
    return { inSize, outSize: Math.floor((inSize - span) / stride) + 1, kernel, stride, dilation, padBefore: 0 };
  }
  if (padding === 'causal') {
    return { inSize, outSize: Math.floor((inSize - 1) / stride) + 1, kernel, stride, dilation, padBefore: span - 1 };
  }
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + span - inSize, 0);
  return { inSize, outSize, kernel, stride, dilation, padBefore: Math.floor(total / 2) };
}

/** Number of window cells of output position `o` that fall inside the input. */
export function validCells(g: AxisGeometry, o: number): number {
  let n = 0;
  for (let k = 0; k < g.kernel; k += 1) {
    const i = o * g.stride - g.padBefore + k * g.dilation;
    if (i >= 0 && i < g.inSize) n += 1;
  }
  return n;
}

/** The distinct products of valid-cell counts over all output positions (window sizes that occur). */
export function windowCounts(axes: readonly AxisGeometry[]): number[] {
  let counts = new Set<number>([1]);
  for (const g of axes) {
    const here = new Set<number>();
    for (let o = 0; o < g.outSize; o += 1) here.add(validCells(g, o));
    const next = new Set<number>();
    for (const a of counts) for (const b of here) next.add(a * b);
    counts = next;
  }
  return [...counts].sort((a, b) => a - b);
}
