/**
 * Constant matrix–vector products as adder networks, with common sub-expressions shared across the
 * rows (the H-CMVM / da4ml idea): every nonzero weight becomes the signed digits of its non-adjacent
 * form, each row a sum of shifted inputs `±x_v << s`; a two-digit pattern `x_a ± (x_b << d)` that
 * occurs in several rows (or twice in one, across the digits of a weight) is computed once as a new
 * variable and the rows add that instead (new variables take part in later patterns, so common terms
 * of three, four, ... digits build up). Extraction is greedy, most frequent pattern first (ties: the
 * most overlapping bits), and stops when no pattern saves anything: a pattern must occur at least twice,
 * and its two addends must overlap in some bit column — otherwise their sum is a concatenation and
 * sharing it saves no adder bit (so one-bit inputs, e.g. ±1 activations, never share).
 *
 * Everything here is a pure function of integers, so the emitter and the hardware-cost estimator plan
 * the same adders, with or without sharing:
 *
 * - `planCmvm(problem, {share})` → `CmvmPlan`: which adders exist, their operands and exact widths;
 * - `cmvmAdders(plan)` lists them (operand widths and shifts) for cost models;
 * - `evalCmvm` / `evalCmvmWires` evaluate a plan on integer inputs (the value-level identity and the
 *   exact unsigned arithmetic the Verilog performs), so tests check a plan against the plain products.
 *
 * Wire arithmetic (what the emitter builds): every variable is an unsigned word `U` of `width` bits
 * standing for the signed value `X = U - off` (a two's complement input enters with its sign bit
 * flipped, `U = x + 2^(w-1)`); a negative digit adds the complement `~U = 2^w - 1 - U` and moves the
 * constant into the row's bias. All addends are then plain unsigned words whose high zero bits
 * synthesis drops, and a shared term `U_z = U_a + (U_b or ~U_b) << d` has the width of its exact
 * maximum — no overflow is possible. Rows are computed modulo 2^W, W the accumulator width the IR
 * proved sufficient, which is also the ceiling of every intermediate width.
 */

/** One input element of the product: its code on the wires and the exact code range. */
export interface CmvmInput {
  /** Wire width of the code. */
  readonly width: number;
  /** Two's complement (true) or unsigned. */
  readonly signed: boolean;
  /** Smallest and largest code (within what the width holds). */
  readonly lo: bigint;
  readonly hi: bigint;
}

export interface CmvmTerm {
  readonly input: number;
  readonly weight: bigint;
}

/** One result: `bias + Σ weight · x[input]`. */
export interface CmvmRow {
  readonly terms: readonly CmvmTerm[];
  readonly bias: bigint;
}

export interface CmvmProblem {
  readonly inputs: readonly CmvmInput[];
  readonly rows: readonly CmvmRow[];
  /** Results are exact modulo 2^width (the accumulator width). */
  readonly width: number;
}

/** A signed, shifted variable: `(neg ? -1 : 1) · X_v << shift`. */
export interface CmvmOperand {
  readonly v: number;
  readonly shift: number;
  readonly neg: boolean;
}

/**
 * A variable on the wires: the unsigned word `U` (`width` bits, `lo ≤ U ≤ hi`) carrying the value
 * `X = U - off` (mod 2^W). Inputs come first (`sum` null); a shared term is
 * `X = X_a + (b.neg ? -1 : 1) · X_b << b.shift`, built as `U = U_a + (b.neg ? ~U_b : U_b) << b.shift`.
 */
export interface CmvmVar {
  readonly width: number;
  readonly lo: bigint;
  readonly hi: bigint;
  readonly off: bigint;
  readonly sum: { readonly a: number; readonly b: CmvmOperand } | null;
}

/** One result as `bias + Σ digits` (value level, modulo 2^W). */
export interface CmvmOutput {
  readonly digits: readonly CmvmOperand[];
  readonly bias: bigint;
}

