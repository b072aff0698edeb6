/**
 * Parser of the canonical IR text (see print.ts). It accepts exactly what the printer writes, plus
 * arbitrary whitespace and `#` comments, and reports the line and column of the first problem. It checks
 * syntax and field types only; `check` validates the graph it returns.
 */
import type { Graph } from './graph.js';
import type {
  Dyadic,
  IntType,
  IntVector,
  Node,
  NodeKind,
  Origin,
  Padding,
  QuantMode,
  QuantModeName,
  Requant,
  ResidualForm,
  RoundingMode,
  Rule,
  TensorType,
  Weights,
} from './nodes.js';
import { NODE_KINDS } from './nodes.js';
import { parseType } from './type-text.js';
import { IRParseError } from './errors.js';
import { IR_TEXT_VERSION } from './print.js';

// ---- tokens --------------------------------------------------------------------------------------------

type TokKind = 'num' | 'str' | 'ref' | 'type' | 'ident' | 'punct' | 'magic' | 'eof';

interface Token {
  readonly kind: TokKind;
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

// Sticky patterns match at `lastIndex` only, so tokenizing is linear in the text length.
const RULES: readonly [TokKind | 'skip', RegExp][] = [
  ['skip', /(?:\s+|#[^\n]*)/y],
  ['magic', /qkeras-ir\b/y],
  ['type', /(?:fixed|po2|binary|ternary)<[^>\n]*>/y],
  ['num', /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y],
  ['str', /"(?:[^"\\\n]|\\.)*"/y],
  ['ref', /%[A-Za-z0-9_.-]+/y],
  ['ident', /[A-Za-z_][A-Za-z0-9_]*/y],
  ['punct', /[[\]{}(),:=?]/y],
];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  while (i < text.length) {
    let matched: string | null = null;
    for (const [kind, re] of RULES) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m === null) continue;
      matched = m[0];
      if (kind !== 'skip') out.push({ kind, text: matched, line, col });
      break;
    }
    if (matched === null) throw new IRParseError(line, col, `unexpected character ${JSON.stringify(text[i])}`);
    for (const ch of matched) {
      if (ch === '\n') {
        line += 1;
        col = 1;
      } else col += 1;
    }
    i += matched.length;
  }
  out.push({ kind: 'eof', text: '', line, col });
  return out;
}

// ---- generic values ------------------------------------------------------------------------------------

type Value =
  | { readonly t: 'num'; readonly v: number; readonly at: Token }
  | { readonly t: 'str'; readonly v: string; readonly at: Token }
  | { readonly t: 'id'; readonly v: string; readonly at: Token }
  | { readonly t: 'ref'; readonly v: string; readonly at: Token }
  | { readonly t: 'type'; readonly v: TensorType | null; readonly at: Token }
  | { readonly t: 'list'; readonly v: readonly Value[]; readonly at: Token }
  | { readonly t: 'rec'; readonly v: ReadonlyMap<string, Value>; readonly at: Token };

class Parser {
  private pos = 0;
  constructor(private readonly toks: readonly Token[]) {}

  peek(): Token {
    return this.toks[this.pos]!;
  }

  next(): Token {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'eof') this.pos += 1;
    return t;
  }

  fail(at: Token, detail: string): never {
    throw new IRParseError(at.line, at.col, detail);
  }

  expect(kind: TokKind, text?: string): Token {
    const t = this.next();
    if (t.kind !== kind || (text !== undefined && t.text !== text)) {
      this.fail(t, `expected ${text === undefined ? kind : JSON.stringify(text)}, found ${t.kind === 'eof' ? 'end of text' : JSON.stringify(t.text)}`);
    }
    return t;
  }

  isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  value(): Value {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { t: 'num', v: Number(t.text), at: t };
      case 'str':
        return { t: 'str', v: JSON.parse(t.text) as string, at: t };
      case 'ref':
        return { t: 'ref', v: t.text.slice(1), at: t };
      case 'ident':
        return { t: 'id', v: t.text, at: t };
      case 'type': {
        const ty = parseType(t.text);
        if (ty === undefined) this.fail(t, `malformed type ${t.text}`);
        return { t: 'type', v: ty, at: t };
      }
      case 'punct':
        if (t.text === '?') return { t: 'type', v: null, at: t };
        if (t.text === '[') {
          const items: Value[] = [];
          while (!this.isPunct(']')) {
            items.push(this.value());
            if (!this.isPunct(']')) this.expect('punct', ',');
          }
          this.next();
          return { t: 'list', v: items, at: t };
        }
        if (t.text === '{') {
          const fields = new Map<string, Value>();
          while (!this.isPunct('}')) {
            const key = this.expect('ident');
            if (fields.has(key.text)) this.fail(key, `field ${key.text} given twice`);
            this.expect('punct', ':');
            fields.set(key.text, this.value());
            if (!this.isPunct('}')) this.expect('punct', ',');
          }
          this.next();
          return { t: 'rec', v: fields, at: t };
        }
        return this.fail(t, `unexpected ${JSON.stringify(t.text)}`);
      default:
        return this.fail(t, t.kind === 'eof' ? 'unexpected end of text' : `unexpected ${JSON.stringify(t.text)}`);
    }
  }
}

