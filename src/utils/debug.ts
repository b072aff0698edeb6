/**
 * `quantizedModelDebug` (QKeras `quantized_model_debug`): runs a sample through the model and prints, for
 * every Q layer, the range of its output (divided by the activation's scale for QActivation), then the
 * range of each of its weights after quantization (the kernel divided by its per-channel scale), then the
 * range of that scale — QKeras's exact text. With `plot`, histograms of each layer's output and quantized
 * kernel are written as SVG files to a folder, as QKeras draws them with matplotlib.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import { histogramSvg } from '../report/svg-histogram.js';
import { writeFileAtomic } from './atomic-file.js';
import { layerQuantizers, outputTensor } from './model-graph.js';
import { pyFormatFloat, pyPadString } from './py-format.js';
import { tidyValues } from './tensor-values.js';

/** The Q layer classes whose outputs are examined (QKeras's `REGISTERED_LAYERS`). */
export const REGISTERED_LAYERS: readonly string[] = [
  'QActivation', 'QAdaptiveActivation', 'QDense', 'QConv1D', 'QConv2D', 'QSeparableConv1D', 'QSeparableConv2D',
  'QDepthwiseConv2D', 'QConv2DTranspose', 'QSimpleRNN', 'QLSTM', 'QGRU', 'QBidirectional', 'QBatchNormalization',
  'QConv2DBatchnorm', 'QDepthwiseConv2DBatchnorm', 'QAveragePooling2D', 'QGlobalAveragePooling2D',
];

const PLOTTED_OUTPUTS = [
  'QConv1D', 'QConv2D', 'QConv2DTranspose', 'QDense', 'QActivation', 'QAdaptiveActivation', 'QSimpleRNN', 'QLSTM',
  'QGRU', 'QBidirectional', 'QSeparableConv1D', 'QSeparableConv2D',
];
const SCALED_KERNELS = [
  'QConv1D', 'QConv2D', 'QConv2DTranspose', 'QDense', 'QSimpleRNN', 'QLSTM', 'QGRU', 'QSeparableConv1D',
  'QSeparableConv2D', 'QConv2DBatchnorm', 'QDepthwiseConv2DBatchnorm',
];
const FOLDED = ['QConv2DBatchnorm', 'QDepthwiseConv2DBatchnorm'];

export interface QuantizedModelDebugOptions {
  /**
   * Write SVG histograms (`<layer>_output.svg`, `<layer>_weights.svg`) to this folder; `true` uses
   * `quantized_model_debug` in the working directory. Default: no plots.
   */
  readonly plot?: boolean | string;
  /** Write the text to stdout as QKeras does (default true); it is returned either way. */
  readonly print?: boolean;
}

const f84 = (v: number): string => pyFormatFloat(v, { sign: ' ', width: 8, precision: 4 });

function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let nan = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nan = true;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // numpy's min/max propagate NaN.
  return nan ? [Number.NaN, Number.NaN] : [lo, hi];
}

/** QKeras `get_weight_scale`: the quantizer's scale after its last call, or 1. */
function scaleOf(q: unknown): tf.Tensor | number {
  if (q instanceof Quantizer && q.scale !== null) return q.scale instanceof tf.Tensor ? q.scale.clone() : q.scale;
  return 1.0;
}

function fileName(layer: string, what: string): string {
  return `${layer.replace(/[^A-Za-z0-9_.-]/g, '_')}_${what}.svg`;
}

/**
 * Prints QKeras's debug table for `model` on the sample `x` and returns the text. See the module comment
 * for the format; `plot` also writes histograms.
 */
