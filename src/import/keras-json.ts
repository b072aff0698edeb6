/**
 * Reading the Keras 2 `model.to_json()` format: Sequential (both the Keras ≥ 2.2.3 `{name, layers}` form and
 * the older bare list), and Functional / Model graphs with `inbound_nodes`, `input_layers` and
 * `output_layers`. This module only checks and normalises the structure; what each layer's config means is
 * `keras-config.ts`'s job. Every structural problem is collected and reported in one `KerasImportError`.
 */
import { readFileSync } from 'node:fs';
import { KerasImportError, QKerasError, describe, type KerasImportIssue } from '../errors.js';

/** A JSON object as parsed (keys in file order). */
export type JsonObject = { [key: string]: unknown };

/** One input of a layer call: output `tensorIndex` of call number `nodeIndex` of layer `layer`. */
export interface TensorRef {
  readonly layer: string;
  readonly nodeIndex: number;
  readonly tensorIndex: number;
}

/** One call of a layer in a functional graph: its inputs (one or several) and call kwargs. */
export interface InboundNode {
  readonly inputs: readonly TensorRef[];
  readonly kwargs: JsonObject;
}

/** A layer entry of the model JSON, normalised. */
export interface KerasLayerJson {
  readonly className: string;
  readonly name: string;
  /** The layer's config exactly as in the file (snake_case keys). */
  readonly config: JsonObject;
  /** Functional models: each call of the layer. Sequential models: empty. */
  readonly inboundNodes: readonly InboundNode[];
}

export interface KerasModelJson {
  /** `Sequential`, `Functional` or `Model` (Keras < 2.4's name for Functional). */
  readonly className: 'Sequential' | 'Functional' | 'Model';
  readonly name: string;
  readonly layers: readonly KerasLayerJson[];
  /** Functional models only (empty for Sequential). */
  readonly inputs: readonly TensorRef[];
  readonly outputs: readonly TensorRef[];
  readonly kerasVersion: string | null;
  readonly backend: string | null;
}

