/**
 * A layer of constant dot products as an explicit adder network with shared sub-expressions: the dot
 * plans of a layer become a `CmvmProblem` (one variable per input element read; ±1 inputs enter as
 * their bit), `planCmvm` extracts the common terms, and the lines here declare each variable as an
 * unsigned wire (inputs with the sign bit flipped, shared terms as one addition each, at their exact
 * width), then one sum per output over its shifted, possibly complemented, addends plus a constant.
 * The arithmetic is exactly `evalCmvmWires`.
 */
import type { DotPlan } from './verilog-plan.js';
import type { BusRef } from './verilog-datapath.js';
import { vlit } from './verilog-format.js';
import { planCmvm, wireBias, type CmvmInput, type CmvmOptions, type CmvmPlan, type CmvmProblem } from './cmvm.js';

/** Which bus element a problem variable reads (`pm`: a ±1 code entering as its bit, 1 for +1). */
export interface CmvmSource {
  readonly slot: number;
  readonly index: number;
  readonly pm: boolean;
}

/**
 * The products of a layer's dot plans over its input buses, as a problem modulo 2^width. A ±1 input
 * c = 2b - 1 enters as its bit b: weight 2w, and -w into the bias.
 */
export function cmvmProblemOf(plans: readonly DotPlan[], ins: readonly BusRef[], width: number): { problem: CmvmProblem; sources: CmvmSource[] } {
  // A bus element as one number (buses are few, elements far fewer than 2^32): layers have many terms.
  const key = (slot: number, index: number): number => slot * 2 ** 32 + index;
  const used = new Map<number, { slot: number; index: number }>();
  for (const p of plans) {
    for (const t of p.terms) {
      const k = key(t.slot, t.index);
      if (!used.has(k)) used.set(k, { slot: t.slot, index: t.index });
    }
  }
  const sources = [...used.values()].sort((a, b) => a.slot - b.slot || a.index - b.index).map((s) => ({ ...s, pm: ins[s.slot]!.pm }));
  const varOf = new Map(sources.map((s, i) => [key(s.slot, s.index), i]));
  const inputs: CmvmInput[] = sources.map((s) => {
    if (s.pm) return { width: 1, signed: false, lo: 0n, hi: 1n };
    const f = ins[s.slot]!.fmt;
    return f.signed
      ? { width: f.width, signed: true, lo: -(1n << BigInt(f.width - 1)), hi: (1n << BigInt(f.width - 1)) - 1n }
      : { width: f.width, signed: false, lo: 0n, hi: (1n << BigInt(f.width)) - 1n };
  });
  const rows = plans.map((p) => {
    let bias = p.bias;
    const weights = new Map<number, bigint>();
    for (const t of p.terms) {
      const v = varOf.get(key(t.slot, t.index))!;
      let w = t.weight;
      if (ins[t.slot]!.pm) {
        bias -= w;
        w *= 2n;
      }
      weights.set(v, (weights.get(v) ?? 0n) + w);
    }
    const terms = [...weights.entries()].filter(([, w]) => w !== 0n).map(([input, weight]) => ({ input, weight }));
    return { terms, bias };
  });
  return { problem: { inputs, rows, width }, sources };
}

/** The adder plan of a layer's shift-add dot products (what `sharedMatvecLines` emits). */
export function planMatvec(plans: readonly DotPlan[], ins: readonly BusRef[], width: number, options: CmvmOptions = {}): { plan: CmvmPlan; sources: CmvmSource[] } {
  const { problem, sources } = cmvmProblemOf(plans, ins, width);
  return { plan: planCmvm(problem, options), sources };
}

function bits(name: string, hi: number, lo: number): string {
  return hi === lo ? `${name}[${lo}]` : `${name}[${hi}:${lo}]`;
}

/** `(neg ? ~w : w) << shift` as exactly `target` bits (zero-padded; bits above `target` dropped). */
function operand(name: string, width: number, neg: boolean, shift: number, target: number): string {
  const keep = Math.min(width, target - shift);
  if (keep <= 0) throw new Error(`internal: operand ${name} << ${shift} has no bits below 2^${target}`);
  let core = keep < width ? bits(name, keep - 1, 0) : name;
  if (neg) core = `~${core}`;
  const parts: string[] = [];
  if (target - shift - keep > 0) parts.push(`${target - shift - keep}'d0`);
  parts.push(core);
  if (shift > 0) parts.push(`${shift}'d0`);
  return parts.length === 1 ? core : `{${parts.join(', ')}}`;
}

/** The unsigned word of an input element: its code, sign bit flipped when signed. */
function inputWord(bus: string, lsb: number, width: number, signed: boolean): string {
  const msb = lsb + width - 1;
  if (!signed) return bits(bus, msb, lsb);
  if (width === 1) return `~${bus}[${msb}]`;
  return `{~${bus}[${msb}], ${bits(bus, msb - 1, lsb)}}`;
}

/** Sums written a few addends per line. */
function sumText(addends: readonly string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < addends.length; i += 4) lines.push(addends.slice(i, i + 4).join(' + '));
  return lines.join('\n      + ');
}

/**
 * Lines driving `out` (one W-bit word per row, packed) with the plan's adder network. `inst` prefixes
 * the wires; `pmBits(slot)` names the bit vector of a ±1 bus (declared by the caller).
 */
export function cmvmLines(inst: string, plan: CmvmPlan, sources: readonly CmvmSource[], ins: readonly BusRef[], pmBits: (slot: number) => string, out: string): string[] {
  const W = plan.width;
  // Inputs are named by bus and element, shared terms by their order.
  const name = (v: number): string => (v < plan.inputs ? `${inst}_x${sources[v]!.slot}_${sources[v]!.index}` : `${inst}_s${v - plan.inputs}`);
  const lines = [
    `  // ${plan.vars.length - plan.inputs} shared terms (sub-expressions common to several constant products), then one sum per output.`,
    '  // Every addend is an unsigned word: inputs with the sign bit flipped, negative digits as complements.',
    '  /* verilator lint_off UNUSEDSIGNAL */',
    '  // Addends shifted near the accumulator width leave their high bits unread.',
  ];
  sources.forEach((s, v) => {
    const w = plan.vars[v]!.width;
    const f = ins[s.slot]!.fmt;
    const word = s.pm ? `${pmBits(s.slot)}[${s.index}]` : inputWord(ins[s.slot]!.name, s.index * f.width, f.width, f.signed);
    lines.push(`  wire ${w === 1 ? '' : `[${w - 1}:0] `}${name(v)} = ${word};`);
  });
  for (let v = plan.inputs; v < plan.vars.length; v += 1) {
    const z = plan.vars[v]!;
    const { a, b } = z.sum!;
    const za = plan.vars[a]!;
    const zb = plan.vars[b.v]!;
    const rhs = `${operand(name(a), za.width, false, 0, z.width)} + ${operand(name(b.v), zb.width, b.neg, b.shift, z.width)}`;
    lines.push(`  wire [${z.width - 1}:0] ${name(v)} = ${rhs};`);
  }
  lines.push('  /* verilator lint_on UNUSEDSIGNAL */');
  plan.outputs.forEach((o, r) => {
    const addends = o.digits.map((d) => operand(name(d.v), plan.vars[d.v]!.width, d.neg, d.shift, W));
    const bias = wireBias(plan, r);
    if (bias !== 0n || addends.length === 0) addends.unshift(vlit(bias, W));
    lines.push(`  assign ${bits(out, (r + 1) * W - 1, r * W)} = ${sumText(addends)};`);
  });
  return lines;
}
