/**
 * QKeras's `estimate.py`: `extractModelOperations` classifies the multiply of every MAC layer (QDense,
 * QConv1D, QConv2D, QDepthwiseConv2D, QSeparableConv1D/2D) by its weight and input quantizers — mult,
 * barrel, mux, adder, xor, fmult, through the one table in `classify.ts` — and counts its operations,
 * weights and biases; `printQstats` prints QKeras's report.
 *
 * The input quantizer of a layer is found as QKeras's `create_activation_cache` does: model inputs are
 * assumed 8-bit unsigned (`quantized_relu(8,0)`), QActivation gives its quantizer, QDense/QConv1D/QConv2D/
 * QDepthwiseConv2D their activation (none = float), every other layer forwards its first input's.
 *
 * Two differences from QKeras: nothing here writes to the model (QKeras's `print_qstats` overwrites the
 * weights with their quantized values on its way to the sparsity section), and a layer that cannot be
 * classified (a quantizer or activation outside QKeras's table, e.g. `quantized_linear` or a Keras `relu`)
 * is listed with the reason instead of aborting the whole report.
 */
import * as tf from '@tensorflow/tfjs';
import { QKerasError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import { allLayers, inputShapes, layerQuantizers, outputShape, parentLayers, type Shape } from '../utils/model-graph.js';
import { pyFormatFloat, pyPadInt, pyPadString } from '../utils/py-format.js';
import { getModelSparsity, type PrintOptions } from '../utils/sparsity.js';
import { MODE_INDEX, getOpType, opName, quantModeOf, type OpType } from './classify.js';
import type { QuantMode } from '../ir/nodes.js';

/** QKeras's `(mode, bits, sign)` tuple of `get_quant_mode`, mode as QKeras's number (0 fixed ... 5 float). */
export type QuantModeTuple = readonly [mode: number, bits: number, sign: number];

export interface LayerOperations {
  readonly layerClass: string;
  /** QKeras's `type`: `(op, (w_mode, x_mode), (w_bits, x_bits), (w_sign, x_sign))`. */
  readonly type: readonly [op: OpType, modes: readonly [number, number], bits: readonly [number, number], signs: readonly [number, number]];
  /** The printed op name, e.g. `smux_1_8`. */
  readonly opName: string;
  readonly numberOfOperations: number;
  /** One count, or `[depthwise, pointwise]` for separable layers. */
  readonly numberOfWeights: number | readonly number[];
  readonly numberOfBias: number;
  readonly typeOfWeights: QuantModeTuple | readonly QuantModeTuple[];
  readonly typeOfBias: QuantModeTuple;
}

export interface UnclassifiedLayer {
  readonly name: string;
  readonly layerClass: string;
  readonly reason: string;
}

export interface ModelOperations {
  /** Per classified MAC layer, by layer name (model order). */
  readonly layers: Readonly<Record<string, LayerOperations>>;
  /** MAC layers QKeras's table cannot classify, with the reason. */
  readonly unclassified: readonly UnclassifiedLayer[];
}

const MAC_CLASSES = ['QDense', 'QConv2D', 'QConv1D', 'QDepthwiseConv2D', 'QSeparableConv1D', 'QSeparableConv2D'];
/**
 * QKeras first unfolds the folded convolutions (`unfold_model`): they are counted as the plain layer,
 * with a bias per output channel.
 */
const UNFOLDED: Readonly<Record<string, string>> = { QConv2DBatchnorm: 'QConv2D', QDepthwiseConv2DBatchnorm: 'QDepthwiseConv2D' };
/** Layers whose output quantizer is their activation (QKeras's list; others forward their input's). */
const ACTIVATION_OUTPUT = ['QDense', 'QConv2D', 'QConv1D', 'QDepthwiseConv2D', ...Object.keys(UNFOLDED)];

function tuple(m: QuantMode): QuantModeTuple {
  return [MODE_INDEX[m.mode], m.bits, m.signed ? 1 : 0];
}

/** QKeras `get_quant_mode` of a quantizer object (null = float). */
function modeOf(q: Quantizer | null): QuantMode {
  if (q === null) return quantModeOf(null);
  const fields = q as unknown as { bits?: number; integer?: number };
  return quantModeOf(q.className, { bits: fields.bits, integer: fields.integer });
}

/** What flows out of a layer for classification: a quantizer (null = float) and the layer it comes from. */
interface CacheEntry {
  readonly quantizer: Quantizer | null;
  readonly from: string;
}

/** QKeras `create_activation_cache`, keyed by layer (each layer's first output). */
function activationCache(model: tf.LayersModel): Map<tf.layers.Layer, CacheEntry> {
  const inputQuantizer = getQuantizer('quantized_relu(8,0)');
  const cache = new Map<tf.layers.Layer, CacheEntry>();
  for (const l of allLayers(model)) {
    const cls = l.getClassName();
    if (cls === 'InputLayer') {
      cache.set(l, { quantizer: inputQuantizer, from: `${l.name} (model input, assumed 8-bit unsigned)` });
    } else if (cls === 'QActivation' || cls === 'QAdaptiveActivation') {
      cache.set(l, { quantizer: (l as unknown as { quantizer: Quantizer }).quantizer, from: l.name });
    } else if (ACTIVATION_OUTPUT.includes(cls)) {
      const a = (l as unknown as { activation: Quantizer | null }).activation;
      cache.set(l, { quantizer: a instanceof Quantizer ? a : null, from: `${l.name}'s activation` });
    } else {
      const first = parentLayers(l)[0];
      const entry = first === undefined ? undefined : cache.get(first);
      if (entry !== undefined) cache.set(l, entry);
    }
  }
  return cache;
}

function prod(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

function counts(layer: tf.layers.Layer, cls: string, inShape: Shape, outShape: Shape): {
  ops: number;
  weights: number | number[];
  bias: number;
} {
  const w = layer.weights.map((v) => v.shape as number[]);
  const kernel = w[0] ?? [];
  const ci = inShape[inShape.length - 1] ?? 1;
  const co = outShape[outShape.length - 1] ?? 1;
  const biasOf = (i: number): number => (w.length > i ? w[i]![0]! : 0);
  switch (cls) {
    case 'QConv2D': {
      const [kh, kw] = kernel as [number, number];
      return { ops: (outShape[1] ?? 1) * (outShape[2] ?? 1) * co * kh * kw * ci, weights: kh * kw * co * ci, bias: biasOf(1) };
    }
    case 'QConv1D': {
      const k = kernel[0]!;
      return { ops: (outShape[1] ?? 1) * co * k * ci, weights: k * co * ci, bias: biasOf(1) };
    }
    case 'QDepthwiseConv2D': {
      const [kh, kw] = kernel as [number, number];
      return { ops: kh * kw * (outShape[1] ?? 1) * (outShape[2] ?? 1) * ci, weights: kh * kw * co * ci, bias: biasOf(1) };
    }
    case 'QSeparableConv1D': {
      const k = kernel[0]!;
      const t = outShape[1] ?? 1;
      return { ops: k * t * ci + t * co, weights: [k * ci, co * ci], bias: biasOf(2) };
    }
    case 'QSeparableConv2D': {
      const [kh, kw] = kernel as [number, number];
      const hw = (outShape[1] ?? 1) * (outShape[2] ?? 1);
      return { ops: kh * kw * hw * ci + hw * co, weights: [kh * kw * ci, co * ci], bias: biasOf(2) };
    }
    case 'QDense': {
      // QKeras requires one non-1 input dimension and multiplies it by the units; prod() equals that there
      // and counts the real multiplies for inputs of higher rank.
      return { ops: prod(inShape.slice(1)) * co, weights: ci * co, bias: biasOf(1) };
    }
    default:
      throw new QKerasError(`extractModelOperations: ${cls} is not a MAC layer`);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * QKeras `extract_model_operations`: for every MAC layer its operation type, counts and weight types.
 * Layers that cannot be classified are returned in `unclassified` instead of raising.
 */
export function extractModelOperations(model: tf.LayersModel): ModelOperations {
  const cache = activationCache(model);
  const layers: Record<string, LayerOperations> = {};
  const unclassified: UnclassifiedLayer[] = [];
  for (const layer of model.layers) {
    const layerClass = layer.getClassName();
    const cls = UNFOLDED[layerClass] ?? layerClass;
    if (!MAC_CLASSES.includes(cls)) continue;
    const fail = (reason: string): void => {
      unclassified.push({ name: layer.name, layerClass, reason });
    };
    const qs = layerQuantizers(layer) ?? [];
    const parent = parentLayers(layer)[0];
    const input = parent === undefined ? undefined : cache.get(parent);
    if (input === undefined) {
      fail('the quantizer of its input is unknown');
      continue;
    }
    let weight: QuantMode;
    let x: QuantMode;
    let weightTypes: QuantModeTuple | QuantModeTuple[];
    let biasType: QuantModeTuple;
    try {
      weight = modeOf(qs[0] ?? null);
      const separable = cls.startsWith('QSeparable');
      weightTypes = separable ? [tuple(weight), tuple(modeOf(qs[1] ?? null))] : tuple(weight);
      biasType = tuple(modeOf(qs[separable ? 2 : 1] ?? null));
    } catch (e) {
      fail(`its weight/bias quantizers cannot be classified: ${message(e)}`);
      continue;
    }
    try {
      x = modeOf(input.quantizer);
    } catch (e) {
      fail(`its input quantizer ${input.quantizer?.toString() ?? 'None'} (from ${input.from}) cannot be classified: ${message(e)}`);
      continue;
    }
    if (layer.weights.length === 0) {
      fail('the layer is not built (it has no weights yet)');
      continue;
    }
    const op = getOpType(weight.mode, x.mode);
    const out = outputShape(layer);
    const c = counts(layer, cls, inputShapes(layer)[0] ?? [], out);
    if (layerClass !== cls) c.bias = out[out.length - 1] ?? 0;
    layers[layer.name] = {
      layerClass,
      type: [op, [MODE_INDEX[weight.mode], MODE_INDEX[x.mode]], [weight.bits, x.bits], [weight.signed ? 1 : 0, x.signed ? 1 : 0]],
      opName: opName(op, weight, x),
      numberOfOperations: c.ops,
      numberOfWeights: c.weights,
      numberOfBias: c.bias,
      typeOfWeights: weightTypes,
      typeOfBias: biasType,
    };
  }
  return { layers, unclassified };
}

/** Python's `sorted()` of strings (code-point order). */
function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * QKeras `print_qstats`: operation counts per layer and per operation type, the weight profile (bits per
 * weight and bias tensor), and the sparsity of the quantized weights, in QKeras's exact text. Layers that
 * cannot be classified are listed at the end under `Layers not classified:` (QKeras raises instead).
 * Returns the text; prints it unless `print: false`.
 */
export function printQstats(model: tf.LayersModel, options: PrintOptions = {}): string {
  const ops = extractModelOperations(model);
  const names = sortedNames(Object.keys(ops.layers));
  const lines: string[] = ['', 'Number of operations in model:'];
  const table = new Map<string, number>();
  for (const name of names) {
    const l = ops.layers[name]!;
    table.set(l.opName, (table.get(l.opName) ?? 0) + l.numberOfOperations);
    lines.push(`    ${pyPadString(name, 30)}: ${pyPadString(String(l.numberOfOperations), 5)} (${l.opName})`);
  }
  lines.push('', 'Number of operation types in model:');
  for (const key of sortedNames(table.keys())) {
    if (table.get(key)! > 0) lines.push(`    ${pyPadString(key, 30)}: ${table.get(key)!}`);
  }
  lines.push('', 'Weight profiling:');
  let totalBits = 0;
  const profileLine = (label: string, count: number, bits: number): void => {
    totalBits += count * bits;
    lines.push(`    ${pyPadString(label, 30)} : ${pyPadString(String(count), 5)} (${bits}-bit unit)`);
  };
  for (const name of names) {
    const l = ops.layers[name]!;
    if (Array.isArray(l.numberOfWeights)) {
      const types = l.typeOfWeights as readonly QuantModeTuple[];
      (l.numberOfWeights as readonly number[]).forEach((n, i) => profileLine(`${name}_weights_${i}`, n, types[i]![1]));
    } else {
      profileLine(`${name}_weights`, l.numberOfWeights as number, (l.typeOfWeights as QuantModeTuple)[1]);
    }
    profileLine(`${name}_bias`, l.numberOfBias, l.typeOfBias[1]);
  }
  lines.push(`    ${'-'.repeat(40)}`);
  lines.push(`    ${pyPadString('Total Bits', 30)} : ${pyPadInt(totalBits, 5)}`);
  lines.push('', 'Weight sparsity:');
  const sparsity = getModelSparsity(model);
  for (const [name, frac] of sparsity.perLayer) {
    lines.push(`    ${pyPadString(name, 30)} : ${pyFormatFloat(frac, { precision: 4 })}`);
  }
  lines.push(`    ${'-'.repeat(40)}`);
  lines.push(`    ${pyPadString('Total Sparsity', 30)} : ${pyFormatFloat(sparsity.total, { precision: 4 })}`);
  if (ops.unclassified.length > 0) {
    lines.push('', 'Layers not classified:');
    for (const u of ops.unclassified) lines.push(`    ${pyPadString(u.name, 30)}: ${u.layerClass}: ${u.reason}`);
  }
  const text = `${lines.join('\n')}\n`;
  if (options.print ?? true) process.stdout.write(text);
  return text;
}
