/**
 * The stream architecture's structure, as `generateStream` builds it: the input enters one word per
 * pixel; a convolution or pooling stage reads a line buffer; a MAC stage unrolls its constant weights
 * (one word per output, reuse 1) or runs `qk_stream_mac` over a weight ROM (S = ceil(n / R) multipliers
 * per output channel, R cycles per word); element-wise stages compute between register stages; forks
 * feed several consumers, a merge the output port, joins (with FIFOs sized from the word schedules) meet
 * streams. For each stage: its hardware counts and register bits, and its control elements for the
 * cycle model (`stream-sim.ts`).
 */
import type { Graph } from '../../ir/graph.js';
import type { AvgPoolNode, Conv1dNode, Conv2dNode, DepthwiseNode, IntType, MacNode, MaxPoolNode, Node } from '../../ir/nodes.js';
import { UnsupportedError, assertNever } from '../../errors.js';
import { accumulatorPlan, accumulatorType, macMatrix, macPlans, windowAxes } from '../../codegen/verilog-plan.js';
import { numel } from '../../codegen/verilog-layers.js';
import { liveNodes } from '../../codegen/verilog-parallel.js';
import { clog2, elemFormat, signedWidth, type ElemFormat } from '../../codegen/verilog-format.js';
import type { BusRef, DotKind } from '../../codegen/verilog-datapath.js';
import { blockNeed, inputNeed, joinFifoDepth, lockstepNeed, windowNeed, type WordNeed } from '../../codegen/verilog-stream-schedule.js';
import { addCells, addFeatures, emptyFeatures, romUnits, type Features } from './features.js';
import { emptyMacc, maccBitCells, maccCells, type BitOperand, type MaccCells } from './macc.js';
import { dotCost } from './dot-cost.js';
import { ruleFeatures } from './rule-cost.js';
import { bodyCost } from './layer-cost.js';
import { avgFactors } from '../../codegen/verilog-stream.js';
import { lineBufferRows, type Prim, type StreamNetwork, type WindowParams } from './stream-sim.js';

export interface Multipliers {
  readonly a: number;
  readonly b: number;
  readonly count: number;
  /** Their `mulpp` feature: partial-product bits, or for streamed MACs the bits of their own adders. */
  readonly pp: number;
  /** Their `rommul` feature (products of small logic-ROM weights that read few bits). */
  readonly rommul?: number;
}

/** Hardware of one part of the design (a stage module or the top's glue). */
export interface PartCost {
  readonly features: Features;
  /** Register bits (flip-flops). */
  readonly ffs: number;
  /** Memory bits: line buffers, FIFOs and weight ROMs. */
  readonly memBits: number;
  /** Of which written at run time (line buffers, FIFOs): registers where synthesis has no RAM for them. */
  readonly ramBits: number;
  /** Variable-by-variable multipliers: operand widths, how many, and their partial-product bits (DSP candidates). */
  readonly multipliers: readonly Multipliers[];
  /** ROM size (`rom` units) that synth_xilinx puts in block RAM: LUTs only in generic synthesis. */
  readonly blockRamRom: number;
}

export interface StreamStage extends PartCost {
  readonly node: Node;
  readonly reuse: number | null;
  readonly datapath: DotKind | 'rom' | null;
  readonly additions: number;
  /** Channels the stage reads (one per input) and drives. */
  readonly inChannels: readonly number[];
  readonly outChannel: number;
}

export interface StreamStructure {
  readonly stages: readonly StreamStage[];
  readonly glue: PartCost;
  readonly network: StreamNetwork;
}

interface Stream {
  readonly channel: number;
  readonly beats: number;
  readonly beatElems: number;
  readonly fmt: ElemFormat;
  readonly need: WordNeed;
}

type WindowNode = Conv1dNode | Conv2dNode | DepthwiseNode | MaxPoolNode | AvgPoolNode;

class PartBuilder {
  readonly features = emptyFeatures();
  ffs = 0;
  memBits = 0;
  ramBits = 0;
  readonly multipliers: Multipliers[] = [];
  blockRamRom = 0;

  done(): PartCost {
    return { features: this.features, ffs: this.ffs, memBits: this.memBits, ramBits: this.ramBits, multipliers: this.multipliers, blockRamRom: this.blockRamRom };
  }

  /** A valid/ready register stage of `w` data bits. */
  reg(w: number): void {
    this.ffs += w + 1;
    this.features.ctrl += 1;
  }
}

function reuseFor(node: Node, reuse: number | Readonly<Record<string, number>> | undefined): number {
  let r = 1;
  if (typeof reuse === 'number') r = reuse;
  else if (reuse !== undefined) r = reuse[node.origin.layer] ?? reuse[node.id] ?? 1;
  if (!Number.isInteger(r) || r < 1) {
    throw new UnsupportedError(`layer ${JSON.stringify(node.origin.layer)}: reuse factor ${r} must be a positive integer`);
  }
  return r;
}

