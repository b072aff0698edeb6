/**
 * The training paths of QKeras `stochastic_ternary` and `stochastic_binary` with an auto alpha (the weight
 * quantizers of the lab book's convolutions) as one wasm kernel each. Their op chains
 * (src/quantizers/ternary.ts, binary.ts) record 100–150 small ops per call on kernels of a few thousand
 * weights — per-channel statistics, least-squares refinements, sigmoids, sign tricks — whose cost is the
 * engine's per-op overhead, twice (forward and gradient). Here the per-element arithmetic runs in
 * JavaScript with Math.fround after every step, the per-channel reductions as the backend's Sum kernel
 * computes them (a float32 running sum per channel over the rows, in order; Max is exact), and the
 * transcendental steps (Sigmoid, Log, Pow) through the backend's own kernels, so the float32 results are
 * the op chain's bit for bit. The uniform noise is drawn by the quantizer (same seeds, same order) and
 * passed in.
 *
 * Outputs: the quantized tensor and the per-channel scale the quantizer keeps.
 * Gradient: `x + stop_gradient(-x + scale·q)` passes dy, plus the zeros of the other paths — finite while
 * the weights are finite, below 2^60 in magnitude, and every channel has a nonzero standard deviation (the
 * chain's sqrt gradient divides by it). Otherwise the kernel returns a NaN scale and the quantizer runs the
 * op chain, whose gradient is then NaN in such channels, as before.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_STOCHASTIC_BINARY, FUSED_STOCHASTIC_TERNARY, FUSED_TERNARY_AUTO } from '../../quantizers/fused.js';
import { f32, roundHalfEven, signKeep } from './wasm-float32.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

const EPS = f32(1e-7);
const LN2 = f32(Math.LN2);
const LIMIT = 2 ** 60;

export interface FusedStochasticTernaryAttrs {
  po2: boolean;
  temperature: number;
  unrolls: number;
}

export interface FusedTernaryAutoAttrs {
  po2: boolean;
  unrolls: number;
}

export interface FusedStochasticBinaryAttrs {
  po2: boolean;
  temperature: number;
}

/** Rows × channels view of a channels-last tensor. */
interface Layout {
  readonly shape: number[];
  readonly rows: number;
  readonly channels: number;
  readonly scaleShape: number[];
}

function layoutOf(x: Info): Layout {
  const shape = [...x.shape];
  const channels = shape[shape.length - 1]!;
  const n = shape.reduce((p, d) => p * d, 1);
  return { shape, rows: n / channels, channels, scaleShape: shape.map((d, i) => (i === shape.length - 1 ? d : 1)) };
}

/** Per-channel mean of `values` as `meanOver` computes it (Sum kernel order, then / count). */
function channelMean(values: ArrayLike<number>, l: Layout): Float32Array {
  const sum = new Float32Array(l.channels);
  for (let r = 0, i = 0; r < l.rows; r++) {
    for (let c = 0; c < l.channels; c++, i++) sum[c] = sum[c]! + values[i]!;
  }
  const count = f32(l.rows);
  return sum.map((s) => f32(s / count));
}

/** `stdOver` (Keras K.std): sqrt of the mean squared deviation from the mean. */
function channelStd(x: ArrayLike<number>, l: Layout): Float32Array {
  const mean = channelMean(x, l);
  const squares = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const d = f32(x[i]! - mean[i % l.channels]!);
    squares[i] = f32(d * d);
  }
  return channelMean(squares, l).map((v) => f32(Math.sqrt(v)));
}

/** True when the gradient shortcut holds (see the module comment). */
function tame(x: ArrayLike<number>, std: Float32Array | null): boolean {
  for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i]!) < LIMIT)) return false;
  return std === null || std.every((s) => s > 0);
}

/** `roundToPo2` per channel through the backend's Log and Pow kernels. */
function roundToPo2(scope: WasmScope, values: Float32Array, shape: number[]): Float32Array {
  const logs = scope.call(tf.Log, { x: scope.fromValues(shape, Float32Array.from(values, (v) => f32(v + EPS))) });
  const exponents = Float32Array.from(scope.view(logs), (v) => roundHalfEven(f32(v / LN2)));
  const powers = scope.call(tf.Pow, { a: scope.fromValues([], [2]), b: scope.fromValues(shape, exponents) });
  return Float32Array.from(scope.view(powers));
}

