/**
 * A very small WebAssembly SIMD code generator for elementwise float32 kernels that run directly on the
 * tfjs wasm backend's heap (its exported WebAssembly.Memory is imported, so no copies).
 *
 * Why: the fused quantizer kernels replace chains of 10–40 elementwise tfjs ops with one pass. A JavaScript
 * loop is exact (Math.fround per step) but branchy per-element code runs at tens of ns per element, slower
 * than the chain of SIMD kernels it replaces. The same arithmetic as 128-bit SIMD lanes is exact too —
 * WebAssembly float ops are IEEE single precision per lane, never fused, `f32x4.nearest` rounds half to
 * even keeping the sign of zero — and runs at about a nanosecond per element.
 *
 * A kernel is written as expression trees over 4-lane float32 vectors (`SimdBuilder`): loads from pointer
 * parameters, scalar parameters splatted to all lanes, constants, arithmetic, comparisons (all-ones masks)
 * and bit selects; `let` binds a value to a local, `store` writes a result. Each kernel becomes one
 * exported function `(pointers..., count, scalars...)` looping over `count` elements (a multiple of 4,
 * byte addresses); callers handle the 0–3 trailing elements with the scalar JavaScript reference.
 * `SimdColumnBuilder` generates per-channel reductions instead (one channel per lane, rows in order).
 * test/perf-guard/simd-kernel.test.ts checks every operation against its scalar definition.
 */

/** The parts of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const VALTYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;

// Binary-format encoders, shared with hand-assembled kernels (../kernels/filter-grad-direct.ts).
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** SIMD opcodes used here (WebAssembly SIMD proposal, final numbering). */
export const OP = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  splat: 0x13,
  eq: 0x41,
  ne: 0x42,
  lt: 0x43,
  gt: 0x44,
  le: 0x45,
  ge: 0x46,
  not: 0x4d,
  and: 0x4e,
  andnot: 0x4f,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  ceil: 0x67,
  floor: 0x68,
  trunc: 0x69,
  nearest: 0x6a,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
  pmin: 0xea,
  pmax: 0xeb,
} as const;

export type UnaryOp = 'neg' | 'abs' | 'sqrt' | 'ceil' | 'floor' | 'trunc' | 'nearest' | 'not';
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max' | 'pmin' | 'pmax'
  | 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge'
  | 'and' | 'andnot' | 'or' | 'xor';

/** A 4-lane float32 (or mask) value in a kernel body. */
export type V =
  | { readonly k: 'load'; readonly ptr: number }
  | { readonly k: 'scalar'; readonly index: number }
  | { readonly k: 'const'; readonly value: number }
  | { readonly k: 'bits'; readonly value: number }
  | { readonly k: 'local'; readonly index: number }
  | { readonly k: 'columnLoad'; readonly ptr: number }
  | { readonly k: 'un'; readonly op: UnaryOp; readonly a: V }
  | { readonly k: 'bin'; readonly op: BinaryOp; readonly a: V; readonly b: V }
  | { readonly k: 'select'; readonly mask: V; readonly a: V; readonly b: V };

export const un = (op: UnaryOp, a: V): V => ({ k: 'un', op, a });
export const bin = (op: BinaryOp, a: V, b: V): V => ({ k: 'bin', op, a, b });
/** `mask ? a : b` per lane (bitselect). */
export const select = (mask: V, a: V, b: V): V => ({ k: 'select', mask, a, b });
/** A float32 constant in every lane. */
export const constant = (value: number): V => ({ k: 'const', value });
/** A 32-bit pattern in every lane (sign masks and the like). */
export const bits = (value: number): V => ({ k: 'bits', value });

export const add = (a: V, b: V) => bin('add', a, b);
export const sub = (a: V, b: V) => bin('sub', a, b);
export const mul = (a: V, b: V) => bin('mul', a, b);
export const div = (a: V, b: V) => bin('div', a, b);
export const neg = (a: V) => un('neg', a);
export const abs = (a: V) => un('abs', a);

