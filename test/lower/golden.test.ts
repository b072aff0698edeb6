/**
 * Golden IR texts of one small generated model per recipe (seed 1 of zoo.ts), lowered and run through
 * the pipeline: a reviewable record of what lowering produces for each layer family. The lab-book
 * models' goldens are in labbook.test.ts; test/ir/text.test.ts round-trips every golden file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { printIR } from '../../src/ir/index.js';
import { lowerModel } from '../../src/lower/index.js';
import { RECIPES, zooModel, type RecipeName } from './zoo.js';

beforeAll(async () => {
  await ready();
});

describe('golden IR of generated models', () => {
  for (const recipe of Object.keys(RECIPES) as RecipeName[]) {
    it(recipe, async () => {
      const z = zooModel(recipe, 1);
      try {
        await expect(printIR(lowerModel(z.model, { inputQuantizer: z.inputQuantizer }))).toMatchFileSnapshot(`../golden/ir/lower-${recipe}.ir`);
      } finally {
        z.model.dispose();
      }
    });
  }
});
