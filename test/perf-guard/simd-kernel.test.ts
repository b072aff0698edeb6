/**
 * The SIMD code generator on its own memory: every operation against its scalar definition on edge values
 * (signed zeros, NaN, infinities, ties, subnormals), in every lane, and the column reduction against a
 * sequential float32 sum.
 */
import { describe, it } from 'vitest';
import { roundHalfEven } from '../../src/backend/kernels/wasm-float32.js';
import {
  bin,
  bits,
  constant,
  instantiateKernels,
  select,
  SimdBuilder,
  SimdColumnBuilder,
  add,
  un,
  WebAssemblyApi,
  type BinaryOp,
  type UnaryOp,
  type WasmMemory,
} from '../../src/backend/simd/simd-kernel.js';
import { edgeValues, expectSameBits } from './fused-helpers.js';

const f32 = Math.fround;
const u32 = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0]!;
const fromU32 = (u: number) => new Float32Array(new Uint32Array([u >>> 0]).buffer)[0]!;
const mask = (c: boolean) => fromU32(c ? 0xffffffff : 0);

const unary: Array<[UnaryOp, (a: number) => number]> = [
  ['neg', (a) => -a],
  ['abs', (a) => Math.abs(a)],
  ['sqrt', (a) => f32(Math.sqrt(a))],
  ['ceil', Math.ceil],
  ['floor', Math.floor],
  ['trunc', Math.trunc],
  ['nearest', roundHalfEven],
  ['not', (a) => fromU32(~u32(a))],
];
const binary: Array<[BinaryOp, (a: number, b: number) => number]> = [
  ['add', (a, b) => f32(a + b)],
  ['sub', (a, b) => f32(a - b)],
  ['mul', (a, b) => f32(a * b)],
  ['div', (a, b) => f32(a / b)],
  ['min', (a, b) => (a !== a || b !== b ? NaN : a === b ? (Object.is(a, -0) || Object.is(b, -0) ? -0 : a) : Math.min(a, b))],
  ['max', (a, b) => (a !== a || b !== b ? NaN : a === b ? (Object.is(a, 0) || Object.is(b, 0) ? 0 : a) : Math.max(a, b))],
  ['pmin', (a, b) => (b < a ? b : a)],
  ['pmax', (a, b) => (a < b ? b : a)],
  ['eq', (a, b) => mask(a === b)],
  ['ne', (a, b) => mask(a !== b)],
  ['lt', (a, b) => mask(a < b)],
  ['gt', (a, b) => mask(a > b)],
  ['le', (a, b) => mask(a <= b)],
  ['ge', (a, b) => mask(a >= b)],
  ['and', (a, b) => fromU32(u32(a) & u32(b))],
  ['andnot', (a, b) => fromU32(u32(a) & ~u32(b))],
  ['or', (a, b) => fromU32(u32(a) | u32(b))],
  ['xor', (a, b) => fromU32(u32(a) ^ u32(b))],
];

function setup(n: number): { memory: WasmMemory; view: Float32Array } {
  const memory = new (WebAssemblyApi.Memory as unknown as new (d: { initial: number }) => WasmMemory)({ initial: 4 });
  return { memory, view: new Float32Array(memory.buffer, 0, 3 * n) };
}

describe('SIMD code generator', () => {
  const n = 1024;
  const a = edgeValues(n, 1, 4, 0.25);
  const b = edgeValues(n, 2, 4, 0.25);
  // Every pair of special values appears somewhere in some lane.
  for (let i = 0; i < 121; i++) {
    const sp = [0, -0, NaN, Infinity, -Infinity, 0.5, -0.5, 1.5, 2.5, 1e-45, -3];
    a[i] = sp[i % 11]!;
    b[i] = sp[Math.floor(i / 11) % 11]!;
  }

  it('computes every operation as its scalar definition, lane by lane', () => {
    const kernels: SimdBuilder[] = [];
    for (const [op] of unary) {
      const k = new SimdBuilder(`u_${op}`, ['a', 'b', 'out'], []);
      k.store('out', un(op, k.load('a')));
      kernels.push(k);
    }
    for (const [op] of binary) {
      const k = new SimdBuilder(`b_${op}`, ['a', 'b', 'out'], []);
      k.store('out', bin(op, k.load('a'), k.load('b')));
      kernels.push(k);
    }
    const sel = new SimdBuilder('select', ['a', 'b', 'out'], ['s']);
    sel.store('out', select(bin('lt', sel.load('a'), sel.load('b')), add(sel.load('a'), sel.scalar('s')), bits(0x7fc00000)));
    kernels.push(sel);
    const { memory, view } = setup(n);
    const fns = instantiateKernels(kernels, memory);
    view.set(a, 0);
    view.set(b, n);
    const out = () => Float32Array.from(view.subarray(2 * n, 3 * n));
    for (const [op, ref] of unary) {
      fns[`u_${op}`]!(0, 4 * n, 8 * n, n);
      expectSameBits(out(), Float32Array.from(a, ref), a, `unary ${op}`);
    }
    for (const [op, ref] of binary) {
      fns[`b_${op}`]!(0, 4 * n, 8 * n, n);
      expectSameBits(out(), Float32Array.from(a, (v, i) => ref(v, b[i]!)), a, `binary ${op}`);
    }
    fns.select!(0, 4 * n, 8 * n, n, 0.75);
    expectSameBits(out(), Float32Array.from(a, (v, i) => (v < b[i]! ? f32(v + 0.75) : fromU32(0x7fc00000))), a, 'select');
    // Scalars are float32: a double argument is rounded once.
    const c = new SimdBuilder('scaled', ['a', 'b', 'out'], ['s']);
    c.store('out', bin('mul', c.load('a'), bin('add', c.scalar('s'), constant(0))));
    instantiateKernels([c], memory).scaled!(0, 4 * n, 8 * n, n, 0.1);
    expectSameBits(out(), Float32Array.from(a, (v) => f32(v * f32(0.1))), a, 'scalar parameter');
  });

  it('column reductions add each channel in row order', () => {
    for (const channels of [1, 3, 4, 10, 32]) {
      const rows = 37;
      const values = edgeValues(rows * channels, channels, 3, 0.125).map((v) => (Number.isFinite(v) ? v : 1));
      const k = new SimdColumnBuilder('sum', ['x', 'out'], []);
      const acc = k.accumulator(0);
      k.accumulate(acc, add(acc, k.load('x')));
      k.storeAccumulator('out', acc);
      const { memory } = setup(rows * channels + 64);
      const heap = new Float32Array(memory.buffer);
      heap.set(values, 0);
      const outAt = rows * channels + 16;
      instantiateKernels([k], memory).sum!(0, outAt * 4, rows, channels);
      const want = new Float32Array(channels);
      for (let r = 0; r < rows; r++) for (let ch = 0; ch < channels; ch++) want[ch] = want[ch]! + values[r * channels + ch]!;
      expectSameBits(heap.slice(outAt, outAt + channels), want, values, `column sum, ${channels} channels`);
    }
  });
});
