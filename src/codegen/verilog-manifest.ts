/**
 * The manifest written beside generated Verilog (`manifest.json`): the top module, its files, and where
 * every input and output tensor sits on the ports, so a simulation harness (and people) can drive the
 * design without reading it. Also the packing of integer codes into port words and back.
 */
import { fromBits, packBits, type ElemFormat } from './verilog-format.js';

export const MANIFEST_FORMAT = 'qkeras-ts-verilog/1';

export type VerilogArch = 'parallel' | 'stream';

/** One tensor on a port: its node, shape, IR type text and element format. */
export interface PortTensor {
  readonly node: string;
  readonly layer: string;
  readonly shape: readonly number[];
  readonly type: string;
  readonly width: number;
  readonly signed: boolean;
  /** Elements per sample. */
  readonly count: number;
}

/** Parallel: one word per sample on each side, tensors side by side from bit 0 (`offset`). */
export interface ParallelPorts {
  readonly kind: 'parallel';
  readonly inWidth: number;
  readonly outWidth: number;
  readonly inputs: readonly (PortTensor & { readonly offset: number })[];
  readonly outputs: readonly (PortTensor & { readonly offset: number })[];
  /** Clock cycles from accepting a sample to presenting its result. */
  readonly latency: number;
}

/**
 * Stream: the input tensor arrives as `beats` words of `beatElems` elements (pixels in raster order, all
 * channels of a pixel in one word). Each output word carries `tag` (which output, in the top `tagWidth`
 * bits) and one beat of that output in the low bits.
 */
export interface StreamPorts {
  readonly kind: 'stream';
  readonly inWidth: number;
  readonly outWidth: number;
  readonly input: PortTensor & { readonly beats: number; readonly beatElems: number };
  readonly outputs: readonly (PortTensor & { readonly beats: number; readonly beatElems: number })[];
  readonly tagWidth: number;
}

export interface LayerInfo {
  readonly module: string;
  readonly node: string;
  readonly layer: string;
  readonly kind: string;
  /** Streamed MAC layers: cycles spent per input word (the reuse factor). */
  readonly reuse?: number;
  /** How its dot products were built: constants only, XNOR-popcount, or shift-add terms (and how many). */
  readonly datapath?: 'const' | 'xnor' | 'shiftadd' | 'rom';
  readonly terms?: number;
  /** Stream joins (add, concatenation): FIFO depth in words on each input, 0 where none is needed. */
  readonly fifos?: readonly number[];
}

export interface VerilogManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly generator: string;
  readonly graph: string;
  readonly top: string;
  readonly arch: VerilogArch;
  /** Every Verilog file of the design (generated first, then the hand-written modules), relative names. */
  readonly files: readonly string[];
  readonly ports: ParallelPorts | StreamPorts;
  readonly layers: readonly LayerInfo[];
}

/** The port words that carry one sample (codes per graph input, flat row-major). */
export function encodeSample(m: VerilogManifest, codes: readonly (readonly number[])[]): bigint[] {
  const p = m.ports;
  if (p.kind === 'parallel') {
    let word = 0n;
    p.inputs.forEach((t, k) => {
      const c = codes[k]!;
      if (c.length !== t.count) throw new Error(`input ${t.node}: ${c.length} codes for ${t.count} elements`);
      word |= packBits(c, t.width) << BigInt(t.offset);
    });
    return [word];
  }
  const c = codes[0]!;
  const t = p.input;
  if (c.length !== t.count) throw new Error(`input ${t.node}: ${c.length} codes for ${t.count} elements`);
  const words: bigint[] = [];
  for (let b = 0; b < t.beats; b += 1) words.push(packBits(c.slice(b * t.beatElems, (b + 1) * t.beatElems), t.width));
  return words;
}

function unpack(word: bigint, offset: number, count: number, fmt: ElemFormat): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) out.push(Number(fromBits(word >> BigInt(offset + i * fmt.width), fmt.width, fmt.signed)));
  return out;
}

/**
 * Splits the output words of a run over `samples` samples into codes: `[sample][output][element]`.
 * Throws when a stream output received more or fewer words than the samples need.
 */
export function decodeRun(m: VerilogManifest, words: readonly bigint[], samples: number): number[][][] {
  const p = m.ports;
  if (p.kind === 'parallel') {
    if (words.length !== samples) throw new Error(`expected ${samples} output words, got ${words.length}`);
    return words.map((w) => p.outputs.map((t) => unpack(w, t.offset, t.count, t)));
  }
  const payload = p.outWidth - p.tagWidth;
  const perPort: bigint[][] = p.outputs.map(() => []);
  for (const w of words) {
    const tag = p.tagWidth === 0 ? 0 : Number(w >> BigInt(payload));
    const list = perPort[tag];
    if (list === undefined) throw new Error(`output word with unknown tag ${tag}`);
    list.push(w & ((1n << BigInt(payload)) - 1n));
  }
  p.outputs.forEach((t, k) => {
    if (perPort[k]!.length !== t.beats * samples) {
      throw new Error(`output ${t.node}: expected ${t.beats * samples} words for ${samples} samples, got ${perPort[k]!.length}`);
    }
  });
  const result: number[][][] = [];
  for (let s = 0; s < samples; s += 1) {
    result.push(
      p.outputs.map((t, k) => {
        const codes: number[] = [];
        for (let b = 0; b < t.beats; b += 1) codes.push(...unpack(perPort[k]![s * t.beats + b]!, 0, t.beatElems, t));
        return codes;
      }),
    );
  }
  return result;
}

/** Words each sample produces at the output (for the harness's stop condition). */
export function outputWordsPerSample(m: VerilogManifest): number {
  const p = m.ports;
  return p.kind === 'parallel' ? 1 : p.outputs.reduce((a, t) => a + t.beats, 0);
}
