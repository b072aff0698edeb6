/**
 * Backend selection. Order of preference:
 *   1. `QKERAS_BACKEND=cpu|wasm|tensorflow` in the environment forces one (an unknown value is an error);
 *   2. tfjs-node ('tensorflow'), when `@tensorflow/tfjs-node` loads. It is an optional dependency: its
 *      install downloads libtensorflow, which fails offline, so its absence is normal and costs one
 *      failed `import()`;
 *   3. otherwise wasm, with the training kernels it lacks registered by ./wasm-kernels.ts.
 * On every backend it also registers the StridedSlice gradient that tfjs-core lacks.
 * The cpu backend is never chosen automatically: it trains convolutional models hundreds of times slower.
 * `ready()` is idempotent and every entry point awaits it; `backendInfo()` says what was chosen and why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ConfigError, QKerasError, assertNever } from '../errors.js';
import { registerStridedSliceGradient } from './kernels/strided-slice-grad.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend in use. */
  readonly name: BackendName;
  /** True when QKERAS_BACKEND chose it. */
  readonly forced: boolean;
  /** One sentence on why this backend, for logs and `--debug` output. */
  readonly reason: string;
  /** Kernels this package registered on the backend (only for wasm). */
  readonly registeredKernels: readonly string[];
}

const backendNames: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const nodePackage = '@tensorflow/tfjs-node';

let readyPromise: Promise<BackendName> | null = null;
let info: BackendInfo | null = null;

/** The forced backend from QKERAS_BACKEND, or null when unset/empty. */
function forcedBackend(): BackendName | null {
  const raw = process.env.QKERAS_BACKEND?.trim();
  if (!raw) return null;
  const wanted = raw.toLowerCase();
  if ((backendNames as readonly string[]).includes(wanted)) return wanted as BackendName;
  const allowed = `${backendNames.join(', ')} (or unset to choose automatically)`;
  throw new ConfigError('environment', 'QKERAS_BACKEND', raw, allowed);
}

/** Loads tfjs-node; resolves with the failure's first line instead of throwing. */
async function loadNode(): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    // A variable specifier keeps tsc and bundlers from resolving the optional package at build time.
    const specifier: string = nodePackage;
    await import(specifier);
    if (await tf.setBackend('tensorflow')) return { ok: true };
    return { ok: false, why: `${nodePackage} loaded but its backend did not initialise` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, why: message.split('\n')[0]!.slice(0, 200) };
  }
}

/**
 * `QKERAS_WASM_THREADS=n` (n >= 2) selects tfjs's multi-threaded wasm build with n XNNPACK threads
 * (./wasm-threads.ts); unset, empty or 1 keeps the single-threaded build.
 */
function requestedWasmThreads(): number {
  const raw = process.env.QKERAS_WASM_THREADS?.trim();
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) {
    throw new ConfigError('environment', 'QKERAS_WASM_THREADS', raw, 'an integer from 1 to 8 (or unset for 1)');
  }
  return n;
}

async function useWasm(forced: boolean, reason: string): Promise<BackendInfo> {
  const { registerWasmTrainingKernels, wasmTrainingKernelNames } = await import('./wasm-kernels.js');
  registerWasmTrainingKernels();
  const threads = requestedWasmThreads();
  if (threads > 1) {
    const { registerThreadedWasm } = await import('./wasm-threads.js');
    registerThreadedWasm(threads);
  }
  if (!(await tf.setBackend('wasm'))) throw new QKerasError('the tfjs wasm backend failed to initialise');
  const why = threads > 1 ? `${reason}; multi-threaded build with ${threads} threads (QKERAS_WASM_THREADS)` : reason;
  return { name: 'wasm', forced, reason: why, registeredKernels: wasmTrainingKernelNames };
}

async function select(): Promise<BackendInfo> {
  const forced = forcedBackend();
  registerStridedSliceGradient();
  switch (forced) {
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new QKerasError('the tfjs cpu backend failed to initialise');
      return { name: 'cpu', forced: true, reason: 'QKERAS_BACKEND=cpu', registeredKernels: [] };
    case 'wasm':
      return useWasm(true, 'QKERAS_BACKEND=wasm');
    case 'tensorflow': {
      const node = await loadNode();
      if (!node.ok) {
        throw new QKerasError(
          `QKERAS_BACKEND=tensorflow but ${nodePackage} cannot be used (${node.why}); ` +
            `install it with \`npm install ${nodePackage}\` (needs network access to download libtensorflow) ` +
            'or unset QKERAS_BACKEND to use the wasm backend',
        );
      }
      return { name: 'tensorflow', forced: true, reason: 'QKERAS_BACKEND=tensorflow', registeredKernels: [] };
    }
    case null: {
      const node = await loadNode();
      if (node.ok) return { name: 'tensorflow', forced: false, reason: `${nodePackage} loaded`, registeredKernels: [] };
      const why = `${nodePackage} is not available (${node.why}); using wasm with qkeras-ts training kernels`;
      return useWasm(false, why);
    }
    default:
      return assertNever(forced, 'backend');
  }
}

/**
 * Resolves with the backend name once a backend is set up. Set QKERAS_BACKEND=cpu|wasm|tensorflow to force
 * one; rejects with a QKerasError when the forced backend cannot be used or the value is unknown.
 */
/**
 * The cpu backend prints "install tfjs-node" on first use in Node. Here tfjs-node cannot be installed
 * offline and the cpu backend is only used on purpose (QKERAS_BACKEND=cpu, reference comparisons), so the
 * advice is noise: mark the backend as already used.
 */
function silenceCpuNodeAdvice(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

export function ready(): Promise<BackendName> {
  readyPromise ??= select().then(async (chosen) => {
    await tf.ready();
    silenceCpuNodeAdvice();
    info = chosen;
    return chosen.name;
  });
  return readyPromise;
}

/** Which backend `ready()` set up and why; null until `ready()` has resolved. */
export function backendInfo(): BackendInfo | null {
  return info;
}