export interface CmvmPlan {
  readonly width: number;
  /** How many of `vars` are inputs (the rest are shared terms, each reading only earlier variables). */
  readonly inputs: number;
  readonly vars: readonly CmvmVar[];
  readonly outputs: readonly CmvmOutput[];
}

/** How the greedy picks the next pattern: most occurrences first (H-CMVM), or the largest bit saving. */
export type CmvmSelect = 'frequency' | 'gain';

export interface CmvmOptions {
  /** Extract shared sub-expressions (default false: every row its own sum of digits). */
  readonly share?: boolean;
  readonly select?: CmvmSelect;
  /**
   * Most candidate digit pairs searched (default `PAIR_BUDGET`): a larger layer looks for patterns within
   * blocks of contiguous inputs only.
   */
  readonly pairBudget?: number;
}

/** Digit pairs a layer may search for patterns before it is split into blocks of inputs (about a second). */
export const PAIR_BUDGET = 2_000_000;

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Bits of a non-negative integer (at least 1). */
export function bitLength(v: bigint): number {
  return v <= 0n ? 1 : v.toString(2).length;
}

/** Bits of a non-negative integer held exactly in a double (at least 1). */
function bitLengthOf(v: number): number {
  if (v < 1) return 1;
  if (v < 2 ** 32) return 32 - Math.clz32(v);
  return 32 + bitLengthOf(Math.floor(v / 2 ** 32));
}

function mask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

/**
 * The non-adjacent form of w: signed digits ±2^k, no two adjacent, fewest nonzero digits of any
 * signed-digit form. With h = |w| >> 1 and t = |w| + h, the digits are (t & c) - (h & c), c = h ^ t.
 */
export function nafDigits(w: bigint): { shift: number; neg: boolean }[] {
  // Weights are usually narrow: 32-bit integer arithmetic gives the same digits without bigint shifts.
  if (w >= -NAF_SMALL && w <= NAF_SMALL) return smallNafDigits(Number(w));
  const a = abs(w);
  const h = a >> 1n;
  const t = a + h;
  const c = h ^ t;
  const pos = t & c;
  const negBits = h & c;
  const digits: { shift: number; neg: boolean }[] = [];
  for (let k = 0; (pos >> BigInt(k)) > 0n || (negBits >> BigInt(k)) > 0n; k += 1) {
    if (((pos >> BigInt(k)) & 1n) === 1n) digits.push({ shift: k, neg: w < 0n });
    if (((negBits >> BigInt(k)) & 1n) === 1n) digits.push({ shift: k, neg: w > 0n });
  }
  return digits;
}

/** Below this magnitude `a + (a >> 1)` stays within 31 bits. */
const NAF_SMALL = 1n << 29n;

/** `nafDigits` of a weight of magnitude below 2^29, in int32 arithmetic. */
function smallNafDigits(w: number): { shift: number; neg: boolean }[] {
  const a = Math.abs(w);
  const h = a >> 1;
  const t = a + h;
  const c = h ^ t;
  const pos = t & c;
  const negBits = h & c;
  const digits: { shift: number; neg: boolean }[] = [];
  for (let k = 0; pos >> k > 0 || negBits >> k > 0; k += 1) {
    if (((pos >> k) & 1) === 1) digits.push({ shift: k, neg: w < 0 });
    if (((negBits >> k) & 1) === 1) digits.push({ shift: k, neg: w > 0 });
  }
  return digits;
}

/** The wire variable of an input: its code, sign bit flipped when signed. */
function inputVar(x: CmvmInput, where: string): CmvmVar {
  const full = x.signed ? { lo: -(1n << BigInt(x.width - 1)), hi: mask(x.width - 1) } : { lo: 0n, hi: mask(x.width) };
  if (x.width < 1 || x.lo > x.hi || x.lo < full.lo || x.hi > full.hi) {
    throw new RangeError(`${where}: code range [${x.lo}, ${x.hi}] does not fit a ${x.width}-bit ${x.signed ? 'signed' : 'unsigned'} word`);
  }
  const off = x.signed ? 1n << BigInt(x.width - 1) : 0n;
  return { width: x.width, lo: x.lo + off, hi: x.hi + off, off, sum: null };
}

