/**
 * The battery: seeded random Q models covering every supported quantizer × layer combination (see
 * zoo.ts), lowered with `lowerModel`, each checked on ≥ 1,000 inputs — random, exact ties of the input
 * grid, grid points, saturating — with the golden integer model (runIR, the ir engine) equal to tfjs's
 * float32 inference (the tfjs engine) on every value (`===`). The checker proves every accumulator, the
 * lowered graph has no float32 warning (tfjs is proven exact), and every pass keeps the graph valid.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { lowerModelDetailed, UnsupportedLayersError } from '../../src/lower/index.js';
import { RECIPES, zooModel, type RecipeName, type ZooModel } from './zoo.js';
import { INPUTS_PER_MODEL, checkModel } from './check-model.js';
import { trainOnRandomData } from './train-random.js';

const SEEDS_PER_RECIPE = 6;

beforeAll(async () => {
  await ready();
});

const totals = { models: 0, inputs: 0, values: 0 };
const rejected: string[] = [];

/**
 * The model of `recipe` from `seed`, or, when tfjs's float32 evaluation of that draw is not proven exact
 * (a float32 warning, or a batch norm refused as inexact), the next draw. Random menus can stack wide
 * types (Keras relu, po2 activations with wide exponent ranges) until float32 may round; such models are
 * outside the claim IR === tfjs, so they are skipped here and counted.
 */
function exactZooModel(recipe: RecipeName, seed: number): ZooModel {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const z = zooModel(recipe, seed + 1000 * attempt);
    try {
      const lo = lowerModelDetailed(z.model, { inputQuantizer: z.inputQuantizer });
      if (lo.warnings.length === 0) return z;
      rejected.push(`${z.name}: ${lo.warnings[0]!.node}: ${lo.warnings[0]!.message}`);
    } catch (e) {
      const inexact = e instanceof UnsupportedLayersError && e.issues.every((i) => i.reason.includes('not exact in float32'));
      if (!inexact) throw e;
      rejected.push(`${z.name}: ${e.issues[0]!.layer}: ${e.issues[0]!.reason}`);
    }
    z.model.dispose();
  }
  throw new Error(`no float32-exact draw of ${recipe} #${seed} in 10 attempts`);
}

describe('generated models: ir === tfjs on every value', () => {
  const recipes = Object.keys(RECIPES) as RecipeName[];
  for (const recipe of recipes) {
    for (let seed = 1; seed <= SEEDS_PER_RECIPE; seed += 1) {
      it(`${recipe} #${seed}`, async () => {
        const z = exactZooModel(recipe, seed);
        try {
          totals.values += (await checkModel(z, seed)).values;
          totals.models += 1;
          totals.inputs += INPUTS_PER_MODEL;
        } finally {
          z.model.dispose();
        }
      });
    }
  }

  it('trained models (a few optimizer steps on random data) stay exact', async () => {
    setSeed(11);
    for (const [recipe, seed] of [['denseStack', 9], ['convStack', 9]] as const) {
      const z = zooModel(recipe, seed, 'softmax');
      const before = z.model.getWeights().map((w) => w.dataSync().slice());
      await trainOnRandomData(z.model, seed);
      const changed = z.model.getWeights().some((w, i) => w.dataSync().some((v, j) => v !== before[i]![j]));
      expect(changed).toBe(true);
      try {
        totals.values += (await checkModel(z, seed + 100)).values;
        totals.models += 1;
        totals.inputs += INPUTS_PER_MODEL;
      } finally {
        z.model.dispose();
      }
    }
  });

  it('compared every model on at least 1,000 inputs', () => {
    const expected = recipes.length * SEEDS_PER_RECIPE + 2;
    expect(totals.models).toBe(expected);
    expect(totals.inputs).toBe(expected * INPUTS_PER_MODEL);
    console.log(`lowering battery: ${totals.models} models × ${INPUTS_PER_MODEL} inputs, ${totals.values} output values equal`);
    console.log(`draws skipped as not proven float32-exact: ${rejected.length}\n${rejected.map((r) => `  ${r}`).join('\n')}`);
    // The menus are chosen so that most draws are exact: skipping stays the exception.
    expect(rejected.length).toBeLessThanOrEqual(expected / 4);
    expect(tf.memory().numTensors).toBeLessThan(10_000);
  });
});
