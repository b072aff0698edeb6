/**
 * The canonical text form of an IR graph. One header, then one block per node:
 *
 *     qkeras-ir 1
 *     graph "jet"
 *     inputs [%x]
 *     outputs [%fc1]
 *
 *     node %fc1 = dense(%x) : fixed<s14,10> [64]
 *       origin {layer: "fc1", className: "QDense"}
 *       weights {kind: int, shape: [16, 64], quant: {...}, exps: [...], codes: [...]}
 *       ...
 *
 * Fields appear in a fixed order per kind; `none` is an absent value, `?` a type not inferred yet. Numbers
 * print in JavaScript's shortest round-trip form, so `parse(print(g))` equals `g` and `print(parse(t))`
 * equals a canonical `t`. Long number lists wrap, 16 per line; the parser ignores line breaks.
 */
import type { Graph } from './graph.js';
import type { Dyadic, IntVector, MacNode, Node, QuantMode, Requant, Rule, TensorType, Weights } from './nodes.js';
import { formatType } from './type-text.js';
import { assertNever } from '../errors.js';

export const IR_TEXT_VERSION = 1;

interface Ident {
  readonly t: 'id';
  readonly v: string;
}
interface Str {
  readonly t: 'str';
  readonly v: string;
}
interface Ty {
  readonly t: 'type';
  readonly v: TensorType | null;
}
interface Rec {
  readonly t: 'rec';
  readonly f: readonly (readonly [string, Doc])[];
}
type Doc = number | boolean | null | Ident | Str | Ty | Rec | readonly Doc[];

