/**
 * Fuzz: the Keras/QKeras model JSON importer. The fixture models' JSON (`model.to_json()` of QKeras and
 * plain Keras models) is mutated — wrong types, missing fields, unknown classes, huge/negative/infinite
 * numbers, broken call graphs — and each variant either imports, lowers and predicts (tfjs and ir
 * engines), or fails with a typed error whose message names the layer.
 */
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { KerasImportError } from '../../src/errors.js';
import { LoadedModel, irEngine, tfjsEngine } from '../../src/engines/index.js';
import { importKeras } from '../../src/import/index.js';
import { modelJson, type ModelName } from '../import/fixtures.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';
import { describeMutations, jsonPaths, mutatedText, mutationsArb } from './json-mutations.js';

beforeAll(async () => {
  await ready();
});

const MODELS: readonly ModelName[] = ['qkeras_3layer', 'KERAS_3layer', 'qkeras_mnist_dense'];

/** Import (no weights: freshly initialised), then what predict does: lower and run both engines. */
async function importAndPredict(text: string): Promise<void> {
  const model = await importKeras(JSON.parse(text) as Record<string, unknown>);
  try {
    const loaded = new LoadedModel('fuzzed.json', model, 'quantized_bits(16,6,1)');
    const sample = new Array<number>(loaded.inputShape.reduce((a, b) => a * b, 1)).fill(0.25);
    await tfjsEngine.predict(loaded, [sample]);
    await irEngine.predict(loaded, [sample]);
  } finally {
    model.dispose();
  }
}

describe('fuzz: Keras/QKeras model JSON', () => {
  it('every mutated model JSON imports and predicts, or fails with a typed error naming the layer', async () => {
    const plan = fuzzPlan('keras-json', 60);
    const tally = new FuzzTally(plan);
    const docs = MODELS.map((m) => {
      const doc = modelJson(m);
      return { name: m, doc, paths: jsonPaths(doc) };
    });
    const arb = fc.nat(docs.length - 1).chain((k) => mutationsArb(docs[k]!.paths).map((mutations) => ({ k, mutations })));
    await fc.assert(
      fc.asyncProperty(arb, async ({ k, mutations }) => {
        const { name, doc, paths } = docs[k]!;
        await tally.run(
          () => `${name}: ${describeMutations(paths, mutations)}`,
          () => importAndPredict(mutatedText(doc, paths, mutations)),
          (e) => {
            if (e instanceof KerasImportError) expect(e.message).toMatch(/layer "[^"]*" \(/);
          },
        );
      }),
      fcParams(plan),
    );
    tally.report();
  });
});
