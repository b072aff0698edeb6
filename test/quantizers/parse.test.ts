import { readFileSync } from 'node:fs';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantizerSpecError } from '../../src/errors.js';
import { PyFloat, pyNumber, type ArgValue } from '../../src/quantizers/base.js';
import {
  getParams,
  parsePyNumber,
  parseQuantizerSpec,
  safeEval,
  type ParsedSpec,
  type SafeEvalCallable,
  type SafeEvalOp,
} from '../../src/quantizers/parse.js';
import { lookupQuantizer, registeredQuantizerNames } from '../../src/quantizers/index.js';
import { roundTripArgs } from './quantizer-samples.js';

// ---- the `parse` vectors (QKeras tests/safe_eval_test.py) -------------------------------------------

interface ParseVector {
  kind: string;
  id: number;
  test_name: string;
  quantizer: string;
  input: unknown;
  expected: unknown;
}

const allVectors = (
  JSON.parse(readFileSync(new URL('../fixtures/qkeras_vectors.json', import.meta.url), 'utf8')) as {
    vectors: ParseVector[];
  }
).vectors;
const parseVectors = allVectors.filter((v) => v.kind === 'parse');

/** JSON cannot tell 1.0 from 1, so vectors compare after dropping the PyFloat marker. */
function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

type Fn = SafeEvalCallable<unknown>;

/** Binds positional/keyword arguments to named parameters the way a Python call does. */
function pyDef(names: string[], defaults: Record<string, ArgValue>, body: (...a: number[]) => unknown): Fn {
  return (args, kwargs) => {
    if (args.length > names.length) throw new TypeError(`takes ${names.length} arguments, got ${args.length}`);
    const bound: Record<string, ArgValue> = { ...defaults };
    names.forEach((n, i) => {
      if (i < args.length) bound[n] = args[i]!;
    });
    for (const [k, v] of Object.entries(kwargs)) {
      if (!names.includes(k)) throw new TypeError(`unexpected keyword ${k}`);
      if (names.indexOf(k) < args.length) throw new TypeError(`got multiple values for ${k}`);
      bound[k] = v;
    }
    const values = names.map((n) => {
      if (!(n in bound)) throw new TypeError(`missing argument ${n}`);
      return bound[n] as number;
    });
    return body(...values);
  };
}

// The op_dict of safe_eval_test.py: add = operator.add, myadd(a=32, b=10), myadd2(a, b) = -a - b, and a
// class myaddcls whose instances are callables (a=32, b=10) -> a + b.
const opDict: Record<string, SafeEvalOp<unknown>> = {
  add: { kind: 'function', call: pyDef(['a', 'b'], {}, (a, b) => a + b) },
  myadd: { kind: 'function', call: pyDef(['a', 'b'], { a: 32, b: 10 }, (a, b) => a + b) },
  myadd2: { kind: 'function', call: pyDef(['a', 'b'], {}, (a, b) => -a - b) },
  myaddcls: {
    kind: 'class',
    construct: pyDef([], {}, () => pyDef(['a', 'b'], { a: 32, b: 10 }, (a, b) => a + b)),
  },
};

interface SafeEvalInput {
  eval_str: string;
  extra: { params?: ArgValue[]; args?: ArgValue[]; kwparams?: Record<string, ArgValue>; then_call?: ArgValue[] } | null;
}

describe('parse vectors (QKeras safe_eval_test.py)', () => {
  it('the fixture has parse vectors', () => {
    expect(parseVectors.length).toBeGreaterThan(0);
  });

  const getParamsVectors = parseVectors.filter((v) => v.quantizer === 'GetParams');
  const safeEvalVectors = parseVectors.filter((v) => v.quantizer === 'safe_eval');
  it('every parse vector is a GetParams or safe_eval case', () => {
    expect(getParamsVectors.length + safeEvalVectors.length).toBe(parseVectors.length);
  });

  it.each(getParamsVectors.map((v) => [`#${v.id} ${v.test_name}`, v] as const))('%s', (_name, v) => {
    const { args, kwargs } = getParams(v.input as string);
    expect(plain({ args, kwargs })).toEqual(v.expected);
  });

  it.each(safeEvalVectors.map((v) => [`#${v.id} ${v.test_name} ${JSON.stringify(v.input)}`, v] as const))(
    '%s',
    (_name, v) => {
      const { eval_str: evalStr, extra } = v.input as SafeEvalInput;
      let result = safeEval(evalStr, opDict, extra?.params ?? extra?.args ?? [], extra?.kwparams ?? {});
      if (extra?.then_call) {
        expect(typeof result).toBe('function');
        result = (result as Fn)(extra.then_call, {});
      }
      expect(result).toEqual(v.expected);
    },
  );
});

