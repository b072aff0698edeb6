/**
 * A per-layer listing of the effective quantizers of a model, the quantization counterpart of tfjs's
 * `model.summary()` (which shows only layer names and classes).
 */
import type * as tf from '@tensorflow/tfjs';
import { QLayer } from './q-layer-base.js';

/**
 * One line per layer, `name (Class): kernel=... bias=... activation=...` for Q layers (the quantizers in
 * effect, after the auto-scale default) and `name (Class)` for others; nested models are indented.
 */
export function quantizerSummary(model: { layers: tf.layers.Layer[] }, indent = ''): string {
  const lines: string[] = [];
  for (const layer of model.layers) {
    const head = `${indent}${layer.name} (${layer.getClassName()})`;
    if (layer instanceof QLayer) {
      lines.push(`${head}: ${layer.quantizerSummary()}`);
      continue;
    }
    lines.push(head);
    const nested = (layer as { layers?: unknown }).layers;
    if (Array.isArray(nested)) lines.push(quantizerSummary({ layers: nested as tf.layers.Layer[] }, `${indent}  `));
  }
  return lines.join('\n');
}
