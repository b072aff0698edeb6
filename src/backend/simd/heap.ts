/**
 * Runs SIMD kernels (./simd-kernel.ts) on tensors of the tfjs wasm backend: finds the backend's memory
 * and each tensor's byte offset in it, instantiates a kernel module once per memory, and falls back to the
 * scalar JavaScript reference where WebAssembly SIMD is missing (or when disabled for a test).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs';
import { instantiateKernels, instantiateModule, WebAssemblyApi, type SimdBuilder, type SimdFunction, type WasmMemory } from './simd-kernel.js';

// A module using one SIMD instruction (i32.const 0; i8x16.splat; drop): valid only with WebAssembly SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
]);

let simdAllowed = true;
let simdSupported: boolean | null = null;

/** True when SIMD kernels run (WebAssembly SIMD available and not disabled). */
export function simdEnabled(): boolean {
  if (simdSupported === null) {
    try {
      simdSupported = WebAssemblyApi.validate(SIMD_PROBE);
    } catch {
      simdSupported = false;
    }
  }
  return simdAllowed && simdSupported;
}

/** Runs `fn` with SIMD kernels disabled or enabled (tests compare them with the scalar reference). */
export function withSimd<T>(on: boolean, fn: () => T): T {
  const previous = simdAllowed;
  simdAllowed = on;
  try {
    return fn();
  } finally {
    simdAllowed = previous;
  }
}

/** The backend's WebAssembly.Memory (emscripten exports it as `memory`). */
export function memoryOf(backend: BackendWasm): WasmMemory {
  const wasm = backend.wasm as unknown as { asm?: { memory?: WasmMemory }; wasmMemory?: WasmMemory };
  const memory = wasm.asm?.memory ?? wasm.wasmMemory;
  if (!(memory instanceof WebAssemblyApi.Memory)) throw new Error('tfjs wasm backend: its WebAssembly.Memory is not reachable');
  return memory;
}

/**
 * True when `extraBytes` past the end of a tensor's data are still inside the heap, so a SIMD column
 * kernel may read that far past it (its last channel group reads up to 12 bytes beyond the last row).
 */
export function heapHasRoomAfter(backend: BackendWasm, info: TensorInfo, extraBytes: number): boolean {
  const bytes = info.shape.reduce((p, d) => p * d, 1) * 4;
  return heapOffset(backend, info) + bytes + extraBytes <= memoryOf(backend).buffer.byteLength;
}

/** Byte offset of a tensor's data in the backend's heap. */
export function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/**
 * A lazily compiled set of kernels: `get(backend)` returns the exported functions for that backend's
 * memory (compiled on first use per memory), or null when SIMD is off.
 */
export class SimdKernelSet {
  private readonly byMemory = new WeakMap<WasmMemory, Record<string, SimdFunction>>();
  private readonly instantiate: (memory: WasmMemory) => Record<string, SimdFunction>;

  /** `source`: the SimdBuilder kernels, or a hand assembler returning the module's bytes for a memory. */
  constructor(source: (() => SimdBuilder[]) | { readonly assemble: (memory: WasmMemory) => Uint8Array }) {
    this.instantiate =
      typeof source === 'function'
        ? (memory) => instantiateKernels(source(), memory)
        : (memory) => instantiateModule(source.assemble(memory), memory);
  }

  get(backend: BackendWasm): Record<string, SimdFunction> | null {
    if (!simdEnabled()) return null;
    const memory = memoryOf(backend);
    let kernels = this.byMemory.get(memory);
    if (!kernels) {
      kernels = this.instantiate(memory);
      this.byMemory.set(memory, kernels);
    }
    return kernels;
  }
}