describe('safeEval (the rest of safe_eval_test.py)', () => {
  it('GetParams of test_get_params1/2', () => {
    expect(plain(getParams('(3, 0.3, sep=5  )'))).toEqual({ args: [3, 0.3], kwargs: { sep: 5 } });
    expect(getParams('(  )')).toEqual({ args: [], kwargs: {} });
  });

  it('test_get_params3 keeps -1.0 and -3.0 as Python floats', () => {
    const { args, kwargs } = getParams(
      "(3, 0.3,  -1.0, True, False, 'string1', num1=0.1, num2=-3.0, str1='string2', bool1=True, bool2=False)",
    );
    expect(args[2]).toEqual(new PyFloat(-1));
    expect(kwargs.num2).toEqual(new PyFloat(-3));
    expect(args[0]).toBe(3);
  });

  it('extra positional params are appended (test_safe_eval2)', () => {
    expect(safeEval('add', opDict, [3, 39])).toBe(42);
  });

  it('calls with empty parentheses use the defaults (test_safe_eval3)', () => {
    expect(safeEval('myadd()', opDict)).toBe(42);
  });

  it('a bare function name returns the function, a bare class name an instance (test_safe_eval5)', () => {
    const fn = safeEval('myadd', opDict);
    expect(fn).toBe(opDict.myadd!.kind === 'function' ? opDict.myadd!.call : undefined);
    expect((fn as Fn)([3, 39], {})).toBe(42);
    expect((safeEval('myaddcls', opDict) as Fn)([3, 39], {})).toBe(42);
    expect((safeEval('myaddcls()', opDict) as Fn)([3, 39], {})).toBe(42);
  });

  it('kwparams override keywords written in the string', () => {
    expect(safeEval('myadd(a=1, b=2)', opDict, [], { b: 41 })).toBe(42);
  });

  it('an unknown name is a QuantizerSpecError listing the known names', () => {
    const err = catchSpecError(() => safeEval('  nope(1)', opDict));
    expect(err.position).toBe(2);
    expect(err.detail).toBe('unknown name "nope"; known names: add, myadd, myadd2, myaddcls');
    // Names inherited from Object.prototype are not entries.
    expect(catchSpecError(() => safeEval('constructor', opDict)).position).toBe(0);
  });
});

// ---- grammar ----------------------------------------------------------------------------------------

function spec(name: string, positional: ArgValue[] = [], keywords: Record<string, ArgValue> = {}, hasParens = true): ParsedSpec {
  return { name, positional, keywords, hasParens };
}

const F = (v: number) => new PyFloat(v);

