/**
 * `cloneModelAndFreezeAutoPo2Scale` (QKeras `clone_model_and_freeze_auto_po2_scale`): a copy of a model in
 * which every `quantized_bits(alpha='auto_po2')` weight quantizer keeps the scale it computes today, as
 * `post_training_scale`, instead of recomputing it from the weights at every call. Hardware is built for
 * fixed per-channel shifts; retraining or exporting the copy can no longer move them.
 *
 * The scales are those `modelSaveQuantizedWeights` computes (on a private clone, so the caller's model is
 * neither quantized nor touched): the kernel/depthwise (or bias) quantizer of QConv2D, QDepthwiseConv2D
 * and QDense, and the inverse quantizer of QBatchNormalization (from the batch-norm fusing step, or, for a
 * batch norm that follows no convolution, from its moving variance and gamma exactly as inference
 * computes it).
 *
 * Where QKeras assumes, this raises `FreezeAutoPo2Error` listing every offending layer at once: a layer
 * with more than one auto_po2 quantizer (the hardware keeps one scale per layer), an auto_po2 quantizer in
 * another layer class or slot, one that is not `quantized_bits` (only it takes `post_training_scale`), one
 * that was never applied (a bias quantizer on a layer without bias), and auto_po2 quantizers inside a
 * nested model. The rebuilt model follows the original graph (branches, shared layers, several inputs
 * and outputs), where QKeras chains the layers one after another. Activation quantizers are not weight
 * quantizers and are left as they are, as in QKeras.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, QKerasError, describe } from '../errors.js';
import { QBatchNormalization } from '../layers/q-batch-normalization.js';
import type { ArgValue, Quantizer, QuantizerArgs } from '../quantizers/base.js';
import { QuantizedBits } from '../quantizers/quantized-bits.js';
import { inputShapes, layerQuantizers } from './model-graph.js';
import { modelSaveQuantizedWeights, type SavedWeights } from './quantized-weights.js';
import { loadQmodel } from './save-load.js';

export interface FreezeAutoPo2Options {
  /**
   * Also quantize the new model's weights in place (`modelSaveQuantizedWeights`, software form `q(w)`)
   * and check that its hardware weights equal those of the original model. Default false: the new model
   * keeps the float weights, ready for retraining with fixed scales.
   */
  readonly quantizeModelWeights?: boolean;
}

export interface FrozenAutoPo2Model {
  readonly model: tf.LayersModel;
  /** `modelSaveQuantizedWeights` of the new model when `quantizeModelWeights`, else null. */
  readonly hwWeights: SavedWeights | null;
}

/** One reason a model cannot be frozen, or one hardware weight that changed. */
export interface FreezeAutoPo2Issue {
  readonly layer: string;
  readonly className: string;
  readonly detail: string;
}

/** The model cannot be frozen as asked; every problem found is listed. */
export class FreezeAutoPo2Error extends QKerasError {
  constructor(readonly issues: readonly FreezeAutoPo2Issue[]) {
    super(
      `cloneModelAndFreezeAutoPo2Scale: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  - layer ${JSON.stringify(i.layer)} (${i.className}) ${i.detail}`).join('\n'),
    );
  }
}

/**
 * Per supported class, the config key of each `getQuantizers()` entry whose auto_po2 scale can be frozen
 * (null: that slot cannot be). QBatchNormalization's gamma/beta/mean/variance stay unsupported, as in
 * QKeras: `modelSaveQuantizedWeights` pairs them with the weights by position, which shifts when the
 * layer has no gamma or beta.
 */
const FREEZABLE_SLOTS: Readonly<Record<string, readonly (string | null)[]>> = {
  QConv2D: ['kernelQuantizer', 'biasQuantizer'],
  QDepthwiseConv2D: ['depthwiseQuantizer', 'biasQuantizer'],
  QDense: ['kernelQuantizer', 'biasQuantizer'],
  QBatchNormalization: [null, null, null, null, 'inverseQuantizer'],
};

const SUPPORTED = 'QConv2D, QDepthwiseConv2D, QDense (kernel/depthwise or bias quantizer) and QBatchNormalization (inverse quantizer)';

function isAutoPo2(q: Quantizer | null): q is Quantizer {
  return q !== null && (q as { alpha?: unknown }).alpha === 'auto_po2';
}

