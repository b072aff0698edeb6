/**
 * The grammar of QKeras quantizer strings such as `quantized_bits(4,0,1,alpha='auto_po2')`.
 *
 * QKeras reads these with `safe_eval`: split on `(`, then a pyparsing list of `key[=value]` items whose
 * values go through `GetArg` (True/False, Python int()/float(), None, `[a b c]` number lists, else a
 * string with its first and last characters dropped). This module is a hand-written recursive-descent
 * parser for the same language, so nothing is ever evaluated, every input either parses or raises a
 * `QuantizerSpecError` naming the position and what was expected, and the scan is linear in the input.
 *
 * Where QKeras silently misreads input, this parser is stricter or kinder on purpose:
 * - a quoted string must be closed by the same quote (QKeras just drops two characters);
 * - an unquoted word is an error, except `auto` and `auto_po2`, which are taken as those strings because
 *   they are common in hand-written specs (QKeras would turn `auto_po2` into `uto_po`);
 * - `[1, 2]` is accepted besides QKeras's `[1 2]`, and `[1]`/`[]` are lists (QKeras: strings);
 * - nested parentheses, trailing text after `)`, empty values, and a keyword given twice are errors.
 */
import { QuantizerSpecError, describe } from '../errors.js';
import { PyFloat, type ArgValue } from './base.js';

/** A quantizer string split into its name and arguments, values already converted. */
export interface ParsedSpec {
  /** The name before `(` (or the whole spec when there are no parentheses). */
  readonly name: string;
  /** Positional arguments in order. Integral Python floats (`1.0`) are kept as `PyFloat`. */
  readonly positional: ArgValue[];
  /** Keyword arguments by the name written in the spec. */
  readonly keywords: Record<string, ArgValue>;
  /** Whether the spec had an argument list, even an empty one: `binary()` vs `binary`. */
  readonly hasParens: boolean;
}

