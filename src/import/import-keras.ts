/**
 * `importKeras`: a Keras 2 / QKeras model (`model.to_json()` + `save_weights('*.h5')`, or one full
 * `model.save('*.h5')` file) as a tfjs `LayersModel` built from this package's Q layers and tfjs's own
 * layers. The files hold the latent float weights; the Q layers quantize them at every call, as QKeras
 * does at inference, so predictions are those of the QKeras model.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { KerasImportError, QKerasError, describe, type KerasImportIssue } from '../errors.js';
// Register the Q layers, Clip and QInitializer with tfjs's serialization map, and every quantizer class.
import '../layers/index.js';
import '../quantizers/index.js';
import { assignKerasWeights, readKerasH5, type KerasWeights } from './h5-weights.js';
import { kerasLayerToTfjs, type TfLayerSpec } from './keras-config.js';
import { parseKerasModelJson, readJsonFile, type KerasLayerJson, type KerasModelJson, type TensorRef } from './keras-json.js';

const HDF5_EXTENSIONS = /\.(h5|hdf5|keras)$/i;

/** Instantiates a layer of a registered class from its tfjs config. */
function instantiate(spec: TfLayerSpec): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (entry === undefined) throw new QKerasError(`tfjs has no layer class ${spec.className}`);
  const [cls, fromConfig] = entry;
  const layer = fromConfig(cls, structuredClone(spec.config));
  if (!(layer instanceof tf.layers.Layer)) throw new QKerasError(`${spec.className} is not a layer class`);
  return layer;
}

function message(err: unknown): string {
  // tfjs prints the tensors it got as "[object Object]"; say what they are.
  return (err instanceof Error ? err.message : String(err)).replaceAll('[object Object]', '<tensor>');
}

/**
 * Maps and instantiates every layer, collecting every problem before giving up: a layer whose config
 * maps is instantiated even when other layers do not, so that problems only the layer class finds (a
 * quantizer that does not parse) are reported in the same run, in model order.
 */
function buildLayers(model: KerasModelJson, source: string): Map<string, tf.layers.Layer | TfLayerSpec> {
  const issues: KerasImportIssue[] = [];
  const built = new Map<string, tf.layers.Layer | TfLayerSpec>();
  for (const l of model.layers) {
    const before = issues.length;
    const spec = kerasLayerToTfjs(l, issues);
    if (spec === null) continue;
    // Functional inputs are created by tf.input from the spec itself.
    if (l.className === 'InputLayer' && model.className !== 'Sequential') {
      built.set(l.name, spec);
      continue;
    }
    // A layer with a problem already reported is not built: its config lacks the faulty argument, so what
    // the class would say about it is a consequence, not news.
    if (issues.length > before) continue;
    try {
      built.set(l.name, instantiate(spec));
    } catch (err) {
      issues.push({ layer: l.name, className: l.className, argument: null, detail: message(err) });
    }
  }
  if (issues.length > 0) throw new KerasImportError(source, issues);
  return built;
}

function buildSequential(model: KerasModelJson, layers: Map<string, tf.layers.Layer | TfLayerSpec>, source: string): tf.Sequential {
  const list = model.layers.map((l) => layers.get(l.name) as tf.layers.Layer);
  const first = model.layers[0]!;
  if (first.className !== 'InputLayer' && !Array.isArray(first.config.batch_input_shape)) {
    throw new KerasImportError(source, [{ layer: first.name, className: first.className, argument: 'batch_input_shape', detail: 'the first layer of a Sequential model has no input shape (and there is no InputLayer), so the model cannot be built' }]);
  }
  const seq = tf.sequential({ name: model.name });
  for (let i = 0; i < list.length; i++) {
    try {
      seq.add(list[i]!);
    } catch (err) {
      const l = model.layers[i]!;
      throw new KerasImportError(source, [{ layer: l.name, className: l.className, argument: null, detail: `cannot be connected: ${message(err)}` }]);
    }
  }
  return seq;
}

