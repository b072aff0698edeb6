/**
 * Synthesis figures from Yosys: a native `yosys` when one is installed (`YOSYS` overrides; about twice
 * as fast), else the WebAssembly build from the npm package @yowasp/yosys (`runYosys`, in process). Each
 * layer module is synthesized on its own (flattened, so constants propagate through the hand-written
 * modules) and the top's own logic (pipeline registers, stream plumbing) with the layers as black
 * boxes; the design total is their sum. Results are cached by content hash.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerilogDesign } from '../codegen/verilog.js';
import { writeFileAtomic } from '../utils/atomic-file.js';
import { ConfigError } from '../errors.js';
import { ToolError, YOSYS, findOptionalTool, runTool, toolVersion, type Tool } from './tools.js';
import { cacheRoot } from './verilator-runner.js';

export type SynthFamily = 'generic' | 'xilinx' | 'ice40';
export const SYNTH_FAMILIES: readonly SynthFamily[] = ['generic', 'xilinx', 'ice40'];

/** Cell counts of one synthesized module. */
export interface SynthCounts {
  readonly cells: number;
  /** Logic LUTs (LUT1..LUT6, SB_LUT4, $lut). */
  readonly luts: number;
  /** Flip-flops of any kind. */
  readonly ffs: number;
  /** Hard multipliers (DSP48, SB_MAC16). */
  readonly dsps: number;
  /** Carry-chain cells (CARRY4/8, SB_CARRY). */
  readonly carry: number;
  /** Block RAMs. */
  readonly brams: number;
  /** LUTs used as memory or shift registers (RAM32M, RAM64X1D, SRL16E, ...). */
  readonly lutram: number;
  readonly byType: Readonly<Record<string, number>>;
}

export interface LayerSynth {
  readonly module: string;
  readonly layer: string;
  readonly node: string;
  readonly counts: SynthCounts;
}

export interface SynthReport {
  readonly top: string;
  readonly arch: string;
  readonly family: SynthFamily;
  /** The Yosys that ran (version line) and how ("native" or "wasm"). */
  readonly yosys: string;
  readonly engine: 'native' | 'wasm';
  readonly layers: readonly LayerSynth[];
  /** The top's own logic: registers between layers, delay lines, stream forks and merges. */
  readonly glue: SynthCounts;
  readonly total: SynthCounts;
  readonly seconds: number;
}

export interface SynthOptions {
  readonly family?: SynthFamily;
  /** 'auto' (default): native when installed, else WebAssembly. */
  readonly engine?: 'auto' | 'native' | 'wasm';
  readonly timeoutMs?: number;
  /** Called when synthesis starts (not on a cache hit). */
  readonly onModule?: (module: string, index: number, count: number) => void;
  /**
   * Map multipliers to hard DSP blocks (default true). False: `synth_xilinx -nodsp`, `synth_ice40`
   * without `-dsp`, so every multiplier is built from LUTs (the hardware-cost estimator's calibration).
   */
  readonly dsp?: boolean;
}

/** The Yosys synthesis command for one module (`dsp` false: multipliers in LUTs). */
export function synthCommand(family: SynthFamily, top: string, dsp = true): string {
  switch (family) {
    case 'generic':
      return `synth -flatten -top ${top}`;
    case 'xilinx':
      // Out of context: no I/O buffers or clock buffers, which only a chip's top level would have.
      return `synth_xilinx -flatten -noiopad -noclkbuf${dsp ? '' : ' -nodsp'} -top ${top}`;
    case 'ice40':
      return `synth_ice40 -flatten${dsp ? ' -dsp' : ''} -top ${top}`;
    default:
      throw new ConfigError('synthesize', 'family', family, SYNTH_FAMILIES.map((f) => `"${f}"`).join(', '));
  }
}