type Statement =
  | { kind: 'let'; local: number; value: V }
  | { kind: 'store'; ptr: number; value: V }
  | { kind: 'accumulate'; local: number; value: V };

interface KernelSpec {
  readonly name: string;
  readonly pointers: readonly string[];
  readonly scalars: readonly string[];
  readonly locals: number;
  readonly body: readonly Statement[];
  /** Column mode only: per-column-group statements, accumulators (local, initial value), and final stores. */
  readonly columns?: {
    readonly prelude: readonly Statement[];
    readonly accumulators: ReadonlyArray<{ local: number; init: number }>;
    readonly stores: ReadonlyArray<{ ptr: number; local: number }>;
  };
}

/** Builds one kernel's body; see the module comment. */
export class SimdBuilder {
  protected readonly body: Statement[] = [];
  protected locals = 0;

  constructor(
    readonly name: string,
    readonly pointers: readonly string[],
    readonly scalars: readonly string[],
  ) {}

  load(pointer: string): V {
    return { k: 'load', ptr: this.pointerIndex(pointer) };
  }

  scalar(scalarName: string): V {
    const index = this.scalars.indexOf(scalarName);
    if (index < 0) throw new Error(`simd kernel ${this.name}: no scalar ${scalarName}`);
    return { k: 'scalar', index };
  }

  /** Evaluates `value` once into a local and returns a reference to it. */
  let(value: V): V {
    const local = this.locals++;
    this.body.push({ kind: 'let', local, value });
    return { k: 'local', index: local };
  }

  store(pointer: string, value: V): void {
    this.body.push({ kind: 'store', ptr: this.pointerIndex(pointer), value });
  }

  spec(): KernelSpec {
    return { name: this.name, pointers: this.pointers, scalars: this.scalars, locals: this.locals, body: [...this.body] };
  }

  protected pointerIndex(pointer: string): number {
    const index = this.pointers.indexOf(pointer);
    if (index < 0) throw new Error(`simd kernel ${this.name}: no pointer ${pointer}`);
    return index;
  }
}

/**
 * A per-channel reduction over a channels-last tensor viewed as rows × channels: the generated function
 * `(pointers..., rows, channels, scalars...)` walks groups of 4 channels (one per lane) and, for each,
 * every row in order, so each lane accumulates its channel exactly as a sequential float32 loop over the
 * rows would. Loads read 4 consecutive floats at the row's position, so the last group reads up to 3
 * floats past a row (and past the tensor's end on the last row; callers check the heap has room). Results
 * are stored 4 lanes per group: outputs need room for `ceil(channels / 4) * 4` floats.
 */
export class SimdColumnBuilder extends SimdBuilder {
  private readonly prelude: Statement[] = [];
  private readonly accumulators: Array<{ local: number; init: number }> = [];
  private readonly stores: Array<{ ptr: number; local: number }> = [];

  /** A value loaded once per channel group from a per-channel array (`pointer + group`). */
  columnLoad(pointer: string): V {
    const local = this.locals++;
    this.prelude.push({ kind: 'let', local, value: { k: 'columnLoad', ptr: this.pointerIndex(pointer) } });
    return { k: 'local', index: local };
  }

  /** An accumulator reset to `init` for each channel group. */
  accumulator(init: number): V & { k: 'local' } {
    const local = this.locals++;
    this.accumulators.push({ local, init });
    return { k: 'local', index: local };
  }

  /** `acc = value` for every row (value usually combines `acc` with the row's term). */
  accumulate(acc: V & { k: 'local' }, value: V): void {
    this.body.push({ kind: 'accumulate', local: acc.index, value });
  }

  /** Stores the accumulator's 4 lanes at `pointer + group` after the rows. */
  storeAccumulator(pointer: string, acc: V & { k: 'local' }): void {
    this.stores.push({ ptr: this.pointerIndex(pointer), local: acc.index });
  }