const grammarCases: Array<[string, ParsedSpec]> = [
  ['binary', spec('binary', [], {}, false)],
  ['  binary \t', spec('binary', [], {}, false)],
  ['binary()', spec('binary')],
  ['binary ( )', spec('binary')],
  ['quantized_bits(4,0,1)', spec('quantized_bits', [4, 0, 1])],
  ["quantized_bits(4,0,1,alpha='auto_po2')", spec('quantized_bits', [4, 0, 1], { alpha: 'auto_po2' })],
  ['quantized_bits(4,0,1,alpha="auto_po2")', spec('quantized_bits', [4, 0, 1], { alpha: 'auto_po2' })],
  // DESIGN.md's spelling: the unquoted auto/auto_po2 are taken as those strings.
  ['quantized_bits(4,0,1,alpha=auto_po2)', spec('quantized_bits', [4, 0, 1], { alpha: 'auto_po2' })],
  ['binary(alpha=auto)', spec('binary', [], { alpha: 'auto' })],
  ['quantized_bits(1,0,1,alpha=1.0)', spec('quantized_bits', [1, 0, 1], { alpha: F(1) })],
  ['q( 4 , 0 ,\n\t1 )', spec('q', [4, 0, 1])],
  ['myadd2(a= 39, b = 3)', spec('myadd2', [], { a: 39, b: 3 })],
  ['q(sep=5  )', spec('q', [], { sep: 5 })],
  ['q(True, False, None)', spec('q', [true, false, null])],
  ['q(x=True, y=False, z=None)', spec('q', [], { x: true, y: false, z: null })],
  // Python int() then float(), int preferred.
  ['q(1, 1.0, -1.0, 0.5, 1e-3, 1E3, -2.5e-1)', spec('q', [1, F(1), F(-1), 0.5, 0.001, F(1000), -0.25])],
  ['q(+5, -7, 007, 1_000, 1_000.5, .5, 5., 1.e2)', spec('q', [5, -7, 7, 1000, 1000.5, 0.5, F(5), F(100)])],
  ['q(inf, -inf, +Infinity, nan, NaN)', spec('q', [Infinity, -Infinity, Infinity, NaN, NaN])],
  ['q(0.1, 1e-05, 1e+16)', spec('q', [0.1, 1e-5, F(1e16)])],
  // Lists: QKeras's space-separated form, the comma form, and degenerate sizes.
  ['q(scale_axis=[1 2 3])', spec('q', [], { scale_axis: [1, 2, 3] })],
  ['q([1, 2], [1,2], [ 1  2 ], [1 ,2])', spec('q', [[1, 2], [1, 2], [1, 2], [1, 2]])],
  ['q([], [1], [0.5 1.0 -2e1])', spec('q', [[], [1], [0.5, F(1), F(-20)]])],
  // Quoted strings keep everything between the quotes, separators included.
  ["q(s='a, b)(=[', t=\"it's\", u='')", spec('q', [], { s: 'a, b)(=[', t: "it's", u: '' })],
  ["q('x' , 'y')", spec('q', ['x', 'y'])],
  // Keyword names are ordinary own properties, even ones that mean something to JS objects.
  ['q(__proto__=1, constructor=2)', spec('q', [], { ['__proto__']: 1, constructor: 2 })],
];

describe('parseQuantizerSpec grammar', () => {
  it.each(grammarCases)('%j', (text, expected) => {
    const got = parseQuantizerSpec(text);
    expect(got).toEqual(expected);
    // toEqual treats 1 and PyFloat(1) differently already; also pin -0/NaN and own keys.
    expect(Object.keys(got.keywords)).toEqual(Object.keys(expected.keywords));
  });

  it('keeps Python int zero unsigned and float zero signed', () => {
    expect(Object.is(parseQuantizerSpec('q(-0)').positional[0], 0)).toBe(true);
    const negZero = parseQuantizerSpec('q(-0.0)').positional[0] as PyFloat;
    expect(Object.is(negZero.value, -0)).toBe(true);
  });

  it('__proto__ as a keyword does not touch the prototype', () => {
    const { keywords } = parseQuantizerSpec('q(__proto__=1)');
    expect(Object.getPrototypeOf(keywords)).toBe(Object.prototype);
    expect(Object.hasOwn(keywords, '__proto__')).toBe(true);
  });

  it('parsePyNumber follows Python int()/float()', () => {
    expect(parsePyNumber(' 5  ')).toBe(5);
    expect(parsePyNumber('1.5')).toBe(1.5);
    expect(parsePyNumber('2.0')).toEqual(F(2));
    expect(parsePyNumber('-INF')).toBe(-Infinity);
    for (const bad of ['', '.', 'e3', '1e', '1__0', '_1', '1_', '0x10', '1.5.2', '++1', 'infinit', '1 2', '٣']) {
      expect(parsePyNumber(bad), bad).toBeUndefined();
    }
  });
});

// ---- errors: every path names the spec and the position ---------------------------------------------

function catchSpecError(fn: () => unknown): QuantizerSpecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuantizerSpecError) return e;
    throw e;
  }
  throw new Error('expected a QuantizerSpecError');
}

