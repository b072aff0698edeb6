/**
 * The streaming architecture: the input tensor enters one word per pixel (all channels of a pixel; a
 * vector input is one word) with a valid/ready handshake, and each layer is a stream stage in its own
 * module: convolutions and pooling read a line buffer (`qk_stream_window`), MAC layers either unroll
 * their constant weights (reuse 1 over a single word) or run `qk_stream_mac` against a weight ROM with a
 * reuse factor, a dense layer after a flatten consumes the flattened stream word by word, elementwise
 * layers compute between two register stages. Every stage honours back-pressure. Streams that feed
 * several consumers go through a fork; several graph outputs share the output port through a tagged
 * merge. Streams meet word by word in element-wise adds and channel concatenations (residual and
 * inception-style graphs): the join waits for a word on every input, and each input that can run ahead
 * of another gets a FIFO sized from both branches' word schedules (verilog-stream-schedule.ts), so the
 * fork feeding the branches never deadlocks under any back-pressure. Concatenations of whole
 * single-word tensors work along any axis; other joins are refused with the layer named.
 */
import type { Graph } from '../ir/graph.js';
import type {
  AccumulatingNode,
  AvgPoolNode,
  Conv1dNode,
  Conv2dNode,
  DepthwiseNode,
  Dyadic,
  GlobalAvgPoolNode,
  IntType,
  MacNode,
  MaxPoolNode,
  Node,
} from '../ir/nodes.js';
import { gridFrac } from '../ir/fixed.js';
import { formatType } from '../ir/type-text.js';
import { UnsupportedError } from '../errors.js';
import { dyadicRatio } from '../ops/pool-ops.js';
import type { IdentifierPool } from './identifiers.js';
import { commentText } from './identifiers.js';
import { accumulatorPlan, accumulatorType, macMatrix, macPlans, windowAxes, windowCells } from './verilog-plan.js';
import { matvecLines, ruleLines, type BusRef, type DotKind } from './verilog-datapath.js';
import { clog2, elemFormat, signedWidth, vlit, vpack, type ElemFormat } from './verilog-format.js';
import { layerBody, numel } from './verilog-layers.js';
import { liveNodes, portTensor } from './verilog-parallel.js';
import type { LayerInfo, StreamPorts } from './verilog-manifest.js';
import type { GeneratedFile, TemplateSet } from './verilog-templates.js';
import { blockNeed, inputNeed, joinFifoDepth, lockstepNeed, windowNeed, type WordNeed } from './verilog-stream-schedule.js';

export interface StreamOptions {
  readonly reuse?: number | Readonly<Record<string, number>>;
}

/** A stream between stages: words of `beatElems` elements, `beats` words per sample. */
interface Stream {
  readonly valid: string;
  readonly ready: string;
  readonly data: string;
  readonly beats: number;
  readonly beatElems: number;
  readonly fmt: ElemFormat;
  /** Per word of a sample: graph input words it needs (see verilog-stream-schedule.ts). */
  readonly need: WordNeed;
  /** Clock cycles from the graph input to this stream without stalls (sizes join FIFOs for throughput). */
  readonly latency: number;
}

interface StageModule {
  readonly lines: string[];
  readonly files: GeneratedFile[];
  readonly reuse?: number;
  readonly datapath?: DotKind | 'rom';
  readonly terms?: number;
}

const STREAM_PORT_LINES = (inW: number, outW: number): string[] => [
  '  input  wire clk,',
  '  input  wire rst,',
  '  input  wire in_valid,',
  '  output wire in_ready,',
  '  /* verilator lint_off UNUSEDSIGNAL */',
  '  // Pruned weights, padding and strides can leave input elements unread.',
  `  input  wire [${inW - 1}:0] in_data,`,
  '  /* verilator lint_on UNUSEDSIGNAL */',
  '  output wire out_valid,',
  '  input  wire out_ready,',
  `  output wire [${outW - 1}:0] out_data`,
];

function reuseFor(node: Node, reuse: StreamOptions['reuse']): number {
  let r = 1;
  if (typeof reuse === 'number') r = reuse;
  else if (reuse !== undefined) r = reuse[node.origin.layer] ?? reuse[node.id] ?? 1;
  if (!Number.isInteger(r) || r < 1) {
    throw new UnsupportedError(`layer ${JSON.stringify(node.origin.layer)}: reuse factor ${r} must be a positive integer`);
  }
  return r;
}

function bus(name: string, fmt: ElemFormat, count: number): BusRef {
  // Streamed ±1 codes are plain 2-bit integers: padding cells are zero, which no ±1 bit can express.
  return { name, fmt, pm: false, count };
}

