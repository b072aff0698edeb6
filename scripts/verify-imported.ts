/**
 * The community's QKeras models (hls4ml example-models: the jet tagger qkeras_3layer, qkeras_mnist_dense,
 * qkeras_mnist_cnn) and the float jet tagger quantized to Q6 (examples/jet-tagger-q6.json), imported from
 * their Keras JSON + HDF5 weights, lowered, and verified bit for bit against the golden integer model:
 *
 * - C on generated inputs (the input quantizer's range swept 1.25×, so both saturating extremes, plus
 *   rounding ties) and, for the MNIST models, on every MNIST test image;
 * - Verilog in Verilator (parallel for the dense models, stream with random input gaps and output stalls
 *   for the CNN) on generated inputs and MNIST test images;
 * - MNIST accuracy of the tfjs model (float32 inference of the quantized model), the integer IR and the C,
 *   with the number of images whose tfjs logits equal the IR's exactly.
 *
 *   npm run verify:imported -- [--count 1000] [--images 10000] [--verilog-images N] [--seed 1]
 *                              [--only qkeras_mnist_cnn,...] [--no-verilog] [--no-accuracy]
 *
 * --verilog-images defaults to all 10,000 for the parallel designs (one image per clock) and 500 for the
 * CNN's stream design (about 1,000 cycles per image, simulated in chunks of 250 samples).
 *
 * Prints two tables; exits 1 if any output code differs. With every default it takes minutes (the CNN's
 * stream simulation and the integer interpreter on 10,000 images dominate).
 */
import { ready } from '../src/backend/index.js';
import { cEngine } from '../src/engines/c.js';
import { irEngine, tfjsEngine, type LoadedModel } from '../src/engines/index.js';
import { describeMismatch, verifyGraph, type VerifyOptions, type VerifyReport } from '../src/sim/verify.js';
import type { Graph } from '../src/ir/graph.js';
import { VERILATOR, findOptionalTool } from '../src/sim/tools.js';
import type { VerilogArch } from '../src/codegen/verilog-manifest.js';
import {
  COMMUNITY_MODELS,
  Q6_INPUT_QUANTIZER,
  correct,
  loadCommunityModel,
  loadJetTaggerQ6,
  mnistTestInputs,
} from '../test/import/community-models.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

function count(name: string, dflt: number, max = 1e9): number {
  const v = Number(flag(name, String(dflt)));
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`--${name} must be a whole number from 0 to ${max}`);
  return v;
}

const GENERATED = count('count', 1000);
const IMAGES = count('images', 10_000, 10_000);
/** MNIST images through the Verilog: all for the parallel designs (one per clock), fewer for the CNN stream. */
const VERILOG_IMAGES = process.argv.includes('--verilog-images') ? count('verilog-images', 0, 10_000) : null;
const verilogImages = (arch: VerilogArch): number => VERILOG_IMAGES ?? (arch === 'stream' ? 500 : 10_000);
const SEED = count('seed', 1);
const ONLY = flag('only', '').split(',').filter((s) => s !== '');
const VERILOG = !process.argv.includes('--no-verilog');
const ACCURACY = !process.argv.includes('--no-accuracy');

interface Subject {
  readonly name: string;
  readonly inputQuantizer: string | null;
  readonly arch: VerilogArch;
  readonly pixelScale: number | null;
  load(): Promise<LoadedModel>;
}

const SUBJECTS: Subject[] = [
  ...COMMUNITY_MODELS.map((m) => ({ ...m, load: () => loadCommunityModel(m) })),
  { name: 'KERAS_3layer Q6', inputQuantizer: Q6_INPUT_QUANTIZER, arch: 'parallel' as const, pixelScale: null, load: loadJetTaggerQ6 },
].filter((s) => ONLY.length === 0 || ONLY.includes(s.name) || ONLY.includes(s.name.split(' ')[0]!));

interface Row {
  readonly model: string;
  readonly report: VerifyReport;
}