const errorCases: Array<[string, number, RegExp]> = [
  ['', 0, /^expected a quantizer or activation name .*, found end of spec$/],
  ['   ', 3, /^expected a quantizer or activation name .*, found end of spec$/],
  ['4bits', 0, /^expected a quantizer or activation name .*, found "4"$/],
  ['(4)', 0, /found "\("$/],
  ['q x', 2, /^expected "\(" or end of spec after the name q, found "x"$/],
  ['q-1', 1, /^expected "\(" or end of spec after the name q, found "-"$/],
  ['q(', 2, /^expected a number, True, False, None, a quoted string .* or a \[list\] of numbers, found end of spec$/],
  ['q(4', 3, /^expected "," or "\)" to close the "\(" at position 1, found end of spec$/],
  ['q(4,', 4, /^expected a number, True, .*, found end of spec$/],
  ['q(4,)', 4, /^expected an argument after ",", found "\)"$/],
  ['q(,4)', 2, /^expected a number, True, .*, found ","$/],
  ['q(4,,5)', 4, /^expected a number, True, .*, found ","$/],
  ['q(4 5)', 2, /^expected a number, True, .*, found "4 5"$/],
  ['q(a=1, 2)', 7, /^positional argument follows keyword argument/],
  ['q(a=1, a=2)', 7, /^keyword argument a is given twice$/],
  ['q(a=)', 4, /^expected a number, True, .*, found "\)"$/],
  ['q(a= ,b=1)', 5, /^expected a number, True, .*, found ","$/],
  ["q('abc)", 2, /^unterminated string: the ' at position 2 is never closed$/],
  ['q(s="abc\')', 4, /^unterminated string: the " at position 4 is never closed$/],
  ["q('a'b)", 5, /^expected "," or "\)" after the argument, found "b"$/],
  ['q(foo)', 2, /^unquoted word "foo": strings must be quoted, e.g. 'foo'$/],
  ['q(log2_rounding=floor)', 16, /^unquoted word "floor": strings must be quoted, e.g. 'floor'$/],
  ['q(true)', 2, /^expected True, False or None \(capitalised as in Python\), found "true"$/],
  ['q(x=none)', 4, /capitalised as in Python\), found "none"$/],
  ['q(1)x', 4, /^expected end of spec after "\)", found "x"$/],
  ['q(1))', 4, /^expected end of spec after "\)", found "\)"$/],
  ['q((1))', 2, /^expected a number, True, .*, found "\(1"$/],
  ['q(1=2)', 2, /found "1=2"$/],
  ['q(a==2)', 4, /found "=2"$/],
  ['q([1 2)', 6, /^expected " ", "," or "\]" after a list element, found "\)"$/],
  ['q([1 2', 6, /^expected "\]" to close the "\[" at position 2, found end of spec$/],
  ['q([1 x])', 5, /^expected a number in the list, found "x"$/],
  ['q([1,,2])', 5, /^expected a number in the list, found ","$/],
  ['q([,])', 3, /^expected a number in the list, found ","$/],
  ['q([[1]])', 3, /^expected a number in the list, found "\[1"$/],
  ["q(['a'])", 3, /^expected a number in the list, found "'a'"$/],
  ['q(1.2.3)', 2, /found "1.2.3"$/],
  ['q(0x10)', 2, /found "0x10"$/],
  ['q(\u00e9)', 2, /found "é"$/],
  ['q\u{1F600}', 1, /found "\u{1F600}"$/u],
];

describe('parse errors', () => {
  it.each(errorCases)('%j fails at %i', (text, position, detail) => {
    const err = catchSpecError(() => parseQuantizerSpec(text));
    expect(err.spec).toBe(text);
    expect(err.position).toBe(position);
    expect(err.detail).toMatch(detail);
    expect(err.message).toBe(`invalid quantizer spec ${JSON.stringify(text)} at position ${position}: ${err.detail}`);
  });

  it('getParams errors name the text and position', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['3, 4)', 0, /^expected "\(" to start the argument list, found "3"$/],
      ['(1) x', 4, /^expected end of text after "\)", found "x"$/],
      ['(1, a=2, 3)', 9, /^positional argument follows keyword argument/],
    ];
    for (const [text, position, detail] of cases) {
      const err = catchSpecError(() => getParams(text));
      expect([err.spec, err.position]).toEqual([text, position]);
      expect(err.detail).toMatch(detail);
    }
  });

  it('a non-string is rejected without a position', () => {
    const err = catchSpecError(() => parseQuantizerSpec(42 as unknown as string));
    expect([err.spec, err.position, err.detail]).toEqual(['42', null, 'expected a string']);
  });
});

// ---- properties -------------------------------------------------------------------------------------

const FUZZ_ALPHABET = [...'qb_az019.-+eE()[],=\'" \t\nTrueFalsNoinf'];
const VALID_SPECS = [
  "quantized_bits(4,0,1,alpha='auto_po2')",
  'quantized_relu(6,2,use_sigmoid=1)',
  'binary(scale_axis=[1 2], alpha=auto)',
  'quantized_po2(4, 1.0, max_value=None, use_stochastic_rounding=True)',
  "ternary(alpha='auto', threshold=0.33)",
];