/** A stage's output: the registered sums, requantized (accumulating nodes) on their way out. */
function finishLines(node: AccumulatingNode | MaxPoolNode, accValid: string, accReady: string, accData: string, accType: IntType, channels: number): string[] {
  const lines: string[] = [`  assign out_valid = ${accValid};`, `  assign ${accReady} = out_ready;`];
  const rq = node.kind === 'maxpool' ? null : node.requant;
  if (rq === null) lines.push(`  assign out_data = ${accData};`);
  else lines.push(...ruleLines('u_rq', rq.rule, accType, node.type as IntType, channels, accData, 'out_data'));
  return lines;
}

function regLines(w: number, inValid: string, inReady: string, inData: string, outValid: string, outReady: string, outData: string, inst = 'u_reg'): string[] {
  return [
    `  qk_stream_reg #(.W(${w})) ${inst} (.clk(clk), .rst(rst), .in_valid(${inValid}), .in_ready(${inReady}), .in_data(${inData}), ` +
      `.out_valid(${outValid}), .out_ready(${outReady}), .out_data(${outData}));`,
  ];
}

interface MacGeometry {
  /** Elements per input word the MAC reads. */
  readonly n: number;
  /** Input words per output word. */
  readonly k: number;
}

/**
 * MAC stage from its input words (`x`, `n` elements each, `k` words per output): constant dot products
 * when one word makes an output and reuse is 1, else `qk_stream_mac` against a ROM module.
 */
function macStage(
  node: MacNode,
  input: Node,
  geo: MacGeometry,
  x: { valid: string; ready: string; data: string; fmt: ElemFormat },
  reuse: number,
  module: string,
  t: TemplateSet,
): StageModule {
  const acc = accumulatorType(node, [input]);
  const m = macMatrix(node, input, acc);
  const W = acc.width;
  const F = m.cols;
  const lines: string[] = [];
  const files: GeneratedFile[] = [];
  lines.push(`  wire acc_valid;`, `  wire acc_ready;`, `  wire [${F * W - 1}:0] acc_data;`);
  const R = Math.min(reuse, geo.n);
  let datapath: DotKind | 'rom' = 'rom';
  let termCount = 0;
  if (geo.k === 1 && R === 1) {
    lines.push(`  wire [${F * W - 1}:0] sums;`);
    const mv = matvecLines('u_mv', macPlans(m), [bus(x.data, x.fmt, geo.n)], { width: W, signed: acc.signed }, 'sums');
    datapath = mv.kind;
    termCount = mv.terms;
    lines.push(...mv.lines);
    lines.push(...regLines(F * W, x.valid, x.ready, 'sums', 'acc_valid', 'acc_ready', 'acc_data', 'u_acc'));
  } else {
    const S = Math.ceil(geo.n / R);
    const words = geo.k * R;
    const AW = clog2(words);
    let maxBits = 1;
    for (const c of m.codes) maxBits = Math.max(maxBits, signedWidth(c < 0n ? c : 0n, c > 0n ? c : 0n));
    const WW = maxBits;
    const romWords: string[] = [];
    for (let kk = 0; kk < geo.k; kk += 1) {
      for (let tt = 0; tt < R; tt += 1) {
        const vals: bigint[] = [];
        for (let s = 0; s < S; s += 1) {
          const e = tt * S + s;
          for (let f = 0; f < F; f += 1) vals.push(e < geo.n ? m.codes[(kk * geo.n + e) * F + f]! : 0n);
        }
        romWords.push(`      ${vlit(kk * R + tt, AW)}: data = ${vpack(vals, WW)};`);
      }
    }
    romWords.push(`      default: data = ${vlit(0, S * F * WW)};`);
    const rom = `${module}_rom`;
    files.push({
      name: `${rom}.v`,
      text: t.rom({
        module: rom,
        comment: `weight ROM of layer ${commentText(node.origin.layer)}: word k*${R} + t holds ${S} x ${F} codes of ${WW} bits`,
        addrMsb: AW - 1,
        dataMsb: S * F * WW - 1,
        words: romWords,
      }),
    });
    lines.push(`  wire [${AW - 1}:0] rom_addr;`, `  wire [${S * F * WW - 1}:0] rom_data;`);
    lines.push(`  ${rom} u_rom (.addr(rom_addr), .data(rom_data));`);
    lines.push(
      `  qk_stream_mac #(.N(${geo.n}), .IN_W(${x.fmt.width}), .IN_SIGNED(${x.fmt.signed ? 1 : 0}), .F(${F}), .K(${geo.k}), ` +
        `.R(${R}), .S(${S}), .WW(${WW}), .ACC_W(${W}), .SHIFTS(${vpack(m.shifts, 8)}), .BIAS(${vpack(m.bias, W)}), .AW(${AW})) ` +
        `u_mac (.clk(clk), .rst(rst), .in_valid(${x.valid}), .in_ready(${x.ready}), .in_data(${x.data}), .rom_addr(rom_addr), ` +
        `.rom_data(rom_data), .out_valid(acc_valid), .out_ready(acc_ready), .out_data(acc_data));`,
    );
  }
  lines.push(...finishLines(node, 'acc_valid', 'acc_ready', 'acc_data', acc, F));
  return { lines, files, reuse: R, datapath, terms: termCount };
}

