/**
 * Saving and loading models with Q layers on disk, in tfjs's layers-model format (`model.json` +
 * `weights.bin`), without tfjs-node (whose `file://` handler is what normally does this).
 *
 * `saveQmodel` writes both files atomically (temp files, then rename: an interrupted save leaves the
 * previous model intact). `loadQmodel` checks everything it can before building the model — files
 * present, JSON well formed, byte counts matching the manifest, every layer class known — and reports
 * problems with the path, what was expected and what was found.
 *
 * Python floats: QKeras prints `alpha=1.0` and `alpha=1` differently, and a JSON number cannot tell them
 * apart once parsed by JavaScript. The writer therefore prints integral Python-float quantizer arguments
 * as `1.0` (as Keras's JSON does) and the reader keeps that distinction, so a reloaded quantizer prints
 * exactly like the saved one.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { QKerasError, describe } from '../errors.js';
// Registers the Q layers, Clip and QInitializer for deserialisation.
import '../layers/index.js';
import { pyNumber } from '../quantizers/base.js';
import { lookupQuantizer } from '../quantizers/registry.js';
import { writeFilesAtomic } from './atomic-file.js';
import { checkTopologyGraph } from './topology-check.js';

/** A model file that is missing, malformed or inconsistent; the message names the file and the problem. */
export class ModelFileError extends QKerasError {}

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A quantizer in Keras's serialised form, `{class_name: <registered quantizer>, config: {...}}`. */
function isQuantizerDict(v: unknown): v is { class_name: string; config: JsonObject } {
  return isObject(v) && typeof v['class_name'] === 'string' && isObject(v['config']) && lookupQuantizer(v['class_name']) !== undefined;
}

/** Rewrites the values of every quantizer config found in `v` (recursively, returns a copy). */
function mapQuantizerConfigValues(v: Json, f: (value: Json) => Json): Json {
  if (Array.isArray(v)) return v.map((e) => mapQuantizerConfigValues(e, f));
  if (!isObject(v)) return v;
  if (isQuantizerDict(v)) {
    const config: JsonObject = {};
    for (const [k, val] of Object.entries(v.config)) config[k] = f(val);
    return { ...v, config };
  }
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) out[k] = mapQuantizerConfigValues(val, f);
  return out;
}

// ---- Python floats through JSON ------------------------------------------------------------------------

/** How tfjs's config conversion leaves a PyFloat (an object with one `value` key). */
function pyFloatValue(v: Json): number | null {
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'value' && typeof v['value'] === 'number') return v['value'];
  }
  return null;
}

const FLOAT_MARK = '\u0001pyfloat\u0001';
const FLOAT_KEY = '\u0001pyfloat';

/** JSON text of a topology, with integral Python floats in quantizer configs printed as `1.0`. */
function stringifyModelJson(modelJson: JsonObject): string {
  const mark = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(mark);
    const n = pyFloatValue(v);
    return n === null ? v : `${FLOAT_MARK}${pyNumber(n, true)}${FLOAT_MARK}`;
  };
  const text = JSON.stringify(mapQuantizerConfigValues(modelJson, mark));
  const escaped = JSON.stringify(FLOAT_MARK).slice(1, -1).replace(/\\/g, '\\\\');
  return text.replace(new RegExp(`"${escaped}([^"]*)${escaped}"`, 'g'), '$1');
}

/**
 * Parses model.json, keeping integral float literals (`1.0`, `2e0`) of quantizer configs as PyFloat-like
 * `{value: n}` objects (what `reviveQuantizerSpec` turns back into Python floats); every other number is
 * a plain number.
 */
function parseModelJson(text: string): Json {
  // Strings are matched (and kept) so that digits inside them are never touched.
  const tagged = text.replace(/"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) => {
    if (tok.startsWith('"') || !/[.eE]/.test(tok) || !Number.isInteger(Number(tok))) return tok;
    return `{${JSON.stringify(FLOAT_KEY)}:${tok}}`;
  });
  const parsed = JSON.parse(tagged) as Json;
  const unmark = (v: Json, keep: boolean): Json => {
    if (Array.isArray(v)) return v.map((e) => unmark(e, keep));
    if (!isObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === FLOAT_KEY) return keep ? { value: v[FLOAT_KEY]! } : v[FLOAT_KEY]!;
    const out: JsonObject = {};
    for (const [k, val] of Object.entries(v)) out[k] = unmark(val, keep);
    return out;
  };
  // Inside quantizer configs the floats stay marked; everywhere else they become numbers.
  const inQuantizers = mapQuantizerConfigValues(parsed, (val) => unmark(val, true));
  return unmark(inQuantizers, false);
}

// ---- saving --------------------------------------------------------------------------------------------

function weightBytes(data: tf.io.ModelArtifacts['weightData']): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

export interface SaveQmodelOptions {
  /**
   * Save the training configuration and optimizer state of a compiled model, as Keras's `model.save`
   * does by default (so `loadQmodel` can resume training). Default true.
   */
  includeOptimizer?: boolean;
}

