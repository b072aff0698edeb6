/**
 * A model as every engine sees it: the tfjs model loaded from disk (a tfjs layers-model directory or
 * model.json, a Keras/QKeras model JSON with its HDF5 weights, or a full Keras .h5), its declared input
 * quantizer, its input and output shapes, and its IR graph (lowered once, on first use).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { KerasImportError, KerasWeightsError, QKerasError } from '../errors.js';
import { ready } from '../backend/index.js';
import { loadQmodel, MODEL_JSON } from '../utils/save-load.js';
import { importKeras } from '../import/import-keras.js';
import { KERAS_WEIGHTS_FILE } from '../import/export-keras.js';
import { lowerModelDetailed, type LoweredModel } from '../lower/lower-model.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import { assertFiniteWeights } from '../utils/finite-weights.js';
import type { Graph } from '../ir/graph.js';

/** A model path that does not exist or cannot be read as a model. */
export class ModelSourceError extends QKerasError {}

/** How many problems a one-line import message spells out before summarising the rest. */
const MAX_LISTED = 8;

/**
 * A Keras model that cannot be imported, with `importKeras`'s error (every problem, by layer name and
 * class) as `cause`, and a message on one line as the CLI prints errors: problems with the same text are
 * merged ("layer "a" (LSTM), layer "b" (GRU): unknown layer class; ...") and separated by " | ".
 */
export class ModelImportError extends ModelSourceError {
  constructor(override readonly cause: KerasImportError | KerasWeightsError) {
    super(oneLineImportMessage(cause));
  }
}

function oneLineImportMessage(err: KerasImportError | KerasWeightsError): string {
  // Problems that read the same ("unknown layer class; supported: ...") are listed once with every layer.
  const groups = new Map<string, string[]>();
  const add = (where: string, detail: string): void => {
    const list = groups.get(detail) ?? [];
    list.push(where);
    groups.set(detail, list);
  };
  let head: string;
  if (err instanceof KerasImportError) {
    for (const i of err.issues) add(`${JSON.stringify(i.layer)} (${i.className})${i.argument === null ? '' : ` argument ${i.argument}`}`, i.detail);
    const n = err.issues.length;
    head = `${err.source}: cannot import the model, ${n} problem${n === 1 ? '' : 's'}`;
  } else {
    for (const i of err.issues) add(`${JSON.stringify(i.layer)}${i.weight === null ? '' : ` weight ${i.weight}`}`, `expected ${i.expected}, found ${i.found}`);
    head = `${err.file}: the weights do not match the model`;
  }
  const parts = [...groups].map(([detail, wheres]) => `layer${wheres.length === 1 ? '' : 's'} ${wheres.join(', ')}: ${detail}`);
  const shown = parts.slice(0, MAX_LISTED);
  if (parts.length > MAX_LISTED) shown.push(`and ${parts.length - MAX_LISTED} more`);
  return `${head}: ${shown.join(' | ')}`;
}

/** importKeras with its errors as one-line ModelImportErrors. */
async function importOneLine(model: string, weights?: string): Promise<tf.LayersModel> {
  try {
    return await importKeras(model, weights);
  } catch (err) {
    if (err instanceof KerasImportError || err instanceof KerasWeightsError) throw new ModelImportError(err);
    throw err;
  }
}

const HDF5 = /\.(h5|hdf5|keras)$/i;

export interface LoadOptions {
  /** HDF5 weights for a Keras model JSON (`model.to_json()` + `save_weights`). */
  readonly weights?: string;
  /** QKeras string of the input quantizer every engine applies first. */
  readonly inputQuantizer?: string | null;
}

function isTfjsModelJson(file: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelSourceError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return typeof parsed === 'object' && parsed !== null && 'modelTopology' in parsed;
}

/** Loads a model from a path as described in the module comment. */
export async function loadModelFrom(path: string, options: LoadOptions = {}): Promise<tf.LayersModel> {
  await ready();
  if (!existsSync(path)) throw new ModelSourceError(`model ${path} does not exist`);
  let file = path;
  if (statSync(path).isDirectory()) {
    file = join(path, MODEL_JSON);
    if (!existsSync(file)) throw new ModelSourceError(`model directory ${path} has no ${MODEL_JSON}`);
  }
  if (HDF5.test(file)) {
    if (options.weights !== undefined) {
      throw new ModelSourceError(`${file} is a full Keras model file; --weights is only for a Keras model JSON`);
    }
    return importOneLine(file);
  }
  if (isTfjsModelJson(file)) {
    if (options.weights !== undefined) {
      throw new ModelSourceError(`${file} is a tfjs model.json with its own weights; --weights is only for a Keras model JSON`);
    }
    return loadQmodel(file, { compile: false });
  }
  // A Keras model JSON: weights from --weights, or the model_weights.h5 that exportKeras writes beside it.
  let weights = options.weights;
  if (weights === undefined && statSync(path).isDirectory() && existsSync(join(path, KERAS_WEIGHTS_FILE))) {
    weights = join(path, KERAS_WEIGHTS_FILE);
  }
  if (weights !== undefined && !existsSync(weights)) throw new ModelSourceError(`weights file ${weights} does not exist`);
  return importOneLine(file, weights);
}

function withoutBatch(shape: readonly (number | null)[], what: string, source: string): number[] {
  const s = shape.slice(1);
  if (s.some((d) => d === null)) {
    throw new ModelSourceError(`${source}: the model ${what} shape ${JSON.stringify(shape)} has undefined dimensions`);
  }
  return s as number[];
}

export class LoadedModel {
  private loweredModel: LoweredModel | null = null;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];

  constructor(
    /** The path the model was loaded from, for messages. */
    readonly source: string,
    readonly model: tf.LayersModel,
    /** The declared input quantizer (a QKeras string), or null. */
    readonly inputQuantizer: string | null,
  ) {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new ModelSourceError(`${source}: predict needs a model with one input and one output`);
    }
    const dtype = model.inputs[0]!.dtype;
    if (dtype !== 'float32') {
      throw new ModelSourceError(`${source}: the model input has dtype ${JSON.stringify(dtype)}; the engines feed float32 values`);
    }
    // Every engine (and the lowering) would otherwise run on NaN or infinite weights.
    assertFiniteWeights(model);
    this.inputShape = withoutBatch(model.inputs[0]!.shape, 'input', source);
    this.outputShape = withoutBatch(model.outputs[0]!.shape, 'output', source);
  }

  /** The lowered model (with the pipeline's report), computed on first use. */
  lowered(): LoweredModel {
    this.loweredModel ??= lowerModelDetailed(this.model, { inputQuantizer: this.inputQuantizer });
    return this.loweredModel;
  }

  /** The IR graph after the pass pipeline; output 0 is what predict returns. */
  graph(): Graph {
    return this.lowered().graph;
  }
}

/** Loads a model for the engines (the input quantizer is parsed first, so a bad one fails early). */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<LoadedModel> {
  if (options.inputQuantizer !== undefined && options.inputQuantizer !== null) getQuantizer(options.inputQuantizer);
  const model = await loadModelFrom(path, options);
  return new LoadedModel(path, model, options.inputQuantizer ?? null);
}
