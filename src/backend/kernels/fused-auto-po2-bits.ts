/**
 * QKeras `quantized_bits` with `alpha="auto_po2"` (per-channel power-of-two scale along the last axis,
 * the default for weight quantizers) as one wasm kernel. The op chain in src/quantizers/quantized-bits.ts
 * (`callAuto`) records ~150 ops per call — six code passes over the weights, five least-squares
 * refinements with two reductions each, several of them broadcasting (slow on wasm) — plus as many gradient
 * ops. This kernel computes the same float32 values in a handful of passes:
 *
 *   xs = x / mi;  codes(s) = sign(xs) · min'(floor(|xs| / s + 0.5), half)   (min': NaN → half)
 *   s  = po2(2·max|xs| / levels);  5 × { s = po2(mean(xs·q) / (mean(q·q) + eps)), clipped }   q = codes(s)
 *   out = xb + qn·(-xb + S·(mi·codes(s) / m)),  xb = mi·xs,  S = s·m   (or the non-STE blend)
 *
 * `po2(v) = 2^round(log(v + eps) / ln2)` calls the backend's own Log and Pow kernels (their float32
 * results are libm's, which JavaScript's double Math.log does not reproduce); the reductions reproduce
 * the backend's Max (exact) and Sum kernels (a float32 running sum per channel in row order — checked by
 * the fused-kernel tests against the op chain). Elementwise passes are SIMD (../simd) with the scalar
 * code below as reference and for the last 0–3 elements.
 *
 * Outputs: the quantized tensor and the per-channel full scale `S` ([1, ..., 1, C]) the quantizer keeps.
 * Gradient: only `xb` carries one — dy (or dy·(1-qn)) times mi, divided by mi, plus the zeros of the other
 * paths (every path into the scales ends at a Round, whose gradient is zeros). That holds while the other
 * paths' zeros stay finite: all weights finite and |x / mi| < 2^60 (so sums and least-squares ratios stay
 * far from overflow) and every scale positive and normal. The kernel returns a NaN scale when the weights
 * fail the first condition; the quantizer falls back to the op chain on a NaN scale or one outside
 * (2^-120, 2^120), so values and gradients always equal the op chain's.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { FUSED_AUTO_PO2_BITS, FUSED_AUTO_PO2_BITS_GRAD } from '../../quantizers/fused.js';
import { heapHasRoomAfter, heapOffset, SimdKernelSet } from '../simd/heap.js';
import { abs, add, bin, constant, div, mul, neg, select, SimdBuilder, SimdColumnBuilder, un, type V } from '../simd/simd-kernel.js';
import { clipWasm, f32, roundHalfEven, signKeep, withPositiveZero } from './wasm-float32.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

export interface FusedAutoPo2BitsAttrs {
  /** 2^(bits - 1). */
  m: number;
  /** 2^integer. */
  mi: number;
  /** levels / 2 = 2^(bits-1) - 1, the largest code. */
  half: number;
  /** (2^(bits-1) - 1) · 2. */
  levels: number;
  qnoise: number;
  useSte: boolean;
  /** Whether to clip the scale to [clipLo, clipHi] (min/max_po2_exponent given). */
  clip: boolean;
  clipLo: number;
  clipHi: number;
}

const EPS = f32(1e-7);
const LN2 = f32(Math.LN2);
const ITERATIONS = 5;
/** Largest |x / mi| for which the gradient shortcut is proven to hold (see the module comment). */
const LIMIT = 2 ** 60;

// ---- scalar reference of the elementwise passes ----------------------------------------------------------

/** `codes(s)` of one element (s its channel's scale). */
function code(x: number, mi: number, s: number, half: number): number {
  const xs = f32(x / mi);
  const v = Math.floor(f32(f32(Math.abs(xs) / s) + 0.5));
  return f32(signKeep(xs) * (v < half ? v : half));
}