/**
 * Saves `model` as `dir/model.json` + `dir/weights.bin` (tfjs layers format, one weights file), creating
 * `dir` if needed. Both files are replaced atomically. Returns tfjs's save summary.
 */
export async function saveQmodel(
  model: tf.LayersModel,
  dir: string,
  options: SaveQmodelOptions = {},
): Promise<tf.io.SaveResult> {
  if (!(model instanceof tf.LayersModel)) {
    throw new ModelFileError(`saveQmodel: expected a tf.LayersModel (tf.sequential/tf.model), received ${describe(model)}`);
  }
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new ModelFileError(`saveQmodel: ${target} exists and is not a directory`);
  }
  return model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const bytes = weightBytes(artifacts.weightData);
      const modelJson: JsonObject = {
        modelTopology: artifacts.modelTopology as Json,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? null,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: (artifacts.weightSpecs ?? []) as unknown as Json }],
      };
      if (artifacts.trainingConfig !== undefined) modelJson['trainingConfig'] = artifacts.trainingConfig as unknown as Json;
      if (artifacts.userDefinedMetadata !== undefined) modelJson['userDefinedMetadata'] = artifacts.userDefinedMetadata as Json;
      // Weights first, then model.json: the JSON is what a loader reads first.
      writeFilesAtomic([
        { path: join(target, WEIGHTS_BIN), data: bytes },
        { path: join(target, MODEL_JSON), data: stringifyModelJson(modelJson) },
      ]);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: options.includeOptimizer ?? true },
  );
}

// ---- loading -------------------------------------------------------------------------------------------

