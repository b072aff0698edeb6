/**
 * A cycle-exact model of the stream architecture's handshakes: each hand-written stream module
 * (`qk_stream_window`, `qk_stream_mac`, `qk_stream_reg`, `qk_stream_gap`, `qk_stream_fork`,
 * `qk_stream_merge`, `qk_stream_fifo`, `qk_stream_join`) as its control state machine, without data —
 * the modules' timing never depends on data. Each clock the valids are evaluated front to back, the
 * readies back to front, then every register takes its next value, exactly as the RTL does; the input
 * is offered every cycle and the output is always ready, as in the Verilator harness without gaps or
 * stalls, so the latency and interval equal what `qkeras synth` measures there.
 */

export interface WindowParams {
  readonly H: number;
  readonly W: number;
  readonly KH: number;
  readonly KW: number;
  readonly SH: number;
  readonly SW: number;
  readonly DH: number;
  readonly DW: number;
  readonly PT: number;
  readonly PL: number;
  readonly OH: number;
  readonly OW: number;
}

/** One control element: `ins`/`outs` are channel numbers. */
export type Prim =
  | ({ readonly kind: 'window'; readonly ins: [number]; readonly outs: [number] } & WindowParams)
  | { readonly kind: 'reg'; readonly ins: [number]; readonly outs: [number] }
  | { readonly kind: 'mac'; readonly R: number; readonly K: number; readonly ins: [number]; readonly outs: [number] }
  | { readonly kind: 'gap'; readonly K: number; readonly ins: [number]; readonly outs: [number] }
  | { readonly kind: 'fifo'; readonly depth: number; readonly ins: [number]; readonly outs: [number] }
  | { readonly kind: 'fork'; readonly ins: [number]; readonly outs: number[] }
  | { readonly kind: 'merge'; readonly ins: number[]; readonly outs: [number] }
  | { readonly kind: 'join'; readonly ins: number[]; readonly outs: [number] };

/** A network: primitives in topological order, channel 0 the graph input, `outputs` the output channels. */
export interface StreamNetwork {
  readonly channels: number;
  readonly prims: readonly Prim[];
  /** Input words per sample. */
  readonly inBeats: number;
  /** Words per sample on each channel. */
  readonly beats: readonly number[];
  /** Per graph output: the channel that carries it to the port (before a merge) and its words per sample. */
  readonly outputs: readonly { readonly channel: number; readonly beats: number }[];
  /** The channel driving the output port. */
  readonly port: number;
}

export interface StreamTiming {
  /** Cycles from accepting the first input word to the last output word of the first sample. */
  readonly latency: number;
  /** Mean cycles between sample completions over `samples` samples (what the harness reports). */
  readonly interval: number;
  /** The repeating interval once the pipeline is full. */
  readonly steadyInterval: number;
  /** Per channel: the cycle its last word of the first sample passed (-1 if never). */
  readonly lastWordOfFirst: readonly number[];
  /** Cycles simulated (the model stops early once the state repeats sample after sample). */
  readonly simulated: number;
}

function log2ceil(n: number): number {
  let w = 0;
  while (2 ** w < n) w += 1;
  return w;
}

/** Rows kept by the line buffer: a power of two above the window's row span. */
export function lineBufferRows(p: WindowParams): number {
  return 1 << log2ceil((p.KH - 1) * p.DH + 2);
}

// Primitive kinds as small integers, for the per-cycle switch.
const WINDOW = 0;
const REG = 1;
const MAC = 2;
const GAP = 3;
const FIFO = 4;
const FORK = 5;
const MERGE = 6;
const JOIN = 7;
const KIND_CODE: Readonly<Record<Prim['kind'], number>> = { window: WINDOW, reg: REG, mac: MAC, gap: GAP, fifo: FIFO, fork: FORK, merge: MERGE, join: JOIN };

// A window's registers, WIN_FIELDS consecutive entries of one Int32Array per window.
const IN_R = 0;
const IN_C = 1;
const IN_DONE = 2;
const OUT_R = 3;
const OUT_C = 4;
const TOP = 5;
const LEFT = 6;
const OUT_DONE = 7;
const WIN_FIELDS = 8;

