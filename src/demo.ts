/**
 * The end-to-end demo as a library function (`qkeras demo` is a thin shell over it): train the lab book's
 * quantized CNN (and its float CNN, for comparison) on real MNIST, print its QKeras statistics, lower it
 * to the fixed-point IR, emit C and streaming Verilog, prove both bit-exact against the golden integer
 * model on MNIST test images, optionally synthesize with Yosys, and write the HTML report. Every stage's
 * wall time and result goes into `<out>/demo.json`; the report is `<out>/report.html` (+ report.json).
 */
import { join } from 'node:path';
import { loadMnist, prepareSplit, trainingMean } from './data/mnist.js';
import { emitC } from './codegen/c.js';
import { emitVerilog } from './codegen/verilog.js';
import { lowerModelDetailed } from './lower/lower-model.js';
import { printQstats } from './ops/estimate.js';
import { buildReportData, writeReport } from './report/build.js';
import { reportEstimates } from './report/estimates.js';
import { estimateHardware } from './ops/hw-cost/index.js';
import { demoInputs } from './report/demo-inputs.js';
import { splitImages } from './report/images.js';
import { verifyGraph, type VerifyReport } from './sim/verify.js';
import { synthesize, type SynthReport } from './sim/yosys.js';
import { runLabbook, type LabbookResult } from './train/labbook.js';
import type { Progress } from './train/progress.js';
import { writeFileAtomic } from './utils/atomic-file.js';
import { saveQmodel } from './utils/save-load.js';
import { QKerasError } from './errors.js';

/**
 * The lab book feeds `pixel/256 - mean`, which lies on no short grid; 16 bits with no integer bits cover
 * its range [-1, 1) in steps of 2^-15, and the IR checker proves the first layer exact at that width.
 */
export const DEMO_INPUT_QUANTIZER = 'quantized_bits(16,0,1)';

export interface DemoOptions {
  out: string;
  /** The lab book's full runs (60k images; QModel 10 epochs, float CNN 3) instead of 1 epoch each. */
  full?: boolean;
  epochs?: number;
  trainSamples?: number;
  /** Test images checked through the C back-end (default all 10,000). */
  cImages?: number;
  /** Test images streamed through the Verilog simulation (default 20). */
  verilogImages?: number;
  /** Also train the lab book's float CNN (same data and epochs) for the accuracy comparison (default true). */
  float?: boolean;
  /** Synthesize the streaming Verilog with Yosys (default false: minutes with the WebAssembly Yosys). */
  synth?: boolean;
  /** MNIST test images the report runs through the integer IR and both tfjs models (default 1000). */
  reportImages?: number;
  progress?: Progress;
  log?: (line: string) => void;
}

export interface DemoStage {
  readonly stage: string;
  readonly seconds: number;
}

