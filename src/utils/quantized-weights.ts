/**
 * `modelSaveQuantizedWeights` (QKeras `model_save_quantized_weights`): quantizes every Q layer's weights,
 * writes the quantized values back into the model (so inference no longer depends on the quantizers for
 * weights), optionally saves the model, and returns per layer the weights in the form hardware needs.
 *
 * QKeras's forms are kept under QKeras's keys: `weights` holds, per weight, the exponent
 * `round(log2|q(w)|)` for power-of-two quantizers, `q(w)·m/m_i` for `quantized_bits(alpha='auto_po2')`
 * (then `scales` holds `scale·m_i/m`), else `q(w)`; `signs` the signs of `quantized_po2` weights (0 → +1).
 * Two additions answer "how do I deploy these": `po2` gives sign (−1/0/+1) and integer exponent for every
 * po2 weight, and `auto_po2` gives integer codes and the per-channel po2 scale with
 * `q(w) = codes · scale` for every weight quantized with `alpha='auto_po2'` (binary and ternary too).
 */
import { existsSync, statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, QKerasError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { inputShapes, layerQuantizers } from './model-graph.js';

/** A dense array with its shape (row-major), as numpy would hold it. */
export interface WeightArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface IntArray {
  readonly shape: readonly number[];
  readonly data: Int32Array;
}

export interface Po2Weight {
  /** −1, +1, or 0 for a zero weight. */
  readonly sign: IntArray;
  /** `log2|w|` (0 where the weight is 0). */
  readonly exponent: IntArray;
}

export interface AutoPo2Weight {
  /** Integer codes: the quantized weight is `codes · scale`. */
  readonly codes: IntArray;
  /** Power-of-two scale per output channel, shaped to broadcast against the weight. */
  readonly scale: WeightArray;
}

/** One layer's entry of the returned dict (QKeras's keys, plus `po2` and `auto_po2`). */
export interface SavedLayerWeights {
  readonly weights: WeightArray[];
  enable_bn_fusing: boolean;
  /**
   * Per weight: `sign(q(w))` with 0 → +1 for po2 weights, null for others; present (as in QKeras) only
   * when the layer has a `quantized_po2` weight.
   */
  signs?: (WeightArray | null)[];
  /** Per weight: `q.scale · m_i / m` for `quantized_bits(alpha='auto_po2')`, null for other weights. */
  scales?: (WeightArray | null)[];
  q_mult_factor?: number;
  mult_factor?: number;
  pool_area?: number;
  fused_bn_layer_name?: string;
  bn_inv?: WeightArray;
  fused_bias?: WeightArray;
  readonly po2: (Po2Weight | null)[];
  readonly auto_po2: (AutoPo2Weight | null)[];
}

export type SavedWeights = Record<string, SavedLayerWeights>;

/** Runs `fn`, disposing every tensor it creates (tf.tidy for results that are not tensors). */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

function toArray(t: tf.Tensor): WeightArray {
  return { shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) };
}

function toInts(shape: readonly number[], values: ArrayLike<number>): IntArray {
  return { shape: shape.slice(), data: Int32Array.from(Array.from(values, (v) => Math.round(v))) };
}

const RNN_CLASSES = ['QSimpleRNN', 'QLSTM', 'QGRU'];
const FOLDED_CLASSES = ['QConv2DBatchnorm', 'QDepthwiseConv2DBatchnorm'];

/** The quantizer of each weight of `layer` (QKeras `get_quantizers()`, RNNs without the state quantizer). */
export function weightQuantizers(layer: tf.layers.Layer): (Quantizer | null)[] | null {
  const qs = layerQuantizers(layer);
  if (qs === null) return null;
  return RNN_CLASSES.includes(layer.getClassName()) ? qs.slice(0, -1) : qs;
}

/** The weights QKeras quantizes for a layer: the folded kernel and bias of a folded conv, else the weights. */
function layerWeightTensors(layer: tf.layers.Layer): tf.Tensor[] {
  const folded = (layer as unknown as { getFoldedWeights?: () => tf.Tensor[] }).getFoldedWeights;
  if (FOLDED_CLASSES.includes(layer.getClassName()) && typeof folded === 'function') return folded.call(layer);
  return layer.getWeights();
}

