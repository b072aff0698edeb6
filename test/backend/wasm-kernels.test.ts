/**
 * The kernels registered on the wasm backend (src/backend/wasm-kernels.ts), each compared with the cpu
 * backend on seeded random shapes: strides 1-3, dilations 1-2 where the kernel takes them, same / valid /
 * explicit padding, batch 1-3, channels 1-5, depth multipliers 1-2. Tolerances: see compare.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { wasmTrainingKernelNames } from '../../src/backend/wasm-kernels.js';
import { compareWithCpu, intIn, useWasm, randomValues, type Comparison, type Operand } from './compare.js';
import { makeRng } from './gradient-cases.js';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

interface ConvCase {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly kH: number;
  readonly kW: number;
  /** Output channels (conv2d) or depth multiplier (depthwise). */
  readonly out: number;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: Pad;
}

const operand = (seed: number, shape: number[], linear = true): Operand => ({
  shape,
  values: randomValues(seed, shape),
  linear,
});

/** A random convolution geometry whose forward output is at least 1x1. */
function randomConv(
  seed: number,
  opts: { maxStride: number; maxDilation: number; strideOrDilation: boolean; dilations?: [number, number] },
): ConvCase {
  const rng = makeRng(seed);
  const kH = intIn(rng, 1, 4);
  const kW = intIn(rng, 1, 4);
  let strides: [number, number] = [intIn(rng, 1, opts.maxStride), intIn(rng, 1, opts.maxStride)];
  let dilations: [number, number] = opts.dilations ?? [intIn(rng, 1, opts.maxDilation), intIn(rng, 1, opts.maxDilation)];
  // tfjs' depthwise ops accept strides > 1 or dilations > 1, not both.
  if (opts.strideOrDilation && Math.max(...dilations) > 1) strides = [1, 1];
  if (opts.strideOrDilation && Math.max(...strides) > 1) dilations = [1, 1];
  const effH = (kH - 1) * dilations[0] + 1;
  const effW = (kW - 1) * dilations[1] + 1;
  const inH = effH + intIn(rng, 0, 6);
  const inW = effW + intIn(rng, 0, 6);
  const padKind = intIn(rng, 0, 2);
  const pad: Pad =
    padKind === 0
      ? 'same'
      : padKind === 1
        ? 'valid'
        : [
            [0, 0],
            [intIn(rng, 0, 2), intIn(rng, 0, 2)],
            [intIn(rng, 0, 2), intIn(rng, 0, 2)],
            [0, 0],
          ];
  return {
    batch: intIn(rng, 1, 3),
    inH,
    inW,
    inC: intIn(rng, 1, 5),
    kH,
    kW,
    out: intIn(rng, 1, 5),
    strides,
    dilations,
    pad,
  };
}

function outShape(c: ConvCase, depthwise: boolean, multiplier = c.out): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.inH, c.inW, c.inC],
    [c.kH, c.kW, c.inC, depthwise ? multiplier : c.out],
    c.strides,
    c.dilations,
    c.pad,
    undefined,
    depthwise,
  );
  return [...info.outShape];
}

const describeCase = (c: ConvCase) =>
  `x[${c.batch},${c.inH},${c.inW},${c.inC}] k${c.kH}x${c.kW} out/mult ${c.out} s${c.strides} d${c.dilations} ` +
  `pad ${JSON.stringify(c.pad)}`;

/** Inserts d-1 zero taps between a filter's taps: the non-dilated filter equivalent to a dilated one. */
function dilateFilter(w: tf.Tensor4D, dH: number, dW: number): tf.Tensor4D {
  const [kH, kW, c, m] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kH, 1, kW, 1, c * m]), [
    [0, 0],
    [0, dH - 1],
    [0, 0],
    [0, dW - 1],
    [0, 0],
  ]);
  const full = tf.reshape(spread, [kH * dH, kW * dW, c, m]);
  return tf.slice(full, [0, 0, 0, 0], [(kH - 1) * dH + 1, (kW - 1) * dW + 1, c, m]) as tf.Tensor4D;
}

/** Every dH-th row and dW-th column of taps: undoes dilateFilter on a gradient. */
function undilate(g: tf.Tensor4D, dH: number, dW: number): tf.Tensor4D {
  return tf.stridedSlice(g, [0, 0, 0, 0], [g.shape[0], g.shape[1], g.shape[2], g.shape[3]], [dH, dW, 1, 1]) as tf.Tensor4D;
}

beforeAll(async () => {
  await useWasm();
  expect(tf.getBackend()).toBe('wasm');
});