/** Keys a Keras 2 layer entry may carry besides its config; `module`/`registered_name`/`build_config` come from Keras ≥ 2.13. */
const LAYER_ENTRY_KEYS: ReadonlySet<string> = new Set([
  'class_name',
  'config',
  'name',
  'inbound_nodes',
  'module',
  'registered_name',
  'build_config',
]);

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and parses a JSON file, with an error naming the file when it is missing or not JSON. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new QKerasError(`cannot read Keras model JSON ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new QKerasError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

class IssueList {
  readonly items: KerasImportIssue[] = [];
  add(layer: string, className: string, argument: string | null, detail: string): void {
    this.items.push({ layer, className, argument, detail });
  }
}

function parseTensorRef(raw: unknown): TensorRef | null {
  if (!Array.isArray(raw) || raw.length < 3) return null;
  const [layer, nodeIndex, tensorIndex] = raw as unknown[];
  if (typeof layer !== 'string' || !Number.isInteger(nodeIndex) || !Number.isInteger(tensorIndex)) return null;
  return { layer, nodeIndex: nodeIndex as number, tensorIndex: tensorIndex as number };
}

/** `input_layers`/`output_layers`: a list of `[name, node, tensor]`, or one such triple for a single tensor. */
function parseTensorRefList(raw: unknown, field: string, issues: IssueList, modelName: string): TensorRef[] {
  if (Array.isArray(raw) && typeof raw[0] === 'string') {
    const one = parseTensorRef(raw);
    if (one) return [one];
  }
  const out: TensorRef[] = [];
  if (!Array.isArray(raw) || raw.length === 0) {
    issues.add(modelName, 'Functional', field, `expected a non-empty list of [layer, node, tensor], found ${describe(raw)}`);
    return out;
  }
  for (const item of raw) {
    const ref = parseTensorRef(item);
    if (ref) out.push(ref);
    else issues.add(modelName, 'Functional', field, `expected [layer, node, tensor], found ${describe(item)}`);
  }
  return out;
}

function parseInboundNodes(raw: unknown, layer: string, className: string, issues: IssueList): InboundNode[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.add(layer, className, 'inbound_nodes', `expected a list of nodes, found ${describe(raw)}`);
    return [];
  }
  const nodes: InboundNode[] = [];
  for (const node of raw) {
    if (isJsonObject(node)) {
      // Keras 3 writes {"args": [...], "kwargs": {...}}; QKeras runs on Keras 2 only.
      issues.add(layer, className, 'inbound_nodes', 'Keras 3 node format ({args, kwargs}); save the model with Keras 2 (TF <= 2.15)');
      return [];
    }
    if (!Array.isArray(node) || node.length === 0) {
      issues.add(layer, className, 'inbound_nodes', `expected a non-empty list of [layer, node, tensor, kwargs], found ${describe(node)}`);
      continue;
    }
    const inputs: TensorRef[] = [];
    let kwargs: JsonObject = {};
    for (const item of node as unknown[]) {
      const ref = parseTensorRef(item);
      if (!ref) {
        issues.add(layer, className, 'inbound_nodes', `expected [layer, node, tensor, kwargs], found ${describe(item)}`);
        continue;
      }
      const kw = (item as unknown[])[3];
      if (kw !== undefined && !isJsonObject(kw)) {
        issues.add(layer, className, 'inbound_nodes', `call kwargs must be an object, found ${describe(kw)}`);
      } else if (kw !== undefined) {
        kwargs = kw;
      }
      inputs.push(ref);
    }
    nodes.push({ inputs, kwargs });
  }
  return nodes;
}

function parseLayer(raw: unknown, index: number, functional: boolean, issues: IssueList): KerasLayerJson | null {
  if (!isJsonObject(raw)) {
    issues.add(`#${index}`, '?', null, `a layer entry must be an object, found ${describe(raw)}`);
    return null;
  }
  const className = typeof raw.class_name === 'string' ? raw.class_name : '?';
  const config = raw.config;
  const configName = isJsonObject(config) && typeof config.name === 'string' ? config.name : undefined;
  const name = typeof raw.name === 'string' ? raw.name : (configName ?? `#${index}`);
  if (className === '?') issues.add(name, className, 'class_name', `missing or not a string: ${describe(raw.class_name)}`);
  if (!isJsonObject(config)) {
    issues.add(name, className, 'config', `missing or not an object: ${describe(config)}`);
    return null;
  }
  if (configName === undefined) issues.add(name, className, 'name', 'the layer config has no name');
  else if (typeof raw.name === 'string' && raw.name !== configName) {
    issues.add(name, className, 'name', `entry name ${JSON.stringify(raw.name)} differs from config name ${JSON.stringify(configName)}`);
  }
  for (const key of Object.keys(raw)) {
    if (!LAYER_ENTRY_KEYS.has(key)) issues.add(name, className, key, 'unknown key in the layer entry');
  }
  if (!functional && raw.inbound_nodes !== undefined && !(Array.isArray(raw.inbound_nodes) && raw.inbound_nodes.length === 0)) {
    issues.add(name, className, 'inbound_nodes', 'a Sequential model has no inbound_nodes');
  }
  const inboundNodes = functional ? parseInboundNodes(raw.inbound_nodes, name, className, issues) : [];
  return { className, name, config, inboundNodes };
}