  override spec(): KernelSpec {
    return {
      ...super.spec(),
      columns: { prelude: [...this.prelude], accumulators: [...this.accumulators], stores: [...this.stores] },
    };
  }
}

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

function u32Bytes(value: number): number[] {
  return [...new Uint8Array(new Uint32Array([value >>> 0]).buffer)];
}

/**
 * Function layout: params `pointers..., count, scalars...` (column mode: `pointers..., rows, channels,
 * scalars...`); locals `i` (byte offset), `end`, `col`, `colEnd`, `stride`, one v128 per scalar (splatted
 * once), then the body's lets and accumulators.
 */
function compileFunction(spec: KernelSpec): { type: number[]; code: number[] } {
  const columns = spec.columns;
  const nPtr = spec.pointers.length;
  const nCounts = columns ? 2 : 1;
  const firstScalarParam = nPtr + nCounts;
  const nParams = nPtr + nCounts + spec.scalars.length;
  const iLocal = nParams;
  const endLocal = nParams + 1;
  const colLocal = nParams + 2;
  const colEndLocal = nParams + 3;
  const strideLocal = nParams + 4;
  const firstScalarLocal = nParams + 5;
  const firstLetLocal = firstScalarLocal + spec.scalars.length;
  const get = (local: number) => [0x20, ...uleb(local)];
  const set = (local: number) => [0x21, ...uleb(local)];

  const emit = (v: V, out: number[]): void => {
    switch (v.k) {
      case 'load':
        out.push(...get(v.ptr), ...get(iLocal), 0x6a, ...simd(OP.load), 4, 0);
        return;
      case 'columnLoad':
        out.push(...get(v.ptr), ...get(colLocal), 0x6a, ...simd(OP.load), 4, 0);
        return;
      case 'scalar':
        out.push(...get(firstScalarLocal + v.index));
        return;
      case 'const':
        out.push(...simd(OP.const), ...f32Bytes(v.value), ...f32Bytes(v.value), ...f32Bytes(v.value), ...f32Bytes(v.value));
        return;
      case 'bits':
        out.push(...simd(OP.const), ...u32Bytes(v.value), ...u32Bytes(v.value), ...u32Bytes(v.value), ...u32Bytes(v.value));
        return;
      case 'local':
        out.push(...get(firstLetLocal + v.index));
        return;
      case 'un':
        emit(v.a, out);
        out.push(...simd(OP[v.op]));
        return;
      case 'bin':
        emit(v.a, out);
        emit(v.b, out);
        out.push(...simd(OP[v.op]));
        return;
      case 'select':
        emit(v.a, out);
        emit(v.b, out);
        emit(v.mask, out);
        out.push(...simd(OP.bitselect));
        return;
    }
  };

  const statements = (list: readonly Statement[], out: number[]): void => {
    for (const stmt of list) {
      if (stmt.kind === 'store') {
        out.push(...get(stmt.ptr), ...get(iLocal), 0x6a);
        emit(stmt.value, out);
        out.push(...simd(OP.store), 4, 0);
      } else {
        emit(stmt.value, out);
        out.push(...set(firstLetLocal + stmt.local));
      }
    }
  };

  const code: number[] = [];
  spec.scalars.forEach((_, sIdx) => {
    code.push(...get(firstScalarParam + sIdx), ...simd(OP.splat), ...set(firstScalarLocal + sIdx));
  });
  if (!columns) {
    // end = count * 4 (bytes); for (i = 0; i < end; i += 16) body
    code.push(...get(nPtr), 0x41, ...sleb(2), 0x74, ...set(endLocal));
    code.push(0x02, 0x40, 0x03, 0x40);
    code.push(...get(iLocal), ...get(endLocal), 0x4f, 0x0d, 1);
    statements(spec.body, code);
    code.push(...get(iLocal), 0x41, ...sleb(16), 0x6a, ...set(iLocal));
    code.push(0x0c, 0, 0x0b, 0x0b);
  } else {
    // stride = channels * 4; colEnd = stride; end offset of a column walk = col + rows * stride
    code.push(...get(nPtr + 1), 0x41, ...sleb(2), 0x74, ...set(strideLocal));
    code.push(...get(strideLocal), ...set(colEndLocal));
    code.push(0x02, 0x40, 0x03, 0x40); // outer: for (col = 0; col < colEnd; col += 16)
    code.push(...get(colLocal), ...get(colEndLocal), 0x4f, 0x0d, 1);
    statements(columns.prelude, code);
    for (const acc of columns.accumulators) {
      code.push(...simd(OP.const), ...f32Bytes(acc.init), ...f32Bytes(acc.init), ...f32Bytes(acc.init), ...f32Bytes(acc.init));
      code.push(...set(firstLetLocal + acc.local));
    }
    code.push(...get(colLocal), ...set(iLocal));
    code.push(...get(nPtr), ...get(strideLocal), 0x6c, ...get(colLocal), 0x6a, ...set(endLocal)); // end = rows*stride + col
    code.push(0x02, 0x40, 0x03, 0x40); // inner: for (i = col; i < end; i += stride)
    code.push(...get(iLocal), ...get(endLocal), 0x4f, 0x0d, 1);
    statements(spec.body, code);
    code.push(...get(iLocal), ...get(strideLocal), 0x6a, ...set(iLocal));
    code.push(0x0c, 0, 0x0b, 0x0b);
    for (const st of columns.stores) {
      code.push(...get(st.ptr), ...get(colLocal), 0x6a, ...get(firstLetLocal + st.local), ...simd(OP.store), 4, 0);
    }
    code.push(...get(colLocal), 0x41, ...sleb(16), 0x6a, ...set(colLocal));
    code.push(0x0c, 0, 0x0b, 0x0b);
  }
  code.push(0x0b); // end function

  const localDecls = [
    [...uleb(5), VALTYPE.i32],
    [...uleb(spec.scalars.length + spec.locals), VALTYPE.v128],
  ];
  const func = [...vec(localDecls), ...code];
  const params = [...spec.pointers.map(() => VALTYPE.i32), ...Array(nCounts).fill(VALTYPE.i32), ...spec.scalars.map(() => VALTYPE.f32)];
  return { type: [0x60, ...uleb(params.length), ...params, 0x00], code: [...uleb(func.length), ...func] };
}

