/**
 * The end-to-end demo as a library function (`qkeras demo` is a thin shell over it): train the lab book's
 * quantized CNN on real MNIST, print its QKeras statistics, lower it to the fixed-point IR, emit C and
 * streaming Verilog, and prove both bit-exact against the golden integer model on MNIST test images.
 * Every stage's wall time and result goes into `<out>/demo.json`.
 */
import { join } from 'node:path';
import { loadMnist, prepareSplit, trainingMean } from './data/mnist.js';
import { emitC } from './codegen/c.js';
import { emitVerilog } from './codegen/verilog.js';
import { lowerModel } from './lower/lower-model.js';
import { printQstats } from './ops/estimate.js';
import { verifyGraph, type VerifyReport } from './sim/verify.js';
import { runLabbook } from './train/labbook.js';
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
  /** The lab book's full run (10 epochs on 60k) instead of the quick default. */
  full?: boolean;
  epochs?: number;
  trainSamples?: number;
  /** Test images checked through the C back-end (default all 10,000). */
  cImages?: number;
  /** Test images streamed through the Verilog simulation (default 20). */
  verilogImages?: number;
  progress?: Progress;
  log?: (line: string) => void;
}

export interface DemoStage {
  readonly stage: string;
  readonly seconds: number;
}

export interface DemoResult {
  readonly testAccuracy: number;
  readonly stages: DemoStage[];
  readonly c: VerifyReport;
  readonly verilog: VerifyReport;
  readonly romBytes: number;
  readonly ramBytes: number;
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

  const [trained] = await timed('train', () =>
    runLabbook({
      runs: ['qmodel'],
      epochs: options.epochs ?? (options.full ? 10 : 1),
      ...(options.full ? {} : { trainCount: options.trainSamples ?? 60000 }),
      ...(options.progress ? { progress: options.progress } : {}),
      log,
    }),
  );
  if (!trained) throw new QKerasError('demo: training produced no model');
  const model = trained.model;
  await saveQmodel(model, join(options.out, 'model'));

  const qstats = await timed('qstats', () => printQstats(model, { print: false }));
  log(qstats);
  writeFileAtomic(join(options.out, 'qstats.txt'), `${qstats}\n`);

  const graph = await timed('lower', () => lowerModel(model, { inputQuantizer: DEMO_INPUT_QUANTIZER }));
  const cResult = await timed('emit C', () => emitC(graph, join(options.out, 'c')));
  await timed('emit Verilog', () => emitVerilog(graph, join(options.out, 'verilog'), { arch: 'stream' }));
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

  const result: DemoResult = {
    testAccuracy: trained.testAccuracy,
    stages,
    c,
    verilog,
    romBytes: cResult.report.romBytes,
    ramBytes: cResult.report.ramBytes,
  };
  writeFileAtomic(join(options.out, 'demo.json'), `${JSON.stringify({ ...result, inputQuantizer: DEMO_INPUT_QUANTIZER }, null, 2)}\n`);
  if (c.first !== null || verilog.first !== null) {
    throw new QKerasError(`demo: a back-end differs from the golden model; see ${join(options.out, 'demo.json')}`);
  }
  return result;
}
