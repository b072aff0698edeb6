/**
 * The combinational body of one layer, fully unrolled against its constant weights: a layer of dot
 * products (shift-add terms or XNOR-popcount, zero weights absent) followed by its requantizer, or a
 * layer of maxima, an argmax, a rule, a concatenation. Used as the per-layer modules of the parallel
 * architecture and as the compute part of streamed stages.
 */
import type { ConcatNode, IntType, Node } from '../ir/nodes.js';
import { isAccumulating } from '../ir/nodes.js';
import { gridFrac } from '../ir/fixed.js';
import { assertNever, UnsupportedError } from '../errors.js';
import { accumulatorPlan, windowAxes, windowCells } from './verilog-plan.js';
import { argmaxLines, elemSlice, matvecLines, maxGatherLines, ruleLines, type BusRef, type DotKind, type MatvecOptions } from './verilog-datapath.js';
import { elemFormat, isPlusMinusBinary, type ElemFormat } from './verilog-format.js';

export interface LayerBody {
  /** Lines declaring and driving `y` from the input buses. */
  readonly lines: string[];
  /** The datapath the layer's dot products became, and how many shift-add terms they have. */
  readonly datapath: DotKind | null;
  readonly terms: number;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The buses of a node's inputs as seen inside a layer module (`x0`, `x1`, ...). */
export function inputBuses(inputs: readonly Node[], names: readonly string[] = inputs.map((_, k) => `x${k}`)): BusRef[] {
  return inputs.map((n, k) => ({ name: names[k]!, fmt: elemFormat(n.type, `%${n.id}`), pm: isPlusMinusBinary(n.type), count: numel(n.shape) }));
}

function concatSources(node: ConcatNode, inputs: readonly Node[]): { slot: number; index: number }[] {
  const shape = node.shape;
  const a = node.axis < 0 ? node.axis + shape.length : node.axis;
  const outer = numel(shape.slice(0, a));
  const innerOut = numel(shape.slice(a));
  const src: { slot: number; index: number }[] = new Array(outer * innerOut);
  let offset = 0;
  inputs.forEach((t, slot) => {
    const inner = numel(t.shape.slice(a));
    for (let o = 0; o < outer; o += 1) {
      for (let i = 0; i < inner; i += 1) src[o * innerOut + offset + i] = { slot, index: o * inner + i };
    }
    offset += inner;
  });
  return src;
}

/**
 * Body lines of a node's combinational logic reading buses `ins` and driving the bus `y`. `prefix`
 * keeps instance and wire names unique when several bodies share a module; `options` reach the
 * layer's dot products (sub-expression sharing).
 */
export function layerBody(
  node: Node,
  inputs: readonly Node[],
  ins: readonly BusRef[] = inputBuses(inputs),
  y = 'y',
  prefix = '',
  options: MatvecOptions = {},
): LayerBody {
  const lines: string[] = [];
  const outType = node.type as IntType;
  const fout = elemFormat(outType, `%${node.id}`);
  const n = numel(node.shape);
  if (isAccumulating(node)) {
    const plan = accumulatorPlan(node, inputs);
    const accFmt: ElemFormat = { width: plan.acc.width, signed: plan.acc.signed };
    const acc = `${prefix}acc`;
    lines.push(`  wire [${plan.dots.length * accFmt.width - 1}:0] ${acc};`);
    const mv = matvecLines(`${prefix}u_mv`, plan.dots, ins, accFmt, acc, options);
    lines.push(...mv.lines);
    if (node.requant === null) lines.push(`  assign ${y} = ${acc};`);
    else lines.push(...ruleLines(`${prefix}u_rq`, node.requant.rule, plan.acc, outType, plan.dots.length, acc, y));
    return { lines, datapath: mv.kind, terms: mv.terms };
  }
  switch (node.kind) {
    case 'requantize':
      lines.push(...ruleLines(`${prefix}u_rq`, node.requant.rule, inputs[0]!.type as IntType, outType, n, ins[0]!.name, y));
      return { lines, datapath: null, terms: 0 };
    case 'maxpool': {
      const x = inputs[0]!;
      const [gh, gw] = windowAxes(node, x.shape);
      const C = x.shape[x.shape.length - 1]!;
      const windows: number[][] = [];
      for (let oh = 0; oh < gh.outSize; oh += 1) {
        for (let ow = 0; ow < gw.outSize; ow += 1) {
          const cells = windowCells(gh, gw, oh, ow);
          for (let c = 0; c < C; c += 1) windows.push(cells.map((cell) => cell.pixel * C + c));
        }
      }
      lines.push(...maxGatherLines(`${prefix}u_max`, windows, ins[0]!, y));
      return { lines, datapath: null, terms: 0 };
    }
    case 'argmax': {
      const x = inputs[0]!;
      const len = x.shape[x.shape.length - 1]!;
      const rows = numel(x.shape) / len;
      for (let r = 0; r < rows; r += 1) {
        const exprs = Array.from({ length: len }, (_, i) => elemSlice(ins[0]!, r * len + i));
        lines.push(...argmaxLines(`${prefix}u_am${r}`, exprs, ins[0]!.fmt, fout.width, elemSlice({ name: y, fmt: fout }, r)));
      }
      return { lines, datapath: null, terms: 0 };
    }
    case 'concat': {
      const src = concatSources(node, inputs);
      const frac = gridFrac(outType);
      const same = inputs.every((x, k) => ins[k]!.fmt.width === fout.width && ins[k]!.fmt.signed === fout.signed && gridFrac(x.type as IntType) === frac);
      if (same) {
        lines.push(`  assign ${y} = ${concatLowList(src.map((s) => elemSlice(ins[s.slot]!, s.index)))};`);
        return { lines, datapath: null, terms: 0 };
      }
      // Different grids or widths: each code times 2^(frac - fi), exact in the output's width.
      const plans = src.map((s) => ({
        terms: [{ slot: s.slot, index: s.index, weight: 1n << BigInt(frac - gridFrac(inputs[s.slot]!.type as IntType)) }],
        bias: 0n,
      }));
      const mv = matvecLines(`${prefix}u_cat`, plans, ins, fout, y);
      lines.push(...mv.lines);
      return { lines, datapath: mv.kind, terms: mv.terms };
    }
    case 'reshape':
      lines.push(`  assign ${y} = ${ins[0]!.name};`);
      return { lines, datapath: null, terms: 0 };
    case 'input':
      throw new UnsupportedError(`%${node.id}: an input node has no layer logic`);
    default:
      return assertNever(node, 'node');
  }
}

function concatLowList(exprs: readonly string[]): string {
  return exprs.length === 1 ? exprs[0]! : `{${[...exprs].reverse().join(', ')}}`;
}