describe('registration', () => {
  it('registers every training kernel on wasm', () => {
    for (const name of wasmTrainingKernelNames) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect([...wasmTrainingKernelNames].sort()).toEqual(
      [
        'Conv2D',
        'FusedConv2D',
        'DepthwiseConv2dNative',
        'FusedDepthwiseConv2D',
        'BatchMatMul',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'MaxPoolGrad',
        'Sign',
        'UnsortedSegmentSum',
      ].sort(),
    );
  });

  it('keeps the setupFunc of the kernels it replaces', () => {
    for (const name of [tf.BatchMatMul, tf.Conv2DBackpropInput, tf.MaxPoolGrad, tf.Conv2D, tf.FusedConv2D]) {
      expect(tf.getKernel(name, 'wasm').setupFunc, name).toBeTypeOf('function');
    }
  });
});

describe('conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  const cases = Array.from({ length: 40 }, (_, i) => randomConv(100 + i, { maxStride: 3, maxDilation: 1, strideOrDilation: false }));
  // Shapes that exercise the cropping paths: valid with a stride that skips the last rows, a strided 1x1
  // 'same' conv whose zero-inserted dy overhangs, explicit padding wider than the filter (the first rows
  // of x are never read).
  cases.push(
    { batch: 2, inH: 6, inW: 7, inC: 3, kH: 3, kW: 3, out: 2, strides: [2, 2], dilations: [1, 1], pad: 'valid' },
    { batch: 1, inH: 5, inW: 5, inC: 2, kH: 1, kW: 1, out: 3, strides: [2, 2], dilations: [1, 1], pad: 'same' },
    { batch: 2, inH: 4, inW: 5, inC: 2, kH: 2, kW: 3, out: 2, strides: [1, 3], dilations: [1, 1], pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
    // Pointwise convolutions take the single-matmul path.
    { batch: 3, inH: 5, inW: 4, inC: 5, kH: 1, kW: 1, out: 3, strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { batch: 1, inH: 3, inW: 6, inC: 4, kH: 1, kW: 1, out: 5, strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  );
  it.each(cases.map((c, i) => [i, describeCase(c), c] as const))('case %i: %s', async (i, _label, c) => {
    const dyShape = outShape(c, false);
    const comparison: Comparison = {
      label: describeCase(c),
      operands: [
        operand(1000 + i, [c.batch, c.inH, c.inW, c.inC]),
        operand(2000 + i, [c.kH, c.kW, c.inC, c.out]),
        operand(3000 + i, dyShape),
      ],
      run: ([x, w, dy]) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad))([x!, w!], dy!),
      reductions: [c.kH * c.kW * c.out, c.batch * dyShape[1]! * dyShape[2]!],
    };
    await compareWithCpu(comparison);
  });

  it('handles NCHW data format in both kernels', async () => {
    const x = operand(11, [2, 3, 6, 5]);
    const dy = operand(12, [2, 4, 3, 3]);
    const w = operand(13, [3, 2, 3, 4]);
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NCHW' } as const;
    await compareWithCpu({
      label: 'NCHW filter and input gradients',
      operands: [x, dy, w],
      run: ([xt, dyt, wt]) => [
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xt!, dy: dyt! }, { ...attrs, filterShape: [3, 2, 3, 4] }),
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dyt!, filter: wt! }, { ...attrs, inputShape: [2, 3, 6, 5] }),
      ],
      reductions: [2 * 3 * 3, 3 * 2 * 4],
    });
  });
});

describe('conv2dTranspose (Conv2DBackpropInput forward) and its gradients', () => {
  const cases = Array.from({ length: 25 }, (_, i) => randomConv(200 + i, { maxStride: 3, maxDilation: 1, strideOrDilation: false }));
  it.each(cases.map((c, i) => [i, describeCase(c), c] as const))('case %i: %s', async (i, _label, c) => {
    // The transposed convolution maps the forward conv's output shape back to its input shape.
    const inShape = outShape(c, false);
    const xShape: [number, number, number, number] = [c.batch, c.inH, c.inW, c.inC];
    const comparison: Comparison = {
      label: describeCase(c),
      operands: [operand(4000 + i, inShape), operand(5000 + i, [c.kH, c.kW, c.inC, c.out]), operand(6000 + i, xShape)],
      run: ([d, w, ddx]) => {
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, xShape, c.strides, c.pad);
        return [f(d!, w!), ...tf.grads(f)([d!, w!], ddx!)];
      },
      reductions: [c.kH * c.kW * c.out, c.kH * c.kW * c.inC, c.batch * inShape[1]! * inShape[2]!],
    };
    await compareWithCpu(comparison);
  });
});

