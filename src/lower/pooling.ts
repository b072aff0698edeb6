/**
 * Pooling layers. MaxPooling1D/2D → maxpool; GlobalMaxPooling1D/2D → maxpool over the whole input and a
 * reshape. AveragePooling1D/2D → avgpool (window counts must make the average dyadic); QAveragePooling2D
 * → avgpool with `preScale` = area and `mult` = q(1/area) when it has an average quantizer (tfjs computes
 * `avgpool(x·area)·q(1/area)`). GlobalAveragePooling1D/2D (tf.mean) → globalavgpool dividing by the cell
 * count; QGlobalAveragePooling2D with an average quantizer → the sum times q(1/cells).
 */
import * as tf from '@tensorflow/tfjs';
import { QAveragePooling2D, QGlobalAveragePooling2D } from '../layers/q-pooling.js';
import type { Dyadic, Padding } from '../ir/nodes.js';
import { toDyadic } from '../ir/fixed.js';
import type { Quantizer } from '../quantizers/base.js';
import type { LayerLowering, LowerContext } from './context.js';
import { weightQuantizerProblem } from './quantizers.js';

interface PoolConfig {
  readonly poolSize?: number | number[];
  readonly strides?: number | number[] | null;
  readonly padding?: string;
}

function list(v: number | number[] | null | undefined, rank: number, dflt: number[]): number[] {
  if (v === undefined || v === null) return dflt;
  return typeof v === 'number' ? new Array<number>(rank).fill(v) : v;
}

/** Pool size, strides and padding of a Keras pooling layer (rank 1 or 2). */
function poolGeometry(layer: tf.layers.Layer, rank: number): { pool: number[]; strides: number[]; padding: Padding } {
  const c = layer.getConfig() as PoolConfig;
  const pool = list(c.poolSize, rank, new Array<number>(rank).fill(2));
  return { pool, strides: list(c.strides, rank, pool), padding: (c.padding ?? 'valid') as Padding };
}

/** The quantized reciprocal `q(1/area)` exactly as the Q pooling layers compute it in float32. */
function quantizedReciprocal(q: Quantizer, area: number): Dyadic {
  const v = tf.tidy(() => q.call(tf.scalar(1 / area), { training: false }).dataSync()[0]!);
  return toDyadic(v);
}

function averageProblems(layer: tf.layers.Layer, ctx: LowerContext, q: Quantizer | null, activation: Quantizer | null): string[] {
  const out: string[] = [];
  if (q !== null) {
    const p = weightQuantizerProblem(q, 'average_quantizer');
    if (p !== null) out.push(p);
  }
  const a = ctx.activationProblem(layer, activation);
  if (a !== null) out.push(a);
  return out;
}

export function maxPooling(rank: 1 | 2): LayerLowering {
  return {
    check: () => [],
    lower(layer, inputs, ctx) {
      const g = poolGeometry(layer, rank);
      return ctx.builder.maxpool(inputs[0]!, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), ...g });
    },
  };
}

export const globalMaxPooling: LayerLowering = {
  check: () => [],
  lower(layer, inputs, ctx) {
    const x = inputs[0]!;
    const shape = ctx.shapeOf(x);
    const spatial = shape.slice(0, -1);
    const m = ctx.builder.maxpool(x, { id: ctx.freshId(`${layer.name}_pool`), origin: ctx.origin(layer), pool: spatial, strides: spatial, padding: 'valid' });
    return ctx.builder.reshape(m, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), shape: [shape[shape.length - 1]!] });
  },
};

export function averagePooling(rank: 1 | 2): LayerLowering {
  return {
    check: () => [],
    lower(layer, inputs, ctx) {
      const g = poolGeometry(layer, rank);
      return ctx.builder.avgpool(inputs[0]!, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), ...g });
    },
  };
}

export const qAveragePooling2D: LayerLowering = {
  check(layer, ctx) {
    const l = layer as QAveragePooling2D;
    return averageProblems(layer, ctx, l.averageQuantizer, l.activation);
  },
  lower(layer, inputs, ctx) {
    const l = layer as QAveragePooling2D;
    const pool = l.poolSize.slice();
    const area = pool[0]! * pool[1]!;
    const q = l.averageQuantizer;
    const y = ctx.builder.avgpool(inputs[0]!, {
      id: ctx.freshId(layer.name),
      origin: ctx.origin(layer),
      pool,
      strides: l.strides.slice(),
      padding: l.padding as Padding,
      ...(q === null ? {} : { preScale: area, mult: quantizedReciprocal(q, area) }),
    });
    return ctx.activation(layer, l.activation, y);
  },
};

export const globalAveragePooling: LayerLowering = {
  check: () => [],
  lower(layer, inputs, ctx) {
    const x = inputs[0]!;
    const cells = ctx.shapeOf(x).slice(0, -1).reduce((a, b) => a * b, 1);
    return ctx.builder.globalAvgPool(x, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), divisor: cells });
  },
};

export const qGlobalAveragePooling2D: LayerLowering = {
  check(layer, ctx) {
    const l = layer as QGlobalAveragePooling2D;
    return averageProblems(layer, ctx, l.averageQuantizer, l.activation);
  },
  lower(layer, inputs, ctx) {
    const l = layer as QGlobalAveragePooling2D;
    const x = inputs[0]!;
    const shape = ctx.shapeOf(x);
    const cells = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const q = l.averageQuantizer;
    const base = l.keepdims ? `${layer.name}_sum` : layer.name;
    const g = ctx.builder.globalAvgPool(x, {
      id: ctx.freshId(base),
      origin: ctx.origin(layer),
      ...(q === null ? { divisor: cells } : { divisor: 1, mult: quantizedReciprocal(q, cells) }),
    });
    const act = ctx.activation(layer, l.activation, g);
    if (!l.keepdims) return act;
    const y = ctx.builder.reshape(act, { id: ctx.freshId(layer.name), origin: ctx.origin(layer), shape: [1, 1, shape[shape.length - 1]!] });
    if (ctx.softmax !== null && ctx.softmax.logits === g) ctx.softmax = { ...ctx.softmax, logits: y };
    return y;
  },
};