type WindowNode = Conv1dNode | Conv2dNode | DepthwiseNode | MaxPoolNode | AvgPoolNode;

function windowLines(node: WindowNode, input: Node, fmt: ElemFormat): { lines: string[]; cells: number; C: number } {
  const [gh, gw] = windowAxes(node, input.shape);
  const C = input.shape[input.shape.length - 1]!;
  const H = gh.inSize;
  const W = gw.inSize;
  const cells = gh.kernel * gw.kernel;
  const lines = [
    '  wire win_valid;',
    '  wire win_ready;',
    '  /* verilator lint_off UNUSEDSIGNAL */',
    '  // Zero weights leave window elements unread; convolutions need no mask (padding cells are zero).',
    `  wire [${cells * C * fmt.width - 1}:0] win_data;`,
    `  wire [${cells - 1}:0] win_mask;`,
    '  /* verilator lint_on UNUSEDSIGNAL */',
    `  qk_stream_window #(.H(${H}), .W(${W}), .C(${C}), .EW(${fmt.width}), .KH(${gh.kernel}), .KW(${gw.kernel}), ` +
      `.SH(${gh.stride}), .SW(${gw.stride}), .DH(${gh.dilation}), .DW(${gw.dilation}), .PT(${gh.padBefore}), .PL(${gw.padBefore}), ` +
      `.OH(${gh.outSize}), .OW(${gw.outSize})) u_win (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), ` +
      '.in_data(in_data), .out_valid(win_valid), .out_ready(win_ready), .out_data(win_data), .out_mask(win_mask));',
  ];
  return { lines, cells, C };
}

const ONE: Dyadic = { code: 1, exp: 0 };

/** The factor per count of a window's cells inside the image (0 for counts that never occur), on the accumulator grid. */
export function avgFactors(node: AvgPoolNode, input: Node, accFrac: number): bigint[] {
  const [gh, gw] = windowAxes(node, input.shape);
  const counts = new Set<number>();
  for (let oh = 0; oh < gh.outSize; oh += 1) for (let ow = 0; ow < gw.outSize; ow += 1) counts.add(windowCells(gh, gw, oh, ow).length);
  const fi = gridFrac(input.type as IntType);
  const m = node.mult ?? ONE;
  const cells = gh.kernel * gw.kernel;
  return Array.from({ length: cells + 1 }, (_, n) => {
    if (!counts.has(n)) return 0n;
    const r = dyadicRatio(node.preScale, n)!;
    return BigInt(r.p) * BigInt(m.code) * (1n << BigInt(accFrac - fi + m.exp - r.k));
  });
}

/** A copy of an elementwise node (and its input) over one word, so the parallel body generator applies. */
function wordNodes(node: Node, input: Node, beatElems: number): { node: Node; input: Node } {
  const inShape = [beatElems];
  const outShape = node.kind === 'argmax' ? [] : [beatElems];
  return { node: { ...node, shape: outShape } as Node, input: { ...input, shape: inShape } as Node };
}

