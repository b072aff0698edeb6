/**
 * The gate structure Yosys builds for a multi-operand sum. Its `alumacc` pass turns a chain of
 * additions into one `$macc` cell, and `maccmap` lowers that cell to a carry-save tree of full adders
 * followed by one carry-propagate adder: every operand bit goes into its column (identical constant
 * bits combine), each round takes one bit per column into a "summand" row, rows are reduced three into
 * two by rows of full adders (a full adder with a constant or missing input degenerates into a half
 * adder or a wire after constant propagation), and the last two rows meet in one `$alu`. Counting
 * those cells, rather than the number of additions, is what makes the LUT estimate track synthesis:
 * a 16-bit operand shifted by 10 in a 12-bit accumulator costs 2 bits, not 16.
 *
 * The simulation follows the same rules on bit presence only (no values), so it is exact about which
 * cells exist, while the LUT cost per cell is calibrated (technology mapping packs them).
 */

/** One addend: `width` bits starting at bit `shift` of the sum (bits at or above the sum width vanish). */
export interface Operand {
  readonly width: number;
  readonly shift: number;
}

/** Cells of a multi-operand sum. */
export interface MaccCells {
  /** Full-adder bits with three non-constant inputs. */
  fa: number;
  /** Half-adder-like bits: two non-constant inputs (or one and a constant one). */
  ha: number;
  /** Final carry-propagate adder: bits with two non-constant operands. */
  cpa2: number;
  /** Final adder bits with one non-constant operand, or carrying into higher bits. */
  cpa1: number;
}

export function emptyMacc(): MaccCells {
  return { fa: 0, ha: 0, cpa2: 0, cpa1: 0 };
}

export function addMacc(a: MaccCells, b: MaccCells): void {
  a.fa += b.fa;
  a.ha += b.ha;
  a.cpa2 += b.cpa2;
  a.cpa1 += b.cpa1;
}

/** Bit kinds in a summand row. */
const ZERO = 0;
const ONE = 1;
const VAR = 2;

/** Bits of `c mod 2^width` (the constant addend), low bit first. */
function constantBits(c: bigint, width: number): boolean[] {
  const m = (1n << BigInt(width)) - 1n;
  const v = ((c % (m + 1n)) + (m + 1n)) & m;
  return Array.from({ length: width }, (_, i) => ((v >> BigInt(i)) & 1n) === 1n);
}

/**
 * Cells of `constant + Σ operands` modulo 2^width. `signedOperands` marks operands whose bits above
 * their width are copies of their top bit (sign extension up to the sum width, as in a streamed MAC's
 * partial sums); otherwise the bits above an operand are zero.
 */
export function maccCells(width: number, operands: readonly Operand[], constant: bigint = 0n, signedOperands = false): MaccCells {
  const W = width;
  const cells = emptyMacc();
  if (W <= 0) return cells;
  // Column heights: variable bits, and the constant's one bit per set position.
  const vars = new Int32Array(W);
  for (const op of operands) {
    const top = signedOperands ? W : Math.min(W, op.shift + op.width);
    for (let c = Math.max(0, op.shift); c < top; c += 1) vars[c] += 1;
  }
  const ones = constantBits(constant, W).map((b) => (b ? 1 : 0));
  const total = (c: number): number => vars[c]! + ones[c]!;
  let height = 0;
  for (let c = 0; c < W; c += 1) height = Math.max(height, total(c));
  if (height === 0) return cells;

  // Summand rows: one bit per non-empty column per round (constants first, as Yosys's bit sets order
  // constant bits before wires). Low-column bits also fill the spare carry-in slots of the full-adder
  // tree ("tree bits": a bit of column i takes 2^i slots, entering 2^i times at bit 0 of carry rows).
  const rows: Uint8Array[] = [];
  const treeBits: number[] = [];
  const remaining = Int32Array.from({ length: W }, (_, c) => total(c));
  const onesLeft = Int32Array.from(ones);
  const take = (c: number): number => {
    remaining[c] -= 1;
    if (onesLeft[c]! > 0) {
      onesLeft[c] -= 1;
      return ONE;
    }
    return VAR;
  };
  for (;;) {
    const row = new Uint8Array(W);
    let any = false;
    for (let c = 0; c < W; c += 1) {
      if (remaining[c]! > 0) {
        row[c] = take(c);
        any = true;
      }
    }
    if (!any) break;
    rows.push(row);
    let free = Math.max(rows.length - 2, 0) - treeBits.length;
    for (let i = 0; i < W && 1 << i <= free; i += 1) {
      while (remaining[i]! > 0 && 1 << i <= free) {
        const kind = take(i);
        for (let k = 0; k < 1 << i; k += 1) treeBits.push(kind);
        free -= 1 << i;
      }
    }
  }

  let level = rows;
  while (level.length > 2) {
    const next: Uint8Array[] = [];
    let i = 0;
    for (; i + 2 < level.length; i += 3) {
      const a = level[i]!;
      const b = level[i + 1]!;
      const d = level[i + 2]!;
      const sum = new Uint8Array(W);
      const carry = new Uint8Array(W);
      for (let c = 0; c < W; c += 1) {
        const x = a[c]!;
        const y = b[c]!;
        const z = d[c]!;
        const v = (x === VAR ? 1 : 0) + (y === VAR ? 1 : 0) + (z === VAR ? 1 : 0);
        const k = (x === ONE ? 1 : 0) + (y === ONE ? 1 : 0) + (z === ONE ? 1 : 0);
        // Three variables: a full adder; two (with or without a constant one): two 2-input functions;
        // fewer: wires and inverters after constant propagation.
        if (v === 3) cells.fa += 1;
        else if (v === 2) cells.ha += 1;
        sum[c] = v > 0 ? VAR : k % 2 === 1 ? ONE : ZERO;
        if (c + 1 < W) carry[c + 1] = v >= 2 || (v === 1 && k >= 1) ? VAR : v + k >= 2 ? ONE : ZERO;
      }
      const extra = treeBits.pop();
      if (extra !== undefined) carry[0] = extra;
      next.push(sum, carry);
    }
    for (; i < level.length; i += 1) next.push(level[i]!);
    level = next;
  }
  if (level.length === 2) {
    const [a, b] = level as [Uint8Array, Uint8Array];
    let low = -1;
    let top = -1;
    for (let c = 0; c < W; c += 1) {
      if (a[c] === VAR || b[c] === VAR) {
        if (low < 0) low = c;
        top = c;
      }
    }
    if (low >= 0) {
      // The carry leaves the top variable column, runs on through constant ones and stops in the first
      // column with neither operand bit.
      let end = top + 1;
      while (end < W && (a[end] === ONE || b[end] === ONE)) end += 1;
      end = Math.min(end, W - 1);
      for (let c = low; c <= end; c += 1) {
        if (a[c] === VAR && b[c] === VAR) cells.cpa2 += 1;
        else cells.cpa1 += 1;
      }
    }
  }
  return cells;
}