/** What QKeras's `GetParams` returns: positional and keyword arguments of a `( ... )` list. */
export interface ParsedParams {
  readonly args: ArgValue[];
  readonly kwargs: Record<string, ArgValue>;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Python int() and float() in base 10 (PEP 515 underscores between digits, surrounding spaces already
// trimmed by the scanner). ASCII digits only: other Unicode digits are not worth the surprise.
const PY_INT = /^[+-]?\d(?:_?\d)*$/;
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;
/** Unquoted words read as strings, for the spelling used in DESIGN.md and many hand-written specs. */
const BARE_STRINGS: ReadonlySet<string> = new Set(['auto', 'auto_po2']);
const EXPECTED_VALUE = "a number, True, False, None, a quoted string ('...' or \"...\") or a [list] of numbers";

/**
 * Converts text the way Python's `int()` then `float()` would, preferring int: `"1"` → 1, `"1.0"` →
 * `PyFloat(1)`, `"0.5"` → 0.5, `"1e-3"` → 0.001, `"inf"`/`"nan"` → Infinity/NaN. Returns undefined for
 * text that is not a Python number.
 */
export function parsePyNumber(text: string): number | PyFloat | undefined {
  const s = text.trim();
  if (PY_INT.test(s)) {
    const v = Number(s.replace(/_/g, ''));
    return v === 0 ? 0 : v; // Python ints have no negative zero.
  }
  if (PY_FLOAT.test(s)) {
    const v = Number(s.replace(/_/g, ''));
    return Number.isInteger(v) ? new PyFloat(v) : v;
  }
  const special = PY_SPECIAL_FLOAT.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  return undefined;
}

/** One pass over a spec; `fail` throws with the spec and a 0-based position. */
class Scanner {
  pos = 0;

  constructor(readonly spec: string) {}

  get atEnd(): boolean {
    return this.pos >= this.spec.length;
  }

  peek(): string {
    return this.spec[this.pos] ?? '';
  }

  skipSpaces(): void {
    while (!this.atEnd && /\s/.test(this.peek())) this.pos++;
  }

  /** Reads an identifier at the current position, or returns null without moving. */
  identifier(): string | null {
    IDENT.lastIndex = this.pos;
    const m = IDENT.exec(this.spec);
    if (!m) return null;
    this.pos += m[0].length;
    return m[0];
  }

  /** Describes what is at `pos` for an error message. */
  found(pos = this.pos): string {
    if (pos >= this.spec.length) return 'end of spec';
    return JSON.stringify(String.fromCodePoint(this.spec.codePointAt(pos)!));
  }

  fail(pos: number, detail: string): never {
    throw new QuantizerSpecError(this.spec, pos, detail);
  }

  expected(what: string, pos = this.pos): never {
    return this.fail(pos, `expected ${what}, found ${this.found(pos)}`);
  }
}

/**
 * Parses `( item, item, ... )` starting at the scanner's `(`; leaves the scanner after `)`.
 * Items are `value` or `name = value`; a positional item after a keyword item is an error, as in Python.
 */
function parseArgList(s: Scanner): ParsedParams {
  const args: ArgValue[] = [];
  // A Map, then Object.fromEntries, so that a key such as `__proto__` stays an ordinary own property.
  const kwargs = new Map<string, ArgValue>();
  const open = s.pos;
  s.pos++; // '('
  s.skipSpaces();
  if (s.peek() === ')') {
    s.pos++;
    return { args, kwargs: {} };
  }
  for (;;) {
    s.skipSpaces();
    const itemStart = s.pos;
    const key = keywordName(s);
    if (key !== null) {
      if (kwargs.has(key)) s.fail(itemStart, `keyword argument ${key} is given twice`);
      kwargs.set(key, parseValue(s));
    } else {
      if (kwargs.size > 0) {
        s.fail(itemStart, 'positional argument follows keyword argument (write every keyword argument last)');
      }
      args.push(parseValue(s));
    }
    s.skipSpaces();
    const c = s.peek();
    if (c === ')') {
      s.pos++;
      return { args, kwargs: Object.fromEntries(kwargs) };
    }
    if (c === ',') {
      s.pos++;
      s.skipSpaces();
      if (s.peek() === ')') s.expected('an argument after ","');
      continue;
    }
    if (s.atEnd) s.fail(s.pos, `expected "," or ")" to close the "(" at position ${open}, found end of spec`);
    s.expected('"," or ")" after the argument');
  }
}

/** If the item is `name =`, consumes it and returns the name; otherwise leaves the scanner unmoved. */
function keywordName(s: Scanner): string | null {
  const start = s.pos;
  const name = s.identifier();
  if (name !== null) {
    s.skipSpaces();
    if (s.peek() === '=') {
      s.pos++;
      return name;
    }
  }
  s.pos = start;
  return null;
}

/** Parses one argument value; the scanner ends right after it (before any trailing spaces). */
function parseValue(s: Scanner): ArgValue {
  s.skipSpaces();
  const c = s.peek();
  if (c === "'" || c === '"') return parseQuoted(s);
  if (c === '[') return parseList(s);
  const start = s.pos;
  // Like QKeras's value pattern `[^,)]*`: the value runs to the next separator, then is classified whole.
  while (!s.atEnd && s.peek() !== ',' && s.peek() !== ')') s.pos++;
  const raw = s.spec.slice(start, s.pos).trimEnd();
  s.pos = start + raw.length;
  if (raw === '') s.expected(EXPECTED_VALUE, start);
  return classifyBare(s, raw, start);
}

function parseQuoted(s: Scanner): string {
  const start = s.pos;
  const quote = s.peek();
  const end = s.spec.indexOf(quote, start + 1);
  if (end < 0) s.fail(start, `unterminated string: the ${quote} at position ${start} is never closed`);
  s.pos = end + 1;
  return s.spec.slice(start + 1, end);
}

function parseList(s: Scanner): ArgValue[] {
  const open = s.pos;
  s.pos++; // '['
  const items: ArgValue[] = [];
  s.skipSpaces();
  if (s.peek() === ']') {
    s.pos++;
    return items;
  }
  for (;;) {
    items.push(parseListNumber(s));
    const before = s.pos;
    s.skipSpaces();
    const c = s.peek();
    if (c === ']') {
      s.pos++;
      return items;
    }
    if (c === ',') {
      s.pos++;
      s.skipSpaces();
      continue;
    }
    if (s.atEnd) s.fail(s.pos, `expected "]" to close the "[" at position ${open}, found end of spec`);
    // Elements may be separated by spaces alone (QKeras's `[1 2]`).
    if (s.pos === before) s.expected('" ", "," or "]" after a list element');
  }
}

function parseListNumber(s: Scanner): number | PyFloat {
  const start = s.pos;
  while (!s.atEnd && !/[\s,\])(]/.test(s.peek())) s.pos++;
  const raw = s.spec.slice(start, s.pos);
  if (raw === '') s.expected('a number in the list', start);
  const n = parsePyNumber(raw);
  if (n === undefined) s.fail(start, `expected a number in the list, found ${JSON.stringify(raw)}`);
  return n;
}

function classifyBare(s: Scanner, raw: string, pos: number): ArgValue {
  if (raw === 'True') return true;
  if (raw === 'False') return false;
  if (raw === 'None') return null;
  const n = parsePyNumber(raw);
  if (n !== undefined) return n;
  if (BARE_STRINGS.has(raw)) return raw;
  if (WORD.test(raw)) {
    const lower = raw.toLowerCase();
    if (lower === 'true' || lower === 'false' || lower === 'none') {
      s.fail(pos, `expected True, False or None (capitalised as in Python), found ${JSON.stringify(raw)}`);
    }
    s.fail(pos, `unquoted word ${JSON.stringify(raw)}: strings must be quoted, e.g. '${raw}'`);
  }
  return s.fail(pos, `expected ${EXPECTED_VALUE}, found ${JSON.stringify(raw)}`);
}

function requireString(spec: unknown): string {
  if (typeof spec !== 'string') throw new QuantizerSpecError(describe(spec), null, 'expected a string');
  return spec;
}

/**
 * Parses a QKeras quantizer string: a name, optionally followed by `( arguments )`. Surrounding spaces
 * are ignored. Throws `QuantizerSpecError` (with the 0-based position) on anything else.
 */
export function parseQuantizerSpec(spec: string): ParsedSpec {
  const s: Scanner = new Scanner(requireString(spec));
  s.skipSpaces();
  const name = s.identifier();
  if (name === null) s.expected('a quantizer or activation name (letters, digits and _)');
  s.skipSpaces();
  if (s.atEnd) return { name, positional: [], keywords: {}, hasParens: false };
  if (s.peek() !== '(') s.expected(`"(" or end of spec after the name ${name}`);
  const { args, kwargs } = parseArgList(s);
  s.skipSpaces();
  if (!s.atEnd) s.expected('end of spec after ")"');
  return { name, positional: args, keywords: kwargs, hasParens: true };
}

/**
 * QKeras's `GetParams`: parses an argument list written with its parentheses, `"(3, 0.3, sep=5)"`.
 */
export function getParams(text: string): ParsedParams {
  const s: Scanner = new Scanner(requireString(text));
  s.skipSpaces();
  if (s.peek() !== '(') s.expected('"(" to start the argument list');
  const params = parseArgList(s);
  s.skipSpaces();
  if (!s.atEnd) s.expected('end of text after ")"');
  return params;
}

/** How `safeEval` calls an entry: positional then keyword arguments, as Python would pass them. */
export type SafeEvalCallable<R> = (args: ArgValue[], kwargs: Record<string, ArgValue>) => R;

/**
 * An entry of `safeEval`'s name table. JS cannot tell a class from a function the way Python's
 * `isinstance(x, type)` does, so each entry says which it is: a bare class name is instantiated with no
 * arguments, a bare function name is returned uncalled.
 */
export type SafeEvalOp<R> =
  | { readonly kind: 'function'; readonly call: SafeEvalCallable<R> }
  | { readonly kind: 'class'; readonly construct: SafeEvalCallable<R> };

/**
 * QKeras's `safe_eval(eval_str, op_dict, *params, **kwparams)` over a table of named operations:
 * `params` are appended to the parsed positional arguments and `kwparams` override parsed keywords.
 * With parentheses or any arguments the entry is called; otherwise a class is constructed with no
 * arguments and a function is returned as is. Unknown names raise `QuantizerSpecError` (QKeras falls
 * back to Keras activations here; `getQuantizer` does that for quantizers).
 */
export function safeEval<R>(
  evalStr: string,
  opDict: Readonly<Record<string, SafeEvalOp<R>>>,
  params: readonly ArgValue[] = [],
  kwparams: Readonly<Record<string, ArgValue>> = {},
): R | SafeEvalCallable<R> {
  const parsed = parseQuantizerSpec(evalStr);
  const op = Object.hasOwn(opDict, parsed.name) ? opDict[parsed.name] : undefined;
  if (op === undefined) {
    const known = Object.keys(opDict).sort().join(', ');
    throw new QuantizerSpecError(
      evalStr,
      evalStr.length - evalStr.trimStart().length,
      `unknown name ${JSON.stringify(parsed.name)}; known names: ${known || '(none)'}`,
    );
  }
  const args = [...parsed.positional, ...params];
  const kwargs = Object.fromEntries([...Object.entries(parsed.keywords), ...Object.entries(kwparams)]);
  const call = op.kind === 'class' ? op.construct : op.call;
  if (parsed.hasParens || args.length > 0 || Object.keys(kwargs).length > 0) return call(args, kwargs);
  return op.kind === 'class' ? op.construct([], {}) : op.call;
}