/** Sorts cell types into the reported classes. */
export function classifyCells(byType: Readonly<Record<string, number>>): SynthCounts {
  let cells = 0;
  let luts = 0;
  let ffs = 0;
  let dsps = 0;
  let carry = 0;
  let brams = 0;
  let lutram = 0;
  for (const [type, n] of Object.entries(byType)) {
    const t = type.replace(/^\\/, '');
    if (t === '$scopeinfo') continue; // a Yosys annotation, not logic
    cells += n;
    if (/^(LUT[1-6]|INV|SB_LUT4|\$lut)$/.test(t)) luts += n;
    else if (/^(FD[A-Z]*|SB_DFF[A-Z]*|\$_S?DFFC?E?_.*|\$_DFF.*|\$_ALDFF.*|\$_DLATCH.*)$/.test(t)) ffs += n;
    else if (/^(DSP48.*|SB_MAC16|\$mul|\$macc)$/.test(t)) dsps += n;
    else if (/^(CARRY4|CARRY8|SB_CARRY)$/.test(t)) carry += n;
    else if (/^(RAMB.*|SB_RAM40_4K.*|\$mem.*)$/.test(t)) brams += n;
    else if (/^(RAM\d+.*|SRL.*)$/.test(t)) lutram += n;
  }
  return { cells, luts, ffs, dsps, carry, brams, lutram, byType: { ...byType } };
}

function addCounts(a: SynthCounts, b: SynthCounts): SynthCounts {
  const byType: Record<string, number> = { ...a.byType };
  for (const [k, v] of Object.entries(b.byType)) byType[k] = (byType[k] ?? 0) + v;
  return classifyCells(byType);
}

interface StatJson {
  readonly modules?: Record<string, { readonly num_cells_by_type?: Record<string, number> }>;
}

/** Cell counts of `top` from Yosys's `stat -json` text. */
export function parseStat(json: string, top: string): SynthCounts {
  let parsed: StatJson;
  try {
    parsed = JSON.parse(json.slice(json.indexOf('{'))) as StatJson;
  } catch (err) {
    throw new ToolError(`cannot read Yosys's statistics: ${(err as Error).message}`);
  }
  const mods = parsed.modules ?? {};
  const entry = mods[`\\${top}`] ?? mods[top];
  if (entry === undefined) throw new ToolError(`Yosys's statistics have no module ${top} (found ${Object.keys(mods).join(', ')})`);
  return classifyCells(entry.num_cells_by_type ?? {});
}

type YosysTree = { [name: string]: YosysTree | string | Uint8Array };
type RunYosys = (args?: string[], files?: YosysTree, options?: { stdout?: ((b: Uint8Array | null) => void) | null; stderr?: ((b: Uint8Array | null) => void) | null }) => Promise<YosysTree> | YosysTree | undefined;

let wasmYosys: { run: RunYosys; version: string } | null = null;

async function loadWasmYosys(): Promise<{ run: RunYosys; version: string }> {
  if (wasmYosys === null) {
    const mod = (await import('@yowasp/yosys')) as unknown as { runYosys: RunYosys; version: string };
    wasmYosys = { run: mod.runYosys, version: `Yosys (YoWASP ${mod.version})` };
  }
  return wasmYosys;
}

function text(v: YosysTree | string | Uint8Array | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return '';
}

interface Engine {
  readonly kind: 'native' | 'wasm';
  readonly version: string;
  /** Runs a script over the files; returns the text of each requested output file. */
  run(files: Readonly<Record<string, string>>, script: string, outputs: readonly string[], timeoutMs: number): Promise<string[]>;
}