export interface LoadQmodelOptions {
  /** Extra layer classes by class name (QKeras's `custom_objects`); Q layers are always known. */
  customObjects?: Record<string, tf.serialization.SerializableConstructor<tf.serialization.Serializable>>;
  /** Restore the training configuration (optimizer, loss, metrics) if the file has one. Default true. */
  compile?: boolean;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

function specBytes(spec: tf.io.WeightsManifestEntry): number | null {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = BYTES_PER_ELEMENT[dtype];
  if (per === undefined) return null; // strings have no fixed size
  return spec.shape.reduce((a, b) => a * b, 1) * per;
}

function readManifest(modelJson: JsonObject, file: string): tf.io.WeightsManifestConfig {
  const manifest = modelJson['weightsManifest'];
  const bad = (what: string): ModelFileError =>
    new ModelFileError(`${file}: weightsManifest ${what}; expected a list of {paths: [file names], weights: [specs]}`);
  if (manifest === undefined || manifest === null) return [];
  if (!Array.isArray(manifest)) throw bad(`is ${describe(manifest)}`);
  for (const [i, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      throw bad(`entry ${i} is ${describe(group)}`);
    }
    if (!group['paths'].every((p) => typeof p === 'string')) throw bad(`entry ${i} has non-string paths`);
    if (group['paths'].length === 0 && group['weights'].length > 0) throw bad(`entry ${i} lists weights but no weights file`);
    for (const w of group['weights']) {
      const shape = isObject(w) ? w['shape'] : null;
      const dims = Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
      if (!isObject(w) || typeof w['name'] !== 'string' || !dims || typeof w['dtype'] !== 'string') {
        throw bad(`entry ${i} has a malformed weight spec ${describe(w)}`);
      }
    }
  }
  return manifest as unknown as tf.io.WeightsManifestConfig;
}

/**
 * The weights file a manifest path names. Paths come from the model file, not from the user: only a
 * relative path to a file inside the model's directory is read (no absolute path, no `..` out of it).
 */
function weightsFilePath(baseDir: string, p: string): string {
  const full = resolve(baseDir, p);
  const rel = relative(baseDir, full);
  if (p.trim() === '' || isAbsolute(p) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ModelFileError(
      `weights path ${JSON.stringify(p)} (listed in model.json) is not a file name inside the model directory ${baseDir}; ` +
        'weights files must sit beside model.json (or below it)',
    );
  }
  if (!existsSync(full)) throw new ModelFileError(`weights file ${full} (listed in model.json) does not exist`);
  if (!statSync(full).isFile()) throw new ModelFileError(`weights path ${full} (listed in model.json) is not a file`);
  return full;
}

/** Reads every weights file of the manifest, checking each group's byte count against its specs. */
function readWeights(manifest: tf.io.WeightsManifestConfig, baseDir: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const group of manifest) {
    const files = group.paths.map((p) => weightsFilePath(baseDir, p));
    let actual = 0;
    for (const f of files) {
      const data = readFileSync(f);
      actual += data.byteLength;
      parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    const sizes = group.weights.map(specBytes);
    if (sizes.every((s): s is number => s !== null)) {
      const expected = sizes.reduce((a, b) => a + b, 0);
      if (expected !== actual) {
        throw new ModelFileError(
          `${files.join(', ')}: expected ${expected} bytes (the ${group.weights.length} weights listed in ` +
            `model.json) but found ${actual} bytes; the file is ${actual < expected ? 'truncated' : 'too long'} ` +
            'or does not belong to this model.json',
        );
      }
    }
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Every layer class name in a (pythonic) topology, nested models and wrappers included. */
function layerClassNames(node: Json, out: Set<string>): Set<string> {
  if (!isObject(node)) return out;
  const config = node['config'];
  if (typeof node['class_name'] === 'string') out.add(node['class_name']);
  if (isObject(config)) {
    if (Array.isArray(config['layers'])) for (const l of config['layers']) layerClassNames(l, out);
    if (isObject(config['layer'])) layerClassNames(config['layer'], out);
  }
  return out;
}

function checkClassesKnown(topology: Json, customObjects: Record<string, unknown>, file: string): void {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const unknown = [...layerClassNames(topology, new Set())].filter((c) => !(c in known) && !(c in customObjects));
  if (unknown.length > 0) {
    throw new ModelFileError(
      `${file}: unknown layer class${unknown.length > 1 ? 'es' : ''} ${unknown.join(', ')}; ` +
        'register them with tf.serialization.registerClass or pass them in customObjects',
    );
  }
}

/**
 * Runs `fn` with `customObjects` registered by name in tfjs's class registry, restoring the registry
 * afterwards. (tfjs's own customObjects argument is dropped for the layers of a Sequential model, so the
 * registry is the one place every nested deserialisation looks.)
 */
async function withCustomObjects<T>(
  customObjects: NonNullable<LoadQmodelOptions['customObjects']>,
  fn: () => Promise<T>,
): Promise<T> {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const previous = new Map<string, (typeof map)[string] | undefined>();
  for (const [name, cls] of Object.entries(customObjects)) {
    previous.set(name, map[name]);
    map[name] = [cls, cls.fromConfig];
  }
  try {
    return await fn();
  } finally {
    for (const [name, entry] of previous) {
      if (entry === undefined) delete map[name];
      else map[name] = entry;
    }
  }
}

/** Resolves `dir`, `dir/model.json` or any `*.json` path to the model.json file. */
function modelJsonPath(pathArg: string): string {
  const p = resolve(pathArg);
  if (!existsSync(p)) throw new ModelFileError(`loadQmodel: ${p} does not exist`);
  if (statSync(p).isDirectory()) {
    const f = join(p, MODEL_JSON);
    if (!existsSync(f)) throw new ModelFileError(`loadQmodel: ${p} has no ${MODEL_JSON}`);
    return f;
  }
  return p;
}

/**
 * Loads a model saved by `saveQmodel` (or any tfjs layers-model directory) from `dir` or
 * `dir/model.json`, with every Q layer and quantizer restored.
 */
export async function loadQmodel(pathArg: string, options: LoadQmodelOptions = {}): Promise<tf.LayersModel> {
  const file = modelJsonPath(pathArg);
  let modelJson: Json;
  try {
    modelJson = parseModelJson(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(modelJson) || !isObject(modelJson['modelTopology'])) {
    throw new ModelFileError(`${file}: no modelTopology object; this is not a tfjs layers-model file`);
  }
  const topology = modelJson['modelTopology'];
  const customObjects = options.customObjects ?? {};
  const modelConfig = isObject(topology['model_config']) ? topology['model_config'] : topology;
  checkClassesKnown(modelConfig, customObjects, file);
  // tfjs loops forever on a call graph it cannot replay (dangling references, cycles): check it first.
  checkTopologyGraph(modelConfig, file);
  const manifest = readManifest(modelJson, file);
  const weightData = readWeights(manifest, dirname(file));
  const trainingConfig = modelJson['trainingConfig'];
  const metadata = modelJson['userDefinedMetadata'];
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology as object,
    format: 'layers-model',
    weightSpecs: manifest.flatMap((g) => g.weights),
    weightData: weightData.buffer as ArrayBuffer,
  };
  if ((options.compile ?? true) && isObject(trainingConfig)) {
    artifacts.trainingConfig = trainingConfig as unknown as tf.io.TrainingConfig;
  }
  if (isObject(metadata)) artifacts.userDefinedMetadata = metadata as NonNullable<tf.io.ModelArtifacts['userDefinedMetadata']>;
  // tfjs's loader skips the initializers when weights follow (QInitializer's rescaling would otherwise
  // run again and change the reloaded config) and restores the optimizer state when compiling.
  let model: tf.LayersModel;
  try {
    model = await withCustomObjects(customObjects, () => tf.loadLayersModel(tf.io.fromMemory(artifacts)));
  } catch (e) {
    if (e instanceof QKerasError) throw e;
    // tfjs prints the tensors it got as "[object Object]"; say what they are.
    throw new ModelFileError(`${file}: the model could not be rebuilt (${String((e as Error).message).replaceAll('[object Object]', '<tensor>')})`);
  }
  return model;
}