interface AccuracyRow {
  readonly model: string;
  readonly images: number;
  readonly tfjs: number;
  readonly ir: number;
  readonly c: number;
  readonly tfjsEqualsIr: number;
  readonly seconds: number;
}

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const padL = (s: string | number, n: number): string => String(s).padStart(n);
const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(2)}%`;

function sameRows(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  return a.reduce((n, row, k) => n + (row.length === b[k]!.length && row.every((v, j) => v === b[k]![j]) ? 1 : 0), 0);
}

async function accuracy(name: string, model: LoadedModel, scale: number): Promise<AccuracyRow> {
  const started = Date.now();
  const { inputs, labels } = mnistTestInputs(scale, 0, IMAGES);
  const tfjs = await tfjsEngine.predict(model, inputs);
  const ir = await irEngine.predict(model, inputs);
  const c = await cEngine.predict(model, inputs);
  return {
    model: name,
    images: IMAGES,
    tfjs: correct(tfjs, labels),
    ir: correct(ir, labels),
    c: correct(c, labels),
    tfjsEqualsIr: sameRows(tfjs, ir),
    seconds: (Date.now() - started) / 1000,
  };
}

/** Merges the reports of consecutive chunks of one verification (timing: the first chunk's). */
function merge(reports: readonly VerifyReport[]): VerifyReport {
  const sum = (f: (r: VerifyReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
  return {
    ...reports[0]!,
    samples: sum((r) => r.samples),
    generated: sum((r) => r.generated),
    given: sum((r) => r.given),
    codes: sum((r) => r.codes),
    mismatchedSamples: sum((r) => r.mismatchedSamples),
    first: reports.find((r) => r.first !== null)?.first ?? null,
    seconds: sum((r) => r.seconds),
  };
}

/**
 * verifyGraph in chunks of at most `chunk` samples (generated ones first, chunk k seeded SEED + k): the
 * stream CNN simulates ~1,000 cycles per sample, and one simulation must finish within the runner's
 * 10-minute limit even on a busy machine. The Verilator build is cached, so only the first chunk builds.
 */
async function verifyChunked(graph: Graph, options: VerifyOptions, given: readonly number[][], chunk: number): Promise<VerifyReport> {
  const generated = options.generated ?? 0;
  const total = generated + given.length;
  const reports: VerifyReport[] = [];
  for (let k = 0, start = 0; start < total || k === 0; k += 1, start += chunk) {
    const end = Math.min(total, start + chunk);
    reports.push(
      await verifyGraph(graph, {
        ...options,
        generated: Math.max(0, Math.min(end, generated) - start),
        given: given.slice(Math.max(0, start - generated), Math.max(0, end - generated)),
        seed: SEED + k,
      }),
    );
    if (reports.at(-1)!.first !== null) break;
  }
  return merge(reports);
}

const HEADER = `${pad('model', 20)}${pad('target', 20)}${padL('generated', 10)}${padL('MNIST', 8)}${padL('codes', 10)}  ${pad('result', 18)}${padL('latency', 8)}${padL('II', 8)}${padL('seconds', 9)}`;

function rowText({ model, report: r }: Row): string {
  const target = r.target === 'c' ? 'c' : `verilog ${r.arch}`;
  const result = r.first === null ? 'every code equal' : `${r.mismatchedSamples} samples differ`;
  const lat = r.timing === null ? '-' : String(r.timing.latency);
  const ii = r.timing === null ? '-' : r.timing.meanInterval.toFixed(2);
  const line = `${pad(model, 20)}${pad(target, 20)}${padL(r.generated, 10)}${padL(r.given, 8)}${padL(r.codes, 10)}  ${pad(result, 18)}${padL(lat, 8)}${padL(ii, 8)}${padL(r.seconds.toFixed(1), 9)}`;
  return r.first === null ? line : `${line}\n    first mismatch: ${describeMismatch(r.first)}`;
}

function accuracyText(a: AccuracyRow): string {
  return `${pad(a.model, 20)}${padL(a.images, 8)}${padL(pct(a.tfjs, a.images), 10)}${padL(pct(a.ir, a.images), 10)}${padL(pct(a.c, a.images), 10)}${padL(`${a.tfjsEqualsIr}/${a.images}`, 12)}`;
}

await ready();
const verilator = VERILOG && findOptionalTool(VERILATOR) !== null;
if (VERILOG && !verilator) console.log('Verilator not installed: Verilog rows skipped (apt-get install verilator)');
const rows: Row[] = [];
const accuracies: AccuracyRow[] = [];
const wall = Date.now();
const record = (row: Row): void => {
  rows.push(row);
  console.log(`  ${rowText(row)}`);
};
for (const s of SUBJECTS) {
  const t0 = Date.now();
  const model = await s.load();
  const graph = model.graph();
  console.log(`${s.name}: imported and lowered in ${((Date.now() - t0) / 1000).toFixed(1)} s (input ${s.inputQuantizer ?? 'quantized by its first QActivation'})`);
  const images = s.pixelScale === null ? [] : mnistTestInputs(s.pixelScale, 0, IMAGES).inputs;
  record({ model: s.name, report: await verifyGraph(graph, { target: 'c', generated: GENERATED, given: images, seed: SEED }) });
  if (verilator) {
    const options: VerifyOptions = { target: 'verilog', arch: s.arch, generated: GENERATED, backpressure: true };
    record({ model: s.name, report: await verifyChunked(graph, options, images.slice(0, verilogImages(s.arch)), s.arch === 'stream' ? 250 : 20_000) });
  }
  if (ACCURACY && s.pixelScale !== null && IMAGES > 0) {
    accuracies.push(await accuracy(s.name, model, s.pixelScale));
    console.log(`  accuracy ${accuracyText(accuracies.at(-1)!)} (${accuracies.at(-1)!.seconds.toFixed(1)} s)`);
  }
  model.model.dispose();
}

console.log('\nBit-exact verification against the golden integer model (every output code compared)');
console.log(HEADER);
for (const row of rows) console.log(rowText(row));
console.log('(Verilog with random input gaps and output stalls, p = 0.2 each; latency and II as measured under them.)');
if (accuracies.length > 0) {
  console.log('\nMNIST test accuracy (argmax of the logits)');
  console.log(`${pad('model', 20)}${padL('images', 8)}${padL('tfjs', 10)}${padL('IR', 10)}${padL('C', 10)}${padL('tfjs = IR', 12)}`);
  for (const a of accuracies) console.log(accuracyText(a));
  console.log('("tfjs = IR": images whose tfjs float32 logits equal the integer model\'s exactly.)');
}
console.log(`\nwall time ${((Date.now() - wall) / 1000).toFixed(0)} s`);
if (rows.some((r) => r.report.first !== null)) process.exitCode = 1;
