/**
 * Verilator for generated Verilog: lint (`--lint-only -Wall`, Verilog-2005), build the hw-sim/verilator
 * harness against a design (with `-fno-dfg`: Verilator 5.006's DFG optimiser mis-simulates some large
 * adder/XOR netlists, upstream verilator#4709), cache builds by content hash, run input words through it
 * with random gaps and back-pressure, and decode the output words into codes with the design's manifest.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerilogDesign } from '../codegen/verilog.js';
import { encodeSample, outputWordsPerSample, type VerilogManifest } from '../codegen/verilog-manifest.js';
import { busHex } from '../codegen/verilog-format.js';
import { finishRun, parseTrace, type SimTrace, type VerilogRun } from './verilog-trace.js';
import { simAssetPath } from '../codegen/render.js';
import { MAKE, ToolError, VERILATOR, findTool, runTool, toolAt, toolVersion, type Tool } from './tools.js';

/** Root of the build caches (`QKERAS_CACHE_DIR`, else a directory in the OS temp dir). */
export function cacheRoot(): string {
  return process.env['QKERAS_CACHE_DIR'] ?? join(tmpdir(), 'qkeras-ts-cache');
}

/**
 * Verilator refuses number literals wider than 65,536 bits by default; a fully-parallel layer passes its
 * whole weight table as one parameter (qkeras_mnist_dense's 784x20 table is 156,800 bits).
 */
const WIDE_LITERALS: readonly string[] = ['--max-num-width', '1048576'];

/** Flags every lint of generated Verilog uses: all warnings, Verilog-2005 only. */
export const LINT_FLAGS: readonly string[] = ['--lint-only', '-Wall', '--default-language', '1364-2005', ...WIDE_LITERALS];

/** Writes the design's files into a directory (fresh temp dir when none is given). */
export function writeDesignFiles(design: VerilogDesign, dir: string = mkdtempSync(join(tmpdir(), 'qkeras-v-'))): string {
  mkdirSync(dir, { recursive: true });
  for (const f of design.files) writeFileSync(join(dir, f.name), f.text);
  return dir;
}

export interface LintResult {
  readonly ok: boolean;
  /** Verilator's warnings and errors (empty when clean). */
  readonly messages: string;
}

