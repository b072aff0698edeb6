/**
 * Test helpers for the Keras import tests: fixture paths, and reading the fixture HDF5 files with h5wasm
 * directly, independently of src/import's reader, so that tests compare the importer with the raw file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import h5wasm, { type Dataset } from 'h5wasm/node';

export const MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');

export const MODEL_NAMES = ['qkeras_3layer', 'qkeras_mnist_dense', 'qkeras_mnist_cnn', 'KERAS_3layer'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const jsonPath = (m: ModelName): string => join(MODELS_DIR, `${m}.json`);
export const weightsPath = (m: ModelName): string => join(MODELS_DIR, `${m}_weights.h5`);

/** The fixture's model JSON, parsed. */
export function modelJson(m: ModelName): Record<string, unknown> {
  return JSON.parse(readFileSync(jsonPath(m), 'utf8')) as Record<string, unknown>;
}

/** The fixture's layer entries (`config.layers`) with their class name and config. */
export function jsonLayers(m: ModelName): Array<{ class_name: string; config: Record<string, unknown> }> {
  const cfg = modelJson(m)['config'] as { layers: Array<{ class_name: string; config: Record<string, unknown> }> };
  return cfg.layers;
}

export interface RawArray {
  readonly shape: number[];
  readonly values: Float32Array;
}

/** One dataset of an HDF5 file, read straight with h5wasm (`path` like `fc1/fc1/kernel:0`). */
export async function rawDataset(file: string, path: string): Promise<RawArray> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    const ds = f.get(path) as Dataset | null;
    if (ds === null) throw new Error(`${file}: no dataset ${path}`);
    return { shape: ds.shape ?? [], values: Float32Array.from(ds.value as Float32Array) };
  } finally {
    f.close();
  }
}

/** A string-list attribute (`layer_names`, `weight_names`) of a group, read straight with h5wasm. */
export async function rawStringAttr(file: string, group: string, name: string): Promise<string[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    const g = group === '/' ? f : f.get(group);
    const attr = (g as typeof f).attrs[name];
    if (attr === undefined) throw new Error(`${file}:${group} has no attribute ${name}`);
    const v = attr.value;
    if (Array.isArray(v)) return v as string[];
    if (typeof v === 'string') return [v];
    return [];
  } finally {
    f.close();
  }
}

/** Every dataset path under `root` of an HDF5 file, sorted. */
export async function datasetPaths(file: string): Promise<string[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    return f.paths().filter((p) => f.get(p) instanceof h5wasm.Dataset).sort();
  } finally {
    f.close();
  }
}

/** Bit patterns of float32 values, so that toEqual compares bits (−0 vs 0, NaN payloads). */
export function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}
