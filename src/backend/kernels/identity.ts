/**
 * Identity for the wasm backend without a copy. The backend's own kernel copies the whole buffer, and the
 * engine runs Identity for every `clone()` — in particular for every tensor an op saves for its gradient
 * (each convolution's input, filter and output) and every straight-through `stop_gradient` — so a training
 * step copied tens of megabytes for nothing. Like the cpu backend's Identity, this one shares the input's
 * data and bumps its reference count: values are the same bits by construction, and no kernel writes into
 * its inputs (variables are reassigned by rebinding their data, never in place). String tensors keep the
 * backend's own path.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmBackendOf, type Info, type KernelArgs } from './wasm-ops.js';

function identity(args: KernelArgs, original: tf.KernelConfig): Info {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as Info;
  wasmBackendOf(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function identityConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => identity(args, original)) as unknown as tf.KernelFunc,
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
  };
}
