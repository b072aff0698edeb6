/**
 * Weight sparsity: `printModelSparsity` (QKeras `print_model_sparsity`: the fraction of exact zeros in
 * each prunable weight, as stored) and `getModelSparsity` (QKeras `get_model_sparsity`: the fraction of
 * zeros among the *quantized* weights and biases of the weight layers).
 *
 * QKeras's `get_model_sparsity` first runs `model_save_quantized_weights`, overwriting the model's
 * weights with their quantized values; here the quantized values are computed without touching the model.
 */
import * as tf from '@tensorflow/tfjs';
import { layerQuantizers } from './model-graph.js';
import { pyFloatStr } from './py-format.js';
import { quantizedLayerWeights } from './quantized-weights.js';

/** QKeras's default `allow_list` of `get_model_sparsity`. */
export const DEFAULT_SPARSITY_ALLOW_LIST: readonly string[] = [
  'QDense', 'Dense', 'QConv1D', 'Conv1D', 'QConv2D', 'Conv2D',
  'QDepthwiseConv2D', 'DepthwiseConv2D',
  'QSeparableConv1D', 'SeparableConv1D',
  'QSeparableConv2D', 'SeparableConv2D', 'QOctaveConv2D',
  'QSimpleRNN', 'RNN', 'QLSTM', 'QGRU',
  'QConv2DTranspose', 'Conv2DTranspose',
  'QConv2DBatchnorm', 'QDepthwiseConv2DBatchnorm',
];

export interface SparsityOptions {
  /** Layer classes to include (QKeras's `allow_list`); only layers with quantizers are counted. */
  readonly allowList?: readonly string[];
}

export interface ModelSparsity {
  /** Fraction of zeros over all counted weights (0 when none is counted). */
  readonly total: number;
  /** `[layer name, fraction of zeros]` per counted layer, in model order. */
  readonly perLayer: readonly (readonly [string, number])[];
}

/** QKeras `get_model_sparsity(model, per_layer=True)`, without modifying the model. */
export function getModelSparsity(model: tf.LayersModel, options: SparsityOptions = {}): ModelSparsity {
  const allow = options.allowList ?? DEFAULT_SPARSITY_ALLOW_LIST;
  const perLayer: [string, number][] = [];
  let zeros = 0;
  let count = 0;
  for (const layer of model.layers) {
    // QKeras counts layers that have `quantizers` (the Q layers) and are allow-listed.
    if (!allow.includes(layer.getClassName()) || layerQuantizers(layer) === null) continue;
    const q = quantizedLayerWeights(layer)!;
    let z = 0;
    let n = 0;
    for (const w of q.weights) {
      for (const v of w.data) if (v === 0) z++;
      n += w.data.length;
    }
    perLayer.push([layer.name, n === 0 ? Number.NaN : z / n]);
    zeros += z;
    count += n;
  }
  return { total: count === 0 ? 0 : zeros / count, perLayer };
}

/** The weights QKeras's pruning API prunes, per layer class (tfmot's registry and the Q layers' lists). */
const PRUNABLE: Readonly<Record<string, readonly string[]>> = {
  QDense: ['kernel'],
  QConv1D: ['kernel'],
  QConv2D: ['kernel'],
  QConv2DTranspose: ['kernel'],
  QDepthwiseConv2D: ['depthwise_kernel'],
  QSeparableConv1D: ['depthwise_kernel', 'pointwise_kernel'],
  QSeparableConv2D: ['depthwise_kernel', 'pointwise_kernel'],
  Dense: ['kernel'],
  Conv1D: ['kernel'],
  Conv2D: ['kernel'],
  Conv2DTranspose: ['kernel'],
  DepthwiseConv2D: ['depthwise_kernel'],
  SeparableConv1D: ['pointwise_kernel'],
  SeparableConv2D: ['pointwise_kernel'],
  Embedding: ['embeddings'],
};

export interface PrintOptions {
  /** Write the text to stdout as QKeras does (default true); the text is returned either way. */
  readonly print?: boolean;
}

/**
 * QKeras `print_model_sparsity`: `Model Sparsity Summary (<name>)`, `--`, then per prunable layer
 * `<layer>: (<weight>:0, <fraction of zeros>)` of the stored (unquantized) weights, then two empty lines.
 * Weight names get Keras's `:0` suffix so the lines read as in QKeras.
 */
export function printModelSparsity(model: tf.LayersModel, options: PrintOptions = {}): string {
  const lines = [`Model Sparsity Summary (${model.name})`, '--'];
  for (const layer of model.layers) {
    const names = PRUNABLE[layer.getClassName()];
    if (names === undefined || names.length === 0) continue;
    const parts: string[] = [];
    for (const w of layer.weights) {
      const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      if (!names.includes(short)) continue;
      const values = w.read().dataSync();
      let nonzero = 0;
      for (const v of values) if (v !== 0) nonzero++;
      parts.push(`(${w.originalName}:0, ${pyFloatStr(1.0 - nonzero / values.length)})`);
    }
    if (parts.length > 0) lines.push(`${layer.name}: ${parts.join(', ')}`);
  }
  const text = `${lines.join('\n')}\n\n\n`;
  if (options.print ?? true) process.stdout.write(text);
  return text;
}
