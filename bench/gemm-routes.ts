/**
 * `npx tsx bench/gemm-routes.ts`: the training kernels' GEMM routes (src/backend/kernels/gemm-routes.ts) against
 * the routes they replace, on the lab book CNN's shapes (batch 128): each repetition calls the kernel once
 * with the routes on and once with them off, back to back, so load changes on the shared machine hit both
 * alike; prints the median milliseconds of each and their ratio. Both routes give the same float32 bits
 * (test/backend/gemm-routes.test.ts). Environment: BENCH_REPS (15).
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { setGemmRoutesEnabled } from '../src/backend/kernels/gemm-routes.js';
import { convGeometry } from '../src/backend/kernels/conv-geometry.js';
import { filterGradNhwc, type FilterGradMethod } from '../src/backend/kernels/conv2d-backprop-filter.js';
import { WasmScope, wasmBackendOf } from '../src/backend/kernels/wasm-ops.js';

const REPS = Number(process.env.BENCH_REPS ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median ms of `run` with the routes on and off, in alternating calls after one warm-up pair. */
function paired(label: string, run: () => tf.Tensor): void {
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r <= REPS; r++) {
    for (const enabled of [true, false]) {
      const previous = setGemmRoutesEnabled(enabled);
      const t0 = performance.now();
      run().dispose();
      const ms = performance.now() - t0;
      setGemmRoutesEnabled(previous);
      if (r > 0) (enabled ? on : off).push(ms);
    }
  }
  const [a, b] = [median(on), median(off)];
  console.log(`${label.padEnd(40)} routes on ${a.toFixed(1).padStart(7)} ms   off ${b.toFixed(1).padStart(7)} ms   x${(b / a).toFixed(2)}`);
}

await ready();
let seed = 1;
function filterGrad(xShape: [number, number, number, number], filterShape: [number, number, number, number]): () => tf.Tensor {
  const x = tf.randomNormal(xShape, 0, 1, 'float32', seed++);
  const dy = tf.randomNormal([xShape[0], xShape[1] - filterShape[0] + 1, xShape[2] - filterShape[1] + 1, filterShape[3]], 0, 1, 'float32', seed++);
  const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape } as unknown as tf.NamedAttrMap;
  return () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
}
/** Median ms of each filter-gradient method, called round-robin (same bits from each; see the tests). */
function filterGradMethods(xShape: [number, number, number, number], filterShape: [number, number, number, number]): void {
  const x = tf.randomNormal(xShape, 0, 1, 'float32', seed++);
  const g = convGeometry(xShape, filterShape, 1, 1, 'valid', undefined, false);
  const dy = tf.randomNormal([g.batch, g.outH, g.outW, g.outC], 0, 1, 'float32', seed++);
  const backend = wasmBackendOf(tf.backend());
  const methods: FilterGradMethod[] = ['direct', 'gemm', 'conv'];
  const times = new Map<FilterGradMethod, number[]>(methods.map((m) => [m, []]));
  for (let r = 0; r <= REPS; r++) {
    for (const m of methods) {
      const t0 = performance.now();
      backend.disposeData(WasmScope.run(backend, (scope) => filterGradNhwc(scope, x, dy, g, m)).dataId);
      if (r > 0) times.get(m)!.push(performance.now() - t0);
    }
  }
  const ms = methods.map((m) => median(times.get(m)!));
  const cells = methods.map((m, i) => `${m} ${ms[i]!.toFixed(1).padStart(6)} ms`).join('   ');
  console.log(`dW [${filterShape.join(',')}] x [${xShape.join(',')}]: ${cells}   gemm/direct x${(ms[1]! / ms[0]!).toFixed(2)}   conv/direct x${(ms[2]! / ms[0]!).toFixed(2)}`);
  tf.dispose([x, dy]);
}

const x = tf.randomNormal([128, 18432], 0, 1, 'float32', 7);
const dy = tf.randomNormal([128, 10], 0, 1, 'float32', 8);
const load = (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`load average ${load}; ${REPS} paired repetitions (median)`);
paired('Conv2DBackpropFilter [3,3,18,32]', filterGrad([128, 26, 26, 18], [3, 3, 18, 32]));
paired('Conv2DBackpropFilter [3,3,1,18]', filterGrad([128, 28, 28, 1], [3, 3, 1, 18]));
filterGradMethods([128, 26, 26, 18], [3, 3, 18, 32]);
filterGradMethods([128, 28, 28, 1], [3, 3, 1, 18]);
paired('BatchMatMul xᵀ·dy [18432,10]', () => tf.matMul(x, dy, true, false));