function checkGraph(layers: readonly KerasLayerJson[], inputs: readonly TensorRef[], outputs: readonly TensorRef[], issues: IssueList, modelName: string): void {
  const byName = new Map<string, KerasLayerJson>();
  for (const l of layers) {
    if (byName.has(l.name)) issues.add(l.name, l.className, 'name', 'two layers have this name');
    byName.set(l.name, l);
  }
  // Number of calls of each layer: its inbound node count, or one for an InputLayer.
  const calls = (l: KerasLayerJson): number => (l.className === 'InputLayer' ? 1 : l.inboundNodes.length);
  const checkRef = (ref: TensorRef, owner: string, ownerClass: string, field: string): void => {
    const target = byName.get(ref.layer);
    if (!target) {
      issues.add(owner, ownerClass, field, `refers to layer ${JSON.stringify(ref.layer)}, which the model does not have`);
    } else if (ref.nodeIndex < 0 || ref.nodeIndex >= calls(target)) {
      issues.add(owner, ownerClass, field, `refers to call ${ref.nodeIndex} of layer ${JSON.stringify(ref.layer)}, which is called ${calls(target)} time(s)`);
    }
  };
  for (const l of layers) {
    if (l.className === 'InputLayer') {
      if (l.inboundNodes.some((n) => n.inputs.length > 0)) issues.add(l.name, l.className, 'inbound_nodes', 'an InputLayer takes no inputs');
      continue;
    }
    if (l.inboundNodes.length === 0) issues.add(l.name, l.className, 'inbound_nodes', 'the layer is never called (no inbound nodes)');
    for (const node of l.inboundNodes) for (const ref of node.inputs) checkRef(ref, l.name, l.className, 'inbound_nodes');
  }
  for (const ref of inputs) {
    checkRef(ref, modelName, 'Functional', 'input_layers');
    const target = byName.get(ref.layer);
    if (target && target.className !== 'InputLayer') issues.add(modelName, 'Functional', 'input_layers', `${JSON.stringify(ref.layer)} is not an InputLayer`);
  }
  for (const ref of outputs) checkRef(ref, modelName, 'Functional', 'output_layers');
}

/**
 * Checks and normalises a parsed Keras 2 model JSON. `source` names the file in error messages.
 * Throws one `KerasImportError` listing every structural problem found.
 */
export function parseKerasModelJson(raw: unknown, source = 'Keras model JSON'): KerasModelJson {
  const issues = new IssueList();
  if (!isJsonObject(raw)) throw new KerasImportError(source, [{ layer: '(model)', className: '?', argument: null, detail: `expected a JSON object, found ${describe(raw)}` }]);
  const className = raw.class_name;
  const kerasVersion = typeof raw.keras_version === 'string' ? raw.keras_version : null;
  const backend = typeof raw.backend === 'string' ? raw.backend : null;
  if (kerasVersion !== null && /^3\./.test(kerasVersion)) {
    throw new KerasImportError(source, [{ layer: '(model)', className: String(className), argument: 'keras_version', detail: `Keras ${kerasVersion} files are not supported; QKeras models are saved by Keras 2 (TF <= 2.15)` }]);
  }
  if (className !== 'Sequential' && className !== 'Functional' && className !== 'Model') {
    throw new KerasImportError(source, [{ layer: '(model)', className: String(className), argument: 'class_name', detail: 'expected a Sequential, Functional or Model at the top level' }]);
  }
  const functional = className !== 'Sequential';
  const config = raw.config;
  // Keras < 2.2.3 wrote a Sequential config as the bare list of layers.
  const layerList: unknown = Array.isArray(config) && !functional ? config : isJsonObject(config) ? config.layers : undefined;
  const name = isJsonObject(config) && typeof config.name === 'string' ? config.name : className === 'Sequential' ? 'sequential' : 'model';
  if (!Array.isArray(layerList) || layerList.length === 0) {
    throw new KerasImportError(source, [{ layer: name, className, argument: 'layers', detail: `expected a non-empty list of layers, found ${describe(layerList)}` }]);
  }
  const layers: KerasLayerJson[] = [];
  layerList.forEach((entry, i) => {
    const l = parseLayer(entry, i, functional, issues);
    if (l) layers.push(l);
  });
  let inputs: TensorRef[] = [];
  let outputs: TensorRef[] = [];
  if (functional && isJsonObject(config)) {
    inputs = parseTensorRefList(config.input_layers, 'input_layers', issues, name);
    outputs = parseTensorRefList(config.output_layers, 'output_layers', issues, name);
    checkGraph(layers, inputs, outputs, issues, name);
  } else {
    layers.forEach((l, i) => {
      if (l.className === 'InputLayer' && i > 0) issues.add(l.name, l.className, null, 'an InputLayer can only be the first layer of a Sequential model');
    });
    const seen = new Set<string>();
    for (const l of layers) {
      if (seen.has(l.name)) issues.add(l.name, l.className, 'name', 'two layers have this name');
      seen.add(l.name);
    }
  }
  if (issues.items.length > 0) throw new KerasImportError(source, issues.items);
  return { className, name, layers, inputs, outputs, kerasVersion, backend };
}
