/**
 * Integer codes between TypeScript and the hardware harnesses: quantizing real model inputs with the IR's
 * own input rule (what every back-end receives), the golden model evaluated from input codes, and the
 * vector files the C (and later Verilog) harnesses read and write.
 *
 * Input vector file: binary `QKV1`, u32 little-endian sample count, u32 codes per sample, then the codes
 * as int32 little-endian (all model inputs of a sample concatenated, row-major); or text: whitespace
 * separated decimal integers, one sample per line. Output file: text, one line per sample with every
 * output code (outputs concatenated in graph order).
 */
import { readFileSync } from 'node:fs';
import type { Graph } from '../ir/graph.js';
import type { InputNode, Node } from '../ir/nodes.js';
import { FLOAT } from '../ir/nodes.js';
import type { IRTensor } from '../ir/tensor.js';
import { opOf } from '../ops/registry.js';
import { isCodeOf } from '../ir/fixed.js';
import { formatType } from '../ir/type-text.js';
import { writeFileAtomic } from '../utils/atomic-file.js';
import { QKerasError } from '../errors.js';

/** Samples of integer codes, row-major: sample k occupies `data[k*width .. (k+1)*width)`. */
export interface CodeMatrix {
  readonly count: number;
  readonly width: number;
  readonly data: Float64Array;
}

/** A vector or output file that does not have the expected form. */
export class VectorFileError extends QKerasError {}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function inputNodes(graph: Graph): InputNode[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.inputs.map((id) => byId.get(id) as InputNode);
}

/** Codes per sample of all graph inputs together. */
export function inputWidth(graph: Graph): number {
  return inputNodes(graph).reduce((s, n) => s + numel(n.shape), 0);
}

/** Codes per sample of all graph outputs together. */
export function outputWidth(graph: Graph): number {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.outputs.reduce((s, id) => s + numel(byId.get(id)!.shape), 0);
}

/**
 * Quantizes one sample of real inputs (one flat row-major array per graph input) with each input node's
 * rule, exactly as `runIR` does (float32 rounding, QKeras's residual check), giving the codes the
 * generated code takes.
 */
export function quantizeSample(graph: Graph, reals: readonly ArrayLike<number>[]): Float64Array[] {
  const nodes = inputNodes(graph);
  if (reals.length !== nodes.length) {
    throw new VectorFileError(`the graph has ${nodes.length} input(s); got ${reals.length} array(s) for one sample`);
  }
  return nodes.map((n, k) => {
    const x: IRTensor = { shape: n.shape, type: FLOAT, data: Float64Array.from(reals[k]!) };
    return opOf(n).evaluate(n, [x]).data;
  });
}

/** Quantizes many samples of a one-input graph into a code matrix. */
export function quantizeSamples(graph: Graph, samples: readonly (readonly ArrayLike<number>[])[]): CodeMatrix {
  const width = inputWidth(graph);
  const data = new Float64Array(samples.length * width);
  samples.forEach((s, k) => {
    let off = k * width;
    for (const codes of quantizeSample(graph, s)) {
      data.set(codes, off);
      off += codes.length;
    }
  });
  return { count: samples.length, width, data };
}

/**
 * The golden model started from input codes: every node after the inputs is evaluated by the op registry
 * as `runIR` does. Returns the graph outputs. `codes` holds one flat array per graph input.
 */
export function runIRFromCodes(graph: Graph, codes: readonly ArrayLike<number>[]): IRTensor[] {
  const values = new Map<string, IRTensor>();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  graph.inputs.forEach((id, k) => {
    const n = byId.get(id)! as Node;
    if (n.type === null || n.type.kind === 'float') throw new VectorFileError(`input %${id} has no integer type`);
    const data = Float64Array.from(codes[k]!);
    if (data.length !== numel(n.shape)) {
      throw new VectorFileError(`input %${id}: ${data.length} codes for shape [${n.shape.join(', ')}]`);
    }
    const type = n.type;
    const bad = data.findIndex((c) => !isCodeOf(c, type));
    if (bad >= 0) throw new VectorFileError(`input %${id}: ${data[bad]} at index ${bad} is not a code of ${formatType(type)}`);
    values.set(id, { shape: n.shape, type: n.type, data });
  });
  for (const n of graph.nodes) {
    if (n.kind === 'input') continue;
    const ins = n.inputs.map((i) => values.get(i)!);
    values.set(n.id, opOf(n).evaluate(n, ins));
  }
  return graph.outputs.map((id) => values.get(id)!);
}