// ---- decoders ------------------------------------------------------------------------------------------

function bad(v: Value, what: string, expected: string): never {
  throw new IRParseError(v.at.line, v.at.col, `${what}: expected ${expected}`);
}

function num(v: Value, what: string): number {
  if (v.t !== 'num') bad(v, what, 'a number');
  return v.v;
}

function int(v: Value, what: string): number {
  const n = num(v, what);
  if (!Number.isInteger(n)) bad(v, what, 'an integer');
  return n;
}

function isNone(v: Value): boolean {
  return v.t === 'id' && v.v === 'none';
}

function optInt(v: Value, what: string): number | null {
  return isNone(v) ? null : int(v, what);
}

function bool(v: Value, what: string): boolean {
  if (v.t === 'id' && (v.v === 'true' || v.v === 'false')) return v.v === 'true';
  return bad(v, what, 'true or false');
}

function ident<T extends string>(v: Value, what: string, allowed: readonly T[]): T {
  if (v.t !== 'id' || !allowed.includes(v.v as T)) bad(v, what, `one of ${allowed.join(', ')}`);
  return v.v as T;
}

function str(v: Value, what: string): string {
  if (v.t !== 'str') bad(v, what, 'a quoted string');
  return v.v;
}

function list(v: Value, what: string): readonly Value[] {
  if (v.t !== 'list') bad(v, what, 'a [list]');
  return v.v;
}

function ints(v: Value, what: string): number[] {
  return list(v, what).map((x, i) => int(x, `${what}[${i}]`));
}

function nums(v: Value, what: string): number[] {
  return list(v, what).map((x, i) => num(x, `${what}[${i}]`));
}

function pair(v: Value, what: string): [number, number] {
  const xs = ints(v, what);
  if (xs.length !== 2) bad(v, what, 'two integers');
  return [xs[0]!, xs[1]!];
}

/** A record with exactly the given keys (any order). */
function record(v: Value, what: string, keys: readonly string[]): (k: string) => Value {
  if (v.t !== 'rec') bad(v, what, `a {record} with ${keys.join(', ')}`);
  for (const k of v.v.keys()) if (!keys.includes(k)) bad(v, what, `only the fields ${keys.join(', ')} (found ${k})`);
  for (const k of keys) if (!v.v.has(k)) bad(v, what, `the field ${k}`);
  return (k) => v.v.get(k)!;
}

function type(v: Value, what: string): TensorType | null {
  if (v.t === 'type') return v.v;
  if (v.t === 'id' && v.v === 'float') return { kind: 'float' };
  return bad(v, what, 'a type such as fixed<s8,7>');
}

function intType(v: Value, what: string): IntType {
  const t = type(v, what);
  if (t === null || t.kind === 'float') bad(v, what, 'an integer type');
  return t;
}

function fixedOrNone(v: Value, what: string): Extract<TensorType, { kind: 'fixed' }> | null {
  if (isNone(v)) return null;
  const t = type(v, what);
  if (t === null) return null;
  if (t.kind !== 'fixed') bad(v, what, 'a fixed type or none');
  return t;
}

