/**
 * Loads the QKeras test vectors (test/fixtures/qkeras_vectors.json) and compares results with each
 * vector's own tolerance: `exact` (numpy assert_equal at float32: +0 equals -0, NaN equals NaN), `rtol`/`atol`
 * (numpy assert_allclose: |a - e| <= atol + rtol * |e|), and `compare_as: "float16"` (both sides rounded
 * to float16 first).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Quantizer, QuantizerClass } from '../../src/quantizers/base.js';
import { parseQuantizerSpec } from '../../src/quantizers/parse.js';

export interface Tolerance {
  readonly exact?: boolean;
  readonly rtol?: number;
  readonly atol?: number;
  readonly compare_as?: 'float16';
}

export interface Vector {
  readonly id: number;
  readonly kind: string;
  readonly test_name: string;
  readonly quantizer: string;
  readonly quantizer_kwargs?: Record<string, unknown>;
  readonly method?: string;
  readonly setup?: Record<string, unknown>;
  readonly input: unknown;
  readonly expected: unknown;
  readonly tolerance: Tolerance | null;
  readonly [key: string]: unknown;
}

interface VectorFile {
  readonly vectors: Vector[];
}

let cache: VectorFile | null = null;

export function loadVectors(): Vector[] {
  cache ??= JSON.parse(
    readFileSync(fileURLToPath(new URL('../fixtures/qkeras_vectors.json', import.meta.url)), 'utf8'),
  ) as VectorFile;
  return cache.vectors;
}

/** The name before `(` in a vector's `quantizer` field. */
export function specName(spec: string): string {
  return spec.split('(')[0]!.trim();
}

/** Vectors of `kind` whose quantizer/function name is one of `names`. */
export function vectorsFor(kind: string, names: readonly string[]): Vector[] {
  return loadVectors().filter((v) => v.kind === kind && names.includes(specName(v.quantizer)));
}

/** Builds a quantizer from a vector's QKeras string with the given classes (positional and keyword args). */
export function buildQuantizer(spec: string, classes: readonly QuantizerClass[]): Quantizer {
  const parsed = parseQuantizerSpec(spec);
  const cls = classes.find((c) => c.qkerasName === parsed.name);
  if (!cls) throw new Error(`no class for ${parsed.name} in this test`);
  return new cls(parsed.keywords, parsed.positional);
}

/** Decodes `float32_le_base64` materialized inputs. */
export function decodeFloat32Base64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Nested number arrays flattened in row-major order, with their shape. */
export function flatten(v: unknown): { values: number[]; shape: number[] } {
  if (typeof v === 'number') return { values: [v], shape: [] };
  if (!Array.isArray(v)) throw new Error(`not a number array: ${JSON.stringify(v)}`);
  const parts = v.map((e) => flatten(e));
  return { values: parts.flatMap((p) => p.values), shape: [v.length, ...(parts[0]?.shape ?? [])] };
}

/** Rounds a double to the nearest float16 value (ties to even), as numpy's astype(float16). */
export function toFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  const exp = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (exp - 10);
  const q = a / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q) - 0.5) === 0 && r % 2 === 1) r -= 1; // ties to even
  return Math.sign(x) * r * ulp;
}

/**
 * Asserts `actual` matches `expected` under the vector's tolerance. Shapes must agree exactly; returns
 * nothing, fails the test with the index of the first mismatch.
 */
export function expectMatches(
  actual: { values: ArrayLike<number>; shape: readonly number[] },
  expected: unknown,
  tolerance: Tolerance | null,
  label = '',
): void {
  const want = flatten(expected);
  expect(actual.shape, `${label} shape`).toEqual(want.shape);
  const tol = tolerance ?? { exact: true };
  const cast = tol.compare_as === 'float16' ? toFloat16 : (x: number) => x;
  const rtol = tol.rtol ?? 0;
  const atol = tol.atol ?? 0;
  for (let i = 0; i < want.values.length; i++) {
    const a = cast(actual.values[i]!);
    const e = cast(want.values[i]!);
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `${label}[${i}] expected NaN, got ${a}`).toBe(true);
      continue;
    }
    // Exact vectors come from float32 arrays in the tests (`np.array([0.6], dtype=np.float32)`), so the
    // literal is compared at float32 precision.
    const ok = tol.exact ? a === Math.fround(e) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    expect(ok, `${label}[${i}]: got ${a}, expected ${e} (${JSON.stringify(tol)})`).toBe(true);
  }
}

/** What a test adds to a quantizer_call vector: how to apply the vector's setup, and checks of its own. */
export interface CallVectorHooks {
  /** Applies `setup` (qnoise factor, learning phase, internal sigmoid) to the built quantizer. */
  readonly prepare?: (q: Quantizer, setup: Record<string, unknown>) => void;
  /** More comparisons after the call (a recorded scale, the string form). */
  readonly check?: (q: Quantizer) => void;
}

/**
 * Runs a `quantizer_call` vector: the quantizer built from `classes` maps the input to the expected
 * output, and has the recorded min/max when the vector holds them (`expected_min_max`).
 */
export function expectCallVector(v: Vector, classes: readonly QuantizerClass[], hooks: CallVectorHooks = {}): void {
  const q = buildQuantizer(v.quantizer, classes);
  hooks.prepare?.(q, v.setup ?? {});
  const x = tf.tensor(v.input as number[]);
  const y = q.call(x);
  expectMatches({ values: y.dataSync(), shape: y.shape }, v.expected, v.tolerance, `#${v.id}`);
  if ('expected_min_max' in v) {
    expectMatches({ values: [q.min(), q.max()], shape: [2] }, v.expected_min_max, v.tolerance, `#${v.id} min/max`);
  }
  hooks.check?.(q);
  tf.dispose([x, y]);
}

/** A vector's `update_qnoise_factor` setup. */
export function applyQnoiseFactor(q: Quantizer, setup: Record<string, unknown>): void {
  if ('update_qnoise_factor' in setup) q.updateQnoiseFactor(setup.update_qnoise_factor as number);
}

/** Runs a `quantizer_method` vector: `range()`, or `[min(), max()]` for `min_max`. */
export function expectMethodVector(v: Vector, classes: readonly QuantizerClass[]): void {
  const q = buildQuantizer(v.quantizer, classes);
  const got = v.method === 'range' ? q.range() : [q.min(), q.max()];
  expectMatches({ values: got, shape: [got.length] }, v.expected, v.tolerance, `#${v.id}`);
}
