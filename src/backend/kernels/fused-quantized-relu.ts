/**
 * QKeras `quantized_relu` (no sigmoid, no negative slope, deterministic rounding, quantized clip) as one
 * wasm kernel and one gradient kernel, replacing the ~20 elementwise ops (and ~25 gradient ops) the
 * quantizer otherwise records on activations of a whole batch. Values and gradients equal the op chain of
 * src/quantizers/quantized-relu.ts bit for bit:
 *
 *   xu  = x <= top ? relu(x) : top
 *   p   = (x * m) / mI
 *   r   = p + (-p + round(p))                  (roundThrough)
 *   xq  = mI * clip(r / m, 0, hi)
 *   out = xu + q * (-xu + xq)                  (useSte)
 *       = (1 - q) * xu + q * xq                (otherwise)
 *
 * Gradient: only `xu` carries one (the rest is behind stop_gradient): dy (or dy·(1-q) without STE), times
 * the Select mask cast to float, times step(x), then added to the zeros the other paths contribute.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_QUANTIZED_RELU, FUSED_QUANTIZED_RELU_GRAD } from '../../quantizers/fused.js';
import { heapOffset, SimdKernelSet } from '../simd/heap.js';
import { add, bin, constant, div, mul, neg, select, SimdBuilder, un } from '../simd/simd-kernel.js';
import { clipWasm, f32, relu, roundHalfEven, step, withPositiveZero } from './wasm-float32.js';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

/** Constants of one quantized_relu configuration, as the op chain sees them (float32 scalars). */
export interface FusedQuantizedReluAttrs {
  /** 2^nsb, the number of grid steps below 2^integer. */
  m: number;
  /** 2^integer. */
  mI: number;
  /** Top of the grid, float32 `mI - 2^(integer - nsb)`. */
  top: number;
  /** The upper clip bound `1 - 1/m`. */
  hi: number;
  /** qnoise_factor. */
  qnoise: number;
  useSte: boolean;
}

function attrsOf(args: KernelArgs): FusedQuantizedReluAttrs {
  return args.attrs as unknown as FusedQuantizedReluAttrs;
}

/** The scalar reference of the forward values, elementwise from `start` (the SIMD kernel's tail, and the tests). */
export function quantizedReluValues(x: ArrayLike<number>, out: Float32Array | number[], a: FusedQuantizedReluAttrs, start = 0): void {
  const m = f32(a.m);
  const mI = f32(a.mI);
  const top = f32(a.top);
  const hi = f32(a.hi);
  const q = f32(a.qnoise);
  const oneMinusQ = f32(1 - a.qnoise);
  for (let i = start; i < x.length; i++) {
    const v = x[i]!;
    const xu = v <= top ? relu(v) : top;
    const p = f32(f32(v * m) / mI);
    const r = f32(p + f32(-p + roundHalfEven(p)));
    const xq = f32(mI * clipWasm(f32(r / m), 0, hi));
    out[i] = a.useSte ? f32(xu + f32(q * f32(-xu + xq))) : f32(f32(oneMinusQ * xu) + f32(q * xq));
  }
}

/** The scalar reference of the gradient with respect to x, elementwise from `start`. */
export function quantizedReluGradValues(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  out: Float32Array | number[],
  a: FusedQuantizedReluAttrs,
  start = 0,
): void {
  const top = f32(a.top);
  const oneMinusQ = f32(1 - a.qnoise);
  for (let i = start; i < x.length; i++) {
    const v = x[i]!;
    const d = dy[i]!;
    const dxu = a.useSte ? d : f32(d * oneMinusQ);
    const selected = v <= top ? dxu : f32(dxu * 0);
    out[i] = withPositiveZero(f32(selected * step(v)));
  }
}

