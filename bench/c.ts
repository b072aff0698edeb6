/**
 * `npm run bench:c`: inference throughput of the lab book's seed CNN (the QModel) as emitted C (-O2, one
 * thread, time inside the predict calls), as the golden interpreter (runIR), and as tfjs float32 inference
 * of the same quantized model on the wasm backend (batch 256 and batch 1) — measured in one run on real
 * MNIST test images, with ratios. A row with `-march=native` shows what the host's vector extensions add
 * (not portable, for reference). Also checks on the measured images that C equals runIR. Writes
 * bench/results/c.json. Not a test: run on an otherwise idle machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready } from '../src/backend/index.js';
import { loadMnist, prepareSplit, trainingMean } from '../src/data/mnist.js';
import { createQModel } from '../src/models/labbook.js';
import { setSeed } from '../src/quantizers/phase.js';
import { LoadedModel, tfjsEngine } from '../src/engines/index.js';
import { runIR } from '../src/ir/interpret.js';
import { emitC } from '../src/codegen/c.js';
import { buildC } from '../src/sim/c-runner.js';
import { firstMismatch, goldenOutputs, quantizeSamples } from '../src/sim/codes.js';
import { toolVersion } from '../src/sim/tools.js';
import { measure, printTable, writeResult, type Measurement } from './harness.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
const IR_IMAGES = Number(process.env.BENCH_IR_IMAGES ?? 40);
const C_REPEAT = Number(process.env.BENCH_C_REPEAT ?? 10);
const INPUT_QUANTIZER = 'quantized_bits(16,0,1)';

const backend = await ready();
setSeed(1);
const mnist = loadMnist();
const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, IMAGES);
const xs = Array.from({ length: test.count }, (_, k) => Array.from(test.x.subarray(k * 784, (k + 1) * 784)));
const model = new LoadedModel('labbook_qmodel', createQModel(), INPUT_QUANTIZER);
const graph = model.graph();

const dir = mkdtempSync(join(tmpdir(), 'qk-bench-c-'));
try {
  const emitted = emitC(graph, join(dir, 'model'), { name: 'mnist' });
  const exe = await buildC(emitted, { buildDir: join(dir, 'build') });
  const codes = quantizeSamples(graph, xs.map((s) => [s]));

  // Emitted C: processor time of the predict calls only (the harness loads all samples first).
  await exe.run(codes, { repeat: 1 });
  const cRuns: number[] = [];
  let cOut = null;
  for (let r = 0; r < 3; r += 1) {
    const run = await exe.run(codes, { repeat: C_REPEAT });
    cRuns.push((run.samples * run.repeat) / run.seconds);
    cOut = run.outputs;
  }
  cRuns.sort((a, b) => a - b);
  const c: Measurement = { name: `emitted C (${exe.flags[0]}, 1 thread)`, rate: cRuns[1]!, unit: 'samples/s', repetitions: 3 };

  // For reference only: the same C with the host's vector extensions (not portable to other CPUs).
  const native = await buildC(emitted, { buildDir: join(dir, 'build-native'), optimize: ['-O2', '-march=native'] });
  const nRuns: number[] = [];
  for (let r = 0; r < 3; r += 1) {
    const run = await native.run(codes, { repeat: C_REPEAT });
    nRuns.push((run.samples * run.repeat) / run.seconds);
  }
  nRuns.sort((a, b) => a - b);
  const cNative: Measurement = { name: 'emitted C (-O2 -march=native, 1 thread)', rate: nRuns[1]!, unit: 'samples/s', repetitions: 3 };

  // The golden interpreter over the same images (and the check that C equals it there).
  const irSubset = { count: IR_IMAGES, width: codes.width, data: codes.data.subarray(0, IR_IMAGES * codes.width) };
  const want = goldenOutputs(graph, irSubset);
  const got = { count: IR_IMAGES, width: cOut!.width, data: cOut!.data.subarray(0, IR_IMAGES * cOut!.width) };
  const mismatch = firstMismatch(got, want);
  if (mismatch !== null) throw new Error(`C differs from runIR: ${JSON.stringify(mismatch)}`);
  let next = 0;
  const ir = await measure('runIR (golden interpreter, JS)', () => runIR(graph, xs[next++ % IR_IMAGES]!), {
    itemsPerCall: 1,
    unit: 'samples/s',
    warmupCalls: 2,
    repetitions: 3,
    callsPerRepetition: Math.max(1, Math.floor(IR_IMAGES / 3)),
  });

  // tfjs float32 inference of the same quantized model (what the tfjs engine runs).
  const tf256 = await measure(`tfjs-${backend} float32, batch 256`, () => tfjsEngine.predict(model, xs, { batchSize: 256 }), {
    itemsPerCall: xs.length,
    unit: 'samples/s',
    warmupCalls: 1,
    repetitions: 3,
  });
  const few = xs.slice(0, 100);
  const tf1 = await measure(`tfjs-${backend} float32, batch 1`, () => tfjsEngine.predict(model, few, { batchSize: 1 }), {
    itemsPerCall: few.length,
    unit: 'samples/s',
    warmupCalls: 1,
    repetitions: 3,
  });

  const rows = [tf256, tf1, ir, c, cNative];
  const table = printTable(`Seed CNN (lab book QModel, ${emitted.report.romBytes} B ROM, ${emitted.report.ramBytes} B RAM) — ${IMAGES} MNIST images`, rows, tf256);
  const compiler = await toolVersion(exe.compiler);
  console.log(`\nC is ${(c.rate / tf256.rate).toFixed(1)}x tfjs (batch 256), ${(c.rate / tf1.rate).toFixed(1)}x tfjs (batch 1), ${(c.rate / ir.rate).toFixed(0)}x runIR`);
  console.log(`compiler: ${compiler}; flags: ${exe.flags.join(' ')}; C equals runIR on the first ${IR_IMAGES} images`);
  writeResult(join(import.meta.dirname, 'results', 'c.json'), {
    model: 'labbook QModel',
    images: IMAGES,
    compiler,
    flags: exe.flags,
    romBytes: emitted.report.romBytes,
    ramBytes: emitted.report.ramBytes,
    rows,
    ratios: {
      cOverTfjsBatch256: c.rate / tf256.rate,
      cOverTfjsBatch1: c.rate / tf1.rate,
      cOverIR: c.rate / ir.rate,
      cNativeOverTfjsBatch256: cNative.rate / tf256.rate,
    },
    table,
  });
  exe.dispose();
  native.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