/** `$clog2` as Verilog computes it (0 for 1). */
function vclog2(n: number): number {
  let w = 0;
  while (2 ** w < n) w += 1;
  return w;
}

/** The line buffer and window generator: its parameters, memory and control. */
function windowPart(b: PartBuilder, node: WindowNode, input: Node, fmt: ElemFormat): { params: WindowParams; cells: number; C: number } {
  const [gh, gw] = windowAxes(node, input.shape);
  const C = input.shape[input.shape.length - 1]!;
  const params: WindowParams = {
    H: gh.inSize,
    W: gw.inSize,
    KH: gh.kernel,
    KW: gw.kernel,
    SH: gh.stride,
    SW: gw.stride,
    DH: gh.dilation,
    DW: gw.dilation,
    PT: gh.padBefore,
    PL: gw.padBefore,
    OH: gh.outSize,
    OW: gw.outSize,
  };
  const cells = params.KH * params.KW;
  const NR = lineBufferRows(params);
  const CB = params.W > 1 ? vclog2(params.W) : 1;
  const CW = C * fmt.width;
  const p = params;
  const PW = vclog2(p.H + p.W + p.OH * p.SH + p.OW * p.SW + p.PT + p.PL + p.KH * p.DH + p.KW * p.DW + NR + 2) + 2;
  const words = NR * (1 << CB);
  b.memBits += words * CW;
  b.ramBits += words * CW;
  b.features.membits += words * CW * cells;
  b.features.mux += cells * CW; // cells outside the image read as zero
  // Position registers with their increments and comparisons, and each cell's bounds check: six
  // PW-bit registers (input row and column, output row and column, window top and left) and two flags.
  b.features.ctrl += PW * (8 + 2 * cells);
  b.ffs += 6 * PW + 2;
  return { params, cells, C };
}

/** The weight codes of one ROM slot: whether any is non-zero, their range and common trailing zeros. */
interface Slot {
  any: boolean;
  lo: bigint;
  hi: bigint;
  tz: number;
}

function addCode(slot: Slot, c: bigint): void {
  if (c === 0n) return;
  slot.any = true;
  if (c < slot.lo) slot.lo = c;
  else if (c > slot.hi) slot.hi = c;
  if (slot.tz > 0) {
    let v = c < 0n ? -c : c;
    let t = 0;
    while (t < slot.tz && (v & 1n) === 0n) {
      v >>= 1n;
      t += 1;
    }
    slot.tz = t;
  }
}

/**
 * One multiplier of a streamed MAC as Yosys builds it: its input (sign-extended when signed) times the
 * weight codes one ROM slot holds over the words, the product truncated to PW bits. Weight bits that
 * are constant over every word (high zeros of non-negative codes, common trailing zeros) and input bits
 * above an unsigned code are constant zeros that synthesis removes; sign-extension bits are copies of
 * the top bit. `alumacc` makes the product a `$macc` of its own (the sign extension after it keeps it
 * out of the channel's sum), `maccmap` one row of AND gates per variable bit of the narrower operand,
 * summed by the carry-save model into a carry chain of its own. Returns the distinct AND gates (`pp`, 0
 * for a slot of zeros: no multiplier), the row adders and the lowest product bit that is not a constant
 * zero.
 */
function multiplier(slot: Slot, inFmt: ElemFormat, PW: number): { pp: number; cells: MaccCells; low: number } {
  if (!slot.any) return { pp: 0, cells: emptyMacc(), low: PW };
  const neg = slot.lo < 0n;
  const wbits = neg ? signedWidth(slot.lo, slot.hi) : slot.hi.toString(2).length;
  return slotMultiplier(neg, wbits, slot.tz, inFmt, PW);
}

const slotCache = new Map<string, { pp: number; cells: MaccCells; low: number }>();

