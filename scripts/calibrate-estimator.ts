/**
 * Calibrates the hardware-cost estimator (src/ops/hw-cost) against Yosys: synthesizes every design of
 * the calibration grid (test/ops/hw-cost-grid.ts) and the jet tagger, layer by layer, with
 * `synth_xilinx -nodsp` and generic `synth` (multipliers in logic), fits the LUT / gate coefficients
 * by non-negative least squares on the per-layer figures of the designs not held back, and writes
 *
 *   test/fixtures/estimator-calibration.json   the specs, the measured figures, the fit, provenance
 *   src/ops/hw-cost/coefficients.ts            the fitted coefficients the estimator uses
 *
 * then prints the calibration table and the estimate-vs-Yosys errors (held-back designs separately).
 *
 *   npm run calibrate [-- --families xilinx,generic] [--no-jet | --jets qkeras_3layer,KERAS_3layer_q6] [--dry-run]
 *                     [--only NAME] [--exclude NAME,NAME] [--time-only] [--layers]
 *   npm run calibrate -- --holdout [--families xilinx,generic] [--specs FILE.json --out FILE.json]
 *
 * `--holdout` measures the estimator, never fits: it synthesizes the designs of the independent hold-out
 * set (test/ops/hw-cost-holdout.ts; `--specs` a JSON array of design specs instead, e.g. to try the
 * mode on grid designs, with `--out` elsewhere) the same way as the grid, estimates each with the
 * committed coefficients (src/ops/hw-cost/coefficients.ts), prints the errors and writes
 * test/fixtures/estimator-holdout.json (specs, measured figures per layer and in total, estimates,
 * errors, provenance), which test/ops/hw-cost.test.ts checks.
 *
 * Use a native Yosys (apt-get install yosys): the WebAssembly build works but is about twice as slow.
 * The jet taggers are synthesized one layer per Yosys run (src/sim/synth-layers.ts), with
 * synth_xilinx only: their adder trees are what the wide grid designs stand in for in the fit, and
 * they stay out of it (held back, like the grid designs marked so).
 * Results are cached by content (QKERAS_CACHE_DIR), so a second run only fits and writes.
 */
import { ready } from '../src/backend/index.js';
import type { Graph } from '../src/ir/graph.js';
import { generateVerilog } from '../src/codegen/verilog.js';
import { synthCommand, synthesize, type SynthCounts, type SynthReport } from '../src/sim/yosys.js';
import { synthesizeLayers } from '../src/sim/synth-layers.js';
import { writeFileAtomic } from '../src/utils/atomic-file.js';
import { readFileSync } from 'node:fs';
import { CALIBRATION, estimateHardware, type HardwareEstimate } from '../src/ops/hw-cost/index.js';
import { COST_FAMILIES, type CostFamily, type CostModel, type FamilyModel } from '../src/ops/hw-cost/cost-model.js';
import { FEATURE_NAMES } from '../src/ops/hw-cost/features.js';
import { fitCoefficients, fitWithCones, type ConeFitRow, type FitRow } from '../src/ops/hw-cost/fit.js';
import { streamStructure } from '../src/ops/hw-cost/stream.js';
import { buildDesign, calibrationGrid, type DesignSpec } from '../test/ops/hw-cost-grid.js';
import { holdoutDesigns } from '../test/ops/hw-cost-holdout.js';
import { COMMUNITY_MODELS, communityModel, loadCommunityModel, loadJetTaggerQ6 } from '../test/import/community-models.js';

const FIXTURE = new URL('../test/fixtures/estimator-calibration.json', import.meta.url).pathname;
const COEFFICIENTS = new URL('../src/ops/hw-cost/coefficients.ts', import.meta.url).pathname;
const HOLDOUT_FIXTURE = new URL('../test/fixtures/estimator-holdout.json', import.meta.url).pathname;
/** Rows below this many cells count as this many in the relative-error fit. */
const FIT_FLOOR = 16;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string): boolean => process.argv.includes(`--${name}`);

/** What a family's coefficients predict: LUTs (xilinx), or logic gates = cells - flip-flops (generic). */
function logicOf(family: CostFamily, c: SynthCounts): number {
  return family === 'xilinx' ? c.luts : c.cells - c.ffs;
}