function stageFor(node: Node, input: Node, s: Stream, module: string, t: TemplateSet, reuse: number): StageModule {
  const inFmt = s.fmt;
  const x = { valid: 'in_valid', ready: 'in_ready', data: 'in_data', fmt: inFmt };
  switch (node.kind) {
    case 'conv1d':
    case 'conv2d':
    case 'depthwise': {
      const w = windowLines(node, input, inFmt);
      const mac = macStage(node, input, { n: w.cells * w.C, k: 1 }, { valid: 'win_valid', ready: 'win_ready', data: 'win_data', fmt: inFmt }, reuse, module, t);
      return { ...mac, lines: [...w.lines, ...mac.lines] };
    }
    case 'dense':
    case 'pointwise': {
      const n = input.shape[input.shape.length - 1]!;
      const k = input.shape.length === 1 ? n / s.beatElems : 1;
      return macStage(node, input, { n: input.shape.length === 1 ? s.beatElems : n, k }, x, reuse, module, t);
    }
    case 'maxpool': {
      const w = windowLines(node, input, inFmt);
      const width = w.C * inFmt.width;
      const lines = [
        ...w.lines,
        `  wire [${width - 1}:0] pooled;`,
        `  qk_window_max #(.CELLS(${w.cells}), .C(${w.C}), .EW(${inFmt.width}), .SIGNED(${inFmt.signed ? 1 : 0})) u_max ` +
          '(.x(win_data), .mask(win_mask), .y(pooled));',
        ...regLines(width, 'win_valid', 'win_ready', 'pooled', 'out_valid', 'out_ready', 'out_data'),
      ];
      return { lines, files: [] };
    }
    case 'avgpool': {
      const w = windowLines(node, input, inFmt);
      const acc = accumulatorType(node, [input]);
      const factors = avgFactors(node, input, acc.frac);
      const fw = Math.max(...factors.map((f) => signedWidth(f < 0n ? f : 0n, f > 0n ? f : 0n)));
      const width = w.C * acc.width;
      const lines = [
        ...w.lines,
        `  wire [${width - 1}:0] sums;`,
        `  qk_window_avg #(.CELLS(${w.cells}), .C(${w.C}), .EW(${inFmt.width}), .SIGNED(${inFmt.signed ? 1 : 0}), .ACC_W(${acc.width}), ` +
          `.FW(${fw}), .FACTORS(${vpack(factors, fw)})) u_avg (.x(win_data), .mask(win_mask), .y(sums));`,
        '  wire acc_valid;',
        '  wire acc_ready;',
        `  wire [${width - 1}:0] acc_data;`,
        ...regLines(width, 'win_valid', 'win_ready', 'sums', 'acc_valid', 'acc_ready', 'acc_data', 'u_acc'),
        ...finishLines(node, 'acc_valid', 'acc_ready', 'acc_data', acc, w.C),
      ];
      return { lines, files: [] };
    }
    case 'globalavgpool': {
      const plan = accumulatorPlan(node as GlobalAvgPoolNode, [input]);
      const C = input.shape[input.shape.length - 1]!;
      const mult = plan.dots[0]?.terms[0]?.weight ?? 0n;
      const acc = plan.acc;
      const width = C * acc.width;
      const lines = [
        '  wire acc_valid;',
        '  wire acc_ready;',
        `  wire [${width - 1}:0] acc_data;`,
        `  qk_stream_gap #(.K(${numel(input.shape) / C}), .C(${C}), .IN_W(${inFmt.width}), .IN_SIGNED(${inFmt.signed ? 1 : 0}), ` +
          `.ACC_W(${acc.width}), .MULT(${vlit(mult, acc.width)})) u_gap (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), ` +
          '.in_data(in_data), .out_valid(acc_valid), .out_ready(acc_ready), .out_data(acc_data));',
        ...finishLines(node as GlobalAvgPoolNode, 'acc_valid', 'acc_ready', 'acc_data', acc, C),
      ];
      return { lines, files: [] };
    }
    case 'requantize':
    case 'batchnorm':
    case 'argmax': {
      const v = wordNodes(node, input, s.beatElems);
      const outFmt = elemFormat(node.type, `%${node.id}`);
      const outElems = node.kind === 'argmax' ? 1 : s.beatElems;
      const built = layerBody(v.node, [v.input], [bus('in_data', inFmt, s.beatElems)], 'word');
      const lines = [
        `  wire [${outElems * outFmt.width - 1}:0] word;`,
        ...built.lines,
        ...regLines(outElems * outFmt.width, 'in_valid', 'in_ready', 'word', 'out_valid', 'out_ready', 'out_data'),
      ];
      return { lines, files: [], ...(built.datapath === null ? {} : { datapath: built.datapath, terms: built.terms }) };
    }
    default:
      throw new Error(`internal: no stream stage for ${node.kind}`);
  }
}

/** The word schedule of a stage's output (see verilog-stream-schedule.ts). */
function stageNeedFor(node: Node, input: Node, x: Stream, outBeats: number): WordNeed {
  switch (node.kind) {
    case 'conv1d':
    case 'conv2d':
    case 'depthwise':
    case 'maxpool':
    case 'avgpool':
      return windowNeed(node, input, x.need);
    case 'dense':
      return input.shape.length === 1 ? blockNeed(1, x.beats, x.need) : x.need;
    case 'globalavgpool':
      return blockNeed(1, x.beats, x.need);
    default:
      // Element-wise stages, per-pixel MACs and argmax: word m from word m.
      if (outBeats !== x.beats) throw new Error(`internal: %${node.id} makes ${outBeats} words from ${x.beats}`);
      return x.need;
  }
}

