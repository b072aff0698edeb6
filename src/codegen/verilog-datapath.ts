/**
 * Verilog text for the combinational pieces of a layer, each one instance of a hand-written `qk_*`
 * module with the layer's constants as parameters: a whole layer of dot products (XNOR-popcount when
 * binary activations meet binary weights, otherwise shift-add terms from the non-adjacent form of every
 * nonzero weight), and a requantization rule over a vector (shift/round/saturate, sign, ternary,
 * thresholds, table). Everything here returns lines; the layer generators assemble them.
 */
import type { IntType, Rule } from '../ir/nodes.js';
import { codeRange, gridFrac, pow2 } from '../ir/fixed.js';
import { assertNever, UnsupportedError } from '../errors.js';
import type { DotPlan, DotTerm } from './verilog-plan.js';
import { nafDigits } from './cmvm.js';
import { cmvmLines, planMatvec } from './cmvm-verilog.js';
import { clog2, elemFormat, signedWidth, vlit, vpack, type ElemFormat } from './verilog-format.js';

export { nafDigits } from './cmvm.js';

/** A packed tensor bus: its signal name, element format, element count, and whether it holds ±1 codes. */
export interface BusRef {
  readonly name: string;
  readonly fmt: ElemFormat;
  readonly pm: boolean;
  readonly count: number;
}

/** Bit range of element i of a bus. */
export function elemSlice(bus: { name: string; fmt: ElemFormat }, i: number): string {
  const w = bus.fmt.width;
  return w === 1 ? `${bus.name}[${i}]` : `${bus.name}[${(i + 1) * w - 1}:${i * w}]`;
}

