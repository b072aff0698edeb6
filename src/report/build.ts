/**
 * `buildReportData`: runs the report's analyses on a model — QKeras's op classification and weight
 * profile, the QTools energy, the IR (types, accumulators), weight and activation distributions, the
 * quantizer figures, accuracy of the float / quantized / integer models — and joins them with results
 * measured elsewhere (C memory, Yosys, verification, demo stage times, the estimator) into one plain JSON
 * value. Each analysis that cannot run leaves its section out with a one-line note saying why.
 * `writeReport` writes that value as `report.json` beside the rendered `report.html`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CReport } from '../codegen/c.js';
import { packageVersion } from '../codegen/render.js';
import type { LoweredModel } from '../lower/lower-model.js';
import { extractModelOperations, type ModelOperations } from '../ops/estimate.js';
import { QTools } from '../qtools/index.js';
import { describeMismatch, type VerifyReport } from '../sim/verify.js';
import type { SynthReport } from '../sim/yosys.js';
import { writeFilesAtomic } from '../utils/atomic-file.js';
import { allLayers } from '../utils/model-graph.js';
import { agreement, irClasses, scoreClasses, tfjsClasses, type ReportImages } from './accuracy.js';
import { activationHistograms, weightHistograms } from './distributions.js';
import { layerRows, reportTotals, type LayerSources } from './layer-rows.js';
import { seedFigures, transferFigures, type QuantizerUse, type SeedFigureOptions } from './quantizer-figures.js';
import { renderReportHtml } from './render.js';
import {
  REPORT_FORMAT,
  type AccuracyData,
  type AccuracyEntry,
  type ReportEstimates,
  type LayerRow,
  type ReportData,
  type SectionId,
  type StageRow,
  type TimingRow,
  type VerificationRow,
} from './types.js';

export interface ReportInputs {
  readonly model: tf.LayersModel;
  /** Where the model came from (a path, or "qkeras demo"). */
  readonly source: string;
  readonly title?: string;
  /** The QKeras string of the model's input quantizer, if declared. */
  readonly inputQuantizer: string | null;
  /** The lowered model, or why the model could not be lowered (the IR sections are then left out). */
  readonly lowered: LoweredModel | { readonly error: string };
  /** Inputs to run the models on (labels give accuracy). */
  readonly images?: ReportImages | null;
  /** How many of the images go through the integer IR for its accuracy (default: all of them). */
  readonly irImages?: number;
  /** How many of the images give the activation histograms (default 100). */
  readonly activationImages?: number;
  /** A float model to compare accuracy with (e.g. the lab book's float CNN). */
  readonly floatModel?: { readonly model: tf.LayersModel; readonly label: string } | null;
  /** Accuracy measured elsewhere (e.g. at the end of training on the whole test set), listed first. */
  readonly measuredAccuracy?: readonly AccuracyEntry[];
  readonly accuracyNote?: string;
  /** The C back-end's memory report (`emitC(...).report`). */
  readonly c?: CReport | null;
  readonly synth?: SynthReport | null;
  /** Cycles measured besides those of the verification runs (e.g. Verilator in `qkeras synth`). */
  readonly timing?: readonly TimingRow[];
  readonly verification?: readonly VerifyReport[];
  readonly stages?: readonly StageRow[];
  /** The analytic estimator's figures by layer name. */
  readonly estimates?: ReportEstimates | null;
  /** Why a section is absent, overriding the default notes. */
  readonly notes?: Readonly<Partial<Record<SectionId, string>>>;
  /** Options of the seed's stochastic figures, or false to leave them out. */
  readonly seedFigures?: SeedFigureOptions | false;
  /** ISO time to record (default now); fixed in tests. */
  readonly created?: string;
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Runs `fn`; on an error records a note for `section` and returns null. */
function attempt<T>(notes: Partial<Record<SectionId, string>>, section: SectionId, what: string, fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    notes[section] = `${what} failed: ${message(e)}`;
    return null;
  }
}

/** QTools energy per layer and in total (SRAM for weights and activations, as `qkeras qstats --energy`). */
function energy(model: tf.LayersModel, inputQuantizer: string | null): LayerSources['energy'] {
  // The model holds latent float weights: QTools quantizes them itself (model_weights_already_quantized=False).
  const tools = new QTools(model, {
    sourceQuantizers: inputQuantizer ?? 'quantized_bits(8,0,1)',
    process: 'horowitz',
    isInference: true,
    modelWeightsAlreadyQuantized: false,
  });
  const estimate = tools.pe({ weightsOnMemory: 'sram', activationsOnMemory: 'sram' });
  const profile = tools.extractEnergyProfile(null, estimate);
  const layers: Record<string, number> = {};
  for (const [name, p] of Object.entries(profile)) layers[name] = Math.round(p.total * 100) / 100;
  return { layers, total: tools.extractEnergySum(null, estimate) };
}