/**
 * `q(w)` for every weight of a Q layer, quantized in inference mode, as QKeras's software form (what
 * `set_weights` receives); unquantized weights are copied. Null for a layer without quantizers. The
 * layer is not modified, but quantizers with an auto scale remember the scale of this call, as in QKeras.
 */
export function quantizedLayerWeights(layer: tf.layers.Layer): { quantizers: (Quantizer | null)[]; weights: WeightArray[] } | null {
  const qs = weightQuantizers(layer);
  if (qs === null) return null;
  const ws = layerWeightTensors(layer);
  const weights = ws.map((w, i) =>
    scoped(() => {
      const q = qs[i] ?? null;
      return toArray(q === null ? w : q.call(w, { training: false }));
    }),
  );
  return { quantizers: qs.slice(0, weights.length), weights };
}

function isPowerOfTwo(v: number): boolean {
  return v > 0 && Number.isFinite(v) && 2 ** Math.round(Math.log2(v)) === v;
}

/** The scale tensor of an auto_po2 quantizer after its call, checked to be powers of two. */
function autoPo2ScaleOf(q: Quantizer, layer: string): tf.Tensor {
  const s = q.scale;
  if (s === null) throw new QKerasError(`${layer}: the auto_po2 quantizer ${q.toString()} has no scale (it was never called)`);
  const t = s instanceof tf.Tensor ? s.clone() : tf.scalar(s);
  const values = t.dataSync();
  if (!Array.from(values).every(isPowerOfTwo)) {
    t.dispose();
    throw new ConfigError(layer, `scale of ${q.toString()}`, Array.from(values), 'powers of two (an auto_po2 scale)');
  }
  return t;
}

function po2Parts(w: WeightArray): Po2Weight {
  const sign = Array.from(w.data, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0));
  const exponent = Array.from(w.data, (v) => (v === 0 ? 0 : Math.log2(Math.abs(v))));
  return { sign: toInts(w.shape, sign), exponent: toInts(w.shape, exponent) };
}

/** Integer codes and per-channel scale of a weight quantized with an auto_po2 alpha. */
function autoPo2Parts(w: WeightArray, channelScale: tf.Tensor): AutoPo2Weight {
  return scoped(() => {
    const codes = tf.div(tf.tensor(w.data, w.shape as number[]), channelScale);
    return { codes: toInts(w.shape, codes.dataSync()), scale: toArray(channelScale) };
  });
}

/** The entry of one Q layer (weights not yet written back). */
function layerEntry(layer: tf.layers.Layer, quantizers: (Quantizer | null)[], weights: WeightArray[]): SavedLayerWeights {
  const entry: SavedLayerWeights = { weights: [], enable_bn_fusing: false, po2: [], auto_po2: [] };
  const signs: (WeightArray | null)[] = [];
  const scales: (WeightArray | null)[] = [];
  let hasSign = false;
  let hasScale = false;
  weights.forEach((w, i) => {
    const q = quantizers[i] ?? null;
    const name = q?.className ?? '';
    let hw: WeightArray = w;
    let sign: WeightArray | null = null;
    let scale: WeightArray | null = null;
    let po2: Po2Weight | null = null;
    let auto: AutoPo2Weight | null = null;
    const alpha = (q as { alpha?: unknown } | null)?.alpha;
    if (q !== null && name.includes('_po2')) {
      if (name === 'quantized_po2') hasSign = true;
      sign = { shape: w.shape, data: Float32Array.from(w.data, (v) => (v > 0 ? 1 : v < 0 ? -1 : 1)) };
      hw = { shape: w.shape, data: Float32Array.from(w.data, (v) => Math.round(Math.log2(Math.abs(v)))) };
      po2 = po2Parts(w);
    } else if (q !== null && alpha === 'auto_po2') {
      const full = autoPo2ScaleOf(q, layer.name);
      try {
        if (name === 'quantized_bits') {
          const qb = q as unknown as { bits: number; keepNegative: boolean | number; integer: number };
          const m = 2 ** (qb.bits - Number(qb.keepNegative));
          const mi = 2 ** qb.integer;
          hw = { shape: w.shape, data: Float32Array.from(w.data, (v) => Math.fround((v * m) / mi)) };
          const channel = tf.tidy(() => tf.div(tf.mul(full, mi), m));
          scale = toArray(channel);
          hasScale = true;
          auto = autoPo2Parts(w, channel);
          channel.dispose();
        } else {
          // Binary/ternary with auto_po2: q(w) = scale · {−1, 0, +1}; QKeras keeps q(w) as the hw weight.
          auto = autoPo2Parts(w, full);
        }
      } finally {
        full.dispose();
      }
    }
    entry.weights.push(hw);
    signs.push(sign);
    scales.push(scale);
    entry.po2.push(po2);
    entry.auto_po2.push(auto);
  });
  if (hasSign) entry.signs = signs;
  if (hasScale) entry.scales = scales;
  return entry;
}