/** `multiplier` for a slot of weights described by their sign, width and common trailing zeros. */
function slotMultiplier(neg: boolean, wbits: number, tz: number, inFmt: ElemFormat, PW: number): { pp: number; cells: MaccCells; low: number } {
  // Layers have thousands of slots but few kinds of them: each kind is counted once.
  const key = `${neg ? 1 : 0},${wbits},${tz},${inFmt.width},${inFmt.signed ? 1 : 0},${PW}`;
  const hit = slotCache.get(key);
  if (hit !== undefined) return hit;
  // Signal ids of the operand bits (-1: constant zero); sign-extension bits share their top bit's id.
  const wId = (j: number): number => (j < tz || (!neg && j >= wbits) ? -1 : Math.min(j, wbits - 1));
  const xId = (i: number): number => (i < inFmt.width ? i : inFmt.signed ? inFmt.width - 1 : -1);
  // wreduce drops constant high bits; the narrower operand gives the rows (`maccmap` swaps to that).
  const wWidth = neg ? PW : Math.min(PW, wbits);
  const xWidth = inFmt.signed ? PW : Math.min(PW, inFmt.width);
  const xRows = xWidth < wWidth;
  const rowId = xRows ? xId : wId;
  const colId = xRows ? wId : xId;
  const gates = new Set<number>();
  const rows: BitOperand[] = [];
  let low = PW;
  for (let r = 0; r < PW; r += 1) {
    const rid = rowId(r);
    if (rid < 0) continue;
    const bits: number[] = [];
    for (let j = 0; r + j < PW; j += 1) {
      const cid = colId(j);
      // An AND gate's id: its two inputs (row and column signals of at most PW bits each).
      const id = cid < 0 ? -1 : rid * PW + cid;
      bits.push(id);
      if (id >= 0) {
        gates.add(id);
        low = Math.min(low, r + j);
      }
    }
    rows.push({ shift: r, bits });
  }
  const out = { pp: gates.size, cells: maccBitCells(PW, rows), low };
  slotCache.set(key, out);
  return out;
}

/**
 * A logic ROM slot's weight bits (bit j of the WW-bit code, j < WW, sign-extended above): -1 a constant
 * zero, -2 a constant one, else the index of the slot's distinct function of the address (bits with
 * the same value in every word are one net after `opt_merge`).
 */
type BitPattern = readonly number[];

/** A logic-ROM slot's multiplier. */
interface BitSlot {
  readonly pp: number;
  readonly cells: MaccCells;
  readonly low: number;
  /** Its partial-product rows (signal ids below `ids`). */
  readonly rows: readonly BitOperand[];
  readonly ids: number;
  /** Cells of the product with the weight's sign run as one negated row (see `signRunCells`). */
  readonly compact: MaccCells;
}

const bitSlotCache = new Map<string, BitSlot>();

/**
 * One multiplier of a streamed MAC whose weight ROM synthesis builds from logic: `memory_map` turns
 * the ROM into multiplexers of constants that `opt` folds before `techmap` lowers the product, so a
 * weight bit that is the same in every word the slot holds is a constant (a zero removes its
 * partial-product row, a one leaves the input bits as they are: no AND gates), and the bits that vary
 * are a few functions of the address (with 2 to 4 words, one or two address bits), shared between rows.
 * The product is then a sum of the input, shifted, over the weight bits that are not zero; its cells
 * follow the carry-save model as in `slotMultiplier` (the range model, kept for block-RAM ROMs, whose
 * data bits synthesis cannot see through).
 */
function bitSlotMultiplier(pattern: BitPattern, inFmt: ElemFormat, PW: number): BitSlot {
  const key = `${pattern.join(',')}|${inFmt.width},${inFmt.signed ? 1 : 0},${PW}`;
  const hit = bitSlotCache.get(key);
  if (hit !== undefined) return hit;
  const top = pattern.length - 1;
  const wBit = (j: number): number => pattern[Math.min(j, top)]!;
  const xId = (i: number): number => (i < inFmt.width ? i : inFmt.signed ? inFmt.width - 1 : -1);
  const gates = new Set<number>();
  const rows: BitOperand[] = [];
  let low = PW;
  let ids = PW;
  for (let j = 0; j < PW; j += 1) {
    const w = wBit(j);
    if (w >= 0) ids = Math.max(ids, PW * (2 + w));
    if (w === -1) continue;
    const bits: number[] = [];
    for (let i = 0; i + j < PW; i += 1) {
      const x = xId(i);
      // A constant-one weight bit passes the input bit (ids 0..PW-1); a varying one ANDs it with its net.
      const id = x < 0 ? -1 : w === -2 ? x : PW * (1 + w) + x;
      bits.push(id);
      if (id >= 0) {
        gates.add(id);
        low = Math.min(low, i + j);
      }
    }
    rows.push({ shift: j, bits });
  }
  const out = { pp: gates.size, cells: maccBitCells(PW, rows), low, rows, ids, compact: signRunCells(pattern, rows, inFmt, PW) };
  bitSlotCache.set(key, out);
  return out;
}

/**
 * The product's cells written as a designer would: the rows of the weight's sign extension (the same
 * varying net, or constant ones, from bit j0 up) sum to -(x AND net) * 2^j0, one row of inverted bits
 * plus a constant, instead of PW - j0 shifted copies. The proxy for what logic optimisation leaves of a
 * product that reads few bits (`rommul`).
 */