/**
 * The network flattened into typed arrays: the model visits every primitive twice per clock for tens of
 * thousands of clocks (a 28 x 28 image is 784 input words per sample), so the loop avoids closures,
 * maps and per-cycle allocation.
 */
interface Compiled {
  readonly kind: Int32Array;
  readonly in0: Int32Array;
  readonly out0: Int32Array;
  /** mac: R; gap: K; fifo: depth; window: its line buffer rows. */
  readonly a: Int32Array;
  /** mac: K. */
  readonly b: Int32Array;
  /** window: offset of its registers in `win`; fork: offset of its done bits in `done`. */
  readonly off: Int32Array;
  /** fork outs, merge and join ins: the channel lists. */
  readonly lists: readonly Int32Array[];
  /** window: its parameters (null for the other kinds). */
  readonly windows: readonly (WindowParams | null)[];
  readonly winCount: number;
  readonly doneBits: number;
}

function compile(net: StreamNetwork): Compiled {
  const m = net.prims.length;
  const kind = new Int32Array(m);
  const in0 = new Int32Array(m);
  const out0 = new Int32Array(m);
  const a = new Int32Array(m);
  const b = new Int32Array(m);
  const off = new Int32Array(m);
  const lists: Int32Array[] = [];
  const windows: (WindowParams | null)[] = [];
  let winCount = 0;
  let doneBits = 0;
  net.prims.forEach((p, i) => {
    kind[i] = KIND_CODE[p.kind];
    in0[i] = p.ins[0]!;
    out0[i] = p.outs[0]!;
    lists.push(Int32Array.from(p.kind === 'fork' ? p.outs : p.ins));
    windows.push(p.kind === 'window' ? p : null);
    switch (p.kind) {
      case 'window':
        a[i] = lineBufferRows(p);
        off[i] = winCount * WIN_FIELDS;
        winCount += 1;
        break;
      case 'mac':
        a[i] = p.R;
        b[i] = p.K;
        break;
      case 'gap':
        a[i] = p.K;
        break;
      case 'fifo':
        a[i] = p.depth;
        break;
      case 'fork':
        off[i] = doneBits;
        doneBits += p.outs.length;
        break;
      default:
        break;
    }
  });
  return { kind, in0, out0, a, b, off, lists, windows, winCount, doneBits };
}

function windowReset(p: WindowParams, win: Int32Array, o: number): void {
  win[o + IN_R] = 0;
  win[o + IN_C] = 0;
  win[o + IN_DONE] = 0;
  win[o + OUT_R] = 0;
  win[o + OUT_C] = 0;
  win[o + TOP] = -p.PT;
  win[o + LEFT] = -p.PL;
  win[o + OUT_DONE] = 0;
}

function windowAvail(p: WindowParams, win: Int32Array, o: number): boolean {
  const top = win[o + TOP]!;
  const left = win[o + LEFT]!;
  const inR = win[o + IN_R]!;
  const bot = Math.min(top + (p.KH - 1) * p.DH, p.H - 1);
  const right = Math.min(left + (p.KW - 1) * p.DW, p.W - 1);
  return win[o + OUT_DONE] === 0 && (win[o + IN_DONE] === 1 || inR > bot || (inR === bot && win[o + IN_C]! > right));
}

/** Where the model stood after a sample completed: to recognize the state repeating. */
interface Mark {
  readonly cycle: number;
  readonly completions: number;
  readonly inIdx: number;
  readonly outCount: readonly number[];
}

/**
 * Simulates `samples` samples through the network (at least 2).
 *
 * The model is a deterministic function of its registers and of whether an input word is offered, so
 * once the registers (with the word counters taken relative to the samples completed) repeat, the
 * cycles between the two visits repeat exactly for as long as the input keeps being offered. With one
 * output, the first repetition from one sample to the next is extrapolated to the end (later samples
 * never delay earlier ones there). With several outputs (a merge may let a later sample's output go
 * first, so the last samples, whose successors never come, may finish differently) whole periods are
 * skipped only while the input is still offered throughout, and the last samples are simulated cycle by
 * cycle: the result equals the plain cycle-by-cycle simulation of every sample. `exhaustive` turns
 * both shortcuts off (every cycle of every sample simulated: the reference the tests compare with).
 */