async function pickEngine(choice: SynthOptions['engine']): Promise<Engine> {
  const native: Tool | null = choice === 'wasm' ? null : findOptionalTool(YOSYS);
  if (choice === 'native' && native === null) {
    throw new ToolError('native Yosys not found: install yosys (apt-get install yosys) or set YOSYS, or use the WebAssembly build');
  }
  if (native !== null) {
    const version = await toolVersion(native);
    return {
      kind: 'native',
      version,
      async run(files, script, outputs, timeoutMs) {
        const dir = mkdtempSync(join(tmpdir(), 'qkeras-yosys-'));
        try {
          for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
          writeFileSync(join(dir, 'run.ys'), script);
          await runTool(native, ['-q', '-s', 'run.ys'], { cwd: dir, timeoutMs, what: 'synthesizing with Yosys' });
          return outputs.map((o) => readFileSync(join(dir, o), 'utf8'));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }
  const w = await loadWasmYosys();
  return {
    kind: 'wasm',
    version: w.version,
    async run(files, script, outputs) {
      const tree: YosysTree = { ...files, 'run.ys': script };
      const errors: string[] = [];
      let out: YosysTree | undefined;
      try {
        out = (await w.run(['-q', '-s', 'run.ys'], tree, { stdout: null, stderr: (b) => b && errors.push(new TextDecoder().decode(b)) })) ?? undefined;
      } catch (err) {
        throw new ToolError(`Yosys (WebAssembly) failed: ${(err as Error).message}${errors.length > 0 ? `\n${errors.join('').trim()}` : ''}`);
      }
      return outputs.map((o) => {
        const stat = text(out?.[o]);
        if (stat === '') throw new ToolError(`Yosys (WebAssembly) wrote no ${o}${errors.length > 0 ? `: ${errors.join('').trim()}` : ''}`);
        return stat;
      });
    },
  };
}

function cacheKey(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex').slice(0, 32);
}

/** Synthesizes a design: every layer module, the top's glue, and their total. */
export async function synthesize(design: VerilogDesign, options: SynthOptions = {}): Promise<SynthReport> {
  const family = options.family ?? 'xilinx';
  synthCommand(family, 'x'); // validates the family before any work
  const engine = await pickEngine(options.engine ?? 'auto');
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const files: Record<string, string> = {};
  for (const f of design.files) files[f.name] = f.text;
  const reads = `read_verilog ${design.files.map((f) => f.name).join(' ')}`;
  const cacheDir = join(cacheRoot(), 'yosys');
  const started = Date.now();
  const layerModules = design.manifest.layers.map((l) => l.module);

  // One Yosys run for the whole design: parse once, then synthesize each layer and the glue from a copy.
  const tops = [...layerModules, design.manifest.top];
  const steps = tops.map((t, i) => {
    const isGlue = i === tops.length - 1;
    const boxes = isGlue && layerModules.length > 0 ? `blackbox ${layerModules.join(' ')}\n` : '';
    return `design -load src\n${boxes}${synthCommand(family, t, options.dsp ?? true)}\ntee -q -o stat${i}.json stat -json\n`;
  });
  const script = `${reads}\ndesign -save src\n${steps.join('')}`;
  const key = cacheKey([engine.version, script, ...design.files.map((f) => `${f.name}\n${f.text}`)]);
  const path = join(cacheDir, `${key}.json`);
  let perTop: Record<string, number>[] | null = null;
  if (existsSync(path)) {
    try {
      perTop = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>[];
    } catch {
      perTop = null; // a damaged cache entry is recomputed
    }
  }
  if (perTop === null || perTop.length !== tops.length) {
    options.onModule?.(design.manifest.top, 0, tops.length);
    const stats = await engine.run(files, script, tops.map((_, i) => `stat${i}.json`), timeoutMs);
    perTop = stats.map((st, i) => ({ ...parseStat(st, tops[i]!).byType }));
    mkdirSync(cacheDir, { recursive: true });
    writeFileAtomic(path, JSON.stringify(perTop));
  }
  const layers: LayerSynth[] = design.manifest.layers.map((l, i) => ({ module: l.module, layer: l.layer, node: l.node, counts: classifyCells(perTop![i]!) }));
  // The black boxes appear in the glue as cells of their own module types: they are counted in the layers.
  const glueTypes: Record<string, number> = {};
  for (const [k, v] of Object.entries(perTop[tops.length - 1]!)) if (!layerModules.includes(k.replace(/^\\/, ''))) glueTypes[k] = v;
  const glue = classifyCells(glueTypes);
  const total = layers.reduce((acc, l) => addCounts(acc, l.counts), glue);
  return {
    top: design.manifest.top,
    arch: design.manifest.arch,
    family,
    yosys: engine.version,
    engine: engine.kind,
    layers,
    glue,
    total,
    seconds: (Date.now() - started) / 1000,
  };
}
