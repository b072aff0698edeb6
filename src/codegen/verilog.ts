/**
 * The Verilog back-end: `emitVerilog(graph, outDir, {arch})` writes synthesizable Verilog-2005 for an IR
 * graph, bit-exact with `runIR`. Two architectures:
 *
 * - `parallel`: every layer unrolled against its constant weights (multipliers become shift-add networks,
 *   zero weights vanish, power-of-two weights are wires, binary/ternary weights add-subtract or
 *   XNOR-popcount), registers between layers, one sample per clock. For MLPs.
 * - `stream`: the input streams in (one pixel per word, valid/ready), convolutions and pooling read a line
 *   buffer, dense layers after a flatten consume the stream word by word, each MAC layer trades
 *   multipliers for cycles with its reuse factor, and back-pressure is honoured. For CNNs.
 *
 * Output is deterministic: the same graph and options give the same bytes. Every file carries a
 * generated-by header; identifiers are sanitised from layer names. A `manifest.json` says where each
 * tensor sits on the ports.
 */
import { join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import { rederive } from '../ir/builder.js';
import { assertValid } from '../ir/check.js';
import { writeFilesAtomic } from '../utils/atomic-file.js';
import { packageVersion } from './render.js';
import { verilogPool } from './verilog-names.js';
import { generateParallel } from './verilog-parallel.js';
import { generateStream } from './verilog-stream.js';
import { MANIFEST_FORMAT, type VerilogArch, type VerilogManifest } from './verilog-manifest.js';
import { handWrittenModules, TemplateSet, type GeneratedFile } from './verilog-templates.js';
import { ConfigError } from '../errors.js';
import { checkParallelSize } from './verilog-size.js';

export interface VerilogOptions {
  readonly arch: VerilogArch;
  /** Parallel: a register after every `pipeline`-th layer (default 1; 0 keeps only the output register). */
  readonly pipeline?: number;
  /**
   * Stream: cycles each MAC layer spends per input word (1 = fully parallel within the word). One number
   * for every layer, or per layer name / node id (others default to 1).
   */
  readonly reuse?: number | Readonly<Record<string, number>>;
  /**
   * Parallel: share sub-expressions across the constant multiplications of each layer (CSD digit
   * patterns common to several weights computed once, H-CMVM style). Fewer adders; same results.
   */
  readonly share?: boolean;
  /** Name of the top module (default: the graph's name), sanitised. */
  readonly name?: string;
  /**
   * Parallel: the most constant multiplications the design may unroll (default 65,536; `Infinity` for no
   * limit). Larger models are refused before generation with a `DesignTooLargeError` naming the layers.
   */
  readonly maxParallelMacs?: number;
}

export interface VerilogDesign {
  readonly manifest: VerilogManifest;
  /** Every Verilog file of the design: the generated modules first, then the hand-written ones. */
  readonly files: readonly GeneratedFile[];
}

export const MANIFEST_FILE = 'manifest.json';

/** Generates the design in memory (what `emitVerilog` writes). */
export function generateVerilog(graph: Graph, options: VerilogOptions): VerilogDesign {
  if (options.arch !== 'parallel' && options.arch !== 'stream') {
    throw new ConfigError('emitVerilog', 'arch', options.arch, '"parallel" or "stream"');
  }
  if (options.share !== undefined && typeof options.share !== 'boolean') {
    throw new ConfigError('emitVerilog', 'share', options.share, 'true or false');
  }
  if (options.share === true && options.arch !== 'parallel') {
    throw new ConfigError('emitVerilog', 'share', options.share, 'false with arch "stream" (sharing applies to the parallel architecture, whose layers are unrolled)');
  }
  if (options.arch === 'parallel') {
    // Before anything else: checking or generating a model of millions of weights takes minutes.
    checkParallelSize(graph, options.maxParallelMacs, 'emitVerilog');
  }
  const g = rederive(graph);
  assertValid(g, { float32: false });
  const modules = verilogPool();
  const top = modules.claim(options.name ?? (g.name === '' ? 'model' : g.name));
  const t = new TemplateSet(g.name, options.arch);
  const built =
    options.arch === 'parallel'
      ? generateParallel(g, top, modules, t, { pipeline: options.pipeline, share: options.share === true })
      : generateStream(g, top, modules, t, { reuse: options.reuse });
  const hand = handWrittenModules();
  const files = [...built.files, ...hand];
  const manifest: VerilogManifest = {
    format: MANIFEST_FORMAT,
    generator: `qkeras-ts ${packageVersion()}`,
    graph: g.name,
    top,
    arch: options.arch,
    files: files.map((f) => f.name),
    ports: built.ports,
    layers: built.layers,
  };
  return { manifest, files };
}

/** Writes the design's Verilog files and `manifest.json` into `outDir` (all or nothing). */
export function emitVerilog(graph: Graph, outDir: string, options: VerilogOptions): VerilogDesign {
  const design = generateVerilog(graph, options);
  writeFilesAtomic([
    ...design.files.map((f) => ({ path: join(outDir, f.name), data: f.text })),
    { path: join(outDir, MANIFEST_FILE), data: `${JSON.stringify(design.manifest, null, 2)}\n` },
  ]);
  return design;
}

export type { VerilogArch, VerilogManifest } from './verilog-manifest.js';
