/**
 * Keras 2 HDF5 weight files, read and written with h5wasm (the HDF5 C library compiled to WebAssembly;
 * no Python, no native build).
 *
 * Two layouts exist. `model.save_weights('w.h5')` writes, at the root, the attributes `layer_names`,
 * `backend`, `keras_version` and one group per layer holding a `weight_names` attribute and one dataset per
 * weight under its Keras name (`fc1/kernel:0` → dataset `fc1/fc1/kernel:0`). `model.save('m.h5')` writes the
 * same thing inside a `model_weights` group, plus a `model_config` attribute with the model JSON at the root.
 * Attributes larger than HDF5's 64 KiB header limit are split by Keras into `name0`, `name1`, ...
 *
 * Loading matches file layers to model layers by name and, inside a layer, the file's weights to the tfjs
 * layer's `weights` in order (Keras and tfjs list them in the same order: kernel, bias; gamma, beta,
 * moving_mean, moving_variance; ...), checking that the short names and shapes agree.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { KerasWeightsError, QKerasError, type KerasWeightIssue } from '../errors.js';

/** One weight as stored: its Keras name (`q_dense/kernel:0`), shape and float32 values (row-major). */
export interface H5Weight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** One layer's group: its weights in file order (empty for layers without weights). */
export interface H5LayerWeights {
  readonly layer: string;
  readonly weights: readonly H5Weight[];
}

/** The weights of a file in `layer_names` order, with the root attributes Keras writes. */
export interface KerasWeights {
  readonly layers: readonly H5LayerWeights[];
  readonly kerasVersion: string | null;
  readonly backend: string | null;
}

/** What an HDF5 file holds: the model JSON for a full `model.save` file (else null) and the weights. */
export interface KerasH5Contents {
  readonly modelConfig: unknown;
  readonly weights: KerasWeights;
}

/** The Keras version written into files this package produces: the Keras 2 layout it follows. */
export const KERAS_FORMAT_VERSION = '2.4.0';

/** HDF5's limit on the header data of one object; Keras splits larger attributes below it. */
const HDF5_OBJECT_HEADER_LIMIT = 64512;

type H5Api = (typeof import('h5wasm/node'))['default'];

let h5Loading: Promise<H5Api> | null = null;
/** Set once h5wasm is loaded; every function below that touches HDF5 runs after `h5Init()`. */
let h5: H5Api | null = null;

/**
 * Loads h5wasm's WebAssembly module (once per process). It is loaded on first use, not when this module
 * is imported, because compiling the HDF5 library takes most of a second that commands which never touch
 * an .h5 file should not pay.
 */
export function h5Init(): Promise<H5Api> {
  h5Loading ??= import('h5wasm/node').then(async (m) => {
    const module = await m.default.ready;
    // HDF5 otherwise prints its whole error stack (dozens of HDF5-DIAG lines) to stderr and h5wasm then
    // throws a bare "name not defined"; with this handler the stack comes back as the thrown Error's
    // message, and hdf5Reason() makes one line of it.
    module.activate_throwing_error_handler();
    h5 = m.default;
    return m.default;
  });
  return h5Loading;
}