/** Readable names of a layer's quantizer slots (`kernel`, `bias`, ...), in `getQuantizers()` order. */
function slotLabels(layer: tf.layers.Layer, count: number): string[] {
  const specs = (layer as unknown as { quantizerSpecs?: () => Record<string, unknown> }).quantizerSpecs;
  const labels = typeof specs === 'function' ? Object.keys(specs.call(layer)) : [];
  return Array.from({ length: count }, (_, i) => labels[i] ?? `quantizer #${i}`);
}

/** The one auto_po2 quantizer of a layer to freeze: its position in `getQuantizers()` and config key. */
interface FreezeTarget {
  readonly index: number;
  readonly configKey: string;
}

function nestedModelHasAutoPo2(model: tf.LayersModel): boolean {
  return model.layers.some((l) =>
    l instanceof tf.LayersModel ? nestedModelHasAutoPo2(l) : (layerQuantizers(l) ?? []).some(isAutoPo2),
  );
}

/**
 * QKeras's `_find_auto_po2_quantizer` over the whole model, plus the checks QKeras leaves to chance.
 * Returns the freeze target of each layer that has one.
 */
function findTargets(model: tf.LayersModel): Map<string, FreezeTarget> {
  const issues: FreezeAutoPo2Issue[] = [];
  const targets = new Map<string, FreezeTarget>();
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const issue = (detail: string): void => {
      issues.push({ layer: layer.name, className: cls, detail });
    };
    if (layer instanceof tf.LayersModel) {
      if (nestedModelHasAutoPo2(layer)) issue('is a nested model with auto_po2 quantizers, which are not frozen; flatten the model first');
      continue;
    }
    const qs = layerQuantizers(layer) ?? [];
    const labels = slotLabels(layer, qs.length);
    const found = qs.flatMap((q, i) => (isAutoPo2(q) ? [{ q, i }] : []));
    if (found.length === 0) continue;
    const list = found.map(({ q, i }) => `${labels[i]}=${q.toString()}`).join(', ');
    if (found.length > 1) {
      issue(`has more than one auto_po2 quantizer (${list}); one per layer is allowed, since the hardware keeps one scale per layer`);
      continue;
    }
    const { q, i } = found[0]!;
    const configKey = FREEZABLE_SLOTS[cls]?.[i] ?? null;
    if (configKey === null) {
      issue(`has an auto_po2 quantizer (${list}) whose scale cannot be frozen; supported: ${SUPPORTED}`);
    } else if (!(q instanceof QuantizedBits) || q.className !== 'quantized_bits') {
      issue(`has the auto_po2 quantizer ${list}; only quantized_bits takes a post_training_scale`);
    } else {
      targets.set(layer.name, { index: i, configKey });
    }
  }
  if (issues.length > 0) throw new FreezeAutoPo2Error(issues);
  return targets;
}

// ---- rebuilding a model layer by layer ------------------------------------------------------------------

interface TfNode {
  readonly inputTensors: tf.SymbolicTensor[];
  readonly outputTensors: tf.SymbolicTensor[];
  readonly callArgs?: Record<string, unknown>;
}

function inboundNodes(layer: tf.layers.Layer): TfNode[] {
  return (layer as unknown as { inboundNodes: TfNode[] }).inboundNodes ?? [];
}

/** A new layer of the same class from `layer`'s config, with `overrides` applied. */
function layerFromConfig(layer: tf.layers.Layer, overrides: Record<string, unknown> = {}): tf.layers.Layer {
  const ctor = layer.constructor as unknown as {
    fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.layers.Layer;
  };
  return ctor.fromConfig(ctor, { ...layer.getConfig(), ...overrides } as tf.serialization.ConfigDict);
}

/**
 * The graph of `model` rebuilt with the layers `make` returns (called once per layer, so shared layers
 * stay shared), each given the weights of the layer it replaces.
 */
