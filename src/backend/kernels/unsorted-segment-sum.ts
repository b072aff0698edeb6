/**
 * UnsortedSegmentSum for the wasm backend (it has none; it is the gradient of gather, so of Embedding and
 * of any gather in a quantizer or layer). out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s;
 * ids outside [0, numSegments) are dropped, as in TensorFlow. A scatter-add, so it runs in JavaScript over
 * views of the wasm heap (the backend's ScatterNd does not bounds-check). Sums are accumulated in double
 * precision in index order and rounded once, which is what the cpu backend's result amounts to.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function unsortedSegmentSum(args: KernelArgs): Info {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = wasmBackendOf(args.backend);
  const idRank = segmentIds.shape.length;
  const count = segmentIds.shape.reduce((p, v) => p * v, 1);
  const innerShape = x.shape.slice(idRank);
  const inner = innerShape.reduce((p, v) => p * v, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views after the allocation: growing the wasm memory detaches older views.
  const xv = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const outv = backend.typedArrayFromHeap(out);
  const acc = new Float64Array(numSegments * inner);
  for (let i = 0; i < count; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) acc[dst + k] = acc[dst + k]! + xv[src + k]!;
  }
  outv.set(acc);
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
