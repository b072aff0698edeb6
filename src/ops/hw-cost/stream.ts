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
import { accumulatorPlan, accumulatorType, macMatrix, windowAxes, type DotPlan } from '../../codegen/verilog-plan.js';
import { numel } from '../../codegen/verilog-layers.js';
import { liveNodes } from '../../codegen/verilog-parallel.js';
import { clog2, elemFormat, signedWidth, type ElemFormat } from '../../codegen/verilog-format.js';
import type { BusRef, DotKind } from '../../codegen/verilog-datapath.js';
import { blockNeed, inputNeed, joinFifoDepth, lockstepNeed, windowNeed, type WordNeed } from '../../codegen/verilog-stream-schedule.js';
import { addCells, addFeatures, emptyFeatures, romUnits, type Features } from './features.js';
import { maccCells } from './macc.js';
import { dotCost } from './dot-cost.js';
import { ruleFeatures } from './rule-cost.js';
import { bodyCost } from './layer-cost.js';
import { lineBufferRows, type Prim, type StreamNetwork, type WindowParams } from './stream-sim.js';

export interface Multipliers {
  readonly a: number;
  readonly b: number;
  readonly count: number;
  /** Partial-product bits of all `count` (in the `mulpp` feature). */
  readonly pp: number;
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

  done(): PartCost {
    return { features: this.features, ffs: this.ffs, memBits: this.memBits, ramBits: this.ramBits, multipliers: this.multipliers };
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
  // Eight position registers with their increments and comparisons, and each cell's bounds check.
  b.features.ctrl += PW * (8 + 2 * cells);
  b.ffs += 8 * PW + 2;
  return { params, cells, C };
}

/** The plans of an unrolled MAC over one input word (as `macStage` builds them). */
function macPlans(node: MacNode, input: Node): DotPlan[] {
  const acc = accumulatorType(node, [input]);
  const m = macMatrix(node, input, acc);
  const F = m.cols;
  const plans: DotPlan[] = [];
  for (let f = 0; f < F; f += 1) {
    const terms = [];
    for (let i = 0; i < m.rows; i += 1) {
      const c = m.codes[i * F + f]!;
      if (c !== 0n) terms.push({ slot: 0, index: i, weight: c << BigInt(m.shifts[f]!) });
    }
    plans.push({ terms, bias: m.bias[f]! });
  }
  return plans;
}

/**
 * Partial-product bits of one multiplier of a streamed MAC: its input (sign-extended when signed) times
 * the weight codes one ROM slot holds over the words, the product truncated to PW bits. Weight bits that
 * are constant over every word (high zeros of non-negative codes, common trailing zeros) and input bits
 * above an unsigned code are constant zeros that synthesis removes; a slot of zeros has no multiplier.
 */
function partialProducts(codes: readonly bigint[], inFmt: ElemFormat, PW: number): number {
  const nonzero = codes.filter((c) => c !== 0n);
  if (nonzero.length === 0) return 0;
  const neg = nonzero.some((c) => c < 0n);
  let lo = 0n;
  let hi = 0n;
  for (const c of nonzero) {
    if (c < lo) lo = c;
    if (c > hi) hi = c;
  }
  const wbits = neg ? signedWidth(lo, hi) : hi.toString(2).length;
  let tz = PW;
  for (const c of nonzero) {
    let v = c < 0n ? -c : c;
    let t = 0;
    while ((v & 1n) === 0n) {
      v >>= 1n;
      t += 1;
    }
    tz = Math.min(tz, t);
  }
  const wVar = (j: number): boolean => j >= tz && (j < wbits || neg);
  const xVar = (i: number): boolean => i < inFmt.width || inFmt.signed;
  let pp = 0;
  for (let i = 0; i < PW; i += 1) {
    if (!xVar(i)) continue;
    for (let j = 0; i + j < PW; j += 1) if (wVar(j)) pp += 1;
  }
  return pp;
}

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
    const plans = macPlans(node, input);
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
  // The weight ROM, S x F multipliers (products truncated to PW bits), per channel the sum of S
  // sign-extended products, the base (bias or running sum) plus the shifted part, and the selects.
  b.features.rom += romUnits(words, S * F * WW);
  b.memBits += words * S * F * WW;
  let active = 0;
  let pps = 0;
  for (let s = 0; s < S; s += 1) {
    for (let f = 0; f < F; f += 1) {
      const codes: bigint[] = [];
      for (let kk = 0; kk < k; kk += 1) {
        for (let tt = 0; tt < R; tt += 1) {
          const e = tt * S + s;
          if (e < n) codes.push(m.codes[(kk * n + e) * F + f]!);
        }
      }
      const pp = partialProducts(codes, inFmt, PW);
      if (pp > 0) active += 1;
      pps += pp;
    }
  }
  b.features.mulpp += pps;
  b.multipliers.push({ a: PW, b: PW, count: active, pp: pps });
  for (let f = 0; f < F; f += 1) {
    const sh = m.shifts[f]!;
    addCells(b.features, maccCells(W, Array.from({ length: S }, () => ({ width: PW, shift: 0 })), 0n, true));
    if (sh < W) addCells(b.features, maccCells(W, [{ width: W, shift: 0 }, { width: W - sh, shift: sh }]));
  }
  b.features.mux += F * W + (R - 1) * S * inFmt.width;
  const TW = R > 1 ? clog2(R) : 1;
  const KB = k > 1 ? clog2(k) : 1;
  const AW = clog2(words);
  b.features.ctrl += TW + KB + AW;
  // Running sums (only when a word takes several cycles or outputs several words), the output register.
  b.ffs += (words > 1 ? F * W : 0) + F * W + 1 + (R > 1 ? TW : 0) + (k > 1 ? KB : 0) + AW;
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
        // Per channel: the window sum, times the factor chosen by the count of cells inside the image.
        addCells(b.features, maccCells(A, Array.from({ length: w.cells }, () => ({ width: x.fmt.width, shift: 0 })), 0n, x.fmt.signed), w.C);
        b.features.mulpp += w.C * ((A * (A + 1)) / 2);
        b.multipliers.push({ a: A, b: A, count: w.C, pp: w.C * ((A * (A + 1)) / 2) });
        b.features.rom += romUnits(w.cells + 1, A);
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
