/**
 * The C back-end: `emitC(graph, outDir)` writes a self-contained C99 model — `model.h` (the API, types,
 * scales, memory), `model.c` (one instance of a hand-written kernel per layer and `<name>_predict`),
 * `weights.h` (constants in the narrowest integer types), the `qk_*.h` kernels it uses and
 * `report.json` (ROM and RAM per layer and in total). The output is deterministic: the same graph and
 * options give byte-identical files. The code takes input codes (already quantized) and returns output
 * codes, equal bit for bit to `runIR` on the same codes.
 */
import { join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import type { InputNode, IntType, Node, Rule } from '../ir/nodes.js';
import { assertValid } from '../ir/check.js';
import { formatType } from '../ir/type-text.js';
import { gridFrac } from '../ir/fixed.js';
import { UnsupportedError, assertNever } from '../errors.js';
import { writeFilesAtomic } from '../utils/atomic-file.js';
import { C_RULES, IdentifierPool, commentText, sanitizeIdentifier } from './identifiers.js';
import { Renderer, packageVersion, readAsset, templatePath } from './render.js';
import { C_TYPES, cElement, cTypeOf, typeBytes, type CType } from './c-types.js';
import { arrayBytes, mapLayer, planLayer, type CArray, type LayerCode, type LayerContext } from './c-layers.js';
import { planBuffers, type Storage } from './c-buffers.js';

export interface EmitCOptions {
  /** Prefix of the public symbols (`<name>_predict`); defaults to the graph name. Sanitised to C. */
  readonly name?: string;
}

/** One model input or output as the generated API exposes it. */
export interface CTensorApi {
  readonly index: number;
  /** Graph node id and Keras layer name. */
  readonly node: string;
  readonly layer: string;
  /** Parameter name in `<name>_predict` (`in`, `out`, or `in0`, `out1`, ... with several). */
  readonly param: string;
  readonly typedef: string;
  readonly ctype: CType;
  readonly shape: readonly number[];
  readonly size: number;
  readonly type: IntType;
  /** Grid exponent: real value = code · 2^-frac. */
  readonly frac: number;
}

export interface CApi {
  readonly prefix: string;
  readonly predict: string;
  /** `<name>_argmax` over the first output that is not itself an argmax, or null. */
  readonly argmax: string | null;
  readonly inputs: readonly CTensorApi[];
  readonly outputs: readonly CTensorApi[];
}

export interface CLayerReport {
  readonly id: string;
  readonly layer: string;
  readonly className: string;
  readonly kind: Node['kind'];
  /** Kernel family: multiply, add-sub, xnor-popcount, sum, compare, lookup, requantize, copy, alias, argument. */
  readonly variant: string;
  readonly kernels: readonly string[];
  /** Constants of this layer (weights, biases, factors, tables). */
  readonly romBytes: number;
  /** Bytes of its output tensor. */
  readonly ramBytes: number;
  /** Where the output lives: `in`, `out`, `slot <k>` or an alias. */
  readonly storage: string;
  readonly stackBytes: number;
}

export interface CReport {
  readonly generator: string;
  readonly graph: string;
  readonly prefix: string;
  readonly layers: readonly CLayerReport[];
  /** All constants. */
  readonly romBytes: number;
  /** Static activation buffers (the slots), excluding the caller's input and output arrays. */
  readonly ramBytes: number;
  /** Largest kernel-local array. */
  readonly stackBytes: number;
  /** Caller-provided input and output arrays. */
  readonly ioBytes: number;
}

export interface EmitCResult {
  readonly dir: string;
  /** Every file written, sorted by name. */
  readonly files: readonly string[];
  readonly api: CApi;
  readonly report: CReport;
  /** The rendered sources by file name (what was written). */
  readonly sources: Readonly<Record<string, string>>;
}

const renderer = new Renderer();

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function intType(node: Node): IntType {
  const t = node.type;
  if (t === null) {
    throw new UnsupportedError(`%${node.id} (layer ${JSON.stringify(node.origin.layer)}) has no type; run runPipeline (or inferWidths) on the graph before emitC`);
  }
  if (t.kind === 'float') throw new UnsupportedError(`%${node.id}: only the model input may be float, and it is quantized by its input node`);
  return t;
}

/** Words describing an input rule: what the caller must do to real inputs to get the codes. */
function describeInputRule(rule: Rule, frac: number): string {
  switch (rule.kind) {
    case 'shift': {
      const f = rule.frac ?? frac;
      const tie = rule.rounding === 'half_even' ? 'half to even' : 'half away from zero';
      const neg = rule.negSlopeExp === null ? '' : `; negative x use round(x * 2^${f + rule.negSlopeExp}) clipped to [${rule.lo}, 0]`;
      return `code = clip(round(x * 2^${f}) (ties ${tie}), ${rule.lo}, ${rule.hi})${neg}`;
    }
    case 'sign':
      return `code = x >= 0 ? 1 : ${rule.zeroOne ? 0 : -1}`;
    case 'ternary':
      return `code = |x| >= ${rule.threshold} ? sign(x) : 0`;
    case 'thresholds':
      return `code = the value of the last threshold <= x (${rule.thresholds.length} thresholds)`;
    case 'table':
      return 'code = a table lookup';
    default:
      return assertNever(rule, 'rule');
  }
}

/** A C initializer with nested braces per dimension (gcc's -Wmissing-braces wants them). */
function initializer(a: CArray): string {
  const items = a.values.map((v) => cElement(v, a.ctype));
  const flat = (start: number, count: number, indent: string): string => {
    const lines: string[] = [];
    let line = '';
    for (let i = start; i < start + count; i += 1) {
      const piece = `${items[i]!},`;
      if (line.length + piece.length + 1 > 100 && line !== '') {
        lines.push(indent + line.trimEnd());
        line = '';
      }
      line += `${piece} `;
    }
    if (line !== '') lines.push(indent + line.trimEnd().replace(/,$/, ''));
    return lines.join('\n');
  };
  if (a.dims.length === 1) return `{\n${flat(0, items.length, '    ')}\n}`;
  const inner = a.dims.slice(1).reduce((x, y) => x * y, 1);
  if (a.dims.length !== 2) throw new Error(`arrays of rank ${a.dims.length} are not emitted`);
  const rows: string[] = [];
  for (let r = 0; r < a.dims[0]!; r += 1) {
    const one = items.slice(r * inner, (r + 1) * inner).join(', ');
    rows.push(one.length <= 92 ? `    { ${one} }` : `    {\n${flat(r * inner, inner, '        ')}\n    }`);
  }
  return `{\n${rows.join(',\n')}\n}`;
}

function storageText(s: Storage, single: { in: boolean; out: boolean }, ctype: CType): string {
  switch (s.kind) {
    case 'input':
      return single.in ? 'in' : `in${s.index}`;
    case 'output':
      return single.out ? 'out' : `out${s.index}`;
    case 'slot':
      return `qk_buf${s.slot}.${C_TYPES[ctype].field}`;
    default:
      return assertNever(s, 'storage');
  }
}

function storageLabel(s: Storage, single: { in: boolean; out: boolean }): string {
  return s.kind === 'slot' ? `slot ${s.slot}` : storageText(s, single, 'int8_t');
}

/**
 * Emits C for a checked IR graph (every node typed: run `runPipeline` first) into `outDir`, all files
 * replaced together. Returns the API, the memory report and the sources.
 */
export function emitC(graph: Graph, outDir: string, options: EmitCOptions = {}): EmitCResult {
  assertValid(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const n of graph.nodes) if (n.kind !== 'input') intType(n);

  // ---- names -------------------------------------------------------------------------------------------
  const prefix = sanitizeIdentifier(options.name ?? graph.name, { ...C_RULES, maxLength: 20 });
  const single = { in: graph.inputs.length === 1, out: graph.outputs.length === 1 };
  const macroPrefix = prefix.toUpperCase();
  const pool = new IdentifierPool(C_RULES);
  pool.reserve(prefix, `${prefix}_predict`, `${prefix}_argmax`, 'in', 'out');
  graph.inputs.forEach((_, k) => pool.reserve(`${prefix}_in${single.in ? '' : k}_t`, `in${k}`));
  graph.outputs.forEach((_, k) => pool.reserve(`${prefix}_out${single.out ? '' : k}_t`, `out${k}`));
  const idents = new Map<string, string>();
  for (const n of graph.nodes) idents.set(n.id, pool.claim(n.origin.layer === '' ? n.id : n.origin.layer));

  const ctypes = new Map<string, CType>();
  for (const n of graph.nodes) ctypes.set(n.id, cTypeOf(intType(n), `%${n.id}`));
  const ctypeOf = (n: Node): CType => ctypes.get(n.id)!;
  const labelOf = (n: Node): string => `layer ${commentText(JSON.stringify(n.origin.layer), 80)} (${commentText(n.origin.className, 40)}, %${commentText(n.id, 40)})`;

  // ---- layers ------------------------------------------------------------------------------------------
  const codes = new Map<string, LayerCode>();
  for (const n of graph.nodes) {
    const ctx: LayerContext = {
      ident: idents.get(n.id)!,
      inputs: n.inputs.map((i) => byId.get(i)!),
      ctypeOf,
      label: labelOf(n),
    };
    codes.set(n.id, planLayer(n, ctx));
  }

  // ---- buffers and calls -------------------------------------------------------------------------------
  const buffers = planBuffers(graph.nodes, graph.inputs, graph.outputs, (n) => ({ ctype: ctypeOf(n), elems: numel(n.shape) }));
  const argText = (id: string): string => storageText(buffers.storage.get(id)!, single, ctypes.get(id)!);
  const outParam = (k: number): string => (single.out ? 'out' : `out${k}`);
  const instances: { comment: string; kernel: string; defines: readonly (readonly [string, string])[] }[] = [];
  const calls: string[] = [];
  for (const n of graph.nodes) {
    const code = codes.get(n.id)!;
    for (const k of code.kernels) {
      instances.push({ comment: `${labelOf(n)}: ${n.kind}, ${code.variant}`, kernel: k.kernel, defines: k.defines });
      calls.push(`${k.fn}(${[...k.args.map(argText), argText(n.id)].join(', ')})`);
    }
  }
  buffers.copies.forEach((c, j) => {
    const from = byId.get(c.from)!;
    const fn = `qk_copy${j}`;
    const ctx: LayerContext = { ident: fn, inputs: [from], ctypeOf, label: `output ${c.output}` };
    const lc = mapLayer(ctx, from, ctypeOf(from), null, numel(from.shape), fn);
    const k = lc.kernels[0]!;
    instances.push({ comment: `output ${c.output}: copy of %${commentText(c.from, 60)}`, kernel: k.kernel, defines: k.defines });
    calls.push(`${fn}(${argText(c.from)}, ${outParam(c.output)})`);
  });

  // An input that no output depends on is still a parameter: mark it used (no -Wunused-parameter).
  graph.inputs.forEach((_, k) => {
    const param = single.in ? 'in' : `in${k}`;
    if (!calls.some((c) => new RegExp(`[(, ]${param}[,)]`).test(c))) calls.unshift(`(void)${param}`);
  });

  // ---- API ---------------------------------------------------------------------------------------------
  const tensorApi = (id: string, index: number, dir: 'in' | 'out'): CTensorApi => {
    const n = byId.get(id)!;
    const one = dir === 'in' ? single.in : single.out;
    const t = intType(n);
    return {
      index,
      node: id,
      layer: n.origin.layer,
      param: one ? dir : `${dir}${index}`,
      typedef: `${prefix}_${dir}${one ? '' : index}_t`,
      ctype: ctypeOf(n),
      shape: [...n.shape],
      size: numel(n.shape),
      type: t,
      frac: gridFrac(t),
    };
  };
  const inputs = graph.inputs.map((id, k) => tensorApi(id, k, 'in'));
  const outputs = graph.outputs.map((id, k) => tensorApi(id, k, 'out'));
  const logits = outputs.find((o) => byId.get(o.node)!.kind !== 'argmax') ?? null;
  const api: CApi = {
    prefix,
    predict: `${prefix}_predict`,
    argmax: logits === null ? null : `${prefix}_argmax`,
    inputs,
    outputs,
  };
  const params = [
    ...inputs.map((t) => `const ${t.typedef} *${t.param}`),
    ...outputs.map((t) => `${t.typedef} *${t.param}`),
  ].join(', ');

  // ---- report ------------------------------------------------------------------------------------------
  const arrays: CArray[] = graph.nodes.flatMap((n) => codes.get(n.id)!.arrays);
  const layers: CLayerReport[] = graph.nodes.map((n) => {
    const code = codes.get(n.id)!;
    return {
      id: n.id,
      layer: n.origin.layer,
      className: n.origin.className,
      kind: n.kind,
      variant: code.variant,
      kernels: code.kernels.map((k) => k.kernel),
      romBytes: code.arrays.reduce((s, a) => s + arrayBytes(a), 0),
      ramBytes: numel(n.shape) * typeBytes(ctypeOf(n)),
      storage: n.kind === 'reshape' ? `alias of ${storageLabel(buffers.storage.get(n.id)!, single)}` : storageLabel(buffers.storage.get(n.id)!, single),
      stackBytes: code.stackBytes,
    };
  });
  const generator = `qkeras-ts ${packageVersion()}`;
  const report: CReport = {
    generator,
    graph: graph.name,
    prefix,
    layers,
    romBytes: arrays.reduce((s, a) => s + arrayBytes(a), 0),
    ramBytes: buffers.slots.reduce((s, b) => s + b.bytes, 0),
    stackBytes: Math.max(0, ...layers.map((l) => l.stackBytes)),
    ioBytes: [...inputs, ...outputs].reduce((s, t) => s + t.size * typeBytes(t.ctype), 0),
  };

  // ---- render ------------------------------------------------------------------------------------------
  const generatedBy = `Generated by ${generator} (emitC) from the IR graph ${commentText(JSON.stringify(graph.name), 100)}. Do not edit: regenerate.`;
  const title = `Model ${prefix}: fixed-point C for the IR graph ${commentText(JSON.stringify(graph.name), 100)}`;
  const guard = `${macroPrefix}_MODEL_H`;
  const doc = (t: CTensorApi): string => `layer ${commentText(JSON.stringify(t.layer), 100)} (%${commentText(t.node, 60)})`;
  const tensorContext = (t: CTensorApi, dir: 'in' | 'out') => {
    const n = byId.get(t.node)!;
    return {
      index: t.index,
      doc: doc(t),
      size: t.size,
      shape: t.shape.join(', '),
      irType: formatType(t.type),
      frac: t.frac,
      fracMacro: t.frac < 0 ? `(${t.frac})` : `${t.frac}`,
      ctype: t.ctype,
      typedef: t.typedef,
      macro: `${macroPrefix}_${dir.toUpperCase()}${(dir === 'in' ? single.in : single.out) ? '' : t.index}`,
      quantizer: n.kind === 'input' ? commentText((n as InputNode).quant.quantizer, 100) : '',
      rule: n.kind === 'input' ? commentText(describeInputRule((n as InputNode).quant.rule, t.frac), 200) : '',
    };
  };
  const layerLines = layers.map(
    (l) =>
      `${commentText(l.layer, 40).padEnd(24)} ${l.kind.padEnd(13)} ${l.variant.padEnd(13)} ROM ${String(l.romBytes).padStart(8)}  ` +
      `out ${String(l.ramBytes).padStart(7)} B in ${l.storage}`,
  );
  const argmax =
    logits === null ? null : { name: `${prefix}_argmax`, typedef: logits.typedef, size: logits.size, index: logits.index };
  const modelH = renderer.render(templatePath('c', 'model.h.hbs'), {
    generatedBy,
    title,
    prefix,
    guard,
    macroPrefix,
    romBytes: report.romBytes,
    ramBytes: report.ramBytes,
    stackBytes: report.stackBytes,
    layerLines,
    inputs: inputs.map((t) => tensorContext(t, 'in')),
    outputs: outputs.map((t) => tensorContext(t, 'out')),
    params,
    argmax,
  });
  const weightsH = renderer.render(templatePath('c', 'weights.h.hbs'), {
    generatedBy,
    prefix,
    guard: `${macroPrefix}_WEIGHTS_H`,
    romBytes: report.romBytes,
    arrays: arrays.map((a) => ({
      comment: a.comment,
      bytes: arrayBytes(a),
      ctype: a.ctype,
      name: a.name,
      dims: a.dims.map((d) => `[${d}]`).join(''),
      init: initializer(a),
    })),
  });
  const modelC = renderer.render(templatePath('c', 'model.c.hbs'), {
    generatedBy,
    title,
    prefix,
    ramBytes: report.ramBytes,
    slotCount: buffers.slots.length,
    slots: buffers.slots.map((s, k) => ({
      name: `qk_buf${k}`,
      members: [...s.members].map(([t, elems]) => ({ ctype: t, field: C_TYPES[t].field, elems })),
    })),
    instances,
    params,
    calls,
    argmax,
  });

  const kernelFiles = [...new Set(['qk_common.h', ...instances.map((i) => i.kernel)])].sort();
  const sources: Record<string, string> = {
    'model.h': modelH,
    'model.c': modelC,
    'weights.h': weightsH,
    'report.json': `${JSON.stringify(report, null, 2)}\n`,
  };
  for (const k of kernelFiles) sources[k] = readAsset(templatePath('c', k));
  const names = Object.keys(sources).sort();
  writeFilesAtomic(names.map((name) => ({ path: join(outDir, name), data: sources[name]! })));
  return { dir: outDir, files: names.map((n) => join(outDir, n)), api, report, sources };
}
