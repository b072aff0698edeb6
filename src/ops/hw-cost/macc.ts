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

/** Bit kinds in a summand row: constants, then signals (ids from `FIRST_SIGNAL` on; equal ids, one signal). */
const ZERO = 0;
const ONE = 1;
const FIRST_SIGNAL = 2;

/** A cell's inputs as a key: one number where the ids are small enough, else a string. */
type CellKey = number | string;

/** Bits of `c mod 2^width` (the constant addend), low bit first. */
function constantBits(c: bigint, width: number): boolean[] {
  const m = (1n << BigInt(width)) - 1n;
  const v = ((c % (m + 1n)) + (m + 1n)) & m;
  const digits = v.toString(2);
  const out = new Array<boolean>(width);
  for (let i = 0; i < width; i += 1) out[i] = i < digits.length && digits[digits.length - 1 - i] === '1';
  return out;
}

/**
 * An addend given bit by bit: bit `k` of `bits` lands in column `shift + k`; each entry is a signal id
 * (any integer >= 0; equal ids are the same signal) or -1 for a constant zero bit.
 */
export interface BitOperand {
  readonly shift: number;
  readonly bits: readonly number[];
}

/**
 * Cells of `constant + Σ operands` modulo 2^width. `signedOperands` marks operands whose bits above
 * their width are copies of their top bit (sign extension up to the sum width, as in a streamed MAC's
 * partial sums); otherwise the bits above an operand are zero.
 */
export function maccCells(width: number, operands: readonly Operand[], constant: bigint = 0n, signedOperands = false): MaccCells {
  if (width <= 0) return emptyMacc();
  // Each operand bit is its own signal, numbered in operand order (what `maccBitCells` would be given),
  // placed straight into its column.
  const columns: number[][] = Array.from({ length: width }, () => []);
  let next = 0;
  let maxId = -1;
  for (const op of operands) {
    for (let k = 0; k < op.width; k += 1) {
      const id = next++;
      const c = op.shift + k;
      if (c < 0 || c >= width) continue;
      columns[c]!.push(id);
      maxId = id;
    }
    if (signedOperands && op.width > 0) {
      const top = next - 1;
      for (let c = op.shift + op.width; c < width; c += 1) {
        if (c < 0) continue;
        columns[c]!.push(top);
        if (top > maxId) maxId = top;
      }
    }
  }
  return columnCells(width, columns, maxId, constant);
}

/**
 * Cells of `constant + Σ operands` modulo 2^width, operands given signal by signal. Structural hashing
 * (Yosys opt_merge, ABC) keeps one copy of cells with the same inputs: where a signal repeats over
 * columns (a sign extension: every sign bit of a partial sum in every column above it) the full and
 * half adders of those columns compute the same functions and are counted once. The final
 * carry-propagate adder is a carry chain, counted bit by bit.
 */
export function maccBitCells(width: number, operands: readonly BitOperand[], constant: bigint = 0n): MaccCells {
  const W = width;
  if (W <= 0) return emptyMacc();
  // Column contents in operand order: Yosys keeps each column's bits sorted by signal, and operands
  // are built one after the other, so a column lists its operands' bits in operand order.
  const columns: number[][] = Array.from({ length: W }, () => []);
  let maxId = -1;
  for (const op of operands) {
    const bits = op.bits;
    for (let k = 0; k < bits.length; k += 1) {
      const id = bits[k]!;
      const c = op.shift + k;
      if (id < 0 || c < 0 || c >= W) continue;
      columns[c]!.push(id);
      if (id > maxId) maxId = id;
    }
  }
  return columnCells(W, columns, maxId, constant);
}