/** QKeras's pooling fields: the quantized reciprocal of the pool area and the area. */
function poolingFields(layer: tf.layers.Layer, entry: SavedLayerWeights, quantizers: (Quantizer | null)[]): void {
  const cls = layer.getClassName();
  let area: number;
  if (cls === 'QAveragePooling2D') {
    area = ((layer as unknown as { poolSize: number[] }).poolSize).reduce((a, b) => a * b, 1);
  } else if (cls === 'QGlobalAveragePooling2D') {
    const shape = inputShapes(layer)[0] ?? [];
    area = (shape[1] ?? 1) * (shape[2] ?? 1);
  } else {
    return;
  }
  const q = quantizers[0] ?? null;
  // Without an average quantizer the layer divides exactly; QKeras fails there (it calls None).
  entry.q_mult_factor = q === null ? 1 / area : tf.tidy(() => q.call(tf.scalar(1 / area), { training: false }).dataSync()[0]!);
  entry.mult_factor = 1 / area;
  entry.pool_area = area;
}

/** The parts of a QBatchNormalization layer the fusing arithmetic reads. */
interface BatchNormLike {
  readonly scale?: boolean;
  readonly center?: boolean;
  readonly epsilon?: number;
  getQuantizers(): (Quantizer | null)[];
}

/** QKeras `find_bn_fusing_layer_pair`: QConv2D/QDepthwiseConv2D whose only consumer is a QBatchNormalization. */
function bnFusingPairs(model: tf.LayersModel): Map<string, tf.layers.Layer> {
  const consumers = new Map<tf.layers.Layer, tf.layers.Layer[]>();
  for (const l of model.layers) {
    const parents = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes[0]?.inboundLayers ?? [];
    for (const p of parents) consumers.set(p, [...(consumers.get(p) ?? []), l]);
  }
  const pairs = new Map<string, tf.layers.Layer>();
  for (const l of model.layers) {
    const next = consumers.get(l) ?? [];
    const isOutput = model.outputs.some((t) => t.sourceLayer === l);
    if (['QConv2D', 'QDepthwiseConv2D'].includes(l.getClassName()) && next.length === 1 && !isOutput && next[0]!.getClassName() === 'QBatchNormalization') {
      pairs.set(l.name, next[0]!);
    }
  }
  return pairs;
}

/**
 * QKeras `add_bn_fusing_weights`: `inv = inverse_q(gamma_q · rsqrt(var_q + eps))` and
 * `fused_bias = inv · bias + beta_q − inv · mean_q` of a convolution and the batch norm after it.
 */
