/**
 * One-off timing of the wasm training kernels registered by src/backend/wasm-kernels.ts against the
 * alternatives, measured in the same run: the wasm backend's own kernel where it has one, an im2col +
 * matmul formulation, and the cpu backend's kernel. Prints milliseconds (median of a few runs) and ratios.
 * Not a test; run with `npx tsx bench/kernels.ts` on an otherwise idle machine.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { originalKernel } from '../src/backend/kernels/wasm-ops.js';

type Runner = () => void;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median wall time of `run` in ms over `reps` runs after one warm-up. */
function time(run: Runner, reps: number): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Runs a tidy body and forces completion (wasm is synchronous, dataSync just reads the result). */
function op(body: () => tf.Tensor): Runner {
  return () => {
    const out = tf.tidy(body);
    out.dataSync();
    out.dispose();
  };
}

/** Runs a kernel through the engine (the backprop kernels have no public op). */
function kernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(name, inputs, attrs);
}

/** Calls the wasm backend's own (pre-registration) kernel on tensors, bypassing the registry. */
function original(name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap): Runner {
  const config = originalKernel(name)!;
  const backend = tf.backend();
  return () => {
    const out = config.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
    tf.engine().makeTensorFromTensorInfo(out).dispose();
  };
}

function report(title: string, rows: Array<[string, number]>): void {
  const base = rows[0]![1];
  console.log(`\n${title}`);
  for (const [name, ms] of rows) {
    console.log(`  ${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms   x${(ms / base).toFixed(2)}`);
  }
}

