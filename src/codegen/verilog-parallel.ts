/**
 * The fully parallel architecture: one Verilog module per layer (combinational, unrolled against the
 * constant weights), a top that wires them with register stages between layers, delay lines that keep
 * parallel branches aligned, and a valid pipeline. One sample enters per clock (II = 1); `out_ready`
 * low stalls the whole pipeline.
 */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/nodes.js';
import { formatType } from '../ir/type-text.js';
import type { IdentifierPool } from './identifiers.js';
import { commentText } from './identifiers.js';
import { elemFormat } from './verilog-format.js';
import { inputBuses, layerBody, numel } from './verilog-layers.js';
import type { LayerInfo, ParallelPorts, PortTensor } from './verilog-manifest.js';
import type { GeneratedFile, TemplateSet } from './verilog-templates.js';

export interface ParallelOptions {
  /**
   * Register stages: a register after every `pipeline`-th layer in graph order (1, the default: after
   * every layer; 0: only the output register). Wiring nodes (reshape, concatenation) never count.
   */
  readonly pipeline?: number;
  /** Share sub-expressions common to several constant products of a layer (see `planCmvm`). */
  readonly share?: boolean;
}

/** Nodes whose value an output needs (graph order). */
export function liveNodes(g: Graph): Node[] {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const live = new Set<string>();
  const stack = [...g.outputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    stack.push(...(byId.get(id)?.inputs ?? []));
  }
  for (const id of g.inputs) live.add(id);
  return g.nodes.filter((n) => live.has(n.id));
}

export function busWidth(n: Node): number {
  return numel(n.shape) * elemFormat(n.type, `%${n.id}`).width;
}

export function portTensor(n: Node): PortTensor {
  const f = elemFormat(n.type, `%${n.id}`);
  return {
    node: n.id,
    layer: n.origin.layer,
    shape: [...n.shape],
    type: formatType(n.type!),
    width: f.width,
    signed: f.signed,
    count: numel(n.shape),
  };
}

/** Nodes that are pure wiring in the parallel top (no layer module, no register stage). */
function isWiring(n: Node): boolean {
  return n.kind === 'reshape' || n.kind === 'input';
}

function isCompute(n: Node): boolean {
  return !isWiring(n) && n.kind !== 'concat';
}

export interface ParallelDesign {
  readonly files: GeneratedFile[];
  readonly ports: ParallelPorts;
  readonly layers: LayerInfo[];
}