/** The range of the addend `neg ? ~U : U` of a variable. */
function addendRange(v: CmvmVar, neg: boolean): { lo: bigint; hi: bigint } {
  return neg ? { lo: mask(v.width) - v.hi, hi: mask(v.width) - v.lo } : { lo: v.lo, hi: v.hi };
}

/** The shared variable `U_a + (neg ? ~U_b : U_b) << d`, its exact range, capped at W bits. */
function sharedVar(vars: readonly CmvmVar[], a: number, b: CmvmOperand, W: number): CmvmVar {
  const va = vars[a]!;
  const vb = vars[b.v]!;
  const rb = addendRange(vb, b.neg);
  const d = BigInt(b.shift);
  const lo = va.lo + (rb.lo << d);
  const hi = va.hi + (rb.hi << d);
  // X_z = X_a ± X_b << d with X = U - off: -X_b = ~U_b - (2^w - 1 - off_b).
  const offB = b.neg ? mask(vb.width) - vb.off : vb.off;
  const off = va.off + (offB << d);
  const width = bitLength(hi);
  if (width > W) return { width: W, lo: 0n, hi: mask(W), off: off & mask(W), sum: { a, b } };
  return { width, lo, hi, off, sum: { a, b } };
}

/** Bits an addend of `width` bits shifted by `shift` occupies below 2^W. */
function liveBits(width: number, shift: number, W: number): number {
  return Math.max(0, Math.min(width, W - shift));
}

// ---------------------------------------------------------------------------------------------------
// Greedy extraction.

interface Digit {
  readonly v: number;
  readonly shift: number;
  readonly neg: boolean;
}

interface Pattern {
  readonly key: number;
  /** The lower digit's variable (at the occurrence's shift) and the upper one's, `d` bits above. */
  readonly a: number;
  readonly b: number;
  readonly d: number;
  /** The two digits have opposite signs. */
  readonly opposite: boolean;
  /** Addend bits one occurrence removes from its row minus the shared term's width: > 0 to be worth it. */
  readonly overlap: number;
  /** Digit pairs of this pattern over all rows. */
  count: number;
  /** The priority of this pattern's highest heap entry (0: none queued). */
  pushed: number;
  /** Listed for the next flush. */
  touched: boolean;
}

/** A max-heap of (priority, pattern), ties to the smaller pattern key, so extraction order is deterministic. */
class PatternHeap {
  private readonly prio: number[] = [];
  private readonly pats: Pattern[] = [];

  get size(): number {
    return this.pats.length;
  }

  private above(i: number, j: number): boolean {
    return this.prio[i]! > this.prio[j]! || (this.prio[i] === this.prio[j] && this.pats[i]!.key < this.pats[j]!.key);
  }

  private swap(i: number, j: number): void {
    const p = this.prio[i]!;
    this.prio[i] = this.prio[j]!;
    this.prio[j] = p;
    const q = this.pats[i]!;
    this.pats[i] = this.pats[j]!;
    this.pats[j] = q;
  }