/** Per-channel max of |x / mi| (scalar reference of the column kernel; NaN makes it NaN). */
export function maxAbsScalar(x: ArrayLike<number>, rows: number, channels: number, mi: number): Float32Array {
  const max = new Float32Array(channels);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const v = Math.abs(f32(x[i]! / mi));
      if (v > max[c]! || v !== v) max[c] = v; // NaN sticks, as with f32x4.max
    }
  }
  return max;
}

/** Per-channel sums of xs·q and q·q in row order (scalar reference of the column kernel). */
export function sumsScalar(
  x: ArrayLike<number>, scale: Float32Array, rows: number, channels: number, mi: number, half: number,
): [Float32Array, Float32Array] {
  const sumXq = new Float32Array(channels);
  const sumQq = new Float32Array(channels);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const q = code(x[i]!, mi, scale[c]!, half);
      sumXq[c] = sumXq[c]! + f32(f32(x[i]! / mi) * q);
      sumQq[c] = sumQq[c]! + f32(q * q);
    }
  }
  return [sumXq, sumQq];
}

/** The output of every element from `start`. */
export function outputScalar(x: ArrayLike<number>, sFull: ArrayLike<number>, out: Float32Array, a: FusedAutoPo2BitsAttrs, start = 0): void {
  const m = f32(a.m);
  const mi = f32(a.mi);
  const half = f32(a.half);
  const q = f32(a.qnoise);
  const oneMinusQ = f32(1 - a.qnoise);
  for (let i = start; i < x.length; i++) {
    const s = sFull[i]!;
    const z = code(x[i]!, mi, s, half);
    const full = f32(s * m);
    const xb = f32(mi * f32(x[i]! / mi));
    const xq = f32(full * f32(f32(mi * z) / m));
    out[i] = a.useSte ? f32(xb + f32(q * f32(-xb + xq))) : f32(f32(oneMinusQ * xb) + f32(q * xq));
  }
}

/** The gradient of every element from `start`. */
export function gradientScalar(dy: ArrayLike<number>, out: Float32Array, a: FusedAutoPo2BitsAttrs, start = 0): void {
  const mi = f32(a.mi);
  const oneMinusQ = f32(1 - a.qnoise);
  for (let i = start; i < dy.length; i++) {
    const d = a.useSte ? dy[i]! : f32(dy[i]! * oneMinusQ);
    out[i] = withPositiveZero(f32(f32(d * mi) / mi));
  }
}

// ---- SIMD versions ---------------------------------------------------------------------------------------

function simdCode(xs: V, s: V, half: V): V {
  const v = un('floor', add(div(abs(xs), s), constant(0.5)));
  const sign = select(bin('gt', xs, constant(0)), constant(1), select(bin('lt', xs, constant(0)), constant(-1), xs));
  return mul(sign, select(bin('lt', v, half), v, half));
}

function outputSimd(ste: boolean): SimdBuilder {
  const k = new SimdBuilder(ste ? 'output_ste' : 'output_blend', ['x', 's', 'out'], ['m', 'mi', 'half', 'q', 'oneMinusQ']);
  const mi = k.scalar('mi');
  const m = k.scalar('m');
  const q = k.scalar('q');
  const s = k.let(k.load('s'));
  const xs = k.let(div(k.load('x'), mi));
  const z = simdCode(xs, s, k.scalar('half'));
  const xb = k.let(mul(mi, xs));
  const xq = k.let(mul(mul(s, m), div(mul(mi, z), m)));
  k.store('out', ste ? add(xb, mul(q, add(neg(xb), xq))) : add(mul(k.scalar('oneMinusQ'), xb), mul(q, xq)));
  return k;
}

function gradientSimd(ste: boolean): SimdBuilder {
  const k = new SimdBuilder(ste ? 'gradient_ste' : 'gradient_blend', ['dy', 'out'], ['mi', 'oneMinusQ']);
  const mi = k.scalar('mi');
  const d = ste ? k.load('dy') : mul(k.load('dy'), k.scalar('oneMinusQ'));
  k.store('out', add(div(mul(d, mi), mi), constant(0)));
  return k;
}