export interface DemoResult {
  readonly testAccuracy: number;
  /** The float CNN's test accuracy, or null when it was not trained. */
  readonly floatAccuracy: number | null;
  /** Test images both accuracies were measured on. */
  readonly testImages: number;
  readonly stages: DemoStage[];
  readonly c: VerifyReport;
  readonly verilog: VerifyReport;
  readonly romBytes: number;
  readonly ramBytes: number;
  readonly synth: SynthReport | null;
  /** The HTML report and its JSON data. */
  readonly report: { readonly html: string; readonly json: string };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? (() => {});
  const stages: DemoStage[] = [];
  const timed = async <T>(stage: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const result = await fn();
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ stage, seconds });
    log(`[${stage}] ${seconds.toFixed(1)} s`);
    return result;
  };

  // --full trains each model for the lab book's own epochs (float 3, QModel 10); the default, 1 epoch each.
  const epochs = options.epochs ?? (options.full ? undefined : 1);
  const train = (run: 'float' | 'qmodel'): Promise<LabbookResult> =>
    runLabbook({
      runs: [run],
      ...(epochs === undefined ? {} : { epochs }),
      ...(options.full ? {} : { trainCount: options.trainSamples ?? 60000 }),
      ...(options.progress ? { progress: options.progress } : {}),
      log,
    }).then(([r]) => {
      if (!r) throw new QKerasError(`demo: training the ${run} model produced no model`);
      return r;
    });
  // Both runs reseed from the same seed, so the quantized model is the same with or without the float one.
  const floatRun = options.float === false ? null : await timed('train float', () => train('float'));
  const trained = await timed('train', () => train('qmodel'));
  const model = trained.model;
  await saveQmodel(model, join(options.out, 'model'));

  const qstats = await timed('qstats', () => printQstats(model, { print: false }));
  log(qstats);
  writeFileAtomic(join(options.out, 'qstats.txt'), `${qstats}\n`);

  const lowered = await timed('lower', () => lowerModelDetailed(model, { inputQuantizer: DEMO_INPUT_QUANTIZER }));
  const graph = lowered.graph;
  const cResult = await timed('emit C', () => emitC(graph, join(options.out, 'c')));
  const design = await timed('emit Verilog', () => emitVerilog(graph, join(options.out, 'verilog'), { arch: 'stream' }));
  const estimate = await timed('estimate', () => estimateHardware(graph, { arch: 'stream', family: 'xilinx' }));
  log(`estimate (stream, xilinx): ${estimate.total.luts} LUTs, ${estimate.total.ffs} FFs, ${estimate.total.dsps} DSPs, latency ${estimate.total.latency_cycles} cycles`);
  log(`C: ${cResult.report.romBytes} bytes of weights (ROM), ${cResult.report.ramBytes} bytes of activation buffers (RAM)`);

  const mnist = loadMnist();
  const test = prepareSplit(mnist.test, trainingMean(mnist.train));
  const images = (n: number) => Array.from({ length: Math.min(n, test.count) }, (_, i) => Array.from(test.x.subarray(i * 784, (i + 1) * 784)));
  const c = await timed('verify C', () => verifyGraph(graph, { target: 'c', given: images(options.cImages ?? 10000), generated: 0 }));
  log(`C vs golden model: ${c.samples} MNIST test images, ${c.codes} output codes, ${c.mismatchedSamples} differing samples`);
  const verilog = await timed('verify Verilog (stream)', () =>
    verifyGraph(graph, { target: 'verilog', arch: 'stream', given: images(options.verilogImages ?? 20), generated: 0 }),
  );
  log(`Verilog (stream) vs golden model: ${verilog.samples} images, ${verilog.codes} output codes, ${verilog.mismatchedSamples} differing samples` +
    (verilog.timing && verilog.samples > 1 ? `, ${verilog.timing.meanInterval.toFixed(0)} cycles per image` : ''));

  const synth = options.synth === true ? await timed('synth (Yosys)', () => synthesize(design, { family: 'xilinx' })) : null;
  if (synth !== null) log(`Yosys (${synth.yosys}): ${synth.total.luts} LUTs, ${synth.total.ffs} FFs, ${synth.total.dsps} DSPs (xilinx, stream)`);

  const testImages = test.count;
  const summary = {
    testAccuracy: trained.testAccuracy,
    floatAccuracy: floatRun?.testAccuracy ?? null,
    testImages,
    stages: [...stages],
    c,
    verilog,
  };
  const htmlPath = join(options.out, 'report.html');
  const jsonPath = await timed('report', () => {
    const data = buildReportData({
      model,
      source: 'qkeras demo (the lab book QModel trained on MNIST)',
      title: 'qkeras demo: the lab book quantized CNN on MNIST',
      inputQuantizer: DEMO_INPUT_QUANTIZER,
      lowered,
      images: splitImages(test, options.reportImages ?? 1000),
      floatModel: floatRun === null ? null : { model: floatRun.model, label: 'float CNN' },
      c: cResult.report,
      synth,
      estimates: reportEstimates(estimate),
      ...demoInputs(summary),
      accuracyNote:
        floatRun === null
          ? 'The float CNN was not trained (--no-float); the quantized model is compared with the integer IR only.'
          : `The float and quantized CNNs were trained on the same images, ${epochs === undefined ? "for the lab book's epochs (float 3, quantized 10)" : `for ${epochs} epoch(s) each`}.`,
      notes: synth === null ? { synthesis: 'Yosys was not run (qkeras demo --synth, or qkeras report out/demo/model --demo out/demo/demo.json --synth)' } : {},
    });
    return writeReport(data, htmlPath);
  });
  log(`report: ${htmlPath} (data: ${jsonPath})`);

  const result: DemoResult = {
    testAccuracy: trained.testAccuracy,
    floatAccuracy: floatRun?.testAccuracy ?? null,
    testImages,
    stages,
    c,
    verilog,
    romBytes: cResult.report.romBytes,
    ramBytes: cResult.report.ramBytes,
    synth,
    report: { html: htmlPath, json: jsonPath },
  };
  writeFileAtomic(join(options.out, 'demo.json'), `${JSON.stringify({ ...result, inputQuantizer: DEMO_INPUT_QUANTIZER }, null, 2)}\n`);
  if (c.first !== null || verilog.first !== null) {
    throw new QKerasError(`demo: a back-end differs from the golden model; see ${join(options.out, 'demo.json')}`);
  }
  return result;
}