/** `verilator --lint-only -Wall` over every file of a design, with its top module. */
export async function lintDesign(design: VerilogDesign, options: { verilator?: Tool } = {}): Promise<LintResult> {
  const tool = options.verilator ?? findTool(VERILATOR);
  const dir = writeDesignFiles(design);
  try {
    const r = await runTool(tool, [...LINT_FLAGS, '--top-module', design.manifest.top, ...design.files.map((f) => f.name)], {
      cwd: dir,
      allowFailure: true,
      what: 'linting the generated Verilog',
    });
    return { ok: r.code === 0 && r.stderr.trim() === '', messages: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A design compiled with the harness. */
export interface VerilatorModel {
  readonly exe: string;
  readonly dir: string;
  readonly hash: string;
  /** Whether the build came from the cache. */
  readonly cached: boolean;
  readonly manifest: VerilogManifest;
  readonly verilator: string;
}

export interface BuildOptions {
  readonly verilator?: Tool;
  readonly timeoutMs?: number;
  /**
   * 'compile' (default): keep the generated layers' loops as loops, for builds of seconds. 'speed':
   * unroll them and optimise the C++ (-O2): builds take minutes for large designs, long simulations
   * (thousands of images through a CNN) run several times faster.
   */
  readonly optimize?: 'compile' | 'speed';
}

/** Arguments of the build (also part of the cache key). */
// By default loops stay loops (--unroll-count): unrolled constant-weight layers make C++ too large to
// compile quickly.
const BASE_FLAGS: readonly string[] = ['--cc', '--exe', '-fno-dfg', '-Wno-fatal', '--prefix', 'Vqk_top', ...WIDE_LITERALS];
const BUILDS = {
  compile: { verilate: [...BASE_FLAGS, '--unroll-count', '4'], make: ['OPT_FAST=-O1', 'OPT_SLOW=-O0', 'OPT_GLOBAL=-O1'] },
  speed: { verilate: [...BASE_FLAGS, '--unroll-count', '100000', '--unroll-stmts', '10000000'], make: ['OPT_FAST=-O2', 'OPT_SLOW=-O0', 'OPT_GLOBAL=-O2'] },
} as const;
/** Verilator's runtime objects: the same for every design, compiled once per Verilator and flags. */
const RUNTIME_OBJECTS: readonly string[] = ['verilated.o', 'verilated_threads.o'];

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/** Copies cached runtime objects into a fresh build (newer than their sources, so make keeps them). */
function restoreRuntime(runtimeDir: string, objDir: string): boolean {
  if (!RUNTIME_OBJECTS.every((o) => existsSync(join(runtimeDir, o)))) return false;
  mkdirSync(objDir, { recursive: true });
  const now = new Date();
  for (const o of RUNTIME_OBJECTS) {
    copyFileSync(join(runtimeDir, o), join(objDir, o));
    utimesSync(join(objDir, o), now, now);
  }
  return true;
}

function saveRuntime(runtimeDir: string, objDir: string, root: string): void {
  if (!RUNTIME_OBJECTS.every((o) => existsSync(join(objDir, o)))) return;
  const tmp = mkdtempSync(join(root, 'tmp-runtime-'));
  try {
    for (const o of RUNTIME_OBJECTS) copyFileSync(join(objDir, o), join(tmp, o));
    renameSync(tmp, runtimeDir);
  } catch {
    // Another build saved them first.
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Compiles the design with the Verilator harness, or reuses an identical earlier build. */
export async function buildVerilator(design: VerilogDesign, options: BuildOptions = {}): Promise<VerilatorModel> {
  const tool = options.verilator ?? findTool(VERILATOR);
  const version = await toolVersion(tool);
  const harness = readFileSync(simAssetPath('verilator', 'harness.cpp'), 'utf8');
  const flags = BUILDS[options.optimize ?? 'compile'];
  const VERILATE_FLAGS = flags.verilate;
  const MAKE_FLAGS = flags.make;
  const h = createHash('sha256');
  h.update(`${version}\n${VERILATE_FLAGS.join(' ')}\n${MAKE_FLAGS.join(' ')}\n${design.manifest.top}\n`);
  h.update(harness);
  for (const f of design.files) h.update(`\n--- ${f.name}\n${f.text}`);
  const hash = h.digest('hex').slice(0, 24);
  const root = join(cacheRoot(), 'verilator');
  const dir = join(root, hash);
  const exe = join(dir, 'obj', 'sim');
  const model = (cached: boolean): VerilatorModel => ({ exe, dir, hash, cached, manifest: design.manifest, verilator: version });
  if (existsSync(exe)) return model(true);
  mkdirSync(root, { recursive: true });
  const make = findTool(MAKE);
  const runtimeDir = join(root, `runtime-${sha(`${version}\n${MAKE_FLAGS.join(' ')}`)}`);
  const timeoutMs = options.timeoutMs ?? 600_000;
  // Build beside the cache entry and rename it into place, so concurrent builds never see half a build.
  const tmp = mkdtempSync(join(root, `tmp-${hash}-`));
  try {
    writeDesignFiles(design, tmp);
    writeFileSync(join(tmp, 'harness.cpp'), harness);
    const what = `building ${design.manifest.top} with Verilator`;
    await runTool(
      tool,
      [...VERILATE_FLAGS, '--top-module', design.manifest.top, '--Mdir', 'obj', '-o', 'sim', 'harness.cpp', ...design.files.map((f) => f.name)],
      { cwd: tmp, timeoutMs, what },
    );
    const reused = restoreRuntime(runtimeDir, join(tmp, 'obj'));
    // Verilator's makefile adds $(OPT) to every compile: an unrelated OPT in the environment must not leak in.
    const env = { ...process.env };
    delete env['OPT'];
    await runTool(make, ['-C', 'obj', '-f', 'Vqk_top.mk', '-j', '2', ...MAKE_FLAGS], { cwd: tmp, timeoutMs, what, env });
    if (!reused) saveRuntime(runtimeDir, join(tmp, 'obj'), root);
    try {
      renameSync(tmp, dir);
    } catch {
      if (!existsSync(exe)) throw new ToolError(`could not place the Verilator build of ${design.manifest.top} in ${dir}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return model(false);
}

export type { SimTrace, VerilogRun, RunTiming } from './verilog-trace.js';

export interface SimOptions {
  /** Seed of the random gaps and stalls. */
  readonly seed?: number;
  /** Probability (0..1) of a gap cycle before each input word. */
  readonly inGap?: number;
  /** Probability (0..1) that out_ready is low on a cycle. */
  readonly outStall?: number;
  readonly maxCycles?: number;
  readonly timeoutMs?: number;
}

function permille(p: number | undefined, what: string): number {
  const v = p ?? 0;
  if (!(v >= 0 && v < 1)) throw new RangeError(`${what} must be a probability in [0, 1), got ${v}`);
  return Math.round(v * 1000);
}

/** Runs raw port words through a built model. */
export async function simulateWords(model: VerilatorModel, inWords: readonly bigint[], expectedOut: number, options: SimOptions = {}): Promise<SimTrace> {
  const work = mkdtempSync(join(tmpdir(), 'qkeras-vsim-'));
  try {
    const inPath = join(work, 'in.hex');
    const outPath = join(work, 'out.txt');
    writeFileSync(inPath, `${inWords.map(busHex).join('\n')}\n`);
    const args = [
      inPath,
      outPath,
      String(options.seed ?? 1),
      String(permille(options.inGap, 'inGap')),
      String(permille(options.outStall, 'outStall')),
      String(expectedOut),
      String(options.maxCycles ?? 0),
    ];
    const r = await runTool(toolAt(model.exe, 'Verilator simulation'), args, {
      allowFailure: true,
      timeoutMs: options.timeoutMs ?? 600_000,
      what: `simulating ${model.manifest.top}`,
    });
    if (r.code !== 0) {
      throw new ToolError(`simulating ${model.manifest.top} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return parseTrace(readFileSync(outPath, 'utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs samples (codes per graph input, flat row-major) through a built model and decodes the outputs. */
export async function runVerilog(model: VerilatorModel, samples: readonly (readonly (readonly number[])[])[], options: SimOptions = {}): Promise<VerilogRun> {
  const m = model.manifest;
  const words = samples.flatMap((s) => encodeSample(m, s));
  const expected = outputWordsPerSample(m) * samples.length;
  const trace = await simulateWords(model, words, expected, options);
  return finishRun(m, trace, samples.length);
}