/** Per-channel max of |x / mi| (f32x4.max: NaN propagates, which the caller treats as untame). */
function maxAbsColumns(): SimdColumnBuilder {
  const k = new SimdColumnBuilder('max_abs', ['x', 'max'], ['mi']);
  const acc = k.accumulator(0);
  k.accumulate(acc, bin('max', acc, abs(div(k.load('x'), k.scalar('mi')))));
  k.storeAccumulator('max', acc);
  return k;
}

/** Per-channel sums of xs·q and q·q (the least-squares numerator and denominator before / count). */
function sumsColumns(): SimdColumnBuilder {
  const k = new SimdColumnBuilder('ls_sums', ['x', 's', 'sxq', 'sqq'], ['mi', 'half']);
  const s = k.columnLoad('s');
  const xs = k.let(div(k.load('x'), k.scalar('mi')));
  const q = k.let(simdCode(xs, s, k.scalar('half')));
  const sxq = k.accumulator(0);
  const sqq = k.accumulator(0);
  k.accumulate(sxq, add(sxq, mul(xs, q)));
  k.accumulate(sqq, add(sqq, mul(q, q)));
  k.storeAccumulator('sxq', sxq);
  k.storeAccumulator('sqq', sqq);
  return k;
}

const simdKernels = new SimdKernelSet(() => [
  maxAbsColumns(),
  sumsColumns(),
  outputSimd(true),
  outputSimd(false),
  gradientSimd(true),
  gradientSimd(false),
]);

// ---- the kernel ------------------------------------------------------------------------------------------

/** `po2(v)` per channel through the backend's Log and Pow kernels, as roundToPo2 computes it. */
function roundToPo2(scope: WasmScope, values: Float32Array, shape: number[]): Float32Array {
  const shifted = scope.fromValues(shape, Float32Array.from(values, (v) => f32(v + EPS)));
  const logs = scope.call(tf.Log, { x: shifted });
  const exponents = Float32Array.from(scope.view(logs), (v) => roundHalfEven(f32(v / LN2)));
  const two = scope.fromValues([], [2]);
  const powers = scope.call(tf.Pow, { a: two, b: scope.fromValues(shape, exponents) });
  return Float32Array.from(scope.view(powers));
}

/** Copies `row` over `target` repeatedly (a channels-last broadcast). */
function broadcastRows(target: Float32Array, row: Float32Array): void {
  target.set(row);
  let filled = row.length;
  while (filled < target.length) {
    const n = Math.min(filled, target.length - filled);
    target.copyWithin(filled, 0, n);
    filled += n;
  }
}