function rebuildModel(model: tf.LayersModel, make: (layer: tf.layers.Layer) => tf.layers.Layer): tf.LayersModel {
  const tensors = new Map<tf.SymbolicTensor, tf.SymbolicTensor>();
  const clones = new Map<tf.layers.Layer, tf.layers.Layer>();
  const inputs = model.inputs.map((t) => {
    const input = tf.input({ batchShape: t.shape, dtype: t.dtype, name: t.sourceLayer.name });
    tensors.set(t, input);
    return input;
  });
  const resolve = (t: tf.SymbolicTensor): tf.SymbolicTensor => {
    const known = tensors.get(t);
    if (known !== undefined) return known;
    const layer = t.sourceLayer as tf.layers.Layer;
    const node = inboundNodes(layer)[t.nodeIndex];
    if (node === undefined) {
      throw new ConfigError('cloneModelAndFreezeAutoPo2Scale', `layer ${layer.name}`, `node ${t.nodeIndex}`, 'a layer called on the model inputs');
    }
    const args = node.inputTensors.map(resolve);
    let clone = clones.get(layer);
    if (clone === undefined) {
      clone = make(layer);
      clones.set(layer, clone);
    }
    const out = clone.apply(args.length === 1 ? args[0]! : args, node.callArgs ?? {});
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((o, i) => tensors.set(o, outs[i] as tf.SymbolicTensor));
    return tensors.get(t)!;
  };
  const outputs = model.outputs.map(resolve);
  for (const [layer, clone] of clones) clone.setWeights(layer.getWeights());
  return tf.model({ inputs, outputs, name: model.name });
}

// ---- scales ---------------------------------------------------------------------------------------------

/** The scale as a plain (nested) list, the form `post_training_scale` takes. */
function scaleValue(scale: tf.Tensor | number): ArgValue {
  return typeof scale === 'number' ? scale : (scale.arraySync() as ArgValue);
}

/**
 * Applies a QBatchNormalization's inverse quantizer to `gamma / sqrt(moving_variance + eps)` as inference
 * does, so that it gets the scale it uses there (gamma and variance quantizers are null by construction
 * when an inverse quantizer is set). Only for the last axis, the layout whose scale shape the fusing
 * arithmetic and the layer agree on.
 */
function applyInverseQuantizer(layer: QBatchNormalization, q: Quantizer): string | null {
  const rank = inputShapes(layer)[0]?.length ?? 0;
  if (layer.axis !== -1 && layer.axis !== rank - 1) return `has axis=${layer.axis}; the inverse quantizer can be frozen only for the last axis`;
  tf.tidy(() => {
    let inv = tf.rsqrt(tf.add(layer.movingVariance!.read(), layer.epsilon));
    if (layer.gamma !== null) inv = tf.mul(inv, layer.gamma.read());
    q.call(inv, { training: false });
  });
  return null;
}

/**
 * The `post_training_scale` of each target, from the working model after `modelSaveQuantizedWeights`.
 * Issues for quantizers that were never applied.
 */
function frozenScales(working: tf.LayersModel, targets: Map<string, FreezeTarget>): Map<string, ArgValue> {
  const scales = new Map<string, ArgValue>();
  const issues: FreezeAutoPo2Issue[] = [];
  for (const [name, target] of targets) {
    const layer = working.getLayer(name);
    const q = layerQuantizers(layer)![target.index]!;
    const label = slotLabels(layer, target.index + 1)[target.index]!;
    const issue = (detail: string): void => {
      issues.push({ layer: name, className: layer.getClassName(), detail });
    };
    // A batch norm fused with the convolution before it got its scale from modelSaveQuantizedWeights.
    if (q.scale === null && layer instanceof QBatchNormalization && target.configKey === 'inverseQuantizer') {
      const problem = applyInverseQuantizer(layer, q);
      if (problem !== null) {
        issue(problem);
        continue;
      }
    }
    if (q.scale === null) {
      issue(`has the auto_po2 ${label} quantizer ${q.toString()}, which quantizes no weight (so it has no scale to freeze); remove it`);
      continue;
    }
    scales.set(name, scaleValue(q.scale));
  }
  if (issues.length > 0) throw new FreezeAutoPo2Error(issues);
  return scales;
}

/** A quantized_bits like `q` whose auto_po2 scale is fixed to `scale`. */
function withPostTrainingScale(q: QuantizedBits, scale: ArgValue): QuantizedBits {
  // use_ste is not part of QKeras's config but decides the gradient of a retrained model: keep it.
  const args = { ...(q.getConfig() as QuantizerArgs), use_ste: q.useSte, post_training_scale: scale };
  return new QuantizedBits(args);
}