/** A spec with one random edit (insert, delete or replace a character). */
const mutatedSpec = fc
  .tuple(fc.constantFrom(...VALID_SPECS), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...FUZZ_ALPHABET))
  .map(([text, at, op, ch]) => {
    const i = at % (text.length + 1);
    if (op === 'insert') return text.slice(0, i) + ch + text.slice(i);
    if (op === 'delete') return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + ch + text.slice(i + 1);
  });

/** Plain checks (not `expect`) keep thousands of fuzz runs fast. */
function parsesOrFailsCleanly(text: string): void {
  try {
    const parsed = parseQuantizerSpec(text);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(parsed.name)) throw new Error(`bad name ${parsed.name}`);
  } catch (e) {
    if (!(e instanceof QuantizerSpecError)) throw e;
    const { position } = e;
    if (e.spec !== text || position === null || position < 0 || position > text.length) {
      throw new Error(`bad error for ${JSON.stringify(text)}: ${e.message}`);
    }
  }
}

/** Values the grammar can carry, with the Python text that writes them. */
const argValue: fc.Arbitrary<[string, ArgValue]> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n): [string, ArgValue] => [String(n), n]),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((d) => (Object.is(d, -0) ? 0 : d))
    .map((d): [string, ArgValue] => [pyNumber(d, true), Number.isInteger(d) ? F(d) : d]),
  fc.boolean().map((b): [string, ArgValue] => [b ? 'True' : 'False', b]),
  fc.constant<[string, ArgValue]>(['None', null]),
  fc.string({ maxLength: 12 }).filter((s) => !s.includes("'")).map((s): [string, ArgValue] => [`'${s}'`, s]),
  fc
    .array(fc.integer({ min: -99, max: 99 }), { maxLength: 4 })
    .map((xs): [string, ArgValue] => [`[${xs.join(' ')}]`, xs]),
);

describe('parser properties (seeded)', () => {
  it('random strings parse or throw QuantizerSpecError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...FUZZ_ALPHABET), maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 60 }),
          mutatedSpec,
        ),
        parsesOrFailsCleanly,
      ),
      { seed: 20240611, numRuns: 3000 },
    );
  });

  it('long inputs are handled (the scan is linear)', () => {
    const many = `q(${Array.from({ length: 20000 }, (_, i) => i).join(',')})`;
    expect(parseQuantizerSpec(many).positional).toHaveLength(20000);
    parsesOrFailsCleanly(`q(${"'".repeat(100001)}`);
    parsesOrFailsCleanly(`q([${' 1'.repeat(50000)}`);
    for (const c of FUZZ_ALPHABET) parsesOrFailsCleanly(`q(${c.repeat(5000)}`);
  });

  it('written arguments read back as the same values', () => {
    fc.assert(
      fc.property(
        fc.array(argValue, { maxLength: 5 }),
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), argValue), {
          maxLength: 5,
          selector: ([k]) => k,
        }),
        (pos, kws) => {
          const text = `name(${[...pos.map(([t]) => t), ...kws.map(([k, [t]]) => `${k}=${t}`)].join(', ')})`;
          const parsed = parseQuantizerSpec(text);
          expect(parsed.positional).toEqual(pos.map(([, v]) => v));
          expect(parsed.keywords).toEqual(Object.fromEntries(kws.map(([k, [, v]]) => [k, v])));
        },
      ),
      { seed: 7, numRuns: 1000 },
    );
  });
});

// ---- parse(toString(q)) for generated quantizers ----------------------------------------------------

describe('parse(q.toString()) for generated quantizers (seeded)', () => {
  it('covers every registered quantizer', () => {
    expect(Object.keys(roundTripArgs).sort()).toEqual(registeredQuantizerNames());
  });

  it.each(Object.keys(roundTripArgs))('%s', (name) => {
    const cls = lookupQuantizer(name)!;
    fc.assert(
      fc.property(roundTripArgs[name]!, (args) => {
        const q = new cls(args);
        const text = q.toString();
        const parsed = parseQuantizerSpec(text);
        expect(parsed.name).toBe(name);
        expect(parsed.hasParens).toBe(true);
        expect(new cls(parsed.keywords, parsed.positional).toString()).toBe(text);
      }),
      { seed: 1234, numRuns: 300 },
    );
  });
});