const id = (v: string): Ident => ({ t: 'id', v });
const str = (v: string): Str => ({ t: 'str', v });
const ty = (v: TensorType | null): Ty => ({ t: 'type', v });
const rec = (...f: (readonly [string, Doc])[]): Rec => ({ t: 'rec', f });

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot print ${n} in IR text`);
  return Object.is(n, -0) ? '0' : String(n);
}

const WRAP = 16;

function fmt(d: Doc, indent: number): string {
  if (d === null) return 'none';
  if (typeof d === 'number') return formatNumber(d);
  if (typeof d === 'boolean') return d ? 'true' : 'false';
  if (Array.isArray(d)) {
    const items = d as readonly Doc[];
    if (items.length > WRAP && items.every((x) => typeof x === 'number')) {
      const pad = ' '.repeat(indent + 2);
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += WRAP) {
        lines.push(pad + items.slice(i, i + WRAP).map((x) => formatNumber(x as number)).join(', '));
      }
      return `[\n${lines.join(',\n')}\n${' '.repeat(indent)}]`;
    }
    return `[${items.map((x) => fmt(x, indent)).join(', ')}]`;
  }
  const o = d as Ident | Str | Ty | Rec;
  switch (o.t) {
    case 'id':
      return o.v;
    case 'str':
      return JSON.stringify(o.v);
    case 'type':
      return formatType(o.v);
    case 'rec':
      return `{${o.f.map(([k, v]) => `${k}: ${fmt(v, indent)}`).join(', ')}}`;
  }
}

function quantDoc(q: QuantMode): Rec {
  return rec(['mode', id(q.mode)], ['bits', q.bits], ['signed', q.signed]);
}

function ruleDoc(r: Rule): Rec {
  switch (r.kind) {
    case 'shift':
      return rec(
        ['kind', id('shift')],
        ['frac', r.frac],
        ['rounding', id(r.rounding)],
        ['lo', r.lo],
        ['hi', r.hi],
        ['negSlopeExp', r.negSlopeExp],
        ['scaleExp', r.scaleExp],
      );
    case 'sign':
      return rec(['kind', id('sign')], ['zeroOne', r.zeroOne], ['scaleExp', r.scaleExp]);
    case 'ternary':
      return rec(['kind', id('ternary')], ['threshold', r.threshold], ['scaleExp', r.scaleExp]);
    case 'thresholds':
      return rec(['kind', id('thresholds')], ['thresholds', [...r.thresholds]], ['values', [...r.values]], ['out', ty(r.out)]);
    case 'table':
      return rec(['kind', id('table')], ['inFrac', r.inFrac], ['inMin', r.inMin], ['values', [...r.values]], ['out', ty(r.out)]);
    default:
      return assertNever(r, 'rule');
  }
}

function requantDoc(rq: Requant | null): Doc {
  if (rq === null) return null;
  return rec(['rule', ruleDoc(rq.rule)], ['residual', id(rq.residual)], ['quantizer', str(rq.quantizer)]);
}

function weightsDoc(w: Weights): Rec {
  if (w.kind === 'int') {
    return rec(['kind', id('int')], ['shape', [...w.shape]], ['quant', quantDoc(w.quant)], ['exps', [...w.exps]], ['codes', [...w.codes]]);
  }
  return rec(['kind', id('po2')], ['shape', [...w.shape]], ['quant', quantDoc(w.quant)], ['signs', [...w.signs]], ['exps', [...w.exps]]);
}

function vectorDoc(v: IntVector | null): Doc {
  return v === null ? null : rec(['exp', v.exp], ['codes', [...v.codes]]);
}

function dyadicDoc(d: Dyadic | null): Doc {
  return d === null ? null : rec(['code', d.code], ['exp', d.exp]);
}

/** `acc` and `requant`, the last fields of every accumulating node. */
function accFields(node: { acc: TensorType | null; requant: Requant | null }): (readonly [string, Doc])[] {
  return [
    ['acc', ty(node.acc)],
    ['requant', requantDoc(node.requant)],
  ];
}

/** The weights, bias, accumulator, requantization and pruning flag every multiply-accumulate node ends with. */
function macFields(node: MacNode): (readonly [string, Doc])[] {
  return [['weights', weightsDoc(node.weights)], ['bias', vectorDoc(node.bias)], ...accFields(node), ['pruned', node.pruned]];
}

/** The kind-specific fields of a node, in canonical order. */
function fieldsOf(node: Node): (readonly [string, Doc])[] {
  switch (node.kind) {
    case 'input':
      return [['quant', requantDoc(node.quant)]];
    case 'dense':
    case 'pointwise':
      return macFields(node);
    case 'conv1d':
      return [['kernel', node.kernel], ['stride', node.stride], ['dilation', node.dilation], ['padding', id(node.padding)], ...macFields(node)];
    case 'conv2d':
    case 'depthwise':
      return [
        ['kernel', [...node.kernel]],
        ['strides', [...node.strides]],
        ['dilation', [...node.dilation]],
        ['padding', id(node.padding)],
        ...macFields(node),
      ];
    case 'maxpool':
      return [
        ['pool', [...node.pool]],
        ['strides', [...node.strides]],
        ['padding', id(node.padding)],
      ];
    case 'avgpool':
      return [
        ['pool', [...node.pool]],
        ['strides', [...node.strides]],
        ['padding', id(node.padding)],
        ['preScale', node.preScale],
        ['mult', dyadicDoc(node.mult)],
        ...accFields(node),
      ];
    case 'globalavgpool':
      return [['divisor', node.divisor], ['mult', dyadicDoc(node.mult)], ...accFields(node)];
    case 'batchnorm':
      return [['scale', vectorDoc(node.scale)], ['offset', vectorDoc(node.offset)], ...accFields(node)];
    case 'add':
      return accFields(node);
    case 'concat':
      return [['axis', node.axis]];
    case 'requantize':
      return [['requant', requantDoc(node.requant)]];
    case 'reshape':
    case 'argmax':
      return [];
    default:
      return assertNever(node, 'node');
  }
}

export function printNode(node: Node): string {
  const head =
    `node %${node.id} = ${node.kind}(${node.inputs.map((i) => `%${i}`).join(', ')}) : ` +
    `${formatType(node.type)} [${node.shape.join(', ')}]`;
  const fields: (readonly [string, Doc])[] = [
    ['origin', rec(['layer', str(node.origin.layer)], ['className', str(node.origin.className)])],
    ...fieldsOf(node),
  ];
  return [head, ...fields.map(([k, v]) => `  ${k} ${fmt(v, 2)}`)].join('\n');
}

/** The canonical text of a graph (ends with a newline). */
export function printIR(graph: Graph): string {
  const header = [
    `qkeras-ir ${IR_TEXT_VERSION}`,
    `graph ${JSON.stringify(graph.name)}`,
    `inputs [${graph.inputs.map((i) => `%${i}`).join(', ')}]`,
    `outputs [${graph.outputs.map((i) => `%${i}`).join(', ')}]`,
  ].join('\n');
  return [header, ...graph.nodes.map(printNode)].join('\n\n') + '\n';
}