/** Every distinct quantizer of the model with the places that use it, in model order. */
function quantizerUses(rows: readonly LayerRow[]): QuantizerUse[] {
  const uses = new Map<string, string[]>();
  for (const r of rows) {
    for (const [slot, spec] of Object.entries(r.quantizers)) {
      if (spec === 'None' || spec === 'linear') continue;
      const list = uses.get(spec) ?? [];
      list.push(`${r.name} ${slot.replace(/_quantizer$/, '')}`);
      uses.set(spec, list);
    }
  }
  return [...uses].map(([spec, usedBy]) => ({ spec, usedBy }));
}

function verificationRow(r: VerifyReport): VerificationRow {
  return {
    target: r.target,
    arch: r.arch,
    samples: r.samples,
    generated: r.generated,
    given: r.given,
    codes: r.codes,
    mismatchedSamples: r.mismatchedSamples,
    firstMismatch: r.first === null ? null : describeMismatch(r.first),
    seconds: r.seconds,
  };
}

function accuracySection(inputs: ReportInputs, graph: LoweredModel | null, notes: Partial<Record<SectionId, string>>): AccuracyData | null {
  const entries: AccuracyEntry[] = [...(inputs.measuredAccuracy ?? [])];
  let agree: AccuracyData['agreement'] = null;
  const images = inputs.images ?? null;
  if (images !== null && images.labels !== null && images.count > 0) {
    const labels = images.labels;
    const what = images.description;
    const irCount = Math.min(inputs.irImages ?? images.count, images.count);
    if (inputs.floatModel) entries.push(scoreClasses(`${inputs.floatModel.label}, tfjs float32`, 'float', tfjsClasses(inputs.floatModel.model, images), labels));
    const tfjs = tfjsClasses(inputs.model, images);
    entries.push(scoreClasses('quantized model, tfjs float32', 'tfjs', tfjs, labels));
    if (graph !== null) {
      const ir = attempt(notes, 'accuracy', 'the integer IR', () => irClasses(graph.graph, graph.softmax, images, irCount));
      if (ir !== null) {
        entries.push(scoreClasses(`integer IR (input ${inputs.inputQuantizer ?? 'as declared'})`, 'ir', ir, labels));
        agree = agreement(ir, tfjs);
      }
    }
    return { entries, agreement: agree, inputs: what, note: inputs.accuracyNote ?? null };
  }
  if (entries.length === 0) {
    notes.accuracy ??= images === null ? 'no inputs were given' : `no labels for ${images.description}`;
    return null;
  }
  return { entries, agreement: null, inputs: null, note: inputs.accuracyNote ?? null };
}

function timingRows(inputs: ReportInputs): TimingRow[] {
  const rows: TimingRow[] = [...(inputs.timing ?? [])];
  for (const r of inputs.verification ?? []) {
    if (r.timing === null) continue;
    rows.push({
      source: `Verilator, verify ${r.arch ?? ''} with random back-pressure`,
      arch: r.arch ?? '',
      latency: r.timing.latency,
      interval: r.timing.meanInterval,
      samples: r.samples,
    });
  }
  return rows;
}