interface JoinStage {
  readonly ports: string[];
  readonly lines: string[];
  /** FIFO depth in words on each input (0: none). */
  readonly depths: number[];
  readonly out: { readonly beats: number; readonly beatElems: number; readonly need: WordNeed; readonly latency: number };
  readonly datapath: DotKind | null;
  readonly terms: number;
}

/**
 * An add or concatenation of streams that meet word by word: a FIFO on every input that can run ahead
 * of the others, the join handshake, the combinational add / concatenation of one word from each input
 * (or of the whole tensors when every input is one word), and a register stage.
 */
function joinStage(node: Node, inputs: readonly Node[], xs: readonly Stream[], period: number): JoinStage {
  const whole = xs.every((x) => x.beats === 1);
  let outElems = xs[0]!.beatElems;
  if (whole) outElems = numel(node.shape);
  else if (node.kind === 'concat') outElems = xs.reduce((a, x) => a + x.beatElems, 0);
  const need = lockstepNeed(xs.map((x) => x.need));
  // A branch that runs ahead holds what the schedules require, plus the words that enter it while the
  // latest branch's pipeline delivers (so the join keeps one word per clock).
  const slowest = Math.max(...xs.map((x) => x.latency));
  const depths = xs.map((x) => {
    const d = joinFifoDepth(x.need, need, period);
    return d === 0 ? 0 : d + slowest - x.latency;
  });
  const widths = xs.map((x) => x.beatElems * x.fmt.width);
  const outW = outElems * elemFormat(node.type, `%${node.id}`).width;
  const M = xs.length;
  const ports = [
    '  input  wire clk,',
    '  input  wire rst,',
    `  input  wire [${M - 1}:0] in_valid,`,
    `  output wire [${M - 1}:0] in_ready,`,
    `  input  wire [${widths.reduce((a, b) => a + b, 0) - 1}:0] in_data,`,
    '  output wire out_valid,',
    '  input  wire out_ready,',
    `  output wire [${outW - 1}:0] out_data`,
  ];
  const lines: string[] = [];
  let off = 0;
  widths.forEach((w, k) => {
    const slice = `in_data[${off + w - 1}:${off}]`;
    off += w;
    lines.push(`  wire b${k}_valid;`, `  wire b${k}_ready;`, '  /* verilator lint_off UNUSEDSIGNAL */', `  wire [${w - 1}:0] x${k};`, '  /* verilator lint_on UNUSEDSIGNAL */');
    if (depths[k]! > 0) {
      lines.push(
        `  // input ${k} can run ${depths[k]} word(s) ahead of the join`,
        `  qk_stream_fifo #(.W(${w}), .DEPTH(${depths[k]})) u_fifo${k} (.clk(clk), .rst(rst), .in_valid(in_valid[${k}]), .in_ready(in_ready[${k}]), ` +
          `.in_data(${slice}), .out_valid(b${k}_valid), .out_ready(b${k}_ready), .out_data(x${k}));`,
      );
    } else {
      lines.push(`  assign b${k}_valid = in_valid[${k}];`, `  assign in_ready[${k}] = b${k}_ready;`, `  assign x${k} = ${slice};`);
    }
  });
  const rev = (v: string[]): string => (v.length === 1 ? v[0]! : `{${[...v].reverse().join(', ')}}`);
  lines.push(
    '  wire join_valid;',
    '  wire join_ready;',
    `  wire [${M - 1}:0] join_in_ready;`,
    `  qk_stream_join #(.M(${M})) u_join (.in_valid(${rev(xs.map((_, k) => `b${k}_valid`))}), .in_ready(join_in_ready), ` +
      '.out_valid(join_valid), .out_ready(join_ready));',
    ...xs.map((_, k) => `  assign b${k}_ready = join_in_ready[${k}];`),
  );
  // One word of every input: copies of the nodes over one word (the whole tensors when one word each).
  const wordInputs = whole ? inputs : inputs.map((x, k) => ({ ...x, shape: [xs[k]!.beatElems] }) as Node);
  const wordNode = whole ? node : ({ ...node, shape: [outElems], ...(node.kind === 'concat' ? { axis: -1 } : {}) } as Node);
  const built = layerBody(wordNode, wordInputs, wordInputs.map((x, k) => bus(`x${k}`, xs[k]!.fmt, numel(x.shape))), 'word');
  lines.push(`  wire [${outW - 1}:0] word;`, ...built.lines, ...regLines(outW, 'join_valid', 'join_ready', 'word', 'out_valid', 'out_ready', 'out_data'));
  return {
    ports,
    lines,
    depths,
    out: { beats: xs[0]!.beats, beatElems: outElems, need, latency: Math.max(...xs.map((x, k) => x.latency + (depths[k]! > 0 ? 1 : 0))) + 1 },
    datapath: built.datapath,
    terms: built.terms,
  };
}