describe('depthwiseConv2d gradients (DepthwiseConv2dNativeBackpropFilter/Input)', () => {
  const cases = Array.from({ length: 40 }, (_, i) => {
    const c = randomConv(300 + i, { maxStride: 3, maxDilation: 1, strideOrDilation: true });
    return { ...c, out: 1 + (i % 2) };
  });
  cases.push({ batch: 3, inH: 5, inW: 9, inC: 4, kH: 3, kW: 3, out: 2, strides: [3, 2], dilations: [1, 1], pad: 'valid' });
  it.each(cases.map((c, i) => [i, describeCase(c), c] as const))('case %i: %s', async (i, _label, c) => {
    const dyShape = outShape(c, true);
    const comparison: Comparison = {
      label: describeCase(c),
      operands: [
        operand(7000 + i, [c.batch, c.inH, c.inW, c.inC]),
        operand(8000 + i, [c.kH, c.kW, c.inC, c.out]),
        operand(9000 + i, dyShape),
      ],
      run: ([x, w, dy]) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad),
        )([x!, w!], dy!),
      reductions: [c.kH * c.kW * c.out, c.batch * dyShape[1]! * dyShape[2]!],
    };
    await compareWithCpu(comparison);
  });

  // tfjs refuses gradients of dilated depthwise convolutions, but the kernels take a dilations attribute.
  // The cpu kernels ignore it, so the reference is the cpu kernel on the equivalent zero-inserted filter.
  const dilated = Array.from({ length: 20 }, (_, i) => {
    const dilations: [number, number] = [[2, 2], [2, 1], [1, 2]][i % 3] as [number, number];
    const c = randomConv(400 + i, { maxStride: 2, maxDilation: 2, strideOrDilation: false, dilations });
    return { ...c, out: 1 + (i % 2) };
  });
  it.each(dilated.map((c, i) => [i, describeCase(c), c] as const))('dilated kernel call %i: %s', async (i, _label, c) => {
    const dyShape = outShape(c, true);
    const [dH, dW] = c.dilations;
    const filterShape: [number, number, number, number] = [c.kH, c.kW, c.inC, c.out];
    const xShape: [number, number, number, number] = [c.batch, c.inH, c.inW, c.inC];
    const comparison: Comparison = {
      label: describeCase(c),
      operands: [operand(10000 + i, xShape), operand(11000 + i, filterShape), operand(12000 + i, dyShape)],
      run: ([x, w, dy]) => {
        const base = { strides: c.strides, pad: c.pad };
        if (tf.getBackend() === 'wasm') {
          return [
            tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: x!, dy: dy! }, { ...base, dilations: c.dilations, filterShape }),
            tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dy!, filter: w! }, { ...base, dilations: c.dilations, inputShape: xShape }),
          ];
        }
        const wide = dilateFilter(w as tf.Tensor4D, dH, dW);
        const wideGrad = tf.engine().runKernel(
          tf.DepthwiseConv2dNativeBackpropFilter,
          { x: x!, dy: dy! },
          { ...base, dilations: 1, filterShape: wide.shape },
        ) as tf.Tensor4D;
        return [
          undilate(wideGrad, dH, dW),
          tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dy!, filter: wide }, { ...base, dilations: 1, inputShape: xShape }),
        ];
      },
      reductions: [c.batch * dyShape[1]! * dyShape[2]!, c.kH * c.kW * c.out],
    };
    await compareWithCpu(comparison);
  });
});

describe("forward convolutions with pad 'same' (explicit-padding wrapper)", () => {
  // Kernel/stride pairs whose 'same' padding is negative along one dimension: the wasm kernels got these
  // wrong before the wrapper; the others are controls.
  const pairs: Array<[[number, number], [number, number]]> = [
    [[1, 3], [2, 1]],
    [[3, 1], [1, 2]],
    [[1, 2], [2, 2]],
    [[2, 2], [3, 3]],
    [[2, 3], [3, 2]],
    [[3, 3], [2, 2]],
    [[1, 1], [3, 3]],
  ];
  it.each(pairs.map((p, i) => [i, JSON.stringify(p), p] as const))('case %i: kernel/strides %s', async (i, _label, [k, st]) => {
    await compareWithCpu({
      label: `kernel ${k} strides ${st}`,
      operands: [
        operand(21000 + i, [2, 7, 6, 3]),
        operand(22000 + i, [k[0], k[1], 3, 4]),
        operand(23000 + i, [k[0], k[1], 3, 2]),
        operand(24000 + i, [4]),
      ],
      run: ([x, w, dw, b]) => {
        const x4 = x as tf.Tensor4D;
        return [
          tf.conv2d(x4, w as tf.Tensor4D, st, 'same'),
          tf.fused.conv2d({ x: x4, filter: w as tf.Tensor4D, strides: st, pad: 'same' }),
          tf.depthwiseConv2d(x4, dw as tf.Tensor4D, st, 'same'),
          tf.fused.depthwiseConv2d({ x: x4, filter: dw as tf.Tensor4D, strides: st, pad: 'same' }),
          tf.fused.conv2d({ x: x4, filter: w as tf.Tensor4D, bias: b, strides: st, pad: 'same' }),
        ];
      },
      // The bias adds one more term.
      reductions: [k[0] * k[1] * 3, k[0] * k[1] * 3, k[0] * k[1], k[0] * k[1], k[0] * k[1] * 3 + 1],
    });
  });
});