function addBnFusingWeights(prev: tf.layers.Layer, bn: tf.layers.Layer, entry: SavedLayerWeights): void {
  const b = bn as unknown as BatchNormLike;
  const [gq, bq, mq, vq, iq] = b.getQuantizers();
  if (iq && (gq || vq)) {
    throw new ConfigError(bn.name, 'inverse_quantizer', iq.toString(), 'no gamma or variance quantizer alongside it (a value would be quantized twice)');
  }
  tf.tidy(() => {
    const ws = bn.getWeights();
    const apply = (q: Quantizer | null | undefined, w: tf.Tensor): tf.Tensor => (q ? q.call(w, { training: false }) : w);
    let idx = 0;
    let gamma: tf.Tensor = tf.scalar(1);
    let beta: tf.Tensor = tf.scalar(0);
    if (b.scale ?? true) gamma = apply(gq, ws[idx++]!);
    if (b.center ?? true) beta = apply(bq, ws[idx++]!);
    const mean = apply(mq, ws[idx++]!);
    const variance = apply(vq, ws[idx]!);
    let inv = tf.mul(gamma, tf.rsqrt(tf.add(variance, b.epsilon ?? 1e-3)));
    if (iq) inv = iq.call(inv, { training: false });
    const useBias = (prev as unknown as { useBias?: boolean }).useBias ?? false;
    const prevBias = useBias ? prev.getWeights()[1]! : tf.scalar(0);
    const fused = tf.sub(tf.add(tf.mul(inv, prevBias), beta), tf.mul(inv, mean));
    entry.enable_bn_fusing = true;
    entry.fused_bn_layer_name = bn.name;
    entry.bn_inv = toArray(inv);
    entry.fused_bias = toArray(fused);
  });
}

export interface SaveQuantizedWeightsOptions {
  /** Print QKeras's progress lines (`... quantizing model`, layers not quantized). Default false. */
  readonly verbose?: boolean;
}

const HDF5_FILE = /\.(h5|hdf5)$/i;

/**
 * Quantizes the weights of every Q layer of `model`, writes them back into the model (software form
 * `q(w)`; folded layers excepted, as in QKeras), and returns the per-layer dict described above.
 *
 * `filename`: a `.h5`/`.hdf5` path gets a Keras HDF5 file (`model.save` layout, which Keras's
 * `load_weights` and `importKeras` read); any other path is a directory for `saveQmodel`
 * (`model.json` + `weights.bin`). Both are written atomically.
 */
export async function modelSaveQuantizedWeights(
  model: tf.LayersModel,
  filename?: string,
  options: SaveQuantizedWeightsOptions = {},
): Promise<SavedWeights> {
  const log = (line: string): void => {
    if (options.verbose) console.log(line);
  };
  const pairs = bnFusingPairs(model);
  const fusedBn = new Set([...pairs.values()].map((l) => l.name));
  const saved: SavedWeights = {};
  log('... quantizing model');
  for (const layer of model.layers) {
    const quantized = quantizedLayerWeights(layer);
    if (quantized === null) {
      if (layer.weights.length > 0) log(`  ${layer.name} has not been quantized`);
      continue;
    }
    const entry = layerEntry(layer, quantized.quantizers, quantized.weights);
    if (layer.getClassName() === 'QBatchNormalization' && fusedBn.has(layer.name)) entry.enable_bn_fusing = true;
    poolingFields(layer, entry, weightQuantizers(layer) ?? []);
    saved[layer.name] = entry;
    if (FOLDED_CLASSES.includes(layer.getClassName())) {
      log(`${layer.name}  conv and batchnorm weights cannot be seperately quantized because they will be folded before quantization.`);
    } else if (quantized.weights.length > 0) {
      const tensors = quantized.weights.map((w) => tf.tensor(w.data, w.shape as number[]));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
    const bn = pairs.get(layer.name);
    if (bn !== undefined) {
      log(`Fuse ${layer.name} output with ${bn.name} for hardware inference.`);
      addBnFusingWeights(layer, bn, entry);
    }
  }
  if (filename !== undefined && filename !== '') await saveModelFile(model, filename);
  return saved;
}

async function saveModelFile(model: tf.LayersModel, filename: string): Promise<void> {
  if (HDF5_FILE.test(filename)) {
    const { exportKerasH5 } = await import('../import/export-keras.js');
    await exportKerasH5(model, filename);
    return;
  }
  if (existsSync(filename) && !statSync(filename).isDirectory()) {
    throw new ConfigError('modelSaveQuantizedWeights', 'filename', filename, 'a .h5/.hdf5 file or a directory for model.json + weights.bin');
  }
  const { saveQmodel } = await import('./save-load.js');
  await saveQmodel(model, filename);
}