interface MeasuredPart {
  readonly luts: number;
  readonly ffs: number;
  readonly cells: number;
  readonly carry: number;
  readonly lutram: number;
  readonly logic: number;
}

interface Measured {
  readonly layers: readonly (MeasuredPart & { readonly name: string })[];
  readonly glue: MeasuredPart;
  readonly total: MeasuredPart;
  readonly seconds: number;
}

function part(family: CostFamily, c: SynthCounts): MeasuredPart {
  return { luts: c.luts, ffs: c.ffs, cells: c.cells, carry: c.carry, lutram: c.lutram, logic: logicOf(family, c) };
}

function measured(family: CostFamily, r: SynthReport): Measured {
  return { layers: r.layers.map((l) => ({ name: l.layer, ...part(family, l.counts) })), glue: part(family, r.glue), total: part(family, r.total), seconds: r.seconds };
}

interface Subject {
  readonly name: string;
  readonly graph: Graph;
  readonly arch: 'parallel' | 'stream';
  readonly reuse?: number;
  readonly spec: DesignSpec | null;
  readonly heldBack: boolean;
  /** Jet tagger: where the model came from. */
  readonly source?: string;
}

/** Synthesizes every subject, family by family (the jet taggers with synth_xilinx only). */
async function synthAll(subjects: readonly Subject[], families: readonly CostFamily[], yosysVersion: { v: string }): Promise<Map<string, Record<string, Measured>>> {
  const out = new Map<string, Record<string, Measured>>(subjects.map((s) => [s.name, {}]));
  const designs = new Map(subjects.map((s) => [s.name, generateVerilog(s.graph, { arch: s.arch, ...(s.reuse === undefined ? {} : { reuse: s.reuse }) })]));
  // The grid first (every family), then the jet taggers (large: 10 to 25 minutes each on a busy machine).
  const runs = [
    ...families.flatMap((family) => subjects.filter((s) => s.spec !== null).map((s) => ({ family, s }))),
    ...subjects.filter((s) => s.spec === null && families.includes('xilinx')).map((s) => ({ family: 'xilinx' as CostFamily, s })),
  ];
  {
    for (const { family, s } of runs) {
      const t0 = Date.now();
      // The jet taggers one layer per Yosys run (cached as each finishes: an interrupted run resumes).
      const r = s.spec === null
        ? await synthesizeLayers(designs.get(s.name)!, { family, dsp: false, timeoutMs: 48 * 3_600_000, parallel: 1 })
        : await synthesize(designs.get(s.name)!, { family, dsp: false, timeoutMs: 48 * 3_600_000 });
      yosysVersion.v = `${r.yosys} [${r.engine}]`;
      out.get(s.name)![family] = measured(family, r);
      console.error(`  ${s.name} ${family}: ${r.total.luts} LUTs, ${r.total.cells} cells, ${r.total.ffs} FFs (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
  return out;
}

function pct(est: number, meas: number): number {
  return meas === 0 ? (est === 0 ? 0 : Infinity) : (100 * (est - meas)) / meas;
}

function quantiles(xs: readonly number[]): string {
  const a = [...xs].map(Math.abs).sort((p, q) => p - q);
  if (a.length === 0) return 'none';
  const q = (f: number): string => a[Math.min(a.length - 1, Math.floor(f * a.length))]!.toFixed(1);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return `|error| mean ${mean.toFixed(1)}%, median ${q(0.5)}%, 90th ${q(0.9)}%, max ${a[a.length - 1]!.toFixed(1)}% (${a.length} designs)`;
}

function coefficientsFile(model: CostModel): string {
  const fam = (f: FamilyModel): string =>
    `{\n      logic: { ${FEATURE_NAMES.map((k) => `${k}: ${f.logic[k]}`).join(', ')} },\n      memFlipFlops: ${f.memFlipFlops},\n    }`;
  return `/**
 * Fitted cost coefficients: LUTs (xilinx, \`synth_xilinx -nodsp\`) or gate cells (generic \`synth\`) per
 * unit of each feature, and flip-flops per memory bit where memories become registers. Generated by
 * \`npm run calibrate\` (scripts/calibrate-estimator.ts) from Yosys runs over a grid of generated
 * designs; the data, the fit and its provenance are in test/fixtures/estimator-calibration.json.
 * Do not edit by hand: rerun the calibration.
 */
import type { CostModel } from './cost-model.js';

export const CALIBRATION: CostModel = {
  yosys: ${JSON.stringify(model.yosys)},
  date: ${JSON.stringify(model.date)},
  families: {
${COST_FAMILIES.map((f) => `    ${f}: ${fam(model.families[f])},`).join('\n')}
  },
};
`;
}

/** RAM bits (line buffers, FIFOs) of a subject's stream stages. */
function ramBitsOf(s: Subject): number {
  if (s.arch !== 'stream') return 0;
  return streamStructure(s.graph, { ...(s.reuse === undefined ? {} : { reuse: s.reuse }) }).stages.reduce((a, st) => a + st.ramBits, 0);
}

/** CPU and wall milliseconds of `estimateHardware` on the community models (median of 5 runs after a warm-up). */
async function timeEstimates(): Promise<void> {
  console.log('\nestimate time per model (the lowered graph in hand), median of 5 runs:');
  const models = [
    ...COMMUNITY_MODELS.map((m) => ({ name: m.name, arch: m.arch, load: () => loadCommunityModel(m) })),
    { name: 'KERAS_3layer_q6', arch: 'parallel' as const, load: () => loadJetTaggerQ6() },
  ];
  for (const m of models) {
    const g = (await m.load()).graph();
    for (const arch of m.arch === 'parallel' ? (['parallel', 'stream'] as const) : (['stream'] as const)) {
      estimateHardware(g, { arch });
      const cpu: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        estimateHardware(g, { arch });
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      const med = (xs: number[]): string => [...xs].sort((a, b) => a - b)[2]!.toFixed(1);
      console.log(`  ${m.name.padEnd(20)} ${arch.padEnd(9)} ${med(cpu).padStart(7)} ms CPU ${med(wall).padStart(8)} ms wall`);
    }
  }
}

/** The subject of a design spec. */
function subjectOf(spec: DesignSpec): Subject {
  return { name: spec.name, graph: buildDesign(spec), arch: spec.arch, ...(spec.reuse === undefined ? {} : { reuse: spec.reuse }), spec, heldBack: spec.heldBack === true };
}

/** Estimated LUTs (logic cells) and flip-flops per layer and in total. */
function estimateRecord(est: HardwareEstimate): { layers: { name: string; luts: number; ffs: number }[]; total: { luts: number; ffs: number } } {
  return { layers: est.layers.map((l) => ({ name: l.name, luts: l.luts, ffs: l.ffs })), total: { luts: est.total.luts, ffs: est.total.ffs } };
}

/**
 * `--holdout`: synthesizes the hold-out designs, estimates them with the committed coefficients
 * (nothing is fitted) and writes the hold-out fixture.
 */
async function holdout(families: readonly CostFamily[]): Promise<void> {
  const specsFile = flag('specs');
  const out = flag('out') ?? HOLDOUT_FIXTURE;
  if (specsFile !== undefined && out === HOLDOUT_FIXTURE) throw new Error('--specs needs --out (the hold-out fixture holds the designs of test/ops/hw-cost-holdout.ts only)');
  const specs = specsFile === undefined ? holdoutDesigns() : (JSON.parse(readFileSync(specsFile, 'utf8')) as DesignSpec[]);
  const grid = new Set(calibrationGrid().map((d) => d.name));
  const clash = specs.filter((d) => grid.has(d.name));
  if (specsFile === undefined && clash.length > 0) throw new Error(`hold-out designs also in the calibration grid: ${clash.map((d) => d.name).join(', ')}`);
  const subjects = specs.map((spec) => subjectOf({ ...spec, heldBack: true }));
  const version = { v: '' };
  console.error(`hold-out: synthesizing ${subjects.length} designs (${families.join(', ')}), estimating with the coefficients of ${CALIBRATION.date} (never fitted here)...`);
  const data = await synthAll(subjects, families, version);
  const designs = subjects.map((s) => {
    const estimate: Record<string, ReturnType<typeof estimateRecord>> = {};
    const error: Record<string, { luts: number; ffs: number }> = {};
    for (const family of families) {
      const est = estimateHardware(s.graph, { arch: s.arch, ...(s.reuse === undefined ? {} : { reuse: s.reuse }), family, dsp: false });
      const meas = data.get(s.name)![family]!;
      estimate[family] = estimateRecord(est);
      error[family] = { luts: Number(pct(est.total.luts, meas.total.logic).toFixed(2)), ffs: Number(pct(est.total.ffs, meas.total.ffs).toFixed(2)) };
    }
    return { spec: specs.find((d) => d.name === s.name)!, measured: data.get(s.name), estimate, error };
  });
  const summary: Record<string, string> = {};
  for (const family of families) {
    console.log(`\nhold-out, ${family}: ${'design'.padEnd(34)} ${'est'.padStart(7)} ${'yosys'.padStart(7)} ${'err%'.padStart(7)}   FFs est/yosys`);
    for (const d of designs) {
      const m = d.measured![family]!;
      console.log(`  ${d.spec.name.padEnd(42)} ${String(d.estimate[family]!.total.luts).padStart(7)} ${String(m.total.logic).padStart(7)} ${d.error[family]!.luts.toFixed(1).padStart(7)}   ${d.estimate[family]!.total.ffs}/${m.total.ffs}`);
      if (has('layers')) {
        d.estimate[family]!.layers.forEach((l, i) => {
          const ml = m.layers[i]!;
          console.log(`        ${l.name.padEnd(12)} ${String(l.luts).padStart(6)} ${String(ml.logic).padStart(6)} ${pct(l.luts, ml.logic).toFixed(1).padStart(7)}   ${l.ffs}/${ml.ffs}`);
        });
      }
    }
    summary[family] = quantiles(designs.map((d) => d.error[family]!.luts));
    console.log(`  ${summary[family]}`);
  }
  const fixture = {
    format: 'qkeras-ts-estimator-holdout/1',
    provenance: {
      yosys: version.v,
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      generator: 'scripts/calibrate-estimator.ts --holdout (npm run calibrate -- --holdout)',
      designs: specsFile ?? 'test/ops/hw-cost-holdout.ts (holdoutDesigns)',
      method:
        'each design synthesized as the calibration grid is (synthesize() in src/sim/yosys.ts, dsp: false, per layer module and the glue); ' +
        'estimated with the committed coefficients (never fitted on these designs); error = (estimate - yosys) / yosys in percent, ' +
        'LUTs (xilinx) or logic cells = cells - flip-flops (generic)',
      commands: Object.fromEntries(families.map((f) => [f, synthCommand(f, '<layer module>', false)])),
      coefficients: { yosys: CALIBRATION.yosys, date: CALIBRATION.date },
    },
    coefficients: CALIBRATION,
    designs,
    summary,
  };
  writeFileAtomic(out, `${JSON.stringify(fixture, null, 1)}\n`);
  console.error(`\nwrote ${out}`);
}

async function main(): Promise<void> {
  await ready();
  if (has('time-only')) {
    await timeEstimates();
    return;
  }
  if (has('holdout')) {
    await holdout((flag('families') ?? COST_FAMILIES.join(',')).split(',') as CostFamily[]);
    return;
  }
  const families = (flag('families') ?? COST_FAMILIES.join(',')).split(',') as CostFamily[];
  const only = flag('only');
  const exclude = new Set((flag('exclude') ?? '').split(',').filter((x) => x !== ''));
  const writes = !has('dry-run') && only === undefined && exclude.size === 0;
  if (writes && COST_FAMILIES.some((f) => !families.includes(f))) {
    throw new Error(`writing the calibration needs every family (${COST_FAMILIES.join(', ')}); use --dry-run to look at a subset`);
  }
  const grid = calibrationGrid();
  const subjects: Subject[] = grid.filter((spec) => (only === undefined || spec.name === only) && !exclude.has(spec.name)).map(subjectOf);
  const jets: Subject[] = [];
  if (!has('no-jet') && only === undefined) {
    const q = communityModel('qkeras_3layer');
    const pick = (flag('jets') ?? 'qkeras_3layer,KERAS_3layer_q6').split(',');
    if (pick.includes('qkeras_3layer')) jets.push({ name: 'qkeras_3layer', graph: (await loadCommunityModel(q)).graph(), arch: 'parallel', spec: null, heldBack: true, source: `test/fixtures/models/qkeras_3layer.json, input ${q.inputQuantizer}` });
    if (pick.includes('KERAS_3layer_q6')) jets.push({ name: 'KERAS_3layer_q6', graph: (await loadJetTaggerQ6()).graph(), arch: 'parallel', spec: null, heldBack: true, source: 'test/fixtures/models/KERAS_3layer + examples/jet-tagger-q6.json, input quantized_bits(16,6,1)' });
  }
  const version = { v: '' };
  console.error(`synthesizing ${subjects.length} grid designs and ${jets.length} jet taggers (${families.join(', ')})...`);
  const data = await synthAll([...subjects, ...jets], families, version);

  // Fit each family on the layers of the designs not held back.
  const model: CostModel = {
    yosys: version.v,
    date: new Date().toISOString().slice(0, 10),
    families: { xilinx: { logic: fitOf([]), memFlipFlops: 0 }, generic: { logic: fitOf([]), memFlipFlops: 1 } },
  };
  function fitOf(rows: FitRow[]): FamilyModel['logic'] {
    return fitCoefficients(rows, FIT_FLOOR);
  }
  const estimates = new Map<string, HardwareEstimate>();
  const estimateOf = (s: Subject, family: CostFamily, m: CostModel): HardwareEstimate =>
    estimateHardware(s.graph, { arch: s.arch, ...(s.reuse === undefined ? {} : { reuse: s.reuse }), family, dsp: false, model: m });
  const fams: Record<string, FamilyModel> = { ...model.families };
  for (const family of families) {
    const rows: ConeFitRow[] = [];
    let memFF = 0;
    let memBits = 0;
    for (const s of subjects.filter((x) => !x.heldBack)) {
      const est = estimateOf(s, family, model);
      const meas = data.get(s.name)![family]!;
      // Each layer's residual relative to its design's total: the fit minimises errors per design.
      est.layers.forEach((l, i) => rows.push({ features: l.features, cones: l.cones, measured: meas.layers[i]!.logic, scale: meas.total.logic }));
      // Flip-flops Yosys built beyond the counted register bits, per RAM bit (memories as registers),
      // over the designs that have RAM (a ROM's data register elsewhere is not a RAM bit).
      const ram = ramBitsOf(s);
      if (ram > 0) {
        const plain = estimateOf(s, family, { ...model, families: { ...model.families, [family]: { ...model.families[family], memFlipFlops: 0 } } });
        memFF += meas.total.ffs - plain.total.ffs;
        memBits += ram;
      }
    }
    fams[family] = { logic: fitWithCones(rows, FIT_FLOOR), memFlipFlops: memBits > 0 ? Math.max(0, Number((memFF / memBits).toFixed(3))) : model.families[family].memFlipFlops };
  }
  const fitted: CostModel = { ...model, families: fams as CostModel['families'] };

  // Report.
  console.log(`\nCalibration against ${version.v}, ${fitted.date}`);
  console.log(`${'feature'.padEnd(10)}${families.map((f) => f.padStart(12)).join('')}`);
  for (const k of FEATURE_NAMES) console.log(`${k.padEnd(10)}${families.map((f) => String(fitted.families[f].logic[k]).padStart(12)).join('')}`);
  console.log(`${'memFF'.padEnd(10)}${families.map((f) => String(fitted.families[f].memFlipFlops).padStart(12)).join('')}`);
  const results: Record<string, unknown>[] = [];
  for (const family of families) {
    const errs: Record<'train' | 'held' | 'jet', number[]> = { train: [], held: [], jet: [] };
    const ffErrs: number[] = [];
    console.log(`\n${family}: ${'design'.padEnd(34)} ${'est'.padStart(7)} ${'yosys'.padStart(7)} ${'err%'.padStart(7)}   FFs est/yosys   latency/II`);
    for (const s of [...subjects, ...jets]) {
      if (data.get(s.name)![family] === undefined) continue;
      const est = estimateOf(s, family, fitted);
      estimates.set(`${s.name}:${family}`, est);
      const meas = data.get(s.name)![family]!;
      const e = pct(est.total.luts, meas.total.logic);
      const group = s.spec === null ? 'jet' : s.heldBack ? 'held' : 'train';
      errs[group].push(e);
      ffErrs.push(pct(est.total.ffs, meas.total.ffs));
      console.log(
        `  ${group.padEnd(6)}${s.name.padEnd(34)} ${String(est.total.luts).padStart(7)} ${String(meas.total.logic).padStart(7)} ${e.toFixed(1).padStart(7)}   ` +
          `${est.total.ffs}/${meas.total.ffs}   ${est.total.latency_cycles}/${est.total.ii}`,
      );
      if (has('layers')) {
        est.layers.forEach((l, i) => {
          const m = meas.layers[i]!;
          console.log(`        ${l.name.padEnd(12)} ${String(l.luts).padStart(6)} ${String(m.logic).padStart(6)} ${pct(l.luts, m.logic).toFixed(1).padStart(7)}   ${l.ffs}/${m.ffs}`);
        });
      }
    }
    console.log(`  fit designs:       ${quantiles(errs.train)}`);
    console.log(`  held-back designs: ${quantiles(errs.held)}`);
    console.log(`  jet taggers:       ${quantiles(errs.jet)}`);
    console.log(`  flip-flops:        ${quantiles(ffErrs)}`);
    results.push({ family, train: errs.train, heldBack: errs.held, jet: errs.jet });
  }
  for (const j of jets) {
    for (const family of families.filter((f) => data.get(j.name)![f] !== undefined)) {
      const est = estimates.get(`${j.name}:${family}`)!;
      const meas = data.get(j.name)![family]!;
      console.log(`\n${j.name} (${family}): per layer est / yosys`);
      est.layers.forEach((l, i) => {
        const m = meas.layers[i]!;
        console.log(`  ${l.name.padEnd(16)} ${String(l.luts).padStart(7)} / ${String(m.logic).padStart(7)}  ${pct(l.luts, m.logic).toFixed(1).padStart(6)}%`);
      });
    }
  }

  await timeEstimates();
  if (!writes) return;
  const fixture = {
    format: 'qkeras-ts-estimator-calibration/1',
    provenance: {
      yosys: version.v,
      date: fitted.date,
      node: process.version,
      generator: 'scripts/calibrate-estimator.ts (npm run calibrate)',
      method:
        'each layer module of the emitted Verilog synthesized flattened on its own, the top glue with the layers as black boxes ' +
        '(synthesize() in src/sim/yosys.ts, dsp: false); coefficients fitted by non-negative least squares on the per-layer ' +
        `logic cells of the designs not held back, each layer's residual relative to its design's total (at least ${FIT_FLOOR} cells); ` +
        'xilinx: outputs whose cone reads at most 10 input bits count as LUT tables where cheaper, chosen and refitted until stable ' +
        '(fitWithCones); the jet taggers one layer per Yosys run (synthesizeLayers in src/sim/synth-layers.ts), never in the fit',
      commands: Object.fromEntries(families.map((f) => [f, synthCommand(f, '<layer module>', false)])),
      logic: { xilinx: 'LUT1..LUT6 (+ INV) cells', generic: 'all cells minus flip-flops' },
    },
    coefficients: fitted,
    designs: subjects.map((s) => ({ spec: s.spec, heldBack: s.heldBack, measured: data.get(s.name) })),
    jet: jets.map((j) => ({ name: j.name, source: j.source, arch: j.arch, measured: data.get(j.name) })),
    errors: results,
  };
  writeFileAtomic(FIXTURE, `${JSON.stringify(fixture, null, 1)}\n`);
  writeFileAtomic(COEFFICIENTS, coefficientsFile(fitted));
  console.error(`\nwrote ${FIXTURE} and ${COEFFICIENTS}`);
}

await main();
