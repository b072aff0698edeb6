/**
 * `--engine c` equals `--engine ir` on lowered models: every model of the lowering battery (seeded random
 * Q models of six recipes, test/lower/zoo.ts) on 1,000 inputs each — random reals, exact ties of the input
 * grid, grid points, saturating values — and the lab-book MNIST models on real MNIST test images (all
 * 10,000: scripts/c-parity-labbook.ts). The c engine quantizes the inputs with the IR's input rule in
 * TypeScript, builds the emitted C with the strict flags and runs all samples in one process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { InputNode } from '../../src/ir/index.js';
import { LoadedModel, irEngine } from '../../src/engines/index.js';
import { cEngine } from '../../src/engines/c.js';
import { UnsupportedLayersError } from '../../src/lower/index.js';
import { LABBOOK_ACTIVATION_BITS, LABBOOK_QUANTIZE_CONFIG, createFloatModel, createQModel } from '../../src/models/labbook.js';
import { modelQuantize } from '../../src/utils/model-quantize.js';
import { loadMnist, prepareSplit, trainingMean } from '../../src/data/mnist.js';
import { C_COMPILER, findOptionalTool } from '../../src/sim/tools.js';
import { RECIPES, randomizeWeights, rng, samples, zooModel, type InputGrid, type RecipeName } from '../lower/zoo.js';

const INPUTS = 1000;
const SEEDS = 6;
/** The lab book's input quantizer (see test/lower/labbook.test.ts for why 16 bits). */
const LABBOOK_INPUT_QUANTIZER = 'quantized_bits(16,0,1)';

const cc = findOptionalTool(C_COMPILER);

beforeAll(async () => {
  await ready();
});

function inputGrid(lm: LoadedModel): InputGrid {
  const input = lm.graph().nodes.find((n) => n.kind === 'input') as InputNode;
  const rule = input.quant.rule;
  if (rule.kind === 'shift') return { frac: rule.frac!, lo: rule.lo!, hi: rule.hi! };
  return { frac: 4, lo: -16, hi: 16 };
}

/** Runs both engines and returns how many output values were compared; fails on the first difference. */
async function compareEngines(lm: LoadedModel, xs: number[][]): Promise<number> {
  const got = await cEngine.predict(lm, xs);
  const want = await irEngine.predict(lm, xs);
  expect(got.length).toBe(xs.length);
  let values = 0;
  for (let k = 0; k < xs.length; k += 1) {
    const g = got[k]!;
    const w = want[k]!;
    expect(g.length).toBe(w.length);
    for (let j = 0; j < g.length; j += 1) {
      if (g[j] !== w[j]) expect.fail(`${lm.source}: sample ${k} output ${j}: c ${g[j]} !== ir ${w[j]}`);
    }
    values += g.length;
  }
  return values;
}

describe.skipIf(cc === null)(`c engine === ir engine on the lowering battery (${INPUTS} inputs per model)${cc === null ? ' (skipped: no C compiler)' : ''}`, () => {
  for (const recipe of Object.keys(RECIPES) as RecipeName[]) {
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      it(`${recipe} #${seed}`, async (ctx) => {
        const z = zooModel(recipe, seed);
        try {
          const lm = new LoadedModel(z.name, z.model, z.inputQuantizer);
          try {
            lm.lowered();
          } catch (e) {
            // The lowering battery's own test fails on such a model; the C back-end has nothing to compile.
            if (e instanceof UnsupportedLayersError) ctx.skip(`lowering refuses ${z.name}: ${e.message.split('\n')[0]}`);
            throw e;
          }
          const size = lm.inputShape.reduce((a, b) => a * b, 1);
          const xs = samples(rng(seed), INPUTS, size, inputGrid(lm));
          expect(await compareEngines(lm, xs)).toBeGreaterThanOrEqual(INPUTS);
        } finally {
          z.model.dispose();
        }
      });
    }
  }
});

describe.skipIf(cc === null)('c engine === ir engine on the lab-book models, real MNIST test images', () => {
  let xs: number[][] = [];
  beforeAll(() => {
    const mnist = loadMnist();
    const test = prepareSplit(mnist.test, trainingMean(mnist.train), 0, 1000);
    xs = Array.from({ length: test.count }, (_, k) => Array.from(test.x.subarray(k * 784, (k + 1) * 784)));
  });

  it('the seed CNN (QModel): 1,000 images, every logit', async () => {
    const m = createQModel();
    randomizeWeights(m, rng(2024));
    const lm = new LoadedModel('labbook_qmodel', m, LABBOOK_INPUT_QUANTIZER);
    expect(lm.lowered().softmax).toBe(true);
    expect(await compareEngines(lm, xs)).toBe(10 * 1000);
  });

  it('model_quantize of the float CNN (run 3): 300 images, every logit', async () => {
    const m = modelQuantize(createFloatModel(), LABBOOK_QUANTIZE_CONFIG, LABBOOK_ACTIVATION_BITS);
    randomizeWeights(m, rng(2025));
    const lm = new LoadedModel('labbook_quantize', m, LABBOOK_INPUT_QUANTIZER);
    expect(await compareEngines(lm, xs.slice(0, 300))).toBe(10 * 300);
  });
});
