/**
 * QTools's data-type map (QKeras `qtools/generate_layer_data_type_map.py`): for every layer, in graph
 * order, the types of its inputs, weights, bias, multiplier, accumulator and output and its operation
 * count, each layer's output type becoming the next layer's input type.
 */
import * as tf from '@tensorflow/tfjs';
import { QKerasError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { elementsPerSample, inputShapes, layerQuantizers, outputShape, type Shape } from '../utils/model-graph.js';
import { SINK, SOURCE, updateEdges, type QtGraph } from './graph.js';
import {
  adjustMultiplierForAutoPo2,
  makeAccumulator,
  makeAdder,
  makeFusedBn,
  makeMerge,
  makeMultiplier,
  makeQbn,
  type QtOperation,
} from './operators.js';
import { QtQuantizer, defaultQuantizer, isSupported, makeQuantizer, type EdgeValue } from './quantizer-impl.js';
import type { QToolsSettings } from './settings.js';

/** A weight or activation quantizer QTools has no model of (QKeras `TagMissingError`). */
export class TagMissingError extends QKerasError {}

/** Everything QTools derives for one layer; the fields present depend on the kind of layer. */
export interface LayerDataType {
  readonly layer: tf.layers.Layer;
  readonly kind: 'merge' | 'shape' | 'pooling' | 'activation' | 'batchnorm' | 'fused_batchnorm' | 'mac' | 'folded_mac' | 'other';
  readonly inputQuantizerList: readonly QtQuantizer[];
  readonly outputQuantizer: QtQuantizer;
  /** The output shape (batch null); batch-norm entries hold their input shape, as QKeras does. */
  readonly outputShapes: Shape | null;
  readonly operationCount: number;
  readonly multiplier?: QtOperation | null;
  readonly accumulator?: QtOperation | null;
  readonly weightQuantizer?: QtQuantizer | null;
  readonly wShapes?: readonly number[] | null;
  readonly biasQuantizer?: QtQuantizer | null;
  /** QKeras's `b_shapes`: the kernel's last dimension. */
  readonly bShapes?: number | null;
  readonly fusedAccumulator?: QtOperation | null;
  readonly bnInverseQuantizer?: QtQuantizer;
  readonly bnMeanQuantizer?: QtQuantizer;
  readonly bnBetaQuantizer?: QtQuantizer;
  readonly averageQuantizer?: QtQuantizer | null;
  readonly poolSumAccumulator?: QtOperation;
  readonly poolAvgMultiplier?: QtOperation | null;
  readonly gammaQuantizer?: QtQuantizer;
  readonly betaQuantizer?: QtQuantizer;
  readonly meanQuantizer?: QtQuantizer;
  readonly varianceQuantizer?: QtQuantizer;
  readonly internalDivideQuantizer?: QtOperation | null;
  readonly internalMultiplier?: QtOperation | null;
  readonly internalAccumulator?: QtOperation | null;
}

/** The per-layer fields of a `modelSaveQuantizedWeights` entry that QTools reads (batch-norm fusing). */
export interface HwLayerInfo {
  readonly enable_bn_fusing?: boolean;
  readonly fused_bn_layer_name?: string;
}

export interface LayerMapOptions {
  readonly settings: QToolsSettings;
  readonly isInference: boolean;
  /** The type of every weight and bias when `forReference` (a mode string such as `int8`). */
  readonly kerasQuantizer: string | null;
  /** The type of every multiplier, accumulator and activation when `forReference`. */
  readonly kerasAccumulator: string | null;
  readonly forReference: boolean;
  /** False: quantize the weights here before reading constant values (inference mode only). */
  readonly modelWeightsAlreadyQuantized: boolean;
  readonly hwWeightDict: Readonly<Record<string, HwLayerInfo>> | null;
}

export interface LayerMap {
  readonly sourceQuantizerList: readonly QtQuantizer[];
  readonly outputLayers: readonly tf.layers.Layer[];
  readonly inputLayers: readonly tf.layers.Layer[];
  readonly layerDataTypeMap: ReadonlyMap<tf.layers.Layer, LayerDataType>;
  /** Layers QTools has no rule for; their input type was passed through (QKeras prints a warning). */
  readonly passedThrough: readonly string[];
}

const MERGE_LAYERS = ['Add', 'Multiply', 'Subtract', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot'];
const AVG_POOLING = ['AveragePooling2D', 'AvgPool2D', 'QAveragePooling2D'];
const GLOBAL_AVG_POOLING = ['GlobalAvgPool2D', 'GlobalAveragePooling2D', 'QGlobalAveragePooling2D'];
const QKERAS_MAC = ['QDense', 'QConv1D', 'QConv2D', 'QDepthwiseConv2D', 'QConv2DTranspose'];
const KERAS_MAC = ['Dense', 'Conv1D', 'Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose'];

export function isMergeLayer(className: string): boolean {
  return MERGE_LAYERS.includes(className);
}

/** MaxPooling, Reshape and Flatten only move values (QKeras `is_shape_alternation_layers`). */
export function isShapeLayer(className: string): boolean {
  return className.includes('MaxPool') || className.includes('Reshape') || className.includes('Flatten');
}

function prod(xs: readonly (number | null)[]): number {
  return xs.reduce<number>((a, d) => a * (d ?? 1), 1);
}

/** Shape of a layer's weight `i` (kernel first), or null. */
function weightShape(layer: tf.layers.Layer, i: number): number[] | null {
  const w = layer.weights[i];
  return w === undefined ? null : (w.shape.slice() as number[]);
}

/**
 * The number of multiplications (MAC layers) or element operations of a layer (QKeras
 * `get_operation_count`). QKeras counts 0 for QAveragePooling2D (a missing list entry); it is counted like
 * the other average poolings here.
 */
export function operationCount(layer: tf.layers.Layer, inputShape: Shape): number {
  const cls = layer.getClassName();
  const out = outputShape(layer);
  if (isMergeLayer(cls) || isShapeLayer(cls)) return elementsPerSample(inputShape);
  if (AVG_POOLING.includes(cls) || GLOBAL_AVG_POOLING.includes(cls)) {
    const pool = (layer as unknown as { poolSize?: number[] }).poolSize ?? inputShape.slice(1, -1);
    return (out[out.length - 1] ?? 1) * prod(pool);
  }
  if (cls.includes('UpSampling')) return elementsPerSample(out);
  if (cls.includes('Activation') || cls.includes('BatchNormalization')) return elementsPerSample(inputShape);
  const kernel = weightShape(layer, 0);
  const ci = inputShape[inputShape.length - 1] ?? 1;
  if (['QConv2D', 'Conv2D', 'QConv2DBatchnorm', 'QConv2DTranspose', 'Conv2DTranspose'].includes(cls) && kernel) {
    return (out[1] ?? 1) * (out[2] ?? 1) * (out[3] ?? 1) * kernel[0]! * kernel[1]! * ci;
  }
  if (['QConv1D', 'Conv1D'].includes(cls) && kernel) return (out[1] ?? 1) * (out[2] ?? 1) * kernel[0]! * ci;
  if (['QDepthwiseConv2D', 'DepthwiseConv2D', 'QDepthwiseConv2DBatchnorm'].includes(cls) && kernel) {
    return kernel[0]! * kernel[1]! * (out[1] ?? 1) * (out[2] ?? 1) * ci;
  }
  if (['QDense', 'Dense'].includes(cls)) {
    // QKeras multiplies the one non-1 input and output sizes; for such shapes this is the same number.
    return elementsPerSample(inputShape) * (out[out.length - 1] ?? 1);
  }
  return 0;
}

/** A layer's weights, quantized by its quantizers unless they already are (QKeras `get_weights`). */
function layerWeights(layer: tf.layers.Layer, alreadyQuantized: boolean): Float32Array[] {
  const qs = layerQuantizers(layer);
  return tf.tidy(() =>
    layer.getWeights().map((w, i) => {
      const q = qs?.[i] ?? null;
      const v = !alreadyQuantized && q !== null ? q.call(w, { training: false }) : w;
      return v.dataSync() as Float32Array;
    }),
  );
}

interface BatchNormFields {
  readonly scale?: boolean;
  readonly center?: boolean;
}

function bnFlags(layer: tf.layers.Layer): { scale: boolean; center: boolean } {
  const f = layer as unknown as BatchNormFields;
  return { scale: f.scale ?? true, center: f.center ?? true };
}

/**
 * Builds the data-type map of a QTools graph (QKeras `generate_layer_data_type_map`). Throws
 * `TagMissingError` for a weight, bias or QActivation quantizer QTools has no model of.
 */
export function generateLayerDataTypeMap(g: QtGraph, sources: readonly QtQuantizer[], o: LayerMapOptions): LayerMap {
  const interm = o.settings.defaultIntermQuantizer;
  const make = (q: EdgeValue | string): QtQuantizer => makeQuantizer(q, interm);
  const dflt = (mode: string): QtQuantizer => defaultQuantizer(mode);
  const refAccumulator = (): QtQuantizer => dflt(o.kerasAccumulator ?? interm);
  const refQuantizer = (): QtQuantizer => dflt(o.kerasQuantizer ?? interm);

  const outputLayers = g.predecessors(SINK).filter((u) => u !== SOURCE).map((u) => g.node(u).layer!);
  const inputLayers = g.successors(SOURCE).filter((u) => u !== SINK).map((u) => g.node(u).layer!);
  const map = new Map<tf.layers.Layer, LayerDataType>();
  const passedThrough: string[] = [];

  /** QKeras `update_output_quantizer_in_graph`: an explicit, modelled activation wins over `computed`. */
  const outputOf = (id: number, computed: QtQuantizer): QtQuantizer => {
    let q = g.node(id).outQuantizer;
    if (o.forReference || q === null || !isSupported(q)) {
      q = computed;
      updateEdges(g, id, q);
    }
    return make(q);
  };

  for (const id of g.topologicalOrder()) {
    if (id === SOURCE || id === SINK) continue;
    const node = g.node(id);
    const layer = node.layer!;
    const cls = node.type!;
    const isInputLayer = inputLayers.includes(layer);
    const outShape = outputShape(layer);
    const kernelShape = weightShape(layer, 0);
    const wShapes = kernelShape;
    const bShapes = kernelShape === null ? null : kernelShape[kernelShape.length - 1]!;

    const inputs = g.predecessors(id).map((u) => {
      const e = g.edge(u, id)!;
      return { q: make(e.quantizer), shape: e.shape };
    });
    const inputQuantizerList = inputs.map((i) => i.q);
    // The widest input decides the operation count (broadcasting merges), as in QKeras.
    let inputShape: Shape = inputs[0]?.shape ?? (inputShapes(layer)[0] ?? []);
    let maxSize = -1;
    for (const i of inputs) {
      const size = elementsPerSample(i.shape);
      if (size > maxSize) {
        maxSize = size;
        inputShape = i.shape;
      }
    }
    const opCount = operationCount(layer, inputShape);
    const firstInput = (): QtQuantizer => {
      const q = inputQuantizerList[0];
      if (q === undefined) throw new QKerasError(`qtools: layer ${layer.name} (${cls}) has no input`);
      return q;
    };
    const base = { layer, inputQuantizerList, outputShapes: outShape, operationCount: opCount };

    if (isMergeLayer(cls)) {
      const merge = makeMerge(inputQuantizerList, cls);
      if (o.forReference) merge.output = refAccumulator();
      map.set(layer, { ...base, kind: 'merge', multiplier: merge, outputQuantizer: outputOf(id, merge.output) });
    } else if (isShapeLayer(cls) || cls.includes('UpSampling')) {
      map.set(layer, { ...base, kind: 'shape', outputQuantizer: outputOf(id, firstInput()) });
    } else if (AVG_POOLING.includes(cls) || GLOBAL_AVG_POOLING.includes(cls)) {
      const input = firstInput();
      const pool = AVG_POOLING.includes(cls)
        ? [...((layer as unknown as { poolSize: number[] }).poolSize), 1, 1]
        : [...inputShape.slice(1, -1).map((d) => d ?? 1), 1, 1];
      // QKeras reuses the MAC accumulator rule with the pool as the kernel and the input as the product.
      const fake = makeMultiplier(input, input);
      fake.output = input.clone();
      const accumulator = makeAccumulator(pool, fake, false);
      let averageQuantizer: QtQuantizer | null = null;
      let multiplier: QtOperation | null = null;
      const quantized = cls.startsWith('Q');
      if (quantized) {
        averageQuantizer = make(layerQuantizers(layer)?.[0] ?? null);
        multiplier = makeMultiplier(accumulator.output, averageQuantizer);
      }
      if (o.forReference) {
        if (multiplier) multiplier.output = refAccumulator();
        accumulator.output = refAccumulator();
      }
      const layerQuantizer = quantized && multiplier ? multiplier.output : accumulator.output;
      map.set(layer, {
        ...base,
        kind: 'pooling',
        averageQuantizer,
        poolSumAccumulator: accumulator,
        poolAvgMultiplier: multiplier,
        outputQuantizer: outputOf(id, layerQuantizer),
      });
    } else if (cls === 'QActivation' || cls === 'QAdaptiveActivation' || cls === 'Activation') {
      let layerQuantizer: EdgeValue;
      const own = (layer as unknown as { quantizer?: Quantizer }).quantizer;
      if (o.forReference || own === undefined) {
        layerQuantizer = refAccumulator();
      } else {
        if (!isSupported(own)) {
          throw new TagMissingError(`qtools: unsupported activation quantizer ${own.toString()} on layer ${layer.name} (${cls})`);
        }
        layerQuantizer = own;
      }
      map.set(layer, {
        ...base,
        kind: 'activation',
        wShapes,
        bShapes,
        outputQuantizer: outputOf(id, make(layerQuantizer)),
      });
    } else if (cls === 'QBatchNormalization' || cls === 'BatchNormalization') {
      const input = firstInput();
      const fusing = o.hwWeightDict?.[layer.name]?.enable_bn_fusing === true;
      if (fusing) {
        const passed = o.forReference && o.kerasAccumulator !== null && !isInputLayer ? dflt(o.kerasAccumulator) : input;
        map.set(layer, { ...base, kind: 'fused_batchnorm', outputShapes: inputShape, outputQuantizer: outputOf(id, passed) });
      } else {
        const bn = bnQuantizers(layer, input, o);
        const { scale, center } = bnFlags(layer);
        const qbn = makeQbn(input, bn.gamma, bn.beta, bn.variance, scale, center);
        if (o.forReference || layerQuantizers(layer) === null) {
          for (const op of [qbn.divider, qbn.multiplier, qbn.accumulator, qbn.output]) if (op) op.output = refAccumulator();
        }
        map.set(layer, {
          ...base,
          kind: 'batchnorm',
          outputShapes: inputShape,
          gammaQuantizer: bn.gamma,
          betaQuantizer: bn.beta,
          meanQuantizer: bn.mean,
          varianceQuantizer: bn.variance,
          internalDivideQuantizer: qbn.divider,
          internalMultiplier: qbn.multiplier,
          internalAccumulator: qbn.accumulator,
          outputQuantizer: outputOf(id, qbn.output.output),
        });
      }
    } else if (QKERAS_MAC.includes(cls) || KERAS_MAC.includes(cls)) {
      map.set(layer, macLayer(g, cls, { id, layer, input: firstInput(), base, wShapes, bShapes, o, make, outputOf, refQuantizer, refAccumulator }));
    } else if (cls === 'QConv2DBatchnorm' || cls === 'QDepthwiseConv2DBatchnorm') {
      const c: MacContext = { id, layer, input: firstInput(), base, wShapes, bShapes, o, make, outputOf, refQuantizer, refAccumulator };
      map.set(layer, foldedMacLayer(c));
    } else {
      // No rule for this layer: its input type passes through (QKeras prints a warning).
      passedThrough.push(`${layer.name} (${cls})`);
      let input = firstInput();
      if (o.forReference && o.kerasAccumulator !== null && !isInputLayer) input = dflt(o.kerasAccumulator);
      map.set(layer, { ...base, kind: 'other', outputQuantizer: outputOf(id, input) });
    }
  }
  return { sourceQuantizerList: sources, outputLayers, inputLayers, layerDataTypeMap: map, passedThrough };
}

type Base = Pick<LayerDataType, 'layer' | 'inputQuantizerList' | 'outputShapes' | 'operationCount'>;

/** The gamma, beta, mean, variance and inverse types of a batch normalisation (QKeras `get_bn_quantizers`). */
function bnQuantizers(
  layer: tf.layers.Layer,
  input: QtQuantizer,
  o: LayerMapOptions,
): { gamma: QtQuantizer; beta: QtQuantizer; mean: QtQuantizer; variance: QtQuantizer; inverse: QtQuantizer } {
  const interm = o.settings.defaultIntermQuantizer;
  const qs = layerQuantizers(layer);
  let r: { gamma: QtQuantizer; beta: QtQuantizer; mean: QtQuantizer; variance: QtQuantizer; inverse: QtQuantizer };
  if (o.forReference || qs === null) {
    const mode = o.kerasQuantizer ?? interm;
    r = { gamma: defaultQuantizer(mode), beta: defaultQuantizer(mode), mean: defaultQuantizer(mode), variance: defaultQuantizer(mode), inverse: defaultQuantizer(mode) };
  } else {
    const [gamma, beta, mean, variance, inverse] = [0, 1, 2, 3, 4].map((i) => qs[i] ?? null);
    const make = (q: Quantizer | null | undefined): QtQuantizer => makeQuantizer(q ?? null, interm);
    r = {
      beta: beta ? make(beta) : input.clone(),
      mean: mean ? make(mean) : input.clone(),
      variance: variance ? make(variance) : defaultQuantizer(interm),
      gamma: gamma ? make(gamma) : defaultQuantizer(interm),
      inverse: inverse ? make(inverse) : defaultQuantizer(interm),
    };
  }
  if (o.isInference) {
    const weights = layerWeights(layer, o.modelWeightsAlreadyQuantized);
    const { scale, center } = bnFlags(layer);
    const n = 4 - (scale ? 0 : 1) - (center ? 0 : 1);
    if (scale && r.gamma.isPo2 && weights[0]) r.gamma.updateInferenceValues(weights[0]);
    if (r.variance.isPo2 && weights[n - 1]) r.variance.updateInferenceValues(weights[n - 1]!);
  }
  return r;
}

/** What the mappers of the weight (multiply-accumulate) layers read. */
interface MacContext {
  readonly id: number;
  readonly layer: tf.layers.Layer;
  readonly input: QtQuantizer;
  readonly base: Base;
  readonly wShapes: number[] | null;
  readonly bShapes: number | null;
  readonly o: LayerMapOptions;
  readonly make: (q: EdgeValue | string) => QtQuantizer;
  readonly outputOf: (id: number, q: QtQuantizer) => QtQuantizer;
  readonly refQuantizer: () => QtQuantizer;
  readonly refAccumulator: () => QtQuantizer;
}

/**
 * The weight and bias quantizers of a weight layer: the reference ones when asked or when the layer has
 * no quantizers, else its own (an absent bias quantizer is null with `optionalBias`), po2 ones updated
 * with the inference weights. `where` names the layer in the unsupported-quantizer error.
 */
function weightBiasQuantizers(
  c: MacContext,
  where: string,
  optionalBias: boolean,
): { reference: boolean; weightQuantizer: QtQuantizer; biasQuantizer: QtQuantizer | null; kerasWeightQuantizer: Quantizer | null } {
  const qs = layerQuantizers(c.layer);
  const reference = c.o.forReference || qs === null;
  let weightQuantizer: QtQuantizer;
  let biasQuantizer: QtQuantizer | null;
  let kerasWeightQuantizer: Quantizer | null = null;
  if (reference) {
    weightQuantizer = c.refQuantizer();
    biasQuantizer = c.refQuantizer();
  } else {
    kerasWeightQuantizer = qs[0] ?? null;
    const kerasBias = qs[1] ?? null;
    for (const [q, what] of [[kerasWeightQuantizer, 'weight'], [kerasBias, 'bias']] as const) {
      if (!isSupported(q)) throw new TagMissingError(`qtools: unsupported ${what} quantizer ${q!.toString()} on layer ${where}`);
    }
    weightQuantizer = c.make(kerasWeightQuantizer);
    biasQuantizer = kerasBias || !optionalBias ? c.make(kerasBias) : null;
  }
  if (c.o.isInference) {
    const weights = layerWeights(c.layer, c.o.modelWeightsAlreadyQuantized);
    if (weightQuantizer.isPo2 && weights[0]) weightQuantizer.updateInferenceValues(weights[0]);
    if (biasQuantizer?.isPo2 && weights[1]) biasQuantizer.updateInferenceValues(weights[1]);
  }
  return { reference, weightQuantizer, biasQuantizer, kerasWeightQuantizer };
}

/** The operations and quantizers of a weight layer's entry. */
interface MacOps {
  readonly multiplier: QtOperation;
  readonly accumulator: QtOperation;
  readonly weightQuantizer: QtQuantizer;
  readonly biasQuantizer: QtQuantizer | null;
}

/** A weight layer's entry: `extra` (the fused accumulator and folded batch norm) before the output type. */
function macEntry(c: MacContext, kind: 'mac' | 'folded_mac', ops: MacOps, extra: Partial<LayerDataType>, output: QtQuantizer): LayerDataType {
  return {
    ...c.base,
    kind,
    multiplier: ops.multiplier,
    accumulator: ops.accumulator,
    weightQuantizer: ops.weightQuantizer,
    wShapes: c.wShapes,
    biasQuantizer: ops.biasQuantizer,
    bShapes: c.bShapes,
    ...extra,
    outputQuantizer: c.outputOf(c.id, output),
  };
}

/** Both operations of a reference mapping compute on the reference accumulator type. */
function useReferenceAccumulator(c: MacContext, multiplier: QtOperation, accumulator: QtOperation): void {
  accumulator.output = c.refAccumulator();
  multiplier.output = c.refAccumulator();
}

function macLayer(g: QtGraph, cls: string, c: MacContext): LayerDataType {
  const { id, layer, input, o, refAccumulator } = c;
  const resolved = weightBiasQuantizers(c, `${layer.name} (${cls})`, false);
  const { reference, weightQuantizer, kerasWeightQuantizer } = resolved;
  const useBias = (layer as unknown as { useBias?: boolean }).useBias ?? layer.weights.length > 1;
  const biasQuantizer = useBias ? resolved.biasQuantizer : null;
  const multiplier = makeMultiplier(weightQuantizer, input);
  const hw = o.hwWeightDict?.[layer.name];
  const fusing = hw?.enable_bn_fusing === true;
  if (fusing && kerasWeightQuantizer) adjustMultiplierForAutoPo2(multiplier, kerasWeightQuantizer);

  const kernel = weightShape(layer, 0) ?? [1];
  const isDepthwise = cls === 'QDepthwiseConv2D' || cls === 'DepthwiseConv2D';
  // A depthwise kernel (kh, kw, C, multiplier) sums over kh·kw products only.
  const accShape = isDepthwise ? [...kernel.slice(0, -2), 1, 1] : kernel;
  const kernelAccumulator = makeAccumulator(accShape, multiplier, false);
  const accumulator = biasQuantizer === null ? kernelAccumulator : makeAdder(kernelAccumulator.output, biasQuantizer);
  if (reference) useReferenceAccumulator(c, multiplier, accumulator);

  if (fusing) {
    const bnNode = g.successors(id).map((s) => g.node(s)).find((n) => n.layer !== null);
    const bnLayer = bnNode?.layer;
    if (!bnLayer || bnLayer.name !== hw?.fused_bn_layer_name) {
      throw new QKerasError(
        `qtools: layer ${layer.name} is marked for batch-norm fusing with ${String(hw?.fused_bn_layer_name)}, ` +
          `but the layer after it in the graph is ${bnLayer?.name ?? 'none'}`,
      );
    }
    const bn = bnQuantizers(bnLayer, input, o);
    const kerasInverse = layerQuantizers(bnLayer)?.[4] ?? null;
    const fused = makeFusedBn({
      prevOutput: kernelAccumulator.output,
      prevBias: biasQuantizer,
      beta: bn.beta,
      mean: bn.mean,
      inverse: bn.inverse,
      useBeta: bnFlags(bnLayer).center,
      useBias,
      kerasInverseQuantizer: kerasInverse,
    });
    if (reference) fused.output = refAccumulator();
    const extra = { bnInverseQuantizer: bn.inverse, bnMeanQuantizer: bn.mean, bnBetaQuantizer: bn.beta, fusedAccumulator: fused };
    return macEntry(c, 'mac', { multiplier, accumulator, weightQuantizer, biasQuantizer }, extra, fused.output);
  }

  let fusedAccumulator = accumulator;
  const alpha = (kerasWeightQuantizer as { alpha?: unknown } | null)?.alpha;
  if (kerasWeightQuantizer && kerasWeightQuantizer.toString().includes('quantized_bits') && alpha === 'auto_po2') {
    // QKeras `adjust_accumulator_for_auto_po2`: the accumulator as if the per-channel scales were applied.
    const fusedMultiplier: QtOperation = { ...multiplier, output: multiplier.output.clone() };
    adjustMultiplierForAutoPo2(fusedMultiplier, kerasWeightQuantizer);
    const fusedKernel = makeAccumulator(accShape, fusedMultiplier, false);
    fusedAccumulator = useBias && biasQuantizer !== null ? makeAdder(fusedKernel.output, biasQuantizer) : fusedKernel;
  }
  return macEntry(c, 'mac', { multiplier, accumulator, weightQuantizer, biasQuantizer }, { fusedAccumulator }, accumulator.output);
}

/** QConv2DBatchnorm / QDepthwiseConv2DBatchnorm: folded weights, bias type derived from the accumulator if absent. */
function foldedMacLayer(c: MacContext): LayerDataType {
  const { layer, input } = c;
  const { reference, weightQuantizer, kerasWeightQuantizer, ...resolved } = weightBiasQuantizers(c, layer.name, true);
  let biasQuantizer = resolved.biasQuantizer;
  const multiplier = makeMultiplier(weightQuantizer, input);
  if (kerasWeightQuantizer) adjustMultiplierForAutoPo2(multiplier, kerasWeightQuantizer);
  const accumulator = makeAccumulator(weightShape(layer, 0) ?? [1], multiplier, biasQuantizer !== null);
  if (biasQuantizer === null) {
    biasQuantizer = accumulator.output.clone();
    // A fixed-point accumulator gets one more bit so that adding the derived bias cannot saturate.
    if (!accumulator.output.isFloatingPoint) {
      accumulator.output.bits += 1;
      accumulator.output.intBits += 1;
    }
  }
  if (reference) useReferenceAccumulator(c, multiplier, accumulator);
  return macEntry(c, 'folded_mac', { multiplier, accumulator, weightQuantizer, biasQuantizer }, {}, accumulator.output);
}