/** Why a join (add, concatenation) cannot meet its input streams word by word (null when it can). */
function joinProblem(node: Node, inputs: readonly Node[], ss: readonly Stream[], where: string): string | null {
  const beats = ss.map((s) => s.beats);
  // Whole tensors in one word each: the combinational concatenation or add applies as in parallel.
  if (beats.every((b) => b === 1)) return null;
  if (beats.some((b) => b !== beats[0])) {
    return `${where}: its inputs arrive in ${beats.join(' and ')} words per sample; streams meet only word by word (use arch "parallel")`;
  }
  const pixelWords = inputs.every((x, k) => ss[k]!.beatElems === x.shape[x.shape.length - 1]);
  if (node.kind === 'add') {
    return ss.every((s) => s.beatElems === ss[0]!.beatElems) ? null : `${where}: its inputs arrive in words of different sizes (use arch "parallel")`;
  }
  if (node.kind !== 'concat') return null;
  const axis = node.axis < 0 ? node.axis + node.shape.length : node.axis;
  if (axis !== node.shape.length - 1) {
    return (
      `${where}: concatenating streamed feature maps along axis ${node.axis} would need whole feature maps buffered; ` +
      'the stream architecture concatenates along the channel (last) axis only (use arch "parallel")'
    );
  }
  return pixelWords ? null : `${where}: needs one word per pixel from every input, got words of ${ss.map((s) => s.beatElems).join(' and ')} elements`;
}

/** Why a node cannot be streamed from the streams it receives (null when it can). */
function streamProblem(node: Node, inputs: readonly (Node | undefined)[], ss: readonly (Stream | undefined)[]): string | null {
  const where = `layer ${JSON.stringify(node.origin.layer)} (${node.kind})`;
  if (node.kind === 'input') return null;
  const input = inputs[0];
  const s = ss[0];
  if (input === undefined || s === undefined) return `${where}: its input is not streamed`;
  const lastDim = input.shape[input.shape.length - 1]!;
  const pixelWords = s.beatElems === lastDim;
  switch (node.kind) {
    case 'conv1d':
    case 'conv2d':
    case 'depthwise':
    case 'maxpool':
    case 'avgpool':
    case 'globalavgpool':
    case 'pointwise':
    case 'argmax':
      return pixelWords ? null : `${where}: needs one word per pixel with all ${lastDim} channels, but its input arrives in words of ${s.beatElems}`;
    case 'dense':
      if (input.shape.length === 1) return lastDim % s.beatElems === 0 ? null : `${where}: input words of ${s.beatElems} do not divide ${lastDim}`;
      return pixelWords ? null : `${where}: needs words of ${lastDim} elements, got ${s.beatElems}`;
    case 'requantize':
    case 'batchnorm':
      return node.kind === 'batchnorm' && !pixelWords ? `${where}: needs one word per pixel` : null;
    case 'add':
    case 'concat':
      if (ss.some((x) => x === undefined)) return `${where}: an input is not streamed`;
      return joinProblem(node, inputs as Node[], ss as Stream[], where);
    case 'reshape': {
      const last = node.shape[node.shape.length - 1]!;
      if (node.shape.length === 1 || last === s.beatElems) return null;
      return `${where}: reshaping words of ${s.beatElems} elements into rows of ${last} is not supported when streaming`;
    }
    default:
      return null;
  }
}

export interface StreamDesign {
  readonly files: GeneratedFile[];
  readonly ports: StreamPorts;
  readonly layers: LayerInfo[];
}