describe('BatchMatMul with transposes and batches', () => {
  const shapes: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [];
  const rng = makeRng(77);
  for (let i = 0; i < 24; i++) {
    const [m, k, n] = [intIn(rng, 1, 9), intIn(rng, 1, 9), intIn(rng, 1, 9)];
    const ta = i % 2 === 1;
    const tb = Math.floor(i / 2) % 2 === 1;
    const kind = Math.floor(i / 4) % 6; // 0,1: 2-D; 2: both batched; 3: b broadcast; 4: a broadcast; 5: rank 4
    const batchA = kind === 2 || kind === 3 ? [3] : kind === 4 ? [1] : kind === 5 ? [2, 2] : [];
    const batchB = kind === 2 || kind === 4 ? [3] : kind === 3 ? [1] : kind === 5 ? [2, 2] : [];
    shapes.push({
      a: [...batchA, ...(ta ? [k, m] : [m, k])],
      b: [...batchB, ...(tb ? [n, k] : [k, n])],
      ta,
      tb,
    });
  }
  shapes.push({ a: [64, 40], b: [64, 24], ta: true, tb: false }, { a: [32, 48], b: [16, 48], ta: false, tb: true });
  it.each(shapes.map((s, i) => [i, JSON.stringify(s), s] as const))('case %i: %s', async (i, _label, s) => {
    const m = s.ta ? s.a.at(-1)! : s.a.at(-2)!;
    const k = s.ta ? s.a.at(-2)! : s.a.at(-1)!;
    const n = s.tb ? s.b.at(-2)! : s.b.at(-1)!;
    const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(s.a.slice(0, -2), s.b.slice(0, -2));
    const batch = batchShape.reduce((p, v) => p * v, 1);
    const outShapeAb = [...batchShape, m, n];
    await compareWithCpu({
      label: JSON.stringify(s),
      operands: [operand(13000 + i, s.a), operand(14000 + i, s.b), operand(15000 + i, outShapeAb)],
      run: ([a, b, dy]) => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, s.ta, s.tb);
        // tfjs-core's BatchMatMul gradient does not reduce over broadcast batch axes (on any backend), so
        // broadcasting cases compare the product only.
        const broadcasting = a!.shape.slice(0, -2).join() !== b!.shape.slice(0, -2).join();
        return broadcasting ? [f(a!, b!)] : [f(a!, b!), ...tf.grads(f)([a!, b!], dy!)];
      },
      // Gradients of a broadcast operand also sum over the batch.
      reductions: [k, n * batch, m * batch],
    });
  });
});

