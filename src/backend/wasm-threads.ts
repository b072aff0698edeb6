/**
 * The multi-threaded build of tfjs's wasm backend in Node (opt-in: `QKERAS_WASM_THREADS=n`).
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` but never uses it in Node (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false there, tfjs issue #3830), and its loader would hand the
 * pthread workers a Blob URL, which Node's worker_threads cannot start. The Emscripten module itself
 * supports Node (worker_threads, a shared WebAssembly.Memory), so this module instantiates it directly:
 *   - the worker script (shipped as a JS string) is written once to a file in the OS temp directory;
 *   - `mainScriptUrlOrBlob` is the module's own file, which the workers load with importScripts;
 *   - the backend sizes XNNPACK's pthreadpool as min(requested, logical cores / 2) (it assumes
 *     hyper-threading), so the core count it reads through `os.cpus()` is doubled while it initialises.
 * Then a BackendWasm is built on it and registered under the name 'wasm', so every kernel registration
 * (the backend's own and this package's) applies unchanged.
 *
 * Threading parallelises XNNPACK's convolutions and matrix products across output tiles; each output is
 * still computed by one thread in the same order, so results are bit-identical (checked by
 * test/perf-guard/wasm-threads.test.ts and the QAT loss-curve guard under QKERAS_WASM_THREADS=2).
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The Emscripten module object, as far as this file uses it. */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number | void;
  tfjs?: Record<string, unknown>;
  PThread?: { runningWorkers: Array<{ unref(): void }>; unusedWorkers: Array<{ unref(): void }> };
}
type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/** Writes the pthread worker script to a temp file named by its content hash (once per version). */
function workerFile(wasmOut: string): string {
  const { wasmWorkerContents } = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The shipped string went through a template literal that turned `\n` escapes into newlines inside
  // string literals; tfjs's own loader re-escapes them the same way before using it.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `qkeras-ts-tfjs-wasm-worker-${hash}.cjs`);
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, source);
    renameSync(temp, file);
  }
  return file;
}

/** Instantiates the threaded module with a pool of `threads` XNNPACK threads. */
async function instantiate(threads: number): Promise<EmscriptenModule> {
  const wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const factory = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js')) as ModuleFactory;
  const worker = workerFile(wasmOut);
  const os = require('node:os') as { cpus: () => unknown[] };
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
  };
  try {
    const module = await factory({
      locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : join(wasmOut, path)),
      mainScriptUrlOrBlob: join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'),
    });
    // The bridge tfjs's own loader sets up (backend_wasm.ts `init`).
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    return module;
  } finally {
    os.cpus = cpus;
  }
}

/**
 * Re-registers the 'wasm' backend as the threaded build with `threads` threads. Call before the backend
 * is first initialised (before `tf.setBackend('wasm')`).
 */
export function registerThreadedWasm(threads: number): void {
  setThreadsCount(threads);
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await instantiate(threads);
      // The constructor creates XNNPACK's thread pool (its threads then wait for work).
      const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
      // Waiting pool threads must not keep Node alive once the program is done.
      for (const worker of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) worker.unref();
      return backend;
    },
    2,
  );
}

/** The number of threads the active wasm backend uses (1 for the single-threaded build). */
export function wasmThreadsInUse(): number {
  const backend = tf.engine().backendName === 'wasm' ? (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }) : null;
  return backend ? backend.wasm.tfjs.getThreadsCount() : 1;
}
