import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IRParseError, assertValid, parseIR, printIR, runIR } from '../../src/ir/index.js';
import { rng } from './reference.js';

const GOLDEN = fileURLToPath(new URL('../golden/ir/', import.meta.url));
const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.ir'));

describe('canonical IR text', () => {
  it('has fixtures to read', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const f of files) {
    it(`${f}: print(parse(text)) is the text itself, and parse(print(g)) is g`, () => {
      const text = readFileSync(GOLDEN + f, 'utf8');
      const g = parseIR(text);
      expect(printIR(g)).toBe(text);
      expect(parseIR(printIR(g))).toEqual(g);
    });
  }

  it('all-kinds.ir: every node kind parses into a valid graph that runs', () => {
    const g = parseIR(readFileSync(GOLDEN + 'all-kinds.ir', 'utf8'));
    expect(new Set(g.nodes.map((n) => n.kind))).toEqual(
      new Set(['input', 'conv2d', 'depthwise', 'pointwise', 'batchnorm', 'avgpool', 'globalavgpool', 'conv1d', 'maxpool', 'reshape', 'add', 'concat', 'requantize', 'argmax']),
    );
    expect(g.name).toBe('all "kinds"');
    assertValid(g);
    const r = rng(4);
    const [tab, am, cat] = runIR(g, [Array.from({ length: 72 }, () => (r() - 0.5) * 6), Array.from({ length: 16 }, () => r() - 0.5)]);
    expect(tab!.shape).toEqual([4]);
    expect(am!.shape).toEqual([]);
    expect(cat!.type).toEqual({ kind: 'fixed', signed: true, width: 8, frac: 5 });
  });

  it('ignores whitespace, line breaks and # comments', () => {
    const text = readFileSync(GOLDEN + 'prune-zeros.in.ir', 'utf8');
    const messy = text
      .replace(/\n\n/g, '\n# a comment line\n\n')
      .replace(/, /g, ',\n      ')
      .replace('graph "prune"', 'graph   "prune"   # trailing comment');
    expect(printIR(parseIR(messy))).toBe(text);
  });
});

describe('parse errors name the line, column and what was expected', () => {
  const base = readFileSync(GOLDEN + 'prune-zeros.in.ir', 'utf8');
  const cases: [string, string, RegExp][] = [
    ['wrong magic', base.replace('qkeras-ir 1', 'qkeras-xr 1'), /IR text 1:1: expected the header "qkeras-ir 1"/],
    ['wrong version', base.replace('qkeras-ir 1', 'qkeras-ir 2'), /IR text 1:11: unsupported IR text version 2; this reader knows 1/],
    ['unknown kind', base.replace('= dense(', '= densr('), /unknown node kind densr; known: input, dense/],
    ['unknown field', base.replace('  pruned false', '  pruned false\n  colour red'), /dense nodes have no field colour; fields: origin, weights, bias, acc, requant, pruned/],
    ['missing field', base.replace('  pruned false\n', ''), /node %fc \(dense\) lacks the field pruned/],
    ['bad enum', base.replace('rounding: half_even', 'rounding: half_up'), /quant\.rule\.rounding: expected one of half_even, half_away/],
    ['bad type', base.replace('fixed<s4,3>', 'fixed<q4,3>'), /unexpected character "<"|malformed type|expected a type/],
    ['bad record', base.replace('exps: [', 'exsp: ['), /weights: expected only the fields kind, shape, quant, exps, codes \(found exsp\)/],
  ];
  for (const [name, text, re] of cases) {
    it(name, () => {
      expect(() => parseIR(text)).toThrow(IRParseError);
      expect(() => parseIR(text)).toThrow(re);
    });
  }

  it('reports the position of a bad token', () => {
    try {
      parseIR('qkeras-ir 1\ngraph "g"\ninputs [%x]\noutputs [%x]\n\nnode %x = input() : ? [2] ;');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(IRParseError);
      expect((e as IRParseError).line).toBe(6);
      expect((e as IRParseError).column).toBe(27);
    }
  });
});
