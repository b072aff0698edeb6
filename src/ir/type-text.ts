/**
 * Text form of tensor types, shared by the printer, the parser and messages:
 * `fixed<s8,7>` (signed, width 8, frac 7), `fixed<u6,6>`, `po2<s,-4,3>`, `po2<u,-8,0,zero>`,
 * `binary<pm,0>` (±2^0), `binary<01,-1>` ({0, 2^-1}), `ternary<0>`, `float`; `?` for a type not inferred yet.
 */
import type { TensorType } from './nodes.js';
import { assertNever } from '../errors.js';

export function formatType(t: TensorType | null): string {
  if (t === null) return '?';
  switch (t.kind) {
    case 'fixed':
      return `fixed<${t.signed ? 's' : 'u'}${t.width},${t.frac}>`;
    case 'po2':
      return `po2<${t.signed ? 's' : 'u'},${t.expMin},${t.expMax}${t.zero ? ',zero' : ''}>`;
    case 'binary':
      return `binary<${t.zeroOne ? '01' : 'pm'},${t.exp}>`;
    case 'ternary':
      return `ternary<${t.exp}>`;
    case 'float':
      return 'float';
    default:
      return assertNever(t, 'tensor type');
  }
}

const INT = '(-?\\d+)';
const PATTERNS: readonly [RegExp, (m: RegExpMatchArray) => TensorType][] = [
  [new RegExp(`^fixed<([su])(\\d+),${INT}>$`), (m) => ({ kind: 'fixed', signed: m[1] === 's', width: Number(m[2]), frac: Number(m[3]) })],
  [
    new RegExp(`^po2<([su]),${INT},${INT}(,zero)?>$`),
    (m) => ({ kind: 'po2', signed: m[1] === 's', expMin: Number(m[2]), expMax: Number(m[3]), zero: m[4] !== undefined }),
  ],
  [new RegExp(`^binary<(pm|01),${INT}>$`), (m) => ({ kind: 'binary', zeroOne: m[1] === '01', exp: Number(m[2]) })],
  [new RegExp(`^ternary<${INT}>$`), (m) => ({ kind: 'ternary', exp: Number(m[1]) })],
  [/^float$/, () => ({ kind: 'float' })],
];

/** Parses a type literal; returns undefined when the text is not one (`?` gives null). */
export function parseType(text: string): TensorType | null | undefined {
  if (text === '?') return null;
  for (const [re, make] of PATTERNS) {
    const m = text.match(re);
    if (m !== null) return make(m);
  }
  return undefined;
}