function buildFunctional(model: KerasModelJson, layers: Map<string, tf.layers.Layer | TfLayerSpec>, source: string): tf.LayersModel {
  // Output tensors of each call of each layer: outputs.get(name)[nodeIndex][tensorIndex].
  const outputs = new Map<string, tf.SymbolicTensor[][]>();
  const issues: KerasImportIssue[] = [];
  for (const l of model.layers) {
    if (l.className !== 'InputLayer') continue;
    const spec = layers.get(l.name) as TfLayerSpec;
    const shape = spec.config['batchInputShape'] as (number | null)[];
    outputs.set(l.name, [[tf.input({ batchShape: shape, name: l.name, dtype: 'float32' })]]);
  }
  const tensorFor = (ref: TensorRef): tf.SymbolicTensor | undefined => outputs.get(ref.layer)?.[ref.nodeIndex]?.[ref.tensorIndex];
  // Keras writes layers in topological order, but nothing requires it: call each node once its inputs exist.
  const pending: Array<{ layer: KerasLayerJson; node: number }> = [];
  for (const l of model.layers) {
    if (l.className !== 'InputLayer') l.inboundNodes.forEach((_n, node) => pending.push({ layer: l, node }));
  }
  let progress = true;
  while (pending.length > 0 && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const { layer: l, node } = pending[i]!;
      const inbound = l.inboundNodes[node]!;
      // A layer's calls must happen in node order, so node k waits for node k-1.
      if ((outputs.get(l.name)?.length ?? 0) !== node) continue;
      const inputs = inbound.inputs.map(tensorFor);
      if (inputs.some((t) => t === undefined)) continue;
      pending.splice(i--, 1);
      progress = true;
      if (Object.keys(inbound.kwargs).length > 0) {
        issues.push({ layer: l.name, className: l.className, argument: 'inbound_nodes', detail: `call arguments ${describe(inbound.kwargs)} are not supported` });
      }
      const layer = layers.get(l.name) as tf.layers.Layer;
      try {
        const ins = inputs as tf.SymbolicTensor[];
        const out = layer.apply(ins.length === 1 ? ins[0]! : ins) as tf.SymbolicTensor | tf.SymbolicTensor[];
        const list = outputs.get(l.name) ?? [];
        list.push(Array.isArray(out) ? out : [out]);
        outputs.set(l.name, list);
      } catch (err) {
        issues.push({ layer: l.name, className: l.className, argument: null, detail: `cannot be connected: ${message(err)}` });
        // Mark the call as done (with no tensors) so that later calls of the same layer are not blocked forever.
        const list = outputs.get(l.name) ?? [];
        list.push([]);
        outputs.set(l.name, list);
      }
    }
  }
  for (const { layer: l, node } of pending) {
    if (issues.length === 0) issues.push({ layer: l.name, className: l.className, argument: 'inbound_nodes', detail: `call ${node} waits for inputs that are never produced (a cycle or a missing layer)` });
  }
  const resolve = (refs: readonly TensorRef[], field: string): tf.SymbolicTensor[] =>
    refs.map((ref) => {
      const t = tensorFor(ref);
      if (t === undefined) issues.push({ layer: model.name, className: model.className, argument: field, detail: `${JSON.stringify(ref.layer)} output ${ref.tensorIndex} of call ${ref.nodeIndex} does not exist` });
      return t!;
    });
  const ins = resolve(model.inputs, 'input_layers');
  const outs = resolve(model.outputs, 'output_layers');
  if (issues.length > 0) throw new KerasImportError(source, issues);
  try {
    return tf.model({ inputs: ins, outputs: outs, name: model.name });
  } catch (err) {
    // tfjs's own graph checks (an input listed twice, outputs not reachable from the inputs).
    throw new KerasImportError(source, [{ layer: model.name, className: model.className, argument: 'input_layers', detail: `the model cannot be assembled: ${message(err)}` }]);
  }
}

export interface BuildOptions {
  /**
   * The weights will be overwritten right away (they come from a file): create them as zeros instead of
   * running the initializers. Besides saving the work, this keeps initializers with state (QKeras's
   * QInitializer raises its scale on each draw) exactly as the file describes them.
   */
  readonly skipInitializers?: boolean;
}

/** Builds the tfjs model of a parsed Keras model JSON (weights freshly initialised unless told otherwise). */
export function buildKerasModel(model: KerasModelJson, source = 'Keras model', options: BuildOptions = {}): tf.LayersModel {
  const layers = buildLayers(model, source);
  const instances = [...layers.values()].filter((l): l is tf.layers.Layer => l instanceof tf.layers.Layer);
  const fast = options.skipInitializers === true;
  for (const l of instances) l.setFastWeightInitDuringBuild(fast);
  try {
    return model.className === 'Sequential' ? buildSequential(model, layers, source) : buildFunctional(model, layers, source);
  } finally {
    for (const l of instances) l.setFastWeightInitDuringBuild(false);
  }
}

/** A model JSON as a path to a `.json` file or the parsed object (`JSON.parse(model.to_json())`). */
export type KerasJsonSource = string | Record<string, unknown>;

/**
 * Imports a Keras 2 / QKeras model.
 *
 * - `importKeras('model.json', 'weights.h5')`: the model JSON (`model.to_json()`; a path or the parsed
 *   object) and a `save_weights` HDF5 file (a full `model.save` file works too: its weights are used).
 * - `importKeras('model.h5')`: a full `model.save` HDF5 file, which carries its own model JSON.
 * - `importKeras('model.json')` with no weights: the architecture only, freshly initialised.
 *
 * Every layer or argument that cannot be mapped is reported at once in a `KerasImportError`; weights
 * that do not fit (missing layers, wrong shapes) in a `KerasWeightsError`.
 */
export async function importKeras(model: KerasJsonSource, weightsPath?: string): Promise<tf.LayersModel> {
  await ready();
  let json: unknown;
  let source: string;
  let weights: KerasWeights | null = null;
  let weightsSource = weightsPath ?? '';
  if (typeof model === 'string' && HDF5_EXTENSIONS.test(model)) {
    if (weightsPath !== undefined) {
      throw new QKerasError(`${model} is an HDF5 file: give either a full-model .h5 alone, or a model JSON and its weights .h5`);
    }
    const contents = await readKerasH5(model);
    if (contents.modelConfig === null) {
      throw new QKerasError(`${model} holds weights only (save_weights); import it together with the model JSON: importKeras('model.json', '${model}')`);
    }
    json = contents.modelConfig;
    source = model;
    weights = contents.weights;
    weightsSource = model;
  } else {
    json = typeof model === 'string' ? readJsonFile(model) : model;
    source = typeof model === 'string' ? model : 'Keras model JSON';
    if (weightsPath !== undefined) weights = (await readKerasH5(weightsPath)).weights;
  }
  const parsed = parseKerasModelJson(json, source);
  const built = buildKerasModel(parsed, source, { skipInitializers: weights !== null });
  if (weights !== null) {
    try {
      assignKerasWeights(built, weights, weightsSource);
    } catch (err) {
      built.dispose();
      throw err;
    }
  }
  return built;
}
