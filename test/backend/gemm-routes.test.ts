/**
 * The GEMM routes added for training speed give the same float32 bits as the routes they replace (so the
 * QAT loss-curve guard's fixture stays valid), not merely agreement within rounding (wasm-kernels.test.ts
 * compares both with the cpu backend):
 *   - Conv2DBackpropFilter as one GEMM over the window-rows matrix vs the forward-conv formulation
 *     (src/backend/kernels/window-rows.ts, conv2d-backprop-filter.ts), and directly by the SIMD block kernel
 *     (src/backend/kernels/filter-grad-direct.ts);
 *   - aᵀ·b by SIMD row updates vs Transpose + XNNPACK GEMM (src/backend/kernels/mat-mul-row-updates.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { convGeometry } from '../../src/backend/kernels/conv-geometry.js';
import { filterGradNhwc, type FilterGradMethod } from '../../src/backend/kernels/conv2d-backprop-filter.js';
import { matMulTransposedA, rowUpdatesApply } from '../../src/backend/kernels/mat-mul-row-updates.js';
import { WasmScope, wasmBackendOf, type Info } from '../../src/backend/kernels/wasm-ops.js';
import { intIn, randomValues, useWasm } from './compare.js';
import { makeRng } from './gradient-cases.js';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

beforeAll(useWasm);

/** Runs `body` in a WasmScope and returns its result's float32 bits. */
function bitsOf(body: (scope: WasmScope) => Info): Uint32Array {
  const backend = wasmBackendOf(tf.backend());
  const info = WasmScope.run(backend, body);
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return new Uint32Array(Float32Array.from(values).buffer);
}

interface FilterCase {
  readonly x: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: Pad;
}

function randomFilterCase(seed: number): FilterCase {
  const rng = makeRng(seed);
  const [kH, kW] = [intIn(rng, 1, 4), intIn(rng, 1, 4)];
  const dilations: [number, number] = seed % 3 === 0 ? [intIn(rng, 1, 2), intIn(rng, 1, 2)] : [1, 1];
  const strides: [number, number] = dilations[0] * dilations[1] > 1 ? [1, 1] : [intIn(rng, 1, 3), intIn(rng, 1, 3)];
  const inH = (kH - 1) * dilations[0] + 1 + intIn(rng, 0, 6);
  const inW = (kW - 1) * dilations[1] + 1 + intIn(rng, 0, 6);
  const padKind = intIn(rng, 0, 2);
  const pad: Pad =
    padKind === 0 ? 'same' : padKind === 1 ? 'valid' : [[0, 0], [intIn(rng, 0, 3), intIn(rng, 0, 3)], [intIn(rng, 0, 3), intIn(rng, 0, 3)], [0, 0]];
  return { x: [intIn(rng, 1, 5), inH, inW, intIn(rng, 1, 6)], filter: [kH, kW, intIn(rng, 1, 6), intIn(rng, 1, 9)], strides, dilations, pad };
}