/** `maccBitCells` of the operand bits sorted into their columns (`maxId`: the largest signal id). */
function columnCells(W: number, columns: readonly number[][], maxId: number, constant: bigint): MaccCells {
  const cells = emptyMacc();
  const ones = constantBits(constant, W).map((b) => (b ? 1 : 0));
  let height = 0;
  for (let c = 0; c < W; c += 1) height = Math.max(height, columns[c]!.length + ones[c]!);
  if (height === 0) return cells;
  // Signal ids inside: constants below FIRST_SIGNAL, operand signals shifted up, new signals after.
  let fresh = maxId + 1 + FIRST_SIGNAL;
  // Structural hashing of the derived signals: an inverter per signal, a sum and a carry per input
  // triple, each made once (ids in order of first use).
  const inverters = new Map<number, number>();
  const sums = new Map<CellKey, number>();
  const carries = new Map<CellKey, number>();
  const gate = (made: Map<CellKey, number>, key: CellKey): number => {
    let id = made.get(key);
    if (id === undefined) {
      id = fresh;
      fresh += 1;
      made.set(key, id);
    }
    return id;
  };

  // Summand rows: one bit per non-empty column per round (constants first, as Yosys's bit sets order
  // constant bits before wires). Low-column bits also fill the spare carry-in slots of the full-adder
  // tree ("tree bits": a bit of column i takes 2^i slots, entering 2^i times at bit 0 of carry rows).
  const rows: Int32Array[] = [];
  const treeBits: number[] = [];
  const remaining = Int32Array.from({ length: W }, (_, c) => columns[c]!.length + ones[c]!);
  const onesLeft = Int32Array.from(ones);
  const taken = new Int32Array(W);
  const take = (c: number): number => {
    remaining[c] -= 1;
    if (onesLeft[c]! > 0) {
      onesLeft[c] -= 1;
      return ONE;
    }
    const id = columns[c]![taken[c]!]!;
    taken[c] += 1;
    return id + FIRST_SIGNAL;
  };
  for (;;) {
    const row = new Int32Array(W);
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
        // The copies count as distinct signals (as the cell counts were fitted).
        for (let k = 0; k < 1 << i; k += 1) treeBits.push(k === 0 || kind < FIRST_SIGNAL ? kind : fresh++);
        free -= 1 << i;
      }
    }
  }

  // Every reduction makes at most two signals per column: the ids stay below `bound`, and a cell's inputs
  // (the count of constant ones, three signal ids) pack into one exact double while bound^3 * 4 < 2^53.
  const bound = fresh + 2 * W * rows.length + 1;
  const packed = 4 * bound ** 3 < Number.MAX_SAFE_INTEGER;
  let level = rows;
  while (level.length > 2) {
    const next: Int32Array[] = [];
    let i = 0;
    for (; i + 2 < level.length; i += 3) {
      const a = level[i]!;
      const b = level[i + 1]!;
      const d = level[i + 2]!;
      const sum = new Int32Array(W);
      const carry = new Int32Array(W);
      for (let c = 0; c < W; c += 1) {
        // The signals in ascending order, and the constant ones.
        let p = a[c]!;
        let q = b[c]!;
        let r = d[c]!;
        // (Swaps through a temporary: a destructuring swap allocates until the function is optimized.)
        let t: number;
        if (p > q) {
          t = p;
          p = q;
          q = t;
        }
        if (q > r) {
          t = q;
          q = r;
          r = t;
        }
        if (p > q) {
          t = p;
          p = q;
          q = t;
        }
        const v = (p >= FIRST_SIGNAL ? 1 : 0) + (q >= FIRST_SIGNAL ? 1 : 0) + (r >= FIRST_SIGNAL ? 1 : 0);
        const k = (p === ONE ? 1 : 0) + (q === ONE ? 1 : 0) + (r === ONE ? 1 : 0);
        if (v === 0) {
          sum[c] = k % 2 === 1 ? ONE : ZERO;
          if (c + 1 < W) carry[c + 1] = k >= 2 ? ONE : ZERO;
          continue;
        }
        if (v === 1 && k < 2) {
          // A wire (and with a constant one, its inverse and a carry of the signal itself).
          sum[c] = k === 0 ? r : gate(inverters, r);
          if (c + 1 < W) carry[c + 1] = k === 1 ? r : ZERO;
          continue;
        }
        // Three signals: a full adder; two (with or without a constant one): two 2-input functions. Cells
        // with the same inputs exist once. (A signal with two constant ones: the signal and a carry
        // counted as a signal, as the cell counts were fitted.)
        const key: CellKey = packed ? ((k * bound + p) * bound + q) * bound + r : `${k}:${p},${q},${r}`;
        if (v === 1) sum[c] = r;
        else {
          // A cell first met here (its sum signal is new) is counted.
          let id = sums.get(key);
          if (id === undefined) {
            if (v === 3) cells.fa += 1;
            else cells.ha += 1;
            id = fresh;
            fresh += 1;
            sums.set(key, id);
          }
          sum[c] = id;
        }
        if (c + 1 < W) carry[c + 1] = gate(carries, key);
      }
      const extra = treeBits.pop();
      if (extra !== undefined) carry[0] = extra;
      next.push(sum, carry);
    }
    for (; i < level.length; i += 1) next.push(level[i]!);
    level = next;
  }
  if (level.length === 2) {
    const [a, b] = level as [Int32Array, Int32Array];
    let low = -1;
    let top = -1;
    for (let c = 0; c < W; c += 1) {
      if (a[c]! >= FIRST_SIGNAL || b[c]! >= FIRST_SIGNAL) {
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
        if (a[c]! >= FIRST_SIGNAL && b[c]! >= FIRST_SIGNAL) cells.cpa2 += 1;
        else cells.cpa1 += 1;
      }
    }
  }
  return cells;
}