export function generateParallel(g: Graph, top: string, modules: IdentifierPool, t: TemplateSet, options: ParallelOptions): ParallelDesign {
  const every = options.pipeline ?? 1;
  if (!Number.isInteger(every) || every < 0) throw new RangeError(`pipeline must be a non-negative integer, got ${every}`);
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const signals = t.signalPool();
  const files: GeneratedFile[] = [];
  const layers: LayerInfo[] = [];
  const body: string[] = [];

  // Each node's value: the signal carrying it and the clock cycle (relative to the input) it is valid in.
  const value = new Map<string, { signal: string; depth: number }>();
  const delayed = new Map<string, string>();
  const sig = new Map<string, string>();
  const sigOf = (n: Node): string => {
    let s = sig.get(n.id);
    if (s === undefined) {
      s = signals.claim(n.origin.layer === n.id ? n.id : `${n.origin.layer}_${n.id}`);
      sig.set(n.id, s);
    }
    return s;
  };
  /** The value of `id` delayed to `depth` (shared delay lines). */
  const at = (id: string, depth: number): string => {
    const v = value.get(id)!;
    const d = depth - v.depth;
    if (d === 0) return v.signal;
    const key = `${id}@${depth}`;
    let s = delayed.get(key);
    if (s === undefined) {
      const w = busWidth(byId.get(id)!);
      s = `d${d}_${v.signal}`;
      body.push(`  wire [${w - 1}:0] ${s};`);
      body.push(`  qk_delay #(.W(${w}), .D(${d})) id_${s} (.clk(clk), .rst(rst), .ce(ce), .x(${v.signal}), .y(${s}));`);
      delayed.set(key, s);
    }
    return s;
  };

  const inputs: (PortTensor & { offset: number })[] = [];
  let inWidth = 0;
  for (const id of g.inputs) {
    const n = byId.get(id)!;
    const w = busWidth(n);
    const s = `t_${sigOf(n)}`;
    body.push(`  // input ${commentText(n.origin.layer)}: ${commentText(formatType(n.type!))} [${n.shape.join(', ')}]`);
    body.push(`  wire [${w - 1}:0] ${s} = in_data[${inWidth + w - 1}:${inWidth}];`);
    value.set(id, { signal: s, depth: 0 });
    inputs.push({ ...portTensor(n), offset: inWidth });
    inWidth += w;
  }

  let computeCount = 0;
  for (const n of nodes) {
    if (n.kind === 'input') continue;
    const ins = n.inputs.map((id) => byId.get(id)!);
    const depth = Math.max(...n.inputs.map((id) => value.get(id)!.depth));
    const args = n.inputs.map((id) => at(id, depth));
    const w = busWidth(n);
    const base = sigOf(n);
    body.push(`  // ${n.kind} ${commentText(n.origin.layer)} (${commentText(n.origin.className)}): ${commentText(formatType(n.type!))} [${n.shape.join(', ')}]`);
    if (n.kind === 'reshape') {
      body.push(`  wire [${w - 1}:0] c_${base} = ${args[0]};`);
      value.set(n.id, { signal: `c_${base}`, depth });
      continue;
    }
    const mod = modules.claim(`${top}_${n.origin.layer}`);
    const built = layerBody(n, ins, inputBuses(ins), 'y', '', { share: options.share === true });
    const ports = [
      '  /* verilator lint_off UNUSEDSIGNAL */',
      '  // Pruned weights, padding and strides can leave input elements unread.',
      ...ins.map((x, k) => `  input  wire [${busWidth(x) - 1}:0] x${k},`),
      '  /* verilator lint_on UNUSEDSIGNAL */',
      `  output wire [${w - 1}:0] y`,
    ];
    files.push({
      name: `${mod}.v`,
      text: t.layer({
        module: mod,
        comment: `layer ${commentText(n.origin.layer)} (${commentText(n.origin.className)}), IR node %${commentText(n.id)} (${n.kind})`,
        ports,
        body: built.lines,
      }),
    });
    layers.push({
      module: mod,
      node: n.id,
      layer: n.origin.layer,
      kind: n.kind,
      ...(built.datapath === null ? {} : { datapath: built.datapath, terms: built.terms }),
    });
    body.push(`  wire [${w - 1}:0] c_${base};`);
    body.push(`  ${mod} i_${base} (${[...args.map((a, k) => `.x${k}(${a})`), `.y(c_${base})`].join(', ')});`);
    let registered = false;
    if (isCompute(n)) {
      computeCount += 1;
      registered = every > 0 && computeCount % every === 0;
    }
    if (registered) {
      body.push(`  wire [${w - 1}:0] r_${base};`);
      body.push(`  qk_delay #(.W(${w}), .D(1)) ir_${base} (.clk(clk), .rst(rst), .ce(ce), .x(c_${base}), .y(r_${base}));`);
      value.set(n.id, { signal: `r_${base}`, depth: depth + 1 });
    } else {
      value.set(n.id, { signal: `c_${base}`, depth });
    }
  }

  // Outputs leave together, after at least one register.
  const latency = Math.max(1, ...g.outputs.map((id) => value.get(id)!.depth));
  const outputs: (PortTensor & { offset: number })[] = [];
  const outParts: string[] = [];
  let outWidth = 0;
  for (const id of g.outputs) {
    const n = byId.get(id)!;
    outParts.push(at(id, latency));
    outputs.push({ ...portTensor(n), offset: outWidth });
    outWidth += busWidth(n);
  }
  body.push(`  assign out_data = {${[...outParts].reverse().join(', ')}};`);
  files.unshift({
    name: `${top}.v`,
    text: t.topParallel({ top, inMsb: inWidth - 1, outMsb: outWidth - 1, latency, stages: latency, body }),
  });
  return { files, ports: { kind: 'parallel', inWidth, outWidth, inputs, outputs, latency }, layers };
}