const QUANT_MODES: readonly QuantModeName[] = ['fixed', 'po2', 'ternary', 'binary', 'binary01', 'float'];

function quant(v: Value, what: string): QuantMode {
  const f = record(v, what, ['mode', 'bits', 'signed']);
  return { mode: ident(f('mode'), `${what}.mode`, QUANT_MODES), bits: int(f('bits'), `${what}.bits`), signed: bool(f('signed'), `${what}.signed`) };
}

const ROUNDING: readonly RoundingMode[] = ['half_even', 'half_away'];

function rule(v: Value, what: string): Rule {
  if (v.t !== 'rec' || !v.v.has('kind')) bad(v, what, 'a rule record with a kind');
  const kind = ident(v.v.get('kind')!, `${what}.kind`, ['shift', 'sign', 'ternary', 'thresholds', 'table'] as const);
  switch (kind) {
    case 'shift': {
      const f = record(v, what, ['kind', 'frac', 'rounding', 'lo', 'hi', 'negSlopeExp', 'scaleExp']);
      return {
        kind,
        frac: optInt(f('frac'), `${what}.frac`),
        rounding: ident(f('rounding'), `${what}.rounding`, ROUNDING),
        lo: optInt(f('lo'), `${what}.lo`),
        hi: optInt(f('hi'), `${what}.hi`),
        negSlopeExp: optInt(f('negSlopeExp'), `${what}.negSlopeExp`),
        scaleExp: int(f('scaleExp'), `${what}.scaleExp`),
      };
    }
    case 'sign': {
      const f = record(v, what, ['kind', 'zeroOne', 'scaleExp']);
      return { kind, zeroOne: bool(f('zeroOne'), `${what}.zeroOne`), scaleExp: int(f('scaleExp'), `${what}.scaleExp`) };
    }
    case 'ternary': {
      const f = record(v, what, ['kind', 'threshold', 'scaleExp']);
      return { kind, threshold: num(f('threshold'), `${what}.threshold`), scaleExp: int(f('scaleExp'), `${what}.scaleExp`) };
    }
    case 'thresholds': {
      const f = record(v, what, ['kind', 'thresholds', 'values', 'out']);
      return { kind, thresholds: nums(f('thresholds'), `${what}.thresholds`), values: ints(f('values'), `${what}.values`), out: intType(f('out'), `${what}.out`) };
    }
    case 'table': {
      const f = record(v, what, ['kind', 'inFrac', 'inMin', 'values', 'out']);
      return {
        kind,
        inFrac: int(f('inFrac'), `${what}.inFrac`),
        inMin: int(f('inMin'), `${what}.inMin`),
        values: ints(f('values'), `${what}.values`),
        out: intType(f('out'), `${what}.out`),
      };
    }
  }
}

const RESIDUALS: readonly ResidualForm[] = ['x', 'relu', 'none'];

function requant(v: Value, what: string): Requant {
  const f = record(v, what, ['rule', 'residual', 'quantizer']);
  return { rule: rule(f('rule'), `${what}.rule`), residual: ident(f('residual'), `${what}.residual`, RESIDUALS), quantizer: str(f('quantizer'), `${what}.quantizer`) };
}

function optRequant(v: Value, what: string): Requant | null {
  return isNone(v) ? null : requant(v, what);
}

function weights(v: Value, what: string): Weights {
  if (v.t !== 'rec' || !v.v.has('kind')) bad(v, what, 'a weights record with a kind');
  const kind = ident(v.v.get('kind')!, `${what}.kind`, ['int', 'po2'] as const);
  if (kind === 'int') {
    const f = record(v, what, ['kind', 'shape', 'quant', 'exps', 'codes']);
    return { kind, shape: ints(f('shape'), `${what}.shape`), quant: quant(f('quant'), `${what}.quant`), exps: ints(f('exps'), `${what}.exps`), codes: ints(f('codes'), `${what}.codes`) };
  }
  const f = record(v, what, ['kind', 'shape', 'quant', 'signs', 'exps']);
  const signs = ints(f('signs'), `${what}.signs`);
  if (signs.some((s) => s !== -1 && s !== 0 && s !== 1)) bad(f('signs'), `${what}.signs`, 'only -1, 0, 1');
  return { kind, shape: ints(f('shape'), `${what}.shape`), quant: quant(f('quant'), `${what}.quant`), signs: signs as (-1 | 0 | 1)[], exps: ints(f('exps'), `${what}.exps`) };
}