function signRunCells(pattern: BitPattern, rows: readonly BitOperand[], inFmt: ElemFormat, PW: number): MaccCells {
  const top = pattern.length - 1;
  const sign = pattern[top]!;
  if (sign === -1) return maccBitCells(PW, rows);
  let j0 = top;
  while (j0 > 0 && pattern[j0 - 1] === sign) j0 -= 1;
  if (PW - j0 < 2) return maccBitCells(PW, rows);
  const kept = rows.filter((r) => r.shift < j0);
  let constant = 1n << BigInt(j0);
  const bits: number[] = [];
  // Fresh ids above every row's: the inverted bits of (x AND net), or of x where the run is constant ones.
  const base = PW * (pattern.length + 3);
  for (let i = 0; i + j0 < PW; i += 1) {
    const x = i < inFmt.width ? i : inFmt.signed ? inFmt.width - 1 : -1;
    if (x < 0) {
      // An input bit above an unsigned input is zero: its inverted product bit is a constant one.
      constant += 1n << BigInt(i + j0);
      bits.push(-1);
    } else bits.push(base + x);
  }
  return maccBitCells(PW, [...kept, { shift: j0, bits }], constant);
}

/**
 * The weight-bit patterns of the S x F slots of a logic weight ROM (`BitPattern`): per slot and code
 * bit, whether it is one or zero in every word, and a hash of its values over the words (word kk*R + tt
 * of slot (s, f) holds element tt*S + s of input word kk, zero past the word's n elements).
 */
function bitPatterns(codes: readonly bigint[], n: number, k: number, R: number, S: number, F: number, WW: number): BitPattern[] {
  const bits = S * F * WW;
  const all = new Uint8Array(bits).fill(1);
  const any = new Uint8Array(bits);
  const h1 = new Int32Array(bits);
  const h2 = new Int32Array(bits);
  const mask = (1n << BigInt(WW)) - 1n;
  for (let kk = 0; kk < k; kk += 1) {
    for (let e = 0; e < R * S; e += 1) {
      const base = (e % S) * F;
      for (let f = 0; f < F; f += 1) {
        const c = e < n ? codes[(kk * n + e) * F + f]! : 0n;
        const v = Number(c & mask);
        const o = (base + f) * WW;
        for (let j = 0; j < WW; j += 1) {
          const b = (v >>> j) & 1;
          if (b === 0) all[o + j] = 0;
          else any[o + j] = 1;
          h1[o + j] = Math.imul(h1[o + j]! ^ (b + 1), 0x01000193);
          h2[o + j] = Math.imul(h2[o + j]! + b + 7, 0x5bd1e995) ^ (h2[o + j]! >>> 15);
        }
      }
    }
  }
  return Array.from({ length: S * F }, (_, slot) => {
    const nets = new Map<string, number>();
    return Array.from({ length: WW }, (_, j) => {
      const o = slot * WW + j;
      if (any[o] === 0) return -1;
      if (all[o] === 1) return -2;
      const key = `${h1[o]},${h2[o]}`;
      let id = nets.get(key);
      if (id === undefined) {
        id = nets.size;
        nets.set(key, id);
      }
      return id;
    });
  });
}

/** The bits of a logic ROM's word that are not the same in every word. */
function varyingBits(patterns: readonly BitPattern[]): number {
  let n = 0;
  for (const p of patterns) for (const bit of p) if (bit >= 0) n += 1;
  return n;
}

/**
 * Whether `synth_xilinx` maps a ROM of `words` x `bits` to block RAM: `memory_libmap` picks the cheapest
 * of soft logic (1/64 per bit, its default ROM logic cost) and 18-kbit blocks (cost 129 each; 512 x 36 up
 * to 16k x 1 per block, brams_xc4v.txt).
 */
export function romInBlockRam(words: number, bits: number): boolean {
  let blocks = Infinity;
  for (const [width, depth] of BLOCK_SHAPES) blocks = Math.min(blocks, Math.ceil(words / depth) * Math.ceil(bits / width));
  return (words * bits) / 64 > 129 * blocks;
}

/** The read-port shapes of an 18-kbit block RAM (width, depth). */
const BLOCK_SHAPES: readonly (readonly [number, number])[] = [[36, 512], [18, 1024], [9, 2048], [4, 4096], [2, 8192], [1, 16384]];

/** The fewest words of a ROM `proc_rom` makes a memory. */
const ROM_MEMORY_WORDS = 8;

/** Products of logic-ROM weights reading at most this many bits (input element and address) count as `rommul`. */
const ROM_SMALL_SUPPORT = 7;