/** Concatenation of expressions with element 0 in the lowest bits. */
export function concatLow(exprs: readonly string[]): string {
  if (exprs.length === 1) return exprs[0]!;
  return `{${[...exprs].reverse().join(', ')}}`;
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

function trailingZeros(v: bigint): number {
  let a = abs(v);
  let t = 0;
  while (a > 0n && (a & 1n) === 0n) {
    a >>= 1n;
    t += 1;
  }
  return t;
}

function isPow2(v: bigint): boolean {
  const a = abs(v);
  return a > 0n && (a & (a - 1n)) === 0n;
}

/** What kind of datapath a layer of dot products became (reports and tests). */
export type DotKind = 'const' | 'xnor' | 'shiftadd';

interface Source {
  /** Element expression bus for the matvec input. */
  readonly bus: string;
  readonly fmt: ElemFormat;
  readonly offset: number;
  readonly pm: boolean;
}

export interface MatvecOptions {
  /**
   * Share sub-expressions common to several constant products (`planCmvm`): the shift-add datapath
   * becomes explicit wires, each shared term added once. A layer where nothing is worth sharing keeps
   * the plain datapath, byte for byte.
   */
  readonly share?: boolean;
}

function liveTerms(plans: readonly DotPlan[], W: number): DotTerm[][] {
  return plans.map((p) => p.terms.filter((t) => t.weight !== 0n && trailingZeros(t.weight) < W));
}

function slotsOf(plans: readonly DotPlan[]): number[] {
  const used = new Set<number>();
  for (const p of plans) for (const t of p.terms) used.add(t.slot);
  return [...used].sort((a, b) => a - b);
}

/** True when products become XNOR-popcount: one ±1 input, each output's weights ±m, m a power of two. */
function xnorApplies(live: readonly (readonly DotTerm[])[], slots: readonly number[], ins: readonly BusRef[]): boolean {
  if (slots.length !== 1 || !ins[slots[0]!]!.pm) return false;
  return live.every((ts) => ts.length === 0 || (isPow2(ts[0]!.weight) && ts.every((t) => abs(t.weight) === abs(ts[0]!.weight))));
}

/**
 * The datapath `matvecLines` builds for a layer of products modulo 2^W: constants only, XNOR-popcount,
 * or shift-add (whose adders `planMatvec` plans).
 */
export function dotDatapath(plans: readonly DotPlan[], ins: readonly BusRef[], W: number): DotKind {
  const live = liveTerms(plans, W);
  if (live.every((ts) => ts.length === 0)) return 'const';
  return xnorApplies(live, slotsOf(plans), ins) ? 'xnor' : 'shiftadd';
}

/**
 * Lines computing `out` (one accW-bit word per plan, packed) from the input buses. Arithmetic is modulo
 * 2^accW, exact because the accumulator type holds every result. `inst` prefixes every instance and
 * wire name.
 */
export function matvecLines(
  inst: string,
  plans: readonly DotPlan[],
  ins: readonly BusRef[],
  acc: ElemFormat,
  out: string,
  options: MatvecOptions = {},
): { lines: string[]; kind: DotKind; terms: number } {
  const W = acc.width;
  const lines: string[] = [];
  const slots = slotsOf(plans);
  const live = liveTerms(plans, W);
  if (live.every((ts) => ts.length === 0)) {
    lines.push(`  assign ${out} = ${vpack(plans.map((p) => p.bias), W)};`);
    return { lines, kind: 'const', terms: 0 };
  }

  // XNOR-popcount: one ±1 input, every output's weights ±m with m a power of two.
  if (xnorApplies(live, slots, ins)) {
    const src = ins[slots[0]!]!;
    const n = src.count;
    const bits = `${inst}_b`;
    lines.push(`  wire [${n - 1}:0] ${bits};`);
    lines.push(`  qk_pm_bits #(.N(${n})) ${inst}_pm (.x(${src.name}), .b(${bits}));`);
    const wbits: number[] = [];
    const mask: number[] = [];
    const sh: number[] = [];
    const bias: bigint[] = [];
    live.forEach((ts, o) => {
      const wrow = new Array<number>(n).fill(0);
      const mrow = new Array<number>(n).fill(0);
      let b = plans[o]!.bias;
      for (const t of ts) {
        wrow[t.index] = t.weight > 0n ? 1 : 0;
        mrow[t.index] = 1;
      }
      const m = ts.length === 0 ? 0n : abs(ts[0]!.weight);
      b -= BigInt(ts.length) * m;
      wbits.push(...wrow);
      mask.push(...mrow);
      sh.push(ts.length === 0 ? 0 : trailingZeros(m) + 1);
      bias.push(b);
      // An output without terms keeps its bias: its mask is empty, so its popcount is 0.
    });
    lines.push(
      `  qk_xnor_matvec #(.NI(${n}), .NO(${plans.length}), .W(${W}), .WBITS(${vpack(wbits, 1)}), .MASK(${vpack(mask, 1)}), ` +
        `.SH(${vpack(sh, 8)}), .BIAS(${vpack(bias, W)})) ${inst} (.x(${bits}), .y(${out}));`,
    );
    return { lines, kind: 'xnor', terms: live.reduce((a, ts) => a + ts.length, 0) };
  }

  const pmBits = (s: number): string => `${inst}_b${s}`;
  const pmLines = (s: number): string[] => [
    `  wire [${ins[s]!.count - 1}:0] ${pmBits(s)};`,
    `  qk_pm_bits #(.N(${ins[s]!.count})) ${inst}_pm${s} (.x(${ins[s]!.name}), .b(${pmBits(s)}));`,
  ];
  if (options.share === true) {
    const { plan, sources } = planMatvec(plans, ins, W, { share: true });
    if (plan.vars.length > plan.inputs) {
      for (const s of slots) if (ins[s]!.pm) lines.push(...pmLines(s));
      lines.push(...cmvmLines(inst, plan, sources, ins, pmBits, out));
      return { lines, kind: 'shiftadd', terms: plan.outputs.reduce((a, o) => a + o.digits.length, 0) };
    }
  }

  // Sources: ±1 inputs contribute their bit b (c = 2b - 1: weight 2w, bias - w), others their code.
  const sources = new Map<number, Source>();
  let offset = 0;
  for (const s of slots) {
    const bus = ins[s]!;
    if (bus.pm) {
      lines.push(...pmLines(s));
      sources.set(s, { bus: pmBits(s), fmt: { width: 1, signed: false }, offset, pm: true });
    } else {
      sources.set(s, { bus: bus.name, fmt: bus.fmt, offset, pm: false });
    }
    offset += bus.count;
  }
  const ni = offset;
  const srcs = slots.map((s) => sources.get(s)!);
  let fmt = srcs[0]!.fmt;
  let xExpr = srcs[0]!.bus;
  if (srcs.length > 1) {
    const same = srcs.every((s) => s.fmt.width === fmt.width && s.fmt.signed === fmt.signed);
    if (!same) {
      fmt = { width: Math.max(...srcs.map((s) => s.fmt.width + (s.fmt.signed ? 0 : 1))), signed: true };
    }
    const parts = slots.map((s) => {
      const src = sources.get(s)!;
      const count = ins[s]!.count;
      if (same) return src.bus;
      const wide = `${inst}_e${s}`;
      lines.push(`  wire [${count * fmt.width - 1}:0] ${wide};`);
      lines.push(
        `  qk_extend_vec #(.N(${count}), .IN_W(${src.fmt.width}), .IN_SIGNED(${src.fmt.signed ? 1 : 0}), .OUT_W(${fmt.width})) ` +
          `${inst}_x${s} (.x(${src.bus}), .y(${wide}));`,
      );
      return wide;
    });
    xExpr = `{${[...parts].reverse().join(', ')}}`;
  }
  // Every term becomes a plain unsigned addend, whose constant-zero high bits synthesis drops (sign
  // extension and subtraction would widen every term to the accumulator width): signed inputs enter as
  // u = x + 2^(n-1) (the sign bit flipped), negative digits add the complement ~u = 2^n - 1 - u, and
  // all the constants this moves go into the bias.
  const offsetInputs = fmt.signed;
  if (offsetInputs) {
    const u = `${inst}_u`;
    lines.push(`  wire [${ni * fmt.width - 1}:0] ${u} = ${xExpr} ^ {${ni}{${vlit(1n << BigInt(fmt.width - 1), fmt.width)}}};`);
    xExpr = u;
  }
  const off = offsetInputs ? 1n << BigInt(fmt.width - 1) : 0n;
  const full = (1n << BigInt(fmt.width)) - 1n;
  const idx: number[] = [];
  const shifts: number[] = [];
  const negs: number[] = [];
  const start: number[] = [0];
  const bias: bigint[] = [];
  live.forEach((ts, o) => {
    let b = plans[o]!.bias;
    for (const t of ts) {
      const src = sources.get(t.slot)!;
      let w = t.weight;
      if (src.pm) {
        b -= w;
        w *= 2n;
      }
      for (const d of nafDigits(w)) {
        if (d.shift >= W) continue;
        idx.push(src.offset + t.index);
        shifts.push(d.shift);
        negs.push(d.neg ? 1 : 0);
        // +(u - off) << s = (u << s) - (off << s);  -(u - off) << s = (~u << s) - (full << s) + (off << s).
        const sh = BigInt(d.shift);
        b += d.neg ? (off << sh) - (full << sh) : -(off << sh);
      }
    }
    start.push(idx.length);
    bias.push(b);
  });
  const T = idx.length;
  if (T === 0) {
    lines.push(`  assign ${out} = ${vpack(bias, W)};`);
    return { lines, kind: 'const', terms: 0 };
  }
  const ib = clog2(ni);
  const tb = clog2(T + 1);
  lines.push(
    `  qk_const_matvec #(.NI(${ni}), .IN_W(${fmt.width}), .IN_SIGNED(0), .NO(${plans.length}), .W(${W}), ` +
      `.T(${T}), .IB(${ib}), .TB(${tb}), .IDX(${vpack(idx, ib)}), .SH(${vpack(shifts, 8)}), .NEG(${vpack(negs, 1)}), ` +
      `.START(${vpack(start, tb)}), .BIAS(${vpack(bias, W)})) ${inst} (.x(${xExpr}), .y(${out}));`,
  );
  return { lines, kind: 'shiftadd', terms: T };
}

/** `ceil(t · 2^frac)` clamped to `[lo, hi + 1]`: the first code on the grid that reaches the threshold. */
function thresholdCode(t: number, frac: number, lo: bigint, hi: bigint): bigint {
  const scaled = t * pow2(frac);
  if (scaled === Infinity || scaled > Number(hi) + 1) return hi + 1n;
  if (scaled === -Infinity || scaled < Number(lo)) return lo;
  return BigInt(Math.ceil(scaled));
}

/** The largest number of table entries a table rule may expand to in hardware. */
export const MAX_TABLE_ENTRIES = 1 << 16;

/**
 * One instance applying `rule` to each of the `n` codes of bus `x` (type inType), driving bus `y` (type
 * outType).
 */
export function ruleLines(inst: string, rule: Rule, inType: IntType, outType: IntType, n: number, x: string, y: string): string[] {
  const fin = elemFormat(inType);
  const fout = elemFormat(outType);
  const fi = gridFrac(inType);
  const inP = `.N(${n}), .IN_W(${fin.width}), .IN_SIGNED(${fin.signed ? 1 : 0})`;
  const range = codeRange(inType);
  switch (rule.kind) {
    case 'shift': {
      const fr = rule.frac ?? fi;
      const lo = rule.lo === null ? 0n : BigInt(rule.lo);
      const hi = rule.hi === null ? 0n : BigInt(rule.hi);
      const limW = signedWidth(lo < hi ? lo : hi, lo < hi ? hi : lo) + 1;
      const neg = rule.negSlopeExp === null ? '' : `, .NEG_EN(1), .NEG_SHIFT(${fi - (fr + rule.negSlopeExp)})`;
      return [
        `  qk_requant_vec #(${inP}, .OUT_W(${fout.width}), .SHIFT(${fi - fr}), .EVEN(${rule.rounding === 'half_even' ? 1 : 0}), ` +
          `.LIM_W(${limW}), .LO_EN(${rule.lo === null ? 0 : 1}), .LO(${vlit(lo, limW)}), .HI_EN(${rule.hi === null ? 0 : 1}), ` +
          `.HI(${vlit(hi, limW)})${neg}) ${inst} (.x(${x}), .y(${y}));`,
      ];
    }
    case 'sign':
      return [`  qk_sign_vec #(${inP}, .ZERO_ONE(${rule.zeroOne ? 1 : 0}), .OUT_W(${fout.width})) ${inst} (.x(${x}), .y(${y}));`];
    case 'ternary': {
      const maxAbs = -range.lo > range.hi ? -range.lo : range.hi;
      let t = thresholdCode(rule.threshold, fi, range.lo, range.hi);
      if (t < 1n) t = 1n; // |c| >= t for t <= 1 is c != 0 (or every c), and sign(0) = 0 either way
      if (t > maxAbs + 1n) t = maxAbs + 1n;
      return [`  qk_ternary_vec #(${inP}, .T(${vlit(t, fin.width + 2)})) ${inst} (.x(${x}), .y(${y}));`];
    }
    case 'thresholds': {
      const tw = fin.width + 2;
      const ts = rule.thresholds.map((t) => thresholdCode(t, fi, range.lo, range.hi));
      if (ts.length === 0) return [`  assign ${y} = ${vpack(new Array<bigint>(n).fill(BigInt(rule.values[0]!)), fout.width)};`];
      return [
        `  qk_thresholds_vec #(${inP}, .NT(${ts.length}), .T(${vpack(ts, tw)}), .OUT_W(${fout.width}), ` +
          `.V(${vpack(rule.values.map((v) => BigInt(v)), fout.width)})) ${inst} (.x(${x}), .y(${y}));`,
      ];
    }
    case 'table': {
      if (fi > rule.inFrac) {
        throw new UnsupportedError(`${inst}: a table on the grid 2^-${rule.inFrac} cannot take inputs on the finer grid 2^-${fi}`);
      }
      const entries = Number(range.hi - range.lo) + 1;
      if (entries > MAX_TABLE_ENTRIES) {
        throw new UnsupportedError(
          `${inst}: a table activation over ${entries} input codes (${fin.width}-bit input) is too large for a ROM ` +
            `(at most ${MAX_TABLE_ENTRIES}); quantize the input of this activation to fewer bits`,
        );
      }
      const k = pow2(rule.inFrac - fi);
      const table: bigint[] = [];
      for (let c = Number(range.lo); c <= Number(range.hi); c += 1) {
        const v = rule.values[c * k - rule.inMin];
        table.push(v === undefined ? 0n : BigInt(v));
      }
      return [
        `  qk_lut_vec #(${inP}, .XLO(${vlit(range.lo, fin.width + 1)}), .NE(${entries}), .OUT_W(${fout.width}), ` +
          `.TABLE(${vpack(table, fout.width)})) ${inst} (.x(${x}), .y(${y}));`,
      ];
    }
    default:
      return assertNever(rule, 'rule');
  }
}

/** Lines for `y = index of the first maximum` over n element expressions of one format. */
export function argmaxLines(inst: string, exprs: readonly string[], fmt: ElemFormat, outWidth: number, y: string): string[] {
  if (exprs.length === 1) return [`  assign ${y} = ${vlit(0, outWidth)};`];
  return [
    `  qk_argmax #(.N(${exprs.length}), .W(${fmt.width}), .SIGNED(${fmt.signed ? 1 : 0}), .OUT_W(${outWidth})) ` +
      `${inst} (.x(${concatLow(exprs)}), .y(${y}));`,
  ];
}

/** Lines for `y_o = max over x[cells_o]` (a layer of max pooling windows). */
export function maxGatherLines(inst: string, windows: readonly (readonly number[])[], x: BusRef, y: string): string[] {
  const idx = windows.flat();
  const start = [0];
  for (const w of windows) start.push(start[start.length - 1]! + w.length);
  const ib = clog2(x.count);
  const tb = clog2(idx.length + 1);
  return [
    `  qk_max_gather #(.NI(${x.count}), .NO(${windows.length}), .W(${x.fmt.width}), .SIGNED(${x.fmt.signed ? 1 : 0}), ` +
      `.T(${idx.length}), .IB(${ib}), .TB(${tb}), .IDX(${vpack(idx, ib)}), .START(${vpack(start, tb)})) ${inst} (.x(${x.name}), .y(${y}));`,
  ];
}