describe('gather gradient (UnsortedSegmentSum)', () => {
  const cases = [
    { x: [6, 3], indices: [5, 0, 5, 2, 5], axis: 0 },
    { x: [2, 5, 3], indices: [1, 1, 3, 0], axis: 1 },
    { x: [2, 3, 4], indices: [3, 3, 3], axis: 2 },
    { x: [7], indices: [0, 6, 6, 1], axis: 0 },
  ];
  it.each(cases.map((c, i) => [i, JSON.stringify(c), c] as const))('case %i: %s', async (i, _label, c) => {
    const outShapeG = [...c.x];
    outShapeG.splice(c.axis, 1, c.indices.length);
    await compareWithCpu({
      label: JSON.stringify(c),
      operands: [operand(16000 + i, c.x, false), operand(17000 + i, outShapeG)],
      run: ([x, dy]) => tf.grads((t: tf.Tensor) => tf.gather(t, tf.tensor1d(c.indices, 'int32'), c.axis))([x!], dy!),
      reductions: [c.indices.length],
    });
  });

  it('drops out-of-range ids, takes 2-D ids, and sums int32 exactly', async () => {
    const ids: Operand = { shape: [2, 3], values: Int32Array.from([0, -1, 3, 2, 4, 0]), dtype: 'int32', linear: false };
    await compareWithCpu({
      label: 'unsortedSegmentSum',
      operands: [operand(18000, [2, 3, 2]), ids],
      run: ([x, segmentIds]) => [tf.unsortedSegmentSum(tf.reshape(x!, [6, 2]), tf.reshape(segmentIds!, [6]) as tf.Tensor1D, 4)],
      reductions: [6],
    });
    // Multi-dimensional ids (the cpu kernel cannot broadcast them, so the expectation is written out).
    const twoD = tf.tidy(() => {
      const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
      const ids = tf.tensor2d([0, -1, 3, 2, 4, 0], [2, 3], 'int32');
      return Array.from((tf.engine().runKernel(tf.UnsortedSegmentSum, { x, segmentIds: ids }, { numSegments: 4 }) as tf.Tensor).dataSync());
    });
    expect(twoD).toEqual([1 + 11, 2 + 12, 0, 0, 7, 8, 5, 6]);
    const ints = tf.tidy(() =>
      Array.from(tf.unsortedSegmentSum(tf.tensor1d([5, 7, -2, 9], 'int32'), tf.tensor1d([1, 1, 0, 5], 'int32'), 3).dataSync()),
    );
    expect(ints).toEqual([-2, 12, 0]);
  });
});

describe('MaxPoolGrad', () => {
  // Values on a coarse grid in [-1, 0.5]: many ties and many windows with no positive value, the two cases
  // the backend's own kernel gets wrong.
  const coarse = (seed: number, shape: number[]): Operand => ({
    shape,
    values: randomValues(seed, shape).map((v) => Math.round(v * 4) / 4 - (v > 0.5 ? 0.5 : 0)),
    linear: false,
  });
  const cases = Array.from({ length: 24 }, (_, i) => {
    const rng = makeRng(500 + i);
    const f: [number, number] = [intIn(rng, 1, 3), intIn(rng, 1, 3)];
    const s: [number, number] = [intIn(rng, 1, 3), intIn(rng, 1, 3)];
    return {
      x: [intIn(rng, 1, 3), f[0] + intIn(rng, 0, 5), f[1] + intIn(rng, 0, 5), intIn(rng, 1, 5)],
      filter: f,
      strides: s,
      pad: i % 2 === 0 ? ('same' as const) : ('valid' as const),
    };
  });
  it.each(cases.map((c, i) => [i, JSON.stringify(c), c] as const))('case %i: %s', async (i, _label, c) => {
    const info = tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.filter, c.strides, 1, c.pad);
    const overlap = Math.ceil(c.filter[0] / c.strides[0]) * Math.ceil(c.filter[1] / c.strides[1]);
    await compareWithCpu({
      label: JSON.stringify(c),
      operands: [coarse(19000 + i, c.x), operand(20000 + i, [...info.outShape])],
      run: ([x, dy]) => tf.grads((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.filter, c.strides, c.pad))([x!], dy!),
      reductions: [overlap],
    });
  });

  it('routes the gradient of an all-negative window and of ties to the first maximum', () => {
    const dx = tf.tidy(() => {
      const x = tf.tensor4d([-3, -1, -1, -2, 0.5, 0.5, -0.25, -0.5], [1, 2, 4, 1]);
      return Array.from(tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(x, tf.tensor4d([10, 20], [1, 1, 2, 1])).dataSync());
    });
    // Window 1 holds -3, -1 / 0.5, 0.5: the first 0.5. Window 2 holds -1, -2 / -0.25, -0.5: the -0.25.
    expect(dx).toEqual([0, 0, 0, 0, 10, 0, 20, 0]);
  });
});

describe('Sign (replaced: the wasm kernel returned 0 for |x| < ~1.2e-7)', () => {
  it('gives -1/+1 for tiny values and keeps 0 and -0, as the cpu backend and TensorFlow do', async () => {
    await ready();
    const input = [-5e-8, 5e-8, 1e-30, -1e-38, 0, -0, 3, -2, 1.5e-45];
    const out = Array.from(tf.sign(tf.tensor1d(input)).dataSync());
    expect(tf.getBackend()).toBe('wasm');
    expect(out).toEqual([-1, 1, 1, -1, 0, -0, 1, -1, 1]);
    expect(Object.is(out[5], -0)).toBe(true);
    expect(Number.isNaN(tf.sign(tf.tensor1d([NaN])).dataSync()[0])).toBe(true);
  });
});