/** The same arithmetic as 4-lane SIMD (see ../simd/simd-kernel.ts); `ste` selects the qnoise form. */
function forwardSimd(ste: boolean): SimdBuilder {
  const k = new SimdBuilder(ste ? 'forward_ste' : 'forward_blend', ['x', 'out'], ['m', 'mI', 'top', 'hi', 'q', 'oneMinusQ']);
  const [m, mI, top, hi, q, oneMinusQ] = ['m', 'mI', 'top', 'hi', 'q', 'oneMinusQ'].map((s) => k.scalar(s)) as [
    ReturnType<SimdBuilder['scalar']>, ReturnType<SimdBuilder['scalar']>, ReturnType<SimdBuilder['scalar']>,
    ReturnType<SimdBuilder['scalar']>, ReturnType<SimdBuilder['scalar']>, ReturnType<SimdBuilder['scalar']>,
  ];
  const zero = constant(0);
  const v = k.let(k.load('x'));
  // relu: f32x4.max keeps NaN and sends -0 to +0, as the Relu kernel does.
  const xu = k.let(select(bin('le', v, top), bin('max', v, zero), top));
  const p = k.let(div(mul(v, m), mI));
  const r = add(p, add(neg(p), un('nearest', p)));
  // clipWasm: pmax(lo, a) = (a > lo ? a : lo), then pmin(hi, ·) = (· < hi ? · : hi).
  const xq = k.let(mul(mI, bin('pmin', hi, bin('pmax', zero, div(r, m)))));
  k.store('out', ste ? add(xu, mul(q, add(neg(xu), xq))) : add(mul(oneMinusQ, xu), mul(q, xq)));
  return k;
}

function gradientSimd(ste: boolean): SimdBuilder {
  const k = new SimdBuilder(ste ? 'gradient_ste' : 'gradient_blend', ['x', 'dy', 'out'], ['top', 'oneMinusQ']);
  const top = k.scalar('top');
  const oneMinusQ = k.scalar('oneMinusQ');
  const zero = constant(0);
  const v = k.let(k.load('x'));
  const d = k.load('dy');
  const dxu = k.let(ste ? d : mul(d, oneMinusQ));
  const selected = select(bin('le', v, top), dxu, mul(dxu, zero));
  // step: 1 above 0, NaN kept, else 0.
  const stepV = select(bin('ne', v, v), v, select(bin('gt', v, zero), constant(1), zero));
  // + 0: the zeros the other paths add on the tape (a -0 becomes +0).
  k.store('out', add(mul(selected, stepV), zero));
  return k;
}

const simdKernels = new SimdKernelSet(() => [forwardSimd(true), forwardSimd(false), gradientSimd(true), gradientSimd(false)]);

function forward(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const a = attrsOf(args);
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  let done = 0;
  const simd = simdKernels.get(backend);
  if (simd) {
    done = n - (n % 4);
    const fn = simd[a.useSte ? 'forward_ste' : 'forward_blend']!;
    fn(heapOffset(backend, x), heapOffset(backend, out), done, a.m, a.mI, a.top, a.hi, a.qnoise, 1 - a.qnoise);
  }
  // Views after the allocation: growing the wasm memory detaches older views.
  quantizedReluValues(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out) as Float32Array, a, done);
  return out;
}

function backward(args: KernelArgs): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const a = attrsOf(args);
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  let done = 0;
  const simd = simdKernels.get(backend);
  if (simd) {
    done = n - (n % 4);
    const fn = simd[a.useSte ? 'gradient_ste' : 'gradient_blend']!;
    fn(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), done, a.top, 1 - a.qnoise);
  }
  quantizedReluGradValues(
    backend.typedArrayFromHeap(x),
    backend.typedArrayFromHeap(dy),
    backend.typedArrayFromHeap(out) as Float32Array,
    a,
    done,
  );
  return out;
}

export const fusedQuantizedReluConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_QUANTIZED_RELU, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
  { kernelName: FUSED_QUANTIZED_RELU_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc },
];

export const fusedQuantizedReluGradient: tf.GradConfig = {
  kernelName: FUSED_QUANTIZED_RELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () =>
        tf.engine().runKernel(FUSED_QUANTIZED_RELU_GRAD, { x, dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  },
};
