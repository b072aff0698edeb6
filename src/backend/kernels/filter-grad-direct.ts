/**
 * Conv2DBackpropFilter computed directly from x and dy by a hand-assembled WebAssembly SIMD kernel, with
 * the same float32 bits as the window-rows GEMM (./window-rows.ts) and the forward-conv formulation.
 *
 *   dW[a, b, ci, co] = sum over (i, j, n), in that order, of xPadded[n, i*sH + a*dH, j*sW + b*dW, ci] * dy[n, i, j, co]
 *
 * Why: the GEMM route materialises the window-rows matrix (kH*kW*Ci x Ho*Wo*N floats, 47 MB for the lab
 * book's second convolution at batch 128) and XNNPACK then streams its packed right-hand side (all of dy)
 * once per 4 output rows, so the kernel is memory-bound. Here the reduction is cut into blocks of one
 * output pixel (i, j) and all N samples; for each block the kernel keeps a row's (up to 32) output
 * channels (16 at a time) in SIMD registers while it walks the N samples, reading x and dy where they lie (dy's block is
 * N x Co floats, a few KB that stay in L1 across the kH*kW*Ci rows), and stores the running sums between
 * blocks. Blocks run in (i, j) order, so every output still starts at +0 and adds its terms one at a time in
 * the GEMM's order, each product rounded before the add (WebAssembly has no fused multiply-add): the same
 * bits. Window taps in the padding read a zero buffer, so their 0 * dy terms are added as in the GEMM
 * (which keeps NaN and infinities in dy visible exactly as it does). test/backend/gemm-routes.test.ts
 * compares the routes bit for bit.
 */
import { Worker } from 'node:worker_threads';
import { heapHasRoomAfter, heapOffset, memoryOf, SimdKernelSet } from '../simd/heap.js';
import { assembleFunctions, OP, simd, sleb, uleb, VALTYPE, type WasmFunction, type WasmMemory } from '../simd/simd-kernel.js';
import type { ConvGeometry } from './conv-geometry.js';
import type { Info, WasmScope } from './wasm-ops.js';

/** The most output-channel vectors (4 lanes each) a kernel call can keep in registers. */
const MAX_VECTORS = 8;

/**
 * The vectors per call unless told otherwise: 4 (16 channels) ran 1.2 to 1.4x faster than 8 on the lab
 * book's [3,3,18,32] (round-robin timings on a loaded machine; 5 was close), where 8 accumulators and their
 * operands seem to crowd the 16 vector registers V8 allocates from.
 */
export const DEFAULT_VECTORS = 4;

/**
 * `fgrad_v{V}(acc, accStride, x, xRowStride, xStep, dy, dyStep, rows, n)` (byte addresses and strides):
 * for each of `rows` rows r, acc[r][0..4V) += sum over t < n, in order, of x[r*xRowStride + t*xStep] *
 * dy[t*dyStep][0..4V).
 */