/** Splits one sample row of a code matrix into one array per graph input. */
export function splitSample(graph: Graph, m: CodeMatrix, k: number): Float64Array[] {
  const nodes = inputNodes(graph);
  let off = k * m.width;
  return nodes.map((n) => {
    const len = numel(n.shape);
    const part = m.data.subarray(off, off + len);
    off += len;
    return part;
  });
}

/** The golden outputs of every sample, concatenated per sample like the harness writes them. */
export function goldenOutputs(graph: Graph, m: CodeMatrix): CodeMatrix {
  const width = outputWidth(graph);
  const data = new Float64Array(m.count * width);
  for (let k = 0; k < m.count; k += 1) {
    let off = k * width;
    for (const t of runIRFromCodes(graph, splitSample(graph, m, k))) {
      data.set(t.data, off);
      off += t.data.length;
    }
  }
  return { count: m.count, width, data };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Writes codes as a vector file: binary when every code fits int32, else text. */
export function writeVectorFile(path: string, m: CodeMatrix, format: 'auto' | 'binary' | 'text' = 'auto'): void {
  for (let i = 0; i < m.data.length; i += 1) {
    if (!Number.isSafeInteger(m.data[i]!)) throw new VectorFileError(`code ${m.data[i]} at index ${i} is not an integer`);
  }
  let binary = format !== 'text';
  if (format !== 'binary' && m.data.some((v) => v < INT32_MIN || v > INT32_MAX)) binary = false;
  if (format === 'binary' && !binary) throw new VectorFileError('codes beyond int32 need the text format');
  if (binary) {
    const buf = Buffer.alloc(12 + 4 * m.data.length);
    buf.write('QKV1', 0, 'ascii');
    buf.writeUInt32LE(m.count, 4);
    buf.writeUInt32LE(m.width, 8);
    for (let i = 0; i < m.data.length; i += 1) {
      const v = m.data[i]!;
      if (v < INT32_MIN || v > INT32_MAX) throw new VectorFileError(`code ${v} does not fit the binary format's int32`);
      buf.writeInt32LE(v, 12 + 4 * i);
    }
    writeFileAtomic(path, buf);
    return;
  }
  const lines: string[] = [];
  for (let k = 0; k < m.count; k += 1) lines.push(Array.from(m.data.subarray(k * m.width, (k + 1) * m.width)).join(' '));
  writeFileAtomic(path, `${lines.join('\n')}\n`);
}

/** Reads an output file of `width` codes per line. */
export function readOutputFile(path: string, width: number): CodeMatrix {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const data = new Float64Array(lines.length * width);
  lines.forEach((line, k) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== width) {
      throw new VectorFileError(`${path} line ${k + 1}: ${parts.length} codes, expected ${width}`);
    }
    parts.forEach((p, i) => {
      const v = Number(p);
      if (!Number.isSafeInteger(v)) throw new VectorFileError(`${path} line ${k + 1}: ${JSON.stringify(p)} is not an integer`);
      data[k * width + i] = v;
    });
  });
  return { count: lines.length, width, data };
}

/** The first difference between two code matrices, or null when equal. */
export function firstMismatch(
  a: CodeMatrix,
  b: CodeMatrix,
): { sample: number; index: number; got: number; want: number } | null {
  if (a.count !== b.count || a.width !== b.width) {
    return { sample: Math.min(a.count, b.count), index: -1, got: a.count * a.width, want: b.count * b.width };
  }
  for (let i = 0; i < a.data.length; i += 1) {
    if (a.data[i] !== b.data[i]) return { sample: Math.floor(i / a.width), index: i % a.width, got: a.data[i]!, want: b.data[i]! };
  }
  return null;
}