/**
 * One line from an HDF5 error stack (as the throwing handler reports it): the innermost frame's
 * description, e.g. "truncated file: eof = 20000, sblock->base_addr = 0, stored_eof = 38344".
 * Anything that is not such a stack comes back as it is.
 */
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (!text.includes('HDF5-DIAG')) return text;
  // Frames read "  #003: <file> line <n> in <function>(): <description>"; the first stack's last frame is
  // where the failure started.
  const firstStack = text.split(/HDF5-DIAG:/)[1] ?? '';
  const frames = [...firstStack.matchAll(/#\d+: .*? in [\w.]+\(\): (.*)/g)].map((m) => m[1]!.trim());
  return frames.length > 0 ? `HDF5: ${frames[frames.length - 1]}` : text.split('\n')[0]!;
}

function api(): H5Api {
  if (h5 === null) throw new Error('h5wasm used before h5Init() resolved');
  return h5;
}

function isGroup(x: unknown): x is Group {
  return x instanceof api().Group;
}

function isDataset(x: unknown): x is Dataset {
  return x instanceof api().Dataset;
}

function attrString(g: Group, name: string): string | null {
  const a = g.attrs[name];
  if (a === undefined) return null;
  const v = a.value;
  return typeof v === 'string' ? v : null;
}

/** A string-list attribute, reassembled from Keras's `name0`, `name1`, ... chunks when split. */
function attrStringList(g: Group, name: string, where: string): string[] | null {
  const attrs = g.attrs;
  const toList = (key: string): string[] => {
    const v = attrs[key]!.value;
    if (v === null) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    // h5py writes an empty list as a zero-length float64 array.
    if (ArrayBuffer.isView(v) && (v as Float64Array).length === 0) return [];
    throw new QKerasError(`${where}: attribute ${key} is not a list of strings`);
  };
  if (attrs[name] !== undefined) return toList(name);
  if (attrs[`${name}0`] === undefined) return null;
  const out: string[] = [];
  for (let i = 0; attrs[`${name}${i}`] !== undefined; i++) out.push(...toList(`${name}${i}`));
  return out;
}

function datasetValues(ds: Dataset, where: string): Float32Array {
  const dtype = ds.dtype;
  const v = ds.value;
  if (dtype === '<f' && v instanceof Float32Array) return v;
  if (dtype === '<d' && v instanceof Float64Array) return Float32Array.from(v);
  throw new QKerasError(`${where}: weight dtype ${JSON.stringify(dtype)} is not supported; expected float32 or float64`);
}

function readWeightsGroup(root: Group, file: string): KerasWeights {
  const layerNames = attrStringList(root, 'layer_names', file);
  if (layerNames === null) {
    throw new QKerasError(`${file}: no layer_names attribute; this is not a Keras weights file (save_weights or model.save in HDF5)`);
  }
  const layers: H5LayerWeights[] = layerNames.map((layer) => {
    const g = root.get(layer);
    if (!isGroup(g)) throw new QKerasError(`${file}: layer_names lists ${JSON.stringify(layer)} but the file has no such group`);
    const names = attrStringList(g, 'weight_names', `${file}:${layer}`) ?? [];
    const weights = names.map((name): H5Weight => {
      const ds = g.get(name);
      if (!isDataset(ds)) throw new QKerasError(`${file}: layer ${JSON.stringify(layer)} lists weight ${name} but has no such dataset`);
      return { name, shape: ds.shape ?? [], values: datasetValues(ds, `${file}:${layer}/${name}`) };
    });
    return { layer, weights };
  });
  return { layers, kerasVersion: attrString(root, 'keras_version'), backend: attrString(root, 'backend') };
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5's superblock signature sits at offset 0, or after a user block at 512, 1024, 2048, ... bytes. */
function hasHdf5Signature(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(fd, buf, 0, 8, offset) === 8 && buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** A ZIP archive (what Keras 3 writes as `.keras`) starts with a local file header, "PK\x03\x04". */
function isZipArchive(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    return readSync(fd, buf, 0, 4, 0) === 4 && buf.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  } finally {
    closeSync(fd);
  }
}

function openForReading(path: string): H5File {
  const full = resolve(path);
  if (!existsSync(full)) throw new QKerasError(`HDF5 file not found: ${path}`);
  // h5wasm opens anything without complaint and fails later with an unhelpful message, so check first.
  if (!hasHdf5Signature(full)) {
    if (isZipArchive(full)) {
      throw new QKerasError(
        `${path} is a ZIP archive (the Keras 3 .keras format), not HDF5: save the model from Python with model.save('model.h5'), or model.to_json() and model.save_weights('weights.h5')`,
      );
    }
    throw new QKerasError(`${path} is not a readable HDF5 file (no HDF5 signature)`);
  }
  try {
    return new (api().File)(full, 'r');
  } catch (err) {
    // It starts like HDF5 (the signature is there), so the rest of it is damaged or missing.
    throw new QKerasError(`${path} is damaged or truncated: HDF5 cannot read it (${hdf5Reason(err)})`);
  }
}

/**
 * Reads a Keras HDF5 file of either layout. For a full `model.save` file `modelConfig` is the parsed
 * `model_config` attribute; for a `save_weights` file it is null.
 */
export async function readKerasH5(path: string): Promise<KerasH5Contents> {
  await h5Init();
  const f = openForReading(path);
  try {
    const configText = attrString(f, 'model_config');
    const modelWeights = f.get('model_weights');
    let modelConfig: unknown = null;
    if (configText !== null) {
      try {
        modelConfig = JSON.parse(configText) as unknown;
      } catch (err) {
        throw new QKerasError(`${path}: the model_config attribute is not valid JSON: ${(err as Error).message}`);
      }
    }
    const weights = readWeightsGroup(isGroup(modelWeights) ? modelWeights : f, path);
    return { modelConfig, weights };
  } catch (err) {
    // h5wasm opens a damaged or truncated file and fails on first access with a bare Error.
    if (err instanceof QKerasError) throw err;
    throw new QKerasError(`${path} is damaged or truncated: HDF5 cannot read it (${hdf5Reason(err)})`);
  } finally {
    try {
      f.close();
    } catch {
      // A damaged file may not close cleanly; the error above (or the result) is what matters.
    }
  }
}

// ---- matching file weights to a tfjs model ---------------------------------------------------------

/** `q_dense/kernel:0` → `kernel`; tfjs `q_dense/kernel` → `kernel`: the last path segment without `:n`. */
export function shortWeightName(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.replace(/:\d+$/, '');
}

/** Compares Keras and tfjs spellings (`moving_mean` vs `movingMean`). */
function sameWeightName(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/_/g, '').toLowerCase();
  return norm(a) === norm(b);
}

const shapeText = (s: readonly (number | null)[]): string => `[${s.join(', ')}]`;

/** The model's layers that own weights, by name (Sequential's implicit InputLayer has none). */
function weightedLayers(model: tf.LayersModel): Map<string, tf.layers.Layer> {
  const out = new Map<string, tf.layers.Layer>();
  for (const layer of model.layers) if (layer.weights.length > 0) out.set(layer.name, layer);
  return out;
}

/**
 * Sets the weights of `model` from `weights`. Every mismatch (a layer missing on either side, a different
 * number of weights, a name or shape that differs) is collected and thrown as one `KerasWeightsError`;
 * nothing is assigned unless everything matches.
 */
export function assignKerasWeights(model: tf.LayersModel, weights: KerasWeights, file: string): void {
  const issues: KerasWeightIssue[] = [];
  const fileLayers = new Map(weights.layers.filter((l) => l.weights.length > 0).map((l) => [l.layer, l]));
  const plan: Array<{ layer: tf.layers.Layer; values: H5Weight[] }> = [];
  for (const [name, layer] of weightedLayers(model)) {
    const stored = fileLayers.get(name);
    const expectedNames = layer.weights.map((w) => shortWeightName(w.originalName));
    if (!stored) {
      issues.push({ layer: name, weight: null, expected: `${layer.weights.length} weights (${expectedNames.join(', ')})`, found: 'no weights for this layer in the file' });
      continue;
    }
    fileLayers.delete(name);
    if (stored.weights.length !== layer.weights.length) {
      issues.push({
        layer: name,
        weight: null,
        expected: `${layer.weights.length} weights (${expectedNames.join(', ')})`,
        found: `${stored.weights.length} (${stored.weights.map((w) => w.name).join(', ')})`,
      });
      continue;
    }
    let ok = true;
    layer.weights.forEach((w, i) => {
      const s = stored.weights[i]!;
      if (!sameWeightName(shortWeightName(s.name), expectedNames[i]!)) {
        issues.push({ layer: name, weight: s.name, expected: `weight ${i} to be ${expectedNames[i]}`, found: shortWeightName(s.name) });
        ok = false;
      }
      if (shapeText(w.shape) !== shapeText(s.shape)) {
        issues.push({ layer: name, weight: s.name, expected: `shape ${shapeText(w.shape)}`, found: `shape ${shapeText(s.shape)}` });
        ok = false;
      }
    });
    if (ok) plan.push({ layer, values: [...stored.weights] });
  }
  for (const [name, stored] of fileLayers) {
    issues.push({ layer: name, weight: null, expected: 'a layer of that name in the model', found: `${stored.weights.length} weights in the file and no such layer` });
  }
  if (issues.length > 0) throw new KerasWeightsError(file, issues);
  for (const { layer, values } of plan) setRawWeights(layer, values);
}

/**
 * Sets a layer's weights to exactly the stored values. tfjs's `setWeights` applies each weight's
 * constraint on the way in (QKeras's Clip would clip a latent weight outside its range); Keras's
 * `load_weights` does not, so the underlying variables are assigned directly.
 */
function setRawWeights(layer: tf.layers.Layer, values: readonly H5Weight[]): void {
  layer.weights.forEach((w, i) => {
    const v = values[i]!;
    const tensor = tf.tensor(v.values, [...v.shape], 'float32');
    try {
      const variable = w.read();
      if (variable instanceof tf.Variable) variable.assign(tensor);
      else w.write(tensor);
    } finally {
      tensor.dispose();
    }
  });
}

// ---- writing ----------------------------------------------------------------------------------------

/** Options of `writeKerasH5`: with `modelConfig`, the full `model.save` layout; without, `save_weights`. */
export interface WriteKerasH5Options {
  /** The `{class_name, config}` model JSON to store as `model_config` (full-model layout). */
  readonly modelConfig?: unknown;
  readonly kerasVersion?: string;
}

/** Writes a list of ASCII strings as Keras/h5py do: fixed-length strings, chunked when too large. */
function writeStringListAttr(g: Group, name: string, values: readonly string[]): void {
  if (values.length === 0) {
    // h5py stores an empty list as a zero-length float64 array; Keras reads it back as no names.
    g.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  for (const v of values) {
    if (!/^[\x20-\x7e]*$/.test(v)) throw new QKerasError(`cannot write HDF5 attribute ${name}: ${JSON.stringify(v)} is not printable ASCII`);
  }
  const width = Math.max(1, ...values.map((v) => v.length));
  const chunks = Math.ceil((width * values.length) / HDF5_OBJECT_HEADER_LIMIT);
  if (chunks <= 1) {
    g.create_attribute(name, [...values], [values.length], `A${width}`);
    return;
  }
  const per = Math.ceil(values.length / chunks);
  for (let i = 0; i * per < values.length; i++) {
    const part = values.slice(i * per, (i + 1) * per);
    g.create_attribute(`${name}${i}`, [...part], [part.length], `A${width}`);
  }
}

function writeWeightsGroup(root: Group, layers: readonly H5LayerWeights[], kerasVersion: string): void {
  writeStringListAttr(root, 'layer_names', layers.map((l) => l.layer));
  root.create_attribute('backend', 'tensorflow', null, 'A');
  root.create_attribute('keras_version', kerasVersion, null, 'A');
  for (const layer of layers) {
    const g = root.create_group(layer.layer);
    writeStringListAttr(g, 'weight_names', layer.weights.map((w) => w.name));
    for (const w of layer.weights) {
      // The weight name is a path (`fc1/kernel:0`): create its groups first, as h5py does implicitly.
      const parts = w.name.split('/');
      let parent: Group = g;
      for (const part of parts.slice(0, -1)) {
        const existing = parent.get(part);
        parent = isGroup(existing) ? existing : parent.create_group(part);
      }
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (size !== w.values.length) {
        throw new QKerasError(`cannot write ${layer.layer}/${w.name}: shape ${shapeText(w.shape)} needs ${size} values, got ${w.values.length}`);
      }
      parent.create_dataset({ name: parts[parts.length - 1]!, data: w.values, shape: [...w.shape], dtype: '<f' });
    }
  }
}

/**
 * Writes a Keras 2 HDF5 file at `path` (replacing it): the `save_weights` layout, or the full `model.save`
 * layout when `modelConfig` is given. Not atomic by itself; callers that need that write to a temp path.
 */
export async function writeKerasH5(path: string, layers: readonly H5LayerWeights[], options: WriteKerasH5Options = {}): Promise<void> {
  await h5Init();
  const kerasVersion = options.kerasVersion ?? KERAS_FORMAT_VERSION;
  const f = new (api().File)(resolve(path), 'w');
  try {
    if (options.modelConfig === undefined) {
      writeWeightsGroup(f, layers, kerasVersion);
    } else {
      f.create_attribute('keras_version', kerasVersion, null, 'A');
      f.create_attribute('backend', 'tensorflow', null, 'A');
      // A variable-length string lives on the global heap, so the JSON is not bound by the header limit.
      f.create_attribute('model_config', JSON.stringify(options.modelConfig), null, 'A');
      writeWeightsGroup(f.create_group('model_weights'), layers, kerasVersion);
    }
  } finally {
    f.close();
  }
}

/**
 * The weights of `model` in Keras's order and naming: one entry per layer as Keras's `model.layers` lists
 * them (a Sequential model's InputLayer is not a layer in Keras either), weights named
 * `<layer>/<weight>:0` from the tfjs variable's original (un-uniquified) name.
 */
export function collectModelWeights(model: tf.LayersModel): H5LayerWeights[] {
  return model.layers.map((layer) => ({
    layer: layer.name,
    weights: layer.weights.map((w): H5Weight => {
      const value = w.read();
      const scoped = w.originalName.startsWith(`${layer.name}/`) ? w.originalName.slice(layer.name.length + 1) : shortWeightName(w.originalName);
      return { name: `${layer.name}/${scoped}:0`, shape: [...value.shape], values: value.dataSync() as Float32Array };
    }),
  }));
}