function fgradFunction(vectors: number): WasmFunction {
  const [acc, accStride, x, xRowStride, xStep, dy, dyStep, rows, n] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, t, xp, dp, ap, s] = [9, 10, 11, 12, 13, 14];
  const a = (v: number): number => 15 + v;
  const get = (l: number) => [0x20, ...uleb(l)];
  const set = (l: number) => [0x21, ...uleb(l)];
  const v128load = (offset: number) => [...simd(OP.load), 4, ...uleb(offset)];
  const v128store = (offset: number) => [...simd(OP.store), 4, ...uleb(offset)];
  const I32_ADD = 0x6a;
  const I32_MUL = 0x6c;
  const code: number[] = [];
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop over rows
  code.push(...get(r), ...get(rows), 0x4f, 0x0d, 1); // r >= rows: break
  code.push(...get(acc), ...get(r), ...get(accStride), I32_MUL, I32_ADD, ...set(ap));
  for (let v = 0; v < vectors; v++) code.push(...get(ap), ...v128load(16 * v), ...set(a(v)));
  code.push(...get(x), ...get(r), ...get(xRowStride), I32_MUL, I32_ADD, ...set(xp));
  code.push(...get(dy), ...set(dp), ...get(n), ...set(t));
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop over the block's samples
  code.push(...get(t), 0x45, 0x0d, 1); // t == 0: break
  code.push(...get(xp), 0x2a, 2, 0, ...simd(OP.splat), ...set(s)); // s = splat(f32.load(xp))
  for (let v = 0; v < vectors; v++) {
    // a_v = a_v + s * dy[dp + 16v]: XNNPACK's operand order, product rounded before the add.
    code.push(...get(a(v)), ...get(s), ...get(dp), ...v128load(16 * v), ...simd(OP.mul), ...simd(OP.add), ...set(a(v)));
  }
  code.push(...get(xp), ...get(xStep), I32_ADD, ...set(xp));
  code.push(...get(dp), ...get(dyStep), I32_ADD, ...set(dp));
  code.push(...get(t), 0x41, ...sleb(1), 0x6b, ...set(t));
  code.push(0x0c, 0, 0x0b, 0x0b); // br loop; end loop; end block
  for (let v = 0; v < vectors; v++) code.push(...get(ap), ...get(a(v)), ...v128store(16 * v));
  code.push(...get(r), 0x41, ...sleb(1), I32_ADD, ...set(r));
  code.push(0x0c, 0, 0x0b, 0x0b, 0x0b); // br loop; end loop; end block; end function
  const locals = [
    [...uleb(5), VALTYPE.i32],
    [...uleb(1 + vectors), VALTYPE.v128],
  ];
  const body = [...uleb(locals.length), ...locals.flat(), ...code];
  const params = Array<number>(9).fill(VALTYPE.i32);
  return { name: `fgrad_v${vectors}`, type: [0x60, ...uleb(params.length), ...params, 0x00], code: [...uleb(body.length), ...body] };
}

const moduleBytes = (memory: WasmMemory): Uint8Array => assembleFunctions(Array.from({ length: MAX_VECTORS }, (_, i) => fgradFunction(i + 1)), memory);
const kernels = new SimdKernelSet({ assemble: moduleBytes });

/** Output channels rounded up to whole vectors (the kernel's lanes past Co are computed and dropped). */
function paddedChannels(g: ConvGeometry): number {
  return Math.ceil(g.outC / 4) * 4;
}

/** True when the direct route can run: WebAssembly SIMD kernels are available. */
export function filterGradDirectApplies(scope: WasmScope): boolean {
  return kernels.get(scope.backend) !== null;
}

/**
 * dW [kH, kW, Ci, Co] for NHWC `x` and `dy`; check `filterGradDirectApplies` first. Null in the rare case
 * that the heap ends less than 3 floats after dy's copy, which the last vector's read may overrun.
 */