export function generateStream(g: Graph, top: string, modules: IdentifierPool, t: TemplateSet, options: StreamOptions): StreamDesign {
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const problems: string[] = [];
  if (g.inputs.length !== 1) problems.push(`the stream architecture takes one model input; this graph has ${g.inputs.length}`);
  // How many consumers read each node's stream (graph outputs count as consumers).
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o, (uses.get(o) ?? 0) + 1);

  const signals = t.signalPool();
  const body: string[] = [];
  const files: GeneratedFile[] = [];
  const layers: LayerInfo[] = [];
  const streams = new Map<string, Stream>();
  // Fork outputs handed out so far per node.
  const taken = new Map<string, number>();
  const forks = new Map<string, string>();

  const declareStream = (base: string, w: number): { valid: string; ready: string; data: string } => {
    body.push(`  wire ${base}_valid;`, `  wire ${base}_ready;`, `  wire [${w - 1}:0] ${base}_data;`);
    return { valid: `${base}_valid`, ready: `${base}_ready`, data: `${base}_data` };
  };

  /** The stream of node `id` for one more consumer (through a fork when several read it). */
  const consume = (id: string): Stream => {
    const s = streams.get(id)!;
    const count = uses.get(id) ?? 1;
    if (count === 1) return s;
    const k = taken.get(id) ?? 0;
    taken.set(id, k + 1);
    let base = forks.get(id);
    const w = s.beatElems * s.fmt.width;
    if (base === undefined) {
      base = `fk_${s.valid.replace(/_valid$/, '')}`;
      forks.set(id, base);
      body.push(`  wire [${count - 1}:0] ${base}_valid;`, `  wire [${count - 1}:0] ${base}_ready;`, `  wire [${count * w - 1}:0] ${base}_data;`);
      body.push(
        `  qk_stream_fork #(.M(${count}), .W(${w})) i_${base} (.clk(clk), .rst(rst), .in_valid(${s.valid}), .in_ready(${s.ready}), ` +
          `.in_data(${s.data}), .out_valid(${base}_valid), .out_ready(${base}_ready), .out_data(${base}_data));`,
      );
    }
    return { ...s, valid: `${base}_valid[${k}]`, ready: `${base}_ready[${k}]`, data: `${base}_data[${(k + 1) * w - 1}:${k * w}]` };
  };

  let inPort: StreamPorts['input'] | null = null;
  // Nodes left out after a problem: their consumers are not reported again.
  const refused = new Set<string>();
  for (const n of nodes) {
    if (n.inputs.some((id) => refused.has(id))) {
      refused.add(n.id);
      continue;
    }
    const inputs = n.inputs.map((id) => byId.get(id)!);
    const problem = streamProblem(n, inputs, n.inputs.map((id) => streams.get(id)));
    if (problem !== null) {
      problems.push(problem);
      refused.add(n.id);
      continue;
    }
    const fmt = elemFormat(n.type, `%${n.id}`);
    const base = `s_${signals.claim(n.origin.layer === n.id ? n.id : `${n.origin.layer}_${n.id}`)}`;
    if (n.kind === 'input') {
      const beatElems = n.shape[n.shape.length - 1]!;
      const beats = numel(n.shape) / beatElems;
      const w = beatElems * fmt.width;
      body.push(`  // input ${commentText(n.origin.layer)}: ${commentText(formatType(n.type!))} [${n.shape.join(', ')}], ${beats} word(s) of ${beatElems}`);
      body.push(`  wire ${base}_valid = in_valid;`, `  wire ${base}_ready;`, `  wire [${w - 1}:0] ${base}_data = in_data;`, `  assign in_ready = ${base}_ready;`);
      streams.set(n.id, { valid: `${base}_valid`, ready: `${base}_ready`, data: `${base}_data`, beats, beatElems, fmt, need: inputNeed(beats), latency: 0 });
      inPort = { ...portTensor(n), beats, beatElems };
      continue;
    }
    const xs = n.inputs.map((id) => consume(id));
    const x = xs[0]!;
    const input = inputs[0]!;
    body.push(`  // ${n.kind} ${commentText(n.origin.layer)} (${commentText(n.origin.className)}): ${commentText(formatType(n.type!))} [${n.shape.join(', ')}]`);
    if (n.kind === 'reshape') {
      const beatElems = n.shape.length === 1 ? x.beatElems : n.shape[n.shape.length - 1]!;
      streams.set(n.id, { ...x, beats: numel(n.shape) / beatElems, beatElems });
      continue;
    }
    const mod = modules.claim(`${top}_${n.origin.layer}`);
    const comment = `stream stage of layer ${commentText(n.origin.layer)} (${commentText(n.origin.className)}), IR node %${commentText(n.id)} (${n.kind})`;
    if (n.kind === 'add' || n.kind === 'concat') {
      const join = joinStage(n, inputs, xs, inPort!.beats);
      files.push({ name: `${mod}.v`, text: t.layer({ module: mod, comment, ports: join.ports, body: join.lines }) });
      layers.push({ module: mod, node: n.id, layer: n.origin.layer, kind: n.kind, fifos: join.depths, ...(join.datapath === null ? {} : { datapath: join.datapath, terms: join.terms }) });
      const out = declareStream(base, join.out.beatElems * fmt.width);
      const rev = <T>(v: readonly T[]): T[] => [...v].reverse();
      body.push(
        `  ${mod} i_${base} (.clk(clk), .rst(rst), .in_valid({${rev(xs.map((v) => v.valid)).join(', ')}}), ` +
          `.in_ready({${rev(xs.map((v) => v.ready)).join(', ')}}), .in_data({${rev(xs.map((v) => v.data)).join(', ')}}), ` +
          `.out_valid(${out.valid}), .out_ready(${out.ready}), .out_data(${out.data}));`,
      );
      streams.set(n.id, { ...out, ...join.out, fmt });
      continue;
    }
    const stage = stageFor(n, input, x, mod, t, reuseFor(n, options.reuse));
    let outBeats: number;
    let outElems: number;
    if (n.kind === 'dense' && input.shape.length === 1) {
      outBeats = 1;
      outElems = n.shape[n.shape.length - 1]!;
    } else if (n.kind === 'argmax') {
      outElems = 1;
      outBeats = x.beats;
    } else if (n.kind === 'globalavgpool') {
      outBeats = 1;
      outElems = n.shape[0]!;
    } else {
      outElems = n.shape[n.shape.length - 1]!;
      outBeats = numel(n.shape) / outElems;
    }
    const outW = outElems * fmt.width;
    files.push({ name: `${mod}.v`, text: t.layer({ module: mod, comment, ports: STREAM_PORT_LINES(x.beatElems * x.fmt.width, outW), body: stage.lines }) });
    files.push(...stage.files);
    layers.push({
      module: mod,
      node: n.id,
      layer: n.origin.layer,
      kind: n.kind,
      ...(stage.reuse !== undefined ? { reuse: stage.reuse } : {}),
      ...(stage.datapath !== undefined ? { datapath: stage.datapath, terms: stage.terms ?? 0 } : {}),
    });
    const out = declareStream(base, outW);
    body.push(
      `  ${mod} i_${base} (.clk(clk), .rst(rst), .in_valid(${x.valid}), .in_ready(${x.ready}), .in_data(${x.data}), ` +
        `.out_valid(${out.valid}), .out_ready(${out.ready}), .out_data(${out.data}));`,
    );
    // A register stage, R cycles per word in a MAC with reuse R, and a cycle for a line buffer's window.
    const windowed = ['conv1d', 'conv2d', 'depthwise', 'maxpool', 'avgpool'].includes(n.kind) ? 1 : 0;
    const latency = x.latency + windowed + (stage.reuse ?? 1);
    streams.set(n.id, { ...out, beats: outBeats, beatElems: outElems, fmt, need: stageNeedFor(n, input, x, outBeats), latency });
  }
  if (problems.length > 0 || inPort === null) {
    throw new UnsupportedError(
      `graph ${JSON.stringify(g.name)} cannot use the stream architecture (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }

  const outs = g.outputs.map((id) => ({ id, s: consume(id), node: byId.get(id)! }));
  const payload = Math.max(...outs.map((o) => o.s.beatElems * o.s.fmt.width));
  const tagWidth = outs.length > 1 ? clog2(outs.length) : 0;
  const outWidth = payload + tagWidth;
  if (outs.length === 1) {
    const o = outs[0]!;
    const w = o.s.beatElems * o.s.fmt.width;
    body.push(`  assign out_valid = ${o.s.valid};`, `  assign ${o.s.ready} = out_ready;`);
    body.push(w === payload ? `  assign out_data = ${o.s.data};` : `  assign out_data = {${payload - w}'h0, ${o.s.data}};`);
  } else {
    const datas = outs.map((o) => {
      const w = o.s.beatElems * o.s.fmt.width;
      return w === payload ? o.s.data : `{${payload - w}'h0, ${o.s.data}}`;
    });
    body.push(`  wire [${outs.length - 1}:0] mg_ready;`);
    outs.forEach((o, k) => body.push(`  assign ${o.s.ready} = mg_ready[${k}];`));
    body.push(
      `  qk_stream_merge #(.M(${outs.length}), .W(${payload}), .TW(${tagWidth})) i_merge (` +
        `.in_valid({${outs.map((o) => o.s.valid).reverse().join(', ')}}), .in_ready(mg_ready), ` +
        `.in_data({${[...datas].reverse().join(', ')}}), .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));`,
    );
  }
  const inW = inPort.beatElems * inPort.width;
  files.unshift({ name: `${top}.v`, text: t.topStream({ top, inMsb: inW - 1, outMsb: outWidth - 1, body }) });
  return {
    files,
    ports: {
      kind: 'stream',
      inWidth: inW,
      outWidth,
      input: inPort,
      outputs: outs.map((o) => ({ ...portTensor(o.node), beats: o.s.beats, beatElems: o.s.beatElems })),
      tagWidth,
    },
    layers,
  };
}
