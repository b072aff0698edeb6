/**
 * A model as every engine sees it: the tfjs model loaded from disk (a tfjs layers-model directory or
 * model.json, a Keras/QKeras model JSON with its HDF5 weights, or a full Keras .h5), its declared input
 * quantizer, its input and output shapes, and its IR graph (lowered once, on first use).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { QKerasError } from '../errors.js';
import { ready } from '../backend/index.js';
import { loadQmodel, MODEL_JSON } from '../utils/save-load.js';
import { importKeras } from '../import/import-keras.js';
import { KERAS_WEIGHTS_FILE } from '../import/export-keras.js';
import { lowerModelDetailed, type LoweredModel } from '../lower/lower-model.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import type { Graph } from '../ir/graph.js';

/** A model path that does not exist or cannot be read as a model. */
export class ModelSourceError extends QKerasError {}

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
    return importKeras(file);
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
  return importKeras(file, weights);
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
