/**
 * Checks the layer graph of a tfjs `modelTopology` (Keras 2 JSON form) before tfjs rebuilds it.
 *
 * tfjs's `Container.fromConfig` queues every layer call and re-queues a call whose inputs do not exist
 * yet, looping until the queue is empty: a call that refers to a missing layer, to a call that never
 * happens, or that sits on a cycle makes it spin forever. This module replays that queue without building
 * anything — same lookups, same order, same comparisons on the raw values — and reports the calls left
 * over by layer name instead of hanging. Nested models are checked the same way.
 */
import { KerasImportError, describe, type KerasImportIssue } from '../errors.js';

type JsonObject = { [key: string]: unknown };

const FUNCTIONAL: ReadonlySet<string> = new Set(['Functional', 'Model']);
const MODEL_CLASSES: ReadonlySet<string> = new Set(['Sequential', ...FUNCTIONAL]);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function className(entry: JsonObject): string {
  return typeof entry['class_name'] === 'string' ? entry['class_name'] : '?';
}

/** Problems of one functional config's layer list and calls (empty when tfjs can replay every call). */
function functionalIssues(config: JsonObject, modelName: string): KerasImportIssue[] {
  const issues: KerasImportIssue[] = [];
  const add = (layer: string, cls: string, argument: string | null, detail: string): void => {
    issues.push({ layer, className: cls, argument, detail });
  };
  const layers = config['layers'];
  if (!Array.isArray(layers)) {
    add(modelName, 'Functional', 'layers', `expected a list of layers, found ${describe(layers)}`);
    return issues;
  }
  // Per layer entry: its name and its calls (each a list of [layer, node, tensor, kwargs] inputs).
  const entries: Array<{ name: string; cls: string; calls: unknown[][][] }> = [];
  const index = new Map<string, number>();
  layers.forEach((raw, i) => {
    if (!isObject(raw) || typeof raw['name'] !== 'string') {
      add(`#${i}`, isObject(raw) ? className(raw) : '?', 'name', `a layer entry must be an object with a string name, found ${describe(raw)}`);
      return;
    }
    const name = raw['name'];
    const cls = className(raw);
    const cfg = raw['config'];
    if (isObject(cfg) && cfg['name'] !== undefined && cfg['name'] !== name) {
      add(name, cls, 'name', `entry name ${JSON.stringify(name)} differs from config name ${describe(cfg['name'])}`);
    }
    if (index.has(name)) add(name, cls, 'name', 'two layers have this name');
    const nodes = raw['inbound_nodes'] ?? [];
    const calls: unknown[][][] = [];
    if (!Array.isArray(nodes)) {
      add(name, cls, 'inbound_nodes', `expected a list of calls, found ${describe(nodes)}`);
    } else {
      for (const node of nodes) {
        if (!Array.isArray(node) || !node.every((ref) => Array.isArray(ref) && typeof ref[0] === 'string' && Number.isInteger(ref[1]) && ref[1] >= 0 && Number.isInteger(ref[2]) && ref[2] >= 0)) {
          add(name, cls, 'inbound_nodes', `expected a call as a list of [layer name, call index, tensor index, kwargs], found ${describe(node)}`);
          continue;
        }
        calls.push(node as unknown[][]);
      }
    }
    index.set(name, entries.length);
    entries.push({ name, cls, calls });
  });
  if (issues.length > 0) return issues;

  // tfjs's replay: an InputLayer or a nested model has one call when created; a call runs once every
  // input names an existing layer with more calls than the index it asks for, and adds a call to its
  // layer (an empty input list runs nothing).
  const made = entries.map((e) => (e.cls === 'InputLayer' || MODEL_CLASSES.has(e.cls) ? 1 : 0));
  let pending = entries.flatMap((e, k) => e.calls.map((call) => ({ k, call })));
  for (let progress = true; progress && pending.length > 0; ) {
    const before = pending.length;
    pending = pending.filter(({ k, call }) => {
      const ready = call.every((ref) => {
        const source = index.get(ref[0] as string);
        return source !== undefined && made[source]! > (ref[1] as number);
      });
      if (ready && call.length > 0) made[k]! += 1;
      return !ready;
    });
    progress = pending.length < before;
  }
  for (const { k, call } of pending) {
    const e = entries[k]!;
    const missing = call.find((ref) => !index.has(ref[0] as string));
    add(
      e.name,
      e.cls,
      'inbound_nodes',
      missing !== undefined
        ? `refers to layer ${JSON.stringify(missing[0])}, which the model does not have`
        : `the call ${describe(call)} waits for a call that never happens (a cycle, or a call index past the layer's calls)`,
    );
  }
  // The model's inputs and outputs must name calls that exist, once each.
  const named: Record<'input_layers' | 'output_layers', number[]> = { input_layers: [], output_layers: [] };
  for (const field of ['input_layers', 'output_layers'] as const) {
    const refs = config[field];
    const list = Array.isArray(refs) && typeof refs[0] === 'string' ? [refs] : refs;
    if (!Array.isArray(list) || list.length === 0) {
      add(modelName, 'Functional', field, `expected a non-empty list of [layer name, call index, tensor index], found ${describe(refs)}`);
      continue;
    }
    for (const ref of list) {
      const source = Array.isArray(ref) && typeof ref[0] === 'string' ? index.get(ref[0]) : undefined;
      if (source === undefined || !Number.isInteger(ref[1]) || ref[1] < 0 || ref[1] >= made[source]! || !Number.isInteger(ref[2]) || ref[2] < 0) {
        add(modelName, 'Functional', field, `${describe(ref)} does not name an existing call of a layer`);
      } else if (named[field].includes(source) && field === 'input_layers') {
        add(modelName, 'Functional', field, `${describe(ref)} is listed twice`);
      } else {
        named[field].push(source);
      }
    }
  }
  if (issues.length > 0) return issues;
  // Every input layer an output depends on must be a declared input (tfjs: "Graph disconnected").
  const feeds = entries.map((e) => new Set(e.calls.flatMap((call) => call.map((ref) => index.get(ref[0] as string)!))));
  const reached = new Set<number>();
  const stack = [...named.output_layers];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (reached.has(k)) continue;
    reached.add(k);
    stack.push(...feeds[k]!);
  }
  for (const k of reached) {
    const e = entries[k]!;
    if (e.cls === 'InputLayer' && !named.input_layers.includes(k)) {
      add(modelName, 'Functional', 'input_layers', `the outputs depend on the InputLayer ${JSON.stringify(e.name)}, which input_layers does not list`);
    }
  }
  for (const k of named.input_layers) {
    const e = entries[k]!;
    if (e.cls !== 'InputLayer') add(modelName, 'Functional', 'input_layers', `${JSON.stringify(e.name)} is a ${e.cls}, not an InputLayer`);
  }
  return issues;
}

/**
 * Throws a `KerasImportError` naming every layer call of `topology` (and of the models nested in it)
 * that tfjs could not replay: references to missing layers or calls, malformed call lists, cycles.
 * `source` names the file in the message. Anything that is not a Sequential/Functional/Model dict is
 * left to tfjs.
 */
export function checkTopologyGraph(topology: unknown, source: string): void {
  if (!isObject(topology) || !MODEL_CLASSES.has(className(topology))) return;
  const config = topology['config'];
  const name = isObject(config) && typeof config['name'] === 'string' ? config['name'] : className(topology);
  if (FUNCTIONAL.has(className(topology))) {
    const issues = isObject(config) ? functionalIssues(config, name) : [{ layer: name, className: className(topology), argument: 'config', detail: `expected an object, found ${describe(config)}` }];
    if (issues.length > 0) throw new KerasImportError(source, issues);
  }
  const layers: unknown[] = Array.isArray(config) ? config : isObject(config) && Array.isArray(config['layers']) ? config['layers'] : [];
  for (const l of layers) checkTopologyGraph(l, source);
}