export function quantizedModelDebug(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], options: QuantizedModelDebugOptions = {}): string {
  const plotDir = options.plot === true ? 'quantized_model_debug' : typeof options.plot === 'string' ? options.plot : null;
  if (options.plot !== undefined && typeof options.plot !== 'boolean' && typeof options.plot !== 'string') {
    throw new ConfigError('quantizedModelDebug', 'plot', options.plot, 'a boolean or a folder path');
  }
  const plots: Array<{ file: string; values: Float32Array; title: string }> = [];
  const layers = model.layers.filter((l) => REGISTERED_LAYERS.includes(l.getClassName()));
  const xs = Array.isArray(x) ? x : [x];
  const lines: string[] = [];
  const [inLo, inHi] = minMax(Float32Array.from(xs.flatMap((t) => Array.from(t.dataSync()))));
  lines.push(`${pyPadString('input', 30)} ${f84(inLo)} ${f84(inHi)}`);

  let outputs: Float32Array[] = [];
  if (layers.length > 0) {
    const debugModel = tf.model({ inputs: model.inputs, outputs: layers.map(outputTensor) });
    const pred = debugModel.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(pred) ? pred : [pred];
    outputs = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
  }

  layers.forEach((layer, k) => {
    const cls = layer.getClassName();
    const p = outputs[k]!;
    let line = pyPadString(layer.name, 30);
    // The output range is divided by the activation's scale for QActivation given a quantizer object.
    let alpha: tf.Tensor | number = 1.0;
    if (cls === 'QActivation' || cls === 'QAdaptiveActivation') alpha = scaleOf((layer as unknown as { activation: unknown }).activation);
    const divided = alpha === 1.0 ? p : tidyValues(() => tf.div(tf.tensor(p), alpha));
    const [lo, hi] = minMax(divided);
    line += ` ${f84(lo)} ${f84(hi)}`;
    if (alpha !== 1.0) {
      const a = typeof alpha === 'number' ? [alpha] : Array.from(alpha.dataSync());
      if (a.some((v) => v !== 1)) {
        const [alo, ahi] = minMax(a);
        lines.push(`${line} a[${f84(alo)} ${pyFormatFloat(ahi, { width: 8, precision: 4 })}]`);
        line = '';
      }
    }
    if (alpha instanceof tf.Tensor) alpha.dispose();
    if (plotDir !== null && PLOTTED_OUTPUTS.includes(cls)) plots.push({ file: fileName(layer.name, 'output'), values: p, title: `${layer.name}(output)` });

    let kernelScale: tf.Tensor | number | null = null;
    const qs = layerQuantizers(layer);
    const folded = (layer as unknown as { getFoldedWeights?: () => tf.Tensor[] }).getFoldedWeights;
    const weights = FOLDED.includes(cls) && typeof folded === 'function' ? folded.call(layer) : layer.getWeights();
    weights.forEach((w, i) => {
      let values: Float32Array;
      const q = qs?.[i] ?? null;
      if (q !== null) {
        values = tidyValues(() => q.call(w, { training: false }));
        if (i === 0 && SCALED_KERNELS.includes(cls)) {
          const s = scaleOf(q);
          kernelScale = s;
          // Weights of a zero scale stay (multiplied by 0); the others are shown in units of their scale.
          values = tidyValues(() => {
            const t = tf.tensor(values, w.shape);
            const st = typeof s === 'number' ? tf.scalar(s) : s;
            return tf.where(tf.equal(st, 0), tf.mul(t, st), tf.div(t, st));
          });
          if (plotDir !== null) plots.push({ file: fileName(layer.name, 'weights'), values, title: `${layer.name}(weights)` });
        }
      } else {
        values = Float32Array.from(w.dataSync());
      }
      const [wlo, whi] = minMax(values);
      line += ` (${f84(wlo)} ${f84(whi)})`;
    });
    const ks = kernelScale as tf.Tensor | number | null;
    if (ks instanceof tf.Tensor) {
      const [slo, shi] = minMax(ks.dataSync());
      line += ` a(${pyFormatFloat(slo, { sign: ' ', width: 10, precision: 6 })} ${pyFormatFloat(shi, { sign: ' ', width: 10, precision: 6 })})`;
      ks.dispose();
    }
    lines.push(line);
  });

  const text = `${lines.join('\n')}\n`;
  if (plotDir !== null) {
    for (const p of plots) writeFileAtomic(join(plotDir, p.file), histogramSvg(p.values, { title: p.title, bins: 25 }));
  }
  if (options.print ?? true) process.stdout.write(text);
  return text;
}
