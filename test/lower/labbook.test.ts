/**
 * The seed's lab-book MNIST models. Golden IR texts of the QModel and of the model_quantize model,
 * lowered from fixed seeded weights; and the QModel trained briefly on real MNIST, lowered, equal to tfjs
 * on 1,000 test images (all 10,000: scripts/ir-parity-labbook.ts).
 *
 * The lab book's input is `fround(pixel/256) - mean[p]` with a float32 per-pixel mean: those values lie
 * on no short grid (a tiny mean leaves bits down to 2^-40), so no input quantizer represents them
 * exactly. `quantized_bits(16,0,1)` rounds them to 2^-15 (range [-1, 1), no clipping since |x| < 1) and
 * is the widest quantized_bits the checker proves float32-exact for these models; every engine applies it
 * first, and the IR equals tfjs on the quantized inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { printIR } from '../../src/ir/index.js';
import { lowerModelDetailed } from '../../src/lower/index.js';
import { LoadedModel, irEngine, tfjsEngine } from '../../src/engines/index.js';
import {
  LABBOOK_ACTIVATION_BITS,
  LABBOOK_QUANTIZE_CONFIG,
  createFloatModel,
  createQModel,
} from '../../src/models/labbook.js';
import { modelQuantize } from '../../src/utils/model-quantize.js';
import { runLabbook } from '../../src/train/labbook.js';
import { loadMnist, prepareSplit, trainingMean } from '../../src/data/mnist.js';
import { randomizeWeights, rng } from './zoo.js';

export const LABBOOK_INPUT_QUANTIZER = 'quantized_bits(16,0,1)';

beforeAll(async () => {
  await ready();
});

describe('golden IR of the lab-book models (fixed seeded weights)', () => {
  it('QModel', async () => {
    const m = createQModel();
    randomizeWeights(m, rng(2024));
    const lo = lowerModelDetailed(m, { inputQuantizer: LABBOOK_INPUT_QUANTIZER });
    expect(lo.warnings).toEqual([]);
    expect(lo.graph.nodes.map((n) => `${n.kind}:${n.id}`)).toEqual([
      'input:input_1',
      'conv2d:conv2d_1',
      'conv2d:conv2d_2',
      'reshape:flatten',
      'dense:dense',
      'argmax:softmax_argmax',
    ]);
    await expect(printIR(lo.graph)).toMatchFileSnapshot('../golden/ir/labbook-qmodel.ir');
  });

  it('model_quantize of the float CNN (lab book run 3)', async () => {
    const m = modelQuantize(createFloatModel(), LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS);
    randomizeWeights(m, rng(2025));
    const lo = lowerModelDetailed(m, { inputQuantizer: LABBOOK_INPUT_QUANTIZER });
    expect(lo.warnings).toEqual([]);
    await expect(printIR(lo.graph)).toMatchFileSnapshot('../golden/ir/labbook-quantize.ir');
  });
});

describe('the QModel trained on real MNIST', () => {
  it('ir === tfjs on 1,000 test images (every logit)', async () => {
    const [run] = await runLabbook({ runs: ['qmodel'], epochs: 1, trainCount: 512, testCount: 100, batchSize: 64, seed: 3 });
    const model = run!.model;
    const mnist = loadMnist();
    const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, 1000);
    const xs = Array.from({ length: test.count }, (_, k) => Array.from(test.x.subarray(k * 784, (k + 1) * 784)));
    const lm = new LoadedModel('qmodel', model, LABBOOK_INPUT_QUANTIZER);
    expect(lm.lowered().warnings).toEqual([]);
    expect(lm.lowered().softmax).toBe(true);
    const want = await tfjsEngine.predict(lm, xs);
    const got = await irEngine.predict(lm, xs);
    let equal = 0;
    for (let k = 0; k < xs.length; k += 1) {
      expect(got[k]).toEqual(want[k]);
      if (got[k]!.every((v, j) => v === want[k]![j])) equal += 1;
    }
    expect(equal).toBe(1000);
    // Training moved the weights enough to classify well above chance with the quantized input.
    const correct = got.filter((o, k) => o.indexOf(Math.max(...o)) === test.labels[k]).length;
    expect(correct).toBeGreaterThan(300);
  });
});