describe('Conv2DBackpropFilter: window-rows GEMM vs forward-conv formulation', () => {
  const cases: FilterCase[] = Array.from({ length: 30 }, (_, i) => randomFilterCase(500 + i));
  // The lab book CNN's two layers (batch 16 instead of 128 to keep the test short).
  cases.push(
    { x: [16, 28, 28, 1], filter: [3, 3, 1, 18], strides: [1, 1], dilations: [1, 1], pad: 'valid' },
    { x: [16, 26, 26, 18], filter: [3, 3, 18, 32], strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  );
  it.each(cases.map((c, i) => [i, JSON.stringify(c), c] as const))('case %i: %s', (i, _label, c) => {
    const filter: [number, number, number, number] = [c.filter[0], c.filter[1], c.x[3], c.filter[3]];
    const g = convGeometry(c.x, filter, c.strides, c.dilations, c.pad, undefined, false);
    const x = tf.tensor(randomValues(600 + i, c.x), c.x);
    const dy = tf.tensor(randomValues(700 + i, [g.batch, g.outH, g.outW, g.outC]), [g.batch, g.outH, g.outW, g.outC]);
    const run = (method: FilterGradMethod) => bitsOf((scope) => filterGradNhwc(scope, x, dy, g, method));
    const gemm = run('gemm');
    expect(gemm.length).toBe(filter.reduce((p, d) => p * d, 1));
    expect(gemm).toEqual(run('conv'));
    expect(run('direct')).toEqual(gemm);
    tf.dispose([x, dy]);
  });

  it('agrees on NaN and infinities too', () => {
    const g = convGeometry([1, 3, 3, 1], [2, 2, 1, 1], 1, 1, 'valid', undefined, false);
    const x = tf.tensor4d([NaN, 1, 2, Infinity, 4, 5, 6, 7, 8], [1, 3, 3, 1]);
    const dy = tf.tensor4d([1, -1, 2, 0], [1, 2, 2, 1]);
    const run = (method: FilterGradMethod) => bitsOf((scope) => filterGradNhwc(scope, x, dy, g, method));
    expect(run('gemm')).toEqual(run('conv'));
    expect(run('direct')).toEqual(run('conv'));
    tf.dispose([x, dy]);
  });

  it('direct route: NaN and infinities in dy meet padding taps as in the GEMM (0 * Inf = NaN)', () => {
    const g = convGeometry([2, 3, 3, 2], [3, 3, 2, 5], 1, 1, 'same', undefined, false);
    const dyValues = randomValues(9, [2, 3, 3, 5]);
    dyValues[0] = Infinity;
    dyValues[7] = NaN;
    dyValues[33] = -Infinity;
    const x = tf.tensor(randomValues(8, [2, 3, 3, 2]), [2, 3, 3, 2]);
    const dy = tf.tensor(dyValues, [2, 3, 3, 5]);
    const run = (method: FilterGradMethod) => bitsOf((scope) => filterGradNhwc(scope, x, dy, g, method));
    expect(run('direct')).toEqual(run('gemm'));
    tf.dispose([x, dy]);
  });

  it('direct route: more than 32 output channels (two register groups) and Co not a multiple of 4', () => {
    for (const co of [33, 45, 64]) {
      const g = convGeometry([3, 6, 5, 3], [2, 3, 3, co], [1, 2], 1, 'valid', undefined, false);
      const x = tf.tensor(randomValues(co, [3, 6, 5, 3]), [3, 6, 5, 3]);
      const dy = tf.tensor(randomValues(co + 1, [g.batch, g.outH, g.outW, co]), [g.batch, g.outH, g.outW, co]);
      const run = (method: FilterGradMethod) => bitsOf((scope) => filterGradNhwc(scope, x, dy, g, method));
      expect(run('direct')).toEqual(run('gemm'));
      tf.dispose([x, dy]);
    }
  });
});

describe('aᵀ·b by SIMD row updates vs Transpose + GEMM', () => {
  const shapes: Array<[number, number, number]> = [
    [128, 1152, 10], // a Dense kernel gradient: batch 128, 10 units (the lab book layer has 18432 inputs)
    [64, 37, 16],
    [5, 4, 1],
    [3, 7, 3],
    [9, 13, 5],
    [1, 8, 4],
    [17, 6, 12],
  ];
  it.each(shapes.map((s) => [JSON.stringify(s), s] as const))('[K, M, N] = %s', (_label, [k, m, n]) => {
    const backend = wasmBackendOf(tf.backend());
    expect(rowUpdatesApply(backend, m, n)).toBe(true);
    const a = tf.tensor(randomValues(k * 31 + m, [k, m]), [k, m]);
    const b = tf.tensor(randomValues(n * 17 + k, [k, n]), [k, n]);
    const rows = bitsOf((scope) => matMulTransposedA(scope, a, b));
    const gemm = bitsOf((scope) => scope.matMul(scope.reshape(scope.transpose(a, [1, 0]), [1, m, k]), scope.reshape(b, [1, k, n])));
    expect(rows.length).toBe(m * n);
    expect(rows).toEqual(gemm);
    tf.dispose([a, b]);
  });

  it('agrees on NaN and infinities too', () => {
    const a = tf.tensor([[1, NaN, 2, 3, 4], [Infinity, 1, 1, 1, 1], [1, 1, 1, -Infinity, 1]]);
    const b = tf.tensor([[1, 2], [3, 4], [5, 6]]);
    const rows = bitsOf((scope) => matMulTransposedA(scope, a, b));
    const gemm = bitsOf((scope) => scope.matMul(scope.reshape(scope.transpose(a, [1, 0]), [1, 5, 3]), scope.reshape(b, [1, 3, 2])));
    expect(rows).toEqual(gemm);
    tf.dispose([a, b]);
  });

  it('is what BatchMatMul runs for a transposed first operand with few columns', () => {
    const a = tf.tensor(randomValues(5, [40, 24]), [40, 24]);
    const b = tf.tensor(randomValues(6, [40, 6]), [40, 6]);
    const viaOp = new Uint32Array(Float32Array.from(tf.matMul(a, b, true, false).dataSync()).buffer);
    const direct = bitsOf((scope) => matMulTransposedA(scope, a, b));
    expect(viaOp).toEqual(direct);
    tf.dispose([a, b]);
  });
});