async function main(): Promise<void> {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  const rand = (shape: number[]) => tf.randomUniform(shape, -1, 1, 'float32', 42);

  // The seed CNN's second convolution: batch 128, 26x26x18 -> 3x3x18x32, valid, stride 1.
  const x = rand([128, 26, 26, 18]) as tf.Tensor4D;
  const dy = rand([128, 24, 24, 32]) as tf.Tensor4D;
  const w = rand([3, 3, 18, 32]) as tf.Tensor4D;
  const im2colFilterGrad = () => {
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) taps.push(tf.slice(x, [0, a, b, 0], [128, 24, 24, 18]));
    const patches = tf.reshape(tf.concat(taps, 3), [128 * 24 * 24, 9 * 18]);
    return tf.reshape(tf.matMul(patches, tf.reshape(dy, [-1, 32]), true, false), [3, 3, 18, 32]);
  };
  const filterAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 18, 32] } as tf.NamedAttrMap;
  const filterRows: Array<[string, number]> = [
    ['registered (forward conv, XNNPACK)', time(op(() => kernel(tf.Conv2DBackpropFilter, { x, dy }, filterAttrs)), 5)],
    ['im2col + one matMul (wasm)', time(op(im2colFilterGrad), 3)],
  ];
  // The cpu kernel takes minutes at batch 128: it runs on the first 4 samples, scaled by 32 (it is linear
  // in the batch).
  const small = { x: tf.slice(x, 0, 4).arraySync(), dy: tf.slice(dy, 0, 4).arraySync() };
  await tf.setBackend('cpu');
  const xc = tf.tensor4d(small.x);
  const dyc = tf.tensor4d(small.dy);
  filterRows.push(['cpu backend kernel (batch 4, x32)', 32 * time(op(() => kernel(tf.Conv2DBackpropFilter, { x: xc, dy: dyc }, filterAttrs)), 1)]);
  tf.dispose([xc, dyc]);
  await tf.setBackend('wasm');
  report('Conv2DBackpropFilter  x[128,26,26,18] dy[128,24,24,32] -> [3,3,18,32]', filterRows);

  const inputAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [128, 26, 26, 18] } as tf.NamedAttrMap;
  report('Conv2DBackpropInput  dy[128,24,24,32] w[3,3,18,32] -> [128,26,26,18]', [
    ['registered (zero-insert + forward conv)', time(op(() => tf.conv2dTranspose(dy, w, [128, 26, 26, 18], 1, 'valid')), 5)],
    ['wasm original (naive loop)', time(original(tf.Conv2DBackpropInput, { dy, filter: w }, inputAttrs), 3)],
  ]);
  const dy2 = rand([128, 13, 13, 32]) as tf.Tensor4D;
  const input2Attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [128, 26, 26, 18] } as tf.NamedAttrMap;
  report('Conv2DBackpropInput stride 2 same  dy[128,13,13,32] -> [128,26,26,18]', [
    ['registered (zero-insert + forward conv)', time(op(() => tf.conv2dTranspose(dy2, w, [128, 26, 26, 18], 2, 'same')), 5)],
    ['wasm original (naive loop)', time(original(tf.Conv2DBackpropInput, { dy: dy2, filter: w }, input2Attrs), 3)],
  ]);

  // Depthwise 3x3 on [128, 24, 24, 32], multiplier 1, same.
  const xd = rand([128, 24, 24, 32]) as tf.Tensor4D;
  const dyd = rand([128, 24, 24, 32]) as tf.Tensor4D;
  const wd = rand([3, 3, 32, 1]) as tf.Tensor4D;
  const dwFilterAttrs = { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 32, 1] } as tf.NamedAttrMap;
  const dwInputAttrs = { strides: 1, dilations: 1, pad: 'same', inputShape: [128, 24, 24, 32] } as tf.NamedAttrMap;
  const depthRows: Array<[string, number]> = [
    ['registered filter grad (side-by-side depthwise)', time(op(() => kernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: xd, dy: dyd }, dwFilterAttrs)), 5)],
    ['registered input grad (zero-insert + depthwise)', time(op(() => kernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyd, filter: wd }, dwInputAttrs)), 5)],
  ];
  // cpu on the first 8 samples, scaled by 16.
  const depthData = { x: tf.slice(xd, 0, 8).arraySync(), dy: tf.slice(dyd, 0, 8).arraySync(), w: wd.arraySync() };
  await tf.setBackend('cpu');
  const [xdc, dydc, wdc] = [tf.tensor4d(depthData.x), tf.tensor4d(depthData.dy), tf.tensor4d(depthData.w)];
  const dwInputAttrs8 = { ...dwInputAttrs, inputShape: [8, 24, 24, 32] };
  depthRows.push(['cpu filter grad (batch 8, x16)', 16 * time(op(() => kernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: xdc, dy: dydc }, dwFilterAttrs)), 1)]);
  depthRows.push(['cpu input grad (batch 8, x16)', 16 * time(op(() => kernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dydc, filter: wdc }, dwInputAttrs8)), 1)]);
  tf.dispose([xdc, dydc, wdc]);
  await tf.setBackend('wasm');
  report('Depthwise backprops  x/dy[128,24,24,32] w[3,3,32,1] same (ratios vs first row)', depthRows);

  // A Dense layer's two gradients: x[128, 2304] (flattened 12x12x16), W[2304, 64], dy[128, 64].
  const xm = rand([128, 2304]);
  const wm = rand([2304, 64]);
  const dym = rand([128, 64]);
  report('BatchMatMul  dW = x^T dy  [2304,128]x[128,64]', [
    ['registered (transpose + XNNPACK GEMM)', time(op(() => tf.matMul(xm, dym, true, false)), 5)],
    ['wasm original (blocked loop)', time(original(tf.BatchMatMul, { a: xm, b: dym }, { transposeA: true, transposeB: false }), 5)],
  ]);
  report('BatchMatMul  dx = dy W^T  [128,64]x[64,2304]', [
    ['registered (transpose + XNNPACK GEMM)', time(op(() => tf.matMul(dym, wm, false, true)), 5)],
    ['wasm original (blocked loop)', time(original(tf.BatchMatMul, { a: dym, b: wm }, { transposeA: false, transposeB: true }), 5)],
  ]);

  // MaxPool 2x2 stride 2 on [128, 24, 24, 32] (the seed CNN's pooling).
  const xp = rand([128, 24, 24, 32]) as tf.Tensor4D;
  const yp = tf.maxPool(xp, 2, 2, 'valid');
  const dyp = rand([128, 12, 12, 32]);
  const poolAttrs = { filterSize: 2, strides: 2, pad: 'valid' } as tf.NamedAttrMap;
  report('MaxPoolGrad  [128,24,24,32] 2x2/2', [
    ['registered (JS over the wasm heap)', time(op(() => kernel(tf.MaxPoolGrad, { dy: dyp, input: xp, output: yp }, poolAttrs)), 5)],
    ['wasm original (wrong for windows <= 0)', time(original(tf.MaxPoolGrad, { dy: dyp, input: xp, output: yp }, poolAttrs), 5)],
  ]);

  // Whole training steps of a small CNN with the seed shapes above: 28x28x1 -> conv 18 (26x26x18) ->
  // conv 32 (24x24x32) -> max pool -> dense 10.
  console.log('\nTraining throughput, conv18-conv32-maxpool-dense10 on 28x28x1, batch 128');
  console.log(`  wasm + registered kernels        ${(await samplesPerSecond(1024)).toFixed(0).padStart(7)} samples/s`);
  await tf.setBackend('cpu');
  console.log(`  cpu backend (one batch of 16)    ${(await samplesPerSecond(16)).toFixed(1).padStart(7)} samples/s`);
  await tf.setBackend('wasm');
}

/** Samples per second of model.fit over `count` random samples, after one warm-up batch. */
async function samplesPerSecond(count: number): Promise<number> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 18, kernelSize: 3, activation: 'relu' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const batch = Math.min(128, count);
  const x = tf.randomUniform([count, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([count], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
  await model.fit(tf.slice(x, 0, batch), tf.slice(y, 0, batch), { epochs: 1, batchSize: batch, verbose: 0 });
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: batch, verbose: 0 });
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return count / seconds;
}

await main();