/** The backend's Sigmoid of `values` (XNNPACK's approximation, which only the kernel reproduces). */
function sigmoid(scope: WasmScope, values: Float32Array, shape: number[]): Float32Array {
  return Float32Array.from(scope.view(scope.call(tf.Sigmoid, { x: scope.fromValues(shape, values) })));
}

/** The least-squares scale `mean(x·q) / (mean(q·q) + eps)` per channel, po2-rounded when asked. */
function leastSquares(scope: WasmScope, x: ArrayLike<number>, q: Float32Array, l: Layout, po2: boolean): Float32Array {
  const xq = new Float32Array(x.length);
  const qq = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    xq[i] = f32(x[i]! * q[i]!);
    qq[i] = f32(q[i]! * q[i]!);
  }
  const mxq = channelMean(xq, l);
  const mqq = channelMean(qq, l);
  const scale = mxq.map((v, c) => f32(v / f32(mqq[c]! + EPS)));
  return po2 ? roundToPo2(scope, scale, l.scaleShape) : scale;
}

/** `sign(t) + (1 - |sign(t)|)`: zeros go to +1, NaN stays. */
function signNoZero(t: number): number {
  const s = signKeep(t);
  return f32(s + f32(1 - Math.abs(s)));
}

/** Allocates the two outputs, runs `body` with a scope, and returns them (a NaN scale when `body` says so). */
function withOutputs(
  args: KernelArgs,
  body: (scope: WasmScope, l: Layout, x: Info) => { values: Float32Array; scale: Float32Array } | null,
): Info[] {
  const { x } = args.inputs as { x: Info };
  const backend = wasmBackendOf(args.backend);
  const l = layoutOf(x);
  const out = backend.makeOutput(l.shape, 'float32');
  const scaleOut = backend.makeOutput(l.scaleShape, 'float32');
  const scope = new WasmScope(backend);
  try {
    const result = body(scope, l, x);
    const scaleView = backend.typedArrayFromHeap(scaleOut) as Float32Array;
    if (result === null) scaleView.fill(NaN);
    else {
      scaleView.set(result.scale);
      (backend.typedArrayFromHeap(out) as Float32Array).set(result.values);
    }
  } catch (error) {
    backend.disposeData(out.dataId);
    backend.disposeData(scaleOut.dataId);
    throw error;
  } finally {
    scope.releaseAll();
  }
  return [out, scaleOut];
}

function stochasticTernary(args: KernelArgs): Info[] {
  const a = args.attrs as unknown as FusedStochasticTernaryAttrs;
  const { u0, u1 } = args.inputs as { u0: Info; u1: Info };
  return withOutputs(args, (scope, l, xInfo) => {
    const x = Float32Array.from(scope.view(xInfo));
    const std = channelStd(x, l);
    if (!tame(x, std)) return null;
    const n = x.length;
    const C = l.channels;
    // Initial scale 2/3 · max|x| (po2-rounded), then `unrolls` rounds of threshold-at-half + least squares.
    const maxAbs = new Float32Array(C);
    for (let i = 0; i < n; i++) {
      const v = Math.abs(x[i]!);
      if (v > maxAbs[i % C]!) maxAbs[i % C] = v;
    }
    let scale: Float32Array = maxAbs.map((m) => f32(f32(2 * m) / 3));
    if (a.po2) scale = roundToPo2(scope, scale, l.scaleShape);
    const q = new Float32Array(n);
    for (let it = 0; it < a.unrolls; it++) {
      const threshold = scale.map((s) => f32(s / 2));
      for (let i = 0; i < n; i++) q[i] = f32((Math.abs(x[i]!) >= threshold[i % C]! ? 1 : 0) * signKeep(x[i]!));
      scale = leastSquares(scope, x, q, l, a.po2);
    }
    // Two sign draws from sigmoids shifted by ± half the normalised scale, averaged.
    const temperature = f32(a.temperature);
    const stdEps = std.map((s) => f32(s + EPS));
    const half = scale.map((s, c) => f32(s / f32(2 * stdEps[c]!)));
    const t0 = new Float32Array(n);
    const t1 = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % C;
      const xNorm = f32(x[i]! / stdEps[c]!);
      t0[i] = f32(temperature * f32(xNorm - half[c]!));
      t1[i] = f32(temperature * f32(xNorm + half[c]!));
    }
    const p0 = sigmoid(scope, t0, l.shape);
    const p1 = sigmoid(scope, t1, l.shape);
    const r0 = scope.view(u0);
    const r1 = scope.view(u1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const qi = f32(f32(signNoZero(f32(p0[i]! - r0[i]!)) + signNoZero(f32(p1[i]! - r1[i]!))) / 2);
      values[i] = f32(x[i]! + f32(-x[i]! + f32(scale[i % C]! * qi)));
    }
    return { values, scale };
  });
}

