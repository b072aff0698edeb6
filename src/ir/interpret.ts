/**
 * The golden integer model: evaluates an IR graph on one sample, node by node through the op registry,
 * with integers only (exact doubles with asserted bounds). The input node applies the input quantizer to
 * the float32 value of each real input as QKeras does in float32; everything after it is exact integer
 * arithmetic, and every node's result is checked against its declared shape and type.
 */
import type { Graph } from './graph.js';
import type { IntType, Node } from './nodes.js';
import { FLOAT, typesEqual } from './nodes.js';
import { codeRange, isCodeOf } from './fixed.js';
import { IRRuntimeError } from './errors.js';
import { realValues, type IRTensor } from './tensor.js';
import { opOf } from '../ops/registry.js';

export type IRInputs = ArrayLike<number> | readonly ArrayLike<number>[];

function isNumberArray(x: IRInputs): x is ArrayLike<number> {
  return x.length === 0 || typeof x[0] === 'number';
}

function normalizeInputs(graph: Graph, inputs: IRInputs): ArrayLike<number>[] {
  if (isNumberArray(inputs)) {
    if (graph.inputs.length !== 1) {
      throw new IRRuntimeError(graph.inputs[0] ?? graph.name, `the graph has ${graph.inputs.length} inputs; pass one array per input`);
    }
    return [inputs];
  }
  const list = Array.from(inputs as readonly ArrayLike<number>[]);
  if (list.length !== graph.inputs.length || list.some((a) => a.length > 0 && typeof a[0] !== 'number')) {
    throw new IRRuntimeError(
      graph.inputs[0] ?? graph.name,
      `expected ${graph.inputs.length} flat input array(s), got ${list.length} nested entries; flatten nested samples ` +
        'with flattenSample',
    );
  }
  return list;
}

/** Flattens a nested (row-major) sample such as `[[1, 2], [3, 4]]` into the flat array runIR takes. */
export function flattenSample(sample: unknown): number[] {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else throw new IRRuntimeError('input', `sample entries must be numbers or arrays, found ${JSON.stringify(v)}`);
  };
  walk(sample);
  return out;
}

/** Throws unless every code is an integer value of the type (the node's result respects its declaration). */
function verifyCodes(node: Node, t: IRTensor): void {
  if (t.type.kind === 'float') return;
  const type: IntType = t.type;
  if (type.kind === 'fixed') {
    const r = codeRange(type);
    const lo = Number(r.lo);
    const hi = Number(r.hi);
    for (let i = 0; i < t.data.length; i += 1) {
      const v = t.data[i]!;
      if (!(v >= lo && v <= hi) || !Number.isInteger(v)) {
        throw new IRRuntimeError(node.id, `value ${v} at index ${i} does not fit its type (codes ${lo}..${hi})`);
      }
    }
    return;
  }
  for (let i = 0; i < t.data.length; i += 1) {
    if (!isCodeOf(t.data[i]!, type)) {
      throw new IRRuntimeError(node.id, `value ${t.data[i]} at index ${i} is not a code of its ${type.kind} type`);
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Evaluates every node; returns the value of each node by id. */
export function traceIR(graph: Graph, inputs: IRInputs): Map<string, IRTensor> {
  const given = normalizeInputs(graph, inputs);
  const values = new Map<string, IRTensor>();
  for (const node of graph.nodes) {
    let ins: IRTensor[];
    if (node.kind === 'input') {
      const k = graph.inputs.indexOf(node.id);
      if (k < 0) throw new IRRuntimeError(node.id, 'this input node is not listed among the graph inputs');
      ins = [{ shape: node.shape, type: FLOAT, data: Float64Array.from(given[k]!) }];
    } else {
      ins = node.inputs.map((id) => {
        const v = values.get(id);
        if (v === undefined) throw new IRRuntimeError(node.id, `input %${id} has not been computed before this node`);
        return v;
      });
    }
    const out = opOf(node).evaluate(node, ins);
    if (!sameShape(out.shape, node.shape)) {
      throw new IRRuntimeError(node.id, `computed shape [${out.shape.join(', ')}] but the graph says [${node.shape.join(', ')}]`);
    }
    if (node.type !== null && !typesEqual(node.type, out.type)) {
      throw new IRRuntimeError(
        node.id,
        `computed type ${JSON.stringify(out.type)} but the graph says ${JSON.stringify(node.type)}; run the infer-widths pass`,
      );
    }
    verifyCodes(node, out);
    values.set(node.id, out);
  }
  return values;
}

/**
 * Runs the graph on one sample. `inputs` is one flat (row-major) array of real values per graph input, or
 * a single flat array for a one-input graph. Returns the output tensors (integer codes and their types).
 */
export function runIR(graph: Graph, inputs: IRInputs): IRTensor[] {
  const values = traceIR(graph, inputs);
  return graph.outputs.map((id) => {
    const v = values.get(id);
    if (v === undefined) throw new IRRuntimeError(id, 'output node was not computed');
    return v;
  });
}

/** Runs the graph and returns each output as real values (code · 2^-frac), as `out.json` holds them. */
export function runIRReal(graph: Graph, inputs: IRInputs): Float64Array[] {
  return runIR(graph, inputs).map(realValues);
}
