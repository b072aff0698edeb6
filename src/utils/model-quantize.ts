/**
 * `modelQuantize` (QKeras `model_quantize`): a float model turned into a quantized one by a config in
 * QKeras's own JSON form, pasted from Python unchanged:
 *
 * ```ts
 * const qmodel = modelQuantize(model, {
 *   conv2d_1: { kernel_quantizer: 'stochastic_binary', bias_quantizer: 'quantized_po2(4)' },
 *   QConv2D: { kernel_quantizer: 'stochastic_ternary', bias_quantizer: 'quantized_po2(4)' },
 *   QDense: { kernel_quantizer: 'quantized_bits(4,0,1)', bias_quantizer: 'quantized_bits(4)' },
 *   QActivation: { relu: 'binary' },
 *   act_2: 'quantized_relu(3)',
 * }, 4, { transferWeights: true });
 * ```
 *
 * Keys are layer names or Q class names; a layer's name entry completely shadows its class entry.
 * Dense/Conv layers with a relu/tanh/sigmoid activation get `quantized_*(activationBits)` unless the entry
 * has an `activation_quantizer`; softmax and linear stay. The per-class rules are in
 * `model-quantize-table.ts`.
 *
 * Unlike QKeras, which ignores what it does not understand, every problem — a key that is neither a layer
 * nor a known class, a field an entry cannot have, a quantizer string that does not parse, a layer whose
 * Q class qkeras-ts does not have yet — is collected and reported at once in one `ModelQuantizeError`.
 */
import * as tf from '@tensorflow/tfjs';
import { QKerasError, describe } from '../errors.js';
import { getQuantizer, type QuantizerSpec } from '../quantizers/get-quantizer.js';
// Registers every Q layer class with tfjs's serialization map.
import '../layers/index.js';
import {
  CONVERSIONS,
  activationDictKeys,
  classKeyFields,
  type ConvertContext,
  type LayerSpec,
  type ModelQuantizeIssue,
  type QuantizerConfig,
} from './model-quantize-table.js';

export type { ModelQuantizeIssue, QuantizerConfig } from './model-quantize-table.js';

