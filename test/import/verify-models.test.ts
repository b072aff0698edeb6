/**
 * The community's QKeras models (hls4ml example-models), imported from their Keras JSON + HDF5 weights,
 * lowered and verified bit for bit against the golden integer model: in C (gcc) on 1,000 generated inputs
 * each (the input quantizer's range swept 1.25×: both saturating extremes and rounding ties) plus real
 * MNIST test images for the MNIST models; in Verilog (Verilator, random input gaps and output stalls)
 * parallel for qkeras_mnist_dense and stream for qkeras_mnist_cnn; and on MNIST, tfjs's float32 logits
 * equal the integer model's exactly, with the accuracy on the first test images pinned.
 *
 * The jet tagger's Verilog (parallel and stream, 1,000 inputs each) is in test/sim/verilog-lowered.test.ts.
 * `npm run verify:imported` runs the full sets (10,000 MNIST images in C, more in Verilog, accuracies of
 * tfjs, IR and C on the whole test set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { irEngine, tfjsEngine, type LoadedModel } from '../../src/engines/index.js';
import { describeMismatch, verifyGraph, type VerifyReport } from '../../src/sim/verify.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { communityModel, correct, loadCommunityModel, mnistTestInputs, type CommunityModel } from './community-models.js';

const verilator = findOptionalTool(VERILATOR);
const SKIP = verilator === null ? ' (skipped: Verilator not installed)' : '';

const models = new Map<string, LoadedModel>();

beforeAll(async () => {
  await ready();
  for (const name of ['qkeras_3layer', 'qkeras_mnist_dense', 'qkeras_mnist_cnn'] as const) models.set(name, await loadCommunityModel(communityModel(name)));
});

afterAll(() => {
  for (const m of models.values()) m.model.dispose();
});

/** Asserts that every code equals the golden model, showing the first mismatch otherwise. */
function expectExact(r: VerifyReport, samples: number, codesPerSample: number): void {
  expect(r.first === null ? null : describeMismatch(r.first)).toBeNull();
  expect(r.mismatchedSamples).toBe(0);
  expect(r.samples).toBe(samples);
  expect(r.codes).toBe(samples * codesPerSample);
}

function mnistImages(m: CommunityModel, count: number): number[][] {
  return mnistTestInputs(m.pixelScale!, 0, count).inputs;
}

describe('the imported models lower as hls4ml builds them', () => {
  it('input types: ap_fixed<16,6>, the dense model\'s own quantized_relu(2), 8-bit unsigned pixels', () => {
    const input = (name: string): string => {
      const g = models.get(name)!.graph();
      const node = g.nodes.find((n) => n.id === g.inputs[0])!;
      return `${JSON.stringify(node.type)} ${JSON.stringify(node.shape)}`;
    };
    expect(input('qkeras_3layer')).toBe('{"kind":"fixed","signed":true,"width":16,"frac":9} [16]');
    expect(input('qkeras_mnist_dense')).toBe('{"kind":"fixed","signed":false,"width":2,"frac":2} [784]');
    expect(input('qkeras_mnist_cnn')).toBe('{"kind":"fixed","signed":false,"width":8,"frac":8} [28,28,1]');
    const kinds = (name: string): string[] => models.get(name)!.graph().nodes.map((n) => `${n.origin.layer}:${n.kind}`);
    expect(kinds('qkeras_3layer')).toEqual(['fc1_input:input', 'fc1:dense', 'fc2:dense', 'fc3:dense', 'output:dense', 'softmax:argmax']);
    expect(kinds('qkeras_mnist_dense')).toEqual(['input_3:input', 'q_dense_2:dense', 'q_dense_3:dense', 'activation_3:argmax']);
    expect(kinds('qkeras_mnist_cnn')).toEqual([
      'input_1:input',
      'q_conv2d:conv2d',
      'max_pooling2d:maxpool',
      'q_conv2d_1:conv2d',
      'max_pooling2d_1:maxpool',
      'flatten:reshape',
      'q_dense:dense',
      'softmax:argmax',
    ]);
  });
});

describe('C equals the golden model bit for bit', () => {
  it('qkeras_3layer (input quantized_bits(16,6,1)): 1,000 generated inputs', async () => {
    const r = await verifyGraph(models.get('qkeras_3layer')!.graph(), { target: 'c', generated: 1000, seed: 3 });
    expectExact(r, 1000, 6);
  });

  it('qkeras_mnist_dense: 1,000 generated inputs and 200 MNIST test images', async () => {
    const m = communityModel('qkeras_mnist_dense');
    const r = await verifyGraph(models.get(m.name)!.graph(), { target: 'c', generated: 1000, given: mnistImages(m, 200), seed: 4 });
    expectExact(r, 1200, 11);
  });

  it('qkeras_mnist_cnn (input quantized_bits(8,0,0,keep_negative=False)): 1,000 generated inputs and 100 MNIST test images', async () => {
    const m = communityModel('qkeras_mnist_cnn');
    const r = await verifyGraph(models.get(m.name)!.graph(), { target: 'c', generated: 1000, given: mnistImages(m, 100), seed: 5 });
    expectExact(r, 1100, 11);
  });
});

describe.skipIf(verilator === null)(`Verilog equals the golden model bit for bit, under random back-pressure${SKIP}`, () => {
  it('qkeras_mnist_dense, parallel: 1,000 generated inputs and 200 MNIST test images', async () => {
    const m = communityModel('qkeras_mnist_dense');
    const r = await verifyGraph(models.get(m.name)!.graph(), { target: 'verilog', arch: 'parallel', generated: 1000, given: mnistImages(m, 200), seed: 6 });
    expectExact(r, 1200, 11);
  }, 600_000);

  it('qkeras_mnist_cnn, stream: 30 generated inputs and 10 MNIST test images', async () => {
    const m = communityModel('qkeras_mnist_cnn');
    const r = await verifyGraph(models.get(m.name)!.graph(), { target: 'verilog', arch: 'stream', generated: 30, given: mnistImages(m, 10), seed: 7 });
    expectExact(r, 40, 11);
    // A 784-pixel image streams in one pixel per beat: at least 784 cycles per sample.
    expect(r.timing!.meanInterval).toBeGreaterThanOrEqual(784);
  }, 600_000);
});

describe('MNIST: tfjs equals the integer model, and the models recognise the digits', () => {
  it.each([
    ['qkeras_mnist_dense', 300, 286],
    ['qkeras_mnist_cnn', 300, 297],
  ] as const)('%s: the first %i test images, %i recognised by both', async (name, count, recognised) => {
    const m = communityModel(name);
    const { inputs, labels } = mnistTestInputs(m.pixelScale!, 0, count);
    const model = models.get(name)!;
    const tfjs = await tfjsEngine.predict(model, inputs);
    const ir = await irEngine.predict(model, inputs);
    expect(tfjs).toEqual(ir);
    expect(correct(ir, labels)).toBe(recognised);
  });
});
