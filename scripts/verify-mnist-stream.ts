/**
 * The lab-book MNIST CNN as streaming RTL on the whole MNIST test set: loads a trained QModel (model.json
 * + weights.bin, as `runLabbook --save` and `qkeras demo` write them), lowers it with the demo's input
 * quantizer quantized_bits(16,0,1) on the lab-book preprocessing, emits the stream architecture, lints
 * it with `verilator --lint-only -Wall`, builds it with the Verilator harness and runs every test image
 * through it with random input gaps and back-pressure (in chunks, each from reset), comparing every
 * output code with the golden model (runIR). Reports mismatching images, the accuracy of the Verilog
 * outputs, cycles per image and latency from a free run, and the wall time from the saved model to
 * verified RTL; with --synth also Yosys synth_xilinx figures per layer. Exits 1 on any mismatch.
 *
 *   npm run verify:mnist-stream -- --model /work/labbook-models/qmodel [--images 10000] [--chunk 1000]
 *     [--optimize compile|speed] [--in-gap 0.1] [--out-stall 0.3] [--seed 1] [--synth] [--out DIR] [--json FILE]
 *
 * --out keeps the generated Verilog and manifest.json in DIR.
 */
import { writeFileSync } from 'node:fs';
import { ready } from '../src/backend/index.js';
import { loadQmodel } from '../src/utils/save-load.js';
import { lowerModel } from '../src/lower/index.js';
import { DEMO_INPUT_QUANTIZER } from '../src/demo.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import { emitVerilog, generateVerilog } from '../src/codegen/verilog.js';
import { buildVerilator, lintDesign, runVerilog } from '../src/sim/verilator-runner.js';
import { quantizeSample, runIRFromCodes } from '../src/sim/codes.js';
import { synthesize } from '../src/sim/yosys.js';
import { evaluateAccuracy } from '../src/train/fit.js';
import { MNIST_INPUT_SHAPE } from '../src/models/labbook.js';
import { cpuSeconds } from './cpu-time.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const modelDir = flag('model', '/work/labbook-models/qmodel');
const images = Number(flag('images', '10000'));
const chunk = Number(flag('chunk', '1000'));
const optimize = flag('optimize', 'compile') as 'compile' | 'speed';
const inGap = Number(flag('in-gap', '0.1'));
const outStall = Number(flag('out-stall', '0.3'));
const seed = Number(flag('seed', '1'));
const synth = process.argv.includes('--synth');
const outDir = flag('out', '');
const jsonOut = flag('json', '');

await ready();
const stages: { stage: string; seconds: number; cpuSeconds: number }[] = [];
const started = performance.now();
const cpuStarted = cpuSeconds();
async function timed<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const r = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  stages.push({ stage, seconds, cpuSeconds: cpu });
  console.error(`[${stage}] ${seconds.toFixed(1)} s (CPU ${cpu.toFixed(1)} s)`);
  return r;
}

const model = await timed('load model', () => loadQmodel(modelDir));
const graph = await timed('lower', () => lowerModel(model, { inputQuantizer: DEMO_INPUT_QUANTIZER }));
const design = await timed('emit Verilog (stream)', () => (outDir === '' ? generateVerilog(graph, { arch: 'stream' }) : emitVerilog(graph, outDir, { arch: 'stream' })));
const lint = await timed('lint (verilator -Wall)', () => lintDesign(design));
if (!lint.ok) console.error(`lint messages:\n${lint.messages}`);
const sim = await timed(`build (Verilator, ${optimize})`, () => buildVerilator(design, { optimize, timeoutMs: 3_600_000 }));

const mnist = loadMnist();
const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, images);
const codes = await timed('quantize inputs', () =>
  Array.from({ length: test.count }, (_, k) => quantizeSample(graph, [test.x.subarray(k * 784, (k + 1) * 784)]).map((a) => Array.from(a))),
);
const golden = await timed('golden model (runIR)', () => codes.map((c) => runIRFromCodes(graph, c).map((t) => Array.from(t.data))));