/** Frees the scale tensors the working model's quantizers hold (the model itself is disposed apart). */
function disposeScales(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    for (const q of layerQuantizers(layer) ?? []) {
      if (q !== null && q.scale instanceof tf.Tensor && !q.scale.isDisposed) q.scale.dispose();
    }
  }
}

// ---- comparing hardware weights ------------------------------------------------------------------------

function isArrayLikeOfNumbers(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** Where `a` and `b` first differ (a path and both values), or null when they are equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (isArrayLikeOfNumbers(a) && isArrayLikeOfNumbers(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} values vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      // === as numpy's ==: +0 equals -0; NaN never equals anything.
      if (a[i] !== b[i]) return `${path}[${i}]: ${a[i]} vs ${b[i]}`;
    }
    return null;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} entries vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${describe(a)} vs ${describe(b)}`;
}

/** QKeras's `_check_hw_weights_equal`, over every layer and key of both dicts. */
function checkHwWeightsEqual(original: SavedWeights, frozen: SavedWeights, model: tf.LayersModel): void {
  const issues: FreezeAutoPo2Issue[] = [];
  for (const name of new Set([...Object.keys(original), ...Object.keys(frozen)])) {
    const d = firstDifference(frozen[name], original[name], name);
    if (d !== null) {
      const cls = model.layers.find((l) => l.name === name)?.getClassName() ?? '?';
      issues.push({ layer: name, className: cls, detail: `has hardware weights that differ from the original model's (frozen vs original): ${d}` });
    }
  }
  if (issues.length > 0) throw new FreezeAutoPo2Error(issues);
}

// ---- entry point ---------------------------------------------------------------------------------------

async function resolveModel(source: tf.LayersModel | string): Promise<tf.LayersModel> {
  if (typeof source === 'string') return loadQmodel(source, { compile: false });
  if (!(source instanceof tf.LayersModel)) {
    throw new ConfigError('cloneModelAndFreezeAutoPo2Scale', 'model', describe(source), 'a tf.LayersModel or the path of a saved model');
  }
  if (source.inputs === undefined || source.inputs.length === 0) {
    throw new ConfigError('cloneModelAndFreezeAutoPo2Scale', `model ${source.name}`, 'no inputs', 'a built model (give the first layer an input shape)');
  }
  return source;
}

/**
 * Clones `source` (a model, or the directory/model.json of one saved with `saveQmodel`) with the scale
 * of every auto_po2 `quantized_bits` weight quantizer frozen as `post_training_scale`. The original model
 * is not modified. The new model has the original's float weights, or with `quantizeModelWeights` their
 * quantized values, in which case `hwWeights` (its `modelSaveQuantizedWeights` dict) is checked to equal
 * the original's. Throws `FreezeAutoPo2Error` for the unsupported cases listed in the module comment and
 * for differing hardware weights.
 */
export async function cloneModelAndFreezeAutoPo2Scale(
  source: tf.LayersModel | string,
  options: FreezeAutoPo2Options = {},
): Promise<FrozenAutoPo2Model> {
  const original = await resolveModel(source);
  const targets = findTargets(original);

  // The scales (and the reference hardware weights) come from a clone, since quantizing the weights
  // writes them back into the model.
  const working = rebuildModel(original, (l) => layerFromConfig(l));
  let originalHw: SavedWeights;
  let scales: Map<string, ArgValue>;
  try {
    originalHw = await modelSaveQuantizedWeights(working);
    scales = frozenScales(working, targets);
  } finally {
    disposeScales(working);
    working.dispose();
  }

  const model = rebuildModel(original, (layer) => {
    const target = targets.get(layer.name);
    if (target === undefined) return layerFromConfig(layer);
    const q = layerQuantizers(layer)![target.index] as QuantizedBits;
    return layerFromConfig(layer, { [target.configKey]: withPostTrainingScale(q, scales.get(layer.name)!) });
  });

  if (!options.quantizeModelWeights) return { model, hwWeights: null };
  try {
    const hwWeights = await modelSaveQuantizedWeights(model);
    checkHwWeightsEqual(originalHw, hwWeights, model);
    return { model, hwWeights };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