export function simulateStream(net: StreamNetwork, samples: number, options: { readonly exhaustive?: boolean } = {}): StreamTiming {
  const n = Math.max(2, samples);
  const cn = compile(net);
  const { kind, in0, out0, a: pa, b: pb, off, lists, windows } = cn;
  const P = net.prims.length;
  const valid = new Uint8Array(net.channels);
  const ready = new Uint8Array(net.channels);
  const win = new Int32Array(cn.winCount * WIN_FIELDS);
  const regs = new Int32Array(P); // reg/mac/gap: out_valid
  const ts = new Int32Array(P); // mac: t; fifo: count
  const ks = new Int32Array(P); // mac, gap: k
  const done = new Uint8Array(cn.doneBits); // fork: outputs served
  for (let i = 0; i < P; i += 1) if (kind[i] === WINDOW) windowReset(windows[i]!, win, off[i]!);
  const beats = Int32Array.from(net.beats);
  const totalIn = n * net.inBeats;
  let inIdx = 0;
  let firstIn = -1;
  const outs = net.outputs.length;
  const outChannel = Int32Array.from(net.outputs, (o) => o.channel);
  const outBeats = Int32Array.from(net.outputs, (o) => o.beats);
  const outCount = new Array<number>(outs).fill(0);
  const wordsSeen = new Int32Array(net.channels);
  const lastWordOfFirst = new Array<number>(net.channels).fill(-1);
  let firstPending = net.channels; // channels whose last word of the first sample has not passed yet
  const completions: number[] = [];
  let period = -1;
  let cycle = 0;
  // A cycle without any word passing is normal only while a MAC works through its reuse cycles.
  let maxR = 1;
  for (let i = 0; i < P; i += 1) if (kind[i] === MAC) maxR = Math.max(maxR, pa[i]!);
  const maxIdle = 2 * maxR + 16;
  let idle = 0;
  const extrapolate = outs === 1;
  const port = net.port;
  let previous = '';
  const marks = new Map<string, Mark>();

  const state = (): string => {
    const parts: (number | string)[] = [inIdx - completions.length * net.inBeats, win.join(','), regs.join(','), ts.join(','), ks.join(','), done.join('')];
    for (let k = 0; k < outs; k += 1) parts.push(outCount[k]! - completions.length * outBeats[k]!);
    return parts.join(' ');
  };

  while (completions.length < n) {
    // Valids, front to back.
    valid[0] = inIdx < totalIn ? 1 : 0;
    for (let i = 0; i < P; i += 1) {
      const o = out0[i]!;
      switch (kind[i]) {
        case WINDOW:
          valid[o] = windowAvail(windows[i]!, win, off[i]!) ? 1 : 0;
          break;
        case REG:
        case MAC:
        case GAP:
          valid[o] = regs[i]!;
          break;
        case FIFO:
          valid[o] = ts[i]! > 0 ? 1 : 0;
          break;
        case FORK: {
          const l = lists[i]!;
          const v = valid[in0[i]!]!;
          const d = off[i]!;
          for (let k = 0; k < l.length; k += 1) valid[l[k]!] = v && !done[d + k] ? 1 : 0;
          break;
        }
        case MERGE: {
          const l = lists[i]!;
          let any = 0;
          for (let k = 0; k < l.length; k += 1) if (valid[l[k]!] === 1) any = 1;
          valid[o] = any;
          break;
        }
        case JOIN: {
          const l = lists[i]!;
          let all = 1;
          for (let k = 0; k < l.length; k += 1) if (valid[l[k]!] !== 1) all = 0;
          valid[o] = all;
          break;
        }
      }
    }
    // Readies, back to front.
    ready[port] = 1;
    for (let i = P - 1; i >= 0; i -= 1) {
      const x = in0[i]!;
      const o = out0[i]!;
      switch (kind[i]) {
        case WINDOW: {
          const w = off[i]!;
          ready[x] = win[w + IN_DONE] === 0 && (win[w + OUT_DONE] === 1 || win[w + IN_R]! < win[w + TOP]! + pa[i]!) ? 1 : 0;
          break;
        }
        case REG:
          ready[x] = !regs[i] || ready[o] ? 1 : 0;
          break;
        case MAC: {
          const lastT = ts[i] === pa[i]! - 1;
          const final = lastT && ks[i] === pb[i]! - 1;
          const go = valid[x] === 1 && (!final || !regs[i] || ready[o] === 1);
          ready[x] = go && lastT ? 1 : 0;
          break;
        }
        case GAP:
          ready[x] = ks[i] !== pa[i]! - 1 || !regs[i] || ready[o] === 1 ? 1 : 0;
          break;
        case FIFO:
          ready[x] = ts[i] !== pa[i] ? 1 : 0;
          break;
        case FORK: {
          const l = lists[i]!;
          const d = off[i]!;
          let all = 1;
          for (let k = 0; k < l.length; k += 1) if (!(done[d + k] || (valid[l[k]!] && ready[l[k]!]))) all = 0;
          ready[x] = all;
          break;
        }
        case MERGE: {
          const l = lists[i]!;
          let seen = false;
          for (let k = 0; k < l.length; k += 1) {
            const c = l[k]!;
            ready[c] = valid[c] && !seen && ready[o] ? 1 : 0;
            if (valid[c]) seen = true;
          }
          break;
        }
        case JOIN: {
          const l = lists[i]!;
          const r = valid[o] && ready[o] ? 1 : 0;
          for (let k = 0; k < l.length; k += 1) ready[l[k]!] = r;
          break;
        }
      }
    }
    // Words passing this cycle.
    let fired = false;
    for (let c = 0; c < net.channels; c += 1) {
      if (valid[c] && ready[c]) {
        fired = true;
        wordsSeen[c] += 1;
        if (wordsSeen[c] === beats[c]) {
          lastWordOfFirst[c] = cycle;
          firstPending -= 1;
        }
      }
    }
    if (valid[0] && ready[0]) {
      if (firstIn < 0) firstIn = cycle;
      inIdx += 1;
    }
    let completed = false;
    if (valid[port] && ready[port]) {
      // Which output the word belongs to: the merge's selected input, or the only output.
      let k = 0;
      if (outs > 1) {
        k = -1;
        for (let j = 0; j < outs && k < 0; j += 1) if (valid[outChannel[j]!] && ready[outChannel[j]!]) k = j;
      }
      outCount[k] += 1;
      let s = Infinity;
      for (let j = 0; j < outs; j += 1) s = Math.min(s, Math.floor(outCount[j]! / outBeats[j]!));
      while (completions.length < s) {
        completions.push(cycle);
        completed = true;
      }
    }
    // Next state.
    for (let i = 0; i < P; i += 1) {
      const x = in0[i]!;
      const o = out0[i]!;
      switch (kind[i]) {
        case WINDOW: {
          const p = windows[i]!;
          const w = off[i]!;
          const inFire = valid[x] === 1 && ready[x] === 1;
          const outFire = valid[o] === 1 && ready[o] === 1;
          const inLast = inFire && win[w + IN_R] === p.H - 1 && win[w + IN_C] === p.W - 1;
          const outLast = outFire && win[w + OUT_R] === p.OH - 1 && win[w + OUT_C] === p.OW - 1;
          if ((win[w + IN_DONE] === 1 || inLast) && (win[w + OUT_DONE] === 1 || outLast)) {
            windowReset(p, win, w);
            break;
          }
          if (inFire) {
            if (win[w + IN_C] === p.W - 1) {
              win[w + IN_C] = 0;
              win[w + IN_R] += 1;
            } else win[w + IN_C] += 1;
            if (inLast) win[w + IN_DONE] = 1;
          }
          if (outFire) {
            if (win[w + OUT_C] === p.OW - 1) {
              win[w + OUT_C] = 0;
              win[w + LEFT] = -p.PL;
              win[w + OUT_R] += 1;
              win[w + TOP] += p.SH;
            } else {
              win[w + OUT_C] += 1;
              win[w + LEFT] += p.SW;
            }
            if (outLast) win[w + OUT_DONE] = 1;
          }
          break;
        }
        case REG:
          if (ready[x]) regs[i] = valid[x]!;
          break;
        case MAC: {
          const lastT = ts[i] === pa[i]! - 1;
          const final = lastT && ks[i] === pb[i]! - 1;
          const go = valid[x] === 1 && (!final || !regs[i] || ready[o] === 1);
          if (go) {
            ts[i] = lastT ? 0 : ts[i]! + 1;
            if (lastT) ks[i] = final ? 0 : ks[i]! + 1;
          }
          if (go && final) regs[i] = 1;
          else if (ready[o]) regs[i] = 0;
          break;
        }
        case GAP: {
          const last = ks[i] === pa[i]! - 1;
          const fire = valid[x] === 1 && ready[x] === 1;
          if (fire) ks[i] = last ? 0 : ks[i]! + 1;
          if (fire && last) regs[i] = 1;
          else if (ready[o]) regs[i] = 0;
          break;
        }
        case FIFO: {
          const push = valid[x] === 1 && ready[x] === 1;
          const pop = valid[o] === 1 && ready[o] === 1;
          ts[i] += (push ? 1 : 0) - (pop ? 1 : 0);
          break;
        }
        case FORK: {
          const l = lists[i]!;
          const d = off[i]!;
          if (valid[x] && ready[x]) done.fill(0, d, d + l.length);
          else for (let k = 0; k < l.length; k += 1) done[d + k] = done[d + k] || (valid[l[k]!] && ready[l[k]!]) ? 1 : 0;
          break;
        }
        default:
          break;
      }
    }
    cycle += 1;
    idle = fired ? 0 : idle + 1;
    if (idle > maxIdle) throw new Error(`internal: the stream model stalled at cycle ${cycle} (deadlock)`);
    if (!completed || options.exhaustive === true) continue;
    if (extrapolate) {
      // Once the whole state repeats from one completion to the next, every later sample repeats it.
      const now = state();
      if (now === previous) {
        period = completions[completions.length - 1]! - completions[completions.length - 2]!;
        break;
      }
      previous = now;
      continue;
    }
    // Several outputs: skip whole periods while every cycle of them still sees an input word offered
    // (and the first sample has passed every channel, so `lastWordOfFirst` is final).
    if (firstPending > 0) continue;
    const key = state();
    const seen = marks.get(key);
    marks.set(key, { cycle, completions: completions.length, inIdx, outCount: [...outCount] });
    if (seen === undefined) continue;
    const span = cycle - seen.cycle;
    const dc = completions.length - seen.completions;
    const dIn = inIdx - seen.inIdx;
    if (dIn <= 0) continue;
    const m = Math.min(Math.floor((n - completions.length) / dc), Math.floor((totalIn - 1 - inIdx) / dIn));
    if (m < 1) continue;
    const first = seen.completions;
    const last = completions.length;
    for (let j = 1; j <= m; j += 1) for (let q = first; q < last; q += 1) completions.push(completions[q]! + j * span);
    for (let k = 0; k < outs; k += 1) outCount[k] += m * (outCount[k]! - seen.outCount[k]!);
    inIdx += m * dIn;
    cycle += m * span;
    marks.clear();
  }
  while (completions.length < n) completions.push(completions[completions.length - 1]! + period);
  const steady = period >= 0 ? period : completions[n - 1]! - completions[n - 2]!;
  return {
    latency: completions[0]! - Math.max(firstIn, 0),
    interval: (completions[n - 1]! - completions[0]!) / (n - 1),
    steadyInterval: steady,
    lastWordOfFirst,
    simulated: cycle,
  };
}
