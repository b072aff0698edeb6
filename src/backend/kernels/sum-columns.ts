/**
 * Sum over all leading axes of a float32 tensor (per last-axis channel: bias gradients, batch statistics)
 * for the wasm backend, bit-identical to the backend's own Sum and without its transpose. The backend
 * transposes the input so the reduced axes are innermost, then adds each channel's values one by one in
 * row order into a float32 accumulator; a SIMD column walk (../simd/simd-kernel.ts) keeps one channel per
 * lane and adds the rows in the same order, so every partial sum is the same float32 value. Other axis
 * sets, other dtypes, and inputs too close to the end of the heap for the 4-lane reads go to the
 * backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapHasRoomAfter, heapOffset, SimdKernelSet } from '../simd/heap.js';
import { add, SimdColumnBuilder } from '../simd/simd-kernel.js';
import { WasmScope, wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function columnSum(): SimdColumnBuilder {
  const k = new SimdColumnBuilder('column_sum', ['x', 'out'], []);
  const acc = k.accumulator(0);
  k.accumulate(acc, add(acc, k.load('x')));
  k.storeAccumulator('out', acc);
  return k;
}

const simdKernels = new SimdKernelSet(() => [columnSum()]);

/** True when `axis` (any order, negative allowed) is exactly every axis but the last. */
export function reducesLeadingAxes(axis: number | number[], rank: number): boolean {
  if (rank < 2) return false;
  const axes = tf.util.parseAxisParam(axis, Array(rank).fill(1) as number[]);
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  return sorted.length === rank - 1 && sorted.every((a, i) => a === i);
}

function sum(args: KernelArgs, original: tf.KernelConfig): Info {
  const { x } = args.inputs as { x: Info };
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const backend = wasmBackendOf(args.backend);
  const simd = simdKernels.get(backend);
  if (x.dtype !== 'float32' || !simd || !reducesLeadingAxes(axis, x.shape.length) || !heapHasRoomAfter(backend, x, 16)) {
    return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as Info;
  }
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((p, d) => p * d, 1) / channels;
  const outShape = keepDims ? x.shape.map((d, i) => (i === x.shape.length - 1 ? d : 1)) : [channels];
  const out = backend.makeOutput(outShape, 'float32');
  const scope = new WasmScope(backend);
  try {
    const padded = scope.empty([Math.ceil(channels / 4) * 4]);
    simd.column_sum!(heapOffset(backend, x), heapOffset(backend, padded), rows, channels);
    (backend.typedArrayFromHeap(out) as Float32Array).set(scope.view(padded).subarray(0, channels));
  } finally {
    scope.releaseAll();
  }
  return out;
}

export function sumColumnsConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Sum,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => sum(args, original)) as unknown as tf.KernelFunc,
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