function vector(v: Value, what: string): IntVector {
  const f = record(v, what, ['exp', 'codes']);
  return { exp: int(f('exp'), `${what}.exp`), codes: ints(f('codes'), `${what}.codes`) };
}

function optVector(v: Value, what: string): IntVector | null {
  return isNone(v) ? null : vector(v, what);
}

function optDyadic(v: Value, what: string): Dyadic | null {
  if (isNone(v)) return null;
  const f = record(v, what, ['code', 'exp']);
  return { code: int(f('code'), `${what}.code`), exp: int(f('exp'), `${what}.exp`) };
}

const PADDINGS: readonly Padding[] = ['valid', 'same', 'causal'];

/** Per kind: the fields a node block must have, and how to build the node from them. */
type Get = (key: string) => Value;

const NODE_FIELDS: { readonly [K in NodeKind]: readonly string[] } = {
  input: ['quant'],
  dense: ['weights', 'bias', 'acc', 'requant', 'pruned'],
  pointwise: ['weights', 'bias', 'acc', 'requant', 'pruned'],
  conv1d: ['kernel', 'stride', 'dilation', 'padding', 'weights', 'bias', 'acc', 'requant', 'pruned'],
  conv2d: ['kernel', 'strides', 'dilation', 'padding', 'weights', 'bias', 'acc', 'requant', 'pruned'],
  depthwise: ['kernel', 'strides', 'dilation', 'padding', 'weights', 'bias', 'acc', 'requant', 'pruned'],
  maxpool: ['pool', 'strides', 'padding'],
  avgpool: ['pool', 'strides', 'padding', 'preScale', 'mult', 'acc', 'requant'],
  globalavgpool: ['divisor', 'mult', 'acc', 'requant'],
  batchnorm: ['scale', 'offset', 'acc', 'requant'],
  add: ['acc', 'requant'],
  concat: ['axis'],
  requantize: ['requant'],
  reshape: [],
  argmax: [],
};

function kindFields(kind: NodeKind, g: Get): Record<string, unknown> {
  const mac = (): Record<string, unknown> => ({
    weights: weights(g('weights'), 'weights'),
    bias: optVector(g('bias'), 'bias'),
    acc: fixedOrNone(g('acc'), 'acc'),
    requant: optRequant(g('requant'), 'requant'),
    pruned: bool(g('pruned'), 'pruned'),
  });
  switch (kind) {
    case 'input':
      return { quant: requant(g('quant'), 'quant') };
    case 'dense':
    case 'pointwise':
      return mac();
    case 'conv1d':
      return {
        kernel: int(g('kernel'), 'kernel'),
        stride: int(g('stride'), 'stride'),
        dilation: int(g('dilation'), 'dilation'),
        padding: ident(g('padding'), 'padding', PADDINGS),
        ...mac(),
      };
    case 'conv2d':
    case 'depthwise':
      return {
        kernel: pair(g('kernel'), 'kernel'),
        strides: pair(g('strides'), 'strides'),
        dilation: pair(g('dilation'), 'dilation'),
        padding: ident(g('padding'), 'padding', PADDINGS),
        ...mac(),
      };
    case 'maxpool':
      return { pool: ints(g('pool'), 'pool'), strides: ints(g('strides'), 'strides'), padding: ident(g('padding'), 'padding', PADDINGS) };
    case 'avgpool':
      return {
        pool: ints(g('pool'), 'pool'),
        strides: ints(g('strides'), 'strides'),
        padding: ident(g('padding'), 'padding', PADDINGS),
        preScale: int(g('preScale'), 'preScale'),
        mult: optDyadic(g('mult'), 'mult'),
        acc: fixedOrNone(g('acc'), 'acc'),
        requant: optRequant(g('requant'), 'requant'),
      };
    case 'globalavgpool':
      return {
        divisor: int(g('divisor'), 'divisor'),
        mult: optDyadic(g('mult'), 'mult'),
        acc: fixedOrNone(g('acc'), 'acc'),
        requant: optRequant(g('requant'), 'requant'),
      };
    case 'batchnorm':
      return {
        scale: vector(g('scale'), 'scale'),
        offset: vector(g('offset'), 'offset'),
        acc: fixedOrNone(g('acc'), 'acc'),
        requant: optRequant(g('requant'), 'requant'),
      };
    case 'add':
      return { acc: fixedOrNone(g('acc'), 'acc'), requant: optRequant(g('requant'), 'requant') };
    case 'concat':
      return { axis: int(g('axis'), 'axis') };
    case 'requantize':
      return { requant: requant(g('requant'), 'requant') };
    case 'reshape':
    case 'argmax':
      return {};
  }
}

