/**
 * The IR issue's lowering battery through the Verilog back-end: the models test/lower/battery.test.ts
 * checks (six zoo recipes × six seeds, each the first draw whose float32 evaluation is proven exact,
 * plus a dense and a conv stack trained for two epochs), each lowered and emitted in both architectures
 * where they apply, linted with `verilator --lint-only -Wall`, built with the Verilator harness and run
 * on generated inputs — verify's generator (a third exact rounding ties, the rest over 1.25 times the
 * input range, so saturating on both sides) and the battery's own (ties, grid points, values up to four
 * times the range) — with random input gaps and back-pressure; every output code is compared with the
 * golden model. A free run without stalls measures latency and the interval between samples.
 *
 * Used by scripts/verify-verilog-battery.ts (every model) and test/sim/verilog-stream-battery.test.ts
 * (a seeded subset).
 */
import { lowerModelDetailed, UnsupportedLayersError } from '../../src/lower/index.js';
import { codeRange, gridFrac, type Graph, type IntType } from '../../src/ir/index.js';
import { UnsupportedError } from '../../src/errors.js';
import { generateVerilog, type VerilogDesign } from '../../src/codegen/verilog.js';
import type { VerilogArch } from '../../src/codegen/verilog-manifest.js';
import { buildVerilator, lintDesign, runVerilog, type VerilatorModel, type VerilogRun } from '../../src/sim/verilator-runner.js';
import { quantizeSample, runIRFromCodes } from '../../src/sim/codes.js';
import { generateInputs } from '../../src/sim/verify.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { RECIPES, rng, samples, zooModel, type RecipeName, type ZooModel } from '../lower/zoo.js';
import { trainOnRandomData } from '../lower/train-random.js';

/** Seeds per recipe, as in the lowering battery. */
export const SEEDS_PER_RECIPE = 6;
/** The trained models of the lowering battery: recipe and seed. */
export const TRAINED: readonly (readonly [RecipeName, number])[] = [
  ['denseStack', 9],
  ['convStack', 9],
];
/** A parallel design with more shift-add terms than this is not built (its Verilator build takes minutes). */
export const PARALLEL_TERM_LIMIT = 50_000;

export interface BatteryEntry {
  readonly recipe: RecipeName;
  readonly seed: number;
  readonly trained: boolean;
}

export interface BatteryModel {
  readonly name: string;
  readonly graph: Graph;
}

/** Every battery model, in the lowering battery's order. */
export function batteryEntries(): BatteryEntry[] {
  const entries: BatteryEntry[] = [];
  for (const recipe of Object.keys(RECIPES) as RecipeName[]) {
    for (let seed = 1; seed <= SEEDS_PER_RECIPE; seed += 1) entries.push({ recipe, seed, trained: false });
  }
  for (const [recipe, seed] of TRAINED) entries.push({ recipe, seed, trained: true });
  return entries;
}

function lowerZoo(z: ZooModel): BatteryModel {
  return { name: z.name, graph: lowerModelDetailed(z.model, { inputQuantizer: z.inputQuantizer }).graph };
}

/** The first draw of `recipe` from `seed` the lowering battery accepts (no float32 warning, no inexact layer). */
function exactDraw(recipe: RecipeName, seed: number): BatteryModel {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const z = zooModel(recipe, seed + 1000 * attempt);
    try {
      const lo = lowerModelDetailed(z.model, { inputQuantizer: z.inputQuantizer });
      if (lo.warnings.length === 0) return { name: z.name, graph: lo.graph };
    } catch (e) {
      if (!(e instanceof UnsupportedLayersError && e.issues.every((i) => i.reason.includes('not exact in float32')))) throw e;
    } finally {
      z.model.dispose();
    }
  }
  throw new Error(`no float32-exact draw of ${recipe} #${seed} in 10 attempts`);
}

/** A zoo model with a softmax head trained two epochs on seeded random data, as the lowering battery does. */
async function trainedDraw(recipe: RecipeName, seed: number): Promise<BatteryModel> {
  setSeed(11);
  const z = zooModel(recipe, seed, 'softmax');
  try {
    await trainOnRandomData(z.model, seed);
    const m = lowerZoo(z);
    return { name: `${m.name}_trained`, graph: m.graph };
  } finally {
    z.model.dispose();
  }
}

/** The lowered model of a battery entry. */
export async function batteryModel(e: BatteryEntry): Promise<BatteryModel> {
  return e.trained ? trainedDraw(e.recipe, e.seed) : exactDraw(e.recipe, e.seed);
}

/**
 * `perKind` inputs from verify's generator and `perKind` from the battery's sampler, as codes per sample
 * (one flat array per graph input).
 */