/** One compiled function: its type (`0x60 params results`) and its code entry (size-prefixed body). */
export interface WasmFunction {
  readonly name: string;
  readonly type: number[];
  readonly code: number[];
}

/** A module's bytes: imports `env.memory` (shared or not, as `memory` is) and exports every function. */
export function assembleFunctions(functions: readonly WasmFunction[], memory: WasmMemory): Uint8Array {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  // Limits: minimum 1 page, and for shared memory the required maximum (4 GiB, what the backend declares).
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(functions.map((c) => c.type))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((c) => c.code))),
  ];
  return new Uint8Array(bytes);
}

/** The module's bytes for SimdBuilder kernels (see `assembleFunctions`). */
export function assembleModule(kernels: readonly SimdBuilder[], memory: WasmMemory): Uint8Array {
  return assembleFunctions(kernels.map((k) => {
    const spec = k.spec();
    return { name: spec.name, ...compileFunction(spec) };
  }), memory);
}

export type SimdFunction = (...args: number[]) => void;

/** Compiles and instantiates the kernels against `memory`; returns them by name. */
export function instantiateKernels(kernels: readonly SimdBuilder[], memory: WasmMemory): Record<string, SimdFunction> {
  return instantiateModule(assembleModule(kernels, memory), memory);
}

/** Instantiates module `bytes` (importing `env.memory`) and returns its exports. */
export function instantiateModule(bytes: Uint8Array, memory: WasmMemory): Record<string, SimdFunction> {
  const module = new WebAssemblyApi.Module(bytes);
  const instance = new WebAssemblyApi.Instance(module, { env: { memory } });
  return instance.exports as unknown as Record<string, SimdFunction>;
}