function parseNode(p: Parser): Node {
  const start = p.expect('ident', 'node');
  const ref = p.expect('ref');
  p.expect('punct', '=');
  const kindTok = p.expect('ident');
  if (!NODE_KINDS.includes(kindTok.text as NodeKind)) {
    p.fail(kindTok, `unknown node kind ${kindTok.text}; known: ${NODE_KINDS.join(', ')}`);
  }
  const kind = kindTok.text as NodeKind;
  p.expect('punct', '(');
  const inputs: string[] = [];
  while (!p.isPunct(')')) {
    inputs.push(p.expect('ref').text.slice(1));
    if (!p.isPunct(')')) p.expect('punct', ',');
  }
  p.next();
  p.expect('punct', ':');
  const typeValue = p.value();
  const nodeType = type(typeValue, 'node type');
  const shapeValue = p.value();
  const shape = ints(shapeValue, 'node shape');
  const fields = new Map<string, Value>();
  const keyTok = new Map<string, Token>();
  while (p.peek().kind === 'ident' && p.peek().text !== 'node') {
    const key = p.next();
    if (fields.has(key.text)) p.fail(key, `field ${key.text} given twice`);
    keyTok.set(key.text, key);
    fields.set(key.text, p.value());
  }
  if (p.peek().kind !== 'eof' && !(p.peek().kind === 'ident' && p.peek().text === 'node')) {
    p.fail(p.peek(), `expected a field name or the next node, found ${JSON.stringify(p.peek().text)}`);
  }
  const expected = ['origin', ...NODE_FIELDS[kind]];
  for (const [k, t] of keyTok) {
    if (!expected.includes(k)) p.fail(t, `${kind} nodes have no field ${k}; fields: ${expected.join(', ')}`);
  }
  for (const k of expected) if (!fields.has(k)) p.fail(start, `node ${ref.text} (${kind}) lacks the field ${k}`);
  const o = record(fields.get('origin')!, 'origin', ['layer', 'className']);
  const origin: Origin = { layer: str(o('layer'), 'origin.layer'), className: str(o('className'), 'origin.className') };
  const node = { kind, id: ref.text.slice(1), inputs, shape, type: nodeType, origin, ...kindFields(kind, (k) => fields.get(k)!) };
  return node as unknown as Node;
}

function refList(p: Parser, what: string): string[] {
  const v = p.value();
  return list(v, what).map((x) => {
    if (x.t !== 'ref') bad(x, what, 'node references like %x');
    return x.v;
  });
}

/** Parses IR text into a graph. */
export function parseIR(text: string): Graph {
  if (!/^(?:\s|#[^\n]*)*qkeras-ir\b/.test(text)) {
    throw new IRParseError(1, 1, `expected the header "qkeras-ir ${IR_TEXT_VERSION}" (is this IR text?)`);
  }
  const p = new Parser(tokenize(text));
  p.expect('magic');
  const version = p.expect('num');
  if (Number(version.text) !== IR_TEXT_VERSION) p.fail(version, `unsupported IR text version ${version.text}; this reader knows ${IR_TEXT_VERSION}`);
  p.expect('ident', 'graph');
  const name = p.expect('str');
  p.expect('ident', 'inputs');
  const inputs = refList(p, 'inputs');
  p.expect('ident', 'outputs');
  const outputs = refList(p, 'outputs');
  const nodes: Node[] = [];
  while (p.peek().kind !== 'eof') nodes.push(parseNode(p));
  return { name: JSON.parse(name.text) as string, nodes, inputs, outputs };
}