interface MacPart {
  readonly prim: 'reg' | { R: number; K: number };
  readonly datapath: DotKind | 'rom';
  readonly additions: number;
  readonly reuse: number;
}

/** A MAC stage over words of `n` elements, `k` words per output (`macStage`). */
function macPart(b: PartBuilder, node: MacNode, input: Node, n: number, k: number, inFmt: ElemFormat, reuse: number): MacPart {
  const acc = accumulatorType(node, [input]);
  const W = acc.width;
  const m = macMatrix(node, input, acc);
  const F = m.cols;
  const R = Math.min(reuse, n);
  const finish = (): void => {
    if (node.requant !== null) addFeatures(b.features, ruleFeatures(node.requant.rule, acc, node.type as IntType, F));
  };
  if (k === 1 && R === 1) {
    const plans = macPlans(m);
    const bus: BusRef = { name: 'in_data', fmt: inFmt, pm: false, count: n };
    const dot = dotCost(plans, [bus], W, false);
    addFeatures(b.features, dot.features);
    b.reg(F * W);
    finish();
    return { prim: 'reg', datapath: dot.kind, additions: dot.additions, reuse: R };
  }
  const S = Math.ceil(n / R);
  const words = k * R;
  let WW = 1;
  for (const c of m.codes) WW = Math.max(WW, signedWidth(c < 0n ? c : 0n, c > 0n ? c : 0n));
  const PW = inFmt.width + 1 + WW;
  // The weight ROM, S x F multipliers (products truncated to PW bits), per channel one sum of the base
  // (bias or running sum) and its S sign-extended products, and the selects.
  // A ROM synth_xilinx puts in block RAM costs no LUTs (its bits are reported in memory bits); generic
  // synthesis has no block RAM and builds every ROM from gates.
  const blockRam = romInBlockRam(words, S * F * WW);
  if (blockRam) b.blockRamRom += romUnits(words, S * F * WW);
  b.memBits += words * S * F * WW;
  // Per ROM slot (s, f): the codes it holds over the words (word kk*R + tt holds element tt*S + s of
  // input word kk), summarized in one pass over the weights.
  const slots = blockRam ? Array.from({ length: S * F }, () => ({ any: false, lo: 0n, hi: 0n, tz: PW })) : [];
  const patterns = blockRam ? null : bitPatterns(m.codes, n, k, R, S, F, WW);
  // A logic ROM's bits that are the same in every word are constants that fold away.
  if (patterns !== null) b.features.rom += romUnits(words, varyingBits(patterns));
  if (blockRam) {
    for (let kk = 0; kk < k; kk += 1) {
      for (let e = 0; e < n; e += 1) {
        const row = (kk * n + e) * F;
        const base = (e % S) * F;
        for (let f = 0; f < F; f += 1) addCode(slots[base + f]!, m.codes[row + f]!);
      }
    }
  }
  let active = 0;
  let pps = 0;
  let small = 0;
  // A logic-ROM product reads its input element and the address bits: with few of them, synthesis
  // (ABC on a function of 6 or 7 inputs) builds it far tighter than its adders (Yosys: a 5-bit input
  // times 2 ROM words, 5 to 16 LUTs standalone where its partial-product rows make 11 to 63 adder
  // cells), so its cells, with the weight's sign extension as one negated row, count apart (`rommul`,
  // fitted on its own).
  const support = inFmt.width + clog2(words);
  const fewInputs = patterns !== null && support <= ROM_SMALL_SUPPORT && words < ROM_MEMORY_WORDS;
  // A product as wide as the sum is not sign-extended into it: `alumacc` then merges the multiplications
  // into the channel's `$macc`, whose carry-save tree takes every partial product (Yosys: 3 products of
  // 6-bit inputs and 3-word ROMs, 365 to 402 LUTs into 12- or 13-bit sums against 219 into 14 bits).
  const merged = patterns !== null && W <= PW;
  for (let f = 0; f < F; f += 1) {
    // The channel's sum: the base (bias or running sum) plus its products shifted by the channel's
    // exponent, each sign-extended from its top bit (bits below its lowest variable bit are zeros);
    // slots of zeros have no multiplier and add nothing. `alumacc` merges the whole chain of additions
    // (the shift is a constant) into one `$macc`.
    const sh = m.shifts[f]!;
    const products: BitOperand[] = [{ shift: 0, bits: Array.from({ length: W }, (_, c) => c) }];
    let id = W;
    for (let s = 0; s < S; s += 1) {
      if (patterns !== null) {
        const bs = bitSlotMultiplier(patterns[s * F + f]!, inFmt, PW);
        if (bs.pp === 0) continue;
        active += 1;
        if (merged) {
          if (sh < W) for (const r of bs.rows) products.push({ shift: sh + r.shift, bits: r.bits.map((x) => (x < 0 ? -1 : id + x)) });
          id += bs.ids;
          continue;
        }
        if (fewInputs) small += bs.compact.fa + bs.compact.ha + bs.compact.cpa2 + bs.compact.cpa1;
        else pps += bs.cells.fa + bs.cells.ha + bs.cells.cpa2 + bs.cells.cpa1;
        const bits = Array.from({ length: Math.max(W, PW) }, (_, c) => (c < bs.low ? -1 : id + Math.min(c, PW - 1)));
        id += PW;
        if (sh < W) products.push({ shift: sh, bits });
        continue;
      }
      const mul = multiplier(slots[s * F + f]!, inFmt, PW);
      if (mul.pp === 0) continue;
      active += 1;
      // A multiplier costs its carry-save and carry-chain bits: its AND gates fold into them.
      pps += mul.cells.fa + mul.cells.ha + mul.cells.cpa2 + mul.cells.cpa1;
      const bits = Array.from({ length: Math.max(W, PW) }, (_, c) => (c < mul.low ? -1 : id + Math.min(c, PW - 1)));
      id += PW;
      if (sh < W) products.push({ shift: sh, bits });
    }
    addCells(b.features, maccBitCells(W, products));
  }
  b.features.mulpp += pps;
  b.features.rommul += small;
  b.multipliers.push({ a: PW, b: PW, count: active, pp: pps, rommul: small });
  b.features.mux += F * W + (R - 1) * S * inFmt.width;
  const TW = R > 1 ? clog2(R) : 1;
  const KB = k > 1 ? clog2(k) : 1;
  const AW = clog2(words);
  b.features.ctrl += TW + KB + AW;
  // Running sums (only when a word takes several cycles or outputs several words), the output register.
  b.ffs += (words > 1 ? F * W : 0) + F * W + 1 + (R > 1 ? TW : 0) + (k > 1 ? KB : 0) + AW;
  // A logic ROM of 8 words or more becomes a memory (`proc_rom`) whose read port takes in the address
  // register (`memory_dff`): its data bits that vary over the words are registered too, beside the
  // address (Yosys: a 7-word ROM of 12 bits behind a 3-bit counter keeps 3 flip-flops, 8 words 14).
  if (patterns !== null && words >= ROM_MEMORY_WORDS) b.ffs += varyingBits(patterns);
  finish();
  return { prim: { R, K: k }, datapath: 'rom', additions: S * F * words, reuse: R };
}

