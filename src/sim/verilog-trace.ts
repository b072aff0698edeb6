/**
 * The run format both Verilog simulation harnesses write (Verilator's C++ harness and the Icarus
 * testbench): `i <cycle>` per accepted input word, `o <cycle> <hex>` per output word, `cycles <n>`; and
 * turning a run into output codes and measured timing with the design's manifest.
 */
import type { VerilogManifest } from '../codegen/verilog-manifest.js';
import { decodeRun } from '../codegen/verilog-manifest.js';
import { parseHex } from '../codegen/verilog-format.js';

/** What a simulation produced, word by word. */
export interface SimTrace {
  readonly outWords: readonly bigint[];
  readonly outCycles: readonly number[];
  readonly inCycles: readonly number[];
  readonly cycles: number;
}

export function parseTrace(text: string): SimTrace {
  const outWords: bigint[] = [];
  const outCycles: number[] = [];
  const inCycles: number[] = [];
  let cycles = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'o') {
      outCycles.push(Number(parts[1]));
      outWords.push(parseHex(parts[2]!));
    } else if (parts[0] === 'i') {
      inCycles.push(Number(parts[1]));
    } else if (parts[0] === 'cycles') {
      cycles = Number(parts[1]);
    }
  }
  return { outWords, outCycles, inCycles, cycles };
}

/** Measured timing of a run. */
export interface RunTiming {
  readonly cycles: number;
  /** Cycles from accepting the first input word to the last output word of the first sample. */
  readonly latency: number;
  /** Cycles between consecutive sample completions: the smallest, and the average. */
  readonly minInterval: number;
  readonly meanInterval: number;
}

export interface VerilogRun {
  /** `[sample][output][element]` codes. */
  readonly outputs: number[][][];
  readonly timing: RunTiming;
}

/** Cycles at which each sample's last output word left. */
function completions(m: VerilogManifest, trace: SimTrace): number[] {
  const p = m.ports;
  if (p.kind === 'parallel') return [...trace.outCycles];
  const payload = p.outWidth - p.tagWidth;
  const counts = p.outputs.map(() => 0);
  const done: number[] = [];
  trace.outWords.forEach((w, i) => {
    const tag = p.tagWidth === 0 ? 0 : Number(w >> BigInt(payload));
    if (tag < counts.length) counts[tag]! += 1;
    let s = Infinity;
    counts.forEach((c, k) => {
      s = Math.min(s, Math.floor(c / p.outputs[k]!.beats));
    });
    while (done.length < s) done.push(trace.outCycles[i]!);
  });
  return done;
}

/** Output codes and timing of a run over `samples` samples. */
export function finishRun(m: VerilogManifest, trace: SimTrace, samples: number): VerilogRun {
  const outputs = decodeRun(m, trace.outWords, samples);
  const done = completions(m, trace);
  let minInterval = Infinity;
  for (let i = 1; i < done.length; i += 1) minInterval = Math.min(minInterval, done[i]! - done[i - 1]!);
  const timing: RunTiming = {
    cycles: trace.cycles,
    latency: done.length > 0 && trace.inCycles.length > 0 ? done[0]! - trace.inCycles[0]! : 0,
    minInterval: done.length > 1 ? minInterval : 0,
    meanInterval: done.length > 1 ? (done[done.length - 1]! - done[0]!) / (done.length - 1) : 0,
  };
  return { outputs, timing };
}
