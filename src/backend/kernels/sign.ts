/**
 * Sign for the wasm backend, replacing the backend's own, which returns 0 for any |x| below about 1.2e-7
 * (it compares against an epsilon instead of zero): sign(-5e-8) must be -1, as on the cpu backend and in
 * TensorFlow. Quantizers take the sign of small latent weights all the time (binary, ternary, po2), so the
 * wrong kernel silently changes quantized values. Elementwise, so a plain loop over heap views suffices.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function sign(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const backend = wasmBackendOf(args.backend);
  const out = backend.makeOutput([...x.shape], x.dtype);
  // Views after the allocation: growing the wasm memory detaches older views.
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    ov[i] = v > 0 ? 1 : v < 0 ? -1 : v; // keeps 0, -0 and NaN as TF does
  }
  return out;
}

export function signConfig(original: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: tf.Sign,
    backendName: 'wasm',
    kernelFunc: sign as unknown as tf.KernelFunc,
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
