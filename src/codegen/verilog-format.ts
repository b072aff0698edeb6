/**
 * How IR values look on Verilog wires: every tensor element is its integer code (value = code ·
 * 2^-frac) in the narrowest two's complement or unsigned word that holds every code of its type, and a
 * tensor is a packed bus with element 0 in the lowest bits. Binary ±1 is the 2-bit code (-1 = 2'b11,
 * +1 = 2'b01), binary 0/1 one bit, ternary two bits, po2 the code `±2^(e - expMin)`. Also: sized literals,
 * packing and unpacking codes to and from the hex words the simulation harness exchanges.
 */
import type { IntType, TensorType } from '../ir/nodes.js';
import { codeRange, widthForRange } from '../ir/fixed.js';
import { UnsupportedError } from '../errors.js';

/** Width and signedness of one element on the wires. */
export interface ElemFormat {
  readonly width: number;
  readonly signed: boolean;
}

/** The wire format of a tensor type (float is the model input before its quantizer: never on wires). */
export function elemFormat(t: TensorType | null, where = 'tensor'): ElemFormat {
  if (t === null) throw new UnsupportedError(`${where}: the type is not inferred; run runPipeline(graph) before emitting Verilog`);
  if (t.kind === 'float') {
    throw new UnsupportedError(`${where}: float tensors exist only before the input quantizer and cannot become wires`);
  }
  return widthForRange(codeRange(t as IntType));
}

/** True for binary ±1 tensors (XNOR-popcount candidates). */
export function isPlusMinusBinary(t: TensorType | null): boolean {
  return t !== null && t.kind === 'binary' && !t.zeroOne;
}

/** `x mod 2^width` as a non-negative bigint (two's complement bits of x). */
export function toBits(x: bigint, width: number): bigint {
  const m = 1n << BigInt(width);
  return ((x % m) + m) % m;
}

/** Reads `width` bits as a code (two's complement when signed). */
export function fromBits(bits: bigint, width: number, signed: boolean): bigint {
  const v = bits & ((1n << BigInt(width)) - 1n);
  if (signed && width > 0 && (v >> BigInt(width - 1)) === 1n) return v - (1n << BigInt(width));
  return v;
}

/** A sized Verilog literal `W'h...` holding the two's complement bits of x. */
export function vlit(x: bigint | number, width: number): string {
  const w = Math.max(1, width);
  return `${w}'h${toBits(BigInt(x), w).toString(16)}`;
}

/** Packs values into one literal, element 0 in the lowest bits, `width` bits each. */
export function vpack(values: readonly (bigint | number)[], width: number): string {
  if (values.length === 0) return "1'h0";
  return vlit(packBits(values, width), values.length * width);
}

/** Packs values into one bigint, element 0 in the lowest bits. */
export function packBits(values: readonly (bigint | number)[], width: number): bigint {
  let acc = 0n;
  const w = BigInt(width);
  for (let i = values.length - 1; i >= 0; i -= 1) acc = (acc << w) | toBits(BigInt(values[i]!), width);
  return acc;
}

/** Unpacks `count` elements of a format starting at bit `offset`. */
export function unpackBits(bus: bigint, offset: number, count: number, fmt: ElemFormat): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const v = fromBits(bus >> BigInt(offset + i * fmt.width), fmt.width, fmt.signed);
    out.push(Number(v));
  }
  return out;
}

/** Hex text of a bus value (what the harness reads and writes), without prefix. */
export function busHex(bus: bigint): string {
  return bus.toString(16);
}

export function parseHex(text: string): bigint {
  const t = text.trim();
  if (!/^[0-9a-fA-F]+$/.test(t)) throw new Error(`not a hex word: ${JSON.stringify(t.slice(0, 40))}`);
  return BigInt(`0x${t}`);
}

/** Bits needed for a signed word holding every value of [lo, hi]. */
export function signedWidth(lo: bigint, hi: bigint): number {
  const r = widthForRange({ lo: lo < 0n ? lo : -1n, hi: hi < 0n ? 0n : hi });
  return r.width;
}

/** `ceil(log2(n))`, at least 1 (address and counter widths). */
export function clog2(n: number): number {
  let w = 0;
  while (2 ** w < n) w += 1;
  return Math.max(1, w);
}
