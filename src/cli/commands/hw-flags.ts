/**
 * Flags shared by the hardware commands (compile --target verilog, synth, verify, predict): the
 * architecture, the stream reuse factors, the parallel pipeline depth and sub-expression sharing, parsed
 * into emitVerilog's options with errors that say what was expected.
 */
import { UsageError } from '../errors.js';
import type { VerilogArch } from '../../codegen/verilog-manifest.js';

export interface HwFlags {
  readonly arch?: string;
  readonly reuse?: string;
  readonly pipeline?: string;
  readonly share?: boolean;
}

export function parseArchFlag(v: string | undefined): VerilogArch {
  const a = v ?? 'parallel';
  if (a !== 'parallel' && a !== 'stream') throw new UsageError(`--arch must be parallel or stream, got ${JSON.stringify(a)}`);
  return a;
}

function positive(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** `--reuse 4` (every layer) or `--reuse conv1=2,conv2=8` (per layer name; others 1). */
export function parseReuseFlag(v: string | undefined): number | Record<string, number> | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return positive(v.trim(), '--reuse');
  const out: Record<string, number> = {};
  for (const part of v.split(',')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--reuse takes a number or layer=factor pairs separated by commas, got ${JSON.stringify(part)}`);
    out[part.slice(0, eq).trim()] = positive(part.slice(eq + 1).trim(), `--reuse for layer ${JSON.stringify(part.slice(0, eq).trim())}`);
  }
  return out;
}

export function parsePipelineFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--pipeline must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** `--share`: only the parallel architecture unrolls its layers into adder networks to share. */
export function parseShareFlag(share: boolean | undefined, arch: VerilogArch): boolean | undefined {
  if (share !== true) return undefined;
  if (arch !== 'parallel') throw new UsageError(`--share applies to --arch parallel only, got --arch ${arch}`);
  return true;
}

export const ARCH_HELP = 'Verilog architecture: parallel (every layer unrolled, one sample per clock) or stream (valid/ready, line buffers)';
export const REUSE_HELP = 'stream: cycles per input word of each MAC layer, a number or layer=factor pairs (default 1)';
export const PIPELINE_HELP = 'parallel: a register stage after every N-th layer (default 1; 0 keeps only the output register)';
export const SHARE_HELP = 'parallel: compute sub-expressions common to several constant multiplications of a layer once (fewer adders, same results)';

/** `--max-macs N` (or `none`): the parallel design's limit on unrolled constant multiplications. */
export function parseMaxMacsFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === 'none') return Infinity;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max-macs must be a positive integer or none, got ${JSON.stringify(v)}`);
  return n;
}

export const MAX_MACS_HELP = 'parallel: refuse designs that unroll more constant multiplications than this (default 65536; none: no limit)';