export function streamStructure(g: Graph, options: { reuse?: number | Readonly<Record<string, number>> }): StreamStructure {
  if (g.inputs.length !== 1) throw new UnsupportedError(`the stream architecture takes one model input; graph ${JSON.stringify(g.name)} has ${g.inputs.length}`);
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o, (uses.get(o) ?? 0) + 1);

  const prims: Prim[] = [];
  const beats: number[] = [];
  const channel = (words: number): number => {
    beats.push(words);
    return beats.length - 1;
  };
  const glue = new PartBuilder();
  const streams = new Map<string, Stream>();
  const forks = new Map<string, { outs: number[]; next: number }>();
  const consume = (id: string): Stream => {
    const s = streams.get(id)!;
    const count = uses.get(id) ?? 1;
    if (count === 1) return s;
    let fk = forks.get(id);
    if (fk === undefined) {
      fk = { outs: Array.from({ length: count }, () => channel(s.beats)), next: 0 };
      forks.set(id, fk);
      prims.push({ kind: 'fork', ins: [s.channel], outs: fk.outs });
      glue.ffs += count;
      glue.features.ctrl += count;
    }
    const c = fk.outs[fk.next]!;
    fk.next += 1;
    return { ...s, channel: c };
  };

  const stages: StreamStage[] = [];
  let inBeats = 0;
  for (const n of nodes) {
    const fmt = elemFormat(n.type, `%${n.id}`);
    if (n.kind === 'input') {
      const beatElems = n.shape[n.shape.length - 1]!;
      inBeats = numel(n.shape) / beatElems;
      streams.set(n.id, { channel: channel(inBeats), beats: inBeats, beatElems, fmt, need: inputNeed(inBeats) });
      continue;
    }
    const inputs = n.inputs.map((id) => byId.get(id)!);
    const xs = n.inputs.map((id) => consume(id));
    const x = xs[0]!;
    const input = inputs[0]!;
    if (n.kind === 'reshape') {
      const beatElems = n.shape.length === 1 ? x.beatElems : n.shape[n.shape.length - 1]!;
      streams.set(n.id, { ...x, beats: numel(n.shape) / beatElems, beatElems });
      continue;
    }
    const b = new PartBuilder();
    let outBeats = numel(n.shape) / n.shape[n.shape.length - 1]!;
    let outElems = n.shape[n.shape.length - 1]!;
    let need: WordNeed = x.need;
    let reuse: number | null = null;
    let datapath: DotKind | 'rom' | null = null;
    let additions = 0;
    let inCh = x.channel;
    const attach = (prim: Prim['kind'] | MacPart['prim'], outCh: number, extra?: { K: number }): void => {
      if (prim === 'reg') prims.push({ kind: 'reg', ins: [inCh], outs: [outCh] });
      else if (typeof prim === 'object') prims.push({ kind: 'mac', R: prim.R, K: prim.K, ins: [inCh], outs: [outCh] });
      else if (prim === 'gap') prims.push({ kind: 'gap', K: extra!.K, ins: [inCh], outs: [outCh] });
    };
    const windowStage = (node: WindowNode): { cells: number; C: number } => {
      const w = windowPart(b, node, input, x.fmt);
      const winCh = channel(w.params.OH * w.params.OW);
      prims.push({ kind: 'window', ...w.params, ins: [inCh], outs: [winCh] });
      inCh = winCh;
      need = windowNeed(node, input, x.need);
      return w;
    };
    let outCh: number;
    switch (n.kind) {
      case 'conv1d':
      case 'conv2d':
      case 'depthwise': {
        const w = windowStage(n);
        const mac = macPart(b, n, input, w.cells * w.C, 1, x.fmt, reuseFor(n, options.reuse));
        outCh = channel(outBeats);
        attach(mac.prim, outCh);
        ({ datapath, additions, reuse } = mac);
        break;
      }
      case 'dense':
      case 'pointwise': {
        const last = input.shape[input.shape.length - 1]!;
        const flat = input.shape.length === 1;
        const k = flat ? last / x.beatElems : 1;
        if (flat && !Number.isInteger(k)) throw new UnsupportedError(`layer ${JSON.stringify(n.origin.layer)}: input words of ${x.beatElems} do not divide ${last}`);
        const mac = macPart(b, n, input, flat ? x.beatElems : last, k, x.fmt, reuseFor(n, options.reuse));
        if (flat) {
          outBeats = 1;
          need = blockNeed(1, x.beats, x.need);
        }
        outCh = channel(outBeats);
        attach(mac.prim, outCh);
        ({ datapath, additions, reuse } = mac);
        break;
      }
      case 'maxpool': {
        const w = windowStage(n);
        const ew = x.fmt.width;
        // Per channel: each cell against the running maximum (masked), then a register.
        b.features.cmpv += w.cells * w.C * ew;
        b.features.mux += w.cells * w.C * ew;
        b.reg(w.C * ew);
        outCh = channel(outBeats);
        attach('reg', outCh);
        break;
      }
      case 'avgpool': {
        const w = windowStage(n);
        const acc = accumulatorType(n, [input]);
        const A = acc.width;
        // Per channel: the window sum, times the factor chosen by the count of cells inside the image
        // (a table of the counts). Only the factor bits that are one for some count make partial-product
        // rows (shifted copies of the sum), and only those that differ between counts are table logic:
        // the rest are constants that fold away (Yosys: a 2 x 2 pool's factors 0 and 4 leave one row of
        // AND gates, no adders; that stage measured 157 LUTs where a 9 x 9 multiplier made it 322).
        addCells(b.features, maccCells(A, Array.from({ length: w.cells }, () => ({ width: x.fmt.width, shift: 0 })), 0n, x.fmt.signed), w.C);
        const mask = (1n << BigInt(A)) - 1n;
        const codes = avgFactors(n, input, acc.frac).map((f) => f & mask);
        const someOne = codes.reduce((a, c) => a | c, 0n);
        const varying = someOne & ~codes.reduce((a, c) => a & c, mask);
        const rows = Array.from({ length: A }, (_, j) => j).filter((j) => ((someOne >> BigInt(j)) & 1n) === 1n);
        const mul = maccCells(A, rows.map((j) => ({ width: A - j, shift: j })));
        const pp = w.C * (mul.fa + mul.ha + mul.cpa2 + mul.cpa1);
        b.features.mulpp += pp;
        b.multipliers.push({ a: A, b: A, count: w.C, pp });
        b.features.rom += romUnits(w.cells + 1, [...varying.toString(2)].filter((c) => c === '1').length);
        b.reg(w.C * A);
        if (n.requant !== null) addFeatures(b.features, ruleFeatures(n.requant.rule, acc, n.type as IntType, w.C));
        outCh = channel(outBeats);
        attach('reg', outCh);
        break;
      }
      case 'globalavgpool': {
        const plan = accumulatorPlan(n, [input]);
        const C = input.shape[input.shape.length - 1]!;
        const K = numel(input.shape) / C;
        const A = plan.acc.width;
        const mult = plan.dots[0]?.terms[0]?.weight ?? 0n;
        const ones = mult === 0n ? 0 : [...(mult < 0n ? -mult : mult).toString(2)].filter((c) => c === '1').length;
        const ops = [{ width: A, shift: 0 }, ...Array.from({ length: ones }, () => ({ width: x.fmt.width, shift: 0 }))];
        addCells(b.features, maccCells(A, ops, 0n, x.fmt.signed), C);
        b.features.mux += C * A;
        const KB = K > 1 ? clog2(K) : 1;
        b.features.ctrl += KB;
        b.ffs += 2 * C * A + 1 + (K > 1 ? KB : 0);
        if (n.requant !== null) addFeatures(b.features, ruleFeatures(n.requant.rule, plan.acc, n.type as IntType, C));
        outBeats = 1;
        outElems = n.shape[0]!;
        need = blockNeed(1, x.beats, x.need);
        outCh = channel(outBeats);
        attach('gap', outCh, { K });
        break;
      }
      case 'requantize':
      case 'batchnorm':
      case 'argmax': {
        const wordIn = { ...input, shape: [x.beatElems] } as Node;
        const wordNode = { ...n, shape: n.kind === 'argmax' ? [] : [x.beatElems] } as Node;
        const body = bodyCost(wordNode, [wordIn], false, [{ name: 'in_data', fmt: x.fmt, pm: false, count: x.beatElems }]);
        addFeatures(b.features, body.features);
        outElems = n.kind === 'argmax' ? 1 : x.beatElems;
        outBeats = x.beats;
        b.reg(outElems * fmt.width);
        ({ datapath, additions } = body);
        outCh = channel(outBeats);
        attach('reg', outCh);
        break;
      }
      case 'add':
      case 'concat': {
        const whole = xs.every((s) => s.beats === 1);
        outElems = whole ? numel(n.shape) : n.kind === 'concat' ? xs.reduce((a, s) => a + s.beatElems, 0) : x.beatElems;
        outBeats = x.beats;
        need = lockstepNeed(xs.map((s) => s.need));
        const joinIns = xs.map((s) => {
          const depth = joinFifoDepth(s.need, need, inBeats);
          if (depth === 0) return s.channel;
          const w = s.beatElems * s.fmt.width;
          const c = channel(s.beats);
          prims.push({ kind: 'fifo', depth, ins: [s.channel], outs: [c] });
          b.memBits += depth * w;
          b.ramBits += depth * w;
          b.features.membits += depth * w;
          b.features.ctrl += 3 * clog2(depth + 1);
          b.ffs += 3 * clog2(depth + 1);
          return c;
        });
        const joined = channel(outBeats);
        prims.push({ kind: 'join', ins: joinIns, outs: [joined] });
        const wordInputs = whole ? inputs : inputs.map((v, k) => ({ ...v, shape: [xs[k]!.beatElems] }) as Node);
        const wordNode = whole ? n : ({ ...n, shape: [outElems], ...(n.kind === 'concat' ? { axis: -1 } : {}) } as Node);
        const buses: BusRef[] = wordInputs.map((v, k) => ({ name: `x${k}`, fmt: xs[k]!.fmt, pm: false, count: numel(v.shape) }));
        const body = bodyCost(wordNode, wordInputs, false, buses);
        addFeatures(b.features, body.features);
        b.reg(outElems * fmt.width);
        ({ datapath, additions } = body);
        inCh = joined;
        outCh = channel(outBeats);
        attach('reg', outCh);
        break;
      }
      default:
        return assertNever(n, 'stream node');
    }
    streams.set(n.id, { channel: outCh, beats: outBeats, beatElems: outElems, fmt, need });
    stages.push({ node: n, ...b.done(), reuse, datapath, additions, inChannels: xs.map((s) => s.channel), outChannel: outCh });
  }

  const outs = g.outputs.map((id) => consume(id));
  let port: number;
  if (outs.length === 1) {
    port = outs[0]!.channel;
  } else {
    port = channel(outs.reduce((a, s) => a + s.beats, 0));
    prims.push({ kind: 'merge', ins: outs.map((s) => s.channel), outs: [port] });
    const payload = Math.max(...outs.map((s) => s.beatElems * s.fmt.width));
    glue.features.mux += payload * (outs.length - 1);
    glue.features.ctrl += outs.length;
  }
  const network: StreamNetwork = {
    channels: beats.length,
    prims,
    inBeats,
    beats,
    outputs: outs.map((s) => ({ channel: s.channel, beats: s.beats })),
    port,
  };
  return { stages, glue: glue.done(), network };
}