const argmaxOut = graph.outputs.findIndex((id) => graph.nodes.find((n) => n.id === id)?.kind === 'argmax');
let mismatched = 0;
let compared = 0;
let correct = 0;
let first: string | null = null;
let stalledCycles = 0;
await timed(`simulate ${test.count} images (gaps ${inGap}, stalls ${outStall})`, async () => {
  for (let start = 0; start < codes.length; start += chunk) {
    const part = codes.slice(start, start + chunk);
    const run = await runVerilog(sim, part, { seed: seed + start, inGap, outStall, timeoutMs: 3_600_000 });
    stalledCycles += run.timing.cycles;
    run.outputs.forEach((got, j) => {
      const k = start + j;
      let bad = false;
      golden[k]!.forEach((want, o) =>
        want.forEach((v, i) => {
          compared += 1;
          if (got[o]?.[i] === v) return;
          bad = true;
          first ??= `image ${k}, output %${graph.outputs[o]}, element ${i}: Verilog ${got[o]?.[i]}, golden ${v}`;
        }),
      );
      if (bad) mismatched += 1;
      if (argmaxOut >= 0 && got[argmaxOut]![0] === test.labels[k]) correct += 1;
    });
    console.error(`  ${Math.min(start + chunk, codes.length)} / ${codes.length} images, ${mismatched} mismatching`);
  }
});
const wall = (performance.now() - started) / 1000;
const cpu = cpuSeconds() - cpuStarted;
const free = await runVerilog(sim, codes.slice(0, 100));
const tfjsAccuracy = evaluateAccuracy(model, test, MNIST_INPUT_SHAPE);

console.log(`model: ${modelDir} (input quantizer ${DEMO_INPUT_QUANTIZER})`);
console.log(`design: ${design.manifest.top}, ${design.manifest.layers.map((l) => `${l.layer}:${l.kind}`).join(' -> ')}; lint ${lint.ok ? 'clean' : 'NOT clean'}`);
console.log(`images: ${test.count}, output codes compared: ${compared}, mismatching images: ${mismatched}${first === null ? '' : ` (first: ${first})`}`);
if (argmaxOut >= 0) console.log(`accuracy of the Verilog outputs: ${((100 * correct) / test.count).toFixed(2)}% (tfjs model: ${(100 * tfjsAccuracy).toFixed(2)}%)`);
console.log(
  `free run: ${free.timing.meanInterval.toFixed(1)} cycles/image, latency ${free.timing.latency} cycles; ` +
    `with gaps and stalls: ${(stalledCycles / test.count).toFixed(1)} cycles/image`,
);
console.log(`stages (wall / CPU s): ${stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)} / ${s.cpuSeconds.toFixed(1)}`).join('; ')}`);
console.log(`saved model to verified RTL: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU (this process and its tools)`);

let synthReport = null;
if (synth) {
  synthReport = await timed('synth (Yosys synth_xilinx)', () => synthesize(design, { family: 'xilinx', engine: 'auto', timeoutMs: 14_400_000 }));
  const row = (name: string, c: { luts: number; ffs: number; brams: number; dsps: number; lutram: number; carry: number }): string =>
    `  ${name.padEnd(24)} ${String(c.luts).padStart(7)} LUT ${String(c.ffs).padStart(6)} FF ${String(c.brams).padStart(4)} BRAM ${String(c.dsps).padStart(4)} DSP ${String(c.lutram).padStart(5)} LUTRAM ${String(c.carry).padStart(5)} CARRY`;
  console.log(`Yosys ${synthReport.yosys} (${synthReport.engine}), synth_xilinx:`);
  for (const l of synthReport.layers) console.log(row(l.layer, l.counts));
  console.log(row('(stream glue)', synthReport.glue));
  console.log(row('total', synthReport.total));
}
if (jsonOut !== '') {
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ modelDir, images: test.count, compared, mismatched, first, accuracy: correct / test.count, tfjsAccuracy, free: free.timing, stalledCyclesPerImage: stalledCycles / test.count, stages, wall, cpu, lint, synth: synthReport }, null, 2)}\n`,
  );
}
process.exit(mismatched > 0 || !lint.ok ? 1 : 0);