export function batteryCodes(g: Graph, perKind: number, seed: number): number[][][] {
  const input = g.nodes.find((n) => n.id === g.inputs[0])!;
  const t = input.type as IntType;
  const range = codeRange(t);
  const size = input.shape.reduce((a, b) => a * b, 1);
  const own = samples(rng(seed), perKind, size, { frac: gridFrac(t), lo: Number(range.lo), hi: Number(range.hi) }).map((s) => [s]);
  return [...generateInputs(g, perKind, seed), ...own].map((s) => quantizeSample(g, s).map((a) => Array.from(a)));
}

export interface ArchResult {
  readonly model: string;
  readonly arch: VerilogArch;
  /** Why the architecture does not apply to the model (then nothing else is set). */
  readonly skipped: string | null;
  readonly inputs: number;
  /** Samples with at least one output code different from the golden model's. */
  readonly mismatches: number;
  readonly firstMismatch: string | null;
  readonly lintClean: boolean;
  readonly lintMessages: string;
  readonly buildSeconds: number;
  readonly runSeconds: number;
  /** Free run: cycles from the first input word to the first sample's last output word. */
  readonly latency: number;
  /** Free run: mean cycles between sample completions (1 = II 1 in parallel). */
  readonly interval: number;
  /** Join FIFO words, stream only. */
  readonly fifoWords: number;
  /** The build or the simulation failed (a timeout, a tool error). */
  readonly error: string | null;
}

export interface ArchOptions {
  readonly perKind: number;
  readonly seed: number;
}

function designFor(g: Graph, arch: VerilogArch): VerilogDesign | string {
  try {
    const d = generateVerilog(g, { arch });
    const terms = d.manifest.layers.reduce((a, l) => a + (l.terms ?? 0), 0);
    if (arch === 'parallel' && terms > PARALLEL_TERM_LIMIT) return `parallel too big: ${terms} shift-add terms (limit ${PARALLEL_TERM_LIMIT})`;
    return d;
  } catch (e) {
    if (e instanceof UnsupportedError) return e.message.replace(/\s+/g, ' ');
    throw e;
  }
}

function firstDifference(got: readonly (readonly (readonly number[])[])[], want: readonly (readonly (readonly number[])[])[]): { count: number; first: string | null } {
  let count = 0;
  let first: string | null = null;
  want.forEach((w, s) => {
    let bad = false;
    w.forEach((o, k) =>
      o.forEach((v, i) => {
        if (got[s]?.[k]?.[i] === v) return;
        bad = true;
        first ??= `sample ${s}, output ${k}, element ${i}: Verilog ${got[s]?.[k]?.[i]}, golden ${v}`;
      }),
    );
    if (bad) count += 1;
  });
  return { count, first };
}

/** One battery model in one architecture: lint, build, run with back-pressure, compare, free-run timing. */
export async function verifyBatteryArch(m: BatteryModel, arch: VerilogArch, options: ArchOptions): Promise<ArchResult> {
  const design = designFor(m.graph, arch);
  const base = { model: m.name, arch, inputs: 0, mismatches: 0, firstMismatch: null, lintClean: false, lintMessages: '', buildSeconds: 0, runSeconds: 0, latency: 0, interval: 0, fifoWords: 0, error: null };
  if (typeof design === 'string') return { ...base, skipped: design };
  const lint = await lintDesign(design);
  const codes = batteryCodes(m.graph, options.perKind, options.seed);
  const want = codes.map((c) => runIRFromCodes(m.graph, c).map((t) => Array.from(t.data)));
  const t0 = performance.now();
  let built: { model: VerilatorModel; run: VerilogRun; free: VerilogRun; t1: number; t2: number };
  try {
    const model = await buildVerilator(design);
    const t1 = performance.now();
    const stalls = arch === 'stream' ? { inGap: 0.3, outStall: 0.3 } : { inGap: 0.2, outStall: 0.2 };
    const run = await runVerilog(model, codes, { seed: options.seed, ...stalls });
    const t2 = performance.now();
    built = { model, run, free: await runVerilog(model, codes.slice(0, 200)), t1, t2 };
  } catch (e) {
    return { ...base, skipped: null, lintClean: lint.ok, lintMessages: lint.messages, error: (e as Error).message.split('\n').slice(0, 3).join(' ') };
  }
  const { run, free, t1, t2 } = built;
  const diff = firstDifference(run.outputs, want);
  return {
    ...base,
    skipped: null,
    inputs: codes.length,
    mismatches: diff.count,
    firstMismatch: diff.first,
    lintClean: lint.ok,
    lintMessages: lint.messages,
    buildSeconds: (t1 - t0) / 1000,
    runSeconds: (t2 - t1) / 1000,
    latency: free.timing.latency,
    interval: free.timing.meanInterval,
    fifoWords: design.manifest.layers.reduce((a, l) => a + (l.fifos ?? []).reduce((x, y) => x + y, 0), 0),
  };
}
