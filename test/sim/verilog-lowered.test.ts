/**
 * Lowered models through the Verilog back-end: the hls4ml jet tagger (QKeras 16-64-32-32-5, imported
 * from its Keras JSON and HDF5 weights, input quantized_bits(16,6,1)) in the parallel architecture with
 * II = 1 and in the stream architecture; and the lab book's seed MNIST CNN (conv 3x3 → quantized_relu →
 * conv 3x3 → quantized_relu → flatten → dense → argmax, the golden IR with seeded weights) streamed on
 * real MNIST test images with back-pressure. Every output code equals the golden model.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { importKeras } from '../../src/import/import-keras.js';
import { lowerModelDetailed } from '../../src/lower/lower-model.js';
import { parseIR, type Graph } from '../../src/ir/index.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { buildVerilator, runVerilog } from '../../src/sim/verilator-runner.js';
import { quantizeSample } from '../../src/sim/codes.js';
import { generateInputs } from '../../src/sim/verify.js';
import { loadMnist, prepareSplit, trainingMean } from '../../src/data/mnist.js';
import { firstDifference, goldenCodes } from './verilog-check.js';

const verilator = findOptionalTool(VERILATOR);
const SKIP = verilator === null ? ' (skipped: Verilator not installed)' : '';
const FIXTURES = new URL('../fixtures/models/', import.meta.url);

describe.skipIf(verilator === null)(`the jet tagger (qkeras_3layer) in Verilog${SKIP}`, () => {
  let g: Graph;
  let codes: number[][][];

  beforeAll(async () => {
    await ready();
    const model = await importKeras(new URL('qkeras_3layer.json', FIXTURES).pathname, new URL('qkeras_3layer_weights.h5', FIXTURES).pathname);
    const lowered = lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(16,6,1)' });
    expect(lowered.softmax).toBe(true);
    g = lowered.graph;
    codes = generateInputs(g, 1000, 42).map((s) => quantizeSample(g, s).map((a) => Array.from(a)));
  });

  it('parallel: 1,000 inputs with back-pressure equal the golden model; II = 1 measured', async () => {
    const design = generateVerilog(g, { arch: 'parallel' });
    expect(design.manifest.layers.map((l) => `${l.layer}:${l.datapath ?? l.kind}`)).toEqual([
      'fc1:shiftadd',
      'fc2:shiftadd',
      'fc3:shiftadd',
      'output:shiftadd',
      'softmax:argmax',
    ]);
    const model = await buildVerilator(design);
    const run = await runVerilog(model, codes, { seed: 8, inGap: 0.2, outStall: 0.2 });
    expect(firstDifference(g, run.outputs, goldenCodes(g, codes))).toBeNull();
    const free = await runVerilog(model, codes.slice(0, 200));
    expect(free.timing).toMatchObject({ latency: 5, minInterval: 1, meanInterval: 1 });
  }, 600_000);

  it('stream (reuse 4): 1,000 inputs with back-pressure equal the golden model', async () => {
    const model = await buildVerilator(generateVerilog(g, { arch: 'stream', reuse: 4 }));
    const run = await runVerilog(model, codes, { seed: 9, inGap: 0.3, outStall: 0.3 });
    expect(firstDifference(g, run.outputs, goldenCodes(g, codes))).toBeNull();
  }, 600_000);
});

describe.skipIf(verilator === null)(`the seed MNIST CNN, streamed${SKIP}`, () => {
  it('20 real MNIST test images with random back-pressure equal the golden model', async () => {
    const g = parseIR(readFileSync(new URL('../golden/ir/labbook-qmodel.ir', import.meta.url), 'utf8'));
    const design = generateVerilog(g, { arch: 'stream' });
    expect(design.manifest.layers.map((l) => l.layer)).toEqual(['conv2d_1', 'conv2d_2', 'dense', 'softmax']);
    expect(design.manifest.ports).toMatchObject({ kind: 'stream', input: { beats: 784, beatElems: 1 } });
    const mnist = loadMnist();
    const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, 20);
    const codes = Array.from({ length: 20 }, (_, k) => quantizeSample(g, [test.x.subarray(k * 784, (k + 1) * 784)]).map((a) => Array.from(a)));
    const model = await buildVerilator(design);
    const run = await runVerilog(model, codes, { seed: 4, inGap: 0.1, outStall: 0.3 });
    expect(firstDifference(g, run.outputs, goldenCodes(g, codes))).toBeNull();
  }, 600_000);
});
