/**
 * Building blocks for the kernels this package adds to the wasm backend: the backend's own kernels called
 * directly on `TensorInfo`s (no engine, no tape), with every intermediate they create tracked and released.
 *
 * Kernel functions run inside the engine's kernel call, so they must not use `tf.*` ops (which would record
 * on the gradient tape and allocate engine tensors). They call the backend's kernel functions instead, as
 * the backend's own composite kernels do.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Info = tf.TensorInfo;

/** What the engine passes a kernel function. */
export interface KernelArgs {
  readonly inputs: tf.NamedTensorInfoMap;
  readonly backend: unknown;
  readonly attrs?: tf.NamedAttrMap;
}
export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/**
 * The wasm backend's own kernel functions, captured before this package re-registers any of them, so the
 * replacements can still call the originals (BatchMatMul's fast path, for one).
 */
const originals = new Map<string, tf.KernelConfig>();

/** Remembers the backend's own config for `name` (first call wins; later calls are no-ops). */
export function captureOriginal(name: string): tf.KernelConfig | undefined {
  const known = originals.get(name);
  if (known) return known;
  const config = tf.getKernel(name, 'wasm');
  if (config) originals.set(name, config);
  return config;
}

/** The backend's own kernel config for `name`, as it was before this package registered anything. */
export function originalKernel(name: string): tf.KernelConfig | undefined {
  return originals.get(name) ?? tf.getKernel(name, 'wasm');
}

/**
 * One kernel invocation's worth of intermediates. Every method returns a new `TensorInfo` that holds one
 * reference on its data; `finish(result)` releases all of them except `result`.
 */
export class WasmScope {
  private readonly created: Info[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Runs `body` and releases its intermediates whether it returns or throws. */
  static run(backend: BackendWasm, body: (scope: WasmScope) => Info): Info {
    const scope = new WasmScope(backend);
    let result: Info | undefined;
    try {
      result = body(scope);
      return result;
    } finally {
      scope.release(result);
    }
  }

  /** Releases every intermediate (for kernels with several outputs, allocated outside the scope). */
  releaseAll(): void {
    this.release(undefined);
  }

  private release(keep: Info | undefined): void {
    for (const info of this.created) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    this.created.length = 0;
  }

  private track(info: Info): Info {
    this.created.push(info);
    return info;
  }

  /** Calls the backend's own kernel `name` (the original, if this package replaced it). */
  call(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const config = originalKernel(name);
    if (!config) throw new Error(`the wasm backend has no '${name}' kernel`);
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several outputs`);
    return this.track(out);
  }

  reshape(x: Info, shape: number[]): Info {
    return this.call(tf.Reshape, { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.call(tf.Transpose, { x }, { perm });
  }

  reverse(x: Info, dims: number[]): Info {
    return this.call(tf.Reverse, { x }, { dims });
  }

  pad(x: Info, paddings: Array<[number, number]>): Info {
    return this.call(tf.PadV2, { x }, { paddings, constantValue: 0 });
  }

  sum(x: Info, axis: number[]): Info {
    return this.call(tf.Sum, { x }, { axis, keepDims: false });
  }

  /** Plain (non-transposed) batched matmul through the backend's own kernel. */
  matMul(a: Info, b: Info): Info {
    return this.call(tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
  }

  conv2d(x: Info, filter: Info, strides: [number, number], dilations: [number, number], pad: ExplicitPad): Info {
    return this.call(tf.Conv2D, { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  }

  depthwiseConv2d(
    x: Info,
    filter: Info,
    strides: [number, number],
    dilations: [number, number],
    pad: ExplicitPad,
  ): Info {
    return this.call(tf.DepthwiseConv2dNative, { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  }

  /**
   * Copies the box `begin`..`begin+size` of a rank-4 tensor. Done here rather than with the backend's
   * Slice kernel, which first copies the whole input out of the wasm heap.
   */
  crop4d(x: Info, begin: readonly number[], size: readonly number[]): Info {
    const out = this.track(this.backend.makeOutput([...size], x.dtype));
    // Views are taken after the allocation above, which may grow (and detach) the wasm memory.
    const src = this.backend.typedArrayFromHeap(x);
    const dst = this.backend.typedArrayFromHeap(out);
    const [, h, w, c] = x.shape as [number, number, number, number];
    const [b0, b1, b2, b3] = begin as [number, number, number, number];
    const [s0, s1, s2, s3] = size as [number, number, number, number];
    // The innermost contiguous run: whole rows when all channels are kept, else single pixels' channels.
    const rowRun = s3 === c;
    let o = 0;
    for (let n = 0; n < s0; n++) {
      for (let r = 0; r < s1; r++) {
        const rowStart = (((n + b0) * h + (r + b1)) * w + b2) * c + b3;
        if (rowRun) {
          dst.set(src.subarray(rowStart, rowStart + s2 * c), o);
          o += s2 * c;
        } else {
          for (let q = 0; q < s2; q++) {
            const start = rowStart + q * c;
            dst.set(src.subarray(start, start + s3), o);
            o += s3;
          }
        }
      }
    }
    return out;
  }

  /** A new float32 tensor whose contents the caller fills. */
  empty(shape: readonly number[]): Info {
    return this.track(this.backend.makeOutput([...shape], 'float32'));
  }

  /** A new float32 tensor holding `values`. */
  fromValues(shape: readonly number[], values: ArrayLike<number>): Info {
    const out = this.empty(shape);
    this.backend.typedArrayFromHeap(out).set(values);
    return out;
  }

  /** A float32 view of a tensor's data; take it after the last allocation (growth detaches views). */
  view(x: Info): Float32Array {
    return this.backend.typedArrayFromHeap(x) as Float32Array;
  }

  /** A new float32 tensor of zeros. */
  zeros(shape: readonly number[]): Info {
    const out = this.track(this.backend.makeOutput([...shape], 'float32'));
    this.backend.typedArrayFromHeap(out).fill(0);
    return out;
  }

  /**
   * Spatial padding of an NHWC tensor that may be negative on any side: negative sides are cropped here,
   * the non-negative remainder is returned for the convolution to apply without materialising it. Null
   * when the crop leaves nothing, i.e. no element of `x` takes part and the result is all zeros.
   */
  padOrCrop(
    x: Info,
    top: number,
    bottom: number,
    left: number,
    right: number,
  ): { input: Info; pad: ExplicitPad } | null {
    let input = x;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const [n, h, w, c] = x.shape as [number, number, number, number];
      const t = Math.max(0, -top);
      const l = Math.max(0, -left);
      const rows = h - t - Math.max(0, -bottom);
      const cols = w - l - Math.max(0, -right);
      if (rows <= 0 || cols <= 0) return null;
      input = this.crop4d(x, [0, t, l, 0], [n, rows, cols, c]);
    }
    return {
      input,
      pad: [
        [0, 0],
        [Math.max(0, top), Math.max(0, bottom)],
        [Math.max(0, left), Math.max(0, right)],
        [0, 0],
      ],
    };
  }

  /**
   * Inserts `sh - 1` zero rows after every row and `sw - 1` zero columns after every column of an NHWC
   * tensor (the input of a transposed convolution), giving [n, h*sh, w*sw, c].
   */
  zeroInsert(x: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const spread = this.pad(this.reshape(x, [n * h, 1, w, 1, c]), [
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return this.reshape(spread, [n, h * sh, w * sw, c]);
  }
}

/** The kernel function's backend argument, typed. */
export function wasmBackendOf(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}
