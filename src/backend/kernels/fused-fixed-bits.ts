/**
 * QKeras `quantized_bits` on its fixed-point path (alpha None, at least one magnitude bit, deterministic
 * rounding) as one wasm kernel:
 *
 *   p  = (x · m) / mi;  r = p + (-p + round(p))          (roundThrough)
 *   xq = 1 · ((mi · clip(r, lo, hi)) / m)
 *   out = x + qn·(-x + xq)   (or the non-STE blend)
 *
 * Gradient: dy (or dy·(1-qn)) plus the other paths' zeros, which only ever multiply the incoming zero by
 * constants (m, mi, the clip mask), so they stay finite for every input: -0 becomes +0, nothing else
 * changes.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_FIXED_BITS, FUSED_THROUGH_GRAD } from '../../quantizers/fused.js';
import { heapOffset, SimdKernelSet } from '../simd/heap.js';
import { add, bin, constant, div, mul, neg, SimdBuilder, un } from '../simd/simd-kernel.js';
import { clipWasm, f32, roundHalfEven, withPositiveZero } from './wasm-float32.js';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

export interface FusedFixedBitsAttrs {
  m: number;
  mi: number;
  lo: number;
  hi: number;
  qnoise: number;
  useSte: boolean;
}

/** Scalar reference from `start`. */
export function fixedBitsScalar(x: ArrayLike<number>, out: Float32Array, a: FusedFixedBitsAttrs, start = 0): void {
  const m = f32(a.m);
  const mi = f32(a.mi);
  const lo = f32(a.lo);
  const hi = f32(a.hi);
  const q = f32(a.qnoise);
  const oneMinusQ = f32(1 - a.qnoise);
  for (let i = start; i < x.length; i++) {
    const v = x[i]!;
    const p = f32(f32(v * m) / mi);
    const r = f32(p + f32(-p + roundHalfEven(p)));
    const xq = f32(1 * f32(f32(mi * clipWasm(r, lo, hi)) / m));
    out[i] = a.useSte ? f32(v + f32(q * f32(-v + xq))) : f32(f32(oneMinusQ * v) + f32(q * xq));
  }
}

function forwardSimd(ste: boolean): SimdBuilder {
  const k = new SimdBuilder(ste ? 'forward_ste' : 'forward_blend', ['x', 'out'], ['m', 'mi', 'lo', 'hi', 'q', 'oneMinusQ']);
  const m = k.scalar('m');
  const mi = k.scalar('mi');
  const q = k.scalar('q');
  const x = k.let(k.load('x'));
  const p = k.let(div(mul(x, m), mi));
  const r = add(p, add(neg(p), un('nearest', p)));
  const clipped = bin('pmin', k.scalar('hi'), bin('pmax', k.scalar('lo'), r));
  const xq = k.let(mul(constant(1), div(mul(mi, clipped), m)));
  k.store('out', ste ? add(x, mul(q, add(neg(x), xq))) : add(mul(k.scalar('oneMinusQ'), x), mul(q, xq)));
  return k;
}

const simdKernels = new SimdKernelSet(() => [forwardSimd(true), forwardSimd(false)]);

function forward(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const a = args.attrs as unknown as FusedFixedBitsAttrs;
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  const simd = simdKernels.get(backend);
  const vector = simd ? n - (n % 4) : 0;
  if (simd) {
    simd[a.useSte ? 'forward_ste' : 'forward_blend']!(heapOffset(backend, x), heapOffset(backend, out), vector, a.m, a.mi, a.lo, a.hi, a.qnoise, 1 - a.qnoise);
  }
  fixedBitsScalar(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out) as Float32Array, a, vector);
  return out;
}

/** The gradient of `x + stop_gradient(...)` (or the non-STE blend): dy or dy·(1-qn), -0 made +0. */
export function throughGradScalar(dy: ArrayLike<number>, out: Float32Array, attrs: { qnoise: number; useSte: boolean }): void {
  const oneMinusQ = f32(1 - attrs.qnoise);
  for (let i = 0; i < dy.length; i++) out[i] = withPositiveZero(attrs.useSte ? dy[i]! : f32(dy[i]! * oneMinusQ));
}

function throughGrad(args: KernelArgs): Info {
  const { dy } = args.inputs as { dy: Info };
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...dy.shape], 'float32');
  throughGradScalar(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out) as Float32Array, args.attrs as unknown as { qnoise: number; useSte: boolean });
  return out;
}

export const fusedFixedBitsConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_FIXED_BITS, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
  { kernelName: FUSED_THROUGH_GRAD, backendName: 'wasm', kernelFunc: throughGrad as unknown as tf.KernelFunc },
];

export const fusedFixedBitsGradient: tf.GradConfig = {
  kernelName: FUSED_FIXED_BITS,
  gradFunc: (dys, _saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const { qnoise, useSte } = attrs as unknown as { qnoise: number; useSte: boolean };
    return { x: () => tf.engine().runKernel(FUSED_THROUGH_GRAD, { dy }, { qnoise, useSte }) as tf.Tensor };
  },
};
