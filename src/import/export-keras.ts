/**
 * `exportKeras`: a tfjs model built from tfjs layers and this package's Q layers, written back in the
 * Keras 2 formats QKeras loads — `model.json` as `model.to_json()` writes it (QKeras class names,
 * quantizers as `{class_name, config}`) and `model_weights.h5` in the `save_weights` layout, so that
 * `model = quantized_model_from_json(open('model.json').read()); model.load_weights('model_weights.h5')`
 * (or `tf.keras.models.model_from_json(..., custom_objects)` with QKeras's objects) gets the same model.
 * The weights written are the latent float weights, as QKeras keeps them.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { KerasImportError, type KerasImportIssue } from '../errors.js';
import { writeFilesAtomic } from '../utils/atomic-file.js';
import { KERAS_FORMAT_VERSION, collectModelWeights, writeKerasH5, type H5LayerWeights } from './h5-weights.js';
import { tfjsLayerToKeras } from './keras-config.js';
import { isJsonObject, type JsonObject } from './keras-json.js';

/** File names `exportKeras` writes inside its directory. */
export const KERAS_JSON_FILE = 'model.json';
export const KERAS_WEIGHTS_FILE = 'model_weights.h5';

function isSequential(model: tf.LayersModel): model is tf.Sequential {
  return model instanceof tf.Sequential;
}

function layerEntry(layer: tf.layers.Layer, issues: KerasImportIssue[]): JsonObject | null {
  return tfjsLayerToKeras(layer.name, layer.getClassName(), layer.getConfig(), issues);
}

function inputLayerEntry(model: tf.LayersModel, issues: KerasImportIssue[]): JsonObject | null {
  const input = model.inputs[0]!.sourceLayer;
  const config = tfjsLayerToKeras(input.name, 'InputLayer', input.getConfig(), issues);
  return config === null ? null : { class_name: 'InputLayer', config: { ...config, sparse: false, ragged: false } };
}

/**
 * The Keras 2 model JSON of `model` (the object `json.loads(model.to_json())` gives). Every layer or
 * setting Keras cannot express is collected and thrown as one `KerasImportError`.
 */
export function kerasModelJson(model: tf.LayersModel): JsonObject {
  const issues: KerasImportIssue[] = [];
  let result: JsonObject;
  if (isSequential(model)) {
    const layers: JsonObject[] = [];
    // Keras 2.4+ writes the InputLayer first; tfjs keeps it only when the model was built from one.
    const own = model.layers;
    if (own.length === 0 || own[0]!.getClassName() !== 'InputLayer') {
      const entry = inputLayerEntry(model, issues);
      if (entry) layers.push(entry);
    }
    for (const layer of own) {
      const config = layerEntry(layer, issues);
      if (config === null) continue;
      layers.push({ class_name: layer.getClassName(), config: layer.getClassName() === 'InputLayer' ? { ...config, sparse: false, ragged: false } : config });
    }
    result = { class_name: 'Sequential', config: { name: model.name, layers } };
  } else {
    // tfjs's container config already has Keras's topology (inbound nodes, input/output layers).
    const topology = model.getConfig() as unknown as {
      name: string;
      layers: Array<{ name: string; className: string; inboundNodes: unknown }>;
      inputLayers: unknown;
      outputLayers: unknown;
    };
    const byName = new Map(model.layers.map((l) => [l.name, l]));
    const layers: JsonObject[] = [];
    for (const entry of topology.layers) {
      const layer = byName.get(entry.name)!;
      const config = layerEntry(layer, issues);
      if (config === null) continue;
      layers.push({
        class_name: entry.className,
        config: entry.className === 'InputLayer' ? { ...config, sparse: false, ragged: false } : config,
        name: entry.name,
        inbound_nodes: entry.inboundNodes,
      });
    }
    result = {
      class_name: 'Functional',
      config: { name: topology.name, layers, input_layers: topology.inputLayers, output_layers: topology.outputLayers },
    };
  }
  if (issues.length > 0) throw new KerasImportError(`exporting model ${JSON.stringify(model.name)} to Keras`, issues);
  return { ...result, keras_version: KERAS_FORMAT_VERSION, backend: 'tensorflow' };
}

/** The weights in Keras's `save_weights` order: Keras's Sequential has no InputLayer among its layers. */
function kerasWeights(model: tf.LayersModel): H5LayerWeights[] {
  const all = collectModelWeights(model);
  if (!isSequential(model)) return all;
  return all.filter((_w, i) => model.layers[i]!.getClassName() !== 'InputLayer');
}

let tempCounter = 0;

/** Writes the HDF5 file to a temp path beside `target` and returns its bytes (the temp file is removed). */
async function h5Bytes(target: string, weights: H5LayerWeights[], modelConfig?: unknown): Promise<Uint8Array> {
  const tmp = join(dirname(target), `.${basename(target)}.h5tmp-${process.pid}-${++tempCounter}`);
  try {
    await writeKerasH5(tmp, weights, modelConfig === undefined ? {} : { modelConfig });
    return readFileSync(tmp);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface ExportedKeras {
  readonly json: string;
  readonly weights: string;
}

/**
 * Writes `dir/model.json` (Keras 2 JSON with QKeras class names and quantizer configs) and
 * `dir/model_weights.h5` (`save_weights` layout). Both files are staged and renamed into place together,
 * so an interrupted export never leaves a half-written pair.
 */
export async function exportKeras(model: tf.LayersModel, dir: string): Promise<ExportedKeras> {
  const json = kerasModelJson(model);
  const jsonPath = join(dir, KERAS_JSON_FILE);
  const weightsPath = join(dir, KERAS_WEIGHTS_FILE);
  // The HDF5 file is staged in the target directory, so it must exist first.
  mkdirSync(dir, { recursive: true });
  const bytes = await h5Bytes(weightsPath, kerasWeights(model));
  writeFilesAtomic([
    { path: jsonPath, data: `${JSON.stringify(json)}\n` },
    { path: weightsPath, data: bytes },
  ]);
  return { json: jsonPath, weights: weightsPath };
}

/**
 * Writes one HDF5 file in Keras's full `model.save` layout (`model_config` + `model_weights`), which
 * `tf.keras.models.load_model` / QKeras's `load_qmodel` read, and `importKeras(path)` too.
 */
export async function exportKerasH5(model: tf.LayersModel, path: string): Promise<string> {
  const json = kerasModelJson(model);
  mkdirSync(dirname(path), { recursive: true });
  // model.save stores only the class and config; the version and backend are file attributes.
  const modelConfig = isJsonObject(json) ? { class_name: json.class_name, config: json.config } : json;
  const bytes = await h5Bytes(path, kerasWeights(model), modelConfig);
  writeFilesAtomic([{ path, data: bytes }]);
  return path;
}