export function filterGradDirect(scope: WasmScope, x: Info, dy: Info, g: ConvGeometry, vectors = DEFAULT_VECTORS): Info | null {
  if (!Number.isInteger(vectors) || vectors < 1 || vectors > MAX_VECTORS) throw new Error(`filter gradient: ${vectors} vectors per call; 1 to ${MAX_VECTORS} are compiled`);
  const fns = kernels.get(scope.backend)!;
  const coPad = paddedChannels(g);
  const rowsTotal = g.kH * g.kW * g.inC;
  // Samples next to each other: a block (one pixel, all samples) of x is N x Ci contiguous floats and of dy
  // N x Co, so a block's working set is contiguous and small. (Read in place, dy's samples lie
  // Ho*Wo*Co*4 bytes apart, often a multiple of 4 KiB, and every one of them falls in the same cache set.)
  const xT = scope.transpose(x, [1, 2, 0, 3]);
  const dyT = scope.transpose(dy, [1, 2, 0, 3]);
  if (!heapHasRoomAfter(scope.backend, dyT, (coPad - g.outC) * 4)) return null;
  const acc = scope.zeros([rowsTotal, coPad]);
  const zeros = scope.zeros([Math.max(1, g.batch)]);
  // Byte offsets are stable across heap growth (only views detach).
  const accBase = heapOffset(scope.backend, acc);
  const xBase = heapOffset(scope.backend, xT);
  const dyBase = heapOffset(scope.backend, dyT);
  const zeroBase = heapOffset(scope.backend, zeros);
  const job = [
    g.outH, g.outW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW, g.padTop, g.padLeft, g.inH, g.inW, g.inC, g.batch, g.outC,
    coPad, vectors, accBase, xBase, dyBase, zeroBase,
  ];
  const taps = g.kH * g.kW;
  const helper = rowsTotal * g.outH * g.outW * g.batch >= HELPER_MIN_WORK ? helperThread(scope) : null;
  if (helper === null) {
    runFilterGradBlocks(fns, [...job, 0, g.inC, 0, taps]);
  } else {
    // Half the outputs on the helper thread, half here: rows of dW (input channels), or taps when there is
    // one channel. Each output is still summed by one thread in block order: the same bits.
    const [mine, theirs] = g.inC > 1
      ? [[0, g.inC >> 1, 0, taps], [g.inC >> 1, g.inC, 0, taps]]
      : [[0, 1, 0, taps >> 1], [0, 1, taps >> 1, taps]];
    helper.run([...job, ...theirs], () => runFilterGradBlocks(fns, [...job, ...mine]));
    helperRuns += 1;
  }
  if (coPad === g.outC) return scope.reshape(acc, [g.kH, g.kW, g.inC, g.outC]);
  const cropped = scope.crop4d(scope.reshape(acc, [1, 1, rowsTotal, coPad]), [0, 0, 0, 0], [1, 1, rowsTotal, g.outC]);
  return scope.reshape(cropped, [g.kH, g.kW, g.inC, g.outC]);
}

/**
 * The kernel calls for rows [r0, r1) of each tap's input channels and taps [t0, t1), over every block (output
 * pixel) in order. Self-contained (no outer references, numbers only), because the helper thread runs its
 * source text: `job` is [outH, outW, kH, kW, sH, sW, dH, dW, padTop, padLeft, inH, inW, inC, batch, outC,
 * coPad, vectors, accBase, xBase, dyBase, zeroBase, r0, r1, t0, t1] (byte addresses; x and dy transposed to
 * [H, W, N, C]).
 */
export function runFilterGradBlocks(fns: Record<string, (...args: number[]) => void>, job: ArrayLike<number>): void {
  const [outH, outW, , kW, sH, sW, dH, dW, padTop, padLeft, inH, inW, inC, batch, outC, coPad, vectors, accBase, xBase, dyBase, zeroBase, r0, r1, t0, t1] =
    Array.from(job) as number[];
  const accStride = coPad! * 4;
  const cols: number[] = [];
  const calls: Array<(...args: number[]) => void> = [];
  for (let col = 0; col < coPad!; col += 4 * vectors!) {
    cols.push(col);
    calls.push(fns[`fgrad_v${Math.min(vectors!, (coPad! - col) / 4)}`]!);
  }
  const rows = r1! - r0!;
  for (let i = 0; i < outH!; i++) {
    for (let j = 0; j < outW!; j++) {
      const dyBlock = dyBase! + (i * outW! + j) * batch! * outC! * 4;
      for (let t = t0!; t < t1!; t++) {
        const a = Math.floor(t / kW!);
        const b = t - a * kW!;
        const y = i * sH! + a * dH! - padTop!;
        const xc = j * sW! + b * dW! - padLeft!;
        const inside = y >= 0 && y < inH! && xc >= 0 && xc < inW!;
        // A padding tap reads N zeros for every channel (row stride 0, step one float).
        const xPtr = inside ? xBase! + ((y * inW! + xc) * batch! * inC! + r0!) * 4 : zeroBase!;
        const xRowStride = inside ? 4 : 0;
        const xStep = inside ? inC! * 4 : 4;
        const accRow = accBase! + (t * inC! + r0!) * accStride;
        for (let k = 0; k < cols.length; k++) calls[k]!(accRow + cols[k]! * 4, accStride, xPtr, xRowStride, xStep, dyBlock + cols[k]! * 4, outC! * 4, rows, batch!);
      }
    }
  }
}