function forward(args: KernelArgs): Info[] {
  const { x } = args.inputs as { x: Info };
  const a = args.attrs as unknown as FusedAutoPo2BitsAttrs;
  const backend = wasmBackendOf(args.backend);
  const shape = [...x.shape];
  const channels = shape[shape.length - 1]!;
  const n = shape.reduce((p, d) => p * d, 1);
  const rows = n / channels;
  const scaleShape = shape.map((d, i) => (i === shape.length - 1 ? d : 1));
  const m = f32(a.m);
  const mi = f32(a.mi);
  const half = f32(a.half);
  const levels = f32(a.levels);
  const count = f32(rows);
  const simd = simdKernels.get(backend);
  const vector = simd ? n - (n % 4) : 0;

  const out = backend.makeOutput(shape, 'float32');
  const fullScale = backend.makeOutput(scaleShape, 'float32');
  const scope = new WasmScope(backend);
  // Column kernels read up to 3 floats past the tensor's last row.
  const columns = simd && heapHasRoomAfter(backend, x, 16) ? simd : null;
  const padded = Math.ceil(channels / 4) * 4;
  try {
    // Initial scale: po2(2 · max|x / mi| / levels) per channel (the backend's Max is exact).
    let maxAbs: Float32Array;
    if (columns) {
      const maxOut = scope.empty([padded]);
      columns.max_abs!(heapOffset(backend, x), heapOffset(backend, maxOut), rows, channels, a.mi);
      maxAbs = scope.view(maxOut).slice(0, channels);
    } else {
      maxAbs = maxAbsScalar(scope.view(x), rows, channels, mi);
    }
    if (!maxAbs.every((v) => v < LIMIT)) {
      // See the module comment: the op chain must run; a NaN scale tells the quantizer so.
      (backend.typedArrayFromHeap(fullScale) as Float32Array).fill(NaN);
      return [out, fullScale];
    }
    let scale = roundToPo2(scope, Float32Array.from(maxAbs, (v) => f32(f32(v * 2) / levels)), scaleShape);

    const sPad = scope.empty([padded]);
    const sumXqOut = scope.empty([padded]);
    const sumQqOut = scope.empty([padded]);
    for (let it = 0; it < ITERATIONS; it++) {
      // The backend's Sum over the leading axes is a float32 running sum per channel, rows in order.
      let sumXq: Float32Array;
      let sumQq: Float32Array;
      if (columns) {
        const sv = scope.view(sPad);
        sv.fill(1);
        sv.set(scale);
        columns.ls_sums!(heapOffset(backend, x), heapOffset(backend, sPad), heapOffset(backend, sumXqOut), heapOffset(backend, sumQqOut), rows, channels, a.mi, a.half);
        sumXq = scope.view(sumXqOut).slice(0, channels);
        sumQq = scope.view(sumQqOut).slice(0, channels);
      } else {
        [sumXq, sumQq] = sumsScalar(scope.view(x), scale, rows, channels, mi, half);
      }
      const ls = Float32Array.from(sumXq, (sx, c) => f32(f32(sx / count) / f32(f32(sumQq[c]! / count) + EPS)));
      scale = roundToPo2(scope, ls, scaleShape);
      if (a.clip) scale = scale.map((v) => clipWasm(v, f32(a.clipLo), f32(a.clipHi)));
    }

    const sFull = scope.empty(shape);
    broadcastRows(scope.view(sFull), scale);
    if (simd) {
      simd[a.useSte ? 'output_ste' : 'output_blend']!(
        heapOffset(backend, x), heapOffset(backend, sFull), heapOffset(backend, out), vector, a.m, a.mi, a.half, a.qnoise, 1 - a.qnoise,
      );
    }
    outputScalar(scope.view(x), scope.view(sFull), backend.typedArrayFromHeap(out) as Float32Array, a, vector);
    (backend.typedArrayFromHeap(fullScale) as Float32Array).set(scale.map((s) => f32(s * m)));
  } catch (error) {
    backend.disposeData(out.dataId);
    backend.disposeData(fullScale.dataId);
    throw error;
  } finally {
    scope.releaseAll();
  }
  return [out, fullScale];
}

function backward(args: KernelArgs): Info {
  const { dy } = args.inputs as { dy: Info };
  const a = args.attrs as unknown as FusedAutoPo2BitsAttrs;
  const backend: BackendWasm = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...dy.shape], 'float32');
  const n = dy.shape.reduce((p, d) => p * d, 1);
  const simd = simdKernels.get(backend);
  const vector = simd ? n - (n % 4) : 0;
  if (simd) simd[a.useSte ? 'gradient_ste' : 'gradient_blend']!(heapOffset(backend, dy), heapOffset(backend, out), vector, a.mi, 1 - a.qnoise);
  gradientScalar(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out) as Float32Array, a, vector);
  return out;
}

export const fusedAutoPo2BitsConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_AUTO_PO2_BITS, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
  { kernelName: FUSED_AUTO_PO2_BITS_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc },
];

export const fusedAutoPo2BitsGradient: tf.GradConfig = {
  kernelName: FUSED_AUTO_PO2_BITS,
  gradFunc: (dys, _saved, attrs) => {
    // Two outputs: only the quantized tensor is differentiated (the scale is kept, not used downstream).
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    return {
      x: () => tf.engine().runKernel(FUSED_AUTO_PO2_BITS_GRAD, { dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  },
};
