/**
 * The engines `qkeras predict --engine` can run, by name. A back-end adds its engine file and one entry
 * in ENGINES.
 */
import type { Engine } from './types.js';
import { tfjsEngine } from './tfjs-engine.js';
import { irEngine } from './ir-engine.js';
import { cEngine } from './c.js';
import { verilogEngine } from './verilog.js';

export const ENGINES: readonly Engine[] = [
  tfjsEngine,
  irEngine,
  cEngine,
  verilogEngine,
];

export function engineNames(): string[] {
  return ENGINES.map((e) => e.name);
}

/** The engine called `name`, or undefined. */
export function findEngine(name: string): Engine | undefined {
  return ENGINES.find((e) => e.name === name);
}

export type { Engine, PredictOptions } from './types.js';
export { LoadedModel, ModelSourceError, ModelImportError, loadModel, loadModelFrom, type LoadOptions } from './loaded-model.js';
export { logitsModel, endsInSoftmax } from './logits-model.js';
export { tfjsEngine } from './tfjs-engine.js';
export { irEngine } from './ir-engine.js';
export { SampleError, flattenSamples, nest, outputsJson } from './samples.js';
