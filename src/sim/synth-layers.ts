/**
 * Synthesis of a large design one layer per Yosys run: `synthesize` runs a whole design in one Yosys
 * process and caches the result only when every layer is done, which for the jet tagger (80k+ LUTs)
 * means an hour or more with nothing to show if it is interrupted. Here each layer module is a design
 * of its own (flattened, exactly as `synthesize` builds it), cached as soon as it finishes, and the
 * top's glue is synthesized with the layers reduced to constant outputs. Smallest layers first, so a
 * partial run has the most layers done.
 */
import { classifyCells, synthesize, type LayerSynth, type SynthCounts, type SynthOptions, type SynthReport } from './yosys.js';
import type { VerilogDesign } from '../codegen/verilog.js';

export interface LayerSynthOptions extends SynthOptions {
  /** Yosys runs at once (default 2). */
  readonly parallel?: number;
  /** Called when a run starts (not on a cache hit): the layer's name and index, or "glue" (index = layer count). */
  readonly onLayer?: (layer: string, index: number, count: number) => void;
}

/** Runs `jobs` with at most `width` at a time; results in the jobs' order. */
export async function pool<T>(jobs: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next;
      next += 1;
      out[k] = await jobs[k]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

/**
 * A layer module reduced to its ports and a constant output: the registers' own logic is synthesized
 * with these. (Not empty: Yosys takes an empty module for a black box and leaves it out of `stat`.)
 */
export function emptiedModule(text: string): string {
  const end = text.indexOf('\n);\n');
  if (end < 0) throw new Error('a layer module without an ANSI port list');
  return `${text.slice(0, end)}\n);\n  assign y = 0;\nendmodule\n`;
}

/** Every layer module of `design` synthesized on its own, the glue, and their total (as `synthesize`). */
export async function synthesizeLayers(design: VerilogDesign, options: LayerSynthOptions = {}): Promise<SynthReport> {
  const m = design.manifest;
  const started = Date.now();
  const count = m.layers.length + 1;
  const modules = new Set(m.layers.map((l) => `${l.module}.v`));
  const shell = design.files.map((f) => (modules.has(f.name) ? { name: f.name, text: emptiedModule(f.text) } : f));
  const glueJob = async (): Promise<SynthReport> => synthesize({ manifest: m, files: shell }, { ...options, onModule: () => options.onLayer?.('glue', m.layers.length, count) });
  const sizeOf = (module: string): number => design.files.find((f) => f.name === `${module}.v`)?.text.length ?? 0;
  const order = m.layers.map((l, i) => ({ l, i })).sort((a, b) => sizeOf(a.l.module) - sizeOf(b.l.module));
  const layerJobs = order.map(({ l, i }) => async (): Promise<SynthReport> =>
    synthesize({ manifest: { ...m, top: l.module, layers: [] }, files: design.files }, { ...options, onModule: () => options.onLayer?.(l.layer, i, count) }),
  );
  const [glueRun, ...runs] = await pool([glueJob, ...layerJobs], options.parallel ?? 2);
  const counts = new Array<SynthCounts>(m.layers.length);
  order.forEach(({ i }, k) => {
    counts[i] = runs[k]!.total;
  });
  const layers: LayerSynth[] = m.layers.map((l, i) => ({ module: l.module, layer: l.layer, node: l.node, counts: counts[i]! }));
  const byType: Record<string, number> = {};
  for (const c of [...counts, glueRun!.glue]) for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
  return { ...glueRun!, layers, glue: glueRun!.glue, total: classifyCells(byType), seconds: (Date.now() - started) / 1000 };
}
