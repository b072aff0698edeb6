/**
 * Value distributions for the report: each layer's weights (the latent float values training updates and
 * the quantized values inference and hardware use) and each layer's outputs on a batch of inputs, as
 * histograms with numpy's binning (`svg-histogram.ts`) plus range and number of distinct values.
 */
import * as tf from '@tensorflow/tfjs';
import { withLearningPhase } from '../quantizers/phase.js';
import { quantizedLayerWeights } from '../utils/quantized-weights.js';
import { outputTensor } from '../utils/model-graph.js';
import { histogram } from './svg-histogram.js';
import type { HistogramData } from './types.js';

/** Distinct values are counted up to this many; beyond it the data is "continuous". */
export const DISTINCT_LIMIT = 256;
const BINS = 25;

/** Histogram and statistics of `values` (non-finite values are left out, as numpy's histogram does). */
export function histogramData(layer: string, what: string, quantizer: string | null, values: ArrayLike<number>): HistogramData {
  const h = histogram(values, BINS);
  let min = Infinity;
  let max = -Infinity;
  let finite = 0;
  const distinct = new Set<number>();
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    finite += 1;
    if (v < min) min = v;
    if (v > max) max = v;
    if (distinct.size <= DISTINCT_LIMIT) distinct.add(v);
  }
  return {
    layer,
    what,
    quantizer,
    edges: h.edges,
    counts: h.counts,
    values: finite,
    min: finite === 0 ? 0 : min,
    max: finite === 0 ? 0 : max,
    distinct: distinct.size > DISTINCT_LIMIT ? null : distinct.size,
  };
}

/** `conv2d_1/kernel` → `kernel`. */
function shortName(variable: string): string {
  return variable.slice(variable.lastIndexOf('/') + 1);
}

/**
 * For every layer with weights: the latent float weights and, for Q layers, the quantized weights (in
 * inference mode). Folded layers (QConv2DBatchnorm) report their folded kernel and bias.
 */
export function weightHistograms(model: tf.LayersModel): HistogramData[] {
  const out: HistogramData[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const names = layer.weights.map((w) => shortName(w.originalName ?? w.name));
    const latent = layer.getWeights();
    latent.forEach((w, i) => out.push(histogramData(layer.name, `${names[i] ?? `weight ${i}`} (float)`, null, w.dataSync())));
    const quantized = quantizedLayerWeights(layer);
    if (quantized === null) continue;
    const sameTensors = quantized.weights.length === latent.length;
    quantized.weights.forEach((w, i) => {
      const q = quantized.quantizers[i] ?? null;
      if (q === null) return; // an unquantized weight is already shown as float
      const name = sameTensors ? names[i] ?? `weight ${i}` : `folded weight ${i}`;
      out.push(histogramData(layer.name, `${name} (quantized)`, q.toString(), w.data));
    });
  }
  return out;
}

/**
 * Each layer's output on `x` (`count` samples of the model's input shape) in inference mode, batch by
 * batch so that the intermediate tensors of a large batch never coexist.
 */
export function activationHistograms(model: tf.LayersModel, x: Float32Array, count: number, batchSize = 50): HistogramData[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (layers.length === 0 || count === 0) return [];
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => outputTensor(l)) });
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  const chunks: Float32Array[][] = layers.map(() => []);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    // Tensors out of tidy, values read after: tidy walks a returned container element by element, which
    // for large typed arrays costs far more than the inference.
    const outputs = tf.tidy(() => {
      const xs = tf.tensor(x.subarray(start * size, (start + n) * size), [n, ...shape]);
      const ys = withLearningPhase(0, () => probe.predict(xs));
      return Array.isArray(ys) ? ys : [ys];
    });
    outputs.forEach((t, i) => chunks[i]!.push(t.dataSync() as Float32Array));
    tf.dispose(outputs);
  }
  return layers.map((l, i) => {
    const parts = chunks[i]!;
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    const q = (l as unknown as { quantizer?: { toString(): string } }).quantizer;
    return histogramData(l.name, 'output', l.getClassName() === 'QActivation' && q !== undefined ? q.toString() : null, all);
  });
}
