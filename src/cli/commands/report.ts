/**
 * `qkeras report <model> [--out report.html] [--demo demo.json] [--synth] [--images N]`: one
 * self-contained HTML page (and `report.json` beside it) about a model: per-layer shapes, quantizers, op
 * counts, weight bits, accumulators, energy, C memory and, with --synth, Yosys's cells; the quantizer
 * figures; weight and activation histograms; accuracy of the quantized tfjs model and of the integer IR
 * on MNIST test images (28×28×1 models); and, from a `qkeras demo` run's demo.json, its verification
 * results and stage times.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { emitC, type CReport } from '../../codegen/c.js';
import { loadModel, loadModelFrom, type LoadedModel } from '../../engines/loaded-model.js';
import { QKerasError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { LoweredModel } from '../../lower/lower-model.js';
import { buildReportData, writeReport, type ReportInputs } from '../../report/build.js';
import { reportImages } from '../../report/images.js';
import { demoInputs, type DemoSummary } from '../../report/demo-inputs.js';
import type { ReportEstimates, SectionId, TimingRow } from '../../report/types.js';
import { UsageError } from '../errors.js';
import { parseCount } from '../options.js';
import { runSynth } from './synth.js';
import { parseArchFlag } from './hw-flags.js';
import { estimateHardware } from '../../ops/hw-cost/index.js';
import { reportEstimates } from '../../report/estimates.js';

interface ReportFlags {
  readonly out: string;
  readonly demo?: string;
  readonly synth?: boolean;
  readonly images: string;
  readonly arch?: string;
  readonly family?: string;
  readonly float?: string;
  readonly inputQuantizer?: string;
  readonly weights?: string;
}

function readDemo(path: string): DemoSummary {
  if (!existsSync(path)) throw new UsageError(`--demo: ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--demo: ${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as DemoSummary).stages)) {
    throw new UsageError(`--demo: ${path} is not a demo.json written by qkeras demo (it has no "stages" list)`);
  }
  return parsed as DemoSummary;
}

/** The lowered model, or why there is none (a model the IR cannot take still gets a report). */
function tryLower(model: LoadedModel): LoweredModel | { error: string } {
  try {
    return model.lowered();
  } catch (e) {
    if (e instanceof QKerasError) return { error: e.message.split('\n').join(' ') };
    throw e;
  }
}

/** The C back-end's memory report, from sources emitted into a temporary directory. */
function cMemory(graph: Graph): CReport {
  const dir = mkdtempSync(join(tmpdir(), 'qk-report-c-'));
  try {
    return emitC(graph, dir).report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Streaming for models with convolutions or pooling (a parallel CNN is enormous), else parallel. */
/** The estimator's figures for the architecture and target the report shows (a note instead when it cannot). */
function estimateFor(graph: Graph, flags: ReportFlags, notes: Partial<Record<SectionId, string>>): ReportEstimates | null {
  const arch = parseArchFlag(flags.arch ?? defaultArch(graph));
  try {
    return reportEstimates(estimateHardware(graph, { arch, family: flags.family === 'generic' ? 'generic' : 'xilinx' }));
  } catch (err) {
    if (!(err instanceof QKerasError)) throw err;
    notes.estimate = `the estimator cannot cost this design: ${err.message}`;
    return null;
  }
}

function defaultArch(graph: Graph): 'parallel' | 'stream' {
  return graph.nodes.some((n) => ['conv1d', 'conv2d', 'depthwise', 'maxpool', 'avgpool'].includes(n.kind)) ? 'stream' : 'parallel';
}

export async function runReport(modelPath: string, flags: ReportFlags, log: (line: string) => void, progress: (line: string) => void = () => {}): Promise<string> {
  const images = parseCount('--images', flags.images, 60000, 0);
  const demo = flags.demo === undefined ? null : readDemo(flags.demo);
  const inputQuantizer = flags.inputQuantizer ?? demo?.inputQuantizer ?? null;
  const model = await loadModel(modelPath, { ...(flags.weights === undefined ? {} : { weights: flags.weights }), inputQuantizer });
  const floatModel = flags.float === undefined ? null : await loadModelFrom(flags.float);
  const lowered = tryLower(model);
  const graph = 'error' in lowered ? null : lowered.graph;
  const notes: Partial<Record<SectionId, string>> = {};
  let synth: ReportInputs['synth'] = null;
  const timing: TimingRow[] = [];
  if (flags.synth === true) {
    if (graph === null) throw new UsageError(`--synth: the model does not lower to the IR: ${(lowered as { error: string }).error}`);
    const arch = flags.arch ?? defaultArch(graph);
    const r = await runSynth(modelPath, { arch, family: flags.family ?? 'xilinx', ...(inputQuantizer === null ? {} : { inputQuantizer }), ...(flags.weights === undefined ? {} : { weights: flags.weights }) }, () => {}, progress);
    synth = r.synth;
    if (r.timing !== null) timing.push({ source: 'Verilator (qkeras synth, no back-pressure)', arch, latency: r.timing.latency, interval: r.timing.interval, samples: r.timing.samples });
    else if (r.timingNote !== null) notes.timing = r.timingNote;
  }
  const estimates = graph === null ? null : estimateFor(graph, flags, notes);
  const data = buildReportData({
    model: model.model,
    source: modelPath,
    inputQuantizer,
    lowered,
    images: images === 0 ? null : reportImages(model.inputShape, model.outputShape, graph, images),
    floatModel: floatModel === null ? null : { model: floatModel, label: `float model ${flags.float}` },
    c: graph === null ? null : cMemory(graph),
    synth,
    estimates,
    timing,
    ...(demo === null ? {} : demoInputs(demo)),
    notes,
  });
  const json = writeReport(data, flags.out);
  log(`report: wrote ${flags.out} and ${json}`);
  return flags.out;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (and report.json) of a model: per-layer costs, quantizers, histograms, accuracy')
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .option('-o, --out <file>', 'the HTML file to write; report.json goes beside it', 'report.html')
    .option('--demo <file>', "a qkeras demo run's demo.json: adds its verification results, stage times and accuracy")
    .option('--synth', 'also synthesize the Verilog with Yosys (slow for CNNs) and measure cycles in Verilator')
    .option('--arch <arch>', 'Verilog architecture for --synth: parallel | stream (default: stream for CNNs, else parallel)')
    .option('--family <family>', 'Yosys target for --synth: generic | xilinx | ice40', 'xilinx')
    .option('--images <n>', 'test inputs for accuracy and histograms (MNIST test images for 28x28x1 models; 0: none)', '1000')
    .option('--float <model>', 'a float model to compare accuracy with (e.g. qkeras train --recipe float)')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer of the model input, e.g. "quantized_bits(8,0,1)" (needed when the model has none)')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .addHelpText(
      'after',
      '\nSections a model cannot have (no IR, no labels, no synthesis) are replaced by a one-line note.\n\n' +
        'Example:\n' +
        '  $ qkeras demo --out out/demo          # writes out/demo/report.html itself\n' +
        '  $ qkeras report out/demo/model --demo out/demo/demo.json --synth --out out/demo/report-synth.html\n',
    )
    .action(async (modelPath: string, flags: ReportFlags) => {
      await runReport(
        modelPath,
        flags,
        (line) => console.log(line),
        (line) => console.error(line),
      );
    });
}