/** Problems below this many multiply-add rows (kH*kW*Ci x Ho*Wo*N) run on one thread. */
const HELPER_MIN_WORK = 50_000;

/**
 * A second thread for the filter gradient when the backend is tfjs's multi-threaded build
 * (QKERAS_WASM_THREADS): XNNPACK's pool parallelises its own kernels, not this one, so without a helper this
 * kernel would run on one core while the other waits. The helper is a worker thread with its own instance
 * of the kernel module on the backend's shared memory; it runs `runFilterGradBlocks` for its half of the
 * outputs when told through a shared control word, and the caller waits (Atomics) for it.
 */
class FilterGradHelper {
  private readonly control: Int32Array;
  private readonly job: Float64Array;
  private seq = 0;
  private broken: string | null = null;

  constructor(memory: WasmMemory, bytes: Uint8Array) {
    // [0] request number (-1: exit), [1] last request done, [2] 1 once ready, [3] 1 if a request failed.
    const control = new SharedArrayBuffer(16);
    const job = new SharedArrayBuffer(8 * 32);
    this.control = new Int32Array(control);
    this.job = new Float64Array(job);
    const source = `
      const { workerData } = require('node:worker_threads');
      const { bytes, memory, control, job } = workerData;
      const c = new Int32Array(control);
      const j = new Float64Array(job);
      const run = ${runFilterGradBlocks.toString()};
      const fns = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
      Atomics.store(c, 2, 1);
      let seen = 0;
      for (;;) {
        Atomics.wait(c, 0, seen);
        seen = Atomics.load(c, 0);
        if (seen < 0) break;
        try { run(fns, j); } catch (e) { Atomics.store(c, 3, 1); }
        Atomics.store(c, 1, seen);
        Atomics.notify(c, 1);
      }`;
    const worker = new Worker(source, { eval: true, workerData: { bytes, memory, control, job } });
    // An idle helper must not keep the process alive.
    worker.unref();
    worker.on('error', (e) => (this.broken = e.message));
    worker.on('exit', () => (this.broken ??= 'exited'));
  }

  /** True once the helper has instantiated its kernels and has not failed. */
  get ready(): boolean {
    return this.broken === null && Atomics.load(this.control, 2) === 1;
  }

  /** Runs `theirs` on the helper while `mine()` runs here, and returns when both are done. */
  run(theirs: readonly number[], mine: () => void): void {
    this.job.set(theirs);
    const seq = ++this.seq;
    Atomics.store(this.control, 0, seq);
    Atomics.notify(this.control, 0);
    mine();
    let done: number;
    while ((done = Atomics.load(this.control, 1)) !== seq) {
      if (Atomics.wait(this.control, 1, done, 60_000) === 'timed-out' || this.broken !== null) {
        throw new Error(`filter gradient helper thread: no answer (${this.broken ?? 'timed out after 60 s'})`);
      }
    }
    if (Atomics.load(this.control, 3) !== 0) throw new Error('filter gradient helper thread: its kernel calls failed');
  }
}

const helpers = new WeakMap<WasmMemory, FilterGradHelper>();
let helperRuns = 0;

/** How many filter gradients a helper thread has shared so far in this process (tests check it ran). */
export function filterGradHelperRuns(): number {
  return helperRuns;
}

/** The helper for the backend's memory when that memory is shared (threaded build) and the helper is ready. */
function helperThread(scope: WasmScope): FilterGradHelper | null {
  const memory = memoryOf(scope.backend);
  if (!(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer)) return null;
  let helper = helpers.get(memory);
  if (helper === undefined) {
    helper = new FilterGradHelper(memory, moduleBytes(memory));
    helpers.set(memory, helper);
  }
  // Until it is ready (its first milliseconds) this thread does all the work.
  return helper.ready ? helper : null;
}
