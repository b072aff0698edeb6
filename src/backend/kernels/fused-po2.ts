/**
 * QKeras `quantized_po2` (no max_value, deterministic log2 rounding 'rnd', no quadratic approximation) as
 * one wasm kernel, replacing its ~30 small ops (on biases the engine's per-op cost is all that matters):
 *
 *   k   = s + (1 - |s|),  s = sign(x)
 *   a   = |x|;  f = a < eps ? eps : a
 *   p   = log(f) / ln2;  l = p + (-p + round(p))            (the backend's Log: libm's float32 log)
 *   e   = a < eps ? minExp : 1 · clip(l, minExp, maxExp)
 *   xq  = k · flush(2^e)                                      (the backend's Pow; flush: < 2^-126 → 0)
 *   out = x + qn·(-x + xq)   (or the non-STE blend)
 *
 * Outputs `[out, xq]`; `xq` is saved for the gradient: dy (or dy·(1-qn)) plus the other paths' zeros,
 * which are finite except where `xq` is not (x NaN: the sign and log paths carry NaN; 2^e overflowing:
 * the Pow gradient multiplies the zero by Infinity) — there the gradient is NaN, as the chain's.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_PO2 } from '../../quantizers/fused.js';
import { FUSED_PO2_GRAD } from '../../quantizers/fused.js';
import { clipWasm, f32, roundHalfEven, signKeep, withPositiveZero } from './wasm-float32.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

const EPS = f32(1e-7);
const LN2 = f32(Math.LN2);
const MIN_NORMAL = 2 ** -126;

export interface FusedPo2Attrs {
  minExp: number;
  maxExp: number;
  qnoise: number;
  useSte: boolean;
}

function forward(args: KernelArgs): Info[] {
  const { x } = args.inputs as { x: Info };
  const a = args.attrs as unknown as FusedPo2Attrs;
  const backend = wasmBackendOf(args.backend);
  const shape = [...x.shape];
  const out = backend.makeOutput(shape, 'float32');
  const xqOut = backend.makeOutput(shape, 'float32');
  const scope = new WasmScope(backend);
  try {
    const xv = Float32Array.from(scope.view(x));
    const n = xv.length;
    const filtered = Float32Array.from(xv, (v) => {
      const abs = Math.abs(v);
      return abs < EPS ? EPS : abs;
    });
    const logs = scope.view(scope.call(tf.Log, { x: scope.fromValues(shape, filtered) }));
    const exponents = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = f32(logs[i]! / LN2);
      const l = f32(p + f32(-p + roundHalfEven(p)));
      exponents[i] = Math.abs(xv[i]!) < EPS ? a.minExp : f32(1 * clipWasm(l, f32(a.minExp), f32(a.maxExp)));
    }
    const powers = scope.view(scope.call(tf.Pow, { a: scope.fromValues([], [2]), b: scope.fromValues(shape, exponents) }));
    const q = f32(a.qnoise);
    const oneMinusQ = f32(1 - a.qnoise);
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    const xqv = backend.typedArrayFromHeap(xqOut) as Float32Array;
    for (let i = 0; i < n; i++) {
      const v = xv[i]!;
      const s = signKeep(v);
      const k = f32(s + f32(1 - Math.abs(s)));
      const p2 = powers[i]! < MIN_NORMAL ? 0 : powers[i]!;
      const xq = f32(k * p2);
      xqv[i] = xq;
      ov[i] = a.useSte ? f32(v + f32(q * f32(-v + xq))) : f32(f32(oneMinusQ * v) + f32(q * xq));
    }
  } catch (error) {
    backend.disposeData(out.dataId);
    backend.disposeData(xqOut.dataId);
    throw error;
  } finally {
    scope.releaseAll();
  }
  return [out, xqOut];
}

function backward(args: KernelArgs): Info {
  const { xq, dy } = args.inputs as { xq: Info; dy: Info };
  const { qnoise, useSte } = args.attrs as unknown as FusedPo2Attrs;
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...dy.shape], 'float32');
  const xqv = backend.typedArrayFromHeap(xq);
  const dyv = backend.typedArrayFromHeap(dy);
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const oneMinusQ = f32(1 - qnoise);
  for (let i = 0; i < ov.length; i++) {
    const d = useSte ? dyv[i]! : f32(dyv[i]! * oneMinusQ);
    ov[i] = Number.isFinite(xqv[i]!) ? withPositiveZero(d) : NaN;
  }
  return out;
}

export const fusedPo2Configs: tf.KernelConfig[] = [
  { kernelName: FUSED_PO2, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
  { kernelName: FUSED_PO2_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc },
];

export const fusedPo2Gradient: tf.GradConfig = {
  kernelName: FUSED_PO2,
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [xq] = saved as [tf.Tensor];
    return { x: () => tf.engine().runKernel(FUSED_PO2_GRAD, { xq, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor };
  },
};
