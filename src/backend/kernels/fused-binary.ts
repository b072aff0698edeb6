/**
 * QKeras `binary` with alpha None (±1 activations, tanh straight-through base; the lab book's
 * `QActivation("binary")`) as one wasm kernel, replacing its ~10 elementwise ops and their gradients:
 *
 *   t = tanh(x)                     (the backend's own Tanh kernel: its approximation is the reference)
 *   k = s + (1 - |s|),  s = sign(x) (zeros to +1, NaN kept)
 *   out = t + (-t + 1·k)
 *
 * Outputs `[out, t]`; `t` is saved for the gradient, which is tfjs's Tanh gradient `(1 - t²)·dy` (the
 * through-path passes dy) plus the zeros of the sign path, i.e. with -0 made +0.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_BINARY_TANH, FUSED_BINARY_TANH_GRAD } from '../../quantizers/fused.js';
import { heapOffset, SimdKernelSet } from '../simd/heap.js';
import { abs, add, bin, constant, mul, neg, select, SimdBuilder, sub } from '../simd/simd-kernel.js';
import { f32, signKeep, withPositiveZero } from './wasm-float32.js';
import { originalKernel, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

/** Scalar reference of the output from `start`. */
export function binaryTanhScalar(x: ArrayLike<number>, t: ArrayLike<number>, out: Float32Array, start = 0): void {
  for (let i = start; i < x.length; i++) {
    const s = signKeep(x[i]!);
    const k = f32(s + f32(1 - Math.abs(s)));
    out[i] = f32(t[i]! + f32(-t[i]! + f32(1 * k)));
  }
}

/** Scalar reference of the gradient from `start`. */
export function binaryTanhGradScalar(t: ArrayLike<number>, dy: ArrayLike<number>, out: Float32Array, start = 0): void {
  for (let i = start; i < t.length; i++) out[i] = withPositiveZero(f32(f32(1 - f32(t[i]! * t[i]!)) * dy[i]!));
}

function forwardSimd(): SimdBuilder {
  const k = new SimdBuilder('forward', ['x', 't', 'out'], []);
  const x = k.let(k.load('x'));
  const t = k.let(k.load('t'));
  const zero = constant(0);
  const s = k.let(select(bin('gt', x, zero), constant(1), select(bin('lt', x, zero), constant(-1), x)));
  const code = add(s, sub(constant(1), abs(s)));
  k.store('out', add(t, add(neg(t), mul(constant(1), code))));
  return k;
}

function gradientSimd(): SimdBuilder {
  const k = new SimdBuilder('gradient', ['t', 'dy', 'out'], []);
  const t = k.let(k.load('t'));
  k.store('out', add(mul(sub(constant(1), mul(t, t)), k.load('dy')), constant(0)));
  return k;
}

const simdKernels = new SimdKernelSet(() => [forwardSimd(), gradientSimd()]);

function forward(args: KernelArgs): Info[] {
  const { x } = args.inputs as { x: Info };
  const backend = wasmBackendOf(args.backend);
  const t = originalKernel(tf.Tanh)!.kernelFunc({ inputs: { x }, backend, attrs: {} }) as Info;
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  const simd = simdKernels.get(backend);
  const vector = simd ? n - (n % 4) : 0;
  if (simd) simd.forward!(heapOffset(backend, x), heapOffset(backend, t), heapOffset(backend, out), vector);
  binaryTanhScalar(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(t), backend.typedArrayFromHeap(out) as Float32Array, vector);
  return [out, t];
}

function backward(args: KernelArgs): Info {
  const { t, dy } = args.inputs as { t: Info; dy: Info };
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...t.shape], 'float32');
  const n = t.shape.reduce((p, d) => p * d, 1);
  const simd = simdKernels.get(backend);
  const vector = simd ? n - (n % 4) : 0;
  if (simd) simd.gradient!(heapOffset(backend, t), heapOffset(backend, dy), heapOffset(backend, out), vector);
  binaryTanhGradScalar(backend.typedArrayFromHeap(t), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out) as Float32Array, vector);
  return out;
}

export const fusedBinaryConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_BINARY_TANH, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
  { kernelName: FUSED_BINARY_TANH_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc },
];

export const fusedBinaryGradient: tf.GradConfig = {
  kernelName: FUSED_BINARY_TANH,
  outputsToSave: [false, true],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [t] = saved as [tf.Tensor];
    return { x: () => tf.engine().runKernel(FUSED_BINARY_TANH_GRAD, { t, dy }, {}) as tf.Tensor };
  },
};