/** Every problem of a `modelQuantize` call, listed at once. */
export class ModelQuantizeError extends QKerasError {
  constructor(readonly issues: readonly ModelQuantizeIssue[]) {
    super(
      `modelQuantize: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues
          .map((i) => {
            const where = [
              i.key !== null ? `config key ${JSON.stringify(i.key)}` : null,
              i.layer !== null && i.layer !== i.key ? `layer ${JSON.stringify(i.layer)}` : null,
              i.className !== null ? `(${i.className})` : null,
            ].filter((s) => s !== null);
            return `  - ${where.length > 0 ? `${where.join(' ')}: ` : ''}${i.detail}`;
          })
          .join('\n'),
    );
  }
}

type LayerClass = tf.serialization.SerializableConstructor<tf.serialization.Serializable>;

export interface ModelQuantizeOptions {
  /** Layer classes by class name that tfjs does not know (QKeras's `custom_objects`). */
  readonly customObjects?: Readonly<Record<string, LayerClass>>;
  /** Copy the float model's weights into the quantized model (QKeras's `transfer_weights`). */
  readonly transferWeights?: boolean;
  /** Prefer QAdaptiveActivation over QActivation for Activation layers. */
  readonly preferQAdaptiveActivation?: boolean;
  /** Fold each Conv2D/DepthwiseConv2D with the BatchNormalization that solely follows it. */
  readonly enableBnFolding?: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

interface FunctionalLayer extends LayerSpec {
  name: string;
  inboundNodes: unknown[][];
}

interface Topology {
  readonly sequential: boolean;
  readonly name: string;
  layers: FunctionalLayer[];
  inputLayers: unknown[];
  outputLayers: unknown[][];
}

/** The model's layers as tfjs serialises them, one shape for Sequential and functional models. */
function topologyOf(model: tf.LayersModel): Topology {
  const cfg = model.getConfig() as unknown as Record<string, unknown>;
  if (model instanceof tf.Sequential) {
    const layers = (cfg['layers'] as LayerSpec[]).map((l) => ({ ...l, name: String(l.config['name']), inboundNodes: [] }));
    return { sequential: true, name: model.name, layers, inputLayers: [], outputLayers: [] };
  }
  const layers = (cfg['layers'] as Record<string, unknown>[]).map((l) => ({
    className: String(l['className']),
    config: l['config'] as Record<string, unknown>,
    name: String(l['name']),
    inboundNodes: (l['inboundNodes'] as unknown[][]) ?? [],
  }));
  return {
    sequential: false,
    name: String(cfg['name']),
    layers,
    inputLayers: cfg['inputLayers'] as unknown[],
    outputLayers: cfg['outputLayers'] as unknown[][],
  };
}

/** Names of the layers each layer feeds (from the functional topology's inbound nodes). */
function consumersOf(t: Topology): Map<string, string[]> {
  const out = new Map<string, string[]>();
  t.layers.forEach((l, i) => {
    const parents = t.sequential ? (i > 0 ? [t.layers[i - 1]!.name] : []) : l.inboundNodes.flatMap((node) => node.map((ref) => String((ref as unknown[])[0])));
    for (const p of parents) out.set(p, [...(out.get(p) ?? []), l.name]);
  });
  return out;
}

/**
 * QKeras `convert_to_folded_model`: removes every BatchNormalization that directly and solely follows a
 * Conv2D or DepthwiseConv2D, reconnecting its consumers to the convolution. Returns the folded names.
 */
function foldBatchNorms(t: Topology): Set<string> {
  const consumers = consumersOf(t);
  const byName = new Map(t.layers.map((l) => [l.name, l]));
  const outputs = new Set(t.outputLayers.map((o) => String(o[0])));
  const folded = new Set<string>();
  const removed = new Map<string, string>();
  for (const l of t.layers) {
    if (l.className !== 'Conv2D' && l.className !== 'DepthwiseConv2D') continue;
    const next = consumers.get(l.name) ?? [];
    if (next.length !== 1 || (!t.sequential && outputs.has(l.name))) continue;
    const bn = byName.get(next[0]!)!;
    if (bn.className !== 'BatchNormalization') continue;
    folded.add(l.name);
    removed.set(bn.name, l.name);
  }
  if (removed.size === 0) return folded;
  t.layers = t.layers.filter((l) => !removed.has(l.name));
  const redirect = (ref: unknown[]): unknown[] => (removed.has(String(ref[0])) ? [removed.get(String(ref[0]))!, ...ref.slice(1)] : ref);
  for (const l of t.layers) l.inboundNodes = l.inboundNodes.map((node) => node.map((ref) => redirect(ref as unknown[])));
  t.outputLayers = t.outputLayers.map(redirect);
  return folded;
}

// ---- config validation -----------------------------------------------------------------------------------

function checkQuantizerSpec(value: unknown, key: string, field: string, issues: ModelQuantizeIssue[], layer: string | null): void {
  if (value === null || value === undefined) return;
  try {
    getQuantizer(value as QuantizerSpec);
  } catch (e) {
    issues.push({ key, layer, className: null, detail: `${field}: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/** Checks one entry against the fields it may hold (null: a quantizer string or an activation dict). */
function checkEntry(key: string, entry: unknown, fields: readonly string[] | null, issues: ModelQuantizeIssue[], layer: string | null): void {
  if (fields === null) {
    if (typeof entry === 'string' || entry === null) {
      checkQuantizerSpec(entry, key, 'quantizer', issues, layer);
      return;
    }
    if (!isRecord(entry)) {
      issues.push({ key, layer, className: null, detail: `expected a quantizer string or a dict keyed by activation name (e.g. {"relu": "quantized_relu(4)"}), received ${describe(entry)}` });
      return;
    }
    const known = activationDictKeys();
    for (const [act, q] of Object.entries(entry)) {
      if (!known.includes(act)) {
        issues.push({ key, layer, className: null, detail: `unknown activation ${JSON.stringify(act)}; the keys are Keras activation names (${known.join(', ')})` });
        continue;
      }
      checkQuantizerSpec(q, key, act, issues, layer);
    }
    return;
  }
  if (!isRecord(entry)) {
    issues.push({ key, layer, className: null, detail: `expected a dict with ${fields.join(', ')}, received ${describe(entry)}` });
    return;
  }
  for (const [field, value] of Object.entries(entry)) {
    if (!fields.includes(field)) {
      issues.push({ key, layer, className: null, detail: `unknown field ${JSON.stringify(field)}; this entry may have ${fields.join(', ')}` });
      continue;
    }
    if (field === 'folding_mode') {
      if (value !== null && value !== 'ema_stats_folding' && value !== 'batch_stats_folding') {
        issues.push({ key, layer, className: null, detail: `folding_mode=${describe(value)}; expected 'ema_stats_folding' or 'batch_stats_folding'` });
      }
    } else if (field === 'ema_freeze_delay') {
      if (value !== null && !(typeof value === 'number' && Number.isInteger(value))) {
        issues.push({ key, layer, className: null, detail: `ema_freeze_delay=${describe(value)}; expected an integer or null` });
      }
    } else {
      checkQuantizerSpec(value, key, field, issues, layer);
    }
  }
}

function validateConfig(config: QuantizerConfig, t: Topology, issues: ModelQuantizeIssue[]): void {
  const classKeys = classKeyFields();
  const layers = new Map(t.layers.map((l) => [l.name, l]));
  for (const [key, entry] of Object.entries(config)) {
    if (classKeys.has(key)) {
      checkEntry(key, entry, classKeys.get(key)!, issues, null);
      continue;
    }
    const layer = layers.get(key);
    if (layer !== undefined) {
      const rule = CONVERSIONS[layer.className];
      if (rule === undefined) {
        issues.push({ key, layer: key, className: layer.className, detail: `model_quantize does not convert ${layer.className} layers; it converts ${Object.keys(CONVERSIONS).join(', ')}` });
      } else {
        checkEntry(key, entry, rule.fields, issues, key);
      }
      continue;
    }
    const hint = key === 'default' ? ' (QKeras documents a "default" key but never implemented it)' : '';
    issues.push({
      key,
      layer: null,
      className: null,
      detail: `is neither a layer of the model nor a class key${hint}; layers: ${[...layers.keys()].join(', ')}; class keys: ${[...classKeys.keys()].join(', ')}`,
    });
  }
}

// ---- building -------------------------------------------------------------------------------------------

function isRegistered(className: string, custom: Readonly<Record<string, LayerClass>>): boolean {
  return Object.hasOwn(custom, className) || tf.serialization.SerializationMap.getMap().classNameMap[className] !== undefined;
}

function instantiate(spec: LayerSpec, custom: Readonly<Record<string, LayerClass>>): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  const cls = custom[spec.className] ?? entry?.[0];
  if (cls === undefined) throw new QKerasError(`unknown layer class ${spec.className}; pass it in customObjects`);
  const fromConfig = (cls as unknown as { fromConfig?: typeof tf.layers.Layer.fromConfig }).fromConfig ?? entry?.[1];
  const layer = fromConfig!(cls as never, spec.config as tf.serialization.ConfigDict);
  if (!(layer instanceof tf.layers.Layer)) throw new QKerasError(`${spec.className} is not a layer class`);
  return layer;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function buildModel(t: Topology, specs: Map<string, LayerSpec>, custom: Readonly<Record<string, LayerClass>>, issues: ModelQuantizeIssue[]): tf.LayersModel | null {
  const instances = new Map<string, tf.layers.Layer>();
  for (const l of t.layers) {
    if (!t.sequential && l.className === 'InputLayer') continue;
    const spec = specs.get(l.name)!;
    try {
      instances.set(l.name, instantiate(spec, custom));
    } catch (e) {
      issues.push({ key: null, layer: l.name, className: spec.className, detail: `cannot be built: ${errorText(e)}` });
    }
  }
  if (issues.length > 0) return null;
  if (t.sequential) {
    const seq = tf.sequential({ name: t.name });
    for (const l of t.layers) {
      try {
        seq.add(instances.get(l.name)!);
      } catch (e) {
        issues.push({ key: null, layer: l.name, className: specs.get(l.name)!.className, detail: `cannot be connected: ${errorText(e)}` });
        return null;
      }
    }
    return seq;
  }
  const outputs = new Map<string, tf.SymbolicTensor[][]>();
  const tensor = (ref: unknown): tf.SymbolicTensor | undefined => {
    const r = ref as unknown[];
    return outputs.get(String(r[0]))?.[Number(r[1] ?? 0)]?.[Number(r[2] ?? 0)];
  };
  for (const l of t.layers) {
    if (l.className === 'InputLayer') {
      const c = l.config;
      outputs.set(l.name, [[tf.input({ batchShape: c['batchInputShape'] as number[], dtype: (c['dtype'] as tf.DataType | undefined) ?? 'float32', name: l.name })]]);
      continue;
    }
    const layer = instances.get(l.name)!;
    const calls: tf.SymbolicTensor[][] = [];
    for (const node of l.inboundNodes) {
      const ins = node.map(tensor);
      if (ins.some((x) => x === undefined)) {
        issues.push({ key: null, layer: l.name, className: layer.getClassName(), detail: 'its inputs are not produced before it (unsupported topology)' });
        return null;
      }
      const kwargs = (node[0] as unknown[])[3];
      try {
        const out = layer.apply(ins.length === 1 ? ins[0]! : (ins as tf.SymbolicTensor[]), isRecord(kwargs) && Object.keys(kwargs).length > 0 ? kwargs : undefined);
        calls.push(Array.isArray(out) ? (out as tf.SymbolicTensor[]) : [out as tf.SymbolicTensor]);
      } catch (e) {
        issues.push({ key: null, layer: l.name, className: layer.getClassName(), detail: `cannot be connected: ${errorText(e)}` });
        return null;
      }
    }
    outputs.set(l.name, calls);
  }
  const ins = t.inputLayers.map(tensor);
  const outs = t.outputLayers.map(tensor);
  if (ins.some((x) => x === undefined) || outs.some((x) => x === undefined)) {
    issues.push({ key: null, layer: null, className: null, detail: 'the model inputs or outputs could not be rebuilt' });
    return null;
  }
  return tf.model({ inputs: ins as tf.SymbolicTensor[], outputs: outs as tf.SymbolicTensor[], name: t.name });
}

/**
 * Builds the quantized version of `model` described by `config` (QKeras `model_quantize`).
 * `activationBits` sets the bits of relu/tanh/sigmoid activations that have no explicit quantizer.
 * Throws `ModelQuantizeError` listing every problem found.
 */
export function modelQuantize(
  model: tf.LayersModel,
  config: QuantizerConfig,
  activationBits: number,
  options: ModelQuantizeOptions = {},
): tf.LayersModel {
  const issues: ModelQuantizeIssue[] = [];
  if (!(model instanceof tf.LayersModel)) throw new QKerasError(`modelQuantize: expected a tf.LayersModel, received ${describe(model)}`);
  if (!isRecord(config)) {
    throw new ModelQuantizeError([{ key: null, layer: null, className: null, detail: `the config must be a dict keyed by layer or class name, received ${describe(config)}` }]);
  }
  if (!Number.isInteger(activationBits) || activationBits < 1) {
    issues.push({ key: null, layer: null, className: null, detail: `activationBits=${describe(activationBits)}; expected a positive integer` });
  }
  const custom = options.customObjects ?? {};
  const topology = topologyOf(model);
  const layersToFold = options.enableBnFolding ? foldBatchNorms(topology) : new Set<string>();
  validateConfig(config, topology, issues);

  const ctx: ConvertContext = {
    config,
    activationBits,
    preferQAdaptiveActivation: options.preferQAdaptiveActivation ?? false,
    layersToFold,
    used: new Set(),
    issues,
  };
  const specs = new Map<string, LayerSpec>();
  for (const l of topology.layers) {
    const rule = CONVERSIONS[l.className];
    const converted = rule?.convert({ className: l.className, config: l.config }, ctx) ?? null;
    const spec = converted ?? { className: l.className, config: l.config };
    specs.set(l.name, spec);
    if (converted !== null) {
      const inner = converted.config['layer'];
      const innerClass = isRecord(inner) && typeof inner['className'] === 'string' ? inner['className'] : null;
      for (const target of [converted.className, innerClass]) {
        if (target !== null && !isRegistered(target, custom)) {
          issues.push({ key: null, layer: l.name, className: l.className, detail: `would become ${target}, which is not supported yet by qkeras-ts (leave the layer out of the config to keep it as it is)` });
        }
      }
    }
  }
  if (issues.length > 0) throw new ModelQuantizeError(issues);

  const qmodel = buildModel(topology, specs, custom, issues);
  if (qmodel === null || issues.length > 0) throw new ModelQuantizeError(issues);

  if (options.transferWeights && layersToFold.size === 0) {
    const src = model.layers;
    qmodel.layers.forEach((ql, i) => {
      const l = src[i];
      if (l === undefined || l.weights.length === 0) return;
      try {
        ql.setWeights(l.getWeights());
      } catch (e) {
        issues.push({ key: null, layer: ql.name, className: ql.getClassName(), detail: `weights cannot be transferred: ${errorText(e)}` });
      }
    });
    if (issues.length > 0) throw new ModelQuantizeError(issues);
  }
  return qmodel;
}
