/**
 * Mutations of a valid JSON document (a model file) for the loader fuzz suites: at a random path, replace
 * the value with a hostile one (wrong type, unknown class, huge/negative/non-integer numbers, overlong
 * strings, path-like strings), delete it, duplicate an array element, or write a number JSON cannot hold
 * (`1e999`, which `JSON.parse` reads as ±Infinity).
 */
import * as fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = ReadonlyArray<string | number>;

export interface Mutation {
  readonly path: number;
  readonly kind: 'replace' | 'delete' | 'infinity' | 'negative-infinity' | 'duplicate';
  readonly value: Json;
}

/** Values that break configs in different ways. */
export const HOSTILE_VALUES: readonly Json[] = [
  null, '', 'x', -1, 0, 1, 2, 0.5, -0, 1e308, -1e308, 1e-320, 2 ** 31, 2 ** 53 + 2, 1e9, 4096, true, false, [], {}, [1], [null],
  [-1, -1], [0, 0], [4, 4, 1], [null, 4, 4, 1], { class_name: 'NoSuchClass', config: {} }, { class_name: 'Dense', config: null },
  'NaN', 'Infinity', 'relu', 'softmax', 'linear', 'quantized_bits(4,0,1)', 'quantized_bits(99,0,1)', 'quantized_bits(4,1e308,1)',
  "quantized_bits(4,0,1,alpha=[1 2 3 4 5])", 'float64', 'int32', 'string', 'bool', 'QDense', 'Dense', 'InputLayer', 'Sequential',
  'Model', 'channels_first', 'same', 'valid', 'causal', '../../etc/passwd', '/etc/passwd', 'a'.repeat(10_000),
  'quote"star*/slash/*\nnewline\\', '层 слой κ 😀',
];

/** Every path of a document (the root included), in a fixed order. */
export function jsonPaths(doc: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (doc !== null && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) jsonPaths(v, [...prefix, Array.isArray(doc) ? Number(k) : k], out);
  }
  return out;
}

/** One to `max` mutations at the paths of `paths`. */
export function mutationsArb(paths: readonly Path[], max = 3): fc.Arbitrary<Mutation[]> {
  const one = fc.record({
    path: fc.nat(paths.length - 1),
    kind: fc.constantFrom<Mutation['kind']>('replace', 'replace', 'replace', 'delete', 'infinity', 'negative-infinity', 'duplicate'),
    value: fc.constantFrom(...HOSTILE_VALUES),
  });
  return fc.array(one, { minLength: 1, maxLength: max });
}

const MARK = { infinity: '\u0001inf\u0001', 'negative-infinity': '\u0001-inf\u0001' } as const;

/** Applies the mutations to a copy of `doc` (skipping paths that earlier ones removed) and returns its text. */
export function mutatedText(doc: unknown, paths: readonly Path[], mutations: readonly Mutation[]): string {
  let root = structuredClone(doc) as Json;
  for (const m of mutations) {
    const path = paths[m.path]!;
    if (path.length === 0) {
      if (m.kind === 'replace') root = structuredClone(m.value);
      continue;
    }
    let parent: Json = root;
    for (const k of path.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break;
      parent = (parent as Record<string | number, Json>)[k] ?? null;
    }
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1]!;
    const p = parent as Record<string | number, Json>;
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete p[key];
    } else if (m.kind === 'duplicate') {
      if (Array.isArray(parent) && Number(key) < parent.length) parent.push(structuredClone(parent[Number(key)]!));
    } else if (m.kind === 'replace') {
      p[key] = structuredClone(m.value);
    } else {
      p[key] = MARK[m.kind];
    }
  }
  return JSON.stringify(root).replaceAll(JSON.stringify(MARK.infinity), '1e999').replaceAll(JSON.stringify(MARK['negative-infinity']), '-1e999');
}

/** A mutation list described by path, for failure messages. */
export function describeMutations(paths: readonly Path[], mutations: readonly Mutation[]): string {
  return JSON.stringify(
    mutations.map((m) => ({ at: paths[m.path]!.join('.'), kind: m.kind, value: typeof m.value === 'string' ? m.value.slice(0, 60) : m.value })),
  );
}