  push(prio: number, pat: Pattern): void {
    this.prio.push(prio);
    this.pats.push(pat);
    let i = this.pats.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { prio: number; pat: Pattern } {
    const top = { prio: this.prio[0]!, pat: this.pats[0]! };
    const lastP = this.prio.pop()!;
    const lastK = this.pats.pop()!;
    if (this.pats.length > 0) {
      this.prio[0] = lastP;
      this.pats[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.pats.length && this.above(l, m)) m = l;
        if (r < this.pats.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Shifts stay below this (accumulators are far narrower); it packs (variable, shift) into one number. */
const SHIFT_SPAN = 1024;

class Extractor {
  readonly vars: CmvmVar[] = [];
  private readonly width: number[] = [];
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  /** Patterns pair only variables of one group (blocks of inputs, for layers too large to pair everything). */
  private readonly group: number[] = [];
  private readonly rows: Map<number, Digit>[];
  /** Per variable: the rows holding its digits, and how many. */
  private readonly rowsOf: Map<number, number>[] = [];
  /** Patterns by pair of variables, then by `2·d + opposite`; null where sharing saves no addend bits. */
  private readonly patterns = new Map<number, (Pattern | null)[]>();
  private readonly heap = new PatternHeap();
  /** Patterns whose count grew since the last flush (in order: deterministic). */
  private readonly touched: Pattern[] = [];
  private readonly span: number;

  constructor(
    vars: readonly CmvmVar[],
    rows: readonly Digit[][],
    private readonly W: number,
    private readonly select: CmvmSelect,
    inputBlock: number,
  ) {
    vars.forEach((v, i) => this.push(v, Math.floor(i / inputBlock)));
    // Each extraction consumes at least two digits and adds one variable: the variable count is bounded.
    this.span = vars.length + rows.reduce((a, r) => a + r.length, 0) + 1;
    if (this.span * this.span * SHIFT_SPAN * 2 > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`planCmvm: ${this.span} variables and digits are too many to share sub-expressions between`);
    }
    this.rows = rows.map(() => new Map<number, Digit>());
    rows.forEach((ds, r) => ds.forEach((dg) => this.add(r, dg)));
    this.flush();
  }

  /** The width of `U_a + (opposite ? ~U_b : U_b) << d` (as `sharedVar`), in doubles while they are exact. */
  private sumWidth(a: number, b: number, d: number, opposite: boolean): number {
    if (this.W > 52) return sharedVar(this.vars, a, { v: b, shift: d, neg: opposite }, this.W).width;
    const hiB = opposite ? 2 ** this.width[b]! - 1 - this.lo[b]! : this.hi[b]!;
    const hiZ = this.hi[a]! + hiB * 2 ** d;
    return hiZ >= 2 ** this.W ? this.W : bitLengthOf(hiZ);
  }

  /** Appends a variable (and its range as doubles, exact below 2^53, for `sumWidth`). */
  private push(v: CmvmVar, group: number): void {
    this.vars.push(v);
    this.group.push(group);
    this.width.push(v.width);
    this.lo.push(Number(v.lo));
    this.hi.push(Number(v.hi));
  }

  private slot(v: number, shift: number): number {
    return v * SHIFT_SPAN + shift;
  }

  /** The pattern of two digits of a row, lower shift (then lower variable) first. */
  private patternOf(p: Digit, q: Digit): Pattern | null {
    const first = p.shift < q.shift || (p.shift === q.shift && p.v < q.v);
    const lo = first ? p : q;
    const hi = first ? q : p;
    const d = hi.shift - lo.shift;
    // Sharing saves at most min(w_b, w_a - d) bits: digits this far apart never overlap.
    if (d >= this.width[lo.v]! || this.group[lo.v] !== this.group[hi.v]) return null;
    const opposite = lo.neg !== hi.neg;
    // Two levels, so the hot lookup is by a small integer (the pair of variables).
    const pair = lo.v * this.span + hi.v;
    let byShift = this.patterns.get(pair);
    if (byShift === undefined) {
      byShift = [];
      this.patterns.set(pair, byShift);
    }
    const slot = d * 2 + (opposite ? 1 : 0);
    let pat = byShift[slot];
    if (pat === undefined) {
      const key = pair * SHIFT_SPAN * 2 + slot;
      const overlap = liveBits(this.width[lo.v]!, 0, this.W) + liveBits(this.width[hi.v]!, d, this.W) - this.sumWidth(lo.v, hi.v, d, opposite);
      pat = overlap > 0 ? { key, a: lo.v, b: hi.v, d, opposite, overlap, count: 0, pushed: 0, touched: false } : null;
      byShift[slot] = pat;
    }
    return pat;
  }

  private priority(pat: Pattern, n: number): number {
    if (n < 2) return 0;
    return this.select === 'frequency' ? n * SHIFT_SPAN + Math.min(pat.overlap, SHIFT_SPAN - 1) : (n - 1) * pat.overlap;
  }

  /**
   * Queues the pattern at priority p unless an entry at least that high is queued already: entries are
   * upper bounds (counts only fall after a push, except when the pattern is first met), and one that
   * surfaces above its pattern's current priority is requeued at it.
   */
  private queue(pat: Pattern, p: number): void {
    if (p > pat.pushed) {
      this.heap.push(p, pat);
      pat.pushed = p;
    }
  }

  private add(r: number, dg: Digit): void {
    const row = this.rows[r]!;
    let where = this.rowsOf[dg.v];
    if (where === undefined) {
      where = new Map();
      this.rowsOf[dg.v] = where;
    }
    where.set(r, (where.get(r) ?? 0) + 1);
    for (const e of row.values()) {
      const pat = this.patternOf(dg, e);
      if (pat === null) continue;
      pat.count += 1;
      if (!pat.touched) {
        pat.touched = true;
        this.touched.push(pat);
      }
    }
    row.set(this.slot(dg.v, dg.shift), dg);
  }

  /** Queues the patterns whose counts grew (once each, not once per increment). */
  private flush(): void {
    for (const pat of this.touched) {
      pat.touched = false;
      this.queue(pat, this.priority(pat, pat.count));
    }
    this.touched.length = 0;
  }

  private remove(r: number, dg: Digit): void {
    const row = this.rows[r]!;
    row.delete(this.slot(dg.v, dg.shift));
    const where = this.rowsOf[dg.v]!;
    const left = where.get(r)! - 1;
    if (left === 0) where.delete(r);
    else where.set(r, left);
    for (const e of row.values()) {
      const pat = this.patternOf(dg, e);
      // A stale heap entry of a lower count is requeued when it surfaces.
      if (pat !== null) pat.count -= 1;
    }
  }

  /** Non-overlapping occurrences of a pattern, row by row, lowest shift first. */
  private occurrences(pat: Pattern): { row: number; lo: Digit; hi: Digit }[] {
    const out: { row: number; lo: Digit; hi: Digit }[] = [];
    const rows = [...(this.rowsOf[pat.a]?.keys() ?? [])].sort((x, y) => x - y);
    for (const r of rows) {
      const row = this.rows[r]!;
      const used = new Set<Digit>();
      for (let s = 0; s + pat.d < this.W; s += 1) {
        const lo = row.get(this.slot(pat.a, s));
        if (lo === undefined || used.has(lo)) continue;
        const hi = row.get(this.slot(pat.b, s + pat.d));
        if (hi === undefined || used.has(hi) || (lo.neg !== hi.neg) !== pat.opposite) continue;
        used.add(lo);
        used.add(hi);
        out.push({ row: r, lo, hi });
      }
    }
    return out;
  }

  /** Extracts patterns until none saves anything. */
  run(): void {
    while (this.heap.size > 0) {
      const top = this.heap.pop();
      const pat = top.pat;
      // Pair counts overcount a pattern of one variable with itself when its occurrences chain
      // (x, x<<2, x<<4): its real count is that of non-overlapping occurrences.
      const occ = pat.a === pat.b ? this.occurrences(pat) : null;
      const current = this.priority(pat, occ === null ? pat.count : occ.length);
      if (top.prio === pat.pushed) pat.pushed = 0; // its highest entry just left the heap
      if (current !== top.prio) {
        this.queue(pat, current);
        continue;
      }
      const found = occ ?? this.occurrences(pat);
      const z = this.vars.length;
      this.push(sharedVar(this.vars, pat.a, { v: pat.b, shift: pat.d, neg: pat.opposite }, this.W), this.group[pat.a]!);
      for (const o of found) {
        this.remove(o.row, o.lo);
        this.remove(o.row, o.hi);
        this.add(o.row, { v: z, shift: o.lo.shift, neg: o.lo.neg });
      }
      this.flush();
    }
  }

  digits(r: number): CmvmOperand[] {
    return [...this.rows[r]!.values()].sort((x, y) => x.shift - y.shift || x.v - y.v);
  }
}

/**
 * The adder network of a constant matrix–vector product: each row's nonzero weights as signed digits
 * (digits at or above 2^W vanish modulo 2^W), with `share` the common two-digit patterns extracted
 * greedily as shared variables. Deterministic: the same problem gives the same plan. Time grows with
 * the digit pairs of the rows; past `pairBudget` (about a second's work) patterns are searched within
 * blocks of contiguous inputs only.
 */
export function planCmvm(problem: CmvmProblem, options: CmvmOptions = {}): CmvmPlan {
  const W = problem.width;
  if (!Number.isInteger(W) || W < 1 || W >= SHIFT_SPAN) throw new RangeError(`planCmvm: accumulator width ${W} outside 1..${SHIFT_SPAN - 1}`);
  const vars = problem.inputs.map((x, i) => inputVar(x, `planCmvm input ${i}`));
  const rows = problem.rows.map((row, r) => {
    const digits: Digit[] = [];
    const seen = new Set<number>();
    for (const t of row.terms) {
      if (t.input < 0 || t.input >= vars.length) throw new RangeError(`planCmvm row ${r}: input ${t.input} out of 0..${vars.length - 1}`);
      // Two weights on one input would put two digits in one slot.
      if (seen.has(t.input)) throw new RangeError(`planCmvm row ${r}: input ${t.input} appears twice; sum its weights first`);
      seen.add(t.input);
      for (const d of nafDigits(t.weight)) if (d.shift < W) digits.push({ v: t.input, shift: d.shift, neg: d.neg });
    }
    return digits;
  });
  if (options.share !== true) {
    return {
      width: W,
      inputs: vars.length,
      vars,
      outputs: rows.map((ds, r) => ({ digits: [...ds].sort((x, y) => x.shift - y.shift || x.v - y.v), bias: problem.rows[r]!.bias })),
    };
  }
  // Candidate patterns are the digit pairs of each row. Past the budget, pair only digits of inputs in
  // one block (contiguous inputs): fewer candidates, bounded time and memory.
  const pairs = rows.reduce((a, r) => a + (r.length * (r.length - 1)) / 2, 0);
  const blocks = Math.max(1, Math.ceil(pairs / (options.pairBudget ?? PAIR_BUDGET)));
  const ex = new Extractor(vars, rows, W, options.select ?? 'frequency', Math.ceil(vars.length / blocks));
  ex.run();
  return {
    width: W,
    inputs: vars.length,
    vars: ex.vars,
    outputs: problem.rows.map((row, r) => ({ digits: ex.digits(r), bias: row.bias })),
  };
}

// ---------------------------------------------------------------------------------------------------
// What the plan costs and computes.

/** The constant the wires add to row o: its bias with every digit's offset moved in (mod 2^W). */
export function wireBias(plan: CmvmPlan, o: number): bigint {
  const out = plan.outputs[o]!;
  let b = out.bias;
  for (const d of out.digits) {
    const v = plan.vars[d.v]!;
    const sh = BigInt(d.shift);
    // +X << s = (U << s) - (off << s);  -X << s = (~U << s) - ((2^w - 1 - off) << s).
    b -= (d.neg ? mask(v.width) - v.off : v.off) << sh;
  }
  return b & mask(plan.width);
}

/** One adder network: a shared term (two operands) or a row (its digits and its constant). */
export interface CmvmAdder {
  readonly kind: 'shared' | 'row';
  /** The shared variable's index in `vars`, or the row's index. */
  readonly index: number;
  /** Operand widths (bits below 2^W) and shifts. */
  readonly operands: readonly { readonly width: number; readonly shift: number }[];
  /** Result width. */
  readonly width: number;
  /** The row's wire constant (0 for a shared term). */
  readonly constant: bigint;
}

/** Every adder network of a plan: the shared terms, then the rows. */
export function cmvmAdders(plan: CmvmPlan): CmvmAdder[] {
  const W = plan.width;
  const out: CmvmAdder[] = [];
  plan.vars.forEach((v, i) => {
    if (v.sum === null) return;
    const a = plan.vars[v.sum.a]!;
    const b = plan.vars[v.sum.b.v]!;
    out.push({
      kind: 'shared',
      index: i,
      operands: [
        { width: Math.min(a.width, v.width), shift: 0 },
        { width: liveBits(b.width, v.sum.b.shift, v.width), shift: v.sum.b.shift },
      ],
      width: v.width,
      constant: 0n,
    });
  });
  plan.outputs.forEach((o, r) => {
    out.push({
      kind: 'row',
      index: r,
      operands: o.digits.map((d) => ({ width: liveBits(plan.vars[d.v]!.width, d.shift, W), shift: d.shift })),
      width: W,
      constant: wireBias(plan, r),
    });
  });
  return out;
}

/** Two-input additions of a plan (constants not counted): one per shared term, digits - 1 per row. */
export function cmvmAdderCount(plan: CmvmPlan): number {
  let n = plan.vars.length - plan.inputs;
  for (const o of plan.outputs) n += Math.max(0, o.digits.length - 1);
  return n;
}

/** Every input of a problem, as a code in its range (for evaluation). */
function checkInputs(plan: CmvmPlan, xs: readonly bigint[]): void {
  if (xs.length !== plan.inputs) throw new RangeError(`expected ${plan.inputs} inputs, got ${xs.length}`);
}

/**
 * The plan's results at the value level: each row's `bias + Σ ±X_v << s` with shared variables
 * expanded, modulo 2^W (a non-negative residue).
 */
export function evalCmvm(plan: CmvmPlan, xs: readonly bigint[]): bigint[] {
  checkInputs(plan, xs);
  const X: bigint[] = [...xs];
  for (let i = plan.inputs; i < plan.vars.length; i += 1) {
    const s = plan.vars[i]!.sum!;
    const b = X[s.b.v]! << BigInt(s.b.shift);
    X.push(X[s.a]! + (s.b.neg ? -b : b));
  }
  return plan.outputs.map((o) => {
    let y = o.bias;
    for (const d of o.digits) y += (d.neg ? -X[d.v]! : X[d.v]!) << BigInt(d.shift);
    return y & mask(plan.width);
  });
}

/**
 * The plan's results as the wires compute them: unsigned words of each variable's width (complements
 * for negative digits, sums truncated only where the width was capped at W), rows modulo 2^W. Throws
 * if any word leaves the range the plan gave it, so a test of this function checks the width analysis.
 */
export function evalCmvmWires(plan: CmvmPlan, xs: readonly bigint[]): bigint[] {
  checkInputs(plan, xs);
  const W = plan.width;
  const U: bigint[] = [];
  const check = (i: number, u: bigint): bigint => {
    const v = plan.vars[i]!;
    if (u < v.lo || u > v.hi || u > mask(v.width)) throw new RangeError(`variable ${i}: word ${u} outside its range [${v.lo}, ${v.hi}] (${v.width} bits)`);
    return u;
  };
  xs.forEach((x, i) => U.push(check(i, x + plan.vars[i]!.off)));
  const addend = (v: number, neg: boolean): bigint => (neg ? mask(plan.vars[v]!.width) - U[v]! : U[v]!);
  for (let i = plan.inputs; i < plan.vars.length; i += 1) {
    const v = plan.vars[i]!;
    const s = v.sum!;
    U.push(check(i, (U[s.a]! + (addend(s.b.v, s.b.neg) << BigInt(s.b.shift))) & mask(v.width)));
  }
  return plan.outputs.map((o, r) => {
    let y = wireBias(plan, r);
    for (const d of o.digits) y += addend(d.v, d.neg) << BigInt(d.shift);
    return y & mask(W);
  });
}

/** The plain products `bias + Σ weight · x` of a problem, modulo 2^W (the reference for tests). */
export function evalProblem(problem: CmvmProblem, xs: readonly bigint[]): bigint[] {
  return problem.rows.map((row) => {
    let y = row.bias;
    for (const t of row.terms) y += t.weight * xs[t.input]!;
    return y & mask(problem.width);
  });
}
