/**
 * Backend selection. tfjs-node is used when it loads (it cannot be installed offline, so it is an optional
 * dependency); otherwise the wasm backend, with the kernels it lacks for training registered by this
 * package. `ready()` is idempotent and every entry point awaits it.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

let readyPromise: Promise<string> | null = null;

async function tryNode(): Promise<boolean> {
  if (process.env.QKERAS_BACKEND && process.env.QKERAS_BACKEND !== 'tensorflow') return false;
  try {
    // A variable specifier keeps bundlers and tsc from resolving the optional package at build time.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function select(): Promise<string> {
  const wanted = process.env.QKERAS_BACKEND;
  if (wanted === 'cpu') {
    await tf.setBackend('cpu');
  } else if (!(await tryNode())) {
    const { registerWasmTrainingKernels } = await import('./wasm-kernels.js');
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialise');
  }
  await tf.ready();
  return tf.getBackend();
}

/** Resolves with the backend name once a backend is set up. Set QKERAS_BACKEND=cpu|wasm to force one. */
export function ready(): Promise<string> {
  readyPromise ??= select();
  return readyPromise;
}
