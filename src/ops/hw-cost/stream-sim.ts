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

interface WindowState {
  inR: number;
  inC: number;
  inDone: boolean;
  outR: number;
  outC: number;
  top: number;
  left: number;
  outDone: boolean;
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

function windowReset(p: WindowParams): WindowState {
  return { inR: 0, inC: 0, inDone: false, outR: 0, outC: 0, top: -p.PT, left: -p.PL, outDone: false };
}

function windowAvail(p: WindowParams, s: WindowState): boolean {
  const bot = Math.min(s.top + (p.KH - 1) * p.DH, p.H - 1);
  const right = Math.min(s.left + (p.KW - 1) * p.DW, p.W - 1);
  return !s.outDone && (s.inDone || s.inR > bot || (s.inR === bot && s.inC > right));
}

/** Simulates `samples` samples through the network (at least 2). */
export function simulateStream(net: StreamNetwork, samples: number): StreamTiming {
  const n = Math.max(2, samples);
  const valid = new Uint8Array(net.channels);
  const ready = new Uint8Array(net.channels);
  // Per primitive state, as plain numbers (window states as objects).
  const windows = new Map<number, WindowState>();
  const regs = new Int32Array(net.prims.length); // reg/mac/gap: out_valid
  const ts = new Int32Array(net.prims.length); // mac: t; fifo: count
  const ks = new Int32Array(net.prims.length); // mac, gap: k
  const done = new Map<number, Uint8Array>(); // fork
  net.prims.forEach((p, i) => {
    if (p.kind === 'window') windows.set(i, windowReset(p));
    if (p.kind === 'fork') done.set(i, new Uint8Array(p.outs.length));
  });
  const totalIn = n * net.inBeats;
  let inIdx = 0;
  let firstIn = -1;
  const outCount = net.outputs.map(() => 0);
  const wordsSeen = new Int32Array(net.channels);
  const lastWordOfFirst = new Array<number>(net.channels).fill(-1);
  const completions: number[] = [];
  const snapshots: string[] = [];
  let period = -1;
  let cycle = 0;
  // A cycle without any word passing is normal only while a MAC works through its reuse cycles.
  const maxIdle = 2 * Math.max(1, ...net.prims.map((p) => (p.kind === 'mac' ? p.R : 1))) + 16;
  let idle = 0;
  // Later samples never delay earlier ones except where a merge lets an output of a later sample go
  // first: only without a merge may the repetition found below be extrapolated.
  const extrapolate = net.outputs.length === 1;

  const state = (): string => {
    const parts: (number | string)[] = [inIdx - completions.length * net.inBeats];
    for (const [i, w] of windows) parts.push(i, w.inR, w.inC, +w.inDone, w.outR, w.outC, w.top, w.left, +w.outDone);
    parts.push(regs.join(','), ts.join(','), ks.join(','));
    for (const d of done.values()) parts.push(d.join(''));
    net.outputs.forEach((o, k) => parts.push(outCount[k]! - completions.length * o.beats));
    return parts.join(' ');
  };

  while (completions.length < n) {
    // Valids, front to back.
    valid[0] = inIdx < totalIn ? 1 : 0;
    net.prims.forEach((p, i) => {
      switch (p.kind) {
        case 'window':
          valid[p.outs[0]] = windowAvail(p, windows.get(i)!) ? 1 : 0;
          break;
        case 'reg':
        case 'mac':
        case 'gap':
          valid[p.outs[0]] = regs[i]!;
          break;
        case 'fifo':
          valid[p.outs[0]] = ts[i]! > 0 ? 1 : 0;
          break;
        case 'fork': {
          const d = done.get(i)!;
          p.outs.forEach((c, k) => {
            valid[c] = valid[p.ins[0]]! && !d[k] ? 1 : 0;
          });
          break;
        }
        case 'merge':
          valid[p.outs[0]] = p.ins.some((c) => valid[c] === 1) ? 1 : 0;
          break;
        case 'join':
          valid[p.outs[0]] = p.ins.every((c) => valid[c] === 1) ? 1 : 0;
          break;
      }
    });
    // Readies, back to front.
    ready[net.port] = 1;
    for (let i = net.prims.length - 1; i >= 0; i -= 1) {
      const p = net.prims[i]!;
      switch (p.kind) {
        case 'window': {
          const s = windows.get(i)!;
          ready[p.ins[0]] = !s.inDone && (s.outDone || s.inR < s.top + lineBufferRows(p)) ? 1 : 0;
          break;
        }
        case 'reg':
          ready[p.ins[0]] = !regs[i] || ready[p.outs[0]] ? 1 : 0;
          break;
        case 'mac': {
          const lastT = ts[i] === p.R - 1;
          const final = lastT && ks[i] === p.K - 1;
          const go = valid[p.ins[0]] === 1 && (!final || !regs[i] || ready[p.outs[0]] === 1);
          ready[p.ins[0]] = go && lastT ? 1 : 0;
          break;
        }
        case 'gap':
          ready[p.ins[0]] = ks[i] !== p.K - 1 || !regs[i] || ready[p.outs[0]] === 1 ? 1 : 0;
          break;
        case 'fifo':
          ready[p.ins[0]] = ts[i] !== p.depth ? 1 : 0;
          break;
        case 'fork': {
          const d = done.get(i)!;
          ready[p.ins[0]] = p.outs.every((c, k) => d[k] || (valid[c] && ready[c])) ? 1 : 0;
          break;
        }
        case 'merge': {
          let seen = false;
          for (const c of p.ins) {
            ready[c] = valid[c] && !seen && ready[p.outs[0]] ? 1 : 0;
            if (valid[c]) seen = true;
          }
          break;
        }
        case 'join':
          for (const c of p.ins) ready[c] = valid[p.outs[0]] && ready[p.outs[0]] ? 1 : 0;
          break;
      }
    }
    // Words passing this cycle.
    let fired = false;
    for (let c = 0; c < net.channels; c += 1) {
      if (valid[c] && ready[c]) {
        fired = true;
        wordsSeen[c] += 1;
        if (wordsSeen[c] === net.beats[c]) lastWordOfFirst[c] = cycle;
      }
    }
    if (valid[0] && ready[0]) {
      if (firstIn < 0) firstIn = cycle;
      inIdx += 1;
    }
    let completed = false;
    if (valid[net.port] && ready[net.port]) {
      // Which output the word belongs to: the merge's selected input, or the only output.
      let k = 0;
      if (net.outputs.length > 1) k = net.outputs.findIndex((o) => valid[o.channel] && ready[o.channel]);
      outCount[k] += 1;
      const s = Math.min(...net.outputs.map((o, j) => Math.floor(outCount[j]! / o.beats)));
      while (completions.length < s) {
        completions.push(cycle);
        completed = true;
      }
    }
    // Next state.
    net.prims.forEach((p, i) => {
      switch (p.kind) {
        case 'window': {
          const s = windows.get(i)!;
          const inFire = valid[p.ins[0]] === 1 && ready[p.ins[0]] === 1;
          const outFire = valid[p.outs[0]] === 1 && ready[p.outs[0]] === 1;
          const inLast = inFire && s.inR === p.H - 1 && s.inC === p.W - 1;
          const outLast = outFire && s.outR === p.OH - 1 && s.outC === p.OW - 1;
          if ((s.inDone || inLast) && (s.outDone || outLast)) {
            windows.set(i, windowReset(p));
            break;
          }
          if (inFire) {
            if (s.inC === p.W - 1) {
              s.inC = 0;
              s.inR += 1;
            } else s.inC += 1;
            if (inLast) s.inDone = true;
          }
          if (outFire) {
            if (s.outC === p.OW - 1) {
              s.outC = 0;
              s.left = -p.PL;
              s.outR += 1;
              s.top += p.SH;
            } else {
              s.outC += 1;
              s.left += p.SW;
            }
            if (outLast) s.outDone = true;
          }
          break;
        }
        case 'reg':
          if (ready[p.ins[0]]) regs[i] = valid[p.ins[0]]!;
          break;
        case 'mac': {
          const lastT = ts[i] === p.R - 1;
          const final = lastT && ks[i] === p.K - 1;
          const go = valid[p.ins[0]] === 1 && (!final || !regs[i] || ready[p.outs[0]] === 1);
          if (go) {
            ts[i] = lastT ? 0 : ts[i]! + 1;
            if (lastT) ks[i] = final ? 0 : ks[i]! + 1;
          }
          if (go && final) regs[i] = 1;
          else if (ready[p.outs[0]]) regs[i] = 0;
          break;
        }
        case 'gap': {
          const last = ks[i] === p.K - 1;
          const fire = valid[p.ins[0]] === 1 && ready[p.ins[0]] === 1;
          if (fire) ks[i] = last ? 0 : ks[i]! + 1;
          if (fire && last) regs[i] = 1;
          else if (ready[p.outs[0]]) regs[i] = 0;
          break;
        }
        case 'fifo': {
          const push = valid[p.ins[0]] === 1 && ready[p.ins[0]] === 1;
          const pop = valid[p.outs[0]] === 1 && ready[p.outs[0]] === 1;
          ts[i] += (push ? 1 : 0) - (pop ? 1 : 0);
          break;
        }
        case 'fork': {
          const d = done.get(i)!;
          if (valid[p.ins[0]] && ready[p.ins[0]]) d.fill(0);
          else p.outs.forEach((c, k) => (d[k] = d[k] || (valid[c] && ready[c]) ? 1 : 0));
          break;
        }
        default:
          break;
      }
    });
    cycle += 1;
    idle = fired ? 0 : idle + 1;
    if (idle > maxIdle) throw new Error(`internal: the stream model stalled at cycle ${cycle} (deadlock)`);
    if (completed && extrapolate) {
      // Once the whole state repeats from one completion to the next, every later sample repeats it.
      snapshots.push(state());
      const m = snapshots.length;
      if (m >= 2 && snapshots[m - 1] === snapshots[m - 2]) {
        period = completions[m - 1]! - completions[m - 2]!;
        break;
      }
    }
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