/** Computes the report (see the module comment). */
export function buildReportData(inputs: ReportInputs): ReportData {
  const notes: Partial<Record<SectionId, string>> = {};
  const model = inputs.model;
  const lowered = 'error' in inputs.lowered ? null : inputs.lowered;
  if (lowered === null) notes.ir = `the model was not lowered to the IR: ${(inputs.lowered as { error: string }).error}`;
  const ops = attempt<ModelOperations>(notes, 'energy', 'extractModelOperations', () => extractModelOperations(model));
  const energyData = attempt(notes, 'energy', 'the QTools energy estimate', () => energy(model, inputs.inputQuantizer));
  const sources: LayerSources = {
    model,
    inputQuantizer: inputs.inputQuantizer,
    ops,
    energy: energyData,
    graph: lowered?.graph ?? null,
    c: inputs.c ?? null,
    synth: inputs.synth ?? null,
    estimates: inputs.estimates ?? null,
  };
  const layers = layerRows(sources);
  const totals = reportTotals(sources, layers);

  const uses = quantizerUses(layers);
  const transfer = transferFigures(uses);
  const quantizerFigures = transfer.figures;
  if (uses.length === 0) notes.quantizers = 'the model has no quantizers';
  else if (transfer.skipped.length > 0) notes.quantizers = `not drawn: ${transfer.skipped.join('; ')}`;
  const seed = inputs.seedFigures === false ? null : attempt(notes, 'seedFigures', "the seed's figures", () => seedFigures(inputs.seedFigures || {}));
  if (inputs.seedFigures === false) notes.seedFigures = "the seed's stochastic quantizer figures were not requested";

  const weightHists = attempt(notes, 'weights', 'weight histograms', () => weightHistograms(model)) ?? [];
  if (weightHists.length === 0) notes.weights ??= 'no layer has weights';
  const images = inputs.images ?? null;
  const actCount = Math.min(inputs.activationImages ?? 100, images?.count ?? 0);
  const actHists = images === null || actCount === 0 ? [] : attempt(notes, 'activations', 'activation histograms', () => activationHistograms(model, images.x, actCount)) ?? [];
  if (images === null || actCount === 0) notes.activations = 'no inputs were given';

  const accuracy = accuracySection(inputs, lowered, notes);
  const verification = inputs.verification && inputs.verification.length > 0 ? inputs.verification.map(verificationRow) : null;
  const timing = timingRows(inputs);
  const synth = inputs.synth ?? null;
  Object.assign(notes, {
    ...(lowered !== null && (inputs.c ?? null) === null ? { c: 'the C back-end was not emitted' } : {}),
    ...(lowered === null ? { c: 'no IR, so no C' } : {}),
    ...(verification === null ? { verification: 'no back-end was verified for this report (qkeras verify, or qkeras report --demo demo.json)' } : {}),
    ...(synth === null ? { synthesis: 'Yosys was not run (qkeras report --synth)' } : {}),
    ...(timing.length === 0 ? { timing: 'no cycles were measured (a Verilog simulation measures them)' } : {}),
    ...(totals.estimate === null ? { estimate: 'the analytic resource estimator has not run for this model' } : {}),
    ...(inputs.stages && inputs.stages.length > 0 ? {} : { stages: 'stage times come with qkeras demo' }),
    ...inputs.notes,
  });

  return {
    format: REPORT_FORMAT,
    title: inputs.title ?? `qkeras-ts report: ${model.name}`,
    generator: `qkeras-ts ${packageVersion()}`,
    created: inputs.created ?? new Date().toISOString(),
    model: {
      name: model.name,
      source: inputs.source,
      inputShape: model.inputs[0]!.shape.slice(1) as number[],
      outputShape: model.outputs[0]!.shape.slice(1) as number[],
      inputQuantizer: inputs.inputQuantizer,
      layers: allLayers(model).length,
      irNodes: lowered === null ? null : lowered.graph.nodes.length,
    },
    layers,
    totals,
    stages: inputs.stages && inputs.stages.length > 0 ? inputs.stages.map((s) => ({ stage: s.stage, seconds: s.seconds })) : null,
    accuracy,
    verification,
    synthesis: synth === null ? null : { top: synth.top, arch: synth.arch, family: synth.family, yosys: synth.yosys, seconds: synth.seconds },
    estimateSource: inputs.estimates?.label ?? null,
    timing: timing.length === 0 ? null : timing,
    quantizerFigures,
    seedFigures: seed,
    weightHistograms: weightHists,
    activationHistograms: actHists,
    activationSource: actHists.length === 0 || images === null ? null : `${actCount} of ${images.description}`,
    irWarnings: lowered === null ? [] : lowered.warnings.map((w) => `${w.node === null ? 'graph' : `%${w.node}`}: ${w.message}`),
    notes,
  };
}

/** The JSON written beside an HTML report: `report.html` → `report.json`. */
export function reportJsonPath(htmlPath: string): string {
  return /\.html?$/i.test(htmlPath) ? htmlPath.replace(/\.html?$/i, '.json') : `${htmlPath}.json`;
}

/** Writes the page at `htmlPath` and the data beside it (`reportJsonPath`), both or neither. Returns the JSON path. */
export function writeReport(data: ReportData, htmlPath: string): string {
  const jsonPath = reportJsonPath(htmlPath);
  writeFilesAtomic([
    { path: htmlPath, data: renderReportHtml(data) },
    { path: jsonPath, data: `${JSON.stringify(data, null, 1)}\n` },
  ]);
  return jsonPath;
}