/**
 * `ternary` with an auto alpha and deterministic rounding (also stochastic_ternary's inference path):
 * `unrolls` rounds of `q = (|s·round(x/s)| >= s/2)·sign(x)`, `s = least squares(x, q)`, from
 * `s = 2/3 max|x|`; out = x + (-x + s·q). Its chain divides by every intermediate scale, so the gradient
 * shortcut also needs those within (2^-60, 2^60) (an all-zero channel gives scale 0 with alpha 'auto').
 */
function ternaryAuto(args: KernelArgs): Info[] {
  const a = args.attrs as unknown as FusedTernaryAutoAttrs;
  return withOutputs(args, (scope, l, xInfo) => {
    const x = Float32Array.from(scope.view(xInfo));
    if (!tame(x, null)) return null;
    const n = x.length;
    const C = l.channels;
    const maxAbs = new Float32Array(C);
    for (let i = 0; i < n; i++) {
      const v = Math.abs(x[i]!);
      if (v > maxAbs[i % C]!) maxAbs[i % C] = v;
    }
    let scale: Float32Array = maxAbs.map((m) => f32(f32(2 * m) / 3));
    if (a.po2) scale = roundToPo2(scope, scale, l.scaleShape);
    const q = new Float32Array(n);
    for (let it = 0; it < a.unrolls; it++) {
      if (!scale.every((s) => s > 2 ** -60 && s < 2 ** 60)) return null;
      const threshold = scale.map((s) => f32(s / 2));
      for (let i = 0; i < n; i++) {
        const s = scale[i % C]!;
        const p = f32(x[i]! / s);
        const v = f32(s * f32(p + f32(-p + roundHalfEven(p))));
        q[i] = f32((Math.abs(v) >= threshold[i % C]! ? 1 : 0) * signKeep(x[i]!));
      }
      scale = leastSquares(scope, x, q, l, a.po2);
    }
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = f32(x[i]! + f32(-x[i]! + f32(scale[i % C]! * q[i]!)));
    return { values, scale };
  });
}

function stochasticBinary(args: KernelArgs): Info[] {
  const a = args.attrs as unknown as FusedStochasticBinaryAttrs;
  const { u } = args.inputs as { u: Info };
  return withOutputs(args, (scope, l, xInfo) => {
    const x = Float32Array.from(scope.view(xInfo));
    const std = channelStd(x, l);
    if (!tame(x, std)) return null;
    const n = x.length;
    const C = l.channels;
    const temperature = f32(a.temperature);
    const stdEps = std.map((s) => f32(s + EPS));
    const logits = new Float32Array(n);
    for (let i = 0; i < n; i++) logits[i] = f32(f32(temperature * x[i]!) / stdEps[i % C]!);
    const p = sigmoid(scope, logits, l.shape);
    const signs = Float32Array.from(x, signNoZero);
    const scale = leastSquares(scope, x, signs, l, a.po2);
    const r = scope.view(u);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const q = signNoZero(f32(p[i]! - r[i]!));
      values[i] = f32(x[i]! + f32(-x[i]! + f32(scale[i % C]! * q)));
    }
    return { values, scale };
  });
}

export const fusedStochasticWeightConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_STOCHASTIC_TERNARY, backendName: 'wasm', kernelFunc: stochasticTernary as unknown as tf.KernelFunc },
  { kernelName: FUSED_STOCHASTIC_BINARY, backendName: 'wasm', kernelFunc: stochasticBinary as unknown as tf.KernelFunc },
  { kernelName: FUSED_TERNARY_AUTO, backendName: 'wasm', kernelFunc: ternaryAuto as unknown as tf.KernelFunc },
];

/** `x + stop_gradient(...)`: dy plus the other paths' zeros, i.e. dy with -0 made +0 (one Add). */
function throughGradient(kernelName: string): tf.GradConfig {
  return {
    kernelName,
    gradFunc: (dys) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      return { x: () => tf.add(dy, tf.scalar(0)) };
    },
  };
}

export const fusedStochasticWeightGradients: tf.GradConfig[] = [
  throughGradient(FUSED_STOCHASTIC_TERNARY),
  throughGradient(FUSED_STOCHASTIC_BINARY),
  throughGradient(FUSED_TERNARY_AUTO),
];
